"""The reputation store in SQLAlchemy Core: O(1) upserts for counting, SQL for recomputation."""

from __future__ import annotations

import os
from collections.abc import Collection
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    Float,
    Integer,
    Interval,
    String,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    literal,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from tradeguard.adapters.storage.sql import DIALECTS, Prepared, Sql
from tradeguard.adapters.storage.tables.orders import orders
from tradeguard.adapters.storage.tables.reputation import (
    reputation_days,
    reputation_deductions,
    reputation_item_windows,
    reputation_pair_months,
    seller_reputation,
)
from tradeguard.adapters.storage.tables.reviews import reviews
from tradeguard.reputation import rules
from tradeguard.reputation.model import (
    BuyerHistory,
    CountedReview,
    Counting,
    DayBucket,
    Deduction,
    PairMonth,
    SellerTotals,
    Window,
)

SR, PM, D, IW, DD = (
    seller_reputation.c,
    reputation_pair_months.c,
    reputation_days.c,
    reputation_item_windows.c,
    reputation_deductions.c,
)
_DAY_SUMS = (
    "positive",
    "neutral",
    "negative",
    "dsr_count",
    "dsr_item_sum",
    "dsr_communication_sum",
    "dsr_shipping_sum",
    "star_weight_sum",
    "weight_sum",
)
_SELLER_SUMS = ("positive", "neutral", "negative", "star_weight_sum", "weight_sum")


def _insert_for(dialect: str) -> Any:
    return pg_insert if dialect == "postgresql" else sqlite_insert


class _Statements:
    """The counting hot path's statements for one dialect."""

    def __init__(self, dialect: str) -> None:
        insert = _insert_for(dialect)
        pair = insert(reputation_pair_months).values(
            seller_id=bindparam("seller_id"),
            buyer_id=bindparam("buyer_id"),
            month=bindparam("month"),
            positive=bindparam("positive"),
            negative=bindparam("negative"),
        )
        self.add_pair = Prepared(
            pair.on_conflict_do_update(
                index_elements=["seller_id", "buyer_id", "month"],
                set_={
                    "positive": PM.positive + pair.excluded.positive,
                    "negative": PM.negative + pair.excluded.negative,
                },
            ).returning(PM.positive, PM.negative)
        )
        day = insert(reputation_days).values(
            seller_id=bindparam("seller_id"),
            day=bindparam("day"),
            **{c: bindparam(c) for c in _DAY_SUMS},
        )
        self.add_day = Prepared(
            day.on_conflict_do_update(
                index_elements=["seller_id", "day"],
                set_={c: getattr(D, c) + getattr(day.excluded, c) for c in _DAY_SUMS},
            )
        )
        seller = insert(seller_reputation).values(
            seller_id=bindparam("seller_id"),
            review_points=bindparam("points"),
            updated_at=bindparam("at"),
            **{c: bindparam(c) for c in _SELLER_SUMS},
        )
        self.add_seller = Prepared(
            seller.on_conflict_do_update(
                index_elements=["seller_id"],
                set_={
                    "review_points": SR.review_points + seller.excluded.review_points,
                    "updated_at": seller.excluded.updated_at,
                    **{c: getattr(SR, c) + getattr(seller.excluded, c) for c in _SELLER_SUMS},
                },
            ).returning(*seller_reputation.c)
        )
        deduct = insert(seller_reputation).values(
            seller_id=bindparam("seller_id"),
            deducted_points=bindparam("points"),
            updated_at=bindparam("at"),
        )
        # PostgreSQL: the pair-month upsert and the seller upsert in one round trip; the points
        # are rules.capped_points(new) - rules.capped_points(old) of the pair-month.
        self.add_pair_and_seller: Prepared | None = None
        if dialect == "postgresql":
            self.add_pair_and_seller = Prepared(_add_points_and_totals(_changed_pair(pair)))
        # PostgreSQL: counting a new review in one round trip. The repeat window is claimed
        # first (an upsert that changes the row only outside the window: rules.repeats_recent,
        # negated); the pair-month, day and seller rows take the review only if it was.
        self.count_new: Prepared | None = None
        if dialect == "postgresql":
            self.count_new = Prepared(_count_new_statement())
        self.deduct_seller = Prepared(
            deduct.on_conflict_do_update(
                index_elements=["seller_id"],
                set_={
                    "deducted_points": SR.deducted_points + deduct.excluded.deducted_points,
                    "updated_at": deduct.excluded.updated_at,
                },
            ).returning(*seller_reputation.c)
        )
        self.record_deduction = Prepared(
            insert(reputation_deductions)
            .values(
                {
                    c: bindparam(c)
                    for c in ("reference", "seller_id", "points", "reason", "deducted_at")
                }
            )
            .on_conflict_do_nothing()
            .returning(DD.reference)
        )
        window = insert(reputation_item_windows).values(
            seller_id=bindparam("seller_id"),
            buyer_id=bindparam("buyer_id"),
            listing_id=bindparam("listing_id"),
            started_at=bindparam("started_at"),
        )
        self.set_window = Prepared(
            window.on_conflict_do_update(
                index_elements=["seller_id", "buyer_id", "listing_id"],
                set_={"started_at": window.excluded.started_at},
            )
        )
        self.get_window = Prepared(
            select(IW.started_at).where(
                IW.seller_id == bindparam("seller_id"),
                IW.buyer_id == bindparam("buyer_id"),
                IW.listing_id == bindparam("listing_id"),
            )
        )
        self.totals = Prepared(
            select(seller_reputation).where(SR.seller_id == bindparam("seller_id"))
        )
        self.set_level = Prepared(
            update(seller_reputation)
            .where(SR.seller_id == bindparam("sid"))
            .values(level=bindparam("new_level"))
        )


