"""A marketplace on an accelerated clock, driven through the real services and the worker.

Honest trade for now (DESIGN.md §15): buyers check out carts (sometimes across
several shops), pay or abandon them, sellers ship physical goods or deliver
virtual goods automatically, carriers scan parcels, buyers confirm receipt or
never do (auto-confirm), a share of sellers ship late and their buyers claim
compensation, sellers withdraw their balance weekly. Every random choice comes
from one seeded generator and ids from a seeded factory, so the same seed gives
the same summary.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from tradeguard.bootstrap import App
from tradeguard.kernel.clock import FakeClock
from tradeguard.kernel.errors import TradeGuardError
from tradeguard.kernel.parties import OPERATOR, buyer, seller
from tradeguard.orders.model import GoodsKind, OrderState, TrackingStatus
from tradeguard.orders.rules import CartLine

CURRENCY = "CNY"
CARRIERS = ("SF", "ZTO", "YTO", "JD")


@dataclass(frozen=True)
class SimulationConfig:
    """How big and how honest the simulated marketplace is."""

    days: int = 30
    buyers: int = 200
    sellers: int = 20
    seed: int = 1
    checkouts_per_buyer_per_day: float = 0.25
    virtual_seller_share: float = 0.25
    late_shipper_share: float = 0.15
    never_confirming_buyer_share: float = 0.3
    abandoned_checkout_share: float = 0.06
    multi_shop_cart_share: float = 0.15


@dataclass
class SimulationSummary:
    """What happened, in figures that the same seed always reproduces."""

    days: int
    buyers: int
    sellers: int
    seed: int
    checkouts: int = 0
    orders_by_state: dict[str, int] = field(default_factory=dict)
    gmv_minor: int = 0
    escrow_held_minor: int = 0
    fees_minor: int = 0
    late_shipments: int = 0
    late_compensation_paid_minor: int = 0
    auto_confirmed: int = 0
    confirmed_by_buyer: int = 0
    closed_unpaid: int = 0
    payouts_minor: int = 0
    deadlines_fired: int = 0
    reminders_sent: int = 0
    refused_commands: int = 0
    ledger_violations: list[str] = field(default_factory=list)
    currency: str = CURRENCY

    def as_dict(self) -> dict[str, Any]:
        """The summary as JSON-ready data."""
        return {
            "days": self.days,
            "buyers": self.buyers,
            "sellers": self.sellers,
            "seed": self.seed,
            "currency": self.currency,
            "checkouts": self.checkouts,
            "orders_by_state": dict(sorted(self.orders_by_state.items())),
            "gmv_minor": self.gmv_minor,
            "escrow_held_minor": self.escrow_held_minor,
            "fees_minor": self.fees_minor,
            "late_shipments": self.late_shipments,
            "late_compensation_paid_minor": self.late_compensation_paid_minor,
            "auto_confirmed": self.auto_confirmed,
            "confirmed_by_buyer": self.confirmed_by_buyer,
            "closed_unpaid": self.closed_unpaid,
            "payouts_minor": self.payouts_minor,
            "deadlines_fired": self.deadlines_fired,
            "reminders_sent": self.reminders_sent,
            "refused_commands": self.refused_commands,
            "ledger_ok": not self.ledger_violations,
            "ledger_violations": self.ledger_violations,
        }


@dataclass(frozen=True)
class _Seller:
    id: str
    goods_kind: GoodsKind
    is_late_shipper: bool
    listings: tuple[str, ...]


@dataclass(frozen=True)
class _Buyer:
    id: str
    never_confirms: bool
    claims_compensation: bool


Action = Callable[[], None]


class Simulator:
    """Runs :class:`SimulationConfig` against an :class:`App` whose clock is a FakeClock."""

    def __init__(self, app: App, clock: FakeClock, config: SimulationConfig) -> None:
        self.app = app
        self.clock = clock
        self.config = config
        self.rng = random.Random(config.seed)
        self._queue: list[tuple[datetime, int, Action]] = []
        self._sequence = itertools.count()
        self.order_ids: list[str] = []
        self.summary = SimulationSummary(config.days, config.buyers, config.sellers, config.seed)
        self._sellers: list[_Seller] = []
        self._buyers: list[_Buyer] = []
        self._seller_by_id: dict[str, _Seller] = {}
        self._prices: dict[str, int] = {}

    # -- set-up ---------------------------------------------------------------------------------

    def _populate(self) -> None:
        cfg, rng = self.config, self.rng
        for n in range(cfg.sellers):
            kind = (
                GoodsKind.VIRTUAL if rng.random() < cfg.virtual_seller_share else GoodsKind.PHYSICAL
            )
            listings = tuple(f"sim-s{n}-l{k}" for k in range(rng.randint(2, 5)))
            s = _Seller(f"sim-s{n}", kind, rng.random() < cfg.late_shipper_share, listings)
            self._sellers.append(s)
            self._seller_by_id[s.id] = s
            for listing_id in listings:
                # Virtual top-ups are sold "one per ID", as the seed 002 seller did.
                limit = 1 if kind == GoodsKind.VIRTUAL else None
                title = f"{'Top-up' if kind == GoodsKind.VIRTUAL else 'Item'} {listing_id}"
                self.app.orders.register_listing(listing_id, s.id, title, kind, limit)
                base = rng.choice((990, 1990, 4990, 9900, 19900, 49900, 129900))
                self._prices[listing_id] = base
        for n in range(cfg.buyers):
            self._buyers.append(
                _Buyer(
                    f"sim-b{n}", rng.random() < cfg.never_confirming_buyer_share, rng.random() < 0.6
                )
            )

    # -- the event queue ------------------------------------------------------------------------

    def _at(self, when: datetime, action: Action) -> None:
        heapq.heappush(self._queue, (when, next(self._sequence), action))

    def _try(self, command: Callable[[], Any]) -> Any:
        # Simulated parties sometimes act too late (the order auto-confirmed, the window
        # closed); the service refuses and the simulation carries on, as a real client would.
        try:
            return command()
        except TradeGuardError:
            self.summary.refused_commands += 1
            return None

    def run(self, on_day: Callable[[int], None] | None = None) -> SimulationSummary:
        """Simulate ``days`` days hour by hour; return the summary (ledger verified)."""
        self._populate()
        start = self.clock.now()
        for day in range(self.config.days):
            for hour in range(24):
                tick_end = start + timedelta(days=day, hours=hour + 1)
                self._new_checkouts(start + timedelta(days=day, hours=hour))
                while self._queue and self._queue[0][0] < tick_end:
                    when, _, action = heapq.heappop(self._queue)
                    if when > self.clock.now():
                        self.clock.set(when)
                    action()
                self.clock.set(tick_end)
                report = self.app.run_deadlines()
                self.summary.deadlines_fired += report.fired
                self.summary.reminders_sent += report.reminded
            if day % 7 == 6:
                self._payouts()
            if on_day is not None:
                on_day(day + 1)
        self._summarise()
        return self.summary

    # -- honest trade ---------------------------------------------------------------------------

    def _new_checkouts(self, hour_start: datetime) -> None:
        cfg, rng = self.config, self.rng
        expected = cfg.buyers * cfg.checkouts_per_buyer_per_day / 24
        count = int(expected) + (1 if rng.random() < expected - int(expected) else 0)
        for _ in range(count):
            when = hour_start + timedelta(minutes=rng.randint(0, 59))
            shopper = rng.choice(self._buyers)
            self._at(when, partial(self._checkout, shopper))

    def _checkout(self, shopper: _Buyer) -> None:
        cfg, rng = self.config, self.rng
        shops = [rng.choice(self._sellers)]
        if rng.random() < cfg.multi_shop_cart_share:
            shops.append(rng.choice(self._sellers))
        lines: list[CartLine] = []
        for shop in dict.fromkeys(shops):
            listing_id = rng.choice(shop.listings)
            quantity = 1 if shop.goods_kind == GoodsKind.VIRTUAL else rng.choice((1, 1, 1, 2, 3))
            lines.append(CartLine(listing_id, quantity, self._prices[listing_id]))
        fees = {
            s.id: rng.choice((0, 0, 600, 1000))
            for s in dict.fromkeys(shops)
            if s.goods_kind == GoodsKind.PHYSICAL
        }
        checkout = self._try(
            lambda: self.app.orders.create_checkout(shopper.id, CURRENCY, lines, fees)
        )
        if checkout is None:
            return
        self.summary.checkouts += 1
        self.order_ids.extend(o.id for o in checkout.orders)
        if rng.random() < cfg.abandoned_checkout_share:
            return  # never paid: the payment window closes it
        pay_at = self.clock.now() + timedelta(minutes=rng.randint(1, 240))
        self._at(pay_at, lambda: self._pay(checkout, shopper))

    def _pay(self, checkout: Any, shopper: _Buyer) -> None:
        paid = self._try(
            lambda: self.app.orders.confirm_payment(
                checkout.payment_group_id,
                checkout.total_minor,
                CURRENCY,
                f"psp-{checkout.payment_group_id}",
                OPERATOR,
            )
        )
        if paid is None:
            return
        for order in paid:
            shop = self._seller_by_id[order.seller_id]
            if shop.goods_kind == GoodsKind.VIRTUAL:
                # The shop's top-up software delivers within seconds of payment (seed 002).
                self._at(
                    self.clock.now() + timedelta(seconds=30),
                    partial(self._deliver, order.id, shop, shopper),
                )
            else:
                delay = (
                    timedelta(hours=self.rng.randint(76, 110))
                    if shop.is_late_shipper
                    else timedelta(hours=self.rng.randint(2, 48))
                )
                self._at(self.clock.now() + delay, partial(self._ship, order.id, shop, shopper))

    def _deliver(self, order_id: str, shop: _Seller, shopper: _Buyer) -> None:
        done = self._try(
            lambda: self.app.orders.deliver(
                order_id, seller(shop.id), method="automatic", detail="top-up succeeded"
            )
        )
        if done is not None and not shopper.never_confirms:
            when = self.clock.now() + timedelta(hours=self.rng.randint(1, 30))
            self._at(
                when,
                lambda: self._try(
                    lambda: self.app.orders.confirm_receipt(order_id, buyer(shopper.id))
                ),
            )

    def _ship(self, order_id: str, shop: _Seller, shopper: _Buyer) -> None:
        order = self._try(
            lambda: self.app.orders.ship(
                order_id,
                seller(shop.id),
                carrier=self.rng.choice(CARRIERS),
                tracking_number=f"T{self.rng.randint(10**9, 10**10 - 1)}",
            )
        )
        if order is None:
            return
        if order.is_late and shopper.claims_compensation:
            self._at(
                self.clock.now() + timedelta(hours=self.rng.randint(1, 12)),
                lambda: self._try(
                    lambda: self.app.orders.claim_late_compensation(order_id, buyer(shopper.id))
                ),
            )
        in_transit = self.clock.now() + timedelta(hours=self.rng.randint(4, 16))
        delivered = in_transit + timedelta(hours=self.rng.randint(24, 96))
        self._at(in_transit, lambda: self._scan(order_id, TrackingStatus.IN_TRANSIT))
        self._at(delivered, lambda: self._scan(order_id, TrackingStatus.SIGNED))
        if not shopper.never_confirms:
            confirm = delivered + timedelta(hours=self.rng.randint(1, 72))
            self._at(
                confirm,
                lambda: self._try(
                    lambda: self.app.orders.confirm_receipt(order_id, buyer(shopper.id))
                ),
            )

    def _scan(self, order_id: str, status: TrackingStatus) -> None:
        self._try(
            lambda: self.app.orders.record_tracking(
                order_id, OPERATOR, status=status, occurred_at=self.clock.now()
            )
        )

    def _payouts(self) -> None:
        for shop in self._sellers:
            for balance in self.app.balances(f"seller:{shop.id}:available"):
                if balance.balance_minor > 0:
                    request = partial(
                        self.app.payouts.request,
                        shop.id,
                        balance.balance_minor,
                        balance.currency,
                        seller(shop.id),
                    )
                    paid = self._try(request)
                    if paid is not None:
                        self.summary.payouts_minor += paid.amount_minor

    # -- the summary ----------------------------------------------------------------------------

    def _summarise(self) -> None:
        states: Counter[str] = Counter()
        for order_id in self.order_ids:
            order = self.app.orders.get(order_id, OPERATOR).order
            states[order.state.value] += 1
            self.summary.gmv_minor += order.paid_minor
            self.summary.escrow_held_minor += order.escrow_minor
            self.summary.fees_minor += order.fee_minor
            self.summary.late_shipments += int(order.is_late)
            if order.late_compensation_paid:
                self.summary.late_compensation_paid_minor += order.late_compensation_minor
            if order.state == OrderState.COMPLETED:
                if order.completed_by == "auto_confirm":
                    self.summary.auto_confirmed += 1
                else:
                    self.summary.confirmed_by_buyer += 1
            if order.close_reason == "payment_expired":
                self.summary.closed_unpaid += 1
        self.summary.orders_by_state = dict(states)
        self.summary.ledger_violations = [str(v) for v in self.app.verify_ledger()]
