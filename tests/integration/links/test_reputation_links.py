"""DESIGN.md §9 across contexts, on the App as ``build_app`` wires it: buyer credit decides the
after-sales tier (instant refunds), complaints a buyer lost lower its credit, and a dispute's
credit-point deduction reaches the seller's reputation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from tradeguard.bootstrap import App
from tradeguard.disputes.model import CaseType, Outcome
from tradeguard.disputes.service import DecisionRequest
from tradeguard.kernel.clock import FakeClock
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


def _paid(app: App, buyer_id: str, kind: GoodsKind = GoodsKind.PHYSICAL) -> str:
    listing = f"s1-{kind.value}"
    app.orders.register_listing(listing, "s1", "goods", kind)
    checkout = app.orders.create_checkout(buyer_id, "CNY", [CartLine(listing, 1, 5_000)])
    order = checkout.orders[0]
    app.orders.confirm_payment(
        checkout.payment_group_id, order.total_minor, "CNY", f"psp-{order.id}", OPERATOR
    )
    return order.id


def _completed(app: App, buyer_id: str) -> str:
    order_id = _paid(app, buyer_id)
    app.orders.ship(order_id, seller("s1"), carrier="SF", tracking_number=f"SF{order_id[-6:]}")
    app.orders.confirm_receipt(order_id, buyer(buyer_id))
    return order_id


def test_a_buyer_without_history_is_new_and_gets_no_instant_refund(app: App) -> None:
    # given / when
    credit = app.reputation.buyer_credit_of("b-new")
    # then
    assert credit.tier == "new"
    assert not credit.allows_instant_refund
    assert app.aftersales.tier("b-new") == "new"


def test_buyer_credit_that_allows_instant_refunds_makes_the_after_sales_tier_trusted(
    app: App, clock: FakeClock
) -> None:
    # given: ten completed orders, the first of them two years ago
    for _ in range(10):
        _completed(app, "b-loyal")
    clock.advance(timedelta(days=730))
    # when
    credit = app.reputation.buyer_credit_of("b-loyal")
    # then
    assert credit.allows_instant_refund, credit
    assert app.aftersales.tier("b-loyal") == "trusted"


def test_a_complaint_the_buyer_lost_counts_as_a_dispute_lost_in_its_credit(app: App) -> None:
    # given: the seed 002 buyer claims a delivered virtual top-up never arrived
    app.platform_keys.init()
    order_id = _paid(app, "b-double", GoodsKind.VIRTUAL)
    before = app.reputation.buyer_credit_of("b-double")
    case = app.disputes.file(buyer("b-double"), order_id, CaseType.NOT_RECEIVED, "not shipped")
    app.disputes.respond(case.id, seller("s1"), "delivered automatically")
    app.disputes.submit_evidence(case.id, buyer("b-double"))
    app.disputes.submit_evidence(case.id, seller("s1"))
    # when
    app.disputes.decide(case.id, ARBITRATOR, DecisionRequest(Outcome.DISMISSED, "no evidence"))
    # then
    after = app.reputation.buyer_credit_of("b-double")
    assert before.disputes_lost == 0
    assert after.disputes_lost == 1
    assert after.score < before.score


def test_credit_points_a_decision_deducts_reach_the_sellers_reputation(app: App) -> None:
    # given
    app.platform_keys.init()
    order_id = _completed(app, "b1")
    case = app.disputes.file(buyer("b1"), order_id, CaseType.QUALITY, "broken on arrival")
    app.disputes.respond(case.id, seller("s1"), "it worked")
    app.disputes.submit_evidence(case.id, buyer("b1"))
    app.disputes.submit_evidence(case.id, seller("s1"))
    before = app.reputation.figures("s1").points
    # when
    app.disputes.decide(
        case.id,
        ARBITRATOR,
        DecisionRequest(Outcome.BUYER_WINS, "broken", refund_minor=1_000, credit_points=3),
    )
    # then
    assert app.reputation.figures("s1").points == before - 3
