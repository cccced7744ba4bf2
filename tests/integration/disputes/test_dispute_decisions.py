"""DESIGN.md §6: staff decisions move money through the ledger, are signed, and may be appealed once."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tradeguard.disputes.bundle import canonical_json
from tradeguard.disputes.model import CaseState, CaseType, Outcome
from tradeguard.disputes.ports import EscalatedRequest
from tradeguard.disputes.service import DecisionRequest
from tradeguard.kernel.errors import Forbidden, TransitionNotAllowed, ValidationFailed
from tradeguard.kernel.parties import Actor, Party, buyer, seller
from tradeguard.orders.model import OrderState

SUPPORT = Party(Actor.SUPPORT, "stf_support")


def test_buyer_wins_before_completion_refunds_from_escrow(disputes) -> None:
    # given
    order_id = disputes.shipped(price=10_000)
    case = disputes.to_review(disputes.file(order_id).id)
    # when
    decision = disputes.decide(case.id, outcome="buyer_wins", refund_minor=10_000)
    # then: the whole escrow went back and the order closed
    assert decision.money_source == "escrow"
    assert disputes.balance(f"escrow:order:{order_id}") == 0
    assert disputes.balance("buyer:b1:funding") == 0
    assert disputes.get_order(order_id).state == OrderState.CLOSED
    assert disputes.case(case.id).state == CaseState.DECIDED


def test_partial_refund_split_keeps_the_order_going(disputes) -> None:
    # given
    order_id = disputes.shipped(price=10_000)
    case = disputes.to_review(disputes.file(order_id, CaseType.QUALITY).id)
    # when
    disputes.decide(case.id, outcome="split", refund_minor=3_800)
    # then
    assert disputes.balance(f"escrow:order:{order_id}") == 6_200
    assert disputes.get_order(order_id).state == OrderState.SHIPPED


def test_after_completion_the_seller_pays_from_its_available_balance(disputes) -> None:
    # given: the seller has earned from two completed orders
    disputes.completed(price=10_000)
    order_id = disputes.completed(price=10_000)
    available = disputes.balance("seller:s1:available")
    case = disputes.to_review(disputes.file(order_id, CaseType.QUALITY).id)
    # when
    decision = disputes.decide(
        case.id, outcome="buyer_wins", refund_minor=5_000, compensation_minor=500
    )
    # then
    assert decision.money_source == "seller_available"
    assert disputes.balance("seller:s1:available") == available - 5_500


def test_after_completion_the_platform_advances_what_the_seller_cannot_pay(disputes) -> None:
    # given: the seller's balance is gone (paid out), the fund has money
    order_id = disputes.completed(price=10_000)
    available = disputes.balance("seller:s1:available")
    disputes.app.payouts.request("s1", available, "CNY", Party(Actor.SELLER, "s1"))
    disputes.app.settlement.top_up_fund(100_000, "CNY", "bank-1")
    case = disputes.to_review(disputes.file(order_id, CaseType.QUALITY).id)
    # when
    decision = disputes.decide(case.id, outcome="buyer_wins", refund_minor=10_000)
    # then: advanced (先行赔付) and owed by the seller
    assert decision.money_source == "advance"
    assert disputes.balance("platform:receivable:seller:s1") == -10_000


def test_dismissed_and_seller_wins_move_no_money(disputes) -> None:
    # given
    order_id = disputes.shipped()
    case = disputes.to_review(disputes.file(order_id).id)
    # then
    with pytest.raises(ValidationFailed):
        disputes.decide(case.id, outcome="dismissed", refund_minor=1)
    decision = disputes.decide(case.id, outcome="dismissed")
    assert decision.money_source is None
    assert disputes.balance(f"escrow:order:{order_id}") == 10_000


def test_only_an_arbitrator_decides(disputes) -> None:
    # given
    case = disputes.to_review(disputes.file(disputes.shipped()).id)
    # then
    with pytest.raises(Forbidden):
        disputes.app.disputes.decide(case.id, SUPPORT, DecisionRequest(Outcome.DISMISSED, "no"))
    with pytest.raises(Forbidden):
        disputes.app.disputes.decide(
            case.id, seller("s1"), DecisionRequest(Outcome.DISMISSED, "no")
        )


def test_no_decision_before_review(disputes) -> None:
    # given: the respondent has not answered yet
    case = disputes.file(disputes.shipped())
    # then
    with pytest.raises(TransitionNotAllowed):
        disputes.decide(case.id, outcome="dismissed")


def test_a_decision_is_signed_with_the_platform_key(disputes) -> None:
    # given
    case = disputes.to_review(disputes.file(disputes.shipped()).id)
    # when
    decision = disputes.decide(case.id, outcome="buyer_wins", refund_minor=2_000)
    # then: the signature covers the payload, which names the outcome and the money
    keys = disputes.app.disputes.signer.public_keys()
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(keys[decision.key_id]))
    public.verify(base64.b64decode(decision.signature_b64), canonical_json(decision.payload))
    assert decision.payload["outcome"] == "buyer_wins"
    assert decision.payload["refund_minor"] == 2_000
    assert decision.payload["case_id"] == case.id


def test_one_appeal_within_the_window_then_the_decision_is_final(disputes) -> None:
    # given
    case = disputes.to_review(disputes.file(disputes.shipped()).id)
    disputes.decide(case.id, outcome="dismissed")
    # when: the buyer appeals, staff take it up and decide again
    disputes.app.disputes.appeal(case.id, buyer("b1"), "New evidence.")
    disputes.app.disputes.take_up_appeal(case.id, SUPPORT)
    assert disputes.case(case.id).state == CaseState.UNDER_REVIEW
    disputes.decide(case.id, outcome="split", refund_minor=1_000)
    # then: the second decision is final at once; no second appeal
    assert disputes.case(case.id).state == CaseState.CLOSED
    assert [d.appeal_round for d in disputes.details(case.id).decisions] == [0, 1]
    with pytest.raises(TransitionNotAllowed):
        disputes.app.disputes.appeal(case.id, seller("s1"), "Again.")


def test_no_appeal_after_the_window_and_the_case_closes(disputes) -> None:
    # given
    case = disputes.to_review(disputes.file(disputes.shipped()).id)
    disputes.decide(case.id, outcome="dismissed")
    # when
    disputes.advance(timedelta(days=7))
    # then
    assert disputes.case(case.id).state == CaseState.CLOSED
    with pytest.raises(TransitionNotAllowed):
        disputes.app.disputes.appeal(case.id, buyer("b1"), "Too late.")


class RecordingLinks:
    """After-sales and reputation stand-ins that record what the decision asked of them."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def settle_escalated(
        self, uow: Any, request_id: str, outcome: str, refund_minor: int, reference: str
    ) -> None:
        self.calls.append(("settle_escalated", request_id, outcome, refund_minor))

    def deduct_points(
        self, uow: Any, seller_id: str, points: int, reason: str, reference: str
    ) -> None:
        self.calls.append(("deduct_points", seller_id, points))

    def exclude_reviews(self, uow: Any, order_id: str, reason: str) -> int:
        self.calls.append(("exclude_reviews", order_id))
        return 2


