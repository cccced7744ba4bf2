"""Ledger tables (DESIGN.md §3). The CHECK constraints are the last line of defence."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    UniqueConstraint,
)

from tradeguard.adapters.storage.tables.base import metadata
from tradeguard.adapters.storage.types import BigId, UTCDateTime
from tradeguard.ledger.model import ACCOUNT_RULES

#: Account kinds that may never hold a negative balance, for the CHECK constraint.
NON_NEGATIVE_KINDS = sorted({rule.kind.value for rule in ACCOUNT_RULES if not rule.may_go_negative})
_kinds_sql = ", ".join(f"'{kind}'" for kind in NON_NEGATIVE_KINDS)

ledger_accounts = Table(
    "ledger_accounts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("address", String(200), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("balance_minor", BigInteger, nullable=False, server_default="0"),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("address", "currency"),
    CheckConstraint(f"balance_minor >= 0 OR kind NOT IN ({_kinds_sql})", name="non_negative"),
)

ledger_transfers = Table(
    "ledger_transfers",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("idempotency_key", String(200), nullable=False, unique=True),
    Column("source_account_id", BigId, ForeignKey("ledger_accounts.id"), nullable=False),
    Column("destination_account_id", BigId, ForeignKey("ledger_accounts.id"), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("reference", String(200), nullable=False),
    Column("reason", String(40), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    CheckConstraint("amount_minor > 0", name="positive_amount"),
    CheckConstraint("source_account_id <> destination_account_id", name="two_accounts"),
    Index(None, "reference"),
)
