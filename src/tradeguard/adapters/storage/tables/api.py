"""Idempotency records of the HTTP API (IETF Idempotency-Key draft)."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table, Text

from tradeguard.adapters.storage.tables.base import metadata
from tradeguard.adapters.storage.types import Json, UTCDateTime

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("principal", String(120), primary_key=True),  # keys are scoped to who sent them
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),  # sha256 of method, path and canonical body
    Column("state", String(16), nullable=False),  # "running" or "done"
    Column("locked_until", UTCDateTime, nullable=False),
    Column("status_code", Integer),
    Column("response_body", Text),
    Column("response_headers", Json),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index(None, "expires_at"),
)
