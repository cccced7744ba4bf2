"""DESIGN.md §9 recomputation beside live counting: a change committed meanwhile is kept.

On PostgreSQL a range is reconciled with writes relative to the rows as read, so a
counting that changes a bucket row while the range is being rebuilt adds to the
rebuilt value instead of being overwritten, and a row it keeps alive is not deleted.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text


def _pair(conn, buyer_id: str) -> tuple[int, int] | None:
    row = conn.execute(
        text(
            "SELECT positive, negative FROM reputation_pair_months "
            "WHERE seller_id = 's1' AND buyer_id = :b"
        ),
        {"b": buyer_id},
    ).one_or_none()
    return None if row is None else (row.positive, row.negative)


def test_a_change_committed_while_a_range_is_rebuilt_is_kept(shop) -> None:
    if shop.app.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has a single writer: nothing counts while a range is rebuilt")
    # given: b1's month damaged (to be repaired) and a stray month (to be removed)
    shop.reviewed(5)
    with shop.app.engine.begin() as conn:
        conn.execute(text("UPDATE reputation_pair_months SET positive = 99 WHERE buyer_id = 'b1'"))
        conn.execute(
            text(
                "INSERT INTO reputation_pair_months (seller_id, buyer_id, month, positive, negative)"
                " VALUES ('s1', 'ghost', '2020-01', 3, 0)"
            )
        )
    # and: a counting, not yet committed, adds one positive to each of those rows
    counting = shop.app.engine.connect()
    counting.begin()
    counting.execute(
        text("UPDATE reputation_pair_months SET positive = positive + 1 WHERE seller_id = 's1'")
    )

    # when: the range is rebuilt meanwhile, and the counting commits
    rebuild = threading.Thread(target=shop.app.reputation.recompute, kwargs={"workers": 1})
    rebuild.start()
    rebuild.join(timeout=0.5)
    assert rebuild.is_alive(), "the rebuild must wait for the counting's rows"
    counting.commit()
    counting.close()
    rebuild.join(timeout=20)
    assert not rebuild.is_alive()

    # then: the repaired row is the reviews' value plus the counting's, and the stray row,
    # kept alive by the counting, holds only what the counting added
    with shop.app.engine.connect() as conn:
        assert _pair(conn, "b1") == (2, 0)
        assert _pair(conn, "ghost") == (1, 0)
