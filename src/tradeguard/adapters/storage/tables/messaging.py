"""Messaging tables (DESIGN.md §7), platform signing keys and risk signals (§11).

Conversations, their hash-chained messages and signed checkpoints; the
platform's Ed25519 key generations; the signals the scam scan records.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Table, Text

from tradeguard.adapters.storage.tables.base import metadata
from tradeguard.adapters.storage.types import Json, UTCDateTime

platform_keys = Table(
    "platform_keys",
    metadata,
    Column("key_id", String(40), primary_key=True),
    Column("generation", Integer, nullable=False, unique=True),
    Column("public_key", String(64), nullable=False),  # base64 of 32 raw bytes
    Column("private_key", Text, nullable=False),  # base64 of 32 raw bytes; see signing.service
    Column("created_at", UTCDateTime, nullable=False),
    Column("retired_at", UTCDateTime),
)

conversations = Table(
    "conversations",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("buyer_id", String(64), nullable=False, index=True),
    Column("seller_id", String(64), nullable=False, index=True),
    Column("order_id", String(40), index=True),
    # One conversation per buyer, seller and order (or none): starting it again finds it.
    Column("pair_key", String(200), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("head_seq", Integer, nullable=False),
    Column("head_hash", String(64), nullable=False),
    Column("checkpointed_seq", Integer, nullable=False),
    Column("last_message_at", UTCDateTime),
)

messages = Table(
    "messages",
    metadata,
    Column(
        "conversation_id",
        String(40),
        ForeignKey("conversations.id"),
        primary_key=True,
    ),
    Column("seq", Integer, primary_key=True),
    Column("id", String(40), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("sender_role", String(16), nullable=False),
    Column("sender_id", String(64)),
    Column("text", Text, nullable=False),
    Column("attachments", Json, nullable=False),
    Column("sent_at", UTCDateTime, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("flagged", Boolean, nullable=False),
    Column("scan_reasons", Json, nullable=False),
)

chain_checkpoints = Table(
    "chain_checkpoints",
    metadata,
    Column(
        "conversation_id",
        String(40),
        ForeignKey("conversations.id"),
        primary_key=True,
    ),
    Column("seq", Integer, primary_key=True),
    Column("hash", String(64), nullable=False),
    Column("signed_at", UTCDateTime, nullable=False),
    Column("key_id", String(40), nullable=False),
    Column("signature", String(128), nullable=False),
)

risk_signals = Table(
    "risk_signals",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("subject", String(80), nullable=False, index=True),
    Column("party_id", String(64)),
    Column("order_id", String(40)),
    Column("reasons", Json, nullable=False),
    Column("data", Json, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_risk_signals_party_id_created_at", "party_id", "created_at"),
)
