"""Reputation tables (DESIGN.md §9): the aggregate rows of seller figures and deductions.

Each row is keyed so that one review touches one row of each table: the seller,
the buyer-seller-month of the monthly cap, the seller-day of the rolling windows
and the buyer-item of the repeat window.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, Float, Index, Integer, String, Table, Text

from tradeguard.adapters.storage.tables.base import metadata
from tradeguard.adapters.storage.types import UTCDateTime

seller_reputation = Table(
    "seller_reputation",
    metadata,
    Column("seller_id", String(64), primary_key=True),
    Column("category", String(64), nullable=False, server_default="general", index=True),
    Column("review_points", BigInteger, nullable=False, server_default="0"),
    Column("deducted_points", BigInteger, nullable=False, server_default="0"),
    Column("positive", BigInteger, nullable=False, server_default="0"),
    Column("neutral", BigInteger, nullable=False, server_default="0"),
    Column("negative", BigInteger, nullable=False, server_default="0"),
    Column("star_weight_sum", Float, nullable=False, server_default="0"),
    Column("weight_sum", Float, nullable=False, server_default="0"),
    Column("level", String(24), nullable=False, server_default="none"),
    Column("updated_at", UTCDateTime, nullable=False),
)

reputation_pair_months = Table(
    "reputation_pair_months",
    metadata,
    Column("seller_id", String(64), primary_key=True),
    Column("buyer_id", String(64), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("positive", Integer, nullable=False),
    Column("negative", Integer, nullable=False),
)

reputation_days = Table(
    "reputation_days",
    metadata,
    Column("seller_id", String(64), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("positive", BigInteger, nullable=False),
    Column("neutral", BigInteger, nullable=False),
    Column("negative", BigInteger, nullable=False),
    Column("dsr_count", BigInteger, nullable=False),
    Column("dsr_item_sum", BigInteger, nullable=False),
    Column("dsr_communication_sum", BigInteger, nullable=False),
    Column("dsr_shipping_sum", BigInteger, nullable=False),
    Column("star_weight_sum", Float, nullable=False),
    Column("weight_sum", Float, nullable=False),
    # No index on day alone: windows are read per seller (the primary key's prefix) or per
    # category (through the category's sellers), and every index is paid for on every review
    # and on each of the ten million rows a recomputation writes.
)

reputation_item_windows = Table(
    "reputation_item_windows",
    metadata,
    Column("seller_id", String(64), primary_key=True),
    Column("buyer_id", String(64), primary_key=True),
    Column("listing_id", String(64), primary_key=True),
    Column("started_at", UTCDateTime, nullable=False),
)

reputation_deductions = Table(
    "reputation_deductions",
    metadata,
    Column("reference", String(200), primary_key=True),
    Column("seller_id", String(64), nullable=False),
    Column("points", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Column("deducted_at", UTCDateTime, nullable=False),
    Index(None, "seller_id", "deducted_at"),
)
