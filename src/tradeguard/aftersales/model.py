"""After-sales: refund requests, returns and exchanges, their states and transition table (DESIGN.md §5).

A refund request (售后单) belongs to one order. Its kind says what the buyer
wants (money only, return and refund, an exchange, a partial refund of a price
difference); its reason decides who pays return shipping and how much may be
refunded. Inputs are imperative (``agree``, ``ship_return``); the outbox events
are facts (``refund.agreed``, ``refund.return_shipped``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Final

from tradeguard.kernel.parties import Actor
from tradeguard.kernel.statemachine import TransitionTable


class RefundKind(StrEnum):
    """What the buyer asks for."""

    REFUND_ONLY = "refund_only"  #: money back, nothing returned (not shipped / not received)
    RETURN_AND_REFUND = "return_and_refund"
    EXCHANGE = "exchange"  #: the item goes back and a replacement comes
    PARTIAL_REFUND = "partial_refund"  #: part of the price back, e.g. a price difference (seed 004)

    @property
    def needs_return(self) -> bool:
        """True when the buyer must send the item back first."""
        return self in (RefundKind.RETURN_AND_REFUND, RefundKind.EXCHANGE)


class RefundReason(StrEnum):
    """Why the buyer asks; decides the amount and who pays return shipping (DESIGN.md §5)."""

    NOT_SHIPPED = "not_shipped"
    NOT_RECEIVED = "not_received"
    NO_REASON = "no_reason"  #: seven-day no-reason return (七天无理由)
    QUALITY_PROBLEM = "quality_problem"
    NOT_AS_DESCRIBED = "not_as_described"
    DAMAGED_IN_TRANSIT = "damaged_in_transit"
    LOST_IN_TRANSIT = "lost_in_transit"
    MISSING_PARTS = "missing_parts"
    PRICE_DIFFERENCE = "price_difference"

    @property
    def seller_pays_return_shipping(self) -> bool:
        """True when the seller is at fault, so the seller pays for the way back."""
        return self != RefundReason.NO_REASON

    @property
    def is_carrier_fault(self) -> bool:
        """True when the carrier damaged or lost the parcel: the loss becomes a carrier claim."""
        return self in (RefundReason.DAMAGED_IN_TRANSIT, RefundReason.LOST_IN_TRANSIT)


class RefundState(StrEnum):
    """Where a refund request stands; DESIGN.md §5's words."""

    REQUESTED = "requested"  #: waiting for the seller's answer
    SELLER_AGREED = "seller_agreed"  #: agreed; the money moves or the return is awaited next
    SELLER_REFUSED = "seller_refused"  #: the buyer may amend or escalate
    AWAITING_RETURN = "awaiting_return"  #: the buyer must ship the item back
    RETURN_SHIPPED = "return_shipped"  #: the seller must accept or reject the returned parcel
    REPLACEMENT_SHIPPED = "replacement_shipped"  #: exchange: the replacement is on its way
    ESCALATED = "escalated"  #: a dispute decides (DESIGN.md §6)
    REFUNDED = "refunded"
    EXCHANGED = "exchanged"
    CLOSED = "closed"  #: withdrawn, a missed window, or a dispute the seller won


class RefundEvent(StrEnum):
    """What can be asked of a refund request."""

    AGREE = "agree"
    AUTO_AGREE = "auto_agree"  #: the seller did not answer in time
    REFUSE = "refuse"
    AMEND = "amend"  #: the buyer changes the request after a refusal
    ESCALATE = "escalate"
    WITHDRAW = "withdraw"
    EXPIRE = "expire"  #: the buyer let a window pass
    REQUEST_RETURN = "request_return"
    PAY = "pay"
    SHIP_RETURN = "ship_return"
    CONFIRM_RETURN = "confirm_return"  #: the seller accepts the returned parcel
    AUTO_CONFIRM_RETURN = "auto_confirm_return"  #: the seller did not look at it in time
    REJECT_RETURN = "reject_return"  #: e.g. a swapped serial number (seed 001)
    SHIP_REPLACEMENT = "ship_replacement"
    CONFIRM_REPLACEMENT = "confirm_replacement"
    AUTO_CONFIRM_REPLACEMENT = "auto_confirm_replacement"
    SETTLE_FOR_BUYER = "settle_for_buyer"  #: a dispute decided a refund
    SETTLE_FOR_SELLER = "settle_for_seller"  #: a dispute decided no refund


