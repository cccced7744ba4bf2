"""Reviews, seller reputation, buyer credit, merchants and the trust badge (DESIGN.md §8-10).

Participant endpoints act as the token's party: a buyer reviews its own orders,
a seller explains reviews of its own orders and rates its own buyers; anyone
else's object answers 404. The public endpoints under ``/v1/public/`` need no
credentials and never show a reviewer's id or an order.
"""

from __future__ import annotations

from html import escape
from typing import Annotated, Literal

from fastapi import Depends, Path, Query, Response, status

from tradeguard.access.model import Scope, StaffRole
from tradeguard.adapters.api.auth import ALL_STAFF, Access, Principal
from tradeguard.adapters.api.deps import COMMON, AppDep, page_of, problems
from tradeguard.adapters.api.routing import api_router
from tradeguard.adapters.api.schemas_reputation import (
    BuyerCreditPublic,
    BuyerRatingCreate,
    BuyerRatingPublic,
    DecisionList,
    DecisionPublic,
    DepositCreate,
    DepositPublic,
    DocumentCreate,
    ExclusionCreate,
    ExplanationCreate,
    FollowUpCreate,
    GuaranteeUpdate,
    MerchantCreate,
    MerchantPage,
    MerchantPublic,
    ModerationCreate,
    PublicReview,
    PublicReviewPage,
    RecomputePublic,
    ReviewCreate,
    ReviewPage,
    ReviewPublic,
    RevisionCreate,
    RevocationCreate,
    SellerReputationPublic,
    VerificationDecision,
)
from tradeguard.kernel.errors import NotFound
from tradeguard.merchants.model import MerchantState
from tradeguard.reputation.model import TrustBadge
from tradeguard.reviews.model import DetailedRatings, Polarity, ReviewState
from tradeguard.reviews.ports import ReviewFilter

router = api_router(prefix="/v1", responses=COMMON)
public_router = api_router(prefix="/v1/public", responses=problems(404, 422, 429, 503))

_MODERATORS = frozenset(
    {StaffRole.SUPPORT, StaffRole.ARBITRATOR, StaffRole.RISK_ANALYST, StaffRole.ADMIN}
)
_EXCLUDERS = frozenset({StaffRole.ARBITRATOR, StaffRole.RISK_ANALYST, StaffRole.ADMIN})
_VERIFIERS = frozenset({StaffRole.SUPPORT, StaffRole.ADMIN})

ReviewBuyer = Annotated[Principal, Depends(Access(buyer=True))]
ReviewSeller = Annotated[Principal, Depends(Access(seller=True))]
ReviewReader = Annotated[
    Principal, Depends(Access(operator=Scope.ORDERS, buyer=True, seller=True, staff=ALL_STAFF))
]
Moderator = Annotated[Principal, Depends(Access(staff=_MODERATORS))]
Excluder = Annotated[Principal, Depends(Access(staff=_EXCLUDERS))]
CreditReader = Annotated[
    Principal, Depends(Access(operator=Scope.ORDERS, buyer=True, staff=ALL_STAFF))
]
Recomputer = Annotated[
    Principal, Depends(Access(operator=Scope.ADMIN, staff=frozenset({StaffRole.ADMIN})))
]
MerchantOperator = Annotated[Principal, Depends(Access(operator=Scope.ORDERS))]
MerchantReader = Annotated[
    Principal, Depends(Access(operator=Scope.ORDERS, seller=True, staff=ALL_STAFF))
]
MerchantLister = Annotated[Principal, Depends(Access(operator=Scope.ORDERS, staff=ALL_STAFF))]
DocumentUploader = Annotated[Principal, Depends(Access(operator=Scope.ORDERS, seller=True))]
Verifier = Annotated[Principal, Depends(Access(staff=_VERIFIERS))]
DepositPoster = Annotated[Principal, Depends(Access(operator=Scope.PAYMENTS))]

OrderId = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_]+$")]
ReviewId = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_]+$")]
PartyId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]


# -- reviews ------------------------------------------------------------------------------------


@router.post(
    "/orders/{order_id}/review",
    tags=["reviews"],
    status_code=status.HTTP_201_CREATED,
    summary="Review a completed order",
)
def post_review(
    order_id: OrderId, body: ReviewCreate, app: AppDep, principal: ReviewBuyer
) -> ReviewPublic:
    """The buyer rates its completed order within the review window (default 15 days).

    Neutral and negative ratings (1-3 stars) need a reason. Phone numbers, ID numbers,
    emails and addresses are masked; insults, spam and links hold the review for staff
    (`state: pending`); otherwise it is published and counted at once.
    """
    detailed = (
        DetailedRatings(
            body.detailed.item_as_described,
            body.detailed.communication,
            body.detailed.shipping_speed,
        )
        if body.detailed
        else None
    )
    review = app.reviews.post(
        order_id,
        principal.party,
        stars=body.stars,
        detailed=detailed,
        text=body.text,
        reason=body.reason,
        photos=tuple(p.to_domain() for p in body.photos),
        is_anonymous=body.is_anonymous,
    )
    return ReviewPublic.of(app.reviews.get(review.id, principal.party))