def _typed(name: str, type_: Any) -> Any:
    return cast(bindparam(name), type_)


def _count_new_statement() -> Any:
    """``SqlReputationStore.count_new`` as one PostgreSQL statement of four upserts."""
    window_row = pg_insert(reputation_item_windows).values(
        seller_id=bindparam("seller_id"),
        buyer_id=bindparam("buyer_id"),
        listing_id=bindparam("listing_id"),
        started_at=bindparam("rated_at"),
    )
    rated_at = window_row.excluded.started_at
    repeat_window = bindparam("repeat_window", type_=Interval)
    claimed = (
        window_row.on_conflict_do_update(
            index_elements=["seller_id", "buyer_id", "listing_id"],
            set_={"started_at": func.greatest(IW.started_at, rated_at)},
            where=or_(
                IW.started_at <= rated_at - repeat_window, IW.started_at >= rated_at + repeat_window
            ),
        )
        .returning(IW.started_at)
        .cte("claimed_window")
    )
    seller_id = _typed("seller_id", String)
    pair_row = pg_insert(reputation_pair_months).from_select(
        ["seller_id", "buyer_id", "month", "positive", "negative"],
        select(
            seller_id,
            _typed("buyer_id", String),
            _typed("month", String),
            _typed("positive", Integer),
            _typed("negative", Integer),
        ).select_from(claimed),
    )
    changed = _changed_pair(pair_row)
    day_row = pg_insert(reputation_days).from_select(
        ["seller_id", "day", *_DAY_SUMS],
        select(
            seller_id,
            _typed("day", Date),
            *(_typed(c, reputation_days.c[c].type) for c in _DAY_SUMS),
        ).select_from(claimed),
    )
    counted_day = day_row.on_conflict_do_update(
        index_elements=["seller_id", "day"],
        set_={c: getattr(D, c) + getattr(day_row.excluded, c) for c in _DAY_SUMS},
    ).cte("counted_day")
    return _add_points_and_totals(changed).add_cte(counted_day)


def _changed_pair(pair_row: Any) -> Any:
    """The pair-month upsert adding ``pair_row``'s counts, as a CTE of the new counts."""
    return (
        pair_row.on_conflict_do_update(
            index_elements=["seller_id", "buyer_id", "month"],
            set_={
                "positive": PM.positive + pair_row.excluded.positive,
                "negative": PM.negative + pair_row.excluded.negative,
            },
        )
        .returning(PM.positive, PM.negative)
        .cte("changed_pair")
    )


