"""The outbox table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select

from tradeguard.adapters.storage.sql import Prepared, Sql
from tradeguard.adapters.storage.tables.events import outbox_events
from tradeguard.events.model import DomainEvent, StoredEvent

E = outbox_events.c
_INSERT = Prepared(
    outbox_events.insert()
    .values({c: bindparam(c) for c in ("id", "type", "subject", "order_id", "data", "occurred_at")})
    .inline()
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
        self._sql.run_many(
            _INSERT,
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

    def after(self, sequence: int, limit: int) -> list[StoredEvent]:
        """Events after ``sequence``, oldest first."""
        return [
            event_from_row(r)
            for r in self._sql.rows(_AFTER, {"after": sequence, "max_rows": limit})
        ]


def event_from_row(row: Any) -> StoredEvent:
    """An outbox row as a StoredEvent."""
    return StoredEvent(
        row.sequence, row.id, row.type, row.subject, row.order_id, row.data, row.occurred_at
    )
