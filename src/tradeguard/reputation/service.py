"""Reputation use cases: incremental seller figures, deductions, exclusions, buyer credit, the badge.

Counting a review is O(1) database work: at most one repeat-window row, one
buyer-seller-month row, one day bucket and the seller's totals row are read or
written, whatever the seller's history. ``recompute`` rebuilds the same rows
from the reviews in SQL; both must always agree (see the property test).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from tradeguard.events import service as events
from tradeguard.events.model import DomainEvent
from tradeguard.kernel.errors import AlreadyExists, NotFound, ValidationFailed
from tradeguard.kernel.runtime import Runtime
from tradeguard.kernel.uow import UnitOfWorkRunner
from tradeguard.reputation import rules
from tradeguard.reputation.model import (
    BuyerCredit,
    CountedReview,
    Counting,
    Deduction,
    DetailedAverages,
    SellerFigures,
    SellerTotals,
    TrustBadge,
)
from tradeguard.reputation.policy import ReputationPolicy
from tradeguard.reputation.ports import (
    BuyerHistorySource,
    OrdersOnlyHistory,
    ReputationUnitOfWork,
)
from tradeguard.reviews.model import Review

#: Times one seller range is rebuilt before a conflict with live counting is reported.
_RANGE_ATTEMPTS = 3


#: Category figures a process keeps (one per category and DSR window) before starting afresh.
_CATEGORY_CACHE_SIZE = 10_000


@dataclass(frozen=True, slots=True)
class _CategoryFigures:
    """A category's DSR average and mean stars, as computed at ``computed_at``."""

    dsr: DetailedAverages | None
    mean_stars: float | None
    computed_at: datetime


class ReviewExcluder(Protocol):
    """The reviews context's side of ``exclude_reviews`` (exclusion is a review transition)."""

    def exclude_for_order(self, uow: ReputationUnitOfWork, order_id: str, reason: str) -> int:
        """Exclude the order's review from reputation with the reason; return how many."""
        ...


@dataclass(frozen=True, slots=True)
class MerchantStanding:
    """What the merchants context says about a seller for the trust badge."""

    verified: bool
    guarantee_enrolled: bool
    deposit_posted: bool


class MerchantStandingSource(Protocol):
    """The merchants context's answer for the trust badge."""

    def standing(self, uow: ReputationUnitOfWork, seller_id: str) -> MerchantStanding:
        """Verification, guarantee enrolment and deposit of the seller."""
        ...


