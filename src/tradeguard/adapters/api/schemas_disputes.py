"""Request and response bodies of the dispute endpoints (DESIGN.md §6)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from tradeguard.disputes.model import (
    Case,
    CaseState,
    CaseType,
    Decision,
    EvidenceItem,
    EvidenceKind,
    Outcome,
    Provenance,
)
from tradeguard.disputes.service import CaseDetails

AmountMinor = Annotated[int, Field(ge=0, le=10**13, strict=True)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=4000)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CaseCreate(_In):
    """A complaint about one of your orders."""

    order_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_]{1,40}$")]
    type: CaseType
    description: Text
    claimed_minor: AmountMinor | None = Field(
        default=None, description="What you claim back; default: everything paid and not refunded."
    )


class ResponseCreate(_In):
    """The respondent's answer."""

    statement: Text


class EvidenceCreate(_In):
    """An upload (base64 content) or a written statement, staged until you submit."""

    kind: EvidenceKind
    title: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    description: Annotated[str, StringConstraints(max_length=4000)] = ""
    content_base64: str | None = Field(default=None, max_length=8_000_000)
    content_type: Annotated[str, StringConstraints(max_length=100)] | None = None


class ChatQuoteCreate(_In):
    """A range of the order's chat to attach, with its hash-chain proof."""

    conversation_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_]{1,40}$")]
    from_seq: Annotated[int, Field(ge=0, le=2**31)]
    to_seq: Annotated[int, Field(ge=0, le=2**31)]
    promise_seq: Annotated[int, Field(ge=0, le=2**31)] | None = Field(
        default=None, description="The message holding the seller's promise, if any."
    )


class DecisionCreate(_In):
    """An arbitrator's ruling."""

    outcome: Outcome
    reason: Text
    refund_minor: AmountMinor = 0
    compensation_minor: AmountMinor = 0
    credit_points: Annotated[int, Field(ge=0, le=1000, strict=True)] = 0
    exclude_reviews: bool = False


class AppealCreate(_In):
    """Why the decision should be reviewed again."""

    reason: Text


class WithdrawCreate(_In):
    """Why the complainant withdraws."""

    reason: Annotated[str, StringConstraints(max_length=500)] = ""


class SuggestionPublic(BaseModel):
    """The rule table's suggestion; staff decide."""

    rule: str
    outcome: Outcome | None
    reason: str
    refund_minor: int
    compensation_minor: int
    credit_points: int


class EvidenceStatePublic(BaseModel):
    """A party's evidence state (as Stripe's ``evidence_details``)."""

    due_by: datetime | None
    has_evidence: bool
    past_due: bool
    submission_count: int


class EvidencePublic(BaseModel):
    """One evidence item with its provenance."""

    id: str
    party: str
    kind: EvidenceKind
    provenance: Provenance
    title: str
    data: dict[str, Any]
    submitted: bool
    counts: bool
    note: str | None
    attachment_sha256: str | None
    attachment_size: int | None
    content_type: str | None
    created_at: datetime

    @classmethod
    def of(cls, item: EvidenceItem) -> EvidencePublic:
        """From the domain item."""
        return cls(
            id=item.id,
            party=item.party,
            kind=item.kind,
            provenance=item.provenance,
            title=item.title,
            data=item.data,
            submitted=item.submitted,
            counts=item.counts,
            note=item.note,
            attachment_sha256=item.blob_sha256,
            attachment_size=item.blob_size,
            content_type=item.content_type,
            created_at=item.created_at,
        )


class DecisionPublic(BaseModel):
    """A signed decision."""

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
    money_source: str | None
    appeal_round: int
    payload: dict[str, Any]
    key_id: str | None
    signature_b64: str | None

    @classmethod
    def of(cls, decision: Decision) -> DecisionPublic:
        """From the domain decision."""
        return cls(
            id=decision.id,
            case_id=decision.case_id,
            outcome=decision.outcome,
            refund_minor=decision.refund_minor,
            compensation_minor=decision.compensation_minor,
            credit_points=decision.credit_points,
            reviews_excluded=decision.reviews_excluded,
            reason=decision.reason,
            decided_by=decision.decided_by,
            decided_at=decision.decided_at,
            money_source=decision.money_source,
            appeal_round=decision.appeal_round,
            payload=decision.payload,
            key_id=decision.key_id,
            signature_b64=decision.signature_b64,
        )


class CaseSummary(BaseModel):
    """A case's type, parties and state."""

    id: str
    type: CaseType
    order_id: str
    buyer_id: str
    seller_id: str
    complainant: str
    respondent: str
    state: CaseState
    currency: str
    claimed_minor: int
    description: str
    response_due_at: datetime | None
    responded_at: datetime | None
    respondent_silent: bool
    evidence_due_at: datetime | None
    sla_due_at: datetime | None
    overdue: bool
    outcome: Outcome | None
    decided_at: datetime | None
    appeal_due_at: datetime | None
    appealed_at: datetime | None
    closed_at: datetime | None
    created_at: datetime
    suggestion: SuggestionPublic | None

    @classmethod
    def of(cls, case: Case, *, staff_view: bool = True) -> CaseSummary:
        """From the domain case; the suggestion is shown to staff and operators only."""
        suggestion = case.suggestion.to_dict() if case.suggestion and staff_view else None
        return cls(
            id=case.id,
            type=case.type,
            order_id=case.order_id,
            buyer_id=case.buyer_id,
            seller_id=case.seller_id,
            complainant=case.complainant.value,
            respondent=case.respondent.value,
            state=case.state,
            currency=case.currency,
            claimed_minor=case.claimed_minor,
            description=case.description,
            response_due_at=case.response_due_at,
            responded_at=case.responded_at,
            respondent_silent=case.respondent_silent,
            evidence_due_at=case.evidence_due_at,
            sla_due_at=case.sla_due_at,
            overdue=case.overdue,
            outcome=case.outcome,
            decided_at=case.decided_at,
            appeal_due_at=case.appeal_due_at,
            appealed_at=case.appealed_at,
            closed_at=case.closed_at,
            created_at=case.created_at,
            suggestion=SuggestionPublic(**suggestion) if suggestion else None,
        )


class CasePublic(CaseSummary):
    """A case with its evidence, each party's evidence state and its decisions."""

    evidence_details: dict[str, EvidenceStatePublic]
    evidence: list[EvidencePublic]
    decisions: list[DecisionPublic]

    @classmethod
    def of_details(cls, details: CaseDetails, *, staff_view: bool = True) -> CasePublic:
        """From the domain details."""
        summary = CaseSummary.of(details.case, staff_view=staff_view)
        return cls(
            **summary.model_dump(),
            evidence_details={
                party: EvidenceStatePublic(
                    due_by=s.due_by,
                    has_evidence=s.has_evidence,
                    past_due=s.past_due,
                    submission_count=s.submission_count,
                )
                for party, s in details.evidence_states.items()
            },
            evidence=[EvidencePublic.of(i) for i in details.evidence],
            decisions=[DecisionPublic.of(d) for d in details.decisions],
        )


class CasePage(BaseModel):
    """A page of cases, newest first."""

    data: list[CaseSummary]
    next_cursor: str | None
