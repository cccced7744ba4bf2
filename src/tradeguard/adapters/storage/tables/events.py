"""The transactional outbox (DESIGN.md §13)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, String, Table

from tradeguard.adapters.storage.tables.base import metadata
from tradeguard.adapters.storage.types import BigId, Json, UTCDateTime

outbox_events = Table(
    "outbox_events",
    metadata,
    Column("sequence", BigId, primary_key=True, autoincrement=True),
    Column("id", String(40), nullable=False, unique=True),
    Column("type", String(80), nullable=False),
    Column("subject", String(120), nullable=False),
    Column("order_id", String(40)),
    Column("data", Json, nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("tx_id", BigInteger),  # PostgreSQL: the writing transaction (see storage/outbox.py)
    Index(None, "order_id", "sequence"),
)

#: PostgreSQL: "event numbers up to ``sequence`` had been handed out before transaction
#: ``below_tx`` began" — once no older transaction runs, they are all final (storage/outbox.py).
outbox_marks = Table(
    "outbox_marks",
    metadata,
    Column("sequence", BigInteger, primary_key=True, autoincrement=False),
    Column("below_tx", BigInteger, nullable=False),
)
