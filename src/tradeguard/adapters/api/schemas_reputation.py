"""Request and response bodies of reviews, reputation and merchants (DESIGN.md §8-10).

Public bodies (``SellerReputationPublic``, ``PublicReview``) never carry a
reviewer's id, an order id or anything else that names a buyer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from tradeguard.adapters.api.schemas import (
    Currency,
    PositiveAmountMinor,
    _In,
    _Out,
)
from tradeguard.merchants.model import Merchant
from tradeguard.reputation.model import BuyerCredit, DetailedAverages, SellerFigures, TrustBadge
from tradeguard.reviews.model import BuyerRating, ModerationDecision, Photo
from tradeguard.reviews.service import ReviewView

Stars = Annotated[int, Field(ge=1, le=5, strict=True)]
ReviewText = Annotated[str, StringConstraints(max_length=2000)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class PhotoRef(_In):
    """A photo uploaded to the operator's content-addressed store, named by its sha256."""

    sha256: Sha256
    content_type: Annotated[str, StringConstraints(max_length=100)]
    size_bytes: Annotated[int, Field(ge=1, strict=True)]

    def to_domain(self) -> Photo:
        """The domain value."""
        return Photo(self.sha256, self.content_type, self.size_bytes)


class DetailedRatingsIn(_In):
    """Detailed seller ratings (DSR), each 1-5."""

    item_as_described: Stars
    communication: Stars
    shipping_speed: Stars


class ReviewCreate(_In):
    """The buyer's review of a completed order."""

    stars: Stars
    detailed: DetailedRatingsIn | None = None
    text: ReviewText = ""
    reason: ReviewText | None = Field(default=None, description="Required below 4 stars.")
    photos: list[PhotoRef] = Field(default_factory=list, max_length=20)
    is_anonymous: bool = False


class FollowUpCreate(_In):
    """The buyer's one follow-up review."""

    text: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    photos: list[PhotoRef] = Field(default_factory=list, max_length=20)


class RevisionCreate(_In):
    """The buyer's one upward revision of a neutral or negative rating."""

    stars: Stars
    text: ReviewText | None = None
    reason: ReviewText | None = None


class ExplanationCreate(_In):
    """The seller's one explanation of a review (or of its follow-up)."""

    text: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    on_follow_up: bool = False


class BuyerRatingCreate(_In):
    """The seller's rating of the buyer."""

    rating: Literal["positive", "neutral", "negative"]
    text: ReviewText = ""


class ModerationCreate(_In):
    """A staff decision on a held review."""

    approve: bool
    note: Annotated[str, StringConstraints(max_length=500)] = ""


class ExclusionCreate(_In):
    """Take a malicious review out of reputation."""

    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)]


class PhotoOut(_Out):
    """A photo reference."""

    sha256: str
    content_type: str
    size_bytes: int


class BuyerRatingPublic(_Out):
    """The seller's rating of a buyer."""

    order_id: str
    rating: str
    text: str
    rated_at: datetime

    @classmethod
    def of(cls, rating: BuyerRating) -> BuyerRatingPublic:
        """From the domain object."""
        return cls(
            order_id=rating.order_id,
            rating=rating.polarity.value,
            text=rating.text,
            rated_at=rating.rated_at,
        )


