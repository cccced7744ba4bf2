"""Reviews: states, events, the transition table and the records kept per review (DESIGN.md §8).

A review rates one completed order. It is moderated before it is published
(``pending -> published | rejected``); once published the buyer may add one
follow-up and revise a neutral or negative rating upward once, the seller may
explain once per review and once per follow-up, and a dispute or risk case may
exclude it from reputation. No row lets a seller edit or delete a review.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Final

from tradeguard.kernel.parties import Actor
from tradeguard.kernel.statemachine import TransitionTable


class ReviewState(StrEnum):
    """Where a review stands in moderation."""

    PENDING = "pending"  #: held for staff: moderation found insults, spam or links
    PUBLISHED = "published"  #: visible (subject to the double-blind) and counted
    REJECTED = "rejected"  #: staff refused it; it never counts


class ReviewEvent(StrEnum):
    """What can be asked of a review."""

    PUBLISH = "publish"  #: moderation found nothing to hold
    APPROVE = "approve"  #: staff publish a held review
    REJECT = "reject"  #: staff refuse a held review
    FOLLOW_UP = "follow_up"
    EXPLAIN = "explain"  #: the seller's one explanation of the review
    EXPLAIN_FOLLOW_UP = "explain_follow_up"  #: the seller's one explanation of the follow-up
    REVISE = "revise"  #: the buyer raises the rating
    EXCLUDE = "exclude"  #: a dispute or risk case found it malicious


class ReviewEffect(StrEnum):
    """Side effects a transition asks for; only the review service interprets them."""

    COUNT = "count"  #: add the review to the seller's reputation
    RECORD_DECISION = "record_decision"
    RECORD_FOLLOW_UP = "record_follow_up"
    RECORD_EXPLANATION = "record_explanation"
    RECORD_REVISION = "record_revision"
    UNCOUNT = "uncount"  #: take the review out of the seller's reputation, keeping the reason


class Guard(StrEnum):
    """Conditions a row needs beyond state and actor; the review service evaluates them."""

    FOLLOW_UP_ALLOWED = "only once, within the follow-up window after completion"
    EXPLANATION_ALLOWED = "only once per review"
    FOLLOW_UP_EXPLANATION_ALLOWED = "only once per follow-up, after the follow-up"
    REVISION_ALLOWED = "only upward, once, from neutral or negative, within the revision window"
    NOT_EXCLUDED = "only a review that still counts"


S, E, A, F, G = ReviewState, ReviewEvent, Actor, ReviewEffect, Guard
_STAFF = frozenset({A.SUPPORT, A.ARBITRATOR, A.RISK_ANALYST, A.ADMIN})
#: Exclusion comes from a dispute decision or a risk case: the system on their behalf, or staff.
_EXCLUDERS = frozenset({A.SYSTEM, A.ARBITRATOR, A.RISK_ANALYST, A.ADMIN})

_Row = tuple[
    ReviewState,
    ReviewEvent,
    Actor | frozenset[Actor],
    ReviewState,
    list[ReviewEffect],
    Guard | None,
]

# fmt: off
_ROWS: list[_Row] = [
    # source      event                    actor(s)    target       effects                          guard
    (S.PENDING,   E.PUBLISH,               A.SYSTEM,   S.PUBLISHED, [F.COUNT],                       None),
    (S.PENDING,   E.APPROVE,               _STAFF,     S.PUBLISHED, [F.RECORD_DECISION, F.COUNT],    None),
    (S.PENDING,   E.REJECT,                _STAFF,     S.REJECTED,  [F.RECORD_DECISION],             None),
    (S.PENDING,   E.EXCLUDE,               _EXCLUDERS, S.PENDING,   [F.UNCOUNT],                     G.NOT_EXCLUDED),
    (S.PUBLISHED, E.FOLLOW_UP,             A.BUYER,    S.PUBLISHED, [F.RECORD_FOLLOW_UP],            G.FOLLOW_UP_ALLOWED),
    (S.PUBLISHED, E.EXPLAIN,               A.SELLER,   S.PUBLISHED, [F.RECORD_EXPLANATION],          G.EXPLANATION_ALLOWED),
    (S.PUBLISHED, E.EXPLAIN_FOLLOW_UP,     A.SELLER,   S.PUBLISHED, [F.RECORD_EXPLANATION],          G.FOLLOW_UP_EXPLANATION_ALLOWED),
    (S.PUBLISHED, E.REVISE,                A.BUYER,    S.PUBLISHED, [F.RECORD_REVISION],             G.REVISION_ALLOWED),
    (S.PUBLISHED, E.EXCLUDE,               _EXCLUDERS, S.PUBLISHED, [F.UNCOUNT],                     G.NOT_EXCLUDED),
]
# fmt: on

#: The review machine of DESIGN.md §8. Published and rejected are final: a published review
#: only gains follow-ups, explanations, an upward revision or an exclusion, never a new state.
REVIEW_TRANSITIONS: Final = TransitionTable[ReviewState, ReviewEvent, ReviewEffect](
    "review",
    ReviewState,
    initial=S.PENDING,
    final={S.PUBLISHED, S.REJECTED},
    rows=_ROWS,
)

#: Outbox event type for each input.
EVENT_TYPES: Final[dict[ReviewEvent, str]] = {
    E.PUBLISH: "review.published",
    E.APPROVE: "review.published",
    E.REJECT: "review.rejected",
    E.FOLLOW_UP: "review.follow_up_posted",
    E.EXPLAIN: "review.explained",
    E.EXPLAIN_FOLLOW_UP: "review.explained",
    E.REVISE: "review.revised",
    E.EXCLUDE: "review.excluded",
}


class Polarity(StrEnum):
    """What an overall rating means for credit: 4-5 stars positive, 3 neutral, 1-2 negative."""

    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"

    @property
    def points(self) -> int:
        """Seller credit points (DESIGN.md §9): +1 positive, 0 neutral, -1 negative."""
        return {"positive": 1, "neutral": 0, "negative": -1}[self.value]


def polarity(stars: int) -> Polarity:
    """The polarity of an overall rating (DESIGN.md §8).

    >>> [polarity(s).value for s in (1, 2, 3, 4, 5)]
    ['negative', 'negative', 'neutral', 'positive', 'positive']
    """
    if not 1 <= stars <= 5:
        raise ValueError("stars are 1 to 5")
    if stars >= 4:
        return Polarity.POSITIVE
    return Polarity.NEUTRAL if stars == 3 else Polarity.NEGATIVE


class ReviewOrigin(StrEnum):
    """Who gave the rating."""

    BUYER = "buyer"  #: the buyer wrote it
    DEFAULT = "default"  #: the review window ended unrated; the policy's default rating


class ModerationFlag(StrEnum):
    """Why moderation held a text for staff."""

    INSULT = "insult"
    SPAM = "spam"
    LINK = "link"


class DeadlineKind(StrEnum):
    """The review context's timers."""

    REVIEW_WINDOW = "review.window"  #: the buyer's window to review a completed order ends


