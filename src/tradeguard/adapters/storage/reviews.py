"""The review store in SQLAlchemy Core; rows are converted to domain objects explicitly."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, bindparam, func, select, update

from tradeguard.adapters.storage.sql import Prepared, Sql
from tradeguard.adapters.storage.tables.orders import order_lines, orders
from tradeguard.adapters.storage.tables.reviews import buyer_ratings, review_decisions, reviews
from tradeguard.reviews.model import (
    BuyerRating,
    DetailedRatings,
    ModerationDecision,
    ModerationFlag,
    OrderFacts,
    Photo,
    Polarity,
    Review,
    ReviewOrigin,
    ReviewState,
)
from tradeguard.reviews.ports import ReviewFilter

R = reviews.c
_IMMUTABLE = (
    "id",
    "order_id",
    "buyer_id",
    "seller_id",
    "listing_id",
    "origin",
    "dsr_item",
    "dsr_communication",
    "dsr_shipping",
    "is_anonymous",
    "photos",
    "created_at",
    "rated_on",
    "rated_month",
    "order_completed_at",
    "weight",
)
#: What a review use case may change; sellers change none of it (their explanations are new fields).
_MUTABLE = (
    "state",
    "stars",
    "text",
    "reason",
    "flags",
    "published_at",
    "counts_for_credit",
    "counted",
    "excluded_at",
    "exclusion_reason",
    "revised_at",
    "original_stars",
    "follow_up_text",
    "follow_up_photos",
    "follow_up_at",
    "explanation",
    "explained_at",
    "follow_up_explanation",
    "follow_up_explained_at",
    "decided_by",
    "decided_at",
    "decision_note",
)
_INSERT = Prepared(
    reviews.insert().values({c: bindparam(c) for c in (*_IMMUTABLE, *_MUTABLE)}).inline()
)
_UPDATE = Prepared(
    update(reviews)
    .where(R.id == bindparam("review_id"))
    .values({c: bindparam(c) for c in _MUTABLE})
)
_ORDER_FACTS = Prepared(
    select(
        orders.c.id,
        orders.c.buyer_id,
        orders.c.seller_id,
        orders.c.state,
        orders.c.completed_at,
        order_lines.c.listing_id,
    )
    .select_from(
        orders.outerjoin(
            order_lines, and_(order_lines.c.order_id == orders.c.id, order_lines.c.line_no == 1)
        )
    )
    .where(orders.c.id == bindparam("order_id"))
)
_GET = Prepared(select(reviews).where(R.id == bindparam("review_id")))
_GET_LOCKED = Prepared(select(reviews).where(R.id == bindparam("review_id")).with_for_update())
_FOR_ORDER = Prepared(select(reviews).where(R.order_id == bindparam("order_id")))
_FOR_ORDER_LOCKED = Prepared(
    select(reviews).where(R.order_id == bindparam("order_id")).with_for_update()
)


def _photos(photos: tuple[Photo, ...]) -> list[dict[str, Any]]:
    return [
        {"sha256": p.sha256, "content_type": p.content_type, "size_bytes": p.size_bytes}
        for p in photos
    ]


def _photos_of(data: Any) -> tuple[Photo, ...]:
    return tuple(Photo(p["sha256"], p["content_type"], int(p["size_bytes"])) for p in data or ())


def _params(review: Review) -> dict[str, Any]:
    detailed = review.detailed.as_tuple() if review.detailed else (None, None, None)
    return {
        "id": review.id,
        "review_id": review.id,
        "order_id": review.order_id,
        "buyer_id": review.buyer_id,
        "seller_id": review.seller_id,
        "listing_id": review.listing_id,
        "origin": review.origin.value,
        "dsr_item": detailed[0],
        "dsr_communication": detailed[1],
        "dsr_shipping": detailed[2],
        "is_anonymous": review.is_anonymous,
        "photos": _photos(review.photos),
        "created_at": review.created_at,
        "rated_on": review.rated_on,
        "rated_month": review.rated_month,
        "order_completed_at": review.order_completed_at,
        "weight": review.weight,
        "state": review.state.value,
        "stars": review.stars,
        "text": review.text,
        "reason": review.reason,
        "flags": [f.value for f in review.flags],
        "published_at": review.published_at,
        "counts_for_credit": review.counts_for_credit,
        "counted": review.counted,
        "excluded_at": review.excluded_at,
        "exclusion_reason": review.exclusion_reason,
        "revised_at": review.revised_at,
        "original_stars": review.original_stars,
        "follow_up_text": review.follow_up_text,
        "follow_up_photos": _photos(review.follow_up_photos),
        "follow_up_at": review.follow_up_at,
        "explanation": review.explanation,
        "explained_at": review.explained_at,
        "follow_up_explanation": review.follow_up_explanation,
        "follow_up_explained_at": review.follow_up_explained_at,
        "decided_by": review.decided_by,
        "decided_at": review.decided_at,
        "decision_note": review.decision_note,
    }


def _review(row: Any) -> Review:
    detailed = (
        DetailedRatings(row.dsr_item, row.dsr_communication, row.dsr_shipping)
        if row.dsr_item is not None
        else None
    )
    return Review(
        id=row.id,
        order_id=row.order_id,
        buyer_id=row.buyer_id,
        seller_id=row.seller_id,
        listing_id=row.listing_id,
        state=ReviewState(row.state),
        origin=ReviewOrigin(row.origin),
        stars=int(row.stars),
        detailed=detailed,
        text=row.text,
        reason=row.reason,
        is_anonymous=bool(row.is_anonymous),
        photos=_photos_of(row.photos),
        created_at=row.created_at,
        rated_on=row.rated_on,
        rated_month=row.rated_month,
        order_completed_at=row.order_completed_at,
        weight=float(row.weight),
        flags=tuple(ModerationFlag(f) for f in row.flags or ()),
        published_at=row.published_at,
        counts_for_credit=bool(row.counts_for_credit),
        counted=bool(row.counted),
        excluded_at=row.excluded_at,
        exclusion_reason=row.exclusion_reason,
        revised_at=row.revised_at,
        original_stars=row.original_stars,
        follow_up_text=row.follow_up_text,
        follow_up_photos=_photos_of(row.follow_up_photos),
        follow_up_at=row.follow_up_at,
        explanation=row.explanation,
        explained_at=row.explained_at,
        follow_up_explanation=row.follow_up_explanation,
        follow_up_explained_at=row.follow_up_explained_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        decision_note=row.decision_note,
    )


class SqlReviewStore:
    """Implements :class:`tradeguard.reviews.ports.ReviewStore`."""

    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    def order_facts(self, order_id: str) -> OrderFacts | None:
        """The order's parties, state, completion and first item, in one read."""
        row = self._sql.first(_ORDER_FACTS, {"order_id": order_id})
        if row is None:
            return None
        return OrderFacts(
            row.id, row.buyer_id, row.seller_id, row.state, row.completed_at, row.listing_id or ""
        )

    def get(self, review_id: str, *, lock: bool = False) -> Review | None:
        """One review."""
        row = self._sql.first(_GET_LOCKED if lock else _GET, {"review_id": review_id})
        return _review(row) if row is not None else None

    def for_order(self, order_id: str, *, lock: bool = False) -> Review | None:
        """The order's review."""
        row = self._sql.first(_FOR_ORDER_LOCKED if lock else _FOR_ORDER, {"order_id": order_id})
        return _review(row) if row is not None else None

    def insert(self, review: Review) -> None:
        """Store a new review."""
        self._sql.run(_INSERT, _params(review))

    def update(self, review: Review) -> None:
        """Write back the mutable fields."""
        params = _params(review)
        self._sql.run(_UPDATE, {k: params[k] for k in ("review_id", *_MUTABLE)})

    def find(self, where: ReviewFilter, *, before_id: str | None, limit: int) -> list[Review]:
        """Reviews newest first."""
        query = select(reviews).order_by(R.id.desc()).limit(limit)
        if where.seller_id is not None:
            query = query.where(R.seller_id == where.seller_id)
        if where.buyer_id is not None:
            query = query.where(R.buyer_id == where.buyer_id)
        if where.state is not None:
            query = query.where(R.state == where.state.value)
        if before_id is not None:
            query = query.where(R.id < before_id)
        return [_review(r) for r in self._sql.rows(query)]

    def excluded_count(self, seller_id: str) -> int:
        """The seller's excluded reviews."""
        query = select(func.count()).where(R.seller_id == seller_id, R.excluded_at.is_not(None))
        return int(self._sql.scalar(query) or 0)

    def buyer_rating(self, order_id: str) -> BuyerRating | None:
        """The seller's rating of the order's buyer."""
        row = self._sql.first(select(buyer_ratings).where(buyer_ratings.c.order_id == order_id))
        if row is None:
            return None
        return BuyerRating(
            row.order_id,
            row.seller_id,
            row.buyer_id,
            Polarity(row.polarity),
            row.text,
            row.rated_at,
        )

    def insert_buyer_rating(self, rating: BuyerRating) -> None:
        """Store the seller's rating of a buyer."""
        self._sql.run(
            buyer_ratings.insert().values(
                order_id=rating.order_id,
                seller_id=rating.seller_id,
                buyer_id=rating.buyer_id,
                polarity=rating.polarity.value,
                text=rating.text,
                rated_at=rating.rated_at,
            )
        )

    def insert_decision(self, decision: ModerationDecision) -> None:
        """Record a staff decision."""
        self._sql.run(
            review_decisions.insert().values(
                id=decision.id,
                review_id=decision.review_id,
                decision=decision.decision,
                staff=decision.staff,
                note=decision.note,
                decided_at=decision.decided_at,
            )
        )

    def decisions(self, review_id: str) -> list[ModerationDecision]:
        """Decisions on a review, oldest first."""
        query = (
            select(review_decisions)
            .where(review_decisions.c.review_id == review_id)
            .order_by(review_decisions.c.decided_at, review_decisions.c.id)
        )
        return [
            ModerationDecision(r.id, r.review_id, r.decision, r.staff, r.note, r.decided_at)
            for r in self._sql.rows(query)
        ]
