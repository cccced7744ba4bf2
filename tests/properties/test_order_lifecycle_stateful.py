"""Any sequence of order commands, clock moves and worker runs agrees with DESIGN.md §4.

The reference below is written by hand from DESIGN.md §4 (STYLE.md §3.8): a table of
(state, event, actor) -> next state, the guards the design states in words, a small
model of the order deadlines (payment window 72 h, ship-by 72 h, auto-confirm 10 days
after shipment or 3 days after delivery, +3 days once when at most 3 days remain,
pause freezing the remaining time) and of the money (escrow, the seller's share, the
2 % platform fee, the 5 % late-shipment compensation capped at 30 CNY). Nothing is
imported from ``tradeguard.orders.model`` to build the expectation.

After every step the machine checks the real service against the model on the real
database: ``verify_ledger()`` is clean, every order's state, money and timers match,
no escrow is negative, no buyer got back more than paid plus compensation, and
nothing was released twice. It runs once per backend.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select, text

from tradeguard.adapters.storage.tables.deadlines import deadlines
from tradeguard.adapters.storage.uow import SqlUnitOfWork
from tradeguard.bootstrap import App, build_app
from tradeguard.kernel.clock import FakeClock
from tradeguard.kernel.errors import TradeGuardError
from tradeguard.kernel.ids import IdFactory
from tradeguard.kernel.parties import OPERATOR, Party, buyer, seller
from tradeguard.orders.model import GoodsKind, TrackingStatus
from tradeguard.orders.rules import CartLine
from tradeguard.policy import build_policy

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.conftest import Database

SETTINGS = settings(
    max_examples=25,
    stateful_step_count=30,
    deadline=None,
    database=None,  # nothing written outside the test folders
    # Every example resets a real database, so shrinking a failure takes many minutes; the
    # failing run is printed step by step instead. Add Phase.shrink locally to minimise it.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)

DAY = timedelta(days=1)

# -- the reference, by hand from DESIGN.md §4 ------------------------------------------------

AP, PAID, SHIPPED, DELIVERED, COMPLETED, CLOSED = (
    "awaiting_payment",
    "paid",
    "shipped",
    "delivered",
    "completed",
    "closed",
)
RECEIVING = (SHIPPED, DELIVERED)

#: (state, event, actor) -> next state. Guards stated in words by the design are in _guard.
EXPECTED: dict[tuple[str, str, str], str] = {
    # payment, or the unpaid order closes
    (AP, "pay", "operator"): PAID,
    (AP, "expire_payment", "system"): CLOSED,
    (AP, "cancel", "buyer"): CLOSED,
    (AP, "cancel", "seller"): CLOSED,
    (AP, "cancel", "operator"): CLOSED,
    # before shipment the seller side may cancel; the buyer only once the seller is late
    (PAID, "cancel", "seller"): CLOSED,
    (PAID, "cancel", "operator"): CLOSED,
    (PAID, "cancel", "buyer"): CLOSED,
    # physical goods ship, virtual goods are delivered
    (PAID, "ship", "seller"): SHIPPED,
    (PAID, "ship", "operator"): SHIPPED,
    (PAID, "deliver", "seller"): DELIVERED,
    (PAID, "deliver", "operator"): DELIVERED,
    (PAID, "mark_late", "system"): PAID,
    # receipt: by the buyer, or automatically
    (SHIPPED, "confirm_receipt", "buyer"): COMPLETED,
    (DELIVERED, "confirm_receipt", "buyer"): COMPLETED,
    (SHIPPED, "auto_confirm", "system"): COMPLETED,
    (DELIVERED, "auto_confirm", "system"): COMPLETED,
    (SHIPPED, "extend_receipt", "buyer"): SHIPPED,
    (DELIVERED, "extend_receipt", "buyer"): DELIVERED,
    # an open refund or dispute pauses auto-confirm
    (SHIPPED, "pause_auto_confirm", "system"): SHIPPED,
    (DELIVERED, "pause_auto_confirm", "system"): DELIVERED,
    (SHIPPED, "resume_auto_confirm", "system"): SHIPPED,
    (DELIVERED, "resume_auto_confirm", "system"): DELIVERED,
    # tracking events are evidence kept for as long as the order exists
    (SHIPPED, "record_tracking", "operator"): SHIPPED,
    (COMPLETED, "record_tracking", "operator"): COMPLETED,
    (CLOSED, "record_tracking", "operator"): CLOSED,
    # the buyer of a late shipment may claim compensation, before or after the order ends
    **{(s, "claim_late_compensation", "buyer"): s for s in (PAID, *RECEIVING, COMPLETED, CLOSED)},
    # refunds out of escrow (after-sales, disputes); the whole escrow closes the order
    **{(s, "refund", "system"): s for s in (PAID, *RECEIVING)},
    **{(s, "close_refunded", "system"): CLOSED for s in (PAID, *RECEIVING)},
}

PAYMENT_WINDOW = timedelta(hours=72)
SHIP_BY = timedelta(hours=72)
AUTO_CONFIRM_AFTER_SHIPMENT = 10 * DAY
AUTO_CONFIRM_AFTER_DELIVERY = 3 * DAY
EXTENSION = 3 * DAY
EXTEND_WHEN_AT_MOST = 3 * DAY
FEE_BPS = 200
LATE_COMPENSATION_BPS = 500
LATE_COMPENSATION_CAP_MINOR = 30 * 100  # 30 CNY
DEPOSIT_RECOVERY_AFTER = 3 * DAY
DEPOSIT_RECOVERY = "seller.receivable_deposit_recovery"

SELLERS = {"s1": "physical", "s2": "physical", "s3": "virtual"}
BUYERS = ("b1", "b2")


CHECKOUTS = st.fixed_dictionaries(
    {
        "buyer_id": st.sampled_from(BUYERS),
        "sellers": st.lists(st.sampled_from(sorted(SELLERS)), min_size=1, max_size=2, unique=True),
        "quantity": st.integers(1, 3),
        "price": st.integers(1, 80_000),
        "shipping": st.sampled_from([0, 800, 1_200]),
    }
)


def _bps(amount_minor: int, bps: int) -> int:
    share = Decimal(amount_minor) * bps / Decimal(10_000)
    return int(share.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


@dataclass
class Timer:
    """The order's one active deadline in the model."""

    kind: str  # "payment_window", "ship_by", "auto_confirm"
    due: datetime
    paused_remaining: timedelta | None = None


