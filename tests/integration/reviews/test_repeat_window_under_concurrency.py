"""DESIGN.md §9 repeat rule under concurrency: of two reviews of one item racing, one counts.

The store claims the buyer's repeat window on the item in the same write that counts
the review. A second review whose write arrives while the first is still uncommitted
waits for the window row, then finds itself inside the window and is not counted.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from tradeguard.adapters.storage.reputation import SqlReputationStore
from tradeguard.adapters.storage.sql import Sql
from tradeguard.reputation.model import CountedReview, Counting, SellerTotals

if TYPE_CHECKING:
    from tests.conftest import Database

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _review(rated_at: datetime) -> CountedReview:
    return CountedReview(
        seller_id="s1",
        buyer_id="b1",
        listing_id="case",
        rated_at=rated_at,
        month="2026-03",
        day=rated_at.date(),
        delta=Counting(positive=1, star_weight_sum=5.0, weight_sum=1.0),
        repeat_window=timedelta(days=14),
        points_cap=6,
    )


def test_of_two_racing_reviews_of_one_item_only_the_first_counts(database: Database) -> None:
    if database.backend != "postgresql":
        pytest.skip("SQLite has a single writer: its reviews cannot race")
    engine = database.engine
    with engine.connect() as first_conn, engine.connect() as second_conn:
        # given: the first review counted but not yet committed
        first_conn.begin()
        first = SqlReputationStore(Sql(first_conn)).count_new(_review(AT), AT)
        assert first is not None

        # when: a second review of the item, a minute later, is counted meanwhile
        second: list[SellerTotals | None] = []

        def count_second() -> None:
            second_conn.begin()
            second.append(
                SqlReputationStore(Sql(second_conn)).count_new(
                    _review(AT + timedelta(minutes=1)), AT
                )
            )
            second_conn.commit()

        racer = threading.Thread(target=count_second)
        racer.start()
        racer.join(timeout=0.5)
        assert racer.is_alive(), "the second review must wait for the first's window row"
        first_conn.commit()
        racer.join(timeout=10)

    # then: it waited, found itself within the window and was not counted
    assert second == [None]
    with engine.connect() as conn:
        totals = SqlReputationStore(Sql(conn)).totals("s1")
    assert totals is not None
    assert (totals.review_points, totals.positive) == (1, 1)


def test_a_review_outside_the_window_counts_and_moves_the_window(database: Database) -> None:
    with database.engine.connect() as conn:
        conn.begin()
        store = SqlReputationStore(Sql(conn))
        assert store.count_new(_review(AT), AT) is not None
        assert store.count_new(_review(AT + timedelta(days=13)), AT) is None
        assert store.count_new(_review(AT + timedelta(days=14)), AT) is not None
        # the window now starts at day 14: day 20 repeats it, day 28 does not
        assert store.count_new(_review(AT + timedelta(days=20)), AT) is None
        assert store.count_new(_review(AT + timedelta(days=28)), AT) is not None
        totals = store.totals("s1")
        conn.commit()
    assert totals is not None
    assert totals.positive == 3
