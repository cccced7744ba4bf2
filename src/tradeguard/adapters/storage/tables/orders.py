"""Order tables (DESIGN.md §4): listings, payment groups, orders, lines, parcels, scans, payouts."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    text,
)

from tradeguard.adapters.storage.tables.base import metadata
from tradeguard.adapters.storage.types import Json, UTCDateTime

listings = Table(
    "listings",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("seller_id", String(64), nullable=False, index=True),
    Column("title", String(500), nullable=False),
    Column("goods_kind", String(16), nullable=False),
    Column("purchase_limit_per_buyer", Integer),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

orders = Table(
    "orders",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("payment_group_id", String(40), nullable=False),
    Column("buyer_id", String(64), nullable=False),
    Column("seller_id", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("goods_kind", String(16), nullable=False),
    Column("state", String(24), nullable=False),
    Column("subtotal_minor", BigInteger, nullable=False),
    Column("shipping_fee_minor", BigInteger, nullable=False),
    Column("fee_bps", Integer, nullable=False),
    Column("paid_minor", BigInteger, nullable=False, server_default="0"),
    Column("released_minor", BigInteger, nullable=False, server_default="0"),
    Column("refunded_minor", BigInteger, nullable=False, server_default="0"),
    Column("fee_minor", BigInteger, nullable=False, server_default="0"),
    Column("late_compensation_minor", BigInteger, nullable=False, server_default="0"),
    Column("is_late", Boolean, nullable=False, server_default=text("false")),
    Column("late_compensation_paid", Boolean, nullable=False, server_default=text("false")),
    Column("receipt_extensions", Integer, nullable=False, server_default="0"),
    Column("auto_confirm_holds", Integer, nullable=False, server_default="0"),
    Column("payment_reference", String(200), index=True),
    Column("late_compensation_source", String(24)),
    Column("ship_by_at", UTCDateTime),
    Column("auto_confirm_at", UTCDateTime),
    Column("last_tracking_status", String(24)),
    Column("completed_by", String(24)),
    Column("close_reason", String(64)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("paid_at", UTCDateTime),
    Column("shipped_at", UTCDateTime),
    Column("delivered_at", UTCDateTime),
    Column("completed_at", UTCDateTime),
    Column("closed_at", UTCDateTime),
    CheckConstraint("subtotal_minor >= 0 AND shipping_fee_minor >= 0", name="non_negative_price"),
    CheckConstraint("released_minor + refunded_minor <= paid_minor", name="escrow_not_overdrawn"),
    CheckConstraint("auto_confirm_holds >= 0", name="holds_non_negative"),
    # One order per seller in a checkout; with ids derived from an Idempotency-Key this
    # also makes a retried checkout impossible to create twice.
    Index("uq_orders_payment_group_id_seller_id", "payment_group_id", "seller_id", unique=True),
    Index(None, "buyer_id", "id"),
    Index(None, "seller_id", "id"),
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("order_id", String(40), ForeignKey("orders.id"), primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("listing_id", String(64), nullable=False),
    Column("title", String(500), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price_minor", BigInteger, nullable=False),
    CheckConstraint("quantity > 0", name="positive_quantity"),
    CheckConstraint("unit_price_minor >= 0", name="non_negative_price"),
    Index(None, "listing_id"),
)

shipments = Table(
    "shipments",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("order_id", String(40), ForeignKey("orders.id"), nullable=False, index=True),
    Column("direction", String(16), nullable=False),
    Column("carrier", String(64), nullable=False),
    Column("tracking_number", String(128), nullable=False),
    Column("serial_numbers", Json, nullable=False),
    Column("shipped_at", UTCDateTime, nullable=False),
)

tracking_events = Table(
    "tracking_events",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("order_id", String(40), ForeignKey("orders.id"), nullable=False, index=True),
    Column("shipment_id", String(40), ForeignKey("shipments.id")),
    Column("status", String(24), nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("location", String(200)),
    Column("detail", Text),
    Column("recorded_at", UTCDateTime, nullable=False),
)

delivery_records = Table(
    "delivery_records",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("order_id", String(40), ForeignKey("orders.id"), nullable=False, index=True),
    Column("method", String(16), nullable=False),
    Column("detail", Text, nullable=False),
    Column("delivered_at", UTCDateTime, nullable=False),
    Column("recorded_by", String(100), nullable=False),
)

payouts = Table(
    "payouts",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("seller_id", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("failed_at", UTCDateTime),
    Column("failure_reason", Text),
    Column("request_key", String(300), unique=True),
    CheckConstraint("amount_minor > 0", name="positive_amount"),
    Index(None, "seller_id", "id"),
)

payout_holds = Table(
    "payout_holds",
    metadata,
    Column("subject", String(120), primary_key=True),
    Column("seller_id", String(64), nullable=False, index=True),
    Column("reason", String(500), nullable=False),
    Column("placed_at", UTCDateTime, nullable=False),
)
