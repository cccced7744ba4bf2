"""What the reviews context needs from storage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from tradeguard.deadlines.ports import DeadlineStore
from tradeguard.events.ports import Outbox
from tradeguard.kernel.uow import SavepointCapable
from tradeguard.orders.ports import OrderStore
from tradeguard.reputation.ports import ReputationStore
from tradeguard.reviews.model import (
    BuyerRating,
    ModerationDecision,
    OrderFacts,
    Review,
    ReviewState,
)


@dataclass(frozen=True, slots=True)
class ReviewFilter:
    """Which reviews a listing returns; participants are narrowed to their own by the service."""

    seller_id: str | None = None
    buyer_id: str | None = None
    state: ReviewState | None = None


class ReviewStore(Protocol):
    """Reviews, the sellers' ratings of buyers, and moderation decisions."""

    def order_facts(self, order_id: str) -> OrderFacts | None:
        """The order's parties, state, completion time and first item, in one read."""
        ...

    def get(self, review_id: str, *, lock: bool = False) -> Review | None:
        """One review; with ``lock``, row-locked until the unit of work ends."""
        ...

    def for_order(self, order_id: str, *, lock: bool = False) -> Review | None:
        """The review of an order, if any (one per order)."""
        ...

    def insert(self, review: Review) -> None:
        """Store a new review."""
        ...

    def update(self, review: Review) -> None:
        """Write back a review's mutable fields (never its rating's author or order)."""
        ...

    def find(self, where: ReviewFilter, *, before_id: str | None, limit: int) -> list[Review]:
        """Reviews newest first, strictly before ``before_id``."""
        ...

    def excluded_count(self, seller_id: str) -> int:
        """How many of the seller's reviews were excluded from reputation."""
        ...

    def buyer_rating(self, order_id: str) -> BuyerRating | None:
        """The seller's rating of the buyer of an order, if given."""
        ...

    def insert_buyer_rating(self, rating: BuyerRating) -> None:
        """Store the seller's rating of a buyer (one per order)."""
        ...

    def insert_decision(self, decision: ModerationDecision) -> None:
        """Record a staff decision on a held review."""
        ...

    def decisions(self, review_id: str) -> list[ModerationDecision]:
        """Staff decisions on a review, oldest first."""
        ...


class ReviewsUnitOfWork(SavepointCapable, Protocol):
    """What a review use case touches in one transaction."""

    @property
    def reviews(self) -> ReviewStore:
        """Reviews and ratings."""
        ...

    @property
    def reputation(self) -> ReputationStore:
        """Seller figures."""
        ...

    @property
    def orders(self) -> OrderStore:
        """Orders, read to check who may review what."""
        ...

    @property
    def deadlines(self) -> DeadlineStore:
        """The timer table."""
        ...

    @property
    def outbox(self) -> Outbox:
        """Domain events."""
        ...