def _escalate(disputes, order_id: str) -> str:
    request = EscalatedRequest(
        "rf_1", order_id, "b1", "s1", "refund_only", "not_received", 4_000, "CNY", "seller refused"
    )
    return disputes.app.units.run(
        lambda uow: disputes.app.disputes.open_from_escalation(uow, request)
    )


def test_an_escalated_after_sales_request_is_settled_through_after_sales(disputes) -> None:
    # given
    links = RecordingLinks()
    disputes.app.disputes.after_sales = links
    order_id = disputes.shipped()
    case_id = _escalate(disputes, order_id)
    assert _escalate(disputes, order_id) == case_id  # escalating twice finds the same case
    case = disputes.to_review(case_id)
    assert case.type == CaseType.ESCALATED_AFTER_SALES
    assert case.claimed_minor == 4_000
    # when
    decision = disputes.decide(case_id, outcome="buyer_wins", refund_minor=4_000)
    # then: after-sales moves the money, the escrow is untouched here
    assert links.calls == [("settle_escalated", "rf_1", "buyer_wins", 4_000)]
    assert decision.money_source == "after_sales"
    assert disputes.balance(f"escrow:order:{order_id}") == 10_000


def test_an_escalated_case_without_the_after_sales_link_refunds_through_the_core(disputes) -> None:
    # given: a deployment without after-sales (build_app wires it; this test unwires it)
    disputes.app.disputes.after_sales = None
    order_id = disputes.shipped()
    case = disputes.to_review(_escalate(disputes, order_id))
    # when
    decision = disputes.decide(case.id, outcome="buyer_wins", refund_minor=4_000)
    # then
    assert decision.money_source == "escrow"
    assert disputes.balance(f"escrow:order:{order_id}") == 6_000


def test_credit_points_and_review_exclusions_are_recorded_and_passed_to_reputation(
    disputes,
) -> None:
    # given
    order_id = disputes.completed()
    case = disputes.to_review(disputes.file(order_id, CaseType.QUALITY).id)
    # when: reputation is not wired, the points are still recorded with the decision
    decision = disputes.decide(case.id, outcome="buyer_wins", refund_minor=100, credit_points=3)
    assert decision.credit_points == 3
    assert decision.payload["credit_points"] == 3
    # and: a malicious review complaint the seller wins excludes the order's reviews when wired
    links = RecordingLinks()
    disputes.app.disputes.credit = links
    review_case = disputes.to_review(disputes.file(order_id, CaseType.MALICIOUS_REVIEW).id)
    excluded = disputes.decide(review_case.id, outcome="seller_wins", exclude_reviews=True)
    # then
    assert links.calls == [("exclude_reviews", order_id)]
    assert excluded.reviews_excluded == 2


def test_a_refused_decision_changes_nothing(disputes) -> None:
    # given: a case under review on a 10,000 order
    order_id = disputes.shipped()
    case = disputes.to_review(disputes.file(order_id).id)
    balances = {b.address: b.balance_minor for b in disputes.app.balances()}
    # when: the arbitrator asks to refund more than was paid
    with pytest.raises(ValidationFailed, match="at most 10000"):
        disputes.decide(case.id, outcome="buyer_wins", refund_minor=10_001)
    # then
    assert disputes.case(case.id).state == CaseState.UNDER_REVIEW
    assert disputes.details(case.id).decisions == []
    assert {b.address: b.balance_minor for b in disputes.app.balances()} == balances
