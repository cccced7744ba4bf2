"""Fixtures for review and reputation tests: completed orders on demand, reviews through the services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tradeguard.bootstrap import App
from tradeguard.kernel.clock import FakeClock
from tradeguard.kernel.parties import OPERATOR, buyer, seller
from tradeguard.orders.model import GoodsKind
from tradeguard.orders.rules import CartLine
from tradeguard.reviews.model import DetailedRatings, Review


class Shop:
    """Sellers, buyers and completed orders, reviewed through the public services."""

    def __init__(self, app: App, clock: FakeClock) -> None:
        self.app = app
        self.clock = clock
        self._listings: set[str] = set()
        self._n = 0

    def completed_order(
        self, buyer_id: str = "b1", seller_id: str = "s1", listing_id: str | None = None
    ) -> str:
        """A paid, shipped order its buyer confirmed just now."""
        listing_id = listing_id or f"{seller_id}-item"
        if listing_id not in self._listings:
            self.app.orders.register_listing(listing_id, seller_id, "goods", GoodsKind.PHYSICAL)
            self._listings.add(listing_id)
        checkout = self.app.orders.create_checkout(
            buyer_id, "CNY", [CartLine(listing_id, 1, 5_000)], None
        )
        order = checkout.orders[0]
        self._n += 1
        self.app.orders.confirm_payment(
            order.payment_group_id, order.total_minor, "CNY", f"psp-{self._n}-{order.id}", OPERATOR
        )
        self.app.orders.ship(
            order.id, seller(seller_id), carrier="SF", tracking_number=f"SF{self._n:08d}"
        )
        self.app.orders.confirm_receipt(order.id, buyer(buyer_id))
        return order.id

    def review(
        self,
        order_id: str,
        stars: int = 5,
        *,
        buyer_id: str = "b1",
        reason: str | None = None,
        text: str = "good",
        detailed: DetailedRatings | None = None,
        **kwargs: Any,
    ) -> Review:
        """The buyer reviews an order (a reason is supplied below 4 stars unless given)."""
        if reason is None and stars < 4:
            reason = "not as expected"
        return self.app.reviews.post(
            order_id,
            buyer(buyer_id),
            stars=stars,
            detailed=detailed,
            text=text,
            reason=reason,
            **kwargs,
        )

    def reviewed(
        self, stars: int = 5, buyer_id: str = "b1", seller_id: str = "s1", **kw: Any
    ) -> Review:
        """A fresh completed order of the pair, reviewed now."""
        listing_id = kw.pop("listing_id", None)
        order_id = self.completed_order(buyer_id, seller_id, listing_id)
        return self.review(order_id, stars, buyer_id=buyer_id, **kw)

    def advance(self, delta: timedelta) -> None:
        """Move the clock and run the deadline worker."""
        self.clock.advance(delta)
        self.app.run_deadlines()

    def points(self, seller_id: str = "s1") -> int:
        """The seller's credit points."""
        return self.app.reputation.figures(seller_id).points


@pytest.fixture
def shop(app: App, clock: FakeClock) -> Shop:
    """A marketplace on the test app."""
    return Shop(app, clock)


@pytest.fixture
def make_shop(make_app: Any, clock: FakeClock) -> Any:
    """A marketplace on an app built with overrides (e.g. ``policy=``)."""
    return lambda **overrides: Shop(make_app(**overrides), clock)
