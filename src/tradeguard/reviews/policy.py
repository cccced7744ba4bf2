"""The numbers of DESIGN.md §8, with their documented defaults."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tradeguard.kernel.periods import Period
from tradeguard.kernel.policytypes import CalendarPeriodField, Count, PolicySection
from tradeguard.reviews.model import BuyerRatingPolicy


class ReviewPolicy(PolicySection):
    """Who may review what and when, and what moderation holds (DESIGN.md §8)."""

    window: CalendarPeriodField = Field(
        default=Period.days(15),
        description="The buyer may review a completed order this long after completion.",
    )
    default_rating: Literal["positive", "none"] = Field(
        default="positive",
        description="What an order left unrated gets when the review window ends: a default positive rating, or nothing.",
    )
    follow_up_window: CalendarPeriodField = Field(
        default=Period.days(180),
        description="One follow-up review may be posted this long after completion.",
    )
    revision_window: CalendarPeriodField = Field(
        default=Period.days(30),
        description="A neutral or negative rating may be revised upward, once, this long after it was posted.",
    )
    seller_rates_buyer: BuyerRatingPolicy = Field(
        default=BuyerRatingPolicy.FULL,
        description="Sellers rate buyers positive only (eBay) or positive/neutral/negative (Taobao).",
    )
    text_max_chars: Count = Field(default=2000, description="Longest review or reply text.")
    photos_max: Count = Field(default=9, description="Most photos on one review or follow-up.")
    photo_max_bytes: Count = Field(
        default=10 * 1024 * 1024, description="Largest photo a review may reference."
    )
    photo_types: tuple[str, ...] = Field(
        default=("image/jpeg", "image/png", "image/webp"),
        description="Content types a review photo may have.",
    )
    hold_links: bool = Field(
        default=True, description="Hold reviews containing links for staff (spam, phishing)."
    )
    extra_insults: tuple[str, ...] = Field(
        default=(), description="Terms held as insults beyond the built-in zh/en list."
    )
    extra_spam: tuple[str, ...] = Field(
        default=(), description="Terms held as spam beyond the built-in zh/en list."
    )
