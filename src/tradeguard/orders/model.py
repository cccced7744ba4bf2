"""Orders: states, events, the transition table and the records kept per order (DESIGN.md §4).

State values are DESIGN.md's words, so the database, the API and the logs agree.
Inputs are imperative (``ship``, ``auto_confirm``); the outbox events they emit
are facts (``order.shipped``, ``order.completed``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Final

from tradeguard.kernel.money import Money
from tradeguard.kernel.parties import Actor
from tradeguard.kernel.statemachine import TransitionTable


class OrderState(StrEnum):
    """Where a guaranteed transaction stands."""

    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"  #: money held in escrow; the seller must ship (or deliver) by the ship-by time
    SHIPPED = "shipped"  #: physical goods on their way; auto-confirm is counting
    DELIVERED = "delivered"  #: virtual goods delivered, with a delivery record
    COMPLETED = "completed"  #: receipt confirmed (by the buyer or automatically); escrow released
    CLOSED = "closed"  #: unpaid timeout, cancellation or full refund


class OrderEvent(StrEnum):
    """What can be asked of an order."""

    PAY = "pay"
    EXPIRE_PAYMENT = "expire_payment"
    CANCEL = "cancel"
    SHIP = "ship"
    DELIVER = "deliver"
    MARK_LATE = "mark_late"
    RECORD_TRACKING = "record_tracking"
    EXTEND_RECEIPT = "extend_receipt"
    CONFIRM_RECEIPT = "confirm_receipt"
    AUTO_CONFIRM = "auto_confirm"
    PAUSE_AUTO_CONFIRM = "pause_auto_confirm"
    RESUME_AUTO_CONFIRM = "resume_auto_confirm"
    CLAIM_LATE_COMPENSATION = "claim_late_compensation"
    REFUND = "refund"  #: part of the escrow goes back to the buyer (after-sales, disputes)
    CLOSE_REFUNDED = "close_refunded"  #: everything was refunded; the order ends


class OrderEffect(StrEnum):
    """Side effects a transition asks for; only the order service interprets them."""

    HOLD_IN_ESCROW = "hold_in_escrow"
    REFUND_ESCROW = "refund_escrow"  #: return everything still in escrow to the buyer
    RELEASE_ESCROW = "release_escrow"  #: pay the seller, minus the platform fee
    START_SHIP_BY = "start_ship_by"
    START_AUTO_CONFIRM = "start_auto_confirm"
    EXTEND_AUTO_CONFIRM = "extend_auto_confirm"
    PAUSE_AUTO_CONFIRM = "pause_auto_confirm"
    RESUME_AUTO_CONFIRM = "resume_auto_confirm"
    CANCEL_DEADLINES = "cancel_deadlines"
    MARK_LATE_SHIPMENT = "mark_late_shipment"
    RECORD_SHIPMENT = "record_shipment"
    RECORD_DELIVERY = "record_delivery"
    RECORD_TRACKING_EVENT = "record_tracking_event"
    PAY_LATE_COMPENSATION = "pay_late_compensation"
    REFUND_PART = "refund_part"


class Guard(StrEnum):
    """Conditions a row needs beyond state and actor; the service evaluates them."""

    PHYSICAL = "physical goods"
    VIRTUAL = "virtual goods"
    SHIPMENT_IS_LATE = "only when the seller missed the ship-by time"
    EXTENSION_ALLOWED = "only once, and only when little time remains before auto-confirm"
    LATE_COMPENSATION_UNCLAIMED = "only for a late shipment whose compensation was not yet paid"


S, E, A, F, G = OrderState, OrderEvent, Actor, OrderEffect, Guard
_ANYONE = frozenset({A.BUYER, A.SELLER, A.OPERATOR})
_FULFILLER = frozenset({A.SELLER, A.OPERATOR})
_BUYER_OR_SYSTEM = frozenset({A.BUYER, A.SYSTEM})
_DELIVERER = frozenset({A.SELLER, A.OPERATOR, A.SYSTEM})  # SYSTEM: automatic delivery records
_CLOSE_HELD = [F.REFUND_ESCROW, F.CANCEL_DEADLINES]
_COMPLETE = [F.RELEASE_ESCROW, F.CANCEL_DEADLINES]

_Row = tuple[
    OrderState, OrderEvent, Actor | frozenset[Actor], OrderState, list[OrderEffect], Guard | None
]

# fmt: off
_ROWS: list[_Row] = [
    # source              event                      actor(s)           target               effects                                                          guard
    (S.AWAITING_PAYMENT,  E.PAY,                     A.OPERATOR,        S.PAID,              [F.HOLD_IN_ESCROW, F.CANCEL_DEADLINES, F.START_SHIP_BY],         None),
    (S.AWAITING_PAYMENT,  E.EXPIRE_PAYMENT,          A.SYSTEM,          S.CLOSED,            [F.CANCEL_DEADLINES],                                            None),
    (S.AWAITING_PAYMENT,  E.CANCEL,                  _ANYONE,           S.CLOSED,            [F.CANCEL_DEADLINES],                                            None),
    (S.PAID,              E.CANCEL,                  _FULFILLER,        S.CLOSED,            _CLOSE_HELD,                                                     None),
    (S.PAID,              E.CANCEL,                  A.BUYER,           S.CLOSED,            _CLOSE_HELD,                                                     G.SHIPMENT_IS_LATE),
    (S.PAID,              E.SHIP,                    _FULFILLER,        S.SHIPPED,           [F.RECORD_SHIPMENT, F.CANCEL_DEADLINES, F.START_AUTO_CONFIRM],   G.PHYSICAL),
    (S.PAID,              E.DELIVER,                 _DELIVERER,        S.DELIVERED,         [F.RECORD_DELIVERY, F.CANCEL_DEADLINES, F.START_AUTO_CONFIRM],   G.VIRTUAL),
    (S.PAID,              E.MARK_LATE,               A.SYSTEM,          S.PAID,              [F.MARK_LATE_SHIPMENT],                                          None),
    (S.PAID,              E.CLAIM_LATE_COMPENSATION, _BUYER_OR_SYSTEM,  S.PAID,              [F.PAY_LATE_COMPENSATION],                                       G.LATE_COMPENSATION_UNCLAIMED),
    (S.PAID,              E.REFUND,                  A.SYSTEM,          S.PAID,              [F.REFUND_PART],                                                 None),
    (S.PAID,              E.CLOSE_REFUNDED,          A.SYSTEM,          S.CLOSED,            _CLOSE_HELD,                                                     None),
    (S.SHIPPED,           E.RECORD_TRACKING,         A.OPERATOR,        S.SHIPPED,           [F.RECORD_TRACKING_EVENT],                                       None),
    (S.SHIPPED,           E.CONFIRM_RECEIPT,         A.BUYER,           S.COMPLETED,         _COMPLETE,                                                       None),
    (S.SHIPPED,           E.AUTO_CONFIRM,            A.SYSTEM,          S.COMPLETED,         _COMPLETE,                                                       None),
    (S.SHIPPED,           E.EXTEND_RECEIPT,          A.BUYER,           S.SHIPPED,           [F.EXTEND_AUTO_CONFIRM],                                         G.EXTENSION_ALLOWED),
    (S.SHIPPED,           E.PAUSE_AUTO_CONFIRM,      A.SYSTEM,          S.SHIPPED,           [F.PAUSE_AUTO_CONFIRM],                                          None),
    (S.SHIPPED,           E.RESUME_AUTO_CONFIRM,     A.SYSTEM,          S.SHIPPED,           [F.RESUME_AUTO_CONFIRM],                                         None),
    (S.SHIPPED,           E.CLAIM_LATE_COMPENSATION, _BUYER_OR_SYSTEM,  S.SHIPPED,           [F.PAY_LATE_COMPENSATION],                                       G.LATE_COMPENSATION_UNCLAIMED),
    (S.SHIPPED,           E.REFUND,                  A.SYSTEM,          S.SHIPPED,           [F.REFUND_PART],                                                 None),
    (S.SHIPPED,           E.CLOSE_REFUNDED,          A.SYSTEM,          S.CLOSED,            _CLOSE_HELD,                                                     None),
    (S.DELIVERED,         E.CONFIRM_RECEIPT,         A.BUYER,           S.COMPLETED,         _COMPLETE,                                                       None),
    (S.DELIVERED,         E.AUTO_CONFIRM,            A.SYSTEM,          S.COMPLETED,         _COMPLETE,                                                       None),
    (S.DELIVERED,         E.EXTEND_RECEIPT,          A.BUYER,           S.DELIVERED,         [F.EXTEND_AUTO_CONFIRM],                                         G.EXTENSION_ALLOWED),
    (S.DELIVERED,         E.PAUSE_AUTO_CONFIRM,      A.SYSTEM,          S.DELIVERED,         [F.PAUSE_AUTO_CONFIRM],                                          None),
    (S.DELIVERED,         E.RESUME_AUTO_CONFIRM,     A.SYSTEM,          S.DELIVERED,         [F.RESUME_AUTO_CONFIRM],                                         None),
    (S.DELIVERED,         E.CLAIM_LATE_COMPENSATION, _BUYER_OR_SYSTEM,  S.DELIVERED,         [F.PAY_LATE_COMPENSATION],                                       G.LATE_COMPENSATION_UNCLAIMED),
    (S.DELIVERED,         E.REFUND,                  A.SYSTEM,          S.DELIVERED,         [F.REFUND_PART],                                                 None),
    (S.DELIVERED,         E.CLOSE_REFUNDED,          A.SYSTEM,          S.CLOSED,            _CLOSE_HELD,                                                     None),
    (S.COMPLETED,         E.RECORD_TRACKING,         A.OPERATOR,        S.COMPLETED,         [F.RECORD_TRACKING_EVENT],                                       None),
    (S.COMPLETED,         E.CLAIM_LATE_COMPENSATION, _BUYER_OR_SYSTEM,  S.COMPLETED,         [F.PAY_LATE_COMPENSATION],                                       G.LATE_COMPENSATION_UNCLAIMED),
    (S.COMPLETED,         E.CLOSE_REFUNDED,          A.SYSTEM,          S.CLOSED,            [F.CANCEL_DEADLINES],                                            None),
    (S.CLOSED,            E.RECORD_TRACKING,         A.OPERATOR,        S.CLOSED,            [F.RECORD_TRACKING_EVENT],                                       None),
    (S.CLOSED,            E.CLAIM_LATE_COMPENSATION, _BUYER_OR_SYSTEM,  S.CLOSED,            [F.PAY_LATE_COMPENSATION],                                       G.LATE_COMPENSATION_UNCLAIMED),
]
# fmt: on

#: The order machine of DESIGN.md §4. Refund rows are driven by the after-sales and
#: dispute contexts as SYSTEM; participants never refund themselves.
ORDER_TRANSITIONS: Final = TransitionTable[OrderState, OrderEvent, OrderEffect](
    "order",
    OrderState,
    initial=S.AWAITING_PAYMENT,
    final={S.CLOSED},
    rows=_ROWS,
)

#: Outbox event type for each input; reminders are emitted by timers, not transitions.
EVENT_TYPES: Final[dict[OrderEvent, str]] = {
    E.PAY: "order.paid",
    E.EXPIRE_PAYMENT: "order.closed",
    E.CANCEL: "order.closed",
    E.SHIP: "order.shipped",
    E.DELIVER: "order.delivered",
    E.MARK_LATE: "order.late_shipment",
    E.RECORD_TRACKING: "order.tracking_updated",
    E.EXTEND_RECEIPT: "order.receipt_extended",
    E.CONFIRM_RECEIPT: "order.completed",
    E.AUTO_CONFIRM: "order.completed",
    E.PAUSE_AUTO_CONFIRM: "order.auto_confirm_paused",
    E.RESUME_AUTO_CONFIRM: "order.auto_confirm_resumed",
    E.CLAIM_LATE_COMPENSATION: "order.late_compensation_paid",
    E.REFUND: "order.refunded",
    E.CLOSE_REFUNDED: "order.closed",
}


class GoodsKind(StrEnum):
    """Physical goods ship with a carrier; virtual goods are delivered with a delivery record."""

    PHYSICAL = "physical"
    VIRTUAL = "virtual"


class TrackingStatus(StrEnum):
    """Carrier scan statuses the operator's carrier integration reports."""

    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    SIGNED = "signed"  #: signed for by the recipient
    EXCEPTION = "exception"
    RETURNED_TO_SENDER = "returned_to_sender"

    @property
    def means_delivered(self) -> bool:
        """True for statuses that say the parcel reached the buyer."""
        return self in (TrackingStatus.DELIVERED, TrackingStatus.SIGNED)


