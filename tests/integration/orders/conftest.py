"""Fixtures for the order integration tests: a small marketplace driven through the services.

Every helper goes through the public services of :class:`tradeguard.bootstrap.App`
(the same calls an adapter makes), so the tests exercise storage, ledger,
deadlines and outbox together on each backend. The helpers live here, exposed
as fixtures, rather than in an importable module, so that these tests never
collide with another folder's helper module of the same name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from tradeguard.bootstrap import App
from tradeguard.deadlines.model import WorkerReport
from tradeguard.events.model import StoredEvent
from tradeguard.kernel.clock import FakeClock
from tradeguard.kernel.parties import OPERATOR, Party, buyer, seller
from tradeguard.orders.model import GoodsKind, Order, OrderState
from tradeguard.orders.ports import OrderFilter
from tradeguard.orders.rules import CartLine
from tradeguard.orders.service import Checkout, OrderDetails

CNY = "CNY"


@dataclass(frozen=True)
class Snapshot:
    """Everything a refused command must leave exactly as it was."""

    orders: list[OrderDetails]
    balances: dict[tuple[str, str], int]
    events: list[StoredEvent]
    payouts: list[Any]


class Market:
    """A marketplace on one App: listings, orders in any state, and ways to look at them."""

    def __init__(self, app: App, clock: FakeClock) -> None:
        self.app = app
        self.clock = clock

    # -- building -------------------------------------------------------------------------------

    def listing(
        self,
        listing_id: str | None = None,
        *,
        seller_id: str = "s1",
        kind: GoodsKind = GoodsKind.PHYSICAL,
        limit: int | None = None,
        title: str | None = None,
    ) -> str:
        """Register a listing (by default one per seller and goods kind) and return its id."""
        listing_id = listing_id or f"{seller_id}-{kind.value}"
        self.app.orders.register_listing(
            listing_id, seller_id, title or f"{kind.value} goods of {seller_id}", kind, limit
        )
        return listing_id

    def checkout(
        self,
        lines: list[tuple[str, int, int]],
        *,
        buyer_id: str = "b1",
        shipping: dict[str, int] | None = None,
        currency: str = CNY,
    ) -> Checkout:
        """Create a checkout from ``(listing_id, quantity, unit_price_minor)`` lines."""
        return self.app.orders.create_checkout(
            buyer_id, currency, [CartLine(*line) for line in lines], shipping
        )

    def order(
        self,
        *,
        buyer_id: str = "b1",
        seller_id: str = "s1",
        kind: GoodsKind = GoodsKind.PHYSICAL,
        price: int = 10_000,
        quantity: int = 1,
        shipping: int = 0,
        listing_id: str | None = None,
    ) -> str:
        """A one-seller order awaiting payment; registers the seller's default listing if none given."""
        if listing_id is None:
            listing_id = self.listing(seller_id=seller_id, kind=kind)
        checkout = self.checkout(
            [(listing_id, quantity, price)],
            buyer_id=buyer_id,
            shipping={seller_id: shipping} if shipping else None,
        )
        return checkout.orders[0].id

    def pay(self, order_id: str, reference: str | None = None) -> None:
        """The payment provider captured exactly what the order's payment group costs."""
        order = self.get(order_id)
        group = self.app.orders.find(OPERATOR, OrderFilter(payment_group_id=order.payment_group_id))
        amount = sum(o.total_minor for o in group if o.state == OrderState.AWAITING_PAYMENT)
        self.app.orders.confirm_payment(
            order.payment_group_id, amount, order.currency, reference or f"psp-{order_id}", OPERATOR
        )

    def ship(self, order_id: str) -> None:
        """The order's seller hands the parcel to a carrier."""
        order = self.get(order_id)
        self.app.orders.ship(
            order_id, seller(order.seller_id), carrier="SF", tracking_number=f"SF{order_id[-8:]}"
        )

    def deliver(self, order_id: str, detail: str = "code ABCD-1234 sent to the buyer") -> None:
        """The shop's software delivers virtual goods automatically."""
        order = self.get(order_id)
        self.app.orders.deliver(order_id, seller(order.seller_id), detail=detail)

    def paid_order(self, **kwargs: Any) -> str:
        """An order whose payment is held in escrow."""
        order_id = self.order(**kwargs)
        self.pay(order_id)
        return order_id

    def shipped_order(self, **kwargs: Any) -> str:
        """A paid physical order the seller shipped."""
        order_id = self.paid_order(**kwargs)
        self.ship(order_id)
        return order_id

    def delivered_order(self, **kwargs: Any) -> str:
        """A paid virtual order the shop delivered."""
        order_id = self.paid_order(kind=GoodsKind.VIRTUAL, **kwargs)
        self.deliver(order_id)
        return order_id

    def completed_order(self, **kwargs: Any) -> str:
        """A shipped order whose buyer confirmed receipt (the seller's share is now available)."""
        order_id = self.shipped_order(**kwargs)
        self.app.orders.confirm_receipt(order_id, buyer(self.get(order_id).buyer_id))
        return order_id

    def late_order(self, **kwargs: Any) -> str:
        """A paid order the seller did not ship by the ship-by time."""
        order_id = self.paid_order(**kwargs)
        self.advance(self.app.policy.orders.ship_by.as_timedelta())
        return order_id

    # -- time -----------------------------------------------------------------------------------

    def advance(self, delta: timedelta) -> WorkerReport:
        """Move the clock and fire whatever is due, as a worker would."""
        self.clock.advance(delta)
        return self.app.run_deadlines()

    # -- looking --------------------------------------------------------------------------------

    def details(self, order_id: str, party: Party = OPERATOR) -> OrderDetails:
        """An order and its records, as the operator sees them."""
        return self.app.orders.get(order_id, party)

    def get(self, order_id: str) -> Order:
        """An order, as the operator sees it."""
        return self.details(order_id).order

    def balance(self, address: str, currency: str = CNY) -> int:
        """An account's balance in minor units (0 for an account never used)."""
        return next(
            (
                b.balance_minor
                for b in self.app.balances(address)
                if b.address == address and b.currency == currency
            ),
            0,
        )

    def escrow(self, order_id: str) -> int:
        """What the order's escrow account holds."""
        return self.balance(f"escrow:order:{order_id}")

    def fees(self) -> int:
        """The platform's fee income, over every fee account shard."""
        return sum(b.balance_minor for b in self.app.balances("platform:fees"))

    def events(self, order_id: str) -> list[StoredEvent]:
        """The order's outbox events, oldest first."""
        return self.app.units.run(lambda uow: uow.outbox.for_order(order_id, limit=1000))

    def event_types(self, order_id: str) -> list[str]:
        """The types of the order's outbox events, oldest first."""
        return [e.type for e in self.events(order_id)]

    def snapshot(self) -> Snapshot:
        """Every order with its records and timers, every balance, the whole outbox, every payout."""
        orders = self.app.orders.find(OPERATOR, OrderFilter(), limit=200)
        return Snapshot(
            orders=[self.details(o.id) for o in orders],
            balances={(b.address, b.currency): b.balance_minor for b in self.app.balances()},
            events=self.app.units.run(
                lambda uow: uow.outbox.after(0, 100_000, include_unsettled=True)
            ),
            payouts=self.app.payouts.find(OPERATOR, None, limit=200),
        )


@pytest.fixture(autouse=True)
def _ledger_verifies_after_every_test(app: App) -> Iterator[None]:
    """DESIGN.md §3: whatever a test did or was refused, the ledger's invariants hold after it."""
    yield
    assert app.verify_ledger() == []


@pytest.fixture
def market(app: App, clock: FakeClock) -> Market:
    """A marketplace on the default-policy app."""
    return Market(app, clock)


@pytest.fixture
def market_on(clock: FakeClock) -> Callable[[App], Market]:
    """A marketplace on an app built with ``make_app(policy=...)``."""
    return lambda app: Market(app, clock)
