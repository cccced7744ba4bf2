"""What reputation keeps and shows (DESIGN.md §9).

The seller's figures are kept incrementally in three kinds of aggregate rows,
so posting, revising or excluding a review touches a constant number of rows:

* ``SellerTotals`` — one row per seller: review points, deductions, counts by
  polarity, the weighted star sum of the ranking score, the current level;
* ``PairMonth`` — per (seller, buyer, calendar month): positive and negative
  counts, from which the capped points of that pair and month follow;
* ``DayBucket`` — per (seller, day): counts by polarity and DSR sums, from which
  rolling positive rates and DSR averages are summed at read time.

A full recomputation rebuilds all three from the reviews in SQL; the property
test holds the incremental rows equal to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta


@dataclass(frozen=True, slots=True)
class Counting:
    """How one review counts: its polarity counts, DSR and weighted stars (all signed deltas)."""

    positive: int = 0
    neutral: int = 0
    negative: int = 0
    dsr_count: int = 0
    dsr_item_sum: int = 0
    dsr_communication_sum: int = 0
    dsr_shipping_sum: int = 0
    star_weight_sum: float = 0.0  #: sum of weight x stars
    weight_sum: float = 0.0

    def scaled(self, sign: int) -> Counting:
        """The same counting added (+1) or taken away (-1)."""
        return Counting(*(sign * getattr(self, name) for name in self.__slots__))

    def plus(self, other: Counting) -> Counting:
        """The sum of two countings."""
        return Counting(*(getattr(self, name) + getattr(other, name) for name in self.__slots__))


@dataclass(frozen=True, slots=True)
class SellerTotals:
    """A seller's all-time aggregate row."""

    seller_id: str
    category: str
    review_points: int
    deducted_points: int
    positive: int
    neutral: int
    negative: int
    star_weight_sum: float
    weight_sum: float
    level: str
    updated_at: datetime | None = None

    @property
    def points(self) -> int:
        """Credit points: capped review points minus points deducted by decisions."""
        return self.review_points - self.deducted_points

    @property
    def reviews(self) -> int:
        """Reviews that count."""
        return self.positive + self.neutral + self.negative


@dataclass(frozen=True, slots=True)
class Window:
    """Sums of day buckets over a window."""

    positive: int = 0
    neutral: int = 0
    negative: int = 0
    dsr_count: int = 0
    dsr_item_sum: int = 0
    dsr_communication_sum: int = 0
    dsr_shipping_sum: int = 0

    @property
    def positive_rate_bps(self) -> int | None:
        """Positive reviews over all counted reviews, in basis points (None without reviews)."""
        total = self.positive + self.neutral + self.negative
        return None if total == 0 else (self.positive * 10_000) // total

    def dsr(self) -> DetailedAverages | None:
        """The DSR averages of the window (None without detailed ratings)."""
        if self.dsr_count == 0:
            return None
        return DetailedAverages(
            round(self.dsr_item_sum / self.dsr_count, 3),
            round(self.dsr_communication_sum / self.dsr_count, 3),
            round(self.dsr_shipping_sum / self.dsr_count, 3),
            self.dsr_count,
        )


@dataclass(frozen=True, slots=True)
class DetailedAverages:
    """Average detailed seller ratings over a window."""

    item_as_described: float
    communication: float
    shipping_speed: float
    ratings: int


@dataclass(frozen=True, slots=True)
class SellerFigures:
    """Everything a buyer reads about a seller before paying (DESIGN.md §9). No reviewer data."""

    seller_id: str
    category: str
    points: int
    level: str
    positive: int
    neutral: int
    negative: int
    positive_rate_short_bps: int | None
    positive_rate_long_bps: int | None
    dsr: DetailedAverages | None
    category_dsr: DetailedAverages | None
    store_age_days: int | None
    completed_orders: int
    reviews_to_sales_bps: int | None
    ranking_score: float | None
    excluded_reviews: int
    as_of: datetime


@dataclass(frozen=True, slots=True)
class Deduction:
    """Points a decision took from a seller (disputes' penalties), once per reference."""

    reference: str
    seller_id: str
    points: int
    reason: str
    deducted_at: datetime


@dataclass(frozen=True, slots=True)
class BuyerHistory:
    """What the buyer credit score is computed from."""

    completed_orders: int
    refunded_orders: int
    disputes_lost: int
    first_order_at: datetime | None


@dataclass(frozen=True, slots=True)
class BuyerCredit:
    """A buyer's credit score and tier; the tier unlocks instant refunds (DESIGN.md §5, §9)."""

    buyer_id: str
    score: int
    tier: str  #: new, restricted, standard, trusted or excellent
    allows_instant_refund: bool
    completed_orders: int
    refund_rate_bps: int
    disputes_lost: int
    account_age_days: int


@dataclass(frozen=True, slots=True)
class TrustBadge:
    """Seed 004's green shield: verified, guarantee enrolled, deposit posted, no severe violation."""

    seller_id: str
    granted: bool
    verified: bool
    guarantee_enrolled: bool
    deposit_posted: bool
    no_severe_violation: bool
    as_of: datetime
    missing: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class CountedReview:
    """A published review about to be counted: the rows it adds to and what it adds.

    ``rated_at`` opens a repeat window for the buyer's reviews of the item unless it
    falls within the current one (``rules.repeats_recent``); only then does ``delta``
    go into the buyer-seller-month row of ``month``, the day bucket of ``day`` and the
    seller's totals.
    """

    seller_id: str
    buyer_id: str
    listing_id: str
    rated_at: datetime
    month: str
    day: date
    delta: Counting
    repeat_window: timedelta
    points_cap: int


@dataclass(frozen=True, slots=True)
class PairMonth:
    """Positive and negative counts between one buyer and one seller in one calendar month."""

    seller_id: str
    buyer_id: str
    month: str
    positive: int
    negative: int


@dataclass(frozen=True, slots=True)
class DayBucket:
    """A seller's counts and DSR sums of one day."""

    seller_id: str
    day: date
    counting: Counting