@router.get("/orders/{order_id}/review", tags=["reviews"], summary="The review of an order")
def get_order_review(order_id: OrderId, app: AppDep, principal: ReviewReader) -> ReviewPublic:
    """The order's review as the caller may see it (double-blind until both sides rated)."""
    return ReviewPublic.of(app.reviews.for_order(order_id, principal.party))


@router.post(
    "/orders/{order_id}/buyer-rating",
    tags=["reviews"],
    status_code=status.HTTP_201_CREATED,
    summary="Rate the buyer of an order",
)
def rate_buyer(
    order_id: OrderId, body: BuyerRatingCreate, app: AppDep, principal: ReviewSeller
) -> BuyerRatingPublic:
    """The seller rates its buyer once (policy: positive only, or full); never edited."""
    rating = app.reviews.rate_buyer(order_id, principal.party, Polarity(body.rating), body.text)
    return BuyerRatingPublic.of(rating)


@router.get("/reviews", tags=["reviews"], summary="List reviews")
def list_reviews(
    app: AppDep,
    principal: ReviewReader,
    state: ReviewState | None = None,
    seller_id: Annotated[str | None, Query(max_length=64)] = None,
    buyer_id: Annotated[str | None, Query(max_length=64)] = None,
    cursor: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ReviewPage:
    """Reviews newest first; participants see the reviews of their own orders. `state=pending` is the staff queue."""
    views = app.reviews.find(
        principal.party,
        ReviewFilter(seller_id=seller_id, buyer_id=buyer_id, state=state),
        before_id=cursor,
        limit=limit + 1,
    )
    page, next_cursor = page_of([v.review for v in views], limit)
    shown = {r.id for r in page}
    return ReviewPage(
        data=[ReviewPublic.of(v) for v in views if v.review.id in shown], next_cursor=next_cursor
    )


@router.get("/reviews/{review_id}", tags=["reviews"], summary="Get a review")
def get_review(review_id: ReviewId, app: AppDep, principal: ReviewReader) -> ReviewPublic:
    """A review as the caller may see it."""
    return ReviewPublic.of(app.reviews.get(review_id, principal.party))


@router.post(
    "/reviews/{review_id}/follow-up", tags=["reviews"], summary="Post the follow-up review"
)
def follow_up(
    review_id: ReviewId, body: FollowUpCreate, app: AppDep, principal: ReviewBuyer
) -> ReviewPublic:
    """The buyer's one follow-up, within 180 days of completion (default)."""
    app.reviews.follow_up(
        review_id, principal.party, body.text, tuple(p.to_domain() for p in body.photos)
    )
    return ReviewPublic.of(app.reviews.get(review_id, principal.party))


@router.post("/reviews/{review_id}/revision", tags=["reviews"], summary="Raise a rating")
def revise(
    review_id: ReviewId, body: RevisionCreate, app: AppDep, principal: ReviewBuyer
) -> ReviewPublic:
    """The buyer raises a neutral or negative rating, once, within 30 days (never downward)."""
    app.reviews.revise(review_id, principal.party, body.stars, body.text, body.reason)
    return ReviewPublic.of(app.reviews.get(review_id, principal.party))


@router.post("/reviews/{review_id}/explanation", tags=["reviews"], summary="Explain a review")
def explain(
    review_id: ReviewId, body: ExplanationCreate, app: AppDep, principal: ReviewSeller
) -> ReviewPublic:
    """The seller's one explanation of the review, or of its follow-up. Sellers never edit or delete reviews."""
    app.reviews.explain(review_id, principal.party, body.text, on_follow_up=body.on_follow_up)
    return ReviewPublic.of(app.reviews.get(review_id, principal.party))


@router.post("/reviews/{review_id}/decision", tags=["reviews"], summary="Decide a held review")
def decide_review(
    review_id: ReviewId, body: ModerationCreate, app: AppDep, principal: Moderator
) -> ReviewPublic:
    """Staff publish or reject a review moderation held; the decision is recorded."""
    app.reviews.decide(review_id, principal.party, approve=body.approve, note=body.note)
    return ReviewPublic.of(app.reviews.get(review_id, principal.party))


@router.get("/reviews/{review_id}/decisions", tags=["reviews"], summary="Moderation decisions")
def review_decisions(review_id: ReviewId, app: AppDep, principal: Moderator) -> DecisionList:
    """Every staff decision on a review, oldest first."""
    app.reviews.get(review_id, principal.party)  # 404 for an unknown review
    return DecisionList(
        data=[DecisionPublic.of(d) for d in app.reviews.decisions(review_id, principal.party)]
    )


@router.post(
    "/reviews/{review_id}/exclusion", tags=["reviews"], summary="Exclude a malicious review"
)
def exclude_review(
    review_id: ReviewId, body: ExclusionCreate, app: AppDep, principal: Excluder
) -> ReviewPublic:
    """Arbitrators, risk analysts and admins take a malicious review out of reputation, with the reason."""
    app.reviews.exclude(review_id, principal.party, body.reason)
    return ReviewPublic.of(app.reviews.get(review_id, principal.party))


# -- reputation ---------------------------------------------------------------------------------


@router.get("/buyers/{buyer_id}/credit", tags=["reputation"], summary="A buyer's credit and tier")
def buyer_credit(buyer_id: PartyId, app: AppDep, principal: CreditReader) -> BuyerCreditPublic:
    """The buyer credit score and tier that may unlock instant refunds; a buyer reads only its own."""
    if principal.kind == "buyer" and principal.id != buyer_id:
        raise NotFound("buyer", buyer_id)
    return BuyerCreditPublic.of(app.reputation.buyer_credit_of(buyer_id))


@router.post(
    "/reputation/recomputation", tags=["reputation"], summary="Recompute every seller's figures"
)
def recompute(app: AppDep, _: Recomputer) -> RecomputePublic:
    """Rebuild every seller's aggregate figures from the reviews in SQL (admin)."""
    return RecomputePublic(sellers=app.reputation.recompute())


# -- merchants ----------------------------------------------------------------------------------


@router.put("/merchants/{seller_id}", tags=["merchants"], summary="Submit business details")
def submit_merchant(
    seller_id: PartyId, body: MerchantCreate, app: AppDep, _: MerchantOperator
) -> MerchantPublic:
    """Submit, or after a rejection resubmit, a seller's legal name and registration number (operator, `orders`).

    China's unified social credit code must carry its GB 32100-2015 check character;
    other countries use their own validator.
    """
    return MerchantPublic.of(
        app.merchants.submit(
            seller_id, body.legal_name, body.country, body.registration_number, body.category
        )
    )


@router.get("/merchants", tags=["merchants"], summary="List verification records")
def list_merchants(
    app: AppDep,
    _: MerchantLister,
    state: MerchantState | None = None,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> MerchantPage:
    """Verification records (operator, `orders`; staff): `state=submitted` is the verification queue."""
    rows = app.merchants.find(state, before_id=cursor, limit=limit + 1)
    page = rows[:limit]
    return MerchantPage(
        data=[MerchantPublic.of(m) for m in page],
        next_cursor=page[-1].seller_id if len(rows) > limit and page else None,
    )


@router.get("/merchants/{seller_id}", tags=["merchants"], summary="Get a verification record")
def get_merchant(seller_id: PartyId, app: AppDep, principal: MerchantReader) -> MerchantPublic:
    """A seller's verification record; a seller reads its own."""
    return MerchantPublic.of(app.merchants.get(seller_id, principal.party))


@router.post(
    "/merchants/{seller_id}/documents",
    tags=["merchants"],
    status_code=status.HTTP_201_CREATED,
    summary="Attach a document",
)
def add_document(
    seller_id: PartyId, body: DocumentCreate, app: AppDep, principal: DocumentUploader
) -> MerchantPublic:
    """Attach an uploaded document by its sha256 (the seller itself, or an operator with `orders`)."""
    if principal.kind == "seller" and principal.id != seller_id:
        raise NotFound("merchant", seller_id)
    return MerchantPublic.of(
        app.merchants.add_document(
            seller_id, body.kind, body.sha256, body.content_type, body.size_bytes
        )
    )


@router.post("/merchants/{seller_id}/decision", tags=["merchants"], summary="Verify or reject")
def decide_merchant(
    seller_id: PartyId, body: VerificationDecision, app: AppDep, principal: Verifier
) -> MerchantPublic:
    """Staff (support, admin) verify a submitted record, or reject it with a reason."""
    return MerchantPublic.of(
        app.merchants.decide(seller_id, principal.party, verify=body.verify, reason=body.reason)
    )


@router.post(
    "/merchants/{seller_id}/revocation", tags=["merchants"], summary="Revoke a verification"
)
def revoke_merchant(
    seller_id: PartyId, body: RevocationCreate, app: AppDep, principal: Verifier
) -> MerchantPublic:
    """Staff withdraw a verification (and with it the guarantee)."""
    return MerchantPublic.of(app.merchants.revoke(seller_id, principal.party, body.reason))


@router.put("/merchants/{seller_id}/guarantee", tags=["merchants"], summary="Guarantee enrolment")
def set_guarantee(
    seller_id: PartyId, body: GuaranteeUpdate, app: AppDep, _: MerchantOperator
) -> MerchantPublic:
    """Enrol a verified seller in the guarantee, or withdraw it (operator, `orders`)."""
    return MerchantPublic.of(app.merchants.set_guarantee(seller_id, enrolled=body.enrolled))


@router.post(
    "/merchants/{seller_id}/deposits",
    tags=["merchants"],
    status_code=status.HTTP_201_CREATED,
    summary="Post a deposit",
)
def post_deposit(
    seller_id: PartyId, body: DepositCreate, app: AppDep, _: DepositPoster
) -> DepositPublic:
    """Hold money received from the seller's bank as its deposit (保证金) in the ledger (operator, `payments`).

    The reference makes it idempotent.
    """
    balance = app.merchants.post_deposit(
        seller_id, body.amount_minor, body.currency, body.reference
    )
    return DepositPublic(seller_id=seller_id, currency=body.currency, balance_minor=balance)


# -- public -------------------------------------------------------------------------------------


@public_router.get(
    "/sellers/{seller_id}/reputation", tags=["reputation"], summary="A seller's public reputation"
)
def public_reputation(seller_id: PartyId, app: AppDep) -> SellerReputationPublic:
    """Points, level, positive rates, DSR beside the category, store age, the ranking score and the trust badge.

    No credentials needed; nothing about any reviewer.
    """
    return SellerReputationPublic.of(
        app.reputation.figures(seller_id), app.reputation.trust_badge(seller_id)
    )


@public_router.get(
    "/sellers/{seller_id}/reviews", tags=["reputation"], summary="A seller's public reviews"
)
def public_reviews(
    seller_id: PartyId,
    app: AppDep,
    cursor: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> PublicReviewPage:
    """Published reviews both sides can see (double-blind), newest first, without reviewers or orders."""
    views = app.reviews.public(seller_id, before_id=cursor, limit=limit + 1)
    page, next_cursor = page_of([v.review for v in views], limit)
    return PublicReviewPage(
        data=[PublicReview.of(v) for v in views[: len(page)]], next_cursor=next_cursor
    )


_BADGE_TEXT = {
    "en": {"granted": "Guaranteed seller", "missing": "Not guaranteed", "level": "Level"},
    "zh": {"granted": "担保认证商家", "missing": "未获担保认证", "level": "等级"},
}


@public_router.get(
    "/sellers/{seller_id}/badge.svg",
    tags=["reputation"],
    summary="The embeddable trust badge",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}, "description": "An SVG badge."}},
)
def badge_svg(
    seller_id: PartyId, app: AppDep, lang: Annotated[Literal["en", "zh"], Query()] = "en"
) -> Response:
    """Seed 004's green shield as an SVG to embed on a shop page, in English or Chinese."""
    badge = app.reputation.trust_badge(seller_id)
    level = app.reputation.figures(seller_id).level
    return Response(
        content=render_badge(badge, level, lang),
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=300"},
    )


def render_badge(badge: TrustBadge, level: str, lang: str) -> str:
    """The badge as SVG: a green shield when granted, grey otherwise, with the seller's level."""
    text = _BADGE_TEXT[lang]
    colour = "#2e9e44" if badge.granted else "#9e9e9e"
    label = escape(text["granted"] if badge.granted else text["missing"])
    level_text = escape(f"{text['level']}: {level.replace('_', ' ')}")
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="220" height="44" role="img" '
        f'aria-label="{label}">'
        f'<rect width="220" height="44" rx="6" fill="{colour}"/>'
        '<path d="M22 6 L36 11 V22 C36 31 29 37 22 39 C15 37 8 31 8 22 V11 Z" fill="#fff" opacity="0.9"/>'
        + (
            '<path d="M15 22 L20 27 L30 16" stroke="' + colour + '" stroke-width="3" fill="none"/>'
            if badge.granted
            else ""
        )
        + f'<text x="46" y="19" font-family="sans-serif" font-size="13" fill="#fff">{label}</text>'
        f'<text x="46" y="35" font-family="sans-serif" font-size="11" fill="#fff">{level_text}</text>'
        "</svg>"
    )