class DeadlineKind(StrEnum):
    """The order's timers (DESIGN.md §4 deadline table); ship-by and auto-confirm carry reminders."""

    PAYMENT_WINDOW = "order.payment_window"
    SHIP_BY = "order.ship_by"
    AUTO_CONFIRM = "order.auto_confirm"


@dataclass(frozen=True, slots=True)
class Listing:
    """A product page the operator registered, with its seller and purchase rules."""

    id: str
    seller_id: str
    title: str
    goods_kind: GoodsKind
    purchase_limit_per_buyer: int | None  #: "one per ID" (seed 002); None means no limit
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class OrderLine:
    """One listing bought in some quantity at a unit price."""

    line_no: int
    listing_id: str
    title: str
    quantity: int
    unit_price_minor: int

    @property
    def amount_minor(self) -> int:
        """Quantity times unit price."""
        return self.quantity * self.unit_price_minor


@dataclass(slots=True)
class Order:
    """One seller's part of a checkout: its money, its state and its facts.

    Money columns are cumulative: ``paid`` entered escrow, ``released`` left it
    for the seller and the platform fee, ``refunded`` left it for the buyer
    (refunds and compensation paid from escrow). Escrow holds the difference.
    """

    id: str
    payment_group_id: str
    buyer_id: str
    seller_id: str
    currency: str
    goods_kind: GoodsKind
    state: OrderState
    subtotal_minor: int
    shipping_fee_minor: int
    fee_bps: int
    created_at: datetime
    updated_at: datetime
    paid_minor: int = 0
    released_minor: int = 0
    refunded_minor: int = 0
    fee_minor: int = 0
    late_compensation_minor: int = 0
    is_late: bool = False
    late_compensation_paid: bool = False
    receipt_extensions: int = 0
    auto_confirm_holds: int = 0
    paid_at: datetime | None = None
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None
    completed_at: datetime | None = None
    closed_at: datetime | None = None
    close_reason: str | None = None
    completed_by: str | None = None  #: "buyer" or "auto_confirm"
    payment_reference: str | None = None  #: the payment provider's reference
    late_compensation_source: str | None = None  #: "seller_available", "escrow" or "advance"
    ship_by_at: datetime | None = (
        None  #: when the seller must ship by (``is_late`` says if it was missed)
    )
    auto_confirm_at: datetime | None = (
        None  #: when the order completes by itself; None while paused
    )
    last_tracking_status: TrackingStatus | None = None
    lines: list[OrderLine] = field(default_factory=list)

    @property
    def total_minor(self) -> int:
        """What the buyer pays: goods plus shipping."""
        return self.subtotal_minor + self.shipping_fee_minor

    @property
    def escrow_minor(self) -> int:
        """What escrow still holds for this order."""
        return self.paid_minor - self.released_minor - self.refunded_minor

    @property
    def auto_confirm_paused(self) -> bool:
        """True while an open refund or dispute holds auto-confirm."""
        return self.auto_confirm_holds > 0

    @property
    def is_virtual(self) -> bool:
        """True for virtual goods (top-ups, codes, software)."""
        return self.goods_kind == GoodsKind.VIRTUAL

    @property
    def subject(self) -> str:
        """The order as a deadline and event subject."""
        return f"order:{self.id}"

    @property
    def escrow_account(self) -> str:
        """The order's escrow account address."""
        return f"escrow:order:{self.id}"

    @property
    def buyer_funding_account(self) -> str:
        """The buyer's external funding account address."""
        return f"buyer:{self.buyer_id}:funding"

    @property
    def seller_available_account(self) -> str:
        """The seller's available balance account address."""
        return f"seller:{self.seller_id}:available"

    @property
    def seller_receivable_account(self) -> str:
        """What the seller owes the platform for advances made on its behalf (negative = owed)."""
        return f"platform:receivable:seller:{self.seller_id}"

    def money(self, amount_minor: int) -> Money:
        """An amount in this order's currency."""
        return Money(amount_minor, self.currency)