class ReviewPublic(_Out):
    """A review as the caller may see it; ``revealed`` false hides the rating (double-blind)."""

    id: str
    order_id: str
    seller_id: str
    buyer_id: str | None = Field(description="None for anonymous reviews read by the seller.")
    state: str
    origin: str
    revealed: bool
    stars: int | None
    polarity: str | None
    detailed: DetailedRatingsIn | None
    text: str | None
    reason: str | None
    photos: list[PhotoOut]
    is_anonymous: bool
    flags: list[str]
    counted: bool
    counts_for_credit: bool
    excluded: bool
    exclusion_reason: str | None
    original_stars: int | None
    revised_at: datetime | None
    follow_up_text: str | None
    follow_up_at: datetime | None
    explanation: str | None
    follow_up_explanation: str | None
    buyer_rating: BuyerRatingPublic | None
    created_at: datetime
    published_at: datetime | None

    @classmethod
    def of(cls, view: ReviewView) -> ReviewPublic:
        """From the domain view, hiding what the double-blind hides."""
        r, shown = view.review, view.revealed
        detailed = (
            DetailedRatingsIn(
                item_as_described=r.detailed.item_as_described,
                communication=r.detailed.communication,
                shipping_speed=r.detailed.shipping_speed,
            )
            if r.detailed and shown
            else None
        )
        return cls(
            id=r.id,
            order_id=r.order_id,
            seller_id=r.seller_id,
            buyer_id=r.buyer_id if view.show_buyer else None,
            state=r.state.value,
            origin=r.origin.value,
            revealed=shown,
            stars=r.stars if shown else None,
            polarity=r.polarity.value if shown else None,
            detailed=detailed,
            text=r.text if shown else None,
            reason=r.reason if shown else None,
            photos=[PhotoOut.model_validate(p) for p in r.photos] if shown else [],
            is_anonymous=r.is_anonymous,
            flags=[f.value for f in r.flags],
            counted=r.counted,
            counts_for_credit=r.counts_for_credit,
            excluded=r.excluded_at is not None,
            exclusion_reason=r.exclusion_reason,
            original_stars=r.original_stars if shown else None,
            revised_at=r.revised_at,
            follow_up_text=r.follow_up_text if shown else None,
            follow_up_at=r.follow_up_at,
            explanation=r.explanation,
            follow_up_explanation=r.follow_up_explanation,
            buyer_rating=BuyerRatingPublic.of(view.buyer_rating) if view.buyer_rating else None,
            created_at=r.created_at,
            published_at=r.published_at,
        )


class ReviewPage(BaseModel):
    """A page of reviews, newest first."""

    data: list[ReviewPublic]
    next_cursor: str | None


class DecisionPublic(_Out):
    """A recorded staff decision."""

    id: str
    decision: str
    staff: str
    note: str
    decided_at: datetime

    @classmethod
    def of(cls, decision: ModerationDecision) -> DecisionPublic:
        """From the domain object."""
        return cls(
            id=decision.id,
            decision=decision.decision,
            staff=decision.staff,
            note=decision.note,
            decided_at=decision.decided_at,
        )


class DecisionList(BaseModel):
    """Staff decisions on a review, oldest first."""

    data: list[DecisionPublic]


class PublicReview(_Out):
    """A published, revealed review on a seller's public page: no reviewer, no order."""

    id: str
    stars: int
    polarity: str
    detailed: DetailedRatingsIn | None
    text: str
    photos: list[PhotoOut]
    follow_up_text: str | None
    explanation: str | None
    follow_up_explanation: str | None
    is_default: bool
    created_at: datetime

    @classmethod
    def of(cls, view: ReviewView) -> PublicReview:
        """From the domain view."""
        r = view.review
        return cls(
            id=r.id,
            stars=r.stars,
            polarity=r.polarity.value,
            detailed=DetailedRatingsIn(
                item_as_described=r.detailed.item_as_described,
                communication=r.detailed.communication,
                shipping_speed=r.detailed.shipping_speed,
            )
            if r.detailed
            else None,
            text=r.text,
            photos=[PhotoOut.model_validate(p) for p in r.photos],
            follow_up_text=r.follow_up_text,
            explanation=r.explanation,
            follow_up_explanation=r.follow_up_explanation,
            is_default=r.origin.value == "default",
            created_at=r.created_at,
        )


class PublicReviewPage(BaseModel):
    """A page of a seller's public reviews, newest first."""

    data: list[PublicReview]
    next_cursor: str | None


class DsrPublic(_Out):
    """Average detailed seller ratings over the DSR window."""

    item_as_described: float
    communication: float
    shipping_speed: float
    ratings: int

    @classmethod
    def of(cls, averages: DetailedAverages | None) -> DsrPublic | None:
        """From the domain object."""
        return None if averages is None else cls.model_validate(averages)


class TrustBadgePublic(_Out):
    """The trust badge and what it still needs."""

    granted: bool
    verified: bool
    guarantee_enrolled: bool
    deposit_posted: bool
    no_severe_violation: bool
    missing: list[str]

    @classmethod
    def of(cls, badge: TrustBadge) -> TrustBadgePublic:
        """From the domain object."""
        return cls(
            granted=badge.granted,
            verified=badge.verified,
            guarantee_enrolled=badge.guarantee_enrolled,
            deposit_posted=badge.deposit_posted,
            no_severe_violation=badge.no_severe_violation,
            missing=list(badge.missing),
        )


