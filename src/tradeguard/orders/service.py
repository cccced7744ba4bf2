"""Order use cases: each runs in one unit of work and changes state only through ``_apply``.

``_apply`` is the one place an order's state is assigned: it fires the
transition table, checks the row's guard, then interprets the row's effects in
order (transfers through the ledger, timers through deadlines, facts into the
outbox) before writing the order back. Everything commits together or not at
all, so a refused request leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar

from tradeguard.deadlines import service as deadlines
from tradeguard.deadlines.model import Deadline, NewDeadline, Outcome
from tradeguard.events import service as events
from tradeguard.events.model import DomainEvent, StoredEvent
from tradeguard.kernel.errors import (
    AlreadyExists,
    Conflict,
    Forbidden,
    NotFound,
    TransitionNotAllowed,
    ValidationFailed,
)
from tradeguard.kernel.ids import IdFactory
from tradeguard.kernel.money import Money, check_currency
from tradeguard.kernel.parties import Actor, Party
from tradeguard.kernel.runtime import Runtime
from tradeguard.kernel.uow import UnitOfWorkRunner
from tradeguard.ledger import service as ledger
from tradeguard.ledger.errors import IdempotencyKeyReused
from tradeguard.ledger.model import AccountKey, TransferReason, TransferRequest
from tradeguard.orders import rules
from tradeguard.orders.errors import ListingConflict, PaymentMismatch
from tradeguard.orders.model import (
    EVENT_TYPES,
    ORDER_TRANSITIONS,
    PAYOUT_TRANSITIONS,
    DeadlineKind,
    DeliveryRecord,
    GoodsKind,
    Guard,
    Listing,
    Order,
    OrderEffect,
    OrderEvent,
    OrderLine,
    OrderState,
    PaymentGroup,
    Payout,
    PayoutEvent,
    PayoutState,
    Shipment,
    TrackingEvent,
    TrackingStatus,
)
from tradeguard.orders.policy import OrderPolicy
from tradeguard.orders.ports import OrderFilter, OrdersUnitOfWork
from tradeguard.orders.settlement import SettlementService, receivable_account

T = TypeVar("T")

_RECEIVING = frozenset({OrderState.SHIPPED, OrderState.DELIVERED})


@dataclass(slots=True)
class _Intent:
    """The data an event carries into its effects."""

    shipment: Shipment | None = None
    delivery: DeliveryRecord | None = None
    tracking: TrackingEvent | None = None
    payment_reference: str | None = None
    refund_minor: int = 0
    refund_reference: str | None = None
    refund_destination: str | None = None  #: default: the buyer's funding account
    reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class _Step:
    """What one transition collects while its effects run: timers to write, facts to report."""

    now: datetime
    cancel_timers: bool = False
    new_timers: list[NewDeadline] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Checkout:
    """The orders a checkout created, one per seller, under one payment group."""

    payment_group_id: str
    orders: list[Order]

    @property
    def total_minor(self) -> int:
        """What the buyer pays for the whole checkout."""
        return sum(o.total_minor for o in self.orders)


@dataclass(frozen=True, slots=True)
class OrderDetails:
    """An order with everything recorded about it, as a participant or staff may read it."""

    order: Order
    shipments: list[Shipment]
    tracking_events: list[TrackingEvent]
    delivery_records: list[DeliveryRecord]
    deadlines: list[Deadline]

    @property
    def auto_confirm_at(self) -> datetime | None:
        """When the order will auto-confirm, if counting (None while paused or not started)."""
        return self.order.auto_confirm_at

    @property
    def auto_confirm_paused(self) -> bool:
        """True while an open refund or dispute holds auto-confirm."""
        return self.order.auto_confirm_holds > 0

    @property
    def ship_by_at(self) -> datetime | None:
        """When the seller must have shipped."""
        return self.order.ship_by_at


def order_snapshot(order: Order) -> dict[str, Any]:
    """The order as event data: ids, state and money in minor units."""
    return {
        "order_id": order.id,
        "payment_group_id": order.payment_group_id,
        "buyer_id": order.buyer_id,
        "seller_id": order.seller_id,
        "state": order.state.value,
        "goods_kind": order.goods_kind.value,
        "currency": order.currency,
        "total_minor": order.total_minor,
        "escrow_minor": order.escrow_minor,
    }


class OrderService:
    """Use cases of the guaranteed transaction (DESIGN.md §4)."""

    def __init__(
        self,
        units: UnitOfWorkRunner[OrdersUnitOfWork],
        runtime: Runtime,
        policy: OrderPolicy,
        settlement: SettlementService,
    ) -> None:
        self._units = units
        self._rt = runtime
        self._policy = policy
        self._settlement = settlement
        #: Called in the same unit of work when an order completes (e.g. reviews start their window).
        self.completion_listeners: list[Callable[[OrdersUnitOfWork, Order, datetime], None]] = []

    @property
    def settlement(self) -> SettlementService:
        """Seller-funded payments, advances and payout holds."""
        return self._settlement

    @property
    def policy(self) -> OrderPolicy:
        """The order policy in force."""
        return self._policy

    # -- listings -------------------------------------------------------------------------------

    def register_listing(
        self,
        listing_id: str,
        seller_id: str,
        title: str,
        goods_kind: GoodsKind,
        purchase_limit_per_buyer: int | None = None,
    ) -> Listing:
        """Register or update a listing (operator). A listing never changes seller."""
        if purchase_limit_per_buyer is not None and purchase_limit_per_buyer < 1:
            raise ValidationFailed("A purchase limit is at least 1 per buyer.")
        _check_id("listing_id", listing_id)
        _check_id("seller_id", seller_id)

        def work(uow: OrdersUnitOfWork) -> Listing:
            now = self._rt.clock.now()
            existing = uow.orders.get_listings([listing_id], lock=True).get(listing_id)
            if existing is not None and existing.seller_id != seller_id:
                raise ListingConflict(
                    f"Listing {listing_id} belongs to another seller.", listing_id=listing_id
                )
            listing = Listing(
                listing_id,
                seller_id,
                title,
                GoodsKind(goods_kind),
                purchase_limit_per_buyer,
                existing.created_at if existing else now,
                now,
            )
            uow.orders.save_listing(listing)
            return listing

        return self._units.run(work)

    def get_listing(self, listing_id: str) -> Listing:
        """A listing by id."""
        listing = self._units.run(lambda uow: uow.orders.get_listings([listing_id]).get(listing_id))
        if listing is None:
            raise NotFound("listing", listing_id)
        return listing

    # -- checkout and payment -------------------------------------------------------------------

    def create_checkout(
        self,
        buyer_id: str,
        currency: str,
        lines: Sequence[rules.CartLine],
        shipping_fees: Mapping[str, int] | None = None,
        *,
        request_key: str | None = None,
    ) -> Checkout:
        """Create one order per seller under one payment group, awaiting payment (operator).

        Purchase limits are checked here, at creation, so a second "one per ID"
        purchase is refused outright instead of being left for a complaint (seed 002).
        With a ``request_key`` (the API passes the caller's Idempotency-Key) the
        payment group id is derived from it, so a retried request can never create
        the checkout twice, even after a crash between commit and response.
        """
        check_currency(currency)
        _check_id("buyer_id", buyer_id)
        listing_ids = sorted({line.listing_id for line in lines})
        group_id = IdFactory.derived("pg", request_key) if request_key else None

        def existing(uow: OrdersUnitOfWork) -> Checkout | None:
            if group_id is None:
                return None
            orders = [
                o
                for o in (
                    uow.orders.get(order.id, with_lines=True)
                    for order in uow.orders.in_group(group_id)
                )
                if o is not None
            ]
            return Checkout(group_id, orders) if orders else None

        def work(uow: OrdersUnitOfWork) -> Checkout:
            replay = existing(uow)
            if replay is not None:
                return replay
            now = self._rt.clock.now()
            listings = uow.orders.get_listings(listing_ids)
            missing = [i for i in listing_ids if i not in listings]
            if missing:
                raise NotFound("listing", missing[0])
            limited = [i for i in listing_ids if listings[i].purchase_limit_per_buyer is not None]
            if limited:
                # Serialise purchases of limited listings so two simultaneous orders cannot both pass.
                listings.update(uow.orders.get_listings(limited, lock=True))
            parts = rules.split_cart(
                lines, listings, shipping_fees or {}, max_lines=self._policy.max_lines_per_order
            )
            for listing_id in limited:
                requested = sum(line.quantity for line in lines if line.listing_id == listing_id)
                rules.check_purchase_limit(
                    listings[listing_id],
                    uow.orders.bought_quantity(buyer_id, listing_id),
                    requested,
                )
            group = PaymentGroup(group_id or self._rt.ids.new("pg", now), buyer_id, currency, now)
            orders = []
            for part in parts:
                order = Order(
                    id=self._rt.ids.new("ord", now),
                    payment_group_id=group.id,
                    buyer_id=buyer_id,
                    seller_id=part.seller_id,
                    currency=currency,
                    goods_kind=part.goods_kind,
                    state=OrderState.AWAITING_PAYMENT,
                    subtotal_minor=part.subtotal_minor,
                    shipping_fee_minor=part.shipping_fee_minor,
                    fee_bps=self._policy.platform_fee_bps,
                    created_at=now,
                    updated_at=now,
                    lines=[
                        OrderLine(
                            n, listing.id, listing.title, line.quantity, line.unit_price_minor
                        )
                        for n, (line, listing) in enumerate(part.lines, start=1)
                    ],
                )
                orders.append(order)
            uow.orders.insert_orders(orders)
            due = self._rt.calendar.add(now, self._policy.payment_window)
            deadlines.schedule(
                uow.deadlines,
                [NewDeadline(DeadlineKind.PAYMENT_WINDOW, o.subject, due) for o in orders],
                now,
            )
            events.record(
                uow.outbox,
                [
                    DomainEvent(
                        "order.created",
                        o.subject,
                        {**order_snapshot(o), "lines": _lines_data(o)},
                        o.id,
                    )
                    for o in orders
                ],
                self._rt.ids,
                now,
            )
            return Checkout(group.id, orders)

        try:
            return self._units.run(work)
        except AlreadyExists:
            # A concurrent twin with the same request key won the race: answer with its checkout.
            replay = self._units.run(existing)
            if replay is None:
                raise
            return replay

    def confirm_payment(
        self,
        payment_group_id: str,
        amount_minor: int,
        currency: str,
        payment_reference: str,
        party: Party,
    ) -> list[Order]:
        """The payment provider captured the buyer's money: escrow each order's share (operator).

        Confirming the same payment reference again returns the orders unchanged,
        so a payment provider's retried notification never holds money twice.
        """
        _require(party, {Actor.OPERATOR})
        if not payment_reference:
            raise ValidationFailed("A payment needs the provider's reference.")

        def work(uow: OrdersUnitOfWork) -> list[Order]:
            orders, used_by = uow.orders.group_for_payment(payment_group_id, payment_reference)
            if not orders:
                raise NotFound("payment group", payment_group_id)
            if currency != orders[0].currency:
                raise PaymentMismatch(
                    f"The payment is in {currency}; the orders are in {orders[0].currency}.",
                    expected_currency=orders[0].currency,
                )
            awaiting = [o for o in orders if o.state == OrderState.AWAITING_PAYMENT]
            already_paid = [o for o in orders if o.paid_at is not None]
            if not awaiting:
                if already_paid and all(
                    o.payment_reference == payment_reference for o in already_paid
                ):
                    return orders
                raise Conflict(
                    f"Payment group {payment_group_id} has no order awaiting payment; refund this payment.",
                    payment_group_id=payment_group_id,
                )
            if used_by is not None and used_by != payment_group_id:
                # One captured payment cannot pay two checkouts: that would escrow money twice.
                raise Conflict(
                    f"Payment reference {payment_reference} already paid payment group {used_by}.",
                    payment_reference=payment_reference,
                )
            expected = sum(o.total_minor for o in awaiting)
            if amount_minor != expected:
                raise PaymentMismatch(
                    f"The payment of {amount_minor} does not match the {expected} the orders awaiting payment cost.",
                    expected_minor=expected,
                    amount_minor=amount_minor,
                )
            for order in awaiting:
                self._apply(
                    uow, order, OrderEvent.PAY, party, _Intent(payment_reference=payment_reference)
                )
            return orders

        return self._units.run(work)

    # -- fulfilment -----------------------------------------------------------------------------

    def ship(
        self,
        order_id: str,
        party: Party,
        *,
        carrier: str,
        tracking_number: str,
        serial_numbers: Sequence[str] = (),
    ) -> Order:
        """The seller hands physical goods to a carrier; auto-confirm starts counting."""
        if not carrier or not tracking_number:
            raise ValidationFailed("A shipment needs a carrier and a tracking number.")

        def intent(order: Order, now: datetime) -> _Intent:
            shipment = Shipment(
                self._rt.ids.new("shp", now),
                order.id,
                "outbound",
                carrier,
                tracking_number,
                tuple(serial_numbers),
                now,
            )
            return _Intent(shipment=shipment)

        return self._act(order_id, OrderEvent.SHIP, party, intent)

    def deliver(
        self, order_id: str, party: Party, *, method: str = "automatic", detail: str
    ) -> Order:
        """Virtual goods were delivered; keep the delivery record as evidence (seed 002)."""
        if method not in ("automatic", "manual"):
            raise ValidationFailed("A delivery method is 'automatic' or 'manual'.")
        if not detail:
            raise ValidationFailed(
                "A delivery record needs a detail (what was delivered, to which account)."
            )

        def intent(order: Order, now: datetime) -> _Intent:
            record = DeliveryRecord(
                self._rt.ids.new("dlv", now), order.id, method, detail, now, str(party)
            )
            return _Intent(delivery=record)

        return self._act(order_id, OrderEvent.DELIVER, party, intent)

    def record_tracking(
        self,
        order_id: str,
        party: Party,
        *,
        status: TrackingStatus,
        occurred_at: datetime,
        location: str | None = None,
        detail: str | None = None,
    ) -> Order:
        """Keep a carrier scan as system evidence; a delivery scan may start eBay-style auto-confirm."""

        def intent(order: Order, now: datetime) -> _Intent:
            event = TrackingEvent(
                self._rt.ids.new("trk", now),
                order.id,
                None,
                TrackingStatus(status),
                occurred_at,
                location,
                detail,
                now,
            )
            return _Intent(tracking=event)

        return self._act(order_id, OrderEvent.RECORD_TRACKING, party, intent)

    # -- receipt --------------------------------------------------------------------------------

    def confirm_receipt(self, order_id: str, party: Party) -> Order:
        """The buyer confirms receipt: the order completes and escrow is released."""
        return self._act(order_id, OrderEvent.CONFIRM_RECEIPT, party)

    def extend_receipt(self, order_id: str, party: Party) -> Order:
        """The buyer buys time before auto-confirm, once, when little time remains."""
        return self._act(order_id, OrderEvent.EXTEND_RECEIPT, party)

    def cancel(self, order_id: str, party: Party, reason: str = "") -> Order:
        """Close an order before shipment; paid money goes back to the buyer."""
        return self._act(
            order_id, OrderEvent.CANCEL, party, lambda o, n: _Intent(reason=reason or None)
        )

    def claim_late_compensation(self, order_id: str, party: Party) -> Order:
        """The buyer of a late shipment takes the compensation the seller owes (DESIGN.md §4)."""
        return self._act(order_id, OrderEvent.CLAIM_LATE_COMPENSATION, party)

    # -- hooks for after-sales and disputes, within their unit of work ------------------------

    def pause_auto_confirm(self, uow: OrdersUnitOfWork, order_id: str, reason: str) -> Order:
        """Hold auto-confirm while a refund or dispute is open; holds nest and each is resumed once."""
        return self._act_in(
            uow, order_id, OrderEvent.PAUSE_AUTO_CONFIRM, _SYSTEM, _Intent(reason=reason)
        )

    def resume_auto_confirm(self, uow: OrdersUnitOfWork, order_id: str, reason: str) -> Order:
        """Release one hold; when none is left, auto-confirm resumes with the time it had left."""
        return self._act_in(
            uow, order_id, OrderEvent.RESUME_AUTO_CONFIRM, _SYSTEM, _Intent(reason=reason)
        )

    def refund_from_escrow(
        self,
        uow: OrdersUnitOfWork,
        order_id: str,
        amount_minor: int,
        reference: str,
        reason: str,
        *,
        destination: str | None = None,
    ) -> Order:
        """Return part of the escrow to the buyer; the whole escrow closes the order.

        The ``reference`` names the refund: asking again with the same reference
        (a retry) finds the refund already made and changes nothing. A
        ``destination`` other than the buyer's funding account (the compensation
        fund taking back an instant refund it paid the buyer earlier) still counts
        as refunded: the buyer has the money either way.
        """
        order = self._load(uow, order_id, _SYSTEM)
        key = f"order:{order.id}:refund:{reference}"
        earlier = uow.ledger.find_transfers([key]).get(key)
        if earlier is not None:
            if earlier.amount.amount_minor != amount_minor:
                raise IdempotencyKeyReused(key)
            return order
        if amount_minor <= 0 or amount_minor > order.escrow_minor:
            raise ValidationFailed(
                f"A refund from escrow is between 1 and {order.escrow_minor} minor units.",
                escrow_minor=order.escrow_minor,
            )
        intent = _Intent(
            refund_minor=amount_minor,
            refund_reference=reference,
            refund_destination=destination,
            reason=reason,
        )
        event = (
            OrderEvent.CLOSE_REFUNDED if amount_minor == order.escrow_minor else OrderEvent.REFUND
        )
        return self._apply(uow, order, event, _SYSTEM, intent)

    def pause(self, order_id: str, reason: str) -> Order:
        """Pause auto-confirm in a unit of work of its own (for callers outside one)."""
        return self._units.run(lambda uow: self.pause_auto_confirm(uow, order_id, reason))

    def resume(self, order_id: str, reason: str) -> Order:
        """Resume auto-confirm in a unit of work of its own."""
        return self._units.run(lambda uow: self.resume_auto_confirm(uow, order_id, reason))

    # -- reads ----------------------------------------------------------------------------------

    def get(self, order_id: str, party: Party) -> OrderDetails:
        """An order and its records; participants see only their own orders."""

        def work(uow: OrdersUnitOfWork) -> OrderDetails:
            order = self._load(uow, order_id, party, lock=False, with_lines=True)
            return OrderDetails(
                order,
                uow.orders.shipments(order.id),
                uow.orders.tracking_events(order.id),
                uow.orders.delivery_records(order.id),
                uow.deadlines.active(order.subject),
            )

        return self._units.run(work)

    def timeline(
        self, order_id: str, party: Party, *, after: int = 0, limit: int = 200
    ) -> list[StoredEvent]:
        """The order's events in the order they happened; participants see only their own orders."""

        def work(uow: OrdersUnitOfWork) -> list[StoredEvent]:
            order = self._load(uow, order_id, party, lock=False)
            return uow.outbox.for_order(order.id, after=after, limit=max(1, min(limit, 500)))

        return self._units.run(work)

    def find(
        self, party: Party, where: OrderFilter, *, before_id: str | None = None, limit: int = 50
    ) -> list[Order]:
        """Orders newest first; a buyer or seller sees only their own."""
        if party.actor == Actor.BUYER:
            where = replace(where, buyer_id=party.id)
        elif party.actor == Actor.SELLER:
            where = replace(where, seller_id=party.id)
        limit = max(1, min(limit, 200))
        return self._units.run(lambda uow: uow.orders.find(where, before_id=before_id, limit=limit))

    # -- deadlines ------------------------------------------------------------------------------

    def deadline_handlers(
        self,
    ) -> dict[str, Callable[[OrdersUnitOfWork, Deadline, datetime], Outcome]]:
        """The order's timer handlers, by deadline kind, for the deadline worker."""
        return {
            DeadlineKind.PAYMENT_WINDOW: self._on_timer(OrderEvent.EXPIRE_PAYMENT),
            DeadlineKind.SHIP_BY: self._on_timer(OrderEvent.MARK_LATE),
            DeadlineKind.AUTO_CONFIRM: self._on_timer(OrderEvent.AUTO_CONFIRM),
        }

    def reminder_handlers(
        self,
    ) -> dict[str, Callable[[OrdersUnitOfWork, Deadline, datetime], Outcome]]:
        """Reminder handlers (DESIGN.md §4: ship-by -24 h, auto-confirm -2 days), by deadline kind."""
        return {
            DeadlineKind.SHIP_BY: self._on_reminder("order.ship_by_reminder", {OrderState.PAID}),
            DeadlineKind.AUTO_CONFIRM: self._on_reminder("order.auto_confirm_reminder", _RECEIVING),
        }

    def _on_timer(
        self, event: OrderEvent
    ) -> Callable[[OrdersUnitOfWork, Deadline, datetime], Outcome]:
        def handle(uow: OrdersUnitOfWork, deadline: Deadline, now: datetime) -> Outcome:
            return deadlines.fire_transition(
                uow.orders.get(deadline.subject_id, lock=True),
                lambda order: self._apply(uow, order, event, _SYSTEM, _Intent()),
            )

        return handle

    def _on_reminder(
        self, event_type: str, states: Collection[OrderState]
    ) -> Callable[[OrdersUnitOfWork, Deadline, datetime], Outcome]:
        def handle(uow: OrdersUnitOfWork, deadline: Deadline, now: datetime) -> Outcome:
            order = uow.orders.get(deadline.subject_id)
            if order is None or order.state not in states:
                return Outcome.OBSOLETE
            data = {**order_snapshot(order), "due_at": deadline.due_at.isoformat()}
            events.record(
                uow.outbox,
                [DomainEvent(event_type, order.subject, data, order.id)],
                self._rt.ids,
                now,
            )
            return Outcome.FIRED

        return handle

    # -- the one place state changes ------------------------------------------------------------

    def _act(
        self,
        order_id: str,
        event: OrderEvent,
        party: Party,
        intent: Callable[[Order, datetime], _Intent] | None = None,
    ) -> Order:
        def work(uow: OrdersUnitOfWork) -> Order:
            order = self._load(uow, order_id, party)
            data = intent(order, self._rt.clock.now()) if intent else _Intent()
            return self._apply(uow, order, event, party, data)

        return self._units.run(work)

    def _act_in(
        self, uow: OrdersUnitOfWork, order_id: str, event: OrderEvent, party: Party, intent: _Intent
    ) -> Order:
        return self._apply(uow, self._load(uow, order_id, party), event, party, intent)

    def _load(
        self,
        uow: OrdersUnitOfWork,
        order_id: str,
        party: Party,
        *,
        lock: bool = True,
        with_lines: bool = False,
    ) -> Order:
        order = uow.orders.get(order_id, lock=lock, with_lines=with_lines)
        if order is None or not _may_see(order, party):
            raise NotFound("order", order_id)
        return order

    def _apply(
        self, uow: OrdersUnitOfWork, order: Order, event: OrderEvent, party: Party, intent: _Intent
    ) -> Order:
        now = self._rt.clock.now()
        row = ORDER_TRANSITIONS.fire(order.state, event, party.actor)
        if row.guard is not None and not self._guard_holds(uow, order, Guard(row.guard), now):
            raise TransitionNotAllowed("order", order.state, event, party.actor, row.guard)
        step = _Step(now)
        order.state = row.target
        order.updated_at = now
        for effect in row.effects:
            self._effect(uow, order, effect, intent, step)
        self._flush_timers(uow, order, step)
        if row.target != row.source:
            if row.target == OrderState.COMPLETED:
                order.completed_by = "auto_confirm" if event == OrderEvent.AUTO_CONFIRM else "buyer"
            elif row.target == OrderState.CLOSED:
                order.closed_at = now
                order.close_reason = _CLOSE_REASONS.get(event) or f"cancelled_by_{party.actor}"
        uow.orders.update(order)
        if row.target == OrderState.COMPLETED and row.source != row.target:
            for listener in self.completion_listeners:
                listener(uow, order, now)
        data = {
            **order_snapshot(order),
            "event": event.value,
            "actor": party.actor.value,
            **step.facts,
        }
        if intent.reason:
            data["reason"] = intent.reason
        events.record(
            uow.outbox,
            [DomainEvent(EVENT_TYPES[event], order.subject, data, order.id)],
            self._rt.ids,
            now,
        )
        return order

    def _guard_holds(
        self, uow: OrdersUnitOfWork, order: Order, guard: Guard, now: datetime
    ) -> bool:
        if guard == Guard.PHYSICAL:
            return order.goods_kind == GoodsKind.PHYSICAL
        if guard == Guard.VIRTUAL:
            return order.goods_kind == GoodsKind.VIRTUAL
        if guard == Guard.SHIPMENT_IS_LATE:
            return order.is_late
        if guard == Guard.EXTENSION_ALLOWED:
            left = deadlines.remaining(uow.deadlines, order.subject, DeadlineKind.AUTO_CONFIRM, now)
            return rules.extension_allowed(order, left, self._policy)
        if guard == Guard.LATE_COMPENSATION_UNCLAIMED:
            return (
                order.is_late
                and not order.late_compensation_paid
                and order.late_compensation_minor > 0
            )
        raise AssertionError(
            f"unhandled guard {guard}"
        )  # pragma: no cover - the enum is exhaustive

    def _effect(
        self, uow: OrdersUnitOfWork, order: Order, effect: OrderEffect, intent: _Intent, step: _Step
    ) -> None:
        cal, policy, now, facts = self._rt.calendar, self._policy, step.now, step.facts
        if effect == OrderEffect.HOLD_IN_ESCROW:
            hold = self._transfer(
                order,
                order.buyer_funding_account,
                order.escrow_account,
                order.total_minor,
                TransferReason.ESCROW_HOLD,
                "escrow_hold",
            )
            self._post(uow, now, [hold])
            order.paid_minor = order.total_minor
            order.paid_at = now
            order.payment_reference = intent.payment_reference
        elif effect == OrderEffect.CANCEL_DEADLINES:
            step.cancel_timers = True
            order.auto_confirm_at = None
        elif effect == OrderEffect.START_SHIP_BY:
            due = cal.add(now, policy.ship_by)
            step.new_timers.append(
                NewDeadline(
                    DeadlineKind.SHIP_BY,
                    order.subject,
                    due,
                    policy.ship_by_reminder_before.as_timedelta(),
                )
            )
            order.ship_by_at = due
            facts["ship_by_at"] = due.isoformat()
        elif effect == OrderEffect.MARK_LATE_SHIPMENT:
            order.is_late = True
            order.late_compensation_minor = rules.late_shipment_compensation(
                order, policy
            ).amount_minor
            facts["late_compensation_minor"] = order.late_compensation_minor
        elif effect == OrderEffect.RECORD_SHIPMENT:
            shipment = _given(intent.shipment, "shipment")
            uow.orders.insert_shipment(shipment)
            order.shipped_at = now
            facts.update(carrier=shipment.carrier, tracking_number=shipment.tracking_number)
        elif effect == OrderEffect.RECORD_DELIVERY:
            delivery = _given(intent.delivery, "delivery record")
            uow.orders.insert_delivery_record(delivery)
            order.delivered_at = now
            facts.update(delivery_method=delivery.method, delivery_record_id=delivery.id)
        elif effect == OrderEffect.START_AUTO_CONFIRM:
            if order.is_virtual:
                due = rules.auto_confirm_due_on_delivery(now, policy, cal)
            else:
                due = rules.auto_confirm_due_on_shipment(now, policy, cal)
            order.auto_confirm_at = due
            step.new_timers.append(
                NewDeadline(
                    DeadlineKind.AUTO_CONFIRM,
                    order.subject,
                    due,
                    policy.auto_confirm_reminder_before.as_timedelta(),
                )
            )
            facts["auto_confirm_at"] = due.isoformat()
        elif effect == OrderEffect.RECORD_TRACKING_EVENT:
            self._record_tracking(uow, order, intent, step)
        elif effect == OrderEffect.EXTEND_AUTO_CONFIRM:
            current = _given(
                deadlines.remaining(uow.deadlines, order.subject, DeadlineKind.AUTO_CONFIRM, now),
                "running auto-confirm timer",  # the guard required one
            )
            due = cal.add(now + current, policy.receipt_extension)
            deadlines.reschedule(uow.deadlines, order.subject, DeadlineKind.AUTO_CONFIRM, due, now)
            order.receipt_extensions += 1
            order.auto_confirm_at = due
            facts["auto_confirm_at"] = due.isoformat()
        elif effect == OrderEffect.PAUSE_AUTO_CONFIRM:
            order.auto_confirm_holds += 1
            if order.auto_confirm_holds == 1:
                deadlines.pause(uow.deadlines, order.subject, [DeadlineKind.AUTO_CONFIRM], now)
                order.auto_confirm_at = None
            facts["holds"] = order.auto_confirm_holds
        elif effect == OrderEffect.RESUME_AUTO_CONFIRM:
            if order.auto_confirm_holds == 0:
                raise Conflict(
                    f"Auto-confirm of order {order.id} is not paused.", order_id=order.id
                )
            order.auto_confirm_holds -= 1
            if order.auto_confirm_holds == 0:
                left = deadlines.remaining(
                    uow.deadlines, order.subject, DeadlineKind.AUTO_CONFIRM, now
                )
                deadlines.resume(uow.deadlines, order.subject, [DeadlineKind.AUTO_CONFIRM], now)
                order.auto_confirm_at = now + left if left is not None else None
            facts["holds"] = order.auto_confirm_holds
        elif effect == OrderEffect.RELEASE_ESCROW:
            self._release(uow, order, step)
        elif effect == OrderEffect.REFUND_ESCROW:
            amount = order.escrow_minor
            if amount > 0:
                key = f"refund:{intent.refund_reference or 'close'}"
                refund = self._transfer(
                    order,
                    order.escrow_account,
                    intent.refund_destination or order.buyer_funding_account,
                    amount,
                    TransferReason.REFUND,
                    key,
                    intent.refund_reference,
                )
                self._post(uow, now, [refund])
                order.refunded_minor += amount
                facts["refunded_minor"] = amount
            self._repay_compensation_taken_from_escrow(uow, order, step)
        elif effect == OrderEffect.REFUND_PART:
            key = f"refund:{intent.refund_reference}"
            refund = self._transfer(
                order,
                order.escrow_account,
                intent.refund_destination or order.buyer_funding_account,
                intent.refund_minor,
                TransferReason.REFUND,
                key,
                intent.refund_reference,
            )
            self._post(uow, now, [refund])
            order.refunded_minor += intent.refund_minor
            facts["refunded_minor"] = intent.refund_minor
        elif effect == OrderEffect.PAY_LATE_COMPENSATION:
            self._pay_late_compensation(uow, order, step)
        else:  # pragma: no cover - every effect above is handled
            raise AssertionError(f"unhandled effect {effect}")

    def _flush_timers(self, uow: OrdersUnitOfWork, order: Order, step: _Step) -> None:
        # Collected so that "cancel the old timers, start the new one" is one write.
        if step.cancel_timers and step.new_timers:
            deadlines.cancel_and_schedule(uow.deadlines, order.subject, step.new_timers, step.now)
        elif step.cancel_timers:
            deadlines.cancel(uow.deadlines, order.subject, None, step.now)
        elif step.new_timers:
            deadlines.schedule(uow.deadlines, step.new_timers, step.now)

    def _record_tracking(
        self, uow: OrdersUnitOfWork, order: Order, intent: _Intent, step: _Step
    ) -> None:
        now = step.now
        tracking = _given(intent.tracking, "tracking event")
        shipments = uow.orders.shipments(order.id)
        outbound = next((s for s in reversed(shipments) if s.direction == "outbound"), None)
        if outbound is None:
            raise Conflict(f"Order {order.id} has no shipment to track.", order_id=order.id)
        tracking = replace(tracking, shipment_id=outbound.id)
        uow.orders.insert_tracking_event(tracking)
        order.last_tracking_status = tracking.status
        step.facts.update(tracking_status=tracking.status.value, tracking_event_id=tracking.id)
        if tracking.status.means_delivered and order.delivered_at is None:
            order.delivered_at = now
            if (
                order.state == OrderState.SHIPPED
                and self._policy.auto_confirm_counts_from == "delivery"
            ):
                due = rules.auto_confirm_due_on_delivery(now, self._policy, self._rt.calendar)
                deadlines.reschedule(
                    uow.deadlines, order.subject, DeadlineKind.AUTO_CONFIRM, due, now
                )
                if order.auto_confirm_holds == 0:
                    order.auto_confirm_at = due
                step.facts["auto_confirm_at"] = due.isoformat()

    def _release(self, uow: OrdersUnitOfWork, order: Order, step: _Step) -> None:
        fee = rules.platform_fee(order).amount_minor
        share = order.escrow_minor - fee
        transfers = []
        if share > 0:
            transfers.append(
                self._transfer(
                    order,
                    order.escrow_account,
                    order.seller_available_account,
                    share,
                    TransferReason.ESCROW_RELEASE,
                    "escrow_release",
                )
            )
        if fee > 0:
            transfers.append(
                self._transfer(
                    order,
                    order.escrow_account,
                    rules.fee_account(order.id, self._policy.fee_account_shards),
                    fee,
                    TransferReason.PLATFORM_FEE,
                    "platform_fee",
                )
            )
        # Settlement reads the seller's receivable right after: lock it with the rest.
        owed = AccountKey(receivable_account(order.seller_id), order.currency)
        self._post(uow, step.now, transfers, watch=[owed])
        order.released_minor += share + fee
        order.fee_minor = fee
        order.completed_at = step.now
        step.facts.update(released_minor=share, fee_minor=fee)
        # A seller who owes the platform for advances repays them first from what it earns.
        recovered = self._settlement.recover_from_available(
            uow, order.seller_id, order.currency, order.subject
        )
        if recovered:
            step.facts["receivable_recovered_minor"] = recovered

    def _pay_late_compensation(self, uow: OrdersUnitOfWork, order: Order, step: _Step) -> None:
        """The seller pays the compensation (DESIGN.md §4).

        From its available balance if it can, else out of this order's escrow (its
        future earnings), else the platform advances it against a receivable on the
        seller, recovered later.
        """
        amount = order.money(order.late_compensation_minor)
        key = f"order:{order.id}:late_compensation"
        available = self._settlement.balance(uow, order.seller_available_account, order.currency)
        if available < amount.amount_minor and order.escrow_minor >= amount.amount_minor:
            compensation = self._transfer(
                order,
                order.escrow_account,
                order.buyer_funding_account,
                amount.amount_minor,
                TransferReason.LATE_SHIPMENT_COMPENSATION,
                "late_compensation",
            )
            self._post(uow, step.now, [compensation])
            order.refunded_minor += amount.amount_minor
            order.late_compensation_source = "escrow"
        else:
            source = self._settlement.pay_buyer(
                uow,
                seller_id=order.seller_id,
                buyer_id=order.buyer_id,
                amount=amount,
                key=key,
                reference=order.subject,
                reason=TransferReason.LATE_SHIPMENT_COMPENSATION,
            )
            order.late_compensation_source = source.value
        order.late_compensation_paid = True
        step.facts.update(
            late_compensation_minor=amount.amount_minor, paid_from=order.late_compensation_source
        )

    def _repay_compensation_taken_from_escrow(
        self, uow: OrdersUnitOfWork, order: Order, step: _Step
    ) -> None:
        """Give back, on a full refund, the part of the buyer's payment that funded the compensation.

        Otherwise the buyer would have paid their own compensation: the seller repays
        it, or the platform advances it against a receivable.
        """
        if order.late_compensation_source != "escrow":
            return
        source = self._settlement.pay_buyer(
            uow,
            seller_id=order.seller_id,
            buyer_id=order.buyer_id,
            amount=order.money(order.late_compensation_minor),
            key=f"order:{order.id}:late_compensation_repaid",
            reference=order.subject,
            reason=TransferReason.REFUND,
        )
        order.late_compensation_source = source.value
        step.facts["late_compensation_repaid_from"] = source.value

    def _transfer(
        self,
        order: Order,
        source: str,
        destination: str,
        amount_minor: int,
        reason: TransferReason,
        key_suffix: str,
        reference: str | None = None,
    ) -> TransferRequest:
        return TransferRequest(
            source,
            destination,
            Money(amount_minor, order.currency),
            f"order:{order.id}:{key_suffix}",
            reference or order.subject,
            reason,
        )

    def _post(
        self,
        uow: OrdersUnitOfWork,
        now: datetime,
        transfers: list[TransferRequest],
        *,
        watch: Sequence[AccountKey] = (),
    ) -> None:
        if transfers:
            ledger.post_transfers(uow.ledger, transfers, now, watch=watch)


