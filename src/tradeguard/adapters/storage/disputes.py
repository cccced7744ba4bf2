"""The dispute store in SQLAlchemy Core; rows are converted to domain objects explicitly."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, func, select, update

from tradeguard.adapters.storage.sql import Prepared, Sql
from tradeguard.adapters.storage.tables.disputes import (
    dispute_cases,
    dispute_decisions,
    dispute_evidence,
)
from tradeguard.disputes.model import (
    Case,
    CaseState,
    CaseType,
    Decision,
    EvidenceItem,
    EvidenceKind,
    Outcome,
    Provenance,
    Suggestion,
)
from tradeguard.disputes.ports import CaseFilter
from tradeguard.kernel.parties import Actor

CC, EC, DC = dispute_cases.c, dispute_evidence.c, dispute_decisions.c

#: Columns a dispute use case may change; ``update`` writes exactly these.
_MUTABLE = (
    "state",
    "response_due_at",
    "responded_at",
    "response_statement",
    "respondent_silent",
    "evidence_due_at",
    "buyer_submitted_at",
    "seller_submitted_at",
    "review_started_at",
    "sla_due_at",
    "overdue",
    "overdue_at",
    "suggestion",
    "outcome",
    "decided_at",
    "appeal_due_at",
    "appealed_by",
    "appealed_at",
    "appeal_reason",
    "holds_auto_confirm",
    "closed_at",
    "close_reason",
    "extra",
    "updated_at",
)
_IMMUTABLE = (
    "id",
    "type",
    "order_id",
    "buyer_id",
    "seller_id",
    "complainant",
    "currency",
    "description",
    "claimed_minor",
    "after_sales_request_id",
    "created_at",
)

_GET = Prepared(select(dispute_cases).where(CC.id == bindparam("case_id")))
_GET_LOCKED = Prepared(select(dispute_cases).where(CC.id == bindparam("case_id")).with_for_update())
_UPDATE = Prepared(
    update(dispute_cases)
    .where(CC.id == bindparam("case_id"))
    .values({c: bindparam(c) for c in _MUTABLE})
)
_INSERT = Prepared(
    dispute_cases.insert().values({c: bindparam(c) for c in (*_IMMUTABLE, *_MUTABLE)}).inline()
)
_EVIDENCE = Prepared(
    select(dispute_evidence).where(EC.case_id == bindparam("case_id")).order_by(EC.id)
)
_OPEN_FOR_ORDER = Prepared(
    select(dispute_cases)
    .where(CC.order_id == bindparam("order_id"), CC.state != CaseState.CLOSED.value)
    .order_by(CC.id)
)


def _case_row(case: Case) -> dict[str, Any]:
    return {
        "id": case.id,
        "case_id": case.id,
        "type": case.type.value,
        "order_id": case.order_id,
        "buyer_id": case.buyer_id,
        "seller_id": case.seller_id,
        "complainant": case.complainant.value,
        "currency": case.currency,
        "description": case.description,
        "claimed_minor": case.claimed_minor,
        "after_sales_request_id": case.after_sales_request_id,
        "created_at": case.created_at,
        "state": case.state.value,
        "response_due_at": case.response_due_at,
        "responded_at": case.responded_at,
        "response_statement": case.response_statement,
        "respondent_silent": case.respondent_silent,
        "evidence_due_at": case.evidence_due_at,
        "buyer_submitted_at": case.buyer_submitted_at,
        "seller_submitted_at": case.seller_submitted_at,
        "review_started_at": case.review_started_at,
        "sla_due_at": case.sla_due_at,
        "overdue": case.overdue,
        "overdue_at": case.overdue_at,
        "suggestion": case.suggestion.to_dict() if case.suggestion else None,
        "outcome": case.outcome.value if case.outcome else None,
        "decided_at": case.decided_at,
        "appeal_due_at": case.appeal_due_at,
        "appealed_by": case.appealed_by,
        "appealed_at": case.appealed_at,
        "appeal_reason": case.appeal_reason,
        "holds_auto_confirm": case.holds_auto_confirm,
        "closed_at": case.closed_at,
        "close_reason": case.close_reason,
        "extra": case.extra,
        "updated_at": case.updated_at,
    }


def _case(row: Any) -> Case:
    return Case(
        id=row.id,
        type=CaseType(row.type),
        order_id=row.order_id,
        buyer_id=row.buyer_id,
        seller_id=row.seller_id,
        complainant=Actor(row.complainant),
        state=CaseState(row.state),
        currency=row.currency,
        description=row.description,
        claimed_minor=row.claimed_minor,
        created_at=row.created_at,
        updated_at=row.updated_at,
        after_sales_request_id=row.after_sales_request_id,
        response_due_at=row.response_due_at,
        responded_at=row.responded_at,
        response_statement=row.response_statement,
        respondent_silent=bool(row.respondent_silent),
        evidence_due_at=row.evidence_due_at,
        buyer_submitted_at=row.buyer_submitted_at,
        seller_submitted_at=row.seller_submitted_at,
        review_started_at=row.review_started_at,
        sla_due_at=row.sla_due_at,
        overdue=bool(row.overdue),
        overdue_at=row.overdue_at,
        suggestion=Suggestion.from_dict(row.suggestion) if row.suggestion else None,
        outcome=Outcome(row.outcome) if row.outcome else None,
        decided_at=row.decided_at,
        appeal_due_at=row.appeal_due_at,
        appealed_by=row.appealed_by,
        appealed_at=row.appealed_at,
        appeal_reason=row.appeal_reason,
        holds_auto_confirm=bool(row.holds_auto_confirm),
        closed_at=row.closed_at,
        close_reason=row.close_reason,
        extra=dict(row.extra or {}),
    )


def _item(row: Any) -> EvidenceItem:
    return EvidenceItem(
        id=row.id,
        case_id=row.case_id,
        party=row.party,
        kind=EvidenceKind(row.kind),
        provenance=Provenance(row.provenance),
        title=row.title,
        data=dict(row.data),
        created_at=row.created_at,
        submitted=bool(row.submitted),
        counts=bool(row.counts),
        note=row.note,
        blob_sha256=row.blob_sha256,
        blob_size=row.blob_size,
        content_type=row.content_type,
    )


def _decision(row: Any) -> Decision:
    return Decision(
        id=row.id,
        case_id=row.case_id,
        outcome=Outcome(row.outcome),
        refund_minor=row.refund_minor,
        compensation_minor=row.compensation_minor,
        credit_points=row.credit_points,
        reviews_excluded=row.reviews_excluded,
        reason=row.reason,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        payload=dict(row.payload),
        key_id=row.key_id,
        signature_b64=row.signature_b64,
        money_source=row.money_source,
        appeal_round=row.appeal_round,
    )


class SqlDisputeStore:
    """Cases, evidence and decisions on one connection."""

    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    def insert(self, case: Case) -> None:
        """Store a new case."""
        self._sql.run(_INSERT, _case_row(case))

    def get(self, case_id: str, *, lock: bool = False) -> Case | None:
        """One case; with ``lock``, row-locked until the unit of work ends."""
        row = self._sql.first(_GET_LOCKED if lock else _GET, {"case_id": case_id})
        return _case(row) if row is not None else None

    def update(self, case: Case) -> None:
        """Write back a case's mutable fields."""
        row = _case_row(case)
        self._sql.run(_UPDATE, {"case_id": case.id, **{c: row[c] for c in _MUTABLE}})

    def find(self, where: CaseFilter, *, before_id: str | None, limit: int) -> list[Case]:
        """Cases matching ``where``, newest first, strictly before ``before_id``."""
        query = select(dispute_cases)
        if where.buyer_id is not None:
            query = query.where(CC.buyer_id == where.buyer_id)
        if where.seller_id is not None:
            query = query.where(CC.seller_id == where.seller_id)
        if where.order_id is not None:
            query = query.where(CC.order_id == where.order_id)
        if where.states:
            query = query.where(CC.state.in_([s.value for s in where.states]))
        if where.overdue is not None:
            query = query.where(CC.overdue == where.overdue)
        if before_id is not None:
            query = query.where(CC.id < before_id)
        query = query.order_by(CC.id.desc()).limit(limit)
        return [_case(r) for r in self._sql.rows(query)]

    def open_for_order(self, order_id: str) -> list[Case]:
        """The order's cases that are not closed."""
        return [_case(r) for r in self._sql.rows(_OPEN_FOR_ORDER, {"order_id": order_id})]

    def complaints_lost_by_buyer(self, buyer_id: str) -> int:
        """How many of the buyer's own complaints were decided for the seller or dismissed."""
        c = dispute_cases.c
        query = select(func.count()).where(
            c.buyer_id == buyer_id,
            c.complainant == Actor.BUYER.value,
            c.outcome.in_(("seller_wins", "dismissed")),
        )
        return int(self._sql.scalar(query) or 0)

    def insert_evidence(self, items: list[EvidenceItem]) -> None:
        """Store evidence items."""
        for item in items:
            self._sql.run(
                dispute_evidence.insert().values(
                    id=item.id,
                    case_id=item.case_id,
                    party=item.party,
                    kind=item.kind.value,
                    provenance=item.provenance.value,
                    title=item.title,
                    data=item.data,
                    submitted=item.submitted,
                    counts=item.counts,
                    note=item.note,
                    blob_sha256=item.blob_sha256,
                    blob_size=item.blob_size,
                    content_type=item.content_type,
                    created_at=item.created_at,
                )
            )

    def evidence(self, case_id: str) -> list[EvidenceItem]:
        """A case's evidence, oldest first."""
        return [_item(r) for r in self._sql.rows(_EVIDENCE, {"case_id": case_id})]

    def mark_submitted(self, case_id: str, party: str) -> int:
        """Mark the party's staged items submitted; return how many."""
        staged = [i for i in self.evidence(case_id) if i.party == party and not i.submitted]
        if staged:
            self._sql.run(
                update(dispute_evidence)
                .where(EC.case_id == case_id, EC.party == party, EC.submitted.is_(False))
                .values(submitted=True)
            )
        return len(staged)

    def insert_decision(self, decision: Decision) -> None:
        """Store a signed decision."""
        order_id = decision.payload["order_id"]
        self._sql.run(
            dispute_decisions.insert().values(
                id=decision.id,
                case_id=decision.case_id,
                order_id=order_id,
                outcome=decision.outcome.value,
                refund_minor=decision.refund_minor,
                compensation_minor=decision.compensation_minor,
                credit_points=decision.credit_points,
                reviews_excluded=decision.reviews_excluded,
                reason=decision.reason,
                decided_by=decision.decided_by,
                decided_at=decision.decided_at,
                payload=decision.payload,
                key_id=decision.key_id,
                signature_b64=decision.signature_b64,
                money_source=decision.money_source,
                appeal_round=decision.appeal_round,
            )
        )

    def decisions(self, case_id: str) -> list[Decision]:
        """A case's decisions, first decision first."""
        query = select(dispute_decisions).where(DC.case_id == case_id).order_by(DC.appeal_round)
        return [_decision(r) for r in self._sql.rows(query)]

    def decisions_for_order(self, order_id: str) -> list[Decision]:
        """Every decision on cases of an order, oldest first."""
        query = select(dispute_decisions).where(DC.order_id == order_id).order_by(DC.id)
        return [_decision(r) for r in self._sql.rows(query)]

    def decided_case_ids(self) -> list[str]:
        """Ids of every case that has a decision, oldest first."""
        query = select(DC.case_id).distinct().order_by(DC.case_id)
        return [r[0] for r in self._sql.rows(query)]
