"""Disputes: case types, states, the transition table and the records kept per case (DESIGN.md §6).

A case is filed by a *complainant* against a *respondent* about one order. The
buyer complains about the seller for most types; the seller complains about the
buyer for a malicious review. Inputs are imperative (``respond``, ``decide``);
the outbox events they emit are facts (``dispute.responded``, ``dispute.decided``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from tradeguard.kernel.parties import Actor
from tradeguard.kernel.statemachine import TransitionTable


class CaseType(StrEnum):
    """What the complaint is about; each type has its own filing window and staff SLA."""

    NOT_RECEIVED = "not_received"
    NOT_AS_DESCRIBED = "not_as_described"
    QUALITY = "quality"
    LATE_SHIPMENT = "late_shipment"
    BROKEN_PROMISE = "broken_promise"  #: 违背承诺
    SELLER_HARASSMENT = "seller_harassment"  #: 恶意骚扰, e.g. after a bad review
    MALICIOUS_REVIEW = "malicious_review"  #: 恶意评价, filed by the seller
    ESCALATED_AFTER_SALES = "escalated_after_sales"  #: an after-sales request the seller refused

    @property
    def complainant(self) -> Actor:
        """Who files this type: the seller for a malicious review, the buyer otherwise."""
        return Actor.SELLER if self == CaseType.MALICIOUS_REVIEW else Actor.BUYER


#: Types a party may file directly; escalations arrive from the after-sales context.
FILEABLE: Final = frozenset(CaseType) - {CaseType.ESCALATED_AFTER_SALES}


class CaseState(StrEnum):
    """Where a case stands."""

    OPEN = "open"  #: filed; the respondent is about to be asked
    AWAITING_RESPONSE = "awaiting_response"  #: the respondent must answer by ``response_due_at``
    EVIDENCE = "evidence"  #: both parties may submit evidence until ``evidence_due_at``
    UNDER_REVIEW = "under_review"  #: staff review, counted against the type's SLA
    DECIDED = "decided"  #: an arbitrator decided; one appeal may follow within the window
    APPEALED = "appealed"  #: a party appealed; staff take the case up again
    CLOSED = "closed"  #: withdrawn, or the decision is final


class CaseEvent(StrEnum):
    """What can be asked of a case."""

    REQUEST_RESPONSE = "request_response"
    RESPOND = "respond"
    RESPONSE_OVERDUE = "response_overdue"
    STAGE_EVIDENCE = "stage_evidence"
    SUBMIT_EVIDENCE = "submit_evidence"
    CLOSE_EVIDENCE = "close_evidence"
    ESCALATE_OVERDUE = "escalate_overdue"
    DECIDE = "decide"
    APPEAL = "appeal"
    TAKE_UP_APPEAL = "take_up_appeal"
    FINALISE = "finalise"
    WITHDRAW = "withdraw"


class CaseEffect(StrEnum):
    """Side effects a transition asks for; only the dispute service interprets them."""

    START_RESPONSE_DEADLINE = "start_response_deadline"
    RECORD_RESPONSE = "record_response"
    RECORD_SILENCE = "record_silence"  #: the respondent let the deadline pass
    START_EVIDENCE_DEADLINE = "start_evidence_deadline"
    STAGE_ITEM = "stage_item"
    SUBMIT_ITEMS = "submit_items"
    SUGGEST = "suggest"  #: run the rule table and report the suggestion to staff
    START_STAFF_SLA = "start_staff_sla"
    MARK_OVERDUE = "mark_overdue"  #: into the supervisor queue, never dropped
    APPLY_DECISION = "apply_decision"  #: money, points and reviews, signed
    START_APPEAL_WINDOW = "start_appeal_window"
    RECORD_APPEAL = "record_appeal"
    CANCEL_DEADLINES = "cancel_deadlines"
    RELEASE_ORDER = "release_order"  #: resume the order's auto-confirm


class Guard(StrEnum):
    """Conditions a row needs beyond state and actor; the service evaluates them."""

    COMPLAINANT = "only the complainant"
    RESPONDENT = "only the respondent"
    PARTY = "only a party to the case"
    NOT_YET_SUBMITTED = "only once per party"
    COMPLAINANT_ONCE = "only the complainant, once"
    APPEAL_ALLOWED = "only once, within the appeal window"


S, E, A, F, G = CaseState, CaseEvent, Actor, CaseEffect, Guard
_PARTIES = frozenset({A.BUYER, A.SELLER})
_STAFF_TAKE_UP = frozenset({A.SUPPORT, A.ARBITRATOR})
_CLOSE = [F.CANCEL_DEADLINES, F.RELEASE_ORDER]
_REVIEW = [F.SUGGEST, F.START_STAFF_SLA]

_Row = tuple[
    CaseState, CaseEvent, Actor | frozenset[Actor], CaseState, list[CaseEffect], Guard | None
]

# fmt: off
_ROWS: list[_Row] = [
    # source              event                  actor(s)        target               effects                                                                 guard
    (S.OPEN,              E.REQUEST_RESPONSE,    A.SYSTEM,       S.AWAITING_RESPONSE, [F.START_RESPONSE_DEADLINE],                                            None),
    (S.OPEN,              E.STAGE_EVIDENCE,      _PARTIES,       S.OPEN,              [F.STAGE_ITEM],                                                         G.PARTY),
    (S.OPEN,              E.WITHDRAW,            _PARTIES,       S.CLOSED,            _CLOSE,                                                                 G.COMPLAINANT),
    (S.AWAITING_RESPONSE, E.RESPOND,             _PARTIES,       S.EVIDENCE,          [F.RECORD_RESPONSE, F.CANCEL_DEADLINES, F.START_EVIDENCE_DEADLINE],     G.RESPONDENT),
    (S.AWAITING_RESPONSE, E.RESPONSE_OVERDUE,    A.SYSTEM,       S.UNDER_REVIEW,      [F.RECORD_SILENCE, F.CANCEL_DEADLINES, *_REVIEW],                       None),
    (S.AWAITING_RESPONSE, E.STAGE_EVIDENCE,      _PARTIES,       S.AWAITING_RESPONSE, [F.STAGE_ITEM],                                                         G.PARTY),
    (S.AWAITING_RESPONSE, E.SUBMIT_EVIDENCE,     _PARTIES,       S.AWAITING_RESPONSE, [F.SUBMIT_ITEMS],                                                       G.COMPLAINANT_ONCE),
    (S.AWAITING_RESPONSE, E.WITHDRAW,            _PARTIES,       S.CLOSED,            _CLOSE,                                                                 G.COMPLAINANT),
    (S.EVIDENCE,          E.STAGE_EVIDENCE,      _PARTIES,       S.EVIDENCE,          [F.STAGE_ITEM],                                                         G.PARTY),
    (S.EVIDENCE,          E.SUBMIT_EVIDENCE,     _PARTIES,       S.EVIDENCE,          [F.SUBMIT_ITEMS],                                                       G.NOT_YET_SUBMITTED),
    (S.EVIDENCE,          E.CLOSE_EVIDENCE,      A.SYSTEM,       S.UNDER_REVIEW,      [F.CANCEL_DEADLINES, *_REVIEW],                                         None),
    (S.EVIDENCE,          E.WITHDRAW,            _PARTIES,       S.CLOSED,            _CLOSE,                                                                 G.COMPLAINANT),
    (S.UNDER_REVIEW,      E.ESCALATE_OVERDUE,    A.SYSTEM,       S.UNDER_REVIEW,      [F.MARK_OVERDUE],                                                       None),
    (S.UNDER_REVIEW,      E.DECIDE,              A.ARBITRATOR,   S.DECIDED,           [F.CANCEL_DEADLINES, F.APPLY_DECISION, F.RELEASE_ORDER, F.START_APPEAL_WINDOW],          None),
    (S.UNDER_REVIEW,      E.WITHDRAW,            _PARTIES,       S.CLOSED,            _CLOSE,                                                                 G.COMPLAINANT),
    (S.DECIDED,           E.APPEAL,              _PARTIES,       S.APPEALED,          [F.CANCEL_DEADLINES, F.RECORD_APPEAL, F.START_STAFF_SLA],               G.APPEAL_ALLOWED),
    (S.DECIDED,           E.FINALISE,            A.SYSTEM,       S.CLOSED,            _CLOSE,                                                                 None),
    (S.APPEALED,          E.TAKE_UP_APPEAL,      _STAFF_TAKE_UP, S.UNDER_REVIEW,      [F.SUGGEST],                                                            None),
    (S.APPEALED,          E.ESCALATE_OVERDUE,    A.SYSTEM,       S.APPEALED,          [F.MARK_OVERDUE],                                                       None),
]
# fmt: on

#: The dispute machine of DESIGN.md §6.
CASE_TRANSITIONS: Final = TransitionTable[CaseState, CaseEvent, CaseEffect](
    "dispute", CaseState, initial=S.OPEN, final={S.CLOSED}, rows=_ROWS
)

#: Outbox event type for each input.
EVENT_TYPES: Final[dict[CaseEvent, str]] = {
    E.REQUEST_RESPONSE: "dispute.response_requested",
    E.RESPOND: "dispute.responded",
    E.RESPONSE_OVERDUE: "dispute.respondent_silent",
    E.STAGE_EVIDENCE: "dispute.evidence_staged",
    E.SUBMIT_EVIDENCE: "dispute.evidence_submitted",
    E.CLOSE_EVIDENCE: "dispute.under_review",
    E.ESCALATE_OVERDUE: "dispute.overdue",
    E.DECIDE: "dispute.decided",
    E.APPEAL: "dispute.appealed",
    E.TAKE_UP_APPEAL: "dispute.appeal_taken_up",
    E.FINALISE: "dispute.closed",
    E.WITHDRAW: "dispute.withdrawn",
}


class DeadlineKind(StrEnum):
    """A case's timers."""

    RESPONSE = "dispute.response"
    EVIDENCE = "dispute.evidence"
    STAFF_SLA = "dispute.staff_sla"
    APPEAL_WINDOW = "dispute.appeal_window"