class RefundEffect(StrEnum):
    """Side effects a transition asks for; only the after-sales service interprets them."""

    START_ANSWER_TIMER = "start_answer_timer"
    START_BUYER_RESPONSE_TIMER = "start_buyer_response_timer"
    START_RETURN_TIMER = "start_return_timer"
    START_SELLER_CONFIRM_TIMER = "start_seller_confirm_timer"
    START_REPLACEMENT_TIMER = "start_replacement_timer"
    CANCEL_TIMERS = "cancel_timers"
    CONTINUE_AFTER_AGREEMENT = "continue_after_agreement"  #: pay now, or wait for the return
    RECORD_RETURN = "record_return"  #: the return parcel, its serials, maybe an instant refund
    RECORD_REPLACEMENT = "record_replacement"
    PAY_REFUND = "pay_refund"
    CALL_ESCALATION = "call_escalation"
    END = "end"  #: resume auto-confirm, lift the payout hold


class RefundGuard(StrEnum):
    """Conditions a row needs beyond state and actor; the service evaluates them."""

    RETURN_NOT_SUSPECT = "only when the returned serial numbers match what was shipped"
    REFUND_KIND = "only for requests that end in a refund, not an exchange"
    EXCHANGE_KIND = "only for exchanges"


S, E, A, F, G = RefundState, RefundEvent, Actor, RefundEffect, RefundGuard
_BUYER_OR_OPERATOR = frozenset({A.BUYER, A.OPERATOR})
_SELLER_ONLY = A.SELLER  # DESIGN.md §5: only the seller accepts or rejects a returned parcel
_END = [F.CANCEL_TIMERS, F.END]

_Row = tuple[
    RefundState,
    RefundEvent,
    Actor | frozenset[Actor],
    RefundState,
    list[RefundEffect],
    RefundGuard | None,
]