class ReputationService:
    """Seller credit, buyer credit and the trust badge (DESIGN.md §9)."""

    def __init__(
        self,
        units: UnitOfWorkRunner[ReputationUnitOfWork],
        runtime: Runtime,
        policy: ReputationPolicy,
        history: BuyerHistorySource | None = None,
    ) -> None:
        self._units = units
        self._rt = runtime
        self._policy = policy
        self.history: BuyerHistorySource = history or OrdersOnlyHistory()
        self.reviews: ReviewExcluder | None = None  #: wired by bootstrap
        self.merchants: MerchantStandingSource | None = None  #: wired by bootstrap
        self._category_cache: dict[tuple[str, date, date], _CategoryFigures] = {}

    @property
    def policy(self) -> ReputationPolicy:
        """The reputation policy in force."""
        return self._policy

    # -- counting reviews (called by the reviews context inside its unit of work) ----------------

    def count(self, uow: ReputationUnitOfWork, review: Review) -> bool:
        """Add a published review to its seller's figures; False if it repeats a recent one.

        DESIGN.md §9: repeated reviews of the same item by the same buyer within the
        repeat window count once (the first). The decision (``rules.repeats_recent``)
        is taken once, by the store in the same write that counts the review, so two
        concurrent reviews of one item cannot both open the window; it is kept on the
        review, and revisions and exclusions never revisit it.
        """
        now = self._rt.clock.now()
        totals = uow.reputation.count_new(
            CountedReview(
                seller_id=review.seller_id,
                buyer_id=review.buyer_id,
                listing_id=review.listing_id,
                rated_at=review.created_at,
                month=review.rated_month,
                day=review.rated_on,
                delta=_counting(review),
                repeat_window=self._policy.repeat_window.as_timedelta(),
                points_cap=self._policy.points_cap_per_buyer_month,
            ),
            now,
        )
        if totals is None:
            review.counts_for_credit = False
            return False
        review.counts_for_credit = True
        review.counted = True
        self._announce_level(uow, totals, now, review.subject)
        return True

    def uncount(self, uow: ReputationUnitOfWork, review: Review) -> None:
        """Take a counted review out of its seller's figures (exclusion)."""
        if review.counted:
            self._change(uow, review, _counting(review), -1)
            review.counted = False

    def restar(self, uow: ReputationUnitOfWork, review: Review, old_stars: int) -> None:
        """Move a counted review from its old rating to its current one (an upward revision)."""
        if not review.counted:
            return
        current = review.stars
        review.stars = old_stars
        before = _counting(review)
        review.stars = current
        self._change(uow, review, before, -1, after=_counting(review))

    def _change(
        self,
        uow: ReputationUnitOfWork,
        review: Review,
        counting: Counting,
        sign: int,
        *,
        after: Counting | None = None,
    ) -> None:
        store = uow.reputation
        delta = counting.scaled(sign) if after is None else after.plus(counting.scaled(-1))
        cap = self._policy.points_cap_per_buyer_month
        now = self._rt.clock.now()
        # The pair-month and seller upserts may share one round trip; the day write is queued.
        totals = store.add_to_pair_and_seller(
            review.seller_id, review.buyer_id, review.rated_month, cap, delta, now
        )
        store.add_day(review.seller_id, review.rated_on, delta)
        self._announce_level(uow, totals, now, review.subject)

    def _announce_level(
        self, uow: ReputationUnitOfWork, totals: SellerTotals, now: datetime, cause: str
    ) -> None:
        new_level = rules.level(totals.points, self._policy.level_thresholds)
        if new_level == totals.level:
            return
        uow.reputation.set_level(totals.seller_id, new_level)
        data = {
            "seller_id": totals.seller_id,
            "from_level": totals.level,
            "to_level": new_level,
            "points": totals.points,
            "cause": cause,
        }
        events.record(
            uow.outbox,
            [DomainEvent("reputation.level_changed", f"seller:{totals.seller_id}", data)],
            self._rt.ids,
            now,
        )

    # -- the contracts disputes and risk call -----------------------------------------------------

    def deduct_points(
        self, uow: ReputationUnitOfWork, seller_id: str, points: int, reason: str, reference: str
    ) -> None:
        """Take credit points from a seller for a decision (idempotent per reference)."""
        if type(points) is not int or points <= 0:
            raise ValidationFailed("Deduct a positive number of points.", field="points")
        if not reason or not reference:
            raise ValidationFailed("A deduction needs a reason and a reference.")
        now = self._rt.clock.now()
        totals = uow.reputation.deduct(Deduction(reference, seller_id, points, reason, now))
        if totals is None:
            return
        events.record(
            uow.outbox,
            [
                DomainEvent(
                    "reputation.points_deducted",
                    f"seller:{seller_id}",
                    {
                        "seller_id": seller_id,
                        "points": points,
                        "reason": reason,
                        "reference": reference,
                    },
                )
            ],
            self._rt.ids,
            now,
        )
        self._announce_level(uow, totals, now, reference)

    def exclude_reviews(self, uow: ReputationUnitOfWork, order_id: str, reason: str) -> int:
        """Stop the order's reviews counting toward reputation, keeping the reason; return how many."""
        if self.reviews is None:
            raise RuntimeError("internal error: the reviews context is not wired")
        if not reason:
            raise ValidationFailed("An exclusion needs a reason.", field="reason")
        return self.reviews.exclude_for_order(uow, order_id, reason)

    # -- reads ----------------------------------------------------------------------------------

    def figures(self, seller_id: str) -> SellerFigures:
        """A seller's public figures (no reviewer data)."""
        return self._units.run(lambda uow: self.figures_in(uow, seller_id))

    def figures_in(self, uow: ReputationUnitOfWork, seller_id: str) -> SellerFigures:
        """A seller's public figures, inside a unit of work."""
        store, policy = uow.reputation, self._policy
        now = self._rt.clock.now()
        today = now.astimezone(self._rt.calendar.zone).date()
        totals = store.totals(seller_id) or SellerTotals(
            seller_id, "general", 0, 0, 0, 0, 0, 0.0, 0.0, rules.NO_LEVEL
        )
        short = store.window(
            seller_id, rules.months_before(today, policy.positive_rate_short_months), today
        )
        long = store.window(
            seller_id, rules.months_before(today, policy.positive_rate_long_months), today
        )
        dsr_from = today - timedelta(days=policy.dsr_window_days - 1)
        dsr = store.window(seller_id, dsr_from, today).dsr()
        category = self._category_figures(uow, totals.category, dsr_from, today, now)
        completed, first_order_at = store.sales(seller_id)
        return SellerFigures(
            seller_id=seller_id,
            category=totals.category,
            points=totals.points,
            level=rules.level(totals.points, policy.level_thresholds),
            positive=totals.positive,
            neutral=totals.neutral,
            negative=totals.negative,
            positive_rate_short_bps=short.positive_rate_bps,
            positive_rate_long_bps=long.positive_rate_bps,
            dsr=dsr,
            category_dsr=category.dsr,
            store_age_days=None if first_order_at is None else (now - first_order_at).days,
            completed_orders=completed,
            reviews_to_sales_bps=None if completed == 0 else (totals.reviews * 10_000) // completed,
            ranking_score=rules.ranking_score(
                totals.star_weight_sum,
                totals.weight_sum,
                category.mean_stars,
                policy.ranking_prior_weight,
            ),
            excluded_reviews=store.excluded_reviews(seller_id),
            as_of=now,
        )

    def _category_figures(
        self,
        uow: ReputationUnitOfWork,
        category: str,
        first_day: date,
        last_day: date,
        now: datetime,
    ) -> _CategoryFigures:
        # Both figures sum every seller of the category: on a public read path that is too much
        # work to repeat per request, and a category's averages barely move in minutes.
        key = (category, first_day, last_day)
        max_age = timedelta(seconds=self._policy.category_figures_max_age_s)
        cached = self._category_cache.get(key)
        if cached is not None and timedelta(0) <= now - cached.computed_at < max_age:
            return cached
        store = uow.reputation
        fresh = _CategoryFigures(
            dsr=store.category_window(category, first_day, last_day).dsr(),
            mean_stars=store.category_mean(category),
            computed_at=now,
        )
        if len(self._category_cache) >= _CATEGORY_CACHE_SIZE:
            self._category_cache.clear()  # old days' keys; rebuilt as categories are read
        self._category_cache[key] = fresh
        return fresh

    def buyer_credit(self, uow: ReputationUnitOfWork, buyer_id: str) -> BuyerCredit:
        """The buyer's credit score and tier (DESIGN.md §9); the tier may unlock instant refunds."""
        history = self.history.history(uow, buyer_id)
        now = self._rt.clock.now()
        score, refund_rate_bps, age_days = rules.buyer_score(history, now, self._policy)
        tier = rules.buyer_tier(score, history.completed_orders, self._policy)
        return BuyerCredit(
            buyer_id=buyer_id,
            score=score,
            tier=tier,
            allows_instant_refund=tier in self._policy.instant_refund_tiers
            and refund_rate_bps <= self._policy.buyer_max_refund_rate_bps_for_instant,
            completed_orders=history.completed_orders,
            refund_rate_bps=refund_rate_bps,
            disputes_lost=history.disputes_lost,
            account_age_days=age_days,
        )

    def buyer_credit_of(self, buyer_id: str) -> BuyerCredit:
        """The buyer's credit in a unit of work of its own."""
        return self._units.run(lambda uow: self.buyer_credit(uow, buyer_id))

    def trust_badge(self, seller_id: str) -> TrustBadge:
        """Seed 004's green shield: verified + guarantee + deposit + no severe violation in 90 days."""

        def work(uow: ReputationUnitOfWork) -> TrustBadge:
            if self.merchants is None:
                raise RuntimeError("internal error: the merchants context is not wired")
            now = self._rt.clock.now()
            standing = self.merchants.standing(uow, seller_id)
            since = now - self._policy.badge_violation_lookback.as_timedelta()
            severe = uow.reputation.severe_deductions_since(
                seller_id, since, self._policy.severe_violation_points
            )
            checks = {
                "verified": standing.verified,
                "guarantee_enrolled": standing.guarantee_enrolled,
                "deposit_posted": standing.deposit_posted,
                "no_severe_violation": severe == 0,
            }
            return TrustBadge(
                seller_id=seller_id,
                granted=all(checks.values()),
                as_of=now,
                missing=tuple(k for k, ok in checks.items() if not ok),
                **checks,
            )

        return self._units.run(work)

    def set_category(self, seller_id: str, category: str) -> None:
        """File a seller under a category (operator)."""
        if not category or len(category) > 64:
            raise ValidationFailed("A category is 1 to 64 characters.", field="category")
        self._units.run(
            lambda uow: uow.reputation.set_category(seller_id, category, self._rt.clock.now())
        )
        self._category_cache.clear()  # both categories' figures changed

    def recompute(self, *, sellers_per_unit: int = 2_000, workers: int | None = None) -> int:
        """Rebuild every seller's figures from the reviews (SQL aggregation); return the sellers.

        Sellers are rebuilt in id ranges, one unit of work each, so no transaction
        stays open for long whatever the number of reviews. Ranges are disjoint, so
        where the store allows it several are rebuilt at once (``workers``, by
        default what the store says it can take).
        """
        cap = self._policy.points_cap_per_buyer_month
        sellers, parallelism = self._units.run(
            lambda uow: (uow.reputation.sellers(), uow.reputation.recompute_parallelism())
        )

        def rebuild(first: str, last: str) -> Callable[[ReputationUnitOfWork], int]:
            return lambda uow: uow.reputation.recompute(cap, first, last)

        ranges = [
            rebuild(chunk[0], chunk[-1])
            for start in range(0, len(sellers), sellers_per_unit)
            for chunk in (sellers[start : start + sellers_per_unit],)
        ]
        width = max(1, min(workers or parallelism, len(ranges)))
        try:
            if width == 1:
                return sum(self._rebuild_range(work) for work in ranges)
            with ThreadPoolExecutor(max_workers=width, thread_name_prefix="recompute") as pool:
                return sum(pool.map(self._rebuild_range, ranges))
        finally:
            self._category_cache.clear()  # this process's category figures follow the rebuild

    def _rebuild_range(self, work: Callable[[ReputationUnitOfWork], int]) -> int:
        # A review counted while its range is rebuilt may create a bucket row the rebuild,
        # reading before that review committed, was about to add: the range is refused as a
        # duplicate and rebuilt again, now with that review.
        for _ in range(_RANGE_ATTEMPTS - 1):
            try:
                return self._units.run(work)
            except AlreadyExists:
                continue
        return self._units.run(work)

    def require_seller(self, seller_id: str) -> None:
        """Raise NotFound for a seller TradeGuard knows nothing about."""
        if self._units.run(lambda uow: uow.reputation.totals(seller_id)) is None:
            raise NotFound("seller", seller_id)


def _counting(review: Review) -> Counting:
    return rules.counting(review.polarity, review.stars, review.detailed, review.weight)
