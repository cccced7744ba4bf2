"""The outbox table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import bindparam, func, select, text

from tradeguard.adapters.storage.sql import Prepared, Sql
from tradeguard.adapters.storage.tables.events import outbox_events
from tradeguard.events.model import DomainEvent, StoredEvent

E = outbox_events.c
_COLUMNS = ("id", "type", "subject", "order_id", "data", "occurred_at")
_INSERT = Prepared(outbox_events.insert().values({c: bindparam(c) for c in _COLUMNS}).inline())
# On PostgreSQL an event's sequence number is handed out at insert, not at commit: a newer
# transaction can number its event below an older one's and commit after it, so a reader that
# has passed the higher number would never see the lower one. Readers therefore stop at a
# horizon. ``mark`` records, in a transaction of its own, "numbers up to N had been handed out
# before transaction X began": every transaction holding one of them has an id below X, since
# an event's transaction takes its id before its number (the inserts take the id in a
# subquery that runs before the number's default). Once no transaction older than X is
# running, every event up to N is committed or gone, and ``after`` reads up to the newest such
# N. (The sequence keeps its default cache of 1: no session holds numbers below the last one.)
_INSERT_PG = Prepared(
    text(
        """
INSERT INTO outbox_events (id, type, subject, order_id, data, occurred_at, tx_id)
SELECT :id, :type, :subject, :order_id, :data, :occurred_at, tx.id
FROM (SELECT pg_current_xact_id()::text::bigint AS id OFFSET 0) AS tx
"""
    )
)
# Several events of one unit go in one statement (a statement costs the driver and the server
# more than a row); the ordinality keeps their sequence in the order given.
_INSERT_MANY_PG = Prepared(
    text(
        """
INSERT INTO outbox_events (id, type, subject, order_id, data, occurred_at, tx_id)
SELECT e.id, e.type, e.subject, e.order_id, e.data, :occurred_at, tx.id
FROM (SELECT pg_current_xact_id()::text::bigint AS id OFFSET 0) AS tx,
     unnest(CAST(:ids AS text[]), CAST(:types AS text[]), CAST(:subjects AS text[]),
            CAST(:order_ids AS text[]), CAST(:datas AS jsonb[]))
     WITH ORDINALITY AS e(id, type, subject, order_id, data, n)
ORDER BY e.n
"""
    )
)
# The last number handed out; read before the marking transaction takes its id.
_HANDED_OUT_PG = Prepared(
    text("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM outbox_events_sequence_seq")
)
_MARK_PG = Prepared(
    text(
        """
INSERT INTO outbox_marks (sequence, below_tx)
VALUES (:handed_out, pg_current_xact_id()::text::bigint)
ON CONFLICT (sequence) DO NOTHING
"""
    )
)
# Events up to the newest mark older than every running transaction; the marks below the
# horizon used are cleared (skipping any another reader is clearing).
_HORIZON = """
WITH horizon AS (
    SELECT coalesce(max(m.sequence), 0) AS upto FROM outbox_marks AS m
    WHERE m.below_tx <= pg_snapshot_xmin(pg_current_snapshot())::text::bigint
), cleared AS (
    DELETE FROM outbox_marks WHERE sequence IN (
        SELECT m.sequence FROM outbox_marks AS m, horizon WHERE m.sequence < horizon.upto
        FOR UPDATE OF m SKIP LOCKED
    )
)
"""
_AFTER_PG = Prepared(
    text(
        _HORIZON
        + """
SELECT e.sequence, e.id, e.type, e.subject, e.order_id, e.data, e.occurred_at
FROM outbox_events AS e, horizon
WHERE e.sequence > :after AND e.sequence <= horizon.upto
ORDER BY e.sequence
LIMIT :max_rows
"""
    )
)
# How far _AFTER_PG would read with no limit, and how many events that passes, without the rows.
_PASSABLE_PG = Prepared(
    text(
        _HORIZON
        + """
