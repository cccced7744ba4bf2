"""The numbers of DESIGN.md §9, with their documented defaults."""

from __future__ import annotations

import itertools

from pydantic import Field, field_validator

from tradeguard.kernel.periods import Period
from tradeguard.kernel.policytypes import Bps, CalendarPeriodField, Count, PolicySection

#: Level names, lowest first: hearts, diamonds, crowns and gold crowns, five of each.
LEVEL_NAMES: tuple[str, ...] = tuple(
    f"{kind}_{n}" for kind in ("heart", "diamond", "crown", "gold_crown") for n in range(1, 6)
)


class ReputationPolicy(PolicySection):
    """Credit points, levels, rates and scores (DESIGN.md §9)."""

    points_cap_per_buyer_month: Count = Field(
        default=6,
        description="Between the same buyer and seller, at most this many points count per calendar month (each direction).",
    )
    repeat_window: CalendarPeriodField = Field(
        default=Period.days(14),
        description="Repeated reviews of the same item by the same buyer within this window count once.",
    )
    level_thresholds: tuple[int, ...] = Field(
        default=(
            4,
            11,
            41,
            91,
            151,
            251,
            501,
            1001,
            2001,
            5001,
            10001,
            20001,
            50001,
            100001,
            200001,
            500001,
            1000001,
            2000001,
            5000001,
            10000001,
        ),
        description="Points needed for hearts 1-5, diamonds 1-5, crowns 1-5 and gold crowns 1-5.",
    )
    positive_rate_short_months: int = Field(
        default=6,
        strict=True,
        ge=1,
        le=60,
        description="The short positive-rate window, in months.",
    )
    positive_rate_long_months: int = Field(
        default=12,
        strict=True,
        ge=1,
        le=60,
        description="The long positive-rate window, in months.",
    )
    dsr_window_days: int = Field(
        default=180,
        strict=True,
        ge=1,
        le=3660,
        description="Detailed seller ratings average over this many days.",
    )
    category_figures_max_age_s: int = Field(
        default=600,
        strict=True,
        ge=0,
        le=86_400,
        description=(
            "How long a process reuses a category's DSR average and mean stars (seconds; 0 "
            "computes them on every read). They sum the whole category, and move slowly."
        ),
    )
    ranking_prior_weight: int = Field(
        default=10,
        strict=True,
        ge=0,
        description="How many reviews' worth of the category mean the ranking score starts from (Bayesian shrinkage).",
    )
    severe_violation_points: Count = Field(
        default=12,
        description="A deduction of at least this many points is a severe violation (it removes the trust badge).",
    )
    badge_violation_lookback: CalendarPeriodField = Field(
        default=Period.days(90),
        description="The trust badge needs no severe violation within this long.",
    )
    # -- buyer credit (the tier that unlocks instant refunds) --
    buyer_base_score: Count = Field(default=500, description="Every buyer's starting score.")
    buyer_points_per_completed_order: Count = Field(
        default=6, description="Score per completed order, up to the cap below."
    )
    buyer_completed_orders_cap: Count = Field(
        default=50, description="Completed orders beyond this add nothing."
    )
    buyer_points_per_month_of_age: Count = Field(
        default=5, description="Score per month since the buyer's first order, up to the cap below."
    )
    buyer_age_months_cap: Count = Field(default=24, description="Months beyond this add nothing.")
    buyer_refund_rate_penalty_per_pct: Count = Field(
        default=4, description="Score taken per percentage point of orders refunded."
    )
    buyer_dispute_lost_penalty: Count = Field(
        default=100, description="Score taken per dispute the buyer lost."
    )
    buyer_min_orders_for_tier: Count = Field(
        default=3, description="Below this many completed orders a buyer's tier is 'new'."
    )
    buyer_tier_floors: tuple[int, int, int] = Field(
        # 575 = 500 + 10 completed orders x 6 + 3 months x 5: the after-sales rule of thumb for
        # instant refunds (about ten clean orders over a quarter) expressed as a score.
        default=(400, 575, 700),
        description="Scores from which a buyer is 'standard', 'trusted' and 'excellent' (below: 'restricted').",
    )
    instant_refund_tiers: tuple[str, ...] = Field(
        default=("trusted", "excellent"),
        description="Buyer tiers that get instant refunds (极速退款).",
    )
    buyer_max_refund_rate_bps_for_instant: Bps = Field(
        default=3000,
        description="A buyer refunded on more than this share of orders never gets instant refunds.",
    )

    @field_validator("level_thresholds")
    @classmethod
    def _twenty_rising(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if len(value) != len(LEVEL_NAMES):
            raise ValueError(f"give {len(LEVEL_NAMES)} thresholds (hearts to gold crowns)")
        if any(b <= a for a, b in itertools.pairwise(value)) or value[0] < 1:
            raise ValueError("thresholds rise strictly from at least 1")
        return value

    @field_validator("buyer_tier_floors")
    @classmethod
    def _rising_floors(cls, value: tuple[int, int, int]) -> tuple[int, int, int]:
        if not value[0] < value[1] < value[2]:
            raise ValueError("tier floors rise strictly")
        return value
