"""A marketplace on an accelerated clock, driven through the real services and the worker.

The core here is honest trade (DESIGN.md §15): buyers check out carts (sometimes
across several shops), pay or abandon them, sellers ship physical goods or
deliver virtual goods automatically, carriers scan parcels, buyers confirm
receipt or never do (auto-confirm), a share of sellers ship late and their
buyers claim compensation, sellers withdraw their balance weekly.

Each bounded context adds its parties as a :class:`Behaviour` (after-sales
returners, dispute abusers, reviewers ...): it gives some buyers and sellers
traits, reacts when a parcel arrives, acts daily and adds figures to the summary.
Every random choice comes from one seeded generator and ids from a seeded
factory, so the same seed gives the same summary.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Protocol

from tradeguard.bootstrap import App
from tradeguard.kernel.clock import FakeClock
from tradeguard.kernel.errors import TradeGuardError
from tradeguard.kernel.parties import OPERATOR, buyer, seller
from tradeguard.orders.model import GoodsKind, Order, OrderState, TrackingStatus
from tradeguard.orders.rules import CartLine
from tradeguard.orders.service import Checkout

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


@dataclass(eq=False)
class SimSeller:
    """A simulated shop: what it sells and how it behaves."""

    id: str
    goods_kind: GoodsKind
    listings: tuple[str, ...]
    traits: set[str] = field(default_factory=set)


@dataclass(eq=False)
class SimBuyer:
    """A simulated buyer and how they behave."""

    id: str
    traits: set[str] = field(default_factory=set)


class Behaviour(Protocol):
    """Parties one bounded context adds to the simulation."""

    name: str

    def setup(self, sim: Simulator) -> None:
        """Give traits to some buyers and sellers; prepare accounts (after the shops exist)."""
        ...

    def on_arrived(self, sim: Simulator, order: Order, shopper: SimBuyer) -> bool:
        """The goods reached the buyer; return True if this behaviour decides what the buyer does."""
        ...

    def daily(self, sim: Simulator, day: int) -> None:
        """Act once a simulated day (after the day's last hour)."""
        ...

    def summarise(self, sim: Simulator) -> dict[str, Any]:
        """Figures for the summary, under this behaviour's name."""
        ...


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
    behaviours: dict[str, dict[str, Any]] = field(default_factory=dict)
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
            **self.behaviours,
            "ledger_ok": not self.ledger_violations,
            "ledger_violations": self.ledger_violations,
        }


Action = Callable[[], object]


