"""The outbox table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import bindparam, func, literal_column, or_, select, text

from tradeguard.adapters.storage.sql import Prepared, Sql
from tradeguard.adapters.storage.tables.events import outbox_events
from tradeguard.events.model import DomainEvent, StoredEvent

E = outbox_events.c
_COLUMNS = ("id", "type", "subject", "order_id", "data", "occurred_at")
_INSERT = Prepared(outbox_events.insert().values({c: bindparam(c) for c in _COLUMNS}).inline())
# On PostgreSQL each event records the id of the transaction that wrote it. Sequence numbers
# are handed out at insert, not at commit, so a transaction that commits late can publish an
# event numbered below ones already visible; readers of the feed therefore stop at events of
# transactions older than every transaction still running (the snapshot's xmin). Then the feed
# only ever grows at its end and a cursor never skips an event.
_INSERT_PG = Prepared(
    outbox_events.insert()
    .values(
        {
            **{c: bindparam(c) for c in _COLUMNS},
            "tx_id": literal_column("pg_current_xact_id()::text::bigint"),
        }
    )
    .inline()
)
# Several events of one unit go in one statement on PostgreSQL (a statement costs the driver
# and the server more than a row); the ordinality keeps their sequence in the order given.
_INSERT_MANY_PG = Prepared(
    text(
        """
INSERT INTO outbox_events (id, type, subject, order_id, data, occurred_at, tx_id)
SELECT id, type, subject, order_id, data, :occurred_at, pg_current_xact_id()::text::bigint
FROM unnest(CAST(:ids AS text[]), CAST(:types AS text[]), CAST(:subjects AS text[]),
            CAST(:order_ids AS text[]), CAST(:datas AS jsonb[]))
     WITH ORDINALITY AS e(id, type, subject, order_id, data, n)
ORDER BY n
"""
    )
)
_SETTLED = or_(
    E.tx_id.is_(None),
    E.tx_id < literal_column("pg_snapshot_xmin(pg_current_snapshot())::text::bigint"),
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
_AFTER_PG = Prepared(
    select(outbox_events)
    .where(E.sequence > bindparam("after"), _SETTLED)
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
        self._sql.run_many(
            _INSERT_PG if self._sql.is_postgresql else _INSERT,
            [
                {
                    "id": event_id,
                    "type": e.type,
                    "subject": e.subject,
                    "order_id": e.order_id,
                    "data": dict(e.data),
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
        return [
            event_from_row(r) for r in self._sql.rows(query, {"after": sequence, "max_rows": limit})
        ]

    def last_sequence(self) -> int:
        """The highest sequence number committed (0 when empty)."""
        return int(self._sql.scalar(select(func.coalesce(func.max(E.sequence), 0))) or 0)


def event_from_row(row: Any) -> StoredEvent:
    """An outbox row as a StoredEvent."""
    return StoredEvent(
        row.sequence, row.id, row.type, row.subject, row.order_id, row.data, row.occurred_at
    )