class SellerReputationPublic(BaseModel):
    """A seller's public reputation (DESIGN.md §9): no reviewer's personal data."""

    seller_id: str
    category: str
    points: int
    level: str
    positive: int
    neutral: int
    negative: int
    positive_rate_6m_bps: int | None = Field(
        description="Positive share over the short window (default 6 months)."
    )
    positive_rate_12m_bps: int | None = Field(
        description="Positive share over the long window (default 12 months)."
    )
    dsr: DsrPublic | None
    category_dsr: DsrPublic | None
    store_age_days: int | None
    completed_orders: int
    reviews_to_sales_bps: int | None
    ranking_score: float | None
    excluded_reviews: int
    trust_badge: TrustBadgePublic
    as_of: datetime

    @classmethod
    def of(cls, figures: SellerFigures, badge: TrustBadge) -> SellerReputationPublic:
        """From the domain objects."""
        return cls(
            seller_id=figures.seller_id,
            category=figures.category,
            points=figures.points,
            level=figures.level,
            positive=figures.positive,
            neutral=figures.neutral,
            negative=figures.negative,
            positive_rate_6m_bps=figures.positive_rate_short_bps,
            positive_rate_12m_bps=figures.positive_rate_long_bps,
            dsr=DsrPublic.of(figures.dsr),
            category_dsr=DsrPublic.of(figures.category_dsr),
            store_age_days=figures.store_age_days,
            completed_orders=figures.completed_orders,
            reviews_to_sales_bps=figures.reviews_to_sales_bps,
            ranking_score=figures.ranking_score,
            excluded_reviews=figures.excluded_reviews,
            trust_badge=TrustBadgePublic.of(badge),
            as_of=figures.as_of,
        )


class BuyerCreditPublic(_Out):
    """A buyer's credit score and tier."""

    buyer_id: str
    score: int
    tier: str
    allows_instant_refund: bool
    completed_orders: int
    refund_rate_bps: int
    disputes_lost: int
    account_age_days: int

    @classmethod
    def of(cls, credit: BuyerCredit) -> BuyerCreditPublic:
        """From the domain object."""
        return cls.model_validate(credit)


class RecomputePublic(BaseModel):
    """What a full recomputation rebuilt."""

    sellers: int


class MerchantCreate(_In):
    """A seller's business details for verification."""

    legal_name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    country: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$")]
    registration_number: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    category: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None


class DocumentCreate(_In):
    """A verification document uploaded to the content-addressed store."""

    kind: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    sha256: Sha256
    content_type: Annotated[str, StringConstraints(max_length=100)]
    size_bytes: Annotated[int, Field(ge=1, strict=True)]


class VerificationDecision(_In):
    """Staff verify or reject a submitted record."""

    verify: bool
    reason: Annotated[str, StringConstraints(max_length=500)] = ""


class RevocationCreate(_In):
    """Staff withdraw a verification."""

    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)]


class GuaranteeUpdate(_In):
    """Enrol in the guarantee, or withdraw."""

    enrolled: bool


class DepositCreate(_In):
    """A deposit (保证金) received from the seller's bank."""

    amount_minor: PositiveAmountMinor
    currency: Currency
    reference: Annotated[str, StringConstraints(min_length=1, max_length=120)]


class DepositPublic(BaseModel):
    """The seller's deposit after the posting."""

    seller_id: str
    currency: str
    balance_minor: int


class DocumentPublic(_Out):
    """A document reference."""

    sha256: str
    kind: str
    content_type: str
    size_bytes: int
    uploaded_at: datetime


class MerchantPublic(_Out):
    """A seller's verification record."""

    seller_id: str
    legal_name: str
    country: str
    registration_number: str
    state: str
    submitted_at: datetime
    verified_by: str | None
    verified_at: datetime | None
    rejection_reason: str | None
    guarantee_enrolled: bool
    guarantee_enrolled_at: datetime | None
    documents: list[DocumentPublic]

    @classmethod
    def of(cls, merchant: Merchant) -> MerchantPublic:
        """From the domain object."""
        return cls(
            seller_id=merchant.seller_id,
            legal_name=merchant.legal_name,
            country=merchant.country,
            registration_number=merchant.registration_number,
            state=merchant.state.value,
            submitted_at=merchant.submitted_at,
            verified_by=merchant.verified_by,
            verified_at=merchant.verified_at,
            rejection_reason=merchant.rejection_reason,
            guarantee_enrolled=merchant.guarantee_enrolled,
            guarantee_enrolled_at=merchant.guarantee_enrolled_at,
            documents=[DocumentPublic.model_validate(d) for d in merchant.documents],
        )


class MerchantPage(BaseModel):
    """A page of verification records."""

    data: list[MerchantPublic]
    next_cursor: str | None