# fmt: off
_ROWS: list[_Row] = [
    # source                 event                       actor(s)            target                  effects                                                       guard
    (S.REQUESTED,            E.AGREE,                    A.SELLER,           S.SELLER_AGREED,        [F.CANCEL_TIMERS, F.CONTINUE_AFTER_AGREEMENT],                None),
    (S.REQUESTED,            E.AUTO_AGREE,               A.SYSTEM,           S.SELLER_AGREED,        [F.CANCEL_TIMERS, F.CONTINUE_AFTER_AGREEMENT],                None),
    (S.REQUESTED,            E.REFUSE,                   A.SELLER,           S.SELLER_REFUSED,       [F.CANCEL_TIMERS, F.START_BUYER_RESPONSE_TIMER],              None),
    (S.REQUESTED,            E.WITHDRAW,                 _BUYER_OR_OPERATOR, S.CLOSED,               _END,                                                         None),
    (S.SELLER_AGREED,        E.PAY,                      A.SYSTEM,           S.REFUNDED,             [F.PAY_REFUND, *_END],                                        None),
    (S.SELLER_AGREED,        E.REQUEST_RETURN,           A.SYSTEM,           S.AWAITING_RETURN,      [F.START_RETURN_TIMER],                                       None),
    (S.SELLER_REFUSED,       E.AMEND,                    A.BUYER,            S.REQUESTED,            [F.CANCEL_TIMERS, F.START_ANSWER_TIMER],                      None),
    (S.SELLER_REFUSED,       E.ESCALATE,                 A.BUYER,            S.ESCALATED,            [F.CANCEL_TIMERS, F.CALL_ESCALATION],                         None),
    (S.SELLER_REFUSED,       E.WITHDRAW,                 _BUYER_OR_OPERATOR, S.CLOSED,               _END,                                                         None),
    (S.SELLER_REFUSED,       E.EXPIRE,                   A.SYSTEM,           S.CLOSED,               _END,                                                         None),
    (S.AWAITING_RETURN,      E.SHIP_RETURN,              A.BUYER,            S.RETURN_SHIPPED,       [F.CANCEL_TIMERS, F.RECORD_RETURN, F.START_SELLER_CONFIRM_TIMER], None),
    (S.AWAITING_RETURN,      E.WITHDRAW,                 _BUYER_OR_OPERATOR, S.CLOSED,               _END,                                                         None),
    (S.AWAITING_RETURN,      E.EXPIRE,                   A.SYSTEM,           S.CLOSED,               _END,                                                         None),
    (S.RETURN_SHIPPED,       E.CONFIRM_RETURN,           _SELLER_ONLY,       S.REFUNDED,             [F.PAY_REFUND, *_END],                                        G.REFUND_KIND),
    (S.RETURN_SHIPPED,       E.AUTO_CONFIRM_RETURN,      A.SYSTEM,           S.REFUNDED,             [F.PAY_REFUND, *_END],                                        G.RETURN_NOT_SUSPECT),
    (S.RETURN_SHIPPED,       E.REJECT_RETURN,            _SELLER_ONLY,       S.SELLER_REFUSED,       [F.CANCEL_TIMERS, F.START_BUYER_RESPONSE_TIMER],              None),
    (S.RETURN_SHIPPED,       E.SHIP_REPLACEMENT,         _SELLER_ONLY,       S.REPLACEMENT_SHIPPED,  [F.CANCEL_TIMERS, F.RECORD_REPLACEMENT, F.START_REPLACEMENT_TIMER], G.EXCHANGE_KIND),
    (S.REPLACEMENT_SHIPPED,  E.CONFIRM_REPLACEMENT,      A.BUYER,            S.EXCHANGED,            _END,                                                         None),
    (S.REPLACEMENT_SHIPPED,  E.AUTO_CONFIRM_REPLACEMENT, A.SYSTEM,           S.EXCHANGED,            _END,                                                         None),
    (S.ESCALATED,            E.SETTLE_FOR_BUYER,         A.SYSTEM,           S.REFUNDED,             [F.PAY_REFUND, *_END],                                        None),
    (S.ESCALATED,            E.SETTLE_FOR_SELLER,        A.SYSTEM,           S.CLOSED,               _END,                                                         None),
]
# fmt: on

#: The refund machine of DESIGN.md §5 (render it with ``REFUND_TRANSITIONS.to_markdown()``).
REFUND_TRANSITIONS: Final = TransitionTable[RefundState, RefundEvent, RefundEffect](
    "refund",
    RefundState,
    initial=S.REQUESTED,
    final={S.REFUNDED, S.EXCHANGED, S.CLOSED},
    rows=_ROWS,
)

#: Outbox event type for each input.
EVENT_TYPES: Final[dict[RefundEvent, str]] = {
    E.AGREE: "refund.agreed",
    E.AUTO_AGREE: "refund.agreed",
    E.REFUSE: "refund.refused",
    E.AMEND: "refund.amended",
    E.ESCALATE: "refund.escalated",
    E.WITHDRAW: "refund.closed",
    E.EXPIRE: "refund.closed",
    E.REQUEST_RETURN: "refund.return_requested",
    E.PAY: "refund.refunded",
    E.SHIP_RETURN: "refund.return_shipped",
    E.CONFIRM_RETURN: "refund.refunded",
    E.AUTO_CONFIRM_RETURN: "refund.refunded",
    E.REJECT_RETURN: "refund.return_rejected",
    E.SHIP_REPLACEMENT: "refund.replacement_shipped",
    E.CONFIRM_REPLACEMENT: "refund.exchanged",
    E.AUTO_CONFIRM_REPLACEMENT: "refund.exchanged",
    E.SETTLE_FOR_BUYER: "refund.refunded",
    E.SETTLE_FOR_SELLER: "refund.closed",
}

