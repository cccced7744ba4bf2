"""Pure rules of DESIGN.md §8: eligibility, windows, reasons, revisions, the double-blind."""

from __future__ import annotations

from datetime import datetime

from tradeguard.kernel.errors import ValidationFailed
from tradeguard.reviews.model import (
    BuyerRatingPolicy,
    DetailedRatings,
    Photo,
    Polarity,
    Review,
    polarity,
)
from tradeguard.reviews.policy import ReviewPolicy

_HEX = frozenset("0123456789abcdef")


def window_ends_at(completed_at: datetime, policy: ReviewPolicy) -> datetime:
    """When the buyer may no longer review the order (default 15 days after completion)."""
    return completed_at + policy.window.as_timedelta()


def within_review_window(completed_at: datetime, now: datetime, policy: ReviewPolicy) -> bool:
    """True while the buyer of a completed order may review it."""
    return now < window_ends_at(completed_at, policy)


def check_rating(stars: int, detailed: DetailedRatings | None, reason: str | None) -> None:
    """Refuse ratings outside 1-5, and neutral or negative ratings without a reason (DESIGN.md §8)."""
    if type(stars) is not int or not 1 <= stars <= 5:
        raise ValidationFailed("The overall rating is 1 to 5 stars.", field="stars")
    if detailed is not None:
        for name, value in zip(
            ("item_as_described", "communication", "shipping_speed"),
            detailed.as_tuple(),
            strict=True,
        ):
            if type(value) is not int or not 1 <= value <= 5:
                raise ValidationFailed(f"{name} is rated 1 to 5.", field=name)
    if polarity(stars) != Polarity.POSITIVE and not (reason and reason.strip()):
        raise ValidationFailed("A neutral or negative rating needs a reason.", field="reason")


def check_text(text: str, policy: ReviewPolicy, field: str = "text") -> None:
    """Refuse texts longer than the policy allows."""
    if len(text) > policy.text_max_chars:
        raise ValidationFailed(
            f"{field} is at most {policy.text_max_chars} characters.", field=field
        )


def check_photos(photos: tuple[Photo, ...], policy: ReviewPolicy) -> None:
    """Photos are sha256 references with an allowed type and size (content-addressed uploads)."""
    if len(photos) > policy.photos_max:
        raise ValidationFailed(f"At most {policy.photos_max} photos.", field="photos")
    for photo in photos:
        if len(photo.sha256) != 64 or not set(photo.sha256) <= _HEX:
            raise ValidationFailed(
                "A photo is named by the lowercase hex sha256 of its bytes.", field="photos"
            )
        if photo.content_type not in policy.photo_types:
            raise ValidationFailed(
                f"Photos must be one of {', '.join(policy.photo_types)}.", field="photos"
            )
        if not 0 < photo.size_bytes <= policy.photo_max_bytes:
            raise ValidationFailed(
                f"A photo is 1 to {policy.photo_max_bytes} bytes.", field="photos"
            )


def follow_up_allowed(review: Review, now: datetime, policy: ReviewPolicy) -> bool:
    """One follow-up, within the follow-up window after completion (default 180 days)."""
    return (
        review.follow_up_at is None
        and now < review.order_completed_at + policy.follow_up_window.as_timedelta()
    )


def revision_allowed(review: Review, new_stars: int, now: datetime, policy: ReviewPolicy) -> bool:
    """Upward only, once, from a neutral or negative rating, within the revision window (seed 000)."""
    return (
        review.revised_at is None
        and review.polarity != Polarity.POSITIVE
        and new_stars > review.stars
        and now < review.created_at + policy.revision_window.as_timedelta()
    )


def buyer_rating_allowed(rating: Polarity, policy: ReviewPolicy) -> bool:
    """Positive only (eBay) or any polarity (Taobao), as the policy says."""
    return policy.seller_rates_buyer == BuyerRatingPolicy.FULL or rating == Polarity.POSITIVE


def revealed(both_rated: bool, completed_at: datetime, now: datetime, policy: ReviewPolicy) -> bool:
    """Double-blind (DESIGN.md §8, as Sharetribe): a rating shows once both sides rated or the window ended."""
    return both_rated or not within_review_window(completed_at, now, policy)
