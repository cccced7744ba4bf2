"""Complaints, evidence, decisions, appeals and evidence bundles (DESIGN.md §6)."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Response, status

from tradeguard.access.model import Scope, StaffRole
from tradeguard.adapters.api.auth import ALL_STAFF, Access, Principal
from tradeguard.adapters.api.deps import COMMON, AppDep, page_of
from tradeguard.adapters.api.routing import api_router
from tradeguard.adapters.api.schemas_disputes import (
    AppealCreate,
    CaseCreate,
    CasePage,
    CasePublic,
    CaseSummary,
    ChatQuoteCreate,
    DecisionCreate,
    DecisionPublic,
    EvidenceCreate,
    EvidencePublic,
    ResponseCreate,
    WithdrawCreate,
)
from tradeguard.bootstrap import App
from tradeguard.disputes.model import CaseState
from tradeguard.disputes.ports import CaseFilter
from tradeguard.disputes.service import DecisionRequest
from tradeguard.kernel.errors import ValidationFailed

router = api_router(prefix="/v1", responses=COMMON)

CaseId = Annotated[
    str,
    Path(
        min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_]+$", description="A case id (dsp_...)."
    ),
]
Sha256 = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="An attachment's sha256.")]

#: The case's own buyer and seller, operators with `orders`, and every staff role.
CaseReader = Annotated[
    Principal, Depends(Access(operator=Scope.ORDERS, buyer=True, seller=True, staff=ALL_STAFF))
]
Party_ = Annotated[Principal, Depends(Access(buyer=True, seller=True))]
Arbitrator = Annotated[Principal, Depends(Access(staff=frozenset({StaffRole.ARBITRATOR})))]
CaseStaff = Annotated[
    Principal, Depends(Access(staff=frozenset({StaffRole.SUPPORT, StaffRole.ARBITRATOR})))
]
Supervisor = Annotated[Principal, Depends(Access(staff=ALL_STAFF))]


def _public(app: App, case_id: str, principal: Principal) -> CasePublic:
    details = app.disputes.get(case_id, principal.party)
    return CasePublic.of_details(details, staff_view=not principal.party.is_participant)


@router.post(
    "/disputes", tags=["disputes"], status_code=status.HTTP_201_CREATED, summary="File a complaint"
)
def file_complaint(body: CaseCreate, app: AppDep, principal: Party_) -> CasePublic:
    """File a complaint about your order (buyer; the seller files `malicious_review`).

    The filing window runs from payment until the type's window after
    completion; the other party is asked to answer at once.
    """
    case = app.disputes.file(
        principal.party, body.order_id, body.type, body.description, body.claimed_minor
    )
    return _public(app, case.id, principal)


@router.get("/disputes", tags=["disputes"], summary="List cases")
def list_cases(
    app: AppDep,
    principal: CaseReader,
    state: Annotated[
        list[CaseState] | None, Query(description="Only cases in these states.")
    ] = None,
    order_id: Annotated[str | None, Query(max_length=40)] = None,
    overdue: Annotated[
        bool | None, Query(description="Only cases past (or within) their staff SLA.")
    ] = None,
    cursor: Annotated[
        str | None, Query(max_length=40, description="next_cursor of the previous page.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> CasePage:
    """Cases newest first; a buyer or seller sees only their own."""
    where = CaseFilter(order_id=order_id, states=state, overdue=overdue)
    rows = app.disputes.find(principal.party, where, before_id=cursor, limit=limit + 1)
    page, next_cursor = page_of(rows, limit)
    staff_view = not principal.party.is_participant
    return CasePage(
        data=[CaseSummary.of(c, staff_view=staff_view) for c in page], next_cursor=next_cursor
    )


@router.get("/dispute-queue", tags=["disputes"], summary="The supervisor queue of overdue cases")
def supervisor_queue(
    app: AppDep,
    _: Supervisor,
    cursor: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> CasePage:
    """Cases past their staff SLA and not yet decided, newest first (staff)."""
    page, next_cursor = page_of(
        app.disputes.supervisor_queue(before_id=cursor, limit=limit + 1), limit
    )
    return CasePage(data=[CaseSummary.of(c) for c in page], next_cursor=next_cursor)


@router.get("/disputes/{case_id}", tags=["disputes"], summary="Get a case")
def get_case(case_id: CaseId, app: AppDep, principal: CaseReader) -> CasePublic:
    """A case with its evidence (each item's provenance), evidence states and signed decisions."""
    return _public(app, case_id, principal)


@router.post("/disputes/{case_id}/response", tags=["disputes"], summary="Answer a complaint")
def respond(case_id: CaseId, body: ResponseCreate, app: AppDep, principal: Party_) -> CasePublic:
    """The respondent answers before the response deadline; the evidence phase starts."""
    app.disputes.respond(case_id, principal.party, body.statement)
    return _public(app, case_id, principal)


@router.post(
    "/disputes/{case_id}/evidence",
    tags=["disputes"],
    status_code=status.HTTP_201_CREATED,
    summary="Stage evidence",
)
def stage_evidence(
    case_id: CaseId, body: EvidenceCreate, app: AppDep, principal: Party_
) -> EvidencePublic:
    """Stage an upload (content-addressed by sha256, size and type checked) or a statement.

    Nothing counts, and the other party sees nothing, until you submit.
    """
    content = None
    if body.content_base64 is not None:
        try:
            content = base64.b64decode(body.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise ValidationFailed(
                "content_base64 is not valid base64.", field="content_base64"
            ) from None
    item = app.disputes.stage_evidence(
        case_id,
        principal.party,
        body.kind,
        body.title,
        description=body.description,
        content=content,
        content_type=body.content_type,
    )
    return EvidencePublic.of(item)


@router.post(
    "/disputes/{case_id}/evidence/submit", tags=["disputes"], summary="Submit your evidence"
)
def submit_evidence(case_id: CaseId, app: AppDep, principal: Party_) -> CasePublic:
    """Submit everything you staged, once."""
    app.disputes.submit_evidence(case_id, principal.party)
    return _public(app, case_id, principal)


@router.post(
    "/disputes/{case_id}/chat-quotes",
    tags=["disputes"],
    status_code=status.HTTP_201_CREATED,
    summary="Quote the order's chat",
)
def quote_chat(
    case_id: CaseId, body: ChatQuoteCreate, app: AppDep, principal: Party_
) -> EvidencePublic:
    """Attach a range of the order's chat with its hash-chain proof; auto-replies never count as promises."""
    item = app.disputes.quote_chat(
        case_id, principal.party, body.conversation_id, body.from_seq, body.to_seq, body.promise_seq
    )
    return EvidencePublic.of(item)


@router.get(
    "/disputes/{case_id}/attachments/{sha256}",
    tags=["disputes"],
    summary="Download an attachment",
    response_class=Response,
)
def attachment(case_id: CaseId, sha256: Sha256, app: AppDep, principal: CaseReader) -> Response:
    """An uploaded file of the case's evidence, by its sha256."""
    data, content_type = app.disputes.blob(case_id, sha256, principal.party)
    return Response(
        content=data, media_type=content_type, headers={"X-Content-Type-Options": "nosniff"}
    )


@router.post("/disputes/{case_id}/decision", tags=["disputes"], summary="Decide a case")
def decide(
    case_id: CaseId, body: DecisionCreate, app: AppDep, principal: Arbitrator
) -> DecisionPublic:
    """Rule on the case (arbitrator): money moves through the ledger and the decision is signed."""
    request = DecisionRequest(
        body.outcome,
        body.reason,
        body.refund_minor,
        body.compensation_minor,
        body.credit_points,
        body.exclude_reviews,
    )
    return DecisionPublic.of(app.disputes.decide(case_id, principal.party, request))


@router.post("/disputes/{case_id}/appeal", tags=["disputes"], summary="Appeal a decision")
def appeal(case_id: CaseId, body: AppealCreate, app: AppDep, principal: Party_) -> CasePublic:
    """Appeal the decision, once, within the appeal window (either party)."""
    app.disputes.appeal(case_id, principal.party, body.reason)
    return _public(app, case_id, principal)


@router.post("/disputes/{case_id}/appeal/take-up", tags=["disputes"], summary="Take up an appeal")
def take_up_appeal(case_id: CaseId, app: AppDep, principal: CaseStaff) -> CasePublic:
    """Staff (support or arbitrator) take an appealed case up for review again."""
    app.disputes.take_up_appeal(case_id, principal.party)
    return _public(app, case_id, principal)


@router.post("/disputes/{case_id}/withdraw", tags=["disputes"], summary="Withdraw a complaint")
def withdraw(case_id: CaseId, body: WithdrawCreate, app: AppDep, principal: Party_) -> CasePublic:
    """The complainant withdraws before a decision."""
    app.disputes.withdraw(case_id, principal.party, body.reason)
    return _public(app, case_id, principal)


@router.get("/disputes/{case_id}/bundle", tags=["disputes"], summary="Export the evidence bundle")
def bundle(case_id: CaseId, app: AppDep, principal: CaseReader) -> dict[str, Any]:
    """The case as one signed file: JSON, attachments, chain proofs and signed decisions.

    `tradeguard evidence verify FILE` checks it offline with the platform public keys.
    """
    return app.disputes.export_bundle(case_id, principal.party)
