"""Dispute use cases: each runs in one unit of work and changes a case only through ``_apply``.

``_apply`` is the one place a case's state is assigned: it fires the transition
table, checks the row's guard, then interprets the row's effects in order
(timers through deadlines, money through the order and settlement services,
facts into the outbox) before writing the case back.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from tradeguard.deadlines import service as deadlines
from tradeguard.deadlines.model import Deadline, NewDeadline
from tradeguard.deadlines.model import Outcome as TimerOutcome
from tradeguard.disputes import rules
from tradeguard.disputes.bundle import FORMAT, canonical_json, evidence_sha256
from tradeguard.disputes.model import (
    CASE_TRANSITIONS,
    EVENT_TYPES,
    FILEABLE,
    PARTY_KINDS,
    Case,
    CaseEffect,
    CaseEvent,
    CaseState,
    CaseType,
    DeadlineKind,
    Decision,
    EvidenceItem,
    EvidenceKind,
    EvidenceState,
    Guard,
    Outcome,
    Provenance,
    evidence_state,
)
from tradeguard.disputes.policy import DisputePolicy
from tradeguard.disputes.ports import (
    AfterSalesLink,
    BlobStore,
    CaseFilter,
    ChatRecords,
    DecisionSigner,
    DisputesUnitOfWork,
    EscalatedRequest,
    SellerCreditLink,
)
from tradeguard.events import service as events
from tradeguard.events.model import DomainEvent
from tradeguard.kernel.errors import (
    Conflict,
    Forbidden,
    NotFound,
    TransitionNotAllowed,
    ValidationFailed,
)
from tradeguard.kernel.money import Money
from tradeguard.kernel.parties import Actor, Party
from tradeguard.kernel.runtime import Runtime
from tradeguard.kernel.uow import UnitOfWorkRunner
from tradeguard.ledger.model import TransferReason
from tradeguard.orders.model import Order, OrderState
from tradeguard.orders.service import OrderService
from tradeguard.orders.settlement import SettlementService

_SYSTEM = Party(Actor.SYSTEM)
_RECEIVING = frozenset({OrderState.SHIPPED, OrderState.DELIVERED})


class FilingRefused(Conflict):
    """This complaint cannot be filed for this order now."""

    code = "complaint_refused"


class NotPaid(FilingRefused):
    """There is no payment on record for this order; a screenshot of a payment never counts as payment."""

    code = "no_payment_on_record"


class FilingWindowClosed(FilingRefused):
    """The filing window for this complaint has closed."""

    code = "filing_window_closed"


@dataclass(slots=True)
class _Intent:
    """The data an event carries into its effects."""

    statement: str | None = None
    item: EvidenceItem | None = None
    decision: DecisionRequest | None = None
    reason: str | None = None


@dataclass(slots=True)
class _Step:
    """What one transition collects while its effects run."""

    now: datetime
    facts: dict[str, Any] = field(default_factory=dict)
    then: CaseEvent | None = None  #: a system event to fire right after (e.g. finalise)


@dataclass(frozen=True, slots=True)
class DecisionRequest:
    """What an arbitrator decides."""

    outcome: Outcome
    reason: str
    refund_minor: int = 0
    compensation_minor: int = 0
    credit_points: int = 0
    exclude_reviews: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "outcome", Outcome(self.outcome))


@dataclass(frozen=True, slots=True)
class CaseDetails:
    """A case with its evidence, decisions and each party's evidence state."""

    case: Case
    evidence: list[EvidenceItem]
    decisions: list[Decision]
    evidence_states: dict[str, EvidenceState]
    deadlines: list[Deadline]


def case_snapshot(case: Case) -> dict[str, Any]:
    """The case as event data."""
    return {
        "case_id": case.id,
        "type": case.type.value,
        "order_id": case.order_id,
        "buyer_id": case.buyer_id,
        "seller_id": case.seller_id,
        "complainant": case.complainant.value,
        "state": case.state.value,
        "overdue": case.overdue,
    }


def case_document(case: Case) -> dict[str, Any]:
    """The case as JSON, for bundles."""

    def at(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        **case_snapshot(case),
        "currency": case.currency,
        "description": case.description,
        "claimed_minor": case.claimed_minor,
        "after_sales_request_id": case.after_sales_request_id,
        "created_at": at(case.created_at),
        "response_due_at": at(case.response_due_at),
        "responded_at": at(case.responded_at),
        "response_statement": case.response_statement,
        "respondent_silent": case.respondent_silent,
        "evidence_due_at": at(case.evidence_due_at),
        "sla_due_at": at(case.sla_due_at),
        "suggestion": case.suggestion.to_dict() if case.suggestion else None,
        "outcome": case.outcome.value if case.outcome else None,
        "decided_at": at(case.decided_at),
        "appealed_at": at(case.appealed_at),
        "closed_at": at(case.closed_at),
    }


def decision_payload(
    case: Case,
    decision_id: str,
    request: DecisionRequest,
    *,
    reviews_excluded: int,
    money_source: str | None,
    decided_by: str,
    decided_at: datetime,
    appeal_round: int,
    evidence_digest: str,
) -> dict[str, Any]:
    """The document a decision's signature covers."""
    return {
        "decision_id": decision_id,
        "case_id": case.id,
        "case_type": case.type.value,
        "order_id": case.order_id,
        "buyer_id": case.buyer_id,
        "seller_id": case.seller_id,
        "currency": case.currency,
        "outcome": request.outcome.value,
        "refund_minor": request.refund_minor,
        "compensation_minor": request.compensation_minor,
        "credit_points": request.credit_points,
        "reviews_excluded": reviews_excluded,
        "reason": request.reason,
        "money_source": money_source,
        "decided_by": decided_by,
        "decided_at": decided_at.isoformat(),
        "appeal_round": appeal_round,
        "evidence_sha256": evidence_digest,
    }