@dataclass(frozen=True, slots=True)
class PaymentGroup:
    """Orders paid together in one checkout (one per seller, as Taobao splits per shop)."""

    id: str
    buyer_id: str
    currency: str
    created_at: datetime
    paid_at: datetime | None = None
    payment_reference: str | None = None


@dataclass(frozen=True, slots=True)
class Shipment:
    """A parcel: carrier, tracking number and, optionally, the serial numbers inside."""

    id: str
    order_id: str
    direction: str  #: "outbound", later "return" and "replacement"
    carrier: str
    tracking_number: str
    serial_numbers: tuple[str, ...]
    shipped_at: datetime


@dataclass(frozen=True, slots=True)
class TrackingEvent:
    """A carrier scan, kept as system evidence."""

    id: str
    order_id: str
    shipment_id: str | None
    status: TrackingStatus
    occurred_at: datetime
    location: str | None
    detail: str | None
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """Proof that virtual goods were delivered: the seed 002 seller's top-up log."""

    id: str
    order_id: str
    method: str  #: "automatic" or "manual"
    detail: str
    delivered_at: datetime
    recorded_by: str


class PayoutState(StrEnum):
    """A seller's withdrawal from the available balance."""

    PAID = "paid"  #: sent to the seller's bank
    FAILED = "failed"  #: the bank refused; the money is back in the available balance


class PayoutEvent(StrEnum):
    """What can happen to a payout after it is sent."""

    FAIL = "fail"


PAYOUT_TRANSITIONS: Final = TransitionTable[PayoutState, PayoutEvent, OrderEffect](
    "payout",
    PayoutState,
    initial=PayoutState.PAID,
    final={PayoutState.FAILED},
    rows=[(PayoutState.PAID, PayoutEvent.FAIL, Actor.OPERATOR, PayoutState.FAILED, [])],
)


@dataclass(frozen=True, slots=True)
class Payout:
    """Money the seller withdrew to the bank."""

    id: str
    seller_id: str
    currency: str
    amount_minor: int
    state: PayoutState
    created_at: datetime
    failed_at: datetime | None = None
    failure_reason: str | None = None
    request_key: str | None = None  #: the caller's Idempotency-Key: one payout per key, ever


@dataclass(frozen=True, slots=True)
class PayoutHold:
    """A reason the seller's payouts wait (e.g. an open refund request on one of its orders)."""

    seller_id: str
    subject: str  #: what holds it, e.g. ``refund:rf_...``
    reason: str
    placed_at: datetime
