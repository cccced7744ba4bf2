"""The event feed never skips an event (DESIGN.md §13): readers stop where numbers are final.

On PostgreSQL an event's sequence number is handed out when it is inserted, not
when it commits. A transaction can number its event first and commit last; a
reader that remembers the last number it saw must not have passed that number
before the event became visible.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import psycopg
import pytest

from tradeguard.adapters.storage.engine import normalize_url
from tradeguard.adapters.storage.uow import SqlUnits
from tradeguard.events.model import DomainEvent

if TYPE_CHECKING:
    from tests.conftest import Database

_EVENT = (
    "INSERT INTO outbox_events (id, type, subject, data, occurred_at, tx_id) "
    "VALUES (%s, 'order.paid', 'order:o1', '{}', now(), pg_current_xact_id()::text::bigint) "
    "RETURNING sequence"
)


def _libpq(database: Database) -> str:
    return normalize_url(database.url).replace("postgresql+psycopg://", "postgresql://")


def _read(units: SqlUnits, after: int) -> list[int]:
    units.run(lambda uow: uow.outbox.mark())
    return [e.sequence for e in units.run(lambda uow: uow.outbox.after(after, 100))]


def test_an_event_numbered_first_and_committed_last_is_not_skipped(database: Database) -> None:
    if database.backend != "postgresql":
        pytest.skip("SQLite has one writer: its numbers are handed out in commit order")
    units = SqlUnits(database.engine)
    with psycopg.connect(_libpq(database)) as older, psycopg.connect(_libpq(database)) as newer:
        # given two transactions, the older one begun first
        older.execute("SELECT pg_current_xact_id()")
        newer.execute("SELECT pg_current_xact_id()")
        # when the newer numbers its event first, and the older commits its own first
        first = newer.execute(_EVENT, ("evt_newer",)).fetchone()
        second = older.execute(_EVENT, ("evt_older",)).fetchone()
        assert first is not None
        assert second is not None
        older.commit()

        # then a reader holds the older's event back while the lower number is in flight
        seen = _read(units, 0)
        assert second[0] not in seen
        cursor = max(seen, default=0)

        newer.commit()

    # and reads both, in number order, once the newer has committed
    assert _read(units, cursor) == [first[0], second[0]]


def test_events_of_finished_transactions_are_read_at_once(database: Database) -> None:
    units = SqlUnits(database.engine)
    at = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    units.run(
        lambda uow: uow.outbox.append(
            [
                ("evt_1", DomainEvent("order.paid", "order:o1", {"n": 1}, "o1")),
                ("evt_2", DomainEvent("order.shipped", "order:o1", {"n": 2}, "o1")),
            ],
            at,
        )
    )
    units.run(lambda uow: uow.outbox.append([("evt_3", DomainEvent("x", "s", {}, None))], at))

    _read(units, 0)  # marks how far events are numbered
    read = units.run(lambda uow: uow.outbox.after(0, 100))
    assert [e.id for e in read] == ["evt_1", "evt_2", "evt_3"]
    assert [e.data for e in read] == [{"n": 1}, {"n": 2}, {}]
