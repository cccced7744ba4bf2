"""What the reputation context needs from storage, and the ports other contexts will feed."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from typing import Protocol

from tradeguard.events.ports import Outbox
from tradeguard.kernel.uow import SavepointCapable
from tradeguard.reputation.model import (
    BuyerHistory,
    CountedReview,
    Counting,
    DayBucket,
    Deduction,
    PairMonth,
    SellerTotals,
    Window,
)


class ReputationStore(Protocol):
    """The aggregate rows of seller figures (see ``reputation.model``), deductions, sales reads."""

    def count_new(self, review: CountedReview, at: datetime) -> SellerTotals | None:
        """Count a published review unless it repeats a recent one of the same item.

        Unless ``rules.repeats_recent`` holds for the buyer's current window on the item,
        the review's ``rated_at`` becomes the window's start (when later than it), and the
        delta is added as ``add_to_pair_and_seller`` and ``add_day`` do. Returns the
        seller's new totals, or None when the review falls within the window (nothing is
        written). The window is claimed under its row lock, so of two concurrent reviews
        of one item only one counts; a store may do it all in one round trip.
        """
        ...

    def add_pair_month(
        self, seller_id: str, buyer_id: str, month: str, positive: int, negative: int
    ) -> tuple[int, int]:
        """Add to one buyer-seller-month row; return its new (positive, negative) counts."""
        ...

    def add_day(self, seller_id: str, day: date, delta: Counting) -> None:
        """Add to the seller's bucket of one day."""
        ...

    def add_to_seller(
        self, seller_id: str, points: int, delta: Counting, at: datetime
    ) -> SellerTotals:
        """Add to the seller's totals (creating the row); return the new totals."""
        ...

    def add_to_pair_and_seller(
        self,
        seller_id: str,
        buyer_id: str,
        month: str,
        cap: int,
        delta: Counting,
        at: datetime,
    ) -> SellerTotals:
        """``add_pair_month`` then ``add_to_seller`` with the points the pair-month's change is worth.

        The points are ``rules.capped_points`` of the pair-month's new counts less that of
        its old counts; a store may do both in one round trip.
        """
        ...

    def deduct(self, deduction: Deduction) -> SellerTotals | None:
        """Record a deduction once per reference and lower the seller's points; None if already done."""
        ...

    def set_level(self, seller_id: str, level: str) -> None:
        """Remember the level last announced for the seller."""
        ...

    def set_category(self, seller_id: str, category: str, at: datetime) -> None:
        """File the seller under a category (for DSR and ranking comparisons)."""
        ...

    def totals(self, seller_id: str) -> SellerTotals | None:
        """The seller's totals row."""
        ...

    def window(self, seller_id: str, first_day: date, last_day: date) -> Window:
        """Sums of the seller's day buckets from ``first_day`` to ``last_day`` inclusive."""
        ...

    def category_window(self, category: str, first_day: date, last_day: date) -> Window:
        """Sums of the day buckets of every seller of a category over the days."""
        ...

    def category_mean(self, category: str) -> float | None:
        """The weighted mean stars of a category's counted reviews."""
        ...

    def severe_deductions_since(self, seller_id: str, since: datetime, min_points: int) -> int:
        """How many deductions of at least ``min_points`` the seller got since ``since``."""
        ...

    def excluded_reviews(self, seller_id: str) -> int:
        """How many of the seller's reviews a dispute or risk case excluded."""
        ...

    def sales(self, seller_id: str) -> tuple[int, datetime | None]:
        """The seller's completed orders and when its first order was created."""
        ...

    def buyer_orders(self, buyer_id: str) -> BuyerHistory:
        """The buyer's completed and refunded orders and its first order (disputes lost: 0)."""
        ...

    def sellers(self) -> list[str]:
        """Every seller with reviews, figures or deductions, in id order."""
        ...

    def recompute_parallelism(self) -> int:
        """How many seller ranges may be rebuilt at the same time (1 where writers serialize)."""
        ...

    def recompute(
        self, cap: int, first_seller: str | None = None, last_seller: str | None = None
    ) -> int:
        """Rebuild the aggregate rows of sellers in [first, last] from the counted reviews in SQL.

        ``cap`` is the monthly points cap between one buyer and one seller. Returns
        how many sellers have counted reviews in the range.
        """
        ...

    def snapshot(
        self, seller_ids: Collection[str] | None = None
    ) -> tuple[list[SellerTotals], list[PairMonth], list[DayBucket]]:
        """The aggregate rows as stored, sorted, for comparisons."""
        ...


class ReputationUnitOfWork(SavepointCapable, Protocol):
    """What a reputation use case touches in one transaction."""

    @property
    def reputation(self) -> ReputationStore:
        """Seller figures."""
        ...

    @property
    def outbox(self) -> Outbox:
        """Domain events."""
        ...


class ReviewerReliability(Protocol):
    """The risk engine's weight of a reviewer (1.0 = fully reliable). A hook until risk feeds it."""

    def weight(self, buyer_id: str) -> float:
        """How much this reviewer's ratings count toward the ranking score."""
        ...


class EveryoneReliable:
    """Until the risk engine scores reviewers, every review weighs 1."""

    def weight(self, buyer_id: str) -> float:
        """Always 1."""
        return 1.0


class BuyerHistorySource(Protocol):
    """Where buyer credit reads a buyer's history; the lead plugs after-sales and disputes in here."""

    def history(self, uow: ReputationUnitOfWork, buyer_id: str) -> BuyerHistory:
        """Completed orders, refunded orders, disputes lost and the first order's time."""
        ...


class OrdersOnlyHistory:
    """Buyer history from orders alone: refunded = orders closed as refunded or partly refunded.

    Disputes lost are 0 here: the disputes context does not exist on this branch;
    a source that adds them replaces this one in bootstrap.
    """

    def history(self, uow: ReputationUnitOfWork, buyer_id: str) -> BuyerHistory:
        """The buyer's order history."""
        return uow.reputation.buyer_orders(buyer_id)