class Outcome(StrEnum):
    """How a case ends (DESIGN.md §6)."""

    BUYER_WINS = "buyer_wins"  #: full or partial refund, and/or compensation
    SELLER_WINS = "seller_wins"
    DISMISSED = "dismissed"  #: for lack of evidence (the seed 002 ruling)
    SPLIT = "split"  #: part refunded, the rest stays with the seller


class Provenance(StrEnum):
    """Where an evidence item came from, which decides how much it weighs."""

    SYSTEM = "system"  #: TradeGuard's own record: authoritative and verifiable
    PARTY = "party"  #: uploaded or written by a party: shown as party-provided


class EvidenceKind(StrEnum):
    """What an evidence item is."""

    PAYMENT_RECORD = "payment_record"
    SHIPMENT = "shipment"
    DELIVERY_RECORD = "delivery_record"
    TRACKING_EVENT = "tracking_event"
    PRIOR_DECISION = "prior_decision"
    CHAT_RANGE = "chat_range"  #: messages with their hash-chain proof
    PHOTO = "photo"
    SCREENSHOT = "screenshot"
    PAYMENT_SCREENSHOT = "payment_screenshot"  #: never counts as payment (seed 001)
    DOCUMENT = "document"
    STATEMENT = "statement"  #: a party's written account

    @property
    def is_system(self) -> bool:
        """True for the records TradeGuard attaches itself."""
        return self in _SYSTEM_KINDS


