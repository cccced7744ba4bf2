"""What the disputes context needs from storage and from its neighbours.

Neighbours are optional links: after-sales (issue 4) settles escalated requests,
reputation (issue 6) deducts credit points and excludes reviews, messaging
provides chat proofs, the platform key signs decisions and the blob store keeps
uploads. Each is a Protocol here so the domain never imports them.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Protocol

from tradeguard.disputes.model import Case, CaseState, Decision, EvidenceItem
from tradeguard.orders.ports import OrdersUnitOfWork


@dataclass(frozen=True, slots=True)
class CaseFilter:
    """Which cases a listing returns; participants are narrowed to their own by the service."""

    buyer_id: str | None = None
    seller_id: str | None = None
    order_id: str | None = None
    states: Collection[CaseState] | None = None
    overdue: bool | None = None


class DisputeStore(Protocol):
    """Cases, their evidence and their decisions."""

    def insert(self, case: Case) -> None:
        """Store a new case."""
        ...

    def get(self, case_id: str, *, lock: bool = False) -> Case | None:
        """One case; with ``lock``, row-locked until the unit of work ends."""
        ...

    def update(self, case: Case) -> None:
        """Write back a case's mutable fields."""
        ...

    def find(self, where: CaseFilter, *, before_id: str | None, limit: int) -> list[Case]:
        """Cases matching ``where``, newest first, strictly before ``before_id``."""
        ...

    def open_for_order(self, order_id: str) -> list[Case]:
        """The order's cases that are not closed."""
        ...

    def complaints_lost_by_buyer(self, buyer_id: str) -> int:
        """How many of the buyer's own complaints were decided for the seller or dismissed."""
        ...

    def insert_evidence(self, items: list[EvidenceItem]) -> None:
        """Store evidence items."""
        ...

    def evidence(self, case_id: str) -> list[EvidenceItem]:
        """A case's evidence, oldest first."""
        ...

    def mark_submitted(self, case_id: str, party: str) -> int:
        """Mark the party's staged items submitted; return how many."""
        ...

    def insert_decision(self, decision: Decision) -> None:
        """Store a signed decision."""
        ...

    def decisions(self, case_id: str) -> list[Decision]:
        """A case's decisions, first decision first."""
        ...

    def decisions_for_order(self, order_id: str) -> list[Decision]:
        """Every decision on cases of an order, oldest first."""
        ...

    def decided_case_ids(self) -> list[str]:
        """Ids of every case that has a decision, oldest first."""
        ...


class DisputesUnitOfWork(OrdersUnitOfWork, Protocol):
    """What a dispute use case touches in one transaction."""

    @property
    def disputes(self) -> DisputeStore:
        """Cases, evidence and decisions."""
        ...


@dataclass(frozen=True, slots=True)
class EscalatedRequest:
    """An after-sales request the seller refused and the buyer escalated (DESIGN.md §5)."""

    request_id: str
    order_id: str
    buyer_id: str
    seller_id: str
    kind: str
    reason: str
    requested_minor: int
    currency: str
    description: str


class AfterSalesLink(Protocol):
    """Settles an escalated after-sales request the way the dispute decided."""

    def settle_escalated(
        self, uow: Any, request_id: str, outcome: str, refund_minor: int, reference: str
    ) -> None:
        """Pay (or not) the request as decided; ``reference`` is the decision id."""
        ...


class SellerCreditLink(Protocol):
    """Applies a decision's penalties to seller credit and reviews (reputation, issue 6)."""

    def deduct_points(
        self, uow: Any, seller_id: str, points: int, reason: str, reference: str
    ) -> None:
        """Deduct credit points from the seller."""
        ...

    def exclude_reviews(self, uow: Any, order_id: str, reason: str) -> int:
        """Stop the order's reviews from counting; return how many were excluded."""
        ...


class SignatureLike(Protocol):
    """An Ed25519 signature and the key that made it."""

    @property
    def key_id(self) -> str:
        """Which platform key signed."""
        ...

    @property
    def signature_b64(self) -> str:
        """The raw signature, base64."""
        ...


class DecisionSigner(Protocol):
    """The platform key: signs decisions and bundles."""

    def sign(self, data: bytes) -> Any:
        """Sign ``data``; the result has ``key_id`` and ``signature_b64``."""
        ...

    def public_keys(self) -> dict[str, str]:
        """Every public key generation, key id -> base64 raw key."""
        ...


class BlobRefLike(Protocol):
    """A stored blob."""

    @property
    def sha256(self) -> str:
        """Hex digest, the blob's address."""
        ...

    @property
    def size(self) -> int:
        """Bytes."""
        ...

    @property
    def content_type(self) -> str:
        """MIME type."""
        ...


class BlobStore(Protocol):
    """Content-addressed uploads."""

    def put(self, data: bytes, content_type: str) -> Any:
        """Store ``data``; return a reference with sha256, size and content_type."""
        ...

    def get(self, sha256: str) -> bytes:
        """The blob's bytes."""
        ...


class ChatRecords(Protocol):
    """Conversations and their chain proofs, from the messaging context."""

    def get(self, party: Any, conversation_id: str) -> Any:
        """The conversation (``buyer_id``, ``seller_id``, ``order_id``), or NotFound."""
        ...

    def chain_proof(self, conversation_id: str, from_seq: int | None, to_seq: int | None) -> Any:
        """Messages of the range with the proof; ``to_dict()`` gives its JSON form."""
        ...