def _add_points_and_totals(changed: Any) -> Any:
    """Upsert the seller's totals with what the pair-month change in ``changed`` is worth.

    The points are rules.capped_points(new) - rules.capped_points(old) of the pair-month.
    """
    cap = bindparam("cap", type_=Integer)

    def capped(positive: Any, negative: Any) -> Any:
        return func.least(positive, cap) - func.least(negative, cap)

    points = capped(changed.c.positive, changed.c.negative) - capped(
        changed.c.positive - bindparam("positive", type_=Integer),
        changed.c.negative - bindparam("negative", type_=Integer),
    )
    both = pg_insert(seller_reputation).from_select(
        ["seller_id", "review_points", *_SELLER_SUMS, "updated_at"],
        select(
            _typed("seller_id", String),
            cast(points, BigInteger),
            *(bindparam(c, type_=seller_reputation.c[c].type) for c in _SELLER_SUMS),
            bindparam("at", type_=seller_reputation.c.updated_at.type),
        ).select_from(changed),
    )
    return both.on_conflict_do_update(
        index_elements=["seller_id"],
        set_={
            "review_points": SR.review_points + both.excluded.review_points,
            "updated_at": both.excluded.updated_at,
            **{c: getattr(SR, c) + getattr(both.excluded, c) for c in _SELLER_SUMS},
        },
    ).returning(*seller_reputation.c)


def _reconcile(table: Any, keys: tuple[str, ...], fresh: Any, only: Any) -> Any:
    """One statement making a range of bucket rows equal to ``fresh``; returns the emptied keys.

    Rows whose sums already agree are not written, so a routine re-run costs reads
    only. A review counted while the range is rebuilt must not be lost, so every
    write is relative to the rows as the statement read them (``old``): a row changed
    since is moved by the difference instead of overwritten (READ COMMITTED re-reads
    it before the update), a row to remove is emptied by subtraction, and those rows
    are deleted afterwards where they are still empty. (Other all-zero rows, such as a
    buyer's neutral-only month, are rows like any other and stay.)
    """
    t = table.c
    sums = [c.name for c in table.c if c.name not in keys]
    # Both sides come in key order (the grouping, the primary key), so a merge join pairs
    # them without sorting; only the differences are kept: none when the figures are right.
    fresh_rows = fresh.subquery("fresh")
    old_rows = (
        select(table).where(only(t.seller_id)).order_by(*(t[k] for k in keys)).subquery("old")
    )
    f, o = fresh_rows.c, old_rows.c

    def same_key(a: Any, b: Any) -> Any:
        return and_(*(a[k] == b[k] for k in keys))

    diff = (
        select(
            *(func.coalesce(f[k], o[k]).label(k) for k in keys),
            *(f[c].label(f"fresh_{c}") for c in sums),
            *(o[c].label(f"old_{c}") for c in sums),
            f.seller_id.is_not(None).label("in_fresh"),
            o.seller_id.is_not(None).label("in_old"),
        )
        .select_from(fresh_rows.outerjoin(old_rows, same_key(f, o), full=True))
        .where(
            or_(
                f.seller_id.is_(None),
                o.seller_id.is_(None),
                *(f[c].is_distinct_from(o[c]) for c in sums),
            )
        )
        .cte("diff")
        .prefix_with("MATERIALIZED")
    )
    d = diff.c
    changed = (
        update(table)
        .where(only(t.seller_id), same_key(t, d), d.in_fresh, d.in_old)
        .values(
            {
                c: case(
                    (t[c] == d[f"old_{c}"], d[f"fresh_{c}"]),
                    else_=t[c] + d[f"fresh_{c}"] - d[f"old_{c}"],
                )
                for c in sums
            }
        )
        .cte("changed")
    )
    added = (
        table.insert()
        .from_select(
            [*keys, *sums],
            select(*(d[k] for k in keys), *(d[f"fresh_{c}"] for c in sums)).where(~d.in_old),
        )
        .cte("added")
    )
    emptied = (
        update(table)
        .where(only(t.seller_id), same_key(t, d), ~d.in_fresh)
        .values({c: t[c] - d[f"old_{c}"] for c in sums})
        .returning(*(t[k] for k in keys))
        .cte("emptied")
    )
    return select(emptied).add_cte(changed, added)


_STATEMENTS = {name: _Statements(name) for name in DIALECTS}


def _totals(row: Any) -> SellerTotals:
    return SellerTotals(
        seller_id=row.seller_id,
        category=row.category,
        review_points=int(row.review_points),
        deducted_points=int(row.deducted_points),
        positive=int(row.positive),
        neutral=int(row.neutral),
        negative=int(row.negative),
        star_weight_sum=float(row.star_weight_sum),
        weight_sum=float(row.weight_sum),
        level=row.level,
        updated_at=row.updated_at,
    )


def _aware(value: Any) -> datetime | None:
    # Aggregates and raw psycopg reads may bypass the UTCDateTime column type.
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    instant: datetime = value
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)