class PayoutService:
    """Sellers withdraw their available balance (DESIGN.md §2: settlement)."""

    def __init__(
        self,
        units: UnitOfWorkRunner[OrdersUnitOfWork],
        runtime: Runtime,
        settlement: SettlementService,
    ) -> None:
        self._units = units
        self._rt = runtime
        self._settlement = settlement

    def request(
        self,
        seller_id: str,
        amount_minor: int,
        currency: str,
        party: Party,
        *,
        request_key: str | None = None,
    ) -> Payout:
        """Pay ``amount`` of the seller's available balance out to the seller's bank.

        With a ``request_key`` (the caller's Idempotency-Key) a retried request
        returns the payout already made instead of paying twice.
        """
        _require(party, {Actor.SELLER, Actor.OPERATOR})
        if party.actor == Actor.SELLER and party.id != seller_id:
            raise NotFound("seller", seller_id)
        if type(amount_minor) is not int or amount_minor <= 0:
            raise ValidationFailed("A payout is a positive amount of minor units.")
        check_currency(currency)

        def replay(uow: OrdersUnitOfWork) -> Payout | None:
            return uow.orders.payout_by_request_key(request_key) if request_key else None

        def work(uow: OrdersUnitOfWork) -> Payout:
            earlier = replay(uow)
            if earlier is not None:
                return earlier
            self._settlement.check_payout_allowed(uow, seller_id, currency)
            now = self._rt.clock.now()
            payout = Payout(
                self._rt.ids.new("po", now),
                seller_id,
                currency,
                amount_minor,
                PayoutState.PAID,
                now,
                request_key=request_key,
            )
            ledger.post_transfers(
                uow.ledger,
                [
                    TransferRequest(
                        f"seller:{seller_id}:available",
                        f"seller:{seller_id}:payouts",
                        Money(amount_minor, currency),
                        f"payout:{payout.id}",
                        f"payout:{payout.id}",
                        TransferReason.PAYOUT,
                    )
                ],
                now,
            )
            uow.orders.insert_payout(payout)
            events.record(
                uow.outbox,
                [DomainEvent("payout.paid", f"payout:{payout.id}", _payout_data(payout))],
                self._rt.ids,
                now,
            )
            return payout

        try:
            return self._units.run(work)
        except AlreadyExists:
            earlier = self._units.run(replay)
            if earlier is None:
                raise
            return earlier

    def fail(self, payout_id: str, reason: str, party: Party) -> Payout:
        """The bank refused the payout: return the money to the seller's available balance (operator)."""

        def work(uow: OrdersUnitOfWork) -> Payout:
            now = self._rt.clock.now()
            payout = uow.orders.get_payout(payout_id, lock=True)
            if (
                payout is None
                or party.actor == Actor.BUYER
                or (party.actor == Actor.SELLER and payout.seller_id != party.id)
            ):
                raise NotFound("payout", payout_id)
            row = PAYOUT_TRANSITIONS.fire(payout.state, PayoutEvent.FAIL, party.actor)
            failed = replace(
                payout,
                state=row.target,
                failed_at=now,
                failure_reason=reason or "refused by the bank",
            )
            ledger.post_transfers(
                uow.ledger,
                [
                    TransferRequest(
                        f"seller:{payout.seller_id}:payouts",
                        f"seller:{payout.seller_id}:available",
                        Money(payout.amount_minor, payout.currency),
                        f"payout:{payout.id}:reversal",
                        f"payout:{payout.id}",
                        TransferReason.PAYOUT_REVERSAL,
                    )
                ],
                now,
            )
            uow.orders.update_payout(failed)
            events.record(
                uow.outbox,
                [DomainEvent("payout.failed", f"payout:{payout.id}", _payout_data(failed))],
                self._rt.ids,
                now,
            )
            return failed

        return self._units.run(work)

    def get(self, payout_id: str, party: Party) -> Payout:
        """A payout; a seller sees only their own."""
        payout = self._units.run(lambda uow: uow.orders.get_payout(payout_id))
        if (
            payout is None
            or (party.actor == Actor.SELLER and payout.seller_id != party.id)
            or party.actor == Actor.BUYER
        ):
            raise NotFound("payout", payout_id)
        return payout

    def find(
        self, party: Party, seller_id: str | None, *, before_id: str | None = None, limit: int = 50
    ) -> list[Payout]:
        """Payouts newest first; a seller sees only their own."""
        if party.actor == Actor.BUYER:
            raise Forbidden("Buyers have no payouts.")
        if party.actor == Actor.SELLER:
            seller_id = party.id
        limit = max(1, min(limit, 200))
        return self._units.run(
            lambda uow: uow.orders.find_payouts(seller_id, before_id=before_id, limit=limit)
        )