def evidence_digest(items: list[EvidenceItem]) -> str:
    """One sha256 over the case's submitted evidence as the decision saw it (bundles carry the same list)."""
    return evidence_sha256([evidence_record(i) for i in items if i.submitted])


def evidence_record(item: EvidenceItem) -> dict[str, Any]:
    """An evidence item as bundles and digests carry it."""
    return {
        "id": item.id,
        "party": item.party,
        "kind": item.kind.value,
        "provenance": item.provenance.value,
        "title": item.title,
        "data": item.data,
        "submitted": item.submitted,
        "counts": item.counts,
        "note": item.note,
        "attachment": (
            {"sha256": item.blob_sha256, "size": item.blob_size, "content_type": item.content_type}
            if item.blob_sha256
            else None
        ),
        "created_at": item.created_at.isoformat(),
    }


class DisputeService:
    """Use cases of complaints and disputes (DESIGN.md §6)."""

    def __init__(
        self,
        units: UnitOfWorkRunner[DisputesUnitOfWork],
        runtime: Runtime,
        policy: DisputePolicy,
        orders: OrderService,
        settlement: SettlementService,
        *,
        signer: DecisionSigner | None = None,
        blobs: BlobStore | None = None,
        chats: ChatRecords | None = None,
        after_sales: AfterSalesLink | None = None,
        credit: SellerCreditLink | None = None,
    ) -> None:
        self._units = units
        self._rt = runtime
        self._policy = policy
        self._orders = orders
        self._settlement = settlement
        self.signer = signer
        self.blobs = blobs
        self.chats = chats
        self.after_sales = after_sales
        self.credit = credit

    @property
    def policy(self) -> DisputePolicy:
        """The dispute policy in force."""
        return self._policy

    # -- filing ---------------------------------------------------------------------------------

    def file(
        self,
        party: Party,
        order_id: str,
        case_type: CaseType,
        description: str,
        claimed_minor: int | None = None,
    ) -> Case:
        """A buyer (or, for a malicious review, the seller) files a complaint about their order.

        The filing window runs from payment until the type's window after
        completion; the respondent is asked to answer at once.
        """
        case_type = CaseType(case_type)
        if party.actor not in (Actor.BUYER, Actor.SELLER):
            raise Forbidden("Only the order's buyer or seller files a complaint.")
        if case_type not in FILEABLE:
            raise ValidationFailed(
                "Escalated after-sales cases are opened by the after-sales flow.", field="type"
            )
        if party.actor != case_type.complainant:
            raise ValidationFailed(
                f"A {case_type.value} complaint is filed by the {case_type.complainant.value}.",
                field="type",
            )
        _check_text("description", description, 4000)

        def work(uow: DisputesUnitOfWork) -> Case:
            now = self._rt.clock.now()
            order = uow.orders.get(order_id, lock=True)
            own = order is not None and party.id == (
                order.buyer_id if party.actor == Actor.BUYER else order.seller_id
            )
            if order is None or not own:
                raise NotFound("order", order_id)
            self._check_filing(uow, order, case_type, now)
            claimed = self._claimed(order, case_type, claimed_minor)
            case = Case(
                id=self._rt.ids.new("dsp", now),
                type=case_type,
                order_id=order.id,
                buyer_id=order.buyer_id,
                seller_id=order.seller_id,
                complainant=case_type.complainant,
                state=CaseState.OPEN,
                currency=order.currency,
                description=description,
                claimed_minor=claimed,
                created_at=now,
                updated_at=now,
            )
            return self._open(uow, case, order, now)

        return self._units.run(work)

    def open_from_escalation(self, uow: DisputesUnitOfWork, request: EscalatedRequest) -> str:
        """Open a case for an escalated after-sales request, in the caller's unit of work; return its id.

        Escalating the same request twice finds the case already open.
        """
        now = self._rt.clock.now()
        order = uow.orders.get(request.order_id, lock=True)
        if order is None:
            raise NotFound("order", request.order_id)
        for existing in uow.disputes.open_for_order(order.id):
            if existing.after_sales_request_id == request.request_id:
                return existing.id
        refundable = order.paid_minor - order.refunded_minor
        case = Case(
            id=self._rt.ids.new("dsp", now),
            type=CaseType.ESCALATED_AFTER_SALES,
            order_id=order.id,
            buyer_id=request.buyer_id,
            seller_id=request.seller_id,
            complainant=Actor.BUYER,
            state=CaseState.OPEN,
            currency=request.currency,
            description=f"{request.kind}: {request.reason}. {request.description}".strip()[:4000],
            claimed_minor=max(0, min(request.requested_minor, refundable)),
            created_at=now,
            updated_at=now,
            after_sales_request_id=request.request_id,
            extra={"after_sales_kind": request.kind, "after_sales_reason": request.reason},
        )
        return self._open(uow, case, order, now).id

    def _open(self, uow: DisputesUnitOfWork, case: Case, order: Order, now: datetime) -> Case:
        if order.state in _RECEIVING:
            self._orders.pause_auto_confirm(uow, order.id, f"dispute {case.id}")
            case.holds_auto_confirm = True
        self._settlement.place_hold(uow, order.seller_id, case.subject, f"open dispute {case.id}")
        uow.disputes.insert(case)
        self._attach_system_records(uow, case, order, now)
        self._record(uow, case, "dispute.opened", {"claimed_minor": case.claimed_minor}, now)
        return self._apply(uow, case, CaseEvent.REQUEST_RESPONSE, _SYSTEM, _Intent())

    def _check_filing(
        self, uow: DisputesUnitOfWork, order: Order, case_type: CaseType, now: datetime
    ) -> None:
        if order.paid_at is None:
            raise NotPaid()
        if order.state == OrderState.CLOSED and order.completed_at is None:
            raise FilingRefused(
                "The order was closed before completion; there is nothing to complain about."
            )
        deadline = rules.filing_deadline(
            order.completed_at, case_type, self._policy, self._rt.calendar
        )
        if deadline is not None and now > deadline:
            raise FilingWindowClosed(
                f"A {case_type.value} complaint may be filed until {deadline.isoformat()}.",
                closed_at=deadline.isoformat(),
            )
        if case_type == CaseType.LATE_SHIPMENT and not order.is_late:
            raise FilingRefused("The order was not shipped late.")
        if any(c.type == case_type for c in uow.disputes.open_for_order(order.id)):
            raise FilingRefused(f"A {case_type.value} complaint about this order is already open.")

    @staticmethod
    def _claimed(order: Order, case_type: CaseType, claimed_minor: int | None) -> int:
        refundable = order.paid_minor - order.refunded_minor
        if case_type in (CaseType.MALICIOUS_REVIEW, CaseType.SELLER_HARASSMENT):
            if claimed_minor:
                raise ValidationFailed("This complaint claims no money.", field="claimed_minor")
            return 0
        if claimed_minor is None:
            return refundable
        if not 0 <= claimed_minor <= refundable:
            raise ValidationFailed(
                f"claimed_minor is between 0 and {refundable}.", field="claimed_minor"
            )
        return claimed_minor

    # -- the parties ----------------------------------------------------------------------------

    def respond(self, case_id: str, party: Party, statement: str) -> Case:
        """The respondent answers the complaint; the evidence phase starts."""
        _check_text("statement", statement, 4000)
        return self._act(case_id, CaseEvent.RESPOND, party, _Intent(statement=statement))

    def stage_evidence(
        self,
        case_id: str,
        party: Party,
        kind: EvidenceKind,
        title: str,
        *,
        description: str = "",
        content: bytes | None = None,
        content_type: str | None = None,
    ) -> EvidenceItem:
        """A party stages an upload or a written statement; nothing counts until it submits."""
        kind = EvidenceKind(kind)
        if kind not in PARTY_KINDS:
            raise ValidationFailed(
                f"{kind.value} is a system record; parties cannot upload it.", field="kind"
            )
        _check_text("title", title, 200)
        _check_text("description", description, 4000, allow_empty=True)
        ref = None
        if content is not None:
            ref = self._store_upload(content, content_type)
        elif kind != EvidenceKind.STATEMENT:
            raise ValidationFailed("An upload needs its content.", field="content_base64")

        def work(uow: DisputesUnitOfWork) -> EvidenceItem:
            now = self._rt.clock.now()
            case = self._load(uow, case_id, party)
            staged = [i for i in uow.disputes.evidence(case.id) if i.party == party.actor.value]
            if len(staged) >= self._policy.max_staged_items:
                raise Conflict(f"At most {self._policy.max_staged_items} items per party.")
            data: dict[str, Any] = {"description": description}
            counts, note = rules.weigh(kind, data)
            item = EvidenceItem(
                id=self._rt.ids.new("evd", now),
                case_id=case.id,
                party=party.actor.value,
                kind=kind,
                provenance=Provenance.PARTY,
                title=title,
                data=data,
                created_at=now,
                submitted=False,
                counts=counts,
                note=note,
                blob_sha256=ref.sha256 if ref else None,
                blob_size=ref.size if ref else None,
                content_type=ref.content_type if ref else None,
            )
            self._apply(uow, case, CaseEvent.STAGE_EVIDENCE, party, _Intent(item=item))
            return item

        return self._units.run(work)

    def quote_chat(
        self,
        case_id: str,
        party: Party,
        conversation_id: str,
        from_seq: int,
        to_seq: int,
        promise_seq: int | None = None,
    ) -> EvidenceItem:
        """Attach a range of the order's chat, with its hash-chain proof, as system evidence.

        ``promise_seq`` names the message that holds the seller's promise; it
        counts only when that message is a human message from the seller —
        auto-replies are never the seller's promise.
        """
        chats = self.chats
        if chats is None:
            raise Conflict("Messaging is not enabled; chat cannot be quoted.")
        longest = self._policy.max_quoted_messages
        if from_seq < 1 or to_seq < from_seq or to_seq - from_seq >= longest:
            raise ValidationFailed(
                f"A chat range is 1 <= from_seq <= to_seq, at most {longest} messages.",
                field="to_seq",
            )
        if promise_seq is not None and not from_seq <= promise_seq <= to_seq:
            raise ValidationFailed("promise_seq lies inside the quoted range.", field="promise_seq")

        # The proof is taken before this unit of work: proving may checkpoint the conversation
        # in a unit of its own, which must not wait on this one's locks.
        case = self.get(case_id, party).case
        conversation = chats.get(_SYSTEM, conversation_id)
        same_parties = (conversation.buyer_id, conversation.seller_id) == (
            case.buyer_id,
            case.seller_id,
        )
        if not same_parties or conversation.order_id not in (None, case.order_id):
            raise NotFound("conversation", conversation_id)
        proof_dict = chats.chain_proof(conversation_id, from_seq, to_seq).to_dict()

        def work(uow: DisputesUnitOfWork) -> EvidenceItem:
            now = self._rt.clock.now()
            case = self._load(uow, case_id, party)
            data: dict[str, Any] = {
                "conversation_id": conversation_id,
                "from_seq": from_seq,
                "to_seq": to_seq,
                "quoted_by": party.actor.value,
                "proof": proof_dict,
            }
            counts, note = True, None
            if promise_seq is not None:
                message = _message_at(proof_dict, promise_seq)
                if message is None:
                    raise ValidationFailed(
                        "promise_seq is not a message of the range.", field="promise_seq"
                    )
                data["promise_seq"] = promise_seq
                data["promise_kind"] = message.get("kind")
                data["promise_sender_role"] = message.get("sender_role")
                data["promise_text"] = message.get("text")
                counts, note = rules.weigh(EvidenceKind.CHAT_RANGE, data)
                if counts and message.get("sender_role") != "seller":
                    counts, note = False, "only the seller's own message is its promise"
            item = EvidenceItem(
                id=self._rt.ids.new("evd", now),
                case_id=case.id,
                party="system",
                kind=EvidenceKind.CHAT_RANGE,
                provenance=Provenance.SYSTEM,
                title=f"chat {conversation_id} messages {from_seq}-{to_seq}",
                data=data,
                created_at=now,
                submitted=True,
                counts=counts,
                note=note,
            )
            self._apply(uow, case, CaseEvent.STAGE_EVIDENCE, party, _Intent(item=item))
            return item

        return self._units.run(work)

    def submit_evidence(self, case_id: str, party: Party) -> Case:
        """Submit everything the party staged, once; when both parties have, review starts."""
        return self._act(case_id, CaseEvent.SUBMIT_EVIDENCE, party, _Intent())

    def withdraw(self, case_id: str, party: Party, reason: str = "") -> Case:
        """The complainant withdraws before a decision."""
        return self._act(case_id, CaseEvent.WITHDRAW, party, _Intent(reason=reason or None))

    def appeal(self, case_id: str, party: Party, reason: str) -> Case:
        """Either party appeals the decision, once, within the appeal window."""
        _check_text("reason", reason, 4000)
        return self._act(case_id, CaseEvent.APPEAL, party, _Intent(reason=reason))

    # -- staff ----------------------------------------------------------------------------------

    def take_up_appeal(self, case_id: str, party: Party) -> Case:
        """Staff take an appealed case up for review again."""
        return self._act(case_id, CaseEvent.TAKE_UP_APPEAL, party, _Intent())

    def decide(self, case_id: str, party: Party, request: DecisionRequest) -> Decision:
        """An arbitrator decides: money moves through the ledger, the decision is signed."""
        if party.actor != Actor.ARBITRATOR:
            raise Forbidden("Only an arbitrator decides a dispute.")
        _check_text("reason", request.reason, 4000)
        _check_decision(request)
        self._load_signer()

        def work(uow: DisputesUnitOfWork) -> Decision:
            case = self._load(uow, case_id, party)
            self._apply(uow, case, CaseEvent.DECIDE, party, _Intent(decision=request))
            return uow.disputes.decisions(case.id)[-1]

        return self._units.run(work)

    # -- reads ----------------------------------------------------------------------------------

    def get(self, case_id: str, party: Party) -> CaseDetails:
        """A case with its evidence and decisions; participants see only their own cases.

        A party sees the other party's evidence only once it is submitted.
        """

        def work(uow: DisputesUnitOfWork) -> CaseDetails:
            case = self._load(uow, case_id, party, lock=False)
            return self._details(uow, case, party)

        return self._units.run(work)

    def _details(self, uow: DisputesUnitOfWork, case: Case, party: Party) -> CaseDetails:
        items = uow.disputes.evidence(case.id)
        if party.is_participant:
            items = [i for i in items if i.submitted or i.party == party.actor.value]
        now = self._rt.clock.now()
        states = {
            actor.value: evidence_state(case, actor, items, now)
            for actor in (Actor.BUYER, Actor.SELLER)
        }
        return CaseDetails(
            case, items, uow.disputes.decisions(case.id), states, uow.deadlines.active(case.subject)
        )

    def find(
        self, party: Party, where: CaseFilter, *, before_id: str | None = None, limit: int = 50
    ) -> list[Case]:
        """Cases newest first; a buyer or seller sees only their own."""
        if party.actor == Actor.BUYER:
            where = replace(where, buyer_id=party.id)
        elif party.actor == Actor.SELLER:
            where = replace(where, seller_id=party.id)
        limit = max(1, min(limit, 201))
        return self._units.run(
            lambda uow: uow.disputes.find(where, before_id=before_id, limit=limit)
        )

    def supervisor_queue(self, *, before_id: str | None = None, limit: int = 50) -> list[Case]:
        """Cases past their staff SLA and not yet decided: shown overdue, never dropped."""
        where = CaseFilter(states={CaseState.UNDER_REVIEW, CaseState.APPEALED}, overdue=True)
        limit = max(1, min(limit, 201))
        return self._units.run(
            lambda uow: uow.disputes.find(where, before_id=before_id, limit=limit)
        )

    def blob(self, case_id: str, sha256: str, party: Party) -> tuple[bytes, str]:
        """An attachment of a case's evidence the party may see."""
        details = self.get(case_id, party)
        for item in details.evidence:
            if item.blob_sha256 == sha256 and self.blobs is not None:
                return self.blobs.get(sha256), item.content_type or "application/octet-stream"
        raise NotFound("attachment", sha256)

    def export_bundle(self, case_id: str, party: Party) -> dict[str, Any]:
        """The case as one signed evidence bundle (see :mod:`tradeguard.disputes.bundle`).

        Only submitted evidence goes in, with each attachment's bytes, each chat
        range's chain proof and every signed decision; the platform key signs the whole.
        """
        signer, blobs = self.signer, self.blobs
        if signer is None:
            raise Conflict(
                "The platform signing key is not set up; run `tradeguard keys platform-init`."
            )
        self._load_signer()
        details = self.get(case_id, party)
        items = [i for i in details.evidence if i.submitted]
        attachments: dict[str, str] = {}
        for item in items:
            if item.blob_sha256 and item.blob_sha256 not in attachments:
                if blobs is None:
                    raise Conflict("The blob store is not enabled; attachments cannot be exported.")
                attachments[item.blob_sha256] = base64.b64encode(
                    blobs.get(item.blob_sha256)
                ).decode()
        bundle: dict[str, Any] = {
            "format": FORMAT,
            "exported_at": self._rt.clock.now().isoformat(),
            "case": case_document(details.case),
            "evidence": [evidence_record(i) for i in items],
            "attachments": attachments,
            "chain_proofs": [
                {"evidence_id": i.id, "proof": i.data["proof"]}
                for i in items
                if i.kind == EvidenceKind.CHAT_RANGE and "proof" in i.data
            ],
            "decisions": [
                {
                    "payload": d.payload,
                    "signature": {"key_id": d.key_id, "signature_b64": d.signature_b64},
                }
                for d in details.decisions
            ],
        }
        signature = signer.sign(canonical_json(bundle))
        bundle["signature"] = {"key_id": signature.key_id, "signature_b64": signature.signature_b64}
        return bundle

    def _load_signer(self) -> None:
        # The platform key is loaded (or created) in a unit of its own before ours starts,
        # so that signing inside our unit of work needs no database.
        load = getattr(self.signer, "signer", None)
        if callable(load):
            load()

    def decided_case_ids(self) -> list[str]:
        """Every case that has a decision, oldest first (for ``evidence export --all``)."""
        return self._units.run(lambda uow: uow.disputes.decided_case_ids())

    # -- deadlines ------------------------------------------------------------------------------

    def deadline_handlers(
        self,
    ) -> dict[str, Callable[[DisputesUnitOfWork, Deadline, datetime], TimerOutcome]]:
        """The case timers' handlers, by deadline kind, for the deadline worker."""
        return {
            DeadlineKind.RESPONSE: self._on_timer(CaseEvent.RESPONSE_OVERDUE),
            DeadlineKind.EVIDENCE: self._on_timer(CaseEvent.CLOSE_EVIDENCE),
            DeadlineKind.STAFF_SLA: self._on_timer(CaseEvent.ESCALATE_OVERDUE),
            DeadlineKind.APPEAL_WINDOW: self._on_timer(CaseEvent.FINALISE),
        }

    def _on_timer(
        self, event: CaseEvent
    ) -> Callable[[DisputesUnitOfWork, Deadline, datetime], TimerOutcome]:
        def handle(uow: DisputesUnitOfWork, deadline: Deadline, now: datetime) -> TimerOutcome:
            return deadlines.fire_transition(
                uow.disputes.get(deadline.subject_id, lock=True),
                lambda case: self._apply(uow, case, event, _SYSTEM, _Intent()),
            )

        return handle

    # -- the one place state changes ------------------------------------------------------------

    def _act(self, case_id: str, event: CaseEvent, party: Party, intent: _Intent) -> Case:
        def work(uow: DisputesUnitOfWork) -> Case:
            return self._apply(uow, self._load(uow, case_id, party), event, party, intent)

        return self._units.run(work)

    def _load(
        self, uow: DisputesUnitOfWork, case_id: str, party: Party, *, lock: bool = True
    ) -> Case:
        case = uow.disputes.get(case_id, lock=lock)
        if case is None or not _may_see(case, party):
            raise NotFound("dispute", case_id)
        return case

    def _apply(
        self, uow: DisputesUnitOfWork, case: Case, event: CaseEvent, party: Party, intent: _Intent
    ) -> Case:
        now = self._rt.clock.now()
        row = CASE_TRANSITIONS.fire(case.state, event, party.actor)
        if row.guard is not None and not self._guard_holds(case, Guard(row.guard), party, now):
            raise TransitionNotAllowed("dispute", case.state, event, party.actor, row.guard)
        step = _Step(now)
        case.state = row.target
        case.updated_at = now
        for effect in row.effects:
            self._effect(uow, case, effect, intent, party, step)
        if row.target == CaseState.CLOSED:
            case.closed_at = now
            case.close_reason = "withdrawn" if event == CaseEvent.WITHDRAW else "final"
        uow.disputes.update(case)
        data = {
            **case_snapshot(case),
            "event": event.value,
            "actor": party.actor.value,
            **step.facts,
        }
        if intent.reason:
            data["reason"] = intent.reason
        self._record(uow, case, EVENT_TYPES[event], data, now)
        if step.then is not None:
            return self._apply(uow, case, step.then, _SYSTEM, _Intent())
        return case

    def _guard_holds(self, case: Case, guard: Guard, party: Party, now: datetime) -> bool:
        if guard == Guard.COMPLAINANT:
            return party.actor == case.complainant
        if guard == Guard.RESPONDENT:
            return party.actor == case.respondent
        if guard == Guard.PARTY:
            return party.actor in (Actor.BUYER, Actor.SELLER)
        if guard == Guard.NOT_YET_SUBMITTED:
            return case.submitted_at(party.actor) is None
        if guard == Guard.COMPLAINANT_ONCE:
            return party.actor == case.complainant and case.submitted_at(party.actor) is None
        if guard == Guard.APPEAL_ALLOWED:
            return (
                case.appealed_at is None
                and case.appeal_due_at is not None
                and now < case.appeal_due_at
            )
        raise AssertionError(
            f"unhandled guard {guard}"
        )  # pragma: no cover - the enum is exhaustive

    def _effect(
        self,
        uow: DisputesUnitOfWork,
        case: Case,
        effect: CaseEffect,
        intent: _Intent,
        party: Party,
        step: _Step,
    ) -> None:
        now = step.now
        if effect == CaseEffect.START_RESPONSE_DEADLINE:
            case.response_due_at = self._rt.calendar.add(now, self._policy.response_window)
            self._schedule(uow, case, DeadlineKind.RESPONSE, case.response_due_at, now)
        elif effect == CaseEffect.RECORD_RESPONSE:
            case.responded_at = now
            case.response_statement = intent.statement
        elif effect == CaseEffect.RECORD_SILENCE:
            case.respondent_silent = True
            step.facts["silent_party"] = case.respondent.value
        elif effect == CaseEffect.START_EVIDENCE_DEADLINE:
            case.evidence_due_at = self._rt.calendar.add(now, self._policy.evidence_window)
            self._schedule(uow, case, DeadlineKind.EVIDENCE, case.evidence_due_at, now)
        elif effect == CaseEffect.STAGE_ITEM:
            item = _given(intent.item, "evidence item")
            uow.disputes.insert_evidence([item])
            step.facts["evidence_id"] = item.id
            step.facts["evidence_kind"] = item.kind.value
        elif effect == CaseEffect.SUBMIT_ITEMS:
            count = uow.disputes.mark_submitted(case.id, party.actor.value)
            if party.actor == Actor.BUYER:
                case.buyer_submitted_at = now
            else:
                case.seller_submitted_at = now
            step.facts["items_submitted"] = count
            if (
                case.state == CaseState.EVIDENCE
                and case.buyer_submitted_at is not None
                and case.seller_submitted_at is not None
            ):
                step.then = CaseEvent.CLOSE_EVIDENCE
        elif effect == CaseEffect.SUGGEST:
            self._suggest(uow, case, step)
        elif effect == CaseEffect.START_STAFF_SLA:
            case.review_started_at = now
            case.overdue = False
            case.overdue_at = None
            sla = self._policy.for_type(case.type).staff_sla
            case.sla_due_at = self._rt.calendar.add(now, sla)
            self._schedule(uow, case, DeadlineKind.STAFF_SLA, case.sla_due_at, now)
        elif effect == CaseEffect.MARK_OVERDUE:
            case.overdue = True
            case.overdue_at = now
            step.facts["queue"] = "supervisor"
            step.facts["sla_due_at"] = case.sla_due_at.isoformat() if case.sla_due_at else None
        elif effect == CaseEffect.APPLY_DECISION:
            self._apply_decision(uow, case, _given(intent.decision, "decision"), party, step)
        elif effect == CaseEffect.START_APPEAL_WINDOW:
            if case.appealed_at is None:
                case.appeal_due_at = self._rt.calendar.add(now, self._policy.appeal_window)
                self._schedule(uow, case, DeadlineKind.APPEAL_WINDOW, case.appeal_due_at, now)
            else:
                # One appeal only: the decision after it is final at once.
                step.then = CaseEvent.FINALISE
        elif effect == CaseEffect.RECORD_APPEAL:
            case.appealed_at = now
            case.appealed_by = party.actor.value
            case.appeal_reason = intent.reason
        elif effect == CaseEffect.CANCEL_DEADLINES:
            deadlines.cancel(uow.deadlines, case.subject, None, now)
        elif effect == CaseEffect.RELEASE_ORDER:
            self._release_order(uow, case)
        else:  # pragma: no cover - the enum is exhaustive
            raise AssertionError(f"unhandled effect {effect}")

    def _schedule(
        self, uow: DisputesUnitOfWork, case: Case, kind: DeadlineKind, due: datetime, now: datetime
    ) -> None:
        deadlines.schedule(uow.deadlines, [NewDeadline(kind.value, case.subject, due)], now)

    def _release_order(self, uow: DisputesUnitOfWork, case: Case) -> None:
        self._settlement.release_hold(uow, case.subject)
        if not case.holds_auto_confirm:
            return
        case.holds_auto_confirm = False
        order = uow.orders.get(case.order_id, lock=True)
        if order is not None and order.state in _RECEIVING:
            self._orders.resume_auto_confirm(uow, order.id, f"dispute {case.id}")

    # -- evidence -------------------------------------------------------------------------------

    def _store_upload(self, content: bytes, content_type: str | None) -> Any:
        if self.blobs is None:
            raise Conflict("The blob store is not enabled; uploads cannot be attached.")
        if not content:
            raise ValidationFailed("An upload is not empty.", field="content_base64")
        if len(content) > self._policy.max_upload_bytes:
            raise ValidationFailed(
                f"An upload is at most {self._policy.max_upload_bytes} bytes.",
                field="content_base64",
            )
        if content_type not in self._policy.upload_types:
            raise ValidationFailed(
                f"Uploads are one of: {', '.join(self._policy.upload_types)}.", field="content_type"
            )
        return self.blobs.put(content, content_type)

    def _attach_system_records(
        self, uow: DisputesUnitOfWork, case: Case, order: Order, now: datetime
    ) -> None:
        """Attach every system record of the order not attached yet (idempotent by source id)."""
        have = {i.data.get("source_id") for i in uow.disputes.evidence(case.id)}
        new: list[tuple[EvidenceKind, str, str, dict[str, Any]]] = []
        if order.paid_at is not None:
            new.append(
                (
                    EvidenceKind.PAYMENT_RECORD,
                    f"payment:{order.id}",
                    "payment captured",
                    {
                        "paid_minor": order.paid_minor,
                        "currency": order.currency,
                        "payment_reference": order.payment_reference,
                        "paid_at": order.paid_at.isoformat(),
                    },
                )
            )
        for shipment in uow.orders.shipments(order.id):
            new.append(
                (
                    EvidenceKind.SHIPMENT,
                    f"shipment:{shipment.id}",
                    f"parcel {shipment.carrier} {shipment.tracking_number}",
                    {
                        "carrier": shipment.carrier,
                        "tracking_number": shipment.tracking_number,
                        "direction": shipment.direction,
                        "serial_numbers": list(shipment.serial_numbers),
                        "shipped_at": shipment.shipped_at.isoformat(),
                    },
                )
            )
        for scan in uow.orders.tracking_events(order.id):
            new.append(
                (
                    EvidenceKind.TRACKING_EVENT,
                    f"tracking:{scan.id}",
                    f"carrier scan: {scan.status.value}",
                    {
                        "status": scan.status.value,
                        "occurred_at": scan.occurred_at.isoformat(),
                        "location": scan.location,
                        "detail": scan.detail,
                    },
                )
            )
        for record in uow.orders.delivery_records(order.id):
            new.append(
                (
                    EvidenceKind.DELIVERY_RECORD,
                    f"delivery:{record.id}",
                    f"{record.method} delivery record",
                    {
                        "method": record.method,
                        "detail": record.detail,
                        "delivered_at": record.delivered_at.isoformat(),
                        "recorded_by": record.recorded_by,
                    },
                )
            )
        for decision in uow.disputes.decisions_for_order(order.id):
            if decision.case_id == case.id:
                continue
            new.append(
                (
                    EvidenceKind.PRIOR_DECISION,
                    f"decision:{decision.id}",
                    f"decision on {decision.case_id}: {decision.outcome.value}",
                    {
                        "payload": decision.payload,
                        "key_id": decision.key_id,
                        "signature_b64": decision.signature_b64,
                    },
                )
            )
        items = [
            EvidenceItem(
                id=self._rt.ids.new("evd", now),
                case_id=case.id,
                party="system",
                kind=kind,
                provenance=Provenance.SYSTEM,
                title=title,
                data={"source_id": source, **data},
                created_at=now,
                submitted=True,
            )
            for kind, source, title, data in new
            if source not in have
        ]
        uow.disputes.insert_evidence(items)

    def _order_facts(self, order: Order) -> rules.OrderFacts:
        return rules.OrderFacts(
            is_virtual=order.is_virtual,
            is_late=order.is_late,
            paid=order.paid_at is not None,
            goods_minor=order.subtotal_minor,
            refundable_minor=order.paid_minor - order.refunded_minor,
            late_compensation_minor=order.late_compensation_minor,
            late_compensation_paid=order.late_compensation_paid,
        )

    def _suggest(self, uow: DisputesUnitOfWork, case: Case, step: _Step) -> None:
        order = uow.orders.get(case.order_id)
        if order is None:  # pragma: no cover - orders are never deleted
            raise NotFound("order", case.order_id)
        self._attach_system_records(uow, case, order, step.now)
        suggestion = rules.suggest(
            case, self._order_facts(order), uow.disputes.evidence(case.id), self._policy
        )
        case.suggestion = suggestion
        step.facts["suggestion"] = suggestion.to_dict()

    # -- decisions ------------------------------------------------------------------------------

    def _apply_decision(
        self,
        uow: DisputesUnitOfWork,
        case: Case,
        request: DecisionRequest,
        party: Party,
        step: _Step,
    ) -> None:
        now = step.now
        if self.signer is None:
            raise Conflict(
                "The platform signing key is not set up; run `tradeguard keys platform-init`."
            )
        order = uow.orders.get(case.order_id, lock=True)
        if order is None:  # pragma: no cover - orders are never deleted
            raise NotFound("order", case.order_id)
        refundable = order.paid_minor - order.refunded_minor
        if request.refund_minor > refundable:
            raise ValidationFailed(
                f"refund_minor is at most {refundable} (paid minus refunded).", field="refund_minor"
            )
        appeal_round = len(uow.disputes.decisions(case.id))
        decision_id = self._rt.ids.new("dcs", now)
        reference = f"dispute:{case.id}:{appeal_round}"
        money_source = self._move_money(uow, case, order, request, reference, decision_id)
        reviews_excluded = 0
        reason = f"dispute {case.id}: {request.reason}"[:500]
        if request.credit_points and self.credit is not None:
            self.credit.deduct_points(
                uow, case.seller_id, request.credit_points, reason, decision_id
            )
        if request.exclude_reviews and self.credit is not None:
            reviews_excluded = self.credit.exclude_reviews(uow, case.order_id, reason)
        items = uow.disputes.evidence(case.id)
        payload = decision_payload(
            case,
            decision_id,
            request,
            reviews_excluded=reviews_excluded,
            money_source=money_source,
            decided_by=str(party),
            decided_at=now,
            appeal_round=appeal_round,
            evidence_digest=evidence_digest(items),
        )
        payload["reviews_exclusion_requested"] = request.exclude_reviews
        signature = self.signer.sign(canonical_json(payload))
        decision = Decision(
            id=decision_id,
            case_id=case.id,
            outcome=request.outcome,
            refund_minor=request.refund_minor,
            compensation_minor=request.compensation_minor,
            credit_points=request.credit_points,
            reviews_excluded=reviews_excluded,
            reason=request.reason,
            decided_by=str(party),
            decided_at=now,
            payload=payload,
            key_id=signature.key_id,
            signature_b64=signature.signature_b64,
            money_source=money_source,
            appeal_round=appeal_round,
        )
        uow.disputes.insert_decision(decision)
        case.outcome = request.outcome
        case.decided_at = now
        step.facts.update(
            decision_id=decision_id,
            outcome=request.outcome.value,
            refund_minor=request.refund_minor,
            compensation_minor=request.compensation_minor,
            credit_points=request.credit_points,
            money_source=money_source,
        )

    def _move_money(
        self,
        uow: DisputesUnitOfWork,
        case: Case,
        order: Order,
        request: DecisionRequest,
        reference: str,
        decision_id: str,
    ) -> str | None:
        if case.after_sales_request_id is not None and self.after_sales is not None:
            self.after_sales.settle_escalated(
                uow,
                case.after_sales_request_id,
                request.outcome.value,
                request.refund_minor,
                decision_id,
            )
            source: str | None = "after_sales" if request.refund_minor else None
        else:
            source = self._refund(uow, case, order, request.refund_minor, reference)
        if request.compensation_minor:
            paid = self._settlement.pay_buyer(
                uow,
                seller_id=case.seller_id,
                buyer_id=case.buyer_id,
                amount=Money(request.compensation_minor, case.currency),
                key=f"{reference}:compensation",
                reference=reference,
                reason=TransferReason.COMPENSATION,
            )
            source = source or paid.value
        return source

    def _refund(
        self, uow: DisputesUnitOfWork, case: Case, order: Order, amount: int, reference: str
    ) -> str | None:
        if amount == 0:
            return None
        if order.completed_at is None and order.state != OrderState.CLOSED:
            if amount > order.escrow_minor:
                raise ValidationFailed(
                    f"Before completion a refund comes from escrow: at most {order.escrow_minor}.",
                    field="refund_minor",
                )
            self._orders.refund_from_escrow(uow, order.id, amount, reference, f"dispute {case.id}")
            return "escrow"
        paid = self._settlement.pay_buyer(
            uow,
            seller_id=case.seller_id,
            buyer_id=case.buyer_id,
            amount=Money(amount, case.currency),
            key=f"{reference}:refund",
            reference=reference,
            reason=TransferReason.REFUND,
        )
        return paid.value

    def _record(
        self,
        uow: DisputesUnitOfWork,
        case: Case,
        event_type: str,
        data: dict[str, Any],
        now: datetime,
    ) -> None:
        payload = data if "case_id" in data else {**case_snapshot(case), **data}
        events.record(
            uow.outbox,
            [DomainEvent(event_type, case.subject, payload, case.order_id)],
            self._rt.ids,
            now,
        )