#: States in which a request is still open (it pauses auto-confirm and holds payouts).
OPEN_STATES: Final = frozenset(set(RefundState) - REFUND_TRANSITIONS.final)


class DeadlineKind(StrEnum):
    """The refund request's timers (DESIGN.md §5 deadline table)."""

    SELLER_ANSWER = "refund.seller_answer"
    BUYER_RESPONSE = "refund.buyer_response"  #: amend or escalate after a refusal
    RETURN_SHIPMENT = "refund.return_shipment"
    SELLER_CONFIRM_RETURN = "refund.seller_confirm_return"
    REPLACEMENT_RECEIPT = "refund.replacement_receipt"


class ReturnShippingPayer(StrEnum):
    """Who bears the cost of sending the item back."""

    BUYER = "buyer"
    SELLER = "seller"


class BuyerTier(StrEnum):
    """How far the platform trusts a buyer (DESIGN.md §9: buyer tier unlocks instant refunds)."""

    NEW = "new"
    STANDARD = "standard"
    TRUSTED = "trusted"

    @property
    def rank(self) -> int:
        """Order of trust: new < standard < trusted."""
        return list(BuyerTier).index(self)


@dataclass(slots=True)
class RefundRequest:
    """One after-sales request on one order, with its money in minor units.

    ``requested_minor`` is what the buyer asks; ``refunded_minor`` is what the
    buyer got back through this request; ``instant_refunded_minor`` what the
    compensation fund paid ahead of the parcel's arrival, ``instant_recovered``
    whether the platform got it back.
    """

    id: str
    order_id: str
    buyer_id: str
    seller_id: str
    currency: str
    kind: RefundKind
    reason: RefundReason
    state: RefundState
    requested_minor: int
    description: str
    return_shipping_payer: ReturnShippingPayer
    freight_insured: bool
    created_at: datetime
    updated_at: datetime
    refunded_minor: int = 0
    outbound_shipping_deduction_minor: int = 0
    return_shipping_minor: int = 0  #: the buyer's postage for the way back
    return_shipping_reimbursed_minor: int = 0  #: paid by the seller or the freight insurer
    carrier_claim_minor: int = 0
    instant_refunded_minor: int = 0
    instant_recovered: bool = False
    serial_mismatch: bool = False
    paused_auto_confirm: bool = False
    amendments: int = 0
    refused_reason: str | None = None
    #: Who finally paid: "escrow", "seller_available" or "advance"; "compensation_fund" while an
    #: instant refund is not yet recovered.
    refund_source: str | None = None
    close_reason: str | None = None
    dispute_id: str | None = None
    agreed_at: datetime | None = None
    return_shipped_at: datetime | None = None
    ended_at: datetime | None = None
    answer_due_at: datetime | None = None  #: the running timer's due time, whichever it is

    @property
    def subject(self) -> str:
        """The request as a deadline and event subject."""
        return f"refund:{self.id}"

    @property
    def is_open(self) -> bool:
        """True until the request is refunded, exchanged or closed."""
        return self.state in OPEN_STATES


@dataclass(frozen=True, slots=True)
class EscalatedRequest:
    """What the disputes context receives when a buyer escalates after a refusal (DESIGN.md §6)."""

    request_id: str
    order_id: str
    buyer_id: str
    seller_id: str
    kind: str
    reason: str
    requested_minor: int
    currency: str
    description: str


@dataclass(frozen=True, slots=True)
class BuyerHistory:
    """What the platform knows of a buyer, as input to the tier."""

    completed_orders: int
    refunds: int  #: refund requests the buyer opened
    account_age_days: int  #: days since the buyer's first order
    disputes_lost: int = 0


@dataclass(frozen=True, slots=True)
class RefundFilter:
    """Which requests a listing returns; participants are narrowed to their own by the service."""

    order_id: str | None = None
    buyer_id: str | None = None
    seller_id: str | None = None
    states: frozenset[RefundState] = field(default_factory=frozenset)