@dataclass(frozen=True, slots=True)
class DetailedRatings:
    """Detailed seller ratings (DSR), each 1-5."""

    item_as_described: int
    communication: int
    shipping_speed: int

    def as_tuple(self) -> tuple[int, int, int]:
        """The three ratings in a fixed order."""
        return (self.item_as_described, self.communication, self.shipping_speed)


@dataclass(frozen=True, slots=True)
class Photo:
    """A photo of a review, referenced by the sha256 of its bytes (content-addressed)."""

    sha256: str
    content_type: str
    size_bytes: int


@dataclass(slots=True)
class Review:
    """The buyer's review of one completed order, as moderated and counted.

    ``rated_on`` and ``rated_month`` are the review's day and calendar month in the
    marketplace's time zone: the reputation buckets and the monthly cap read them.
    ``counts_for_credit`` is decided when the review is published (a repeated review
    of the same item within the repeat window never counts); ``excluded_at`` is set
    when a dispute or risk case takes it out, with the reason.
    """

    id: str
    order_id: str
    buyer_id: str
    seller_id: str
    listing_id: str
    state: ReviewState
    origin: ReviewOrigin
    stars: int
    detailed: DetailedRatings | None
    text: str
    reason: str | None
    is_anonymous: bool
    photos: tuple[Photo, ...]
    created_at: datetime
    rated_on: date
    rated_month: str
    order_completed_at: datetime
    weight: float = 1.0  #: the reviewer's reliability when it was counted (1 until risk feeds it)
    flags: tuple[ModerationFlag, ...] = ()
    published_at: datetime | None = None
    counts_for_credit: bool = False
    counted: bool = False  #: it is in the seller's figures right now
    excluded_at: datetime | None = None
    exclusion_reason: str | None = None
    revised_at: datetime | None = None
    original_stars: int | None = None
    follow_up_text: str | None = None
    follow_up_photos: tuple[Photo, ...] = ()
    follow_up_at: datetime | None = None
    explanation: str | None = None
    explained_at: datetime | None = None
    follow_up_explanation: str | None = None
    follow_up_explained_at: datetime | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_note: str | None = None

    @property
    def polarity(self) -> Polarity:
        """Positive, neutral or negative, from the current stars."""
        return polarity(self.stars)

    @property
    def subject(self) -> str:
        """The review as an event subject."""
        return f"review:{self.id}"


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """What reviewing needs to know about an order: its parties, state, completion and item."""

    order_id: str
    buyer_id: str
    seller_id: str
    state: str
    completed_at: datetime | None
    listing_id: str  #: the order's first line: the "item" of the repeat rule


class BuyerRatingPolicy(StrEnum):
    """What a seller may say about a buyer (DESIGN.md §8)."""

    POSITIVE_ONLY = "positive_only"  #: eBay: sellers leave only positive feedback
    FULL = "full"  #: Taobao: positive, neutral or negative


@dataclass(frozen=True, slots=True)
class BuyerRating:
    """The seller's rating of the buyer of one order."""

    order_id: str
    seller_id: str
    buyer_id: str
    polarity: Polarity
    text: str
    rated_at: datetime


@dataclass(frozen=True, slots=True)
class ModerationDecision:
    """A staff decision on a held review, kept for the record."""

    id: str
    review_id: str
    decision: str  #: "approve" or "reject"
    staff: str
    note: str
    decided_at: datetime