class Simulator:
    """Runs :class:`SimulationConfig` against an :class:`App` whose clock is a FakeClock."""

    def __init__(
        self,
        app: App,
        clock: FakeClock,
        config: SimulationConfig,
        behaviours: Sequence[Behaviour] = (),
    ) -> None:
        self.app = app
        self.clock = clock
        self.config = config
        self.behaviours = list(behaviours)
        self.rng = random.Random(config.seed)
        self._queue: list[tuple[datetime, int, Action]] = []
        self._sequence = itertools.count()
        self.order_ids: list[str] = []
        self.summary = SimulationSummary(config.days, config.buyers, config.sellers, config.seed)
        self.sellers: list[SimSeller] = []
        self.buyers: list[SimBuyer] = []
        self.seller_by_id: dict[str, SimSeller] = {}
        self.buyer_by_id: dict[str, SimBuyer] = {}
        self.prices: dict[str, int] = {}

    # -- set-up ---------------------------------------------------------------------------------

    def _populate(self) -> None:
        cfg, rng = self.config, self.rng
        for n in range(cfg.sellers):
            kind = (
                GoodsKind.VIRTUAL if rng.random() < cfg.virtual_seller_share else GoodsKind.PHYSICAL
            )
            listings = tuple(f"sim-s{n}-l{k}" for k in range(rng.randint(2, 5)))
            shop = SimSeller(f"sim-s{n}", kind, listings)
            if rng.random() < cfg.late_shipper_share:
                shop.traits.add("ships_late")
            self.sellers.append(shop)
            self.seller_by_id[shop.id] = shop
            for listing_id in listings:
                # Virtual top-ups are sold "one per ID", as the seed 002 seller did.
                limit = 1 if kind == GoodsKind.VIRTUAL else None
                title = f"{'Top-up' if kind == GoodsKind.VIRTUAL else 'Item'} {listing_id}"
                self.app.orders.register_listing(listing_id, shop.id, title, kind, limit)
                self.prices[listing_id] = rng.choice((990, 1990, 4990, 9900, 19900, 49900, 129900))
        for n in range(cfg.buyers):
            shopper = SimBuyer(f"sim-b{n}")
            if rng.random() < cfg.never_confirming_buyer_share:
                shopper.traits.add("never_confirms")
            if rng.random() < 0.6:
                shopper.traits.add("claims_compensation")
            self.buyers.append(shopper)
            self.buyer_by_id[shopper.id] = shopper
        for behaviour in self.behaviours:
            behaviour.setup(self)

    # -- the event queue ------------------------------------------------------------------------

    def at(self, when: datetime, action: Action) -> None:
        """Schedule ``action`` at simulated time ``when``."""
        heapq.heappush(self._queue, (when, next(self._sequence), action))

    def later(self, delay: timedelta, action: Action) -> None:
        """Schedule ``action`` ``delay`` from now."""
        self.at(self.clock.now() + delay, action)

    def attempt(self, command: Callable[[], Any]) -> Any:
        """Run a service command as a client would: a refusal is counted, not fatal.

        Simulated parties sometimes act too late (the order auto-confirmed, the
        window closed); the service refuses and the simulation carries on.
        """
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
            for behaviour in self.behaviours:
                behaviour.daily(self, day)
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
            shopper = rng.choice(self.buyers)
            self.at(when, partial(self.checkout, shopper))

    def checkout(
        self, shopper: SimBuyer, shops: Sequence[SimSeller] | None = None, pay: bool = True
    ) -> Checkout | None:
        """A buyer checks out a cart (from ``shops``, else random shops) and, usually, pays."""
        cfg, rng = self.config, self.rng
        if shops is None:
            shops = [rng.choice(self.sellers)]
            if rng.random() < cfg.multi_shop_cart_share:
                shops.append(rng.choice(self.sellers))
        lines: list[CartLine] = []
        for shop in dict.fromkeys(shops):
            listing_id = rng.choice(shop.listings)
            quantity = 1 if shop.goods_kind == GoodsKind.VIRTUAL else rng.choice((1, 1, 1, 2, 3))
            lines.append(CartLine(listing_id, quantity, self.prices[listing_id]))
        fees = {
            s.id: rng.choice((0, 0, 600, 1000))
            for s in dict.fromkeys(shops)
            if s.goods_kind == GoodsKind.PHYSICAL
        }
        checkout: Checkout | None = self.attempt(
            lambda: self.app.orders.create_checkout(shopper.id, CURRENCY, lines, fees)
        )
        if checkout is None:
            return None
        self.summary.checkouts += 1
        self.order_ids.extend(o.id for o in checkout.orders)
        if pay and rng.random() >= cfg.abandoned_checkout_share:
            self.later(timedelta(minutes=rng.randint(1, 240)), partial(self.pay, checkout, shopper))
        return checkout

    def pay(self, checkout: Checkout, shopper: SimBuyer) -> None:
        """The payment provider reports the buyer's payment; shops then fulfil."""
        paid = self.attempt(
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
            shop = self.seller_by_id[order.seller_id]
            if shop.goods_kind == GoodsKind.VIRTUAL:
                # The shop's top-up software delivers within seconds of payment (seed 002).
                self.later(timedelta(seconds=30), partial(self._deliver, order.id, shop, shopper))
            else:
                late = "ships_late" in shop.traits
                delay = timedelta(
                    hours=self.rng.randint(76, 110) if late else self.rng.randint(2, 48)
                )
                self.later(delay, partial(self._ship, order.id, shop, shopper))

    def _deliver(self, order_id: str, shop: SimSeller, shopper: SimBuyer) -> None:
        order = self.attempt(
            lambda: self.app.orders.deliver(
                order_id, seller(shop.id), method="automatic", detail="top-up succeeded"
            )
        )
        if order is not None:
            self.arrived(order, shopper)

    def _ship(self, order_id: str, shop: SimSeller, shopper: SimBuyer) -> None:
        order = self.attempt(
            lambda: self.app.orders.ship(
                order_id,
                seller(shop.id),
                carrier=self.rng.choice(CARRIERS),
                tracking_number=f"T{self.rng.randint(10**9, 10**10 - 1)}",
                serial_numbers=[f"SN{self.rng.randint(10**7, 10**8 - 1)}"],
            )
        )
        if order is None:
            return
        if order.is_late and "claims_compensation" in shopper.traits:
            self.later(
                timedelta(hours=self.rng.randint(1, 12)),
                lambda: self.attempt(
                    lambda: self.app.orders.claim_late_compensation(order_id, buyer(shopper.id))
                ),
            )
        in_transit = timedelta(hours=self.rng.randint(4, 16))
        delivered = in_transit + timedelta(hours=self.rng.randint(24, 96))
        self.later(in_transit, partial(self._scan, order_id, TrackingStatus.IN_TRANSIT))
        self.later(delivered, partial(self._signed, order_id, shopper))

    def _scan(self, order_id: str, status: TrackingStatus) -> Order | None:
        order: Order | None = self.attempt(
            lambda: self.app.orders.record_tracking(
                order_id, OPERATOR, status=status, occurred_at=self.clock.now()
            )
        )
        return order

    def _signed(self, order_id: str, shopper: SimBuyer) -> None:
        order = self._scan(order_id, TrackingStatus.SIGNED)
        if order is not None:
            self.arrived(order, shopper)

    def arrived(self, order: Order, shopper: SimBuyer) -> None:
        """The goods reached the buyer: a behaviour may take over, else the buyer confirms (or forgets)."""
        for behaviour in self.behaviours:
            if behaviour.on_arrived(self, order, shopper):
                return
        if "never_confirms" not in shopper.traits:
            self.later(
                timedelta(hours=self.rng.randint(1, 72)), partial(self.confirm, order.id, shopper)
            )

    def confirm(self, order_id: str, shopper: SimBuyer) -> None:
        """The buyer confirms receipt."""
        self.attempt(lambda: self.app.orders.confirm_receipt(order_id, buyer(shopper.id)))

    def _payouts(self) -> None:
        for shop in self.sellers:
            if "withholds_payouts" in shop.traits:
                continue
            for balance in self.app.balances(f"seller:{shop.id}:available"):
                if balance.balance_minor > 0:
                    request = partial(
                        self.app.payouts.request,
                        shop.id,
                        balance.balance_minor,
                        balance.currency,
                        seller(shop.id),
                    )
                    paid = self.attempt(request)
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
        for behaviour in self.behaviours:
            self.summary.behaviours[behaviour.name] = behaviour.summarise(self)
        self.summary.ledger_violations = [str(v) for v in self.app.verify_ledger()]


def default_behaviours() -> list[Behaviour]:
    """Every context's simulated parties, in a fixed order (the order is part of the seed)."""
    # Imported here because behaviour modules import this one for the Simulator type.
    from tradeguard.adapters.sim.aftersales import AfterSalesBehaviour
    from tradeguard.adapters.sim.disputes import DisputeBehaviour
    from tradeguard.adapters.sim.messaging import MessagingBehaviour
    from tradeguard.adapters.sim.reviewers import Reviewers

    return [AfterSalesBehaviour(), MessagingBehaviour(), DisputeBehaviour(), Reviewers()]
