"""A refused command changes nothing: orders, records, timers, balances and outbox stay as they were.

DESIGN.md §2 runs each use case in one unit of work; these tests check the whole
database after each kind of refusal, in a marketplace holding an order in every state.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from tradeguard.bootstrap import App
from tradeguard.kernel.errors import (
    Conflict,
    NotFound,
    TransitionNotAllowed,
    UnknownCurrency,
)
from tradeguard.kernel.parties import OPERATOR, buyer, seller
from tradeguard.ledger.errors import InsufficientFunds
from tradeguard.orders.errors import PaymentMismatch, PurchaseLimitExceeded
from tradeguard.orders.model import GoodsKind, Order, TrackingStatus
from tradeguard.orders.rules import CartLine
from tradeguard.orders.service import OrderService


@dataclass
class World:
    """One order in each state, a limited listing already bought, and a payout."""

    app: App
    awaiting: Order
    paid: Order
    virtual_paid: Order
    shipped: Order
    paused: Order
    delivered: Order
    completed: Order
    closed: Order
    late_settled: Order  #: late, completed, and its seller has withdrawn everything
    payout_id: str


@pytest.fixture
def world(market) -> World:
    late = market.late_order(seller_id="s9", buyer_id="b9", price=10_000)
    market.ship(late)
    market.app.orders.confirm_receipt(late, buyer("b9"))
    market.app.payouts.request("s9", 9_800, "CNY", seller("s9"))

    closed = market.paid_order(buyer_id="b7")
    market.app.orders.cancel(closed, seller("s1"), "out of stock")
    paused = market.shipped_order(buyer_id="b8")
    market.app.orders.pause(paused, "dispute opened")
    completed = market.completed_order(buyer_id="b6", price=10_000)
    payout = market.app.payouts.request("s1", 1_000, "CNY", seller("s1"))
    market.listing("one-per-id", kind=GoodsKind.VIRTUAL, limit=1)
    market.checkout([("one-per-id", 1, 90)], buyer_id="b1")
    ids = {
        "awaiting": market.order(buyer_id="b1"),
        "paid": market.paid_order(buyer_id="b2"),
        "virtual_paid": market.paid_order(buyer_id="b3", kind=GoodsKind.VIRTUAL),
        "shipped": market.shipped_order(buyer_id="b4"),
        "delivered": market.delivered_order(buyer_id="b5"),
    }
    market.clock.advance(timedelta(hours=1))
    orders = {name: market.get(order_id) for name, order_id in ids.items()}
    return World(
        market.app,
        paused=market.get(paused),
        completed=market.get(completed),
        closed=market.get(closed),
        late_settled=market.get(late),
        payout_id=payout.id,
        **orders,
    )


Command = Callable[[World], Any]


def o(w: World) -> OrderService:
    """Shorthand for the table below."""
    return w.app.orders


REFUSALS: dict[str, tuple[Command, type[Exception]]] = {
    "pay-one-fen-short": (
        lambda w: o(w).confirm_payment(
            w.awaiting.payment_group_id, w.awaiting.total_minor - 1, "CNY", "psp-x", OPERATOR
        ),
        PaymentMismatch,
    ),
    "pay-in-another-currency": (
        lambda w: o(w).confirm_payment(
            w.awaiting.payment_group_id, w.awaiting.total_minor, "USD", "psp-x", OPERATOR
        ),
        PaymentMismatch,
    ),
    "pay-a-paid-group-again": (
        lambda w: o(w).confirm_payment(
            w.paid.payment_group_id, w.paid.total_minor, "CNY", "psp-other", OPERATOR
        ),
        Conflict,
    ),
    "pay-a-closed-order": (
        lambda w: o(w).confirm_payment(
            w.closed.payment_group_id, w.closed.total_minor, "CNY", "psp-other", OPERATOR
        ),
        Conflict,
    ),
    "buyer-cancels-on-time": (lambda w: o(w).cancel(w.paid.id, buyer("b2")), TransitionNotAllowed),
    "seller-cancels-shipped": (
        lambda w: o(w).cancel(w.shipped.id, seller("s1")),
        TransitionNotAllowed,
    ),
    "operator-cancels-completed": (
        lambda w: o(w).cancel(w.completed.id, OPERATOR),
        TransitionNotAllowed,
    ),
    "buyer-ships": (
        lambda w: o(w).ship(w.paid.id, buyer("b2"), carrier="SF", tracking_number="SF1"),
        TransitionNotAllowed,
    ),
    "ship-unpaid": (
        lambda w: o(w).ship(w.awaiting.id, seller("s1"), carrier="SF", tracking_number="SF1"),
        TransitionNotAllowed,
    ),
    "ship-virtual": (
        lambda w: o(w).ship(w.virtual_paid.id, seller("s1"), carrier="SF", tracking_number="SF1"),
        TransitionNotAllowed,
    ),
    "deliver-physical": (
        lambda w: o(w).deliver(w.paid.id, seller("s1"), detail="sent"),
        TransitionNotAllowed,
    ),
    "extend-too-early": (
        lambda w: o(w).extend_receipt(w.shipped.id, buyer("b4")),
        TransitionNotAllowed,
    ),
    "extend-while-paused": (
        lambda w: o(w).extend_receipt(w.paused.id, buyer("b8")),
        TransitionNotAllowed,
    ),
    "resume-not-paused": (lambda w: o(w).resume(w.shipped.id, "nothing"), Conflict),
    "claim-compensation-on-time": (
        lambda w: o(w).claim_late_compensation(w.paid.id, buyer("b2")),
        TransitionNotAllowed,
    ),
    "confirm-receipt-twice": (
        lambda w: o(w).confirm_receipt(w.completed.id, buyer("b6")),
        TransitionNotAllowed,
    ),
    "confirm-receipt-unshipped": (
        lambda w: o(w).confirm_receipt(w.paid.id, buyer("b2")),
        TransitionNotAllowed,
    ),
    "track-unshipped": (
        lambda w: o(w).record_tracking(
            w.paid.id, OPERATOR, status=TrackingStatus.IN_TRANSIT, occurred_at=w.app.clock.now()
        ),
        TransitionNotAllowed,
    ),
    "track-closed-unshipped": (
        lambda w: o(w).record_tracking(
            w.closed.id, OPERATOR, status=TrackingStatus.DELIVERED, occurred_at=w.app.clock.now()
        ),
        Conflict,
    ),
    "another-buyer-confirms": (
        lambda w: o(w).confirm_receipt(w.shipped.id, buyer("b1")),
        NotFound,
    ),
    "another-seller-ships": (
        lambda w: o(w).ship(w.paid.id, seller("s2"), carrier="SF", tracking_number="SF1"),
        NotFound,
    ),
    "over-the-purchase-limit": (
        lambda w: o(w).create_checkout("b1", "CNY", [CartLine("one-per-id", 1, 90)]),
        PurchaseLimitExceeded,
    ),
    "unknown-listing": (
        lambda w: o(w).create_checkout("b1", "CNY", [CartLine("no-such-listing", 1, 90)]),
        NotFound,
    ),
    "unknown-currency": (
        lambda w: o(w).create_checkout("b1", "XXX", [CartLine("s1-physical", 1, 90)]),
        UnknownCurrency,
    ),
    "withdraw-too-much": (
        lambda w: w.app.payouts.request("s1", 10**9, "CNY", seller("s1")),
        InsufficientFunds,
    ),
    "withdraw-for-another-seller": (
        lambda w: w.app.payouts.request("s1", 100, "CNY", seller("s9")),
        NotFound,
    ),
    "seller-fails-own-payout": (
        lambda w: w.app.payouts.fail(w.payout_id, "give it back", seller("s1")),
        TransitionNotAllowed,
    ),
}


@pytest.mark.parametrize("name", list(REFUSALS))
def test_a_refused_command_changes_nothing(market, world, name) -> None:
    # given
    command, error = REFUSALS[name]
    before = market.snapshot()
    # when
    with pytest.raises(error):
        command(world)
    # then
    assert market.snapshot() == before
    assert market.app.verify_ledger() == []


def test_refusals_leave_the_timers_running(market, world) -> None:
    # given: every refusal above, one after the other
    for command, error in REFUSALS.values():
        with pytest.raises(error):
            command(world)
    # when
    market.advance(timedelta(days=30))
    # then: the orders carried on as if nothing had been asked
    assert market.get(world.awaiting.id).close_reason == "payment_expired"
    assert market.get(world.paid.id).is_late
    assert market.get(world.shipped.id).completed_by == "auto_confirm"
    assert market.get(world.delivered.id).completed_by == "auto_confirm"
    assert market.get(world.paused.id).completed_at is None
    assert market.app.verify_ledger() == []