def _check_decision(request: DecisionRequest) -> None:
    if request.refund_minor < 0 or request.compensation_minor < 0 or request.credit_points < 0:
        raise ValidationFailed("Amounts and points are not negative.")
    if request.credit_points > 1000:
        raise ValidationFailed("credit_points is at most 1000.", field="credit_points")
    if request.outcome in (Outcome.SELLER_WINS, Outcome.DISMISSED):
        if request.refund_minor or request.compensation_minor or request.credit_points:
            raise ValidationFailed(
                f"A {request.outcome.value} decision moves no money and deducts no points.",
                field="outcome",
            )
    elif request.exclude_reviews:
        raise ValidationFailed(
            "Reviews are excluded only when the seller wins.", field="exclude_reviews"
        )
    if request.outcome == Outcome.SPLIT and not request.refund_minor:
        raise ValidationFailed("A split refunds part of the order.", field="refund_minor")
    if request.outcome == Outcome.BUYER_WINS and not (
        request.refund_minor or request.compensation_minor
    ):
        raise ValidationFailed("A buyer win refunds or compensates.", field="refund_minor")


def _may_see(case: Case, party: Party) -> bool:
    if party.actor == Actor.BUYER:
        return case.buyer_id == party.id
    if party.actor == Actor.SELLER:
        return case.seller_id == party.id
    return True


def _check_text(name: str, value: str, limit: int, *, allow_empty: bool = False) -> None:
    if (not allow_empty and not value.strip()) or len(value) > limit or "\x00" in value:
        raise ValidationFailed(f"{name} is 1 to {limit} characters.", field=name)


def _message_at(proof: dict[str, Any], seq: int) -> dict[str, Any] | None:
    for message in proof.get("messages", []):
        if message.get("seq") == seq:
            return dict(message)
    return None


def _given(value: Any, what: str) -> Any:
    if value is None:  # pragma: no cover - a programming error, never user input
        raise RuntimeError(f"internal error: effect needs a {what}")
    return value
