"""The timer table (DESIGN.md §12)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text, text

from tradeguard.adapters.storage.tables.base import metadata
from tradeguard.adapters.storage.types import BigId, UTCDateTime

deadlines = Table(
    "deadlines",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("kind", String(60), nullable=False),
    Column("subject", String(120), nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column(
        "next_at", UTCDateTime, nullable=False
    ),  # the reminder while unsent, else due_at (or a retry)
    Column("state", String(16), nullable=False),
    Column("remind_before_ms", BigInteger),
    Column("reminded_at", UTCDateTime),
    Column("remaining_on_pause_ms", BigInteger),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("fired_at", UTCDateTime),
    # Workers scan pending timers by the time to look at them; a partial index keeps that scan small.
    Index(
        "ix_deadlines_pending_next",
        "next_at",
        "id",
        postgresql_where=text("state = 'pending'"),
        sqlite_where=text("state = 'pending'"),
    ),
    # At most one active timer of a kind per subject; also serves every lookup by subject.
    Index(
        "uq_deadlines_active_subject_kind",
        "subject",
        "kind",
        unique=True,
        postgresql_where=text("state IN ('pending', 'paused')"),
        sqlite_where=text("state IN ('pending', 'paused')"),
    ),
)