def _window(row: Any) -> Window:
    if row is None:
        return Window()
    return Window(*(int(getattr(row, c) or 0) for c in _DAY_SUMS[:7]))


class SqlReputationStore:
    """Implements :class:`tradeguard.reputation.ports.ReputationStore`."""

    def __init__(self, sql: Sql) -> None:
        self._sql = sql
        self._q = _STATEMENTS[sql.dialect]

    # -- counting -------------------------------------------------------------------------------

    def count_new(self, review: CountedReview, at: datetime) -> SellerTotals | None:
        """Count a new review unless it repeats a recent one (see the port).

        One statement on PostgreSQL; on SQLite the window is read and written apart.
        """
        delta = review.delta
        if self._q.count_new is not None:
            row = self._sql.first(
                self._q.count_new,
                {
                    "seller_id": review.seller_id,
                    "buyer_id": review.buyer_id,
                    "listing_id": review.listing_id,
                    "rated_at": review.rated_at,
                    "repeat_window": review.repeat_window,
                    "month": review.month,
                    "day": review.day,
                    "cap": review.points_cap,
                    "at": at,
                    **{c: getattr(delta, c) for c in _DAY_SUMS},
                },
            )
            return _totals(row) if row is not None else None
        key = {
            "seller_id": review.seller_id,
            "buyer_id": review.buyer_id,
            "listing_id": review.listing_id,
        }
        # SQLite has a single writer: nothing can move the window between this read and write.
        started = _aware(self._sql.scalar(self._q.get_window, key))
        if rules.repeats_recent(started, review.rated_at, review.repeat_window):
            return None
        if started is None or review.rated_at > started:
            self._sql.run(self._q.set_window, {**key, "started_at": review.rated_at})
        totals = self.add_to_pair_and_seller(
            review.seller_id, review.buyer_id, review.month, review.points_cap, delta, at
        )
        self.add_day(review.seller_id, review.day, delta)
        return totals

    def add_pair_month(
        self, seller_id: str, buyer_id: str, month: str, positive: int, negative: int
    ) -> tuple[int, int]:
        """Add to one buyer-seller-month row and return its new counts."""
        row = self._sql.first(
            self._q.add_pair,
            {
                "seller_id": seller_id,
                "buyer_id": buyer_id,
                "month": month,
                "positive": positive,
                "negative": negative,
            },
        )
        if row is None:  # an upsert with RETURNING always returns its row
            raise RuntimeError("internal error: the pair-month upsert returned nothing")
        return int(row.positive), int(row.negative)

    def add_day(self, seller_id: str, day: date, delta: Counting) -> None:
        """Add to a day bucket."""
        self._sql.run(
            self._q.add_day,
            {"seller_id": seller_id, "day": day, **{c: getattr(delta, c) for c in _DAY_SUMS}},
        )

    def add_to_seller(
        self, seller_id: str, points: int, delta: Counting, at: datetime
    ) -> SellerTotals:
        """Add to the seller's totals."""
        row = self._sql.first(
            self._q.add_seller,
            {
                "seller_id": seller_id,
                "points": points,
                "at": at,
                **{c: getattr(delta, c) for c in _SELLER_SUMS},
            },
        )
        return _totals(row)

    def add_to_pair_and_seller(
        self,
        seller_id: str,
        buyer_id: str,
        month: str,
        cap: int,
        delta: Counting,
        at: datetime,
    ) -> SellerTotals:
        """Add to the pair-month and to the seller's totals; one round trip on PostgreSQL."""
        if self._q.add_pair_and_seller is None:
            positive, negative = self.add_pair_month(
                seller_id, buyer_id, month, delta.positive, delta.negative
            )
            points = rules.capped_points(positive, negative, cap) - rules.capped_points(
                positive - delta.positive, negative - delta.negative, cap
            )
            return self.add_to_seller(seller_id, points, delta, at)
        row = self._sql.first(
            self._q.add_pair_and_seller,
            {
                "seller_id": seller_id,
                "buyer_id": buyer_id,
                "month": month,
                "cap": cap,
                "at": at,
                **{c: getattr(delta, c) for c in _SELLER_SUMS},
            },
        )
        if row is None:  # an upsert with RETURNING always returns its row
            raise RuntimeError("internal error: the pair and seller upsert returned nothing")
        return _totals(row)

    def deduct(self, deduction: Deduction) -> SellerTotals | None:
        """Record a deduction once per reference."""
        recorded = self._sql.first(
            self._q.record_deduction,
            {
                "reference": deduction.reference,
                "seller_id": deduction.seller_id,
                "points": deduction.points,
                "reason": deduction.reason,
                "deducted_at": deduction.deducted_at,
            },
        )
        if recorded is None:
            return None
        row = self._sql.first(
            self._q.deduct_seller,
            {
                "seller_id": deduction.seller_id,
                "points": deduction.points,
                "at": deduction.deducted_at,
            },
        )
        return _totals(row)

    def set_level(self, seller_id: str, level: str) -> None:
        """Remember the announced level."""
        self._sql.run(self._q.set_level, {"sid": seller_id, "new_level": level})

    def set_category(self, seller_id: str, category: str, at: datetime) -> None:
        """File the seller under a category."""
        insert = _insert_for(self._sql.dialect)
        stmt = insert(seller_reputation).values(
            seller_id=seller_id, category=category, updated_at=at
        )
        self._sql.run(
            stmt.on_conflict_do_update(
                index_elements=["seller_id"], set_={"category": category, "updated_at": at}
            )
        )

    # -- reads ----------------------------------------------------------------------------------

    def totals(self, seller_id: str) -> SellerTotals | None:
        """The seller's totals row."""
        row = self._sql.first(self._q.totals, {"seller_id": seller_id})
        return _totals(row) if row is not None else None

    def window(self, seller_id: str, first_day: date, last_day: date) -> Window:
        """Sums of the seller's day buckets."""
        query = select(*(func.sum(getattr(D, c)).label(c) for c in _DAY_SUMS[:7])).where(
            D.seller_id == seller_id, D.day >= first_day, D.day <= last_day
        )
        return _window(self._sql.first(query))

    def category_window(self, category: str, first_day: date, last_day: date) -> Window:
        """Sums of the category's day buckets."""
        query = (
            select(*(func.sum(getattr(D, c)).label(c) for c in _DAY_SUMS[:7]))
            .select_from(reputation_days.join(seller_reputation, SR.seller_id == D.seller_id))
            .where(SR.category == category, D.day >= first_day, D.day <= last_day)
        )
        return _window(self._sql.first(query))

    def category_mean(self, category: str) -> float | None:
        """Weighted mean stars of the category."""
        row = self._sql.first(
            select(
                func.sum(SR.star_weight_sum).label("stars"),
                func.sum(SR.weight_sum).label("weights"),
            ).where(SR.category == category)
        )
        if row is None or not row.weights:
            return None
        return float(row.stars) / float(row.weights)

    def severe_deductions_since(self, seller_id: str, since: datetime, min_points: int) -> int:
        """Severe deductions since an instant."""
        query = select(func.count()).where(
            DD.seller_id == seller_id, DD.deducted_at >= since, DD.points >= min_points
        )
        return int(self._sql.scalar(query) or 0)

    def excluded_reviews(self, seller_id: str) -> int:
        """The seller's excluded reviews."""
        query = select(func.count()).where(
            reviews.c.seller_id == seller_id, reviews.c.excluded_at.is_not(None)
        )
        return int(self._sql.scalar(query) or 0)

    def sales(self, seller_id: str) -> tuple[int, datetime | None]:
        """Completed orders and the first order's creation."""
        o = orders.c
        row = self._sql.first(
            select(
                func.count(o.completed_at).label("completed"), func.min(o.created_at).label("first")
            ).where(o.seller_id == seller_id)
        )
        return (int(row.completed) if row is not None else 0), _aware(row.first if row else None)

    def buyer_orders(self, buyer_id: str) -> BuyerHistory:
        """The buyer's completed and refunded orders and its first order."""
        o = orders.c
        refunded = and_(o.paid_minor > 0, o.refunded_minor > 0)
        row = self._sql.first(
            select(
                func.sum(
                    case((and_(o.state == "completed", o.refunded_minor == 0), 1), else_=0)
                ).label("completed"),
                func.sum(case((refunded, 1), else_=0)).label("refunded"),
                func.min(o.created_at).label("first"),
            ).where(o.buyer_id == buyer_id)
        )
        first = _aware(row.first if row is not None else None)
        return BuyerHistory(
            completed_orders=int(row.completed or 0) if row is not None else 0,
            refunded_orders=int(row.refunded or 0) if row is not None else 0,
            disputes_lost=0,
            first_order_at=first,
        )

    # -- full recomputation ---------------------------------------------------------------------

    def sellers(self) -> list[str]:
        """Every seller with reviews, figures or deductions, in id order."""
        query = (
            select(reviews.c.seller_id)
            .union(select(SR.seller_id), select(DD.seller_id))
            .order_by("seller_id")
        )
        return [row[0] for row in self._sql.rows(query)]

    def recompute_parallelism(self) -> int:
        """Ranges to rebuild at once: one per core on PostgreSQL; SQLite has a single writer."""
        return max(1, min(4, os.cpu_count() or 1)) if self._sql.is_postgresql else 1

    def recompute(
        self, cap: int, first_seller: str | None = None, last_seller: str | None = None
    ) -> int:
        """Rebuild the pair-month, day and seller rows of a range of sellers from the counted reviews.

        Two passes over the reviews (grouped by buyer-seller-month and by seller-day);
        the sellers' totals then come from those two small aggregates. Callers walk
        the sellers in ranges so no transaction stays open long. On PostgreSQL the
        bucket rows are reconciled (``_reconcile``): a re-run over figures that are
        right writes none of them.
        """
        sql, dialect = self._sql, self._sql.dialect
        rv = reviews.c
        params: dict[str, Any] = {"first_seller": first_seller or "", "last_seller": last_seller}

        def only(column: Any) -> Any:
            lower = column >= bindparam("first_seller")
            if last_seller is None:
                return lower
            return and_(lower, column <= bindparam("last_seller"))

        if dialect == "postgresql":
            sql.transaction_block()  # SET LOCAL lasts for a transaction block only
            # The grouping below hashes a whole range of reviews: give it room in memory.
            sql.run(text("SET LOCAL work_mem = '256MB'"))
            # Every statement here reads one seller range through the seller_id indexes. After a
            # bulk load the planner's statistics still say the bucket tables are empty and it
            # would scan them whole for every range, which grows quadratically.
            sql.run(text("SET LOCAL enable_seqscan = off"))
            # Figures derived from the reviews: a crash may lose the last rebuilt range (the old
            # figures stay, whole), never make them wrong, so the commit need not wait for the
            # disk. The setting ends with this transaction; counting reviews still waits.
            sql.run(text("SET LOCAL synchronous_commit = off"))
        positive = case((rv.stars >= 4, 1), else_=0)
        neutral = case((rv.stars == 3, 1), else_=0)
        negative = case((rv.stars <= 2, 1), else_=0)
        counted = and_(rv.counted.is_(True), only(rv.seller_id))
        fresh_pairs = (
            select(
                rv.seller_id,
                rv.buyer_id,
                rv.rated_month.label("month"),
                func.sum(positive).label("positive"),
                func.sum(negative).label("negative"),
            )
            .where(counted)
            .group_by(rv.seller_id, rv.buyer_id, rv.rated_month)
            # In key order the primary-key index grows at its right edge instead of at random.
            .order_by(rv.seller_id, rv.buyer_id, rv.rated_month)
        )
        has_dsr = case((rv.dsr_item.is_not(None), 1), else_=0)
        fresh_days = (
            select(
                rv.seller_id,
                rv.rated_on.label("day"),
                func.sum(positive).label("positive"),
                func.sum(neutral).label("neutral"),
                func.sum(negative).label("negative"),
                func.sum(has_dsr).label("dsr_count"),
                func.coalesce(func.sum(rv.dsr_item), 0).label("dsr_item_sum"),
                func.coalesce(func.sum(rv.dsr_communication), 0).label("dsr_communication_sum"),
                func.coalesce(func.sum(rv.dsr_shipping), 0).label("dsr_shipping_sum"),
                func.sum(cast(rv.weight * rv.stars, Float)).label("star_weight_sum"),
                func.sum(rv.weight).label("weight_sum"),
            )
            .where(counted)
            .group_by(rv.seller_id, rv.rated_on)
            .order_by(rv.seller_id, rv.rated_on)
        )
        buckets = (
            (reputation_pair_months, ("seller_id", "buyer_id", "month"), fresh_pairs),
            (reputation_days, ("seller_id", "day"), fresh_days),
        )
        for table, keys, fresh in buckets:
            if dialect == "postgresql":
                emptied = [
                    tuple(row) for row in sql.rows(_reconcile(table, keys, fresh, only), params)
                ]
                if emptied:
                    sums = [c for c in table.c if c.name not in keys]
                    sql.run(
                        delete(table).where(
                            tuple_(*(table.c[k] for k in keys)).in_(emptied),
                            *(c == 0 for c in sums),
                        )
                    )
            else:
                sql.run(delete(table).where(only(table.c.seller_id)), params)
                sql.run(
                    table.insert().from_select(list(fresh.selected_columns.keys()), fresh), params
                )
        capped = case((PM.positive < cap, PM.positive), else_=cap) - case(
            (PM.negative < cap, PM.negative), else_=cap
        )
        points = (
            select(PM.seller_id, func.sum(capped).label("points"))
            .where(only(PM.seller_id))
            .group_by(PM.seller_id)
            .subquery()
        )
        days = (
            select(D.seller_id, *(func.sum(getattr(D, c)).label(c) for c in _SELLER_SUMS))
            .where(only(D.seller_id))
            .group_by(D.seller_id)
            .subquery()
        )
        deducted = (
            select(DD.seller_id, func.sum(DD.points).label("points"))
            .where(only(DD.seller_id))
            .group_by(DD.seller_id)
            .subquery()
        )
        zero = dict.fromkeys(("review_points", "deducted_points", *_SELLER_SUMS), 0)
        sql.run(update(seller_reputation).where(only(SR.seller_id)).values(zero), params)
        now = func.current_timestamp()
        insert = _insert_for(dialect)
        from_days = insert(seller_reputation).from_select(
            ["seller_id", "review_points", *_SELLER_SUMS, "updated_at"],
            select(
                days.c.seller_id,
                func.coalesce(points.c.points, 0),
                *(getattr(days.c, c) for c in _SELLER_SUMS),
                now,
            )
            .select_from(days.outerjoin(points, points.c.seller_id == days.c.seller_id))
            .where(days.c.seller_id.is_not(None)),  # SQLite needs a WHERE before ON CONFLICT
        )
        upsert = from_days.on_conflict_do_update(
            index_elements=["seller_id"],
            set_={
                "review_points": from_days.excluded.review_points,
                **{c: getattr(from_days.excluded, c) for c in _SELLER_SUMS},
            },
        )
        if dialect == "postgresql":
            # One row per seller of the range with counted reviews: the count comes back with
            # the upsert instead of summing the range's day rows a second time.
            rebuilt = len(sql.rows(upsert.returning(SR.seller_id), params))
        else:
            sql.run(upsert, params)
            rebuilt = int(sql.scalar(select(func.count()).select_from(days), params) or 0)
        from_deductions = insert(seller_reputation).from_select(
            ["seller_id", "deducted_points", "updated_at"],
            select(deducted.c.seller_id, deducted.c.points, now).where(
                deducted.c.seller_id.is_not(None)
            ),
        )
        sql.run(
            from_deductions.on_conflict_do_update(
                index_elements=["seller_id"],
                set_={"deducted_points": from_deductions.excluded.deducted_points},
            ),
            params,
        )
        return rebuilt

    def snapshot(
        self, seller_ids: Collection[str] | None = None
    ) -> tuple[list[SellerTotals], list[PairMonth], list[DayBucket]]:
        """The stored aggregate rows (all-zero rows left out), sorted."""

        def keep(column: Any) -> Any:
            return literal(True) if seller_ids is None else column.in_(list(seller_ids))

        totals = [
            _totals(r)
            for r in self._sql.rows(
                select(seller_reputation).where(keep(SR.seller_id)).order_by(SR.seller_id)
            )
        ]
        pairs = [
            PairMonth(r.seller_id, r.buyer_id, r.month, int(r.positive), int(r.negative))
            for r in self._sql.rows(
                select(reputation_pair_months)
                .where(keep(PM.seller_id), (PM.positive != 0) | (PM.negative != 0))
                .order_by(PM.seller_id, PM.buyer_id, PM.month)
            )
        ]
        days = [
            DayBucket(
                r.seller_id,
                r.day,
                Counting(**{c: int(getattr(r, c)) for c in _DAY_SUMS[:7]}).plus(
                    Counting(
                        star_weight_sum=float(r.star_weight_sum), weight_sum=float(r.weight_sum)
                    )
                ),
            )
            for r in self._sql.rows(
                select(reputation_days)
                .where(keep(D.seller_id), D.weight_sum != 0)
                .order_by(D.seller_id, D.day)
            )
        ]
        return totals, pairs, days