@dataclass
class ModelOrder:
    id: str
    group: str
    buyer: str
    seller: str
    goods: str
    subtotal: int
    shipping: int
    state: str = AP
    paid: int = 0
    released: int = 0
    refunded: int = 0
    ever_paid: bool = False
    has_shipment: bool = False
    is_late: bool = False
    compensation: int = 0
    compensation_paid: bool = False
    compensation_from: str | None = None  # "seller_available", "escrow" or "advance"
    extensions: int = 0
    holds: int = 0
    timer: Timer | None = None

    @property
    def total(self) -> int:
        return self.subtotal + self.shipping

    @property
    def escrow(self) -> int:
        return self.paid - self.released - self.refunded


def _party(order: ModelOrder, actor: str) -> Party:
    if actor == "buyer":
        return buyer(order.buyer)
    if actor == "seller":
        return seller(order.seller)
    return OPERATOR


def _machine_for(database: Database) -> type[RuleBasedStateMachine]:
    class OrderLifecycle(RuleBasedStateMachine):
        """The service agrees with EXPECTED, the timers and the money model after every step."""

        def __init__(self) -> None:
            super().__init__()
            database.reset()
            self.clock = FakeClock()
            self.app: App = build_app(
                engine=database.engine,
                # No default rating: the reviews context then starts no review-window timer, and
                # this machine models the order timers alone.
                policy=build_policy({"reviews": {"default_rating": "none"}}),
                clock=self.clock,
                ids=IdFactory.seeded(7),
                migrate=False,
            )
            for seller_id, goods in SELLERS.items():
                self.app.orders.register_listing(
                    f"l-{seller_id}", seller_id, f"{goods} item", GoodsKind(goods)
                )
            self.model: dict[str, ModelOrder] = {}
            self.funding = dict.fromkeys(BUYERS, 0)
            self.available = dict.fromkeys(SELLERS, 0)
            self.receivable = dict.fromkeys(SELLERS, 0)  # minus what each seller owes
            self.recovery_due: dict[str, datetime] = {}  # seller -> deposit recovery timer
            # The platform's compensation fund backs advances made on sellers' behalf.
            self.app.settlement.top_up_fund(10**9, "CNY", "opening-balance")
            self.fees = 0
            self.refunds = 0

        # -- helpers ------------------------------------------------------------------------

        def now(self) -> datetime:
            return self.clock.now()

        def attempt(self, allowed: bool, action: Callable[[], object], what: str) -> bool:
            refusal: TradeGuardError | None = None
            try:
                action()
            except TradeGuardError as exc:
                refusal = exc
            if allowed:
                assert refusal is None, f"{what} was refused, the design allows it: {refusal!r}"
            else:
                assert refusal is not None, f"{what} was accepted, the design refuses it"
            return refusal is None

        def expected(self, order: ModelOrder, event: str, actor: str) -> str | None:
            target = EXPECTED.get((order.state, event, actor))
            if target is None or not self.guard(order, event, actor):
                return None
            return target

        def guard(self, order: ModelOrder, event: str, actor: str) -> bool:
            if event == "ship":
                return order.goods == "physical"
            if event == "deliver":
                return order.goods == "virtual"
            if event == "cancel" and order.state == PAID and actor == "buyer":
                return order.is_late
            if event == "extend_receipt":
                timer = order.timer
                return (
                    order.extensions == 0
                    and order.holds == 0
                    and timer is not None
                    and max(timedelta(0), timer.due - self.now()) <= EXTEND_WHEN_AT_MOST
                )
            if event == "claim_late_compensation":
                return order.is_late and not order.compensation_paid and order.compensation > 0
            if event == "resume_auto_confirm":
                return order.holds > 0
            if event == "record_tracking":
                return order.has_shipment
            return True

        def release(self, order: ModelOrder) -> None:
            fee = _bps(order.escrow, FEE_BPS)
            self.available[order.seller] += order.escrow - fee
            self.fees += fee
            order.released += order.escrow
            order.state, order.timer = COMPLETED, None
            # A seller who owes the platform for advances repays first from what it earns.
            repaid = min(-self.receivable[order.seller], self.available[order.seller])
            self.available[order.seller] -= repaid
            self.receivable[order.seller] += repaid

        def refund_all(self, order: ModelOrder) -> None:
            self.funding[order.buyer] += order.escrow
            order.refunded += order.escrow
            order.state, order.timer = CLOSED, None
            if order.compensation_from == "escrow":
                # The buyer must not have paid their own compensation: the seller repays it.
                self.funding[order.buyer] += order.compensation
                order.compensation_from = self.charge_seller(order)

        def charge_seller(self, order: ModelOrder) -> str:
            """The seller pays from its available balance, else the platform advances it (§5)."""
            if self.available[order.seller] >= order.compensation:
                self.available[order.seller] -= order.compensation
                return "seller_available"
            self.receivable[order.seller] -= order.compensation
            # Unless later sales repay it first, the seller's deposit will be asked to.
            self.recovery_due.setdefault(order.seller, self.now() + DEPOSIT_RECOVERY_AFTER)
            return "advance"

        def pay_compensation(self, order: ModelOrder) -> None:
            """Compensation is paid by the seller (DESIGN.md §4), out of escrow if it must."""
            self.funding[order.buyer] += order.compensation
            order.compensation_paid = True
            if self.available[order.seller] < order.compensation <= order.escrow:
                order.refunded += order.compensation
                order.compensation_from = "escrow"
            else:
                order.compensation_from = self.charge_seller(order)

        # -- commands, each checked against the reference --------------------------------------

        def pay(self, order: ModelOrder, actor: str = "operator") -> None:
            group = [o for o in self.model.values() if o.group == order.group]
            awaiting = [o for o in group if self.expected(o, "pay", actor) is not None]
            # A retried notification for an already paid group is answered, not refused.
            allowed = bool(awaiting) or (actor == "operator" and any(o.ever_paid for o in group))
            amount = sum(o.total for o in awaiting)
            if self.attempt(
                allowed,
                lambda: self.app.orders.confirm_payment(
                    order.group, amount, "CNY", f"psp-{order.group}", _party(order, actor)
                ),
                f"pay {amount} as {actor} for {len(awaiting)} of {len(group)} orders",
            ):
                for paid in awaiting:
                    self.funding[paid.buyer] -= paid.total
                    paid.paid, paid.ever_paid, paid.state = paid.total, True, PAID
                    paid.timer = Timer("ship_by", self.now() + SHIP_BY)

        def ship(self, order: ModelOrder, actor: str) -> None:
            if self.attempt(
                self.expected(order, "ship", actor) is not None,
                lambda: self.app.orders.ship(
                    order.id, _party(order, actor), carrier="SF", tracking_number=f"SF-{order.id}"
                ),
                f"ship a {order.goods} {order.state} order as {actor}",
            ):
                order.state, order.has_shipment = SHIPPED, True
                order.timer = Timer("auto_confirm", self.now() + AUTO_CONFIRM_AFTER_SHIPMENT)

        def deliver(self, order: ModelOrder, actor: str) -> None:
            if self.attempt(
                self.expected(order, "deliver", actor) is not None,
                lambda: self.app.orders.deliver(
                    order.id, _party(order, actor), detail=f"code for {order.id}"
                ),
                f"deliver a {order.goods} {order.state} order as {actor}",
            ):
                order.state = DELIVERED
                order.timer = Timer("auto_confirm", self.now() + AUTO_CONFIRM_AFTER_DELIVERY)

        def record_tracking(
            self, order: ModelOrder, actor: str, status: TrackingStatus = TrackingStatus.IN_TRANSIT
        ) -> None:
            self.attempt(
                self.expected(order, "record_tracking", actor) is not None,
                lambda: self.app.orders.record_tracking(
                    order.id, _party(order, actor), status=status, occurred_at=self.now()
                ),
                f"record tracking on a {order.state} order as {actor}",
            )

        def confirm_receipt(self, order: ModelOrder, actor: str) -> None:
            if self.attempt(
                self.expected(order, "confirm_receipt", actor) is not None,
                lambda: self.app.orders.confirm_receipt(order.id, _party(order, actor)),
                f"confirm receipt of a {order.state} order as {actor}",
            ):
                self.release(order)

        def extend_receipt(self, order: ModelOrder, actor: str) -> None:
            if self.attempt(
                self.expected(order, "extend_receipt", actor) is not None,
                lambda: self.app.orders.extend_receipt(order.id, _party(order, actor)),
                f"extend receipt of a {order.state} order as {actor}",
            ):
                assert order.timer is not None
                left = max(timedelta(0), order.timer.due - self.now())
                order.timer.due = self.now() + left + EXTENSION
                order.extensions += 1

        def cancel(self, order: ModelOrder, actor: str) -> None:
            if self.attempt(
                self.expected(order, "cancel", actor) is not None,
                lambda: self.app.orders.cancel(order.id, _party(order, actor), "changed mind"),
                f"cancel a {order.state} order as {actor} (late: {order.is_late})",
            ):
                self.refund_all(order)

        def claim_late_compensation(self, order: ModelOrder, actor: str) -> None:
            if self.attempt(
                self.expected(order, "claim_late_compensation", actor) is not None,
                lambda: self.app.orders.claim_late_compensation(order.id, _party(order, actor)),
                f"claim compensation on a {order.state} order as {actor} (late: {order.is_late})",
            ):
                self.pay_compensation(order)

        def pause_auto_confirm(self, order: ModelOrder, actor: str = "system") -> None:
            if self.attempt(
                self.expected(order, "pause_auto_confirm", "system") is not None,
                lambda: self.app.orders.pause(order.id, "refund requested"),
                f"pause auto-confirm of a {order.state} order",
            ):
                order.holds += 1
                timer = order.timer
                if order.holds == 1 and timer is not None:
                    timer.paused_remaining = max(timedelta(0), timer.due - self.now())

        def resume_auto_confirm(self, order: ModelOrder, actor: str = "system") -> None:
            if self.attempt(
                self.expected(order, "resume_auto_confirm", "system") is not None,
                lambda: self.app.orders.resume(order.id, "refund closed"),
                f"resume auto-confirm of a {order.state} order with {order.holds} holds",
            ):
                order.holds -= 1
                timer = order.timer
                if order.holds == 0 and timer is not None and timer.paused_remaining is not None:
                    timer.due, timer.paused_remaining = self.now() + timer.paused_remaining, None

        def refund_from_escrow(
            self, order: ModelOrder, actor: str = "system", share: int = 10_000
        ) -> None:
            self.refunds += 1
            reference = f"refund-{self.refunds}"
            amount = max(1, order.escrow * share // 10_000)
            event = "close_refunded" if amount == order.escrow else "refund"
            allowed = order.escrow > 0 and self.expected(order, event, "system") is not None

            def refund(uow: SqlUnitOfWork) -> object:
                return self.app.orders.refund_from_escrow(
                    uow, order.id, amount, reference, "after-sales"
                )

            if self.attempt(
                allowed,
                lambda: self.app.units.run(refund),
                f"refund {amount} of {order.escrow} from a {order.state} order",
            ):
                if event == "close_refunded":
                    self.refund_all(order)
                else:
                    self.funding[order.buyer] += amount
                    order.refunded += amount

        # -- rules: mostly commands that can succeed, and any command on any order ------------

        def checkout(
            self, buyer_id: str, sellers: list[str], quantity: int, price: int, shipping: int
        ) -> ModelOrder:
            lines = [CartLine(f"l-{s}", quantity, price + n) for n, s in enumerate(sellers)]
            fees = {s: shipping for s in sellers if SELLERS[s] == "physical"}
            checkout = self.app.orders.create_checkout(buyer_id, "CNY", lines, fees)
            by_seller = {o.seller_id: o for o in checkout.orders}
            assert sorted(by_seller) == sorted(sellers)
            for n, seller_id in enumerate(sellers):
                created = by_seller[seller_id]
                subtotal, fee = quantity * (price + n), fees.get(seller_id, 0)
                assert (created.state, created.total_minor) == (AP, subtotal + fee)
                self.model[created.id] = ModelOrder(
                    created.id,
                    checkout.payment_group_id,
                    buyer_id,
                    seller_id,
                    SELLERS[seller_id],
                    subtotal,
                    fee,
                    timer=Timer("payment_window", self.now() + PAYMENT_WINDOW),
                )
            return self.model[created.id]

        @initialize(carts=st.lists(st.tuples(CHECKOUTS, st.booleans()), min_size=1, max_size=3))
        def open_shop(self, carts: list[tuple[dict[str, Any], bool]]) -> None:
            for cart, pay_now in carts:
                order = self.checkout(**cart)
                if pay_now:
                    self.pay(order)

        @precondition(
            lambda self: sum(o.state not in (COMPLETED, CLOSED) for o in self.model.values()) < 4
        )
        @rule(cart=CHECKOUTS)
        def create_checkout(self, cart: dict[str, Any]) -> None:
            self.checkout(**cart)

        def natural_commands(self, order: ModelOrder) -> list[tuple[str, str]]:
            """What the parties of an order in this state would typically try next."""
            options: list[tuple[str, str]] = []
            if order.state == AP:
                options += [("pay", "operator")] * 3 + [("cancel", "buyer"), ("cancel", "seller")]
            elif order.state == PAID:
                fulfil = "ship" if order.goods == "physical" else "deliver"
                options += [(fulfil, "seller")] * 2 + [(fulfil, "operator")]
                options += [("cancel", "seller"), ("cancel", "buyer"), ("cancel", "operator")]
                options += [("refund_from_escrow", "system")]
            elif order.state in RECEIVING:
                options += [("confirm_receipt", "buyer"), ("extend_receipt", "buyer")]
                if order.timer and order.timer.due - self.now() <= EXTEND_WHEN_AT_MOST:
                    options += [("extend_receipt", "buyer")] * 3  # the buyer runs out of time
                options += [("pause_auto_confirm", "system"), ("resume_auto_confirm", "system")]
                options += [("refund_from_escrow", "system")]
            if order.has_shipment:
                options += [("record_tracking", "operator")]
            if order.is_late and not order.compensation_paid:
                options += [("claim_late_compensation", "buyer")] * 3
            return options or [("claim_late_compensation", "buyer")]

        @precondition(lambda self: bool(self.model))
        @rule(data=st.data())
        def progress(self, data: st.DataObject) -> None:
            open_orders = [o for o in self.model.values() if o.state not in (COMPLETED, CLOSED)]
            order = data.draw(st.sampled_from(open_orders or list(self.model.values())))
            command, actor = data.draw(st.sampled_from(self.natural_commands(order)))
            if command == "refund_from_escrow":
                share = data.draw(st.one_of(st.just(10_000), st.integers(1, 9_999)), label="share")
                self.refund_from_escrow(order, actor, share)
            elif command == "record_tracking":
                status = data.draw(st.sampled_from(list(TrackingStatus)), label="status")
                self.record_tracking(order, actor, status)
            else:
                getattr(self, command)(order, actor)

        @precondition(lambda self: bool(self.model))
        @rule(
            data=st.data(),
            command=st.sampled_from(
                [
                    "pay",
                    "ship",
                    "deliver",
                    "record_tracking",
                    "confirm_receipt",
                    "extend_receipt",
                    "cancel",
                    "claim_late_compensation",
                    "pause_auto_confirm",
                    "resume_auto_confirm",
                    "refund_from_escrow",
                ]
            ),
            actor=st.sampled_from(["buyer", "seller", "operator"]),
        )
        def any_command(self, data: st.DataObject, command: str, actor: str) -> None:
            order = data.draw(st.sampled_from(list(self.model.values())), label="order")
            getattr(self, command)(order, actor)

        @rule(
            hours=st.one_of(st.integers(1, 30), st.integers(1, 12).map(lambda d: 24 * d)),
            then_run_worker=st.booleans(),
        )
        def advance_clock(self, hours: int, then_run_worker: bool) -> None:
            self.clock.advance(timedelta(hours=hours))
            if then_run_worker:
                self.run_worker()

        @rule()
        def run_worker(self) -> None:
            now, fired = self.now(), 0
            for order in self.model.values():
                timer = order.timer
                if timer is None or timer.paused_remaining is not None or timer.due > now:
                    continue
                fired += 1
                if timer.kind == "payment_window":
                    assert self.expected(order, "expire_payment", "system") == CLOSED
                    order.state, order.timer = CLOSED, None
                elif timer.kind == "ship_by":
                    assert self.expected(order, "mark_late", "system") == PAID
                    order.is_late, order.timer = True, None
                    order.compensation = min(
                        _bps(order.subtotal, LATE_COMPENSATION_BPS), LATE_COMPENSATION_CAP_MINOR
                    )
                else:
                    assert self.expected(order, "auto_confirm", "system") == COMPLETED
                    self.release(order)
            # A deposit recovery finds no deposit to take from (none was posted): obsolete.
            recoveries = [s for s, due in self.recovery_due.items() if due <= now]
            for seller_id in recoveries:
                del self.recovery_due[seller_id]
            report = self.app.run_deadlines()
            assert report.failed == 0, report
            assert (report.fired, report.obsolete) == (fired, len(recoveries)), report

        # -- what must hold after every step ------------------------------------------------

        @invariant()
        def ledger_verifies(self) -> None:
            assert self.app.verify_ledger() == []

        @invariant()
        def orders_match_the_model(self) -> None:
            with database.engine.connect() as conn:
                rows = conn.execute(
                    text(
                        "SELECT id, state, paid_minor, released_minor, refunded_minor, is_late, "
                        "late_compensation_paid, receipt_extensions, auto_confirm_holds FROM orders"
                    )
                ).all()
            actual = {
                r.id: (
                    r.state,
                    r.paid_minor,
                    r.released_minor,
                    r.refunded_minor,
                    bool(r.is_late),
                    bool(r.late_compensation_paid),
                    r.receipt_extensions,
                    r.auto_confirm_holds,
                )
                for r in rows
            }
            expected = {
                o.id: (
                    o.state,
                    o.paid,
                    o.released,
                    o.refunded,
                    o.is_late,
                    o.compensation_paid,
                    o.extensions,
                    o.holds,
                )
                for o in self.model.values()
            }
            assert actual == expected

        @invariant()
        def timers_match_the_model(self) -> None:
            with database.engine.connect() as conn:
                rows = conn.execute(
                    select(
                        deadlines.c.subject,
                        deadlines.c.kind,
                        deadlines.c.state,
                        deadlines.c.due_at,
                        deadlines.c.remaining_on_pause_ms,
                    ).where(deadlines.c.state.in_(["pending", "paused"]))
                ).all()
            actual: dict[str, tuple[str, str, object]] = {}
            for r in rows:
                assert r.subject not in actual, f"two active timers for {r.subject}"
                when = r.remaining_on_pause_ms if r.state == "paused" else r.due_at
                actual[r.subject] = (r.kind, r.state, when)
            expected: dict[str, tuple[str, str, object]] = {}
            for o in self.model.values():
                timer = o.timer
                if timer is None:
                    continue
                if timer.paused_remaining is not None:
                    ms = int(timer.paused_remaining / timedelta(milliseconds=1))
                    expected[f"order:{o.id}"] = (f"order.{timer.kind}", "paused", ms)
                else:
                    expected[f"order:{o.id}"] = (f"order.{timer.kind}", "pending", timer.due)
            for seller_id, due in self.recovery_due.items():
                expected[f"seller:{seller_id}"] = (DEPOSIT_RECOVERY, "pending", due)
            assert actual == expected

        @invariant()
        def money_matches_the_model(self) -> None:
            balances = {b.address: b.balance_minor for b in self.app.balances()}
            escrows = {a: v for a, v in balances.items() if a.startswith("escrow:")}
            assert all(v >= 0 for v in escrows.values()), escrows
            for o in self.model.values():
                assert o.escrow >= 0
                assert balances.get(f"escrow:order:{o.id}", 0) == o.escrow
            for buyer_id, expected_balance in self.funding.items():
                assert balances.get(f"buyer:{buyer_id}:funding", 0) == expected_balance
            for seller_id, expected_balance in self.available.items():
                assert balances.get(f"seller:{seller_id}:available", 0) == expected_balance
            for seller_id, owed in self.receivable.items():
                assert balances.get(f"platform:receivable:seller:{seller_id}", 0) == owed
            fees = sum(v for a, v in balances.items() if a.startswith("platform:fees"))
            assert fees == self.fees

        @invariant()
        def buyers_never_get_back_more_than_paid_plus_compensation(self) -> None:
            with database.engine.connect() as conn:
                rows = conn.execute(
                    text(
                        "SELECT a.address, "
                        "SUM(CASE WHEN t.destination_account_id = a.id THEN t.amount_minor ELSE 0 END) AS got, "
                        "SUM(CASE WHEN t.source_account_id = a.id THEN t.amount_minor ELSE 0 END) AS paid "
                        "FROM ledger_accounts a JOIN ledger_transfers t "
                        "ON a.id IN (t.source_account_id, t.destination_account_id) "
                        "WHERE a.kind = 'buyer_funding' GROUP BY a.address"
                    )
                ).all()
            for address, got, paid in rows:
                buyer_id = address.split(":")[1]
                compensation = sum(
                    o.compensation
                    for o in self.model.values()
                    if o.buyer == buyer_id and o.compensation_paid
                )
                assert got <= paid + compensation, (address, got, paid, compensation)

        @invariant()
        def nothing_is_released_twice(self) -> None:
            with database.engine.connect() as conn:
                twice = conn.execute(
                    text(
                        "SELECT reference, reason, COUNT(*) FROM ledger_transfers "
                        "WHERE reason IN ('escrow_release', 'platform_fee', 'late_shipment_compensation') "
                        "GROUP BY reference, reason HAVING COUNT(*) > 1"
                    )
                ).all()
            assert twice == []
            for o in self.model.values():
                assert o.released + o.refunded <= o.paid

    return OrderLifecycle


def test_order_lifecycle_agrees_with_the_reference_model(database: Database) -> None:
    # given: a machine bound to this backend's database, reset for every example
    machine = _machine_for(database)
    # when / then
    run_state_machine_as_test(machine, settings=SETTINGS)