SELECT coalesce(max(e.sequence), :after) AS upto, count(*) AS events
FROM outbox_events AS e, horizon
WHERE e.sequence > :after AND e.sequence <= horizon.upto
"""
    )
)
_PASSABLE = Prepared(
    select(
        func.coalesce(func.max(E.sequence), bindparam("after")).label("upto"),
        func.count().label("events"),
    ).where(E.sequence > bindparam("after"))
)
_FOR_ORDER = Prepared(
    select(outbox_events)
    .where(E.order_id == bindparam("of_order"), E.sequence > bindparam("after"))
    .order_by(E.sequence)
    .limit(bindparam("max_rows"))
)
_AFTER = Prepared(
    select(outbox_events)
    .where(E.sequence > bindparam("after"))
    .order_by(E.sequence)
    .limit(bindparam("max_rows"))
)


class SqlOutbox:
    """Implements :class:`tradeguard.events.ports.Outbox`."""

    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    def append(self, events: Sequence[tuple[str, DomainEvent]], at: datetime) -> None:
        """Store events in order, in the caller's transaction."""
        if self._sql.is_postgresql and len(events) > 1:
            self._sql.run(
                _INSERT_MANY_PG,
                {
                    "ids": [event_id for event_id, _ in events],
                    "types": [e.type for _, e in events],
                    "subjects": [e.subject for _, e in events],
                    "order_ids": [e.order_id for _, e in events],
                    "datas": [Jsonb(dict(e.data)) for _, e in events],
                    "occurred_at": at,
                },
            )
            return
        # The PostgreSQL statement is plain SQL text: its JSON is adapted here, not by a type.
        pg = self._sql.is_postgresql
        self._sql.run_many(
            _INSERT_PG if pg else _INSERT,
            [
                {
                    "id": event_id,
                    "type": e.type,
                    "subject": e.subject,
                    "order_id": e.order_id,
                    "data": Jsonb(dict(e.data)) if pg else dict(e.data),
                    "occurred_at": at,
                }
                for event_id, e in events
            ],
        )

    def for_order(self, order_id: str, *, after: int = 0, limit: int = 100) -> list[StoredEvent]:
        """An order's events in sequence."""
        rows = self._sql.rows(_FOR_ORDER, {"of_order": order_id, "after": after, "max_rows": limit})
        return [event_from_row(r) for r in rows]

    def after(
        self, sequence: int, limit: int, *, include_unsettled: bool = False
    ) -> list[StoredEvent]:
        """Events after ``sequence``, oldest first (see the port for ``include_unsettled``)."""
        query = _AFTER_PG if self._sql.is_postgresql and not include_unsettled else _AFTER
        rows = self._sql.rows(query, {"after": sequence, "max_rows": limit})
        return [event_from_row(r) for r in rows]

    def passable(self, sequence: int) -> tuple[int, int]:
        """How far ``after`` would read past ``sequence``, and how many events (see the port)."""
        query = _PASSABLE_PG if self._sql.is_postgresql else _PASSABLE
        row = self._sql.first(query, {"after": sequence})
        if row is None:  # an aggregate always returns its row
            return sequence, 0
        return int(row.upto), int(row.events)

    def mark(self) -> None:
        """Record how far events are numbered (PostgreSQL; see the module's comments)."""
        if not self._sql.is_postgresql:
            return  # SQLite has one writer at a time: numbers are handed out in commit order
        handed_out = int(self._sql.scalar(_HANDED_OUT_PG) or 0)
        if handed_out:
            self._sql.run(_MARK_PG, {"handed_out": handed_out})

    def last_sequence(self) -> int:
        """The highest sequence number committed (0 when empty)."""
        return int(self._sql.scalar(select(func.coalesce(func.max(E.sequence), 0))) or 0)


def event_from_row(row: Any) -> StoredEvent:
    """An outbox row as a StoredEvent."""
    return StoredEvent(
        row.sequence, row.id, row.type, row.subject, row.order_id, row.data, row.occurred_at
    )
