"""The webhook store."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from tradeguard.adapters.storage.outbox import event_from_row
from tradeguard.adapters.storage.sql import Prepared, Sql
from tradeguard.adapters.storage.tables.events import outbox_events
from tradeguard.adapters.storage.tables.webhooks import (
    webhook_attempts,
    webhook_cursor,
    webhook_deliveries,
    webhook_endpoints,
)
from tradeguard.events.model import (
    DeliveryAttempt,
    DeliveryState,
    Dispatch,
    StoredEvent,
    WebhookDelivery,
    WebhookEndpoint,
)

W, D, A = webhook_endpoints.c, webhook_deliveries.c, webhook_attempts.c
_CURSOR = "outbox"
_DELIVERY_COLUMNS = (
    "id",
    "endpoint_id",
    "event_id",
    "event_type",
    "state",
    "attempts",
    "next_attempt_at",
    "last_status_code",
    "last_error",
    "created_at",
    "finished_at",
    "replay_of",
)
_INSERT_DELIVERY = Prepared(
    webhook_deliveries.insert().values({c: bindparam(c) for c in _DELIVERY_COLUMNS}).inline()
)
_CLAIM = Prepared(
    select(webhook_deliveries)
    .where(
        D.state == DeliveryState.PENDING.value,
        D.next_attempt_at <= bindparam("now"),
        D.endpoint_id.in_(select(W.id).where(W.disabled_at.is_(None)).scalar_subquery()),
    )
    .order_by(D.next_attempt_at)
    .limit(bindparam("claim_limit"))
    .with_for_update(skip_locked=True)
)


class SqlWebhookStore:
    """Implements :class:`tradeguard.events.ports.WebhookStore`."""

    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    def insert_endpoint(self, endpoint: WebhookEndpoint) -> None:
        """Store an endpoint."""
        self._sql.run(
            webhook_endpoints.insert().values(
                id=endpoint.id,
                url=endpoint.url,
                event_types=list(endpoint.event_types),
                secret=endpoint.secret,
                description=endpoint.description,
                created_at=endpoint.created_at,
            )
        )

    def endpoint(self, endpoint_id: str) -> WebhookEndpoint | None:
        """An endpoint by id."""
        row = self._sql.first(select(webhook_endpoints).where(W.id == endpoint_id))
        return _endpoint(row) if row else None

    def endpoints(self, *, enabled_only: bool) -> list[WebhookEndpoint]:
        """Endpoints, oldest first."""
        query = select(webhook_endpoints).order_by(W.created_at, W.id)
        if enabled_only:
            query = query.where(W.disabled_at.is_(None))
        return [_endpoint(r) for r in self._sql.rows(query)]

    def disable_endpoint(self, endpoint_id: str, at: datetime) -> bool:
        """Disable an enabled endpoint."""
        rows = self._sql.rows(
            update(webhook_endpoints)
            .where(W.id == endpoint_id, W.disabled_at.is_(None))
            .values(disabled_at=at)
            .returning(W.id)
        )
        return bool(rows)

    def give_up_pending(self, endpoint_id: str, reason: str, at: datetime) -> None:
        """Fail every pending delivery to the endpoint."""
        self._sql.run(
            update(webhook_deliveries)
            .where(D.endpoint_id == endpoint_id, D.state == DeliveryState.PENDING.value)
            .values(state=DeliveryState.FAILED.value, last_error=reason, finished_at=at)
        )

    def lock_cursor(self) -> int:
        """Lock (creating if needed) the fan-out cursor; concurrent dispatchers queue here."""
        insert = pg_insert if self._sql.is_postgresql else sqlite_insert
        self._sql.run(
            insert(webhook_cursor).values(name=_CURSOR, sequence=0).on_conflict_do_nothing()
        )
        value = self._sql.scalar(
            select(webhook_cursor.c.sequence)
            .where(webhook_cursor.c.name == _CURSOR)
            .with_for_update()
        )
        return int(value or 0)

    def cursor(self) -> int:
        """The last event sequence fanned out, without locking."""
        value = self._sql.scalar(
            select(webhook_cursor.c.sequence).where(webhook_cursor.c.name == _CURSOR)
        )
        return int(value or 0)

    def set_cursor(self, sequence: int) -> None:
        """Advance the cursor."""
        self._sql.run(
            update(webhook_cursor).where(webhook_cursor.c.name == _CURSOR).values(sequence=sequence)
        )

    def insert_deliveries(self, deliveries: Sequence[WebhookDelivery]) -> None:
        """Store new deliveries."""
        self._sql.run_many(_INSERT_DELIVERY, [_delivery_values(d) for d in deliveries])

    def claim_due(self, now: datetime, limit: int, lease_until: datetime) -> list[Dispatch]:
        """Lease due pending deliveries: push their next attempt to the lease end and return them."""
        rows = self._sql.rows(_CLAIM, {"now": now, "claim_limit": limit})
        if not rows:
            return []
        ids = [r.id for r in rows]
        self._sql.run(
            update(webhook_deliveries).where(D.id.in_(ids)).values(next_attempt_at=lease_until)
        )
        deliveries = [_delivery(r) for r in rows]
        endpoints = {
            e.id: e
            for e in (
                _endpoint(r)
                for r in self._sql.rows(
                    select(webhook_endpoints).where(W.id.in_({d.endpoint_id for d in deliveries}))
                )
            )
        }
        events = {
            e.id: e
            for e in (
                event_from_row(r)
                for r in self._sql.rows(
                    select(outbox_events).where(
                        outbox_events.c.id.in_({d.event_id for d in deliveries})
                    )
                )
            )
        }
        return [
            Dispatch(d, endpoints[d.endpoint_id], events[d.event_id])
            for d in deliveries
            if d.endpoint_id in endpoints and d.event_id in events
        ]

    def delivery(self, delivery_id: str, *, lock: bool = False) -> WebhookDelivery | None:
        """A delivery."""
        query = select(webhook_deliveries).where(D.id == delivery_id)
        if lock:
            query = query.with_for_update()
        row = self._sql.first(query)
        return _delivery(row) if row else None

    def update_delivery(self, delivery: WebhookDelivery) -> None:
        """Write back state and bookkeeping."""
        values = _delivery_values(delivery)
        del values["id"]
        self._sql.run(update(webhook_deliveries).where(D.id == delivery.id).values(values))

    def insert_attempt(self, attempt: DeliveryAttempt) -> None:
        """Log an attempt."""
        self._sql.run(
            webhook_attempts.insert().values(
                delivery_id=attempt.delivery_id,
                number=attempt.number,
                attempted_at=attempt.attempted_at,
                status_code=attempt.status_code,
                error=attempt.error,
                duration_ms=attempt.duration_ms,
            )
        )

    def attempts(self, delivery_id: str) -> list[DeliveryAttempt]:
        """A delivery's attempts in order."""
        rows = self._sql.rows(
            select(webhook_attempts).where(A.delivery_id == delivery_id).order_by(A.number, A.id)
        )
        return [
            DeliveryAttempt(
                r.delivery_id, r.number, r.attempted_at, r.status_code, r.error, r.duration_ms
            )
            for r in rows
        ]

    def deliveries(
        self, *, endpoint_id: str | None, event_id: str | None, before_id: str | None, limit: int
    ) -> list[WebhookDelivery]:
        """Deliveries newest first."""
        query = select(webhook_deliveries).order_by(D.id.desc()).limit(limit)
        if endpoint_id is not None:
            query = query.where(D.endpoint_id == endpoint_id)
        if event_id is not None:
            query = query.where(D.event_id == event_id)
        if before_id is not None:
            query = query.where(D.id < before_id)
        return [_delivery(r) for r in self._sql.rows(query)]

    def event(self, event_id: str) -> StoredEvent | None:
        """An outbox event by id."""
        row = self._sql.first(select(outbox_events).where(outbox_events.c.id == event_id))
        return event_from_row(row) if row else None


def _endpoint(row: Any) -> WebhookEndpoint:
    return WebhookEndpoint(
        row.id,
        row.url,
        tuple(row.event_types),
        row.secret,
        row.description,
        row.created_at,
        row.disabled_at,
    )


def _delivery_values(d: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "endpoint_id": d.endpoint_id,
        "event_id": d.event_id,
        "event_type": d.event_type,
        "state": d.state.value,
        "attempts": d.attempts,
        "next_attempt_at": d.next_attempt_at,
        "last_status_code": d.last_status_code,
        "last_error": d.last_error,
        "created_at": d.created_at,
        "finished_at": d.finished_at,
        "replay_of": d.replay_of,
    }


def _delivery(row: Any) -> WebhookDelivery:
    return WebhookDelivery(
        id=row.id,
        endpoint_id=row.endpoint_id,
        event_id=row.event_id,
        event_type=row.event_type,
        state=DeliveryState(row.state),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        created_at=row.created_at,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        finished_at=row.finished_at,
        replay_of=row.replay_of,
    )