_SYSTEM = Party(Actor.SYSTEM)


def _may_see(order: Order, party: Party) -> bool:
    if party.actor == Actor.BUYER:
        return order.buyer_id == party.id
    if party.actor == Actor.SELLER:
        return order.seller_id == party.id
    return True


def _require(party: Party, actors: set[Actor]) -> None:
    if party.actor not in actors:
        raise Forbidden(f"Only {', '.join(sorted(actors))} may do this.")


def _check_id(name: str, value: str) -> None:
    if not value or len(value) > 64 or not all(c.isalnum() or c in "_-." for c in value):
        raise ValidationFailed(
            f"{name} must be 1 to 64 letters, digits, '_', '-' or '.'.", field=name
        )


def _lines_data(order: Order) -> list[dict[str, Any]]:
    return [
        {
            "listing_id": line.listing_id,
            "quantity": line.quantity,
            "unit_price_minor": line.unit_price_minor,
        }
        for line in order.lines
    ]


def _payout_data(payout: Payout) -> dict[str, Any]:
    return {
        "payout_id": payout.id,
        "seller_id": payout.seller_id,
        "currency": payout.currency,
        "amount_minor": payout.amount_minor,
        "state": payout.state.value,
    }


def _given(value: T | None, what: str) -> T:
    # An effect ran without the data its event must carry: a programming error, never user input.
    if value is None:
        raise RuntimeError(f"internal error: effect needs a {what}")
    return value


_CLOSE_REASONS = {
    OrderEvent.EXPIRE_PAYMENT: "payment_expired",
    OrderEvent.CLOSE_REFUNDED: "refunded",
}
