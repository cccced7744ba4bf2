"""DESIGN.md §5–6 across contexts: a refused refund the buyer escalates becomes a dispute, and
the arbitrator's decision is carried out by after-sales (one refund, auto-confirm resumes).

These run on the App as ``build_app`` wires it, so they test the links of
``tradeguard.adapters.links`` rather than a stand-in port.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tradeguard.aftersales.model import RefundKind, RefundReason, RefundState
from tradeguard.bootstrap import App
from tradeguard.disputes.model import CaseState, CaseType, Outcome
from tradeguard.disputes.service import DecisionRequest
from tradeguard.kernel.parties import OPERATOR, Actor, Party, buyer, seller
from tradeguard.orders.model import GoodsKind
from tradeguard.orders.rules import CartLine

ARBITRATOR = Party(Actor.ARBITRATOR, "stf_arbitrator")


@pytest.fixture(autouse=True)
def _blobs_in_a_scratch_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Evidence uploads go to this test's own directory."""
    monkeypatch.setenv("TRADEGUARD_BLOB_DIR", str(tmp_path / "blobs"))


@pytest.fixture(autouse=True)
def _ledger_verifies_after_every_test(app: App) -> Iterator[None]:
    """DESIGN.md §3 holds after every cross-context scenario."""
    yield
    assert app.verify_ledger() == []


def _escalated(app: App) -> tuple[str, str, str]:
    """A shipped order, a refund-only request the seller refused, escalated by the buyer."""
    app.platform_keys.init()
    app.orders.register_listing("s1-phys", "s1", "headphones", GoodsKind.PHYSICAL)
    checkout = app.orders.create_checkout("b1", "CNY", [CartLine("s1-phys", 1, 10_000)])
    order = checkout.orders[0]
    app.orders.confirm_payment(checkout.payment_group_id, 10_000, "CNY", "psp-1", OPERATOR)
    app.orders.ship(order.id, seller("s1"), carrier="SF", tracking_number="SF1")
    request = app.aftersales.request(
        order.id,
        buyer("b1"),
        kind=RefundKind.REFUND_ONLY,
        reason=RefundReason.NOT_AS_DESCRIBED,
        amount_minor=10_000,
    )
    app.aftersales.refuse(request.id, seller("s1"), "it is exactly as described")
    escalated = app.aftersales.escalate(request.id, buyer("b1"))
    assert escalated.dispute_id is not None
    return order.id, request.id, escalated.dispute_id


def _to_review(app: App, case_id: str) -> None:
    app.disputes.respond(case_id, seller("s1"), "as described")
    app.disputes.submit_evidence(case_id, buyer("b1"))
    app.disputes.submit_evidence(case_id, seller("s1"))


def test_an_escalated_refund_request_opens_a_dispute_of_the_escalated_type(app: App) -> None:
    # given / when
    order_id, request_id, case_id = _escalated(app)
    # then
    case = app.disputes.get(case_id, OPERATOR).case
    assert case.type == CaseType.ESCALATED_AFTER_SALES
    assert case.after_sales_request_id == request_id
    assert case.order_id == order_id
    assert case.state != CaseState.CLOSED


def test_a_decision_for_the_buyer_refunds_once_through_after_sales(app: App) -> None:
    # given
    order_id, request_id, case_id = _escalated(app)
    _to_review(app, case_id)
    # when
    app.disputes.decide(
        case_id, ARBITRATOR, DecisionRequest(Outcome.BUYER_WINS, "not as described", 10_000)
    )
    # then
    assert app.aftersales.get(request_id, OPERATOR).state == RefundState.REFUNDED
    order = app.orders.get(order_id, OPERATOR).order
    assert order.refunded_minor == 10_000


def test_a_dismissed_dispute_closes_the_request_without_a_refund(app: App) -> None:
    # given
    order_id, request_id, case_id = _escalated(app)
    _to_review(app, case_id)
    # when
    app.disputes.decide(case_id, ARBITRATOR, DecisionRequest(Outcome.DISMISSED, "no evidence"))
    # then
    assert app.aftersales.get(request_id, OPERATOR).state == RefundState.CLOSED
    order = app.orders.get(order_id, OPERATOR).order
    assert order.refunded_minor == 0
    assert not order.auto_confirm_paused  # neither the request nor the case holds it any more
