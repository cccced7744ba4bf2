"""DESIGN.md §6: who may file which complaint, and when (filing windows per type)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tradeguard.disputes.model import CaseState, CaseType
from tradeguard.disputes.service import FilingRefused, FilingWindowClosed, NotPaid
from tradeguard.kernel.errors import NotFound, ValidationFailed
from tradeguard.kernel.parties import OPERATOR, buyer, seller
from tradeguard.orders.model import OrderState


def test_a_complaint_filed_after_payment_asks_the_respondent_to_answer(disputes) -> None:
    # given
    order_id = disputes.paid()
    # when
    case = disputes.file(order_id, CaseType.NOT_RECEIVED)
    # then
    assert case.state == CaseState.AWAITING_RESPONSE
    assert case.response_due_at == disputes.clock.now() + timedelta(days=3)
    assert case.claimed_minor == 10_000
    assert disputes.event_types(order_id)[-2:] == ["dispute.opened", "dispute.response_requested"]


def test_no_complaint_without_a_payment_on_record(disputes) -> None:
    # given: an order the buyer claims to have paid (a screenshot is not a payment)
    order_id = disputes.order()
    # then
    with pytest.raises(NotPaid, match="screenshot"):
        disputes.file(order_id)


def test_filing_window_ends_15_days_after_completion(disputes) -> None:
    # given
    early, late = disputes.completed(), disputes.completed()
    disputes.advance(timedelta(days=15) - timedelta(minutes=1))
    # when / then: still inside the window
    assert disputes.file(early, CaseType.QUALITY).state == CaseState.AWAITING_RESPONSE
    disputes.advance(timedelta(minutes=2))
    with pytest.raises(FilingWindowClosed):
        disputes.file(late, CaseType.QUALITY)


def test_each_type_has_its_own_filing_window(disputes) -> None:
    # given: harassment after a review may be filed for 30 days, quality for 15
    order_id = disputes.completed()
    disputes.advance(timedelta(days=20))
    # then
    with pytest.raises(FilingWindowClosed):
        disputes.file(order_id, CaseType.QUALITY)
    assert disputes.file(order_id, CaseType.SELLER_HARASSMENT).state == CaseState.AWAITING_RESPONSE


def test_late_shipment_complaint_needs_a_late_shipment(disputes) -> None:
    # given
    on_time = disputes.paid()
    late = disputes.paid()
    disputes.advance(timedelta(hours=73))
    disputes.app.orders.ship(on_time, seller("s1"), carrier="SF", tracking_number="SF1")
    # then: the shipped-late order may complain, a fresh one may not
    fresh = disputes.paid()
    with pytest.raises(FilingRefused, match="not shipped late"):
        disputes.file(fresh, CaseType.LATE_SHIPMENT)
    assert disputes.file(late, CaseType.LATE_SHIPMENT).type == CaseType.LATE_SHIPMENT


def test_the_seller_files_malicious_review_complaints_and_the_buyer_the_others(disputes) -> None:
    # given
    order_id = disputes.completed()
    # then
    with pytest.raises(ValidationFailed, match="filed by the seller"):
        disputes.app.disputes.file(buyer("b1"), order_id, CaseType.MALICIOUS_REVIEW, "x")
    with pytest.raises(ValidationFailed, match="filed by the buyer"):
        disputes.app.disputes.file(seller("s1"), order_id, CaseType.QUALITY, "x")
    case = disputes.app.disputes.file(
        seller("s1"), order_id, CaseType.MALICIOUS_REVIEW, "extortion"
    )
    assert case.respondent.value == "buyer"
    assert case.claimed_minor == 0


def test_one_open_complaint_of_a_type_per_order(disputes) -> None:
    # given
    order_id = disputes.shipped()
    disputes.file(order_id, CaseType.NOT_RECEIVED)
    # then
    with pytest.raises(FilingRefused, match="already open"):
        disputes.file(order_id, CaseType.NOT_RECEIVED)


def test_nobody_files_about_another_partys_order(disputes) -> None:
    # given
    order_id = disputes.paid()
    # then
    with pytest.raises(NotFound):
        disputes.app.disputes.file(buyer("b2"), order_id, CaseType.NOT_RECEIVED, "x")


def test_an_open_complaint_pauses_auto_confirm_until_it_is_decided(disputes) -> None:
    # given
    order_id = disputes.shipped()
    case = disputes.file(order_id)
    assert disputes.get_order(order_id).auto_confirm_paused
    # when: the case is reviewed and dismissed after the auto-confirm date
    disputes.to_review(case.id)
    disputes.advance(timedelta(days=12))
    assert disputes.get_order(order_id).state == OrderState.SHIPPED
    disputes.decide(case.id, outcome="dismissed")
    # then: auto-confirm counts again with the time it had left
    assert not disputes.get_order(order_id).auto_confirm_paused
    disputes.advance(timedelta(days=10))
    assert disputes.get_order(order_id).state == OrderState.COMPLETED


def test_a_refused_complaint_changes_nothing(disputes) -> None:
    # given
    order_id = disputes.order()
    before = disputes.event_types(order_id)
    # when
    with pytest.raises(NotPaid):
        disputes.file(order_id)
    # then
    assert disputes.event_types(order_id) == before
    assert disputes.app.disputes.find(OPERATOR, _all()) == []


def _all():  # type: ignore[no-untyped-def]
    from tradeguard.disputes.ports import CaseFilter

    return CaseFilter()
