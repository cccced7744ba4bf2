"""Pure rules of DESIGN.md §9: capped points, levels, rolling windows, ranking, buyer credit."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from tradeguard.reputation.model import BuyerHistory, Counting
from tradeguard.reputation.policy import LEVEL_NAMES, ReputationPolicy
from tradeguard.reviews.model import DetailedRatings, Polarity

NO_LEVEL = "none"


def capped_points(positive: int, negative: int, cap: int) -> int:
    """Points one buyer gives one seller in one calendar month: at most ``cap`` each way.

    >>> capped_points(9, 1, 6), capped_points(0, 8, 6), capped_points(2, 2, 6)
    (5, -6, 0)
    """
    return min(positive, cap) - min(negative, cap)


def repeats_recent(window_started: datetime | None, rated_at: datetime, window: timedelta) -> bool:
    """A review of an item within the repeat window of the buyer's earlier one does not count (§9).

    >>> start = datetime(2026, 3, 1)
    >>> repeats_recent(start, datetime(2026, 3, 10), timedelta(days=14))
    True
    >>> repeats_recent(start, datetime(2026, 3, 15), timedelta(days=14))
    False
    >>> repeats_recent(None, start, timedelta(days=14))
    False
    """
    return window_started is not None and abs(rated_at - window_started) < window


def level(points: int, thresholds: tuple[int, ...]) -> str:
    """The level a seller's points reach (hearts 1-5, diamonds 1-5, crowns 1-5, gold crowns 1-5).

    >>> t = ReputationPolicy().level_thresholds
    >>> level(3, t), level(4, t), level(10, t), level(11, t), level(10_000_001, t)
    ('none', 'heart_1', 'heart_1', 'heart_2', 'gold_crown_5')
    """
    reached = NO_LEVEL
    for name, threshold in zip(LEVEL_NAMES, thresholds, strict=True):
        if points < threshold:
            break
        reached = name
    return reached


def counting(
    polarity: Polarity, stars: int, detailed: DetailedRatings | None, weight: float
) -> Counting:
    """What one review adds to its seller's figures."""
    item, communication, shipping = detailed.as_tuple() if detailed else (0, 0, 0)
    return Counting(
        positive=int(polarity == Polarity.POSITIVE),
        neutral=int(polarity == Polarity.NEUTRAL),
        negative=int(polarity == Polarity.NEGATIVE),
        dsr_count=int(detailed is not None),
        dsr_item_sum=item,
        dsr_communication_sum=communication,
        dsr_shipping_sum=shipping,
        star_weight_sum=weight * stars,
        weight_sum=weight,
    )


def months_before(day: date, months: int) -> date:
    """The first day of a rolling window of ``months`` calendar months ending on ``day``.

    >>> months_before(date(2026, 8, 31), 6), months_before(date(2026, 3, 15), 12)
    (datetime.date(2026, 2, 28), datetime.date(2025, 3, 15))
    """
    month_index = day.year * 12 + (day.month - 1) - months
    year, month = divmod(month_index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


def ranking_score(
    star_weight_sum: float, weight_sum: float, category_mean: float | None, prior_weight: int
) -> float | None:
    """A robust 1-5 score for ranking: Bayesian shrinkage toward the category mean.

    Each review enters with its reviewer's reliability weight (1 until the risk
    engine feeds it), so a seller with few reviews sits near its category's mean
    and a burst of unreliable reviews moves it little.

    >>> ranking_score(50.0, 10.0, 4.0, 10)  # ten 5-star reviews, category mean 4
    4.5
    >>> ranking_score(0.0, 0.0, None, 10) is None
    True
    """
    mean = category_mean if category_mean is not None else None
    if mean is None:
        if weight_sum == 0:
            return None
        return round(star_weight_sum / weight_sum, 4)
    return round((prior_weight * mean + star_weight_sum) / (prior_weight + weight_sum), 4)


def buyer_score(
    history: BuyerHistory, now: datetime, policy: ReputationPolicy
) -> tuple[int, int, int]:
    """The buyer credit score (0-1000), the refund rate in bps and the account age in days.

    Score = base + per completed order (capped) + per month of history (capped)
    - per percentage point of refunded orders - per dispute lost, clamped to 0-1000.
    """
    orders = history.completed_orders + history.refunded_orders
    refund_rate_bps = 0 if orders == 0 else (history.refunded_orders * 10_000) // orders
    age_days = 0 if history.first_order_at is None else max(0, (now - history.first_order_at).days)
    score = (
        policy.buyer_base_score
        + min(history.completed_orders, policy.buyer_completed_orders_cap)
        * policy.buyer_points_per_completed_order
        + min(age_days // 30, policy.buyer_age_months_cap) * policy.buyer_points_per_month_of_age
        - (refund_rate_bps // 100) * policy.buyer_refund_rate_penalty_per_pct
        - history.disputes_lost * policy.buyer_dispute_lost_penalty
    )
    return max(0, min(1000, score)), refund_rate_bps, age_days


def buyer_tier(score: int, completed_orders: int, policy: ReputationPolicy) -> str:
    """The buyer's tier from its score; too little history is 'new' whatever the score.

    >>> p = ReputationPolicy()
    >>> [buyer_tier(s, 10, p) for s in (399, 400, 575, 700)], buyer_tier(900, 2, p)
    (['restricted', 'standard', 'trusted', 'excellent'], 'new')
    """
    if completed_orders < policy.buyer_min_orders_for_tier:
        return "new"
    standard, trusted, excellent = policy.buyer_tier_floors
    if score >= excellent:
        return "excellent"
    if score >= trusted:
        return "trusted"
    return "standard" if score >= standard else "restricted"