_SYSTEM_KINDS: Final = frozenset(
    {
        EvidenceKind.PAYMENT_RECORD,
        EvidenceKind.SHIPMENT,
        EvidenceKind.DELIVERY_RECORD,
        EvidenceKind.TRACKING_EVENT,
        EvidenceKind.PRIOR_DECISION,
        EvidenceKind.CHAT_RANGE,
    }
)

#: What parties may upload or write themselves.
PARTY_KINDS: Final = frozenset(EvidenceKind) - _SYSTEM_KINDS


@dataclass(frozen=True, slots=True)
class EvidenceItem:
    """One piece of evidence, with its provenance and whether the rules count it."""

    id: str
    case_id: str
    party: str  #: "buyer", "seller" or "system"
    kind: EvidenceKind
    provenance: Provenance
    title: str
    data: dict[str, Any]
    created_at: datetime
    submitted: bool
    counts: bool = True  #: False when a rule says this item proves nothing (e.g. an auto-reply)
    note: str | None = None  #: why it does not count, shown to staff
    blob_sha256: str | None = None
    blob_size: int | None = None
    content_type: str | None = None


@dataclass(frozen=True, slots=True)
class Suggestion:
    """What the rule table suggests; staff decide."""

    rule: str  #: the name of the rule that matched
    outcome: Outcome | None  #: None: no rule applies, staff judge
    reason: str
    refund_minor: int = 0
    compensation_minor: int = 0
    credit_points: int = 0

    def to_dict(self) -> dict[str, Any]:
        """As stored and shown."""
        return {
            "rule": self.rule,
            "outcome": self.outcome.value if self.outcome else None,
            "reason": self.reason,
            "refund_minor": self.refund_minor,
            "compensation_minor": self.compensation_minor,
            "credit_points": self.credit_points,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Suggestion:
        """From its stored form."""
        return cls(
            data["rule"],
            Outcome(data["outcome"]) if data.get("outcome") else None,
            data["reason"],
            int(data.get("refund_minor", 0)),
            int(data.get("compensation_minor", 0)),
            int(data.get("credit_points", 0)),
        )


@dataclass(frozen=True, slots=True)
class Decision:
    """An arbitrator's ruling, as signed with the platform key."""

    id: str
    case_id: str
    outcome: Outcome
    refund_minor: int
    compensation_minor: int
    credit_points: int
    reviews_excluded: int
    reason: str
    decided_by: str
    decided_at: datetime
    payload: dict[str, Any]  #: the exact document that was signed
    key_id: str | None
    signature_b64: str | None
    money_source: str | None  #: "escrow", "seller_available", "advance" or "after_sales"
    appeal_round: int  #: 0 for the first decision, 1 after an appeal


@dataclass(slots=True)
class Case:
    """A complaint about one order, and where it stands."""

    id: str
    type: CaseType
    order_id: str
    buyer_id: str
    seller_id: str
    complainant: Actor
    state: CaseState
    currency: str
    description: str
    claimed_minor: int
    created_at: datetime
    updated_at: datetime
    after_sales_request_id: str | None = None
    response_due_at: datetime | None = None
    responded_at: datetime | None = None
    response_statement: str | None = None
    respondent_silent: bool = False
    evidence_due_at: datetime | None = None
    buyer_submitted_at: datetime | None = None
    seller_submitted_at: datetime | None = None
    review_started_at: datetime | None = None
    sla_due_at: datetime | None = None
    overdue: bool = False
    overdue_at: datetime | None = None
    suggestion: Suggestion | None = None
    outcome: Outcome | None = None
    decided_at: datetime | None = None
    appeal_due_at: datetime | None = None
    appealed_by: str | None = None
    appealed_at: datetime | None = None
    appeal_reason: str | None = None
    holds_auto_confirm: bool = False
    closed_at: datetime | None = None
    close_reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def respondent(self) -> Actor:
        """The party the complaint is against."""
        return Actor.SELLER if self.complainant == Actor.BUYER else Actor.BUYER

    @property
    def subject(self) -> str:
        """The case as a deadline and event subject."""
        return f"dispute:{self.id}"

    def party_id(self, actor: Actor) -> str | None:
        """The id of the case's buyer or seller."""
        if actor == Actor.BUYER:
            return self.buyer_id
        if actor == Actor.SELLER:
            return self.seller_id
        return None

    def submitted_at(self, actor: Actor) -> datetime | None:
        """When ``actor`` submitted its evidence, if it did."""
        return self.buyer_submitted_at if actor == Actor.BUYER else self.seller_submitted_at

    @property
    def is_open(self) -> bool:
        """True until the case is closed."""
        return self.state != CaseState.CLOSED


@dataclass(frozen=True, slots=True)
class EvidenceState:
    """A party's evidence state, the way Stripe shows a dispute's (``evidence_details``)."""

    due_by: datetime | None
    has_evidence: bool
    past_due: bool
    submission_count: int


def evidence_state(
    case: Case, actor: Actor, items: list[EvidenceItem], now: datetime
) -> EvidenceState:
    """``actor``'s evidence state: when it is due, whether it submitted anything, if it is late."""
    due = case.evidence_due_at
    if case.state in (CaseState.OPEN, CaseState.AWAITING_RESPONSE):
        due = case.response_due_at
    submitted = case.submitted_at(actor)
    mine = [i for i in items if i.party == actor.value and i.submitted]
    open_for_evidence = case.state in (
        CaseState.OPEN,
        CaseState.AWAITING_RESPONSE,
        CaseState.EVIDENCE,
    )
    past_due = submitted is None and (not open_for_evidence or (due is not None and now >= due))
    return EvidenceState(due, bool(mine), past_due, 1 if submitted else 0)
