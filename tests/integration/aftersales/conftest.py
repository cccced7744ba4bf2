"""Fixtures for the after-sales tests: orders in any state, refund requests, and ways to look.

Every helper goes through the public services of :class:`tradeguard.bootstrap.App`,
so the tests exercise storage, ledger, deadlines and outbox together on each backend.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from tradeguard.aftersales.model import RefundKind, RefundReason, RefundRequest
from tradeguard.bootstrap import App
from tradeguard.deadlines.model import WorkerReport
from tradeguard.kernel.clock import FakeClock
from tradeguard.kernel.parties import OPERATOR, buyer, seller
from tradeguard.orders.model import GoodsKind, Order
from tradeguard.orders.rules import CartLine

CNY = "CNY"


class Shop:
    """A marketplace on one App with after-sales helpers."""

    def __init__(self, app: App, clock: FakeClock) -> None:
        self.app = app
        self.clock = clock

    # -- orders ---------------------------------------------------------------------------------

    def paid_order(
        self,
        *,
        buyer_id: str = "b1",
        seller_id: str = "s1",
        price: int = 10_000,
        shipping: int = 0,
        kind: GoodsKind = GoodsKind.PHYSICAL,
    ) -> str:
        """A one-seller order whose payment is held in escrow."""
        listing_id = f"{seller_id}-{kind.value}"
        self.app.orders.register_listing(listing_id, seller_id, "goods", kind)
        checkout = self.app.orders.create_checkout(
            buyer_id,
            CNY,
            [CartLine(listing_id, 1, price)],
            {seller_id: shipping} if shipping else None,
        )
        order = checkout.orders[0]
        self.app.orders.confirm_payment(
            checkout.payment_group_id, order.total_minor, CNY, f"psp-{order.id}", OPERATOR
        )
        return order.id

    def shipped_order(self, *, serials: tuple[str, ...] = (), **kwargs: Any) -> str:
        """A paid physical order the seller shipped (with SF Express)."""
        order_id = self.paid_order(**kwargs)
        order = self.order(order_id)
        self.app.orders.ship(
            order_id,
            seller(order.seller_id),
            carrier="SF",
            tracking_number=f"SF{order_id[-8:]}",
            serial_numbers=serials,
        )
        return order_id

    def completed_order(self, **kwargs: Any) -> str:
        """A shipped order whose buyer confirmed receipt: the seller's share is available."""
        order_id = self.shipped_order(**kwargs)
        self.app.orders.confirm_receipt(order_id, buyer(self.order(order_id).buyer_id))
        return order_id

    def order(self, order_id: str) -> Order:
        """An order as the operator sees it."""
        return self.app.orders.get(order_id, OPERATOR).order

    # -- refunds --------------------------------------------------------------------------------

    def request(
        self,
        order_id: str,
        kind: RefundKind = RefundKind.REFUND_ONLY,
        reason: RefundReason = RefundReason.NOT_RECEIVED,
        amount: int | None = None,
        **kwargs: Any,
    ) -> RefundRequest:
        """The order's buyer asks for a refund (by default of everything escrow holds)."""
        order = self.order(order_id)
        return self.app.aftersales.request(
            order_id,
            buyer(order.buyer_id),
            kind=kind,
            reason=reason,
            amount_minor=amount if amount is not None else order.total_minor,
            **kwargs,
        )

    def refund(self, request_id: str) -> RefundRequest:
        """A request as the operator sees it."""
        return self.app.aftersales.get(request_id, OPERATOR)

    def fund(self, amount: int = 1_000_000) -> None:
        """The operator tops up the compensation fund."""
        self.app.settlement.top_up_fund(amount, CNY, f"bank-{amount}")

    # -- time and money -------------------------------------------------------------------------

    def advance(self, delta: timedelta) -> WorkerReport:
        """Move the clock and fire whatever is due, as a worker would."""
        self.clock.advance(delta)
        return self.app.run_deadlines()

    def balance(self, address: str) -> int:
        """An account's CNY balance (0 for an account never used)."""
        return next(
            (
                b.balance_minor
                for b in self.app.balances(address)
                if b.address == address and b.currency == CNY
            ),
            0,
        )

    def event_types(self, order_id: str) -> list[str]:
        """Types of the order's outbox events (refund events included), oldest first."""
        return [
            e.type
            for e in self.app.units.run(lambda uow: uow.outbox.for_order(order_id, limit=1000))
        ]


@pytest.fixture(autouse=True)
def _ledger_verifies_after_every_test(app: App) -> Iterator[None]:
    """DESIGN.md §3: whatever a test did or was refused, the ledger's invariants hold after it."""
    yield
    assert app.verify_ledger() == []


@pytest.fixture
def shop(app: App, clock: FakeClock) -> Shop:
    """A marketplace on the default-policy app."""
    return Shop(app, clock)


@pytest.fixture
def shop_on(clock: FakeClock) -> Callable[[App], Shop]:
    """A marketplace on an app built with ``make_app(policy=...)``."""
    return lambda app: Shop(app, clock)
