"""Webhook endpoints, deliveries, attempts and the fan-out cursor (DESIGN.md §13)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, Table, Text, text

from tradeguard.adapters.storage.tables.base import metadata
from tradeguard.adapters.storage.types import BigId, Json, UTCDateTime

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("url", Text, nullable=False),
    Column("event_types", Json, nullable=False),
    Column("secret", String(100), nullable=False),
    Column("description", String(500), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("disabled_at", UTCDateTime),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("endpoint_id", String(40), ForeignKey("webhook_endpoints.id"), nullable=False),
    Column("event_id", String(40), nullable=False),
    Column("event_type", String(80), nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("last_status_code", Integer),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("replay_of", String(40)),
    Index(
        "ix_webhook_deliveries_pending_next",
        "next_attempt_at",
        postgresql_where=text("state = 'pending'"),
        sqlite_where=text("state = 'pending'"),
    ),
    Index(None, "endpoint_id", "id"),
    Index(None, "event_id"),
    # One original delivery per event and endpoint; replays are separate rows.
    Index(
        "uq_webhook_deliveries_original",
        "endpoint_id",
        "event_id",
        unique=True,
        postgresql_where=text("replay_of IS NULL"),
        sqlite_where=text("replay_of IS NULL"),
    ),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column(
        "delivery_id", String(40), ForeignKey("webhook_deliveries.id"), nullable=False, index=True
    ),
    Column("number", Integer, nullable=False),
    Column("attempted_at", UTCDateTime, nullable=False),
    Column("status_code", Integer),
    Column("error", Text),
    Column("duration_ms", Integer, nullable=False),
)

webhook_cursor = Table(
    "webhook_cursor",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("sequence", BigInteger, nullable=False),
)
