"""DESIGN.md §5 states: requested -> seller_agreed -> awaiting_return -> return_shipped -> refunded,
refusal -> amend | escalate, closed; an open request pauses auto-confirm and holds payouts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tradeguard.aftersales.errors import RefundAlreadyOpen, RefundAmountInvalid, RefundNotAllowed
from tradeguard.aftersales.model import EscalatedRequest, RefundKind, RefundReason, RefundState
from tradeguard.kernel.errors import NotFound, TransitionNotAllowed
from tradeguard.kernel.parties import OPERATOR, buyer, seller
from tradeguard.orders.model import OrderState
from tradeguard.orders.settlement import PayoutHeld

K, R, S = RefundKind, RefundReason, RefundState


def test_refund_of_an_unshipped_order_agreed_by_the_seller_comes_from_escrow_and_closes_the_order(
    shop,
) -> None:
    # given
    order_id = shop.paid_order(price=10_000, shipping=800)
    request = shop.request(order_id, reason=R.NOT_SHIPPED)
    # when
    agreed = shop.app.aftersales.agree(request.id, seller("s1"))
    # then
    assert agreed.state == S.REFUNDED
    assert agreed.refunded_minor == 10_800
    assert agreed.refund_source == "escrow"
    assert shop.order(order_id).state == OrderState.CLOSED
    assert shop.balance(f"escrow:order:{order_id}") == 0
    assert shop.balance("buyer:b1:funding") == 0
    assert "refund.requested" in shop.event_types(order_id)
    assert "refund.refunded" in shop.event_types(order_id)


def test_open_refund_pauses_auto_confirm_and_its_end_resumes_it_with_the_time_left(
    shop,
) -> None:
    # given an order shipped 4 days ago: 6 days of auto-confirm left
    order_id = shop.shipped_order()
    shop.advance(timedelta(days=4))
    request = shop.request(order_id, K.PARTIAL_REFUND, R.QUALITY_PROBLEM, amount=2_000)
    assert shop.order(order_id).auto_confirm_paused
    # when the request stays open past the original auto-confirm time
    shop.advance(timedelta(hours=20))
    shop.app.aftersales.refuse(request.id, seller("s1"), "the item is fine")
    shop.advance(timedelta(days=7))
    # then it closed when the buyer let the refusal stand, and auto-confirm resumed
    assert shop.refund(request.id).state == S.CLOSED
    order = shop.order(order_id)
    assert order.state == OrderState.SHIPPED
    assert not order.auto_confirm_paused
    shop.advance(timedelta(days=6))
    assert shop.order(order_id).state == OrderState.COMPLETED


def test_partial_refund_before_completion_leaves_the_rest_in_escrow_for_the_seller(
    shop,
) -> None:
    # given (seed 004: a 38-unit price difference)
    order_id = shop.shipped_order(price=20_000)
    request = shop.request(order_id, K.PARTIAL_REFUND, R.PRICE_DIFFERENCE, amount=3_800)
    # when
    shop.app.aftersales.agree(request.id, seller("s1"))
    # then
    assert shop.refund(request.id).state == S.REFUNDED
    assert shop.balance(f"escrow:order:{order_id}") == 16_200
    assert shop.order(order_id).state == OrderState.SHIPPED
    assert not shop.order(order_id).auto_confirm_paused


def test_return_and_refund_goes_through_awaiting_return_and_return_shipped(shop) -> None:
    # given
    order_id = shop.shipped_order()
    request = shop.request(order_id, K.RETURN_AND_REFUND, R.QUALITY_PROBLEM)
    # when / then
    assert shop.app.aftersales.agree(request.id, seller("s1")).state == S.AWAITING_RETURN
    shipped = shop.app.aftersales.ship_return(
        request.id, buyer("b1"), carrier="YTO", tracking_number="YT1"
    )
    assert shipped.state == S.RETURN_SHIPPED
    refunded = shop.app.aftersales.confirm_return(request.id, seller("s1"))
    assert refunded.state == S.REFUNDED
    assert shop.order(order_id).state == OrderState.CLOSED
    types = shop.event_types(order_id)
    assert types.index("refund.agreed") < types.index("refund.return_requested")
    assert types.index("refund.return_shipped") < types.index("refund.refunded")


def test_only_the_seller_accepts_or_rejects_a_returned_parcel(shop) -> None:
    # given
    order_id = shop.shipped_order()
    request = shop.request(order_id, K.RETURN_AND_REFUND, R.QUALITY_PROBLEM)
    shop.app.aftersales.agree(request.id, seller("s1"))
    shop.app.aftersales.ship_return(request.id, buyer("b1"), carrier="YTO", tracking_number="Y")
    # when / then
    with pytest.raises(TransitionNotAllowed):
        shop.app.aftersales.confirm_return(request.id, OPERATOR)
    with pytest.raises(TransitionNotAllowed):
        shop.app.aftersales.reject_return(request.id, OPERATOR, "not ours")
    with pytest.raises(TransitionNotAllowed):
        shop.app.aftersales.confirm_return(request.id, buyer("b1"))
    assert shop.refund(request.id).state == S.RETURN_SHIPPED


def test_exchange_ships_a_replacement_and_keeps_the_order_open(shop) -> None:
    # given
    order_id = shop.shipped_order()
    request = shop.request(order_id, K.EXCHANGE, R.QUALITY_PROBLEM)
    shop.app.aftersales.agree(request.id, seller("s1"))
    shop.app.aftersales.ship_return(request.id, buyer("b1"), carrier="YTO", tracking_number="Y")
    # when
    with pytest.raises(TransitionNotAllowed):
        shop.app.aftersales.confirm_return(request.id, seller("s1"))
    replaced = shop.app.aftersales.ship_replacement(
        request.id, seller("s1"), carrier="SF", tracking_number="SF2"
    )
    # then
    assert replaced.state == S.REPLACEMENT_SHIPPED
    assert shop.order(order_id).state == OrderState.SHIPPED
    assert shop.order(order_id).auto_confirm_paused
    directions = [s.direction for s in shop.app.orders.get(order_id, OPERATOR).shipments]
    assert directions == ["outbound", "return", "replacement"]
    ended = shop.app.aftersales.confirm_replacement(request.id, buyer("b1"))
    assert ended.state == S.EXCHANGED
    assert shop.balance(f"escrow:order:{order_id}") == 10_000
    assert not shop.order(order_id).auto_confirm_paused


def test_buyer_amends_after_a_refusal_and_the_seller_answers_again(shop) -> None:
    # given
    order_id = shop.shipped_order()
    request = shop.request(order_id, K.REFUND_ONLY, R.MISSING_PARTS)
    shop.app.aftersales.refuse(request.id, seller("s1"), "everything was in the box")
    # when
    amended = shop.app.aftersales.amend(
        request.id, buyer("b1"), kind=K.PARTIAL_REFUND, amount_minor=1_500
    )
    # then
    assert amended.state == S.REQUESTED
    assert amended.requested_minor == 1_500
    assert amended.amendments == 1
    assert shop.app.aftersales.agree(request.id, seller("s1")).refunded_minor == 1_500


def test_escalation_after_a_refusal_calls_the_disputes_port_in_the_same_transaction(
    shop,
) -> None:
    # given
    opened: list[EscalatedRequest] = []

    class Disputes:
        def open_from_escalation(self, uow: object, request: EscalatedRequest) -> str:
            opened.append(request)
            return "dsp_1"

    shop.app.aftersales.escalation = Disputes()
    order_id = shop.shipped_order()
    request = shop.request(order_id, K.REFUND_ONLY, R.NOT_AS_DESCRIBED)
    shop.app.aftersales.refuse(request.id, seller("s1"), "as described")
    # when
    escalated = shop.app.aftersales.escalate(request.id, buyer("b1"))
    # then
    assert escalated.state == S.ESCALATED
    assert escalated.dispute_id == "dsp_1"
    assert opened[0].request_id == request.id
    assert opened[0].requested_minor == 10_000
    assert "refund.escalated" in shop.event_types(order_id)


def test_settle_escalated_for_the_buyer_refunds_like_the_refund_path_and_resumes_auto_confirm(
    shop,
) -> None:
    # given: after-sales alone (no disputes context holding the order too)
    shop.app.aftersales.escalation = None
    order_id = shop.shipped_order()
    request = shop.request(order_id, K.REFUND_ONLY, R.NOT_AS_DESCRIBED)
    shop.app.aftersales.refuse(request.id, seller("s1"), "as described")
    shop.app.aftersales.escalate(request.id, buyer("b1"))
    # when a dispute decides a split
    settled = shop.app.units.run(
        lambda uow: shop.app.aftersales.settle_escalated(uow, request.id, "split", 4_000, "dsp_9")
    )
    # then
    assert settled.state == S.REFUNDED
    assert settled.refunded_minor == 4_000
    assert shop.balance(f"escrow:order:{order_id}") == 6_000
    assert not shop.order(order_id).auto_confirm_paused


def test_settle_escalated_for_the_seller_closes_the_request(shop) -> None:
    # given
    order_id = shop.shipped_order()
    request = shop.request(order_id, K.REFUND_ONLY, R.NOT_AS_DESCRIBED)
    shop.app.aftersales.refuse(request.id, seller("s1"), "as described")
    shop.app.aftersales.escalate(request.id, buyer("b1"))
    # when
    settled = shop.app.units.run(
        lambda uow: shop.app.aftersales.settle_escalated(uow, request.id, "seller_wins", 0, "d")
    )
    # then
    assert settled.state == S.CLOSED
    assert settled.close_reason == "dispute_for_seller"
    assert shop.balance(f"escrow:order:{order_id}") == 10_000


def test_withdrawn_request_closes_and_lifts_the_payout_hold(shop) -> None:
    # given a seller with money from an earlier sale and an open request on another order
    shop.completed_order(price=5_000)
    order_id = shop.shipped_order()
    request = shop.request(order_id, K.PARTIAL_REFUND, R.QUALITY_PROBLEM, amount=100)
    with pytest.raises(PayoutHeld):
        shop.app.payouts.request("s1", 100, "CNY", seller("s1"))
    # when
    closed = shop.app.aftersales.withdraw(request.id, buyer("b1"))
    # then
    assert closed.state == S.CLOSED
    assert closed.close_reason == "withdrawn"
    assert shop.app.payouts.request("s1", 100, "CNY", seller("s1")).amount_minor == 100


def test_one_open_request_per_order(shop) -> None:
    order_id = shop.shipped_order()
    shop.request(order_id, K.PARTIAL_REFUND, R.QUALITY_PROBLEM, amount=100)
    with pytest.raises(RefundAlreadyOpen):
        shop.request(order_id, K.PARTIAL_REFUND, R.QUALITY_PROBLEM, amount=100)


def test_kinds_and_reasons_follow_the_order_state(shop) -> None:
    paid = shop.paid_order()
    with pytest.raises(RefundNotAllowed):
        shop.request(paid, K.RETURN_AND_REFUND, R.QUALITY_PROBLEM)
    with pytest.raises(RefundNotAllowed):
        shop.request(paid, K.REFUND_ONLY, R.NOT_RECEIVED)
    shipped = shop.shipped_order(buyer_id="b2")
    with pytest.raises(RefundNotAllowed):
        shop.request(shipped, K.REFUND_ONLY, R.NOT_SHIPPED)
    with pytest.raises(RefundNotAllowed):
        shop.request(shipped, K.REFUND_ONLY, R.NO_REASON)


def test_a_refund_never_asks_for_more_than_escrow_holds(shop) -> None:
    order_id = shop.shipped_order(price=10_000)
    with pytest.raises(RefundAmountInvalid):
        shop.request(order_id, K.REFUND_ONLY, R.NOT_RECEIVED, amount=10_001)
    with pytest.raises(RefundAmountInvalid):
        shop.request(order_id, K.PARTIAL_REFUND, R.QUALITY_PROBLEM, amount=10_000)


def test_participants_see_only_their_own_requests(shop) -> None:
    order_id = shop.shipped_order()
    request = shop.request(order_id, K.PARTIAL_REFUND, R.QUALITY_PROBLEM, amount=100)
    with pytest.raises(NotFound):
        shop.app.aftersales.get(request.id, buyer("b2"))
    with pytest.raises(NotFound):
        shop.app.aftersales.agree(request.id, seller("s2"))
    with pytest.raises(NotFound):
        shop.app.aftersales.request(
            order_id, buyer("b2"), kind=K.REFUND_ONLY, reason=R.NOT_RECEIVED, amount_minor=1
        )
    assert shop.app.aftersales.get(request.id, seller("s1")).id == request.id


def test_a_retried_request_with_the_same_request_key_returns_the_first_request(shop) -> None:
    order_id = shop.shipped_order()
    first = shop.request(
        order_id, K.PARTIAL_REFUND, R.QUALITY_PROBLEM, amount=100, request_key="k1"
    )
    again = shop.request(
        order_id, K.PARTIAL_REFUND, R.QUALITY_PROBLEM, amount=100, request_key="k1"
    )
    assert again.id == first.id
    assert shop.event_types(order_id).count("refund.requested") == 1
