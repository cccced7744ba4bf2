"""After-sales tables (DESIGN.md §5): refund requests, returns and exchanges.

Return and replacement parcels are rows of ``shipments`` (direction ``return`` /
``replacement``), beside the outbound parcel whose serial numbers they are compared with.
"""

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
from tradeguard.adapters.storage.types import UTCDateTime

refund_requests = Table(
    "refund_requests",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("order_id", String(40), ForeignKey("orders.id"), nullable=False, index=True),
    Column("buyer_id", String(64), nullable=False),
    Column("seller_id", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("kind", String(24), nullable=False),
    Column("reason", String(32), nullable=False),
    Column("state", String(24), nullable=False),
    Column("requested_minor", BigInteger, nullable=False),
    Column("description", Text, nullable=False),
    Column("return_shipping_payer", String(16), nullable=False),
    Column("freight_insured", Boolean, nullable=False, server_default=text("false")),
    Column("refunded_minor", BigInteger, nullable=False, server_default="0"),
    Column("outbound_shipping_deduction_minor", BigInteger, nullable=False, server_default="0"),
    Column("return_shipping_minor", BigInteger, nullable=False, server_default="0"),
    Column("return_shipping_reimbursed_minor", BigInteger, nullable=False, server_default="0"),
    Column("carrier_claim_minor", BigInteger, nullable=False, server_default="0"),
    Column("instant_refunded_minor", BigInteger, nullable=False, server_default="0"),
    Column("instant_recovered", Boolean, nullable=False, server_default=text("false")),
    Column("serial_mismatch", Boolean, nullable=False, server_default=text("false")),
    Column("paused_auto_confirm", Boolean, nullable=False, server_default=text("false")),
    Column("amendments", Integer, nullable=False, server_default="0"),
    Column("refused_reason", Text),
    Column("refund_source", String(24)),
    Column("close_reason", String(64)),
    Column("dispute_id", String(40)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("agreed_at", UTCDateTime),
    Column("return_shipped_at", UTCDateTime),
    Column("ended_at", UTCDateTime),
    Column("answer_due_at", UTCDateTime),
    CheckConstraint("requested_minor > 0", name="positive_request"),
    CheckConstraint("refunded_minor >= 0", name="non_negative_refund"),
    Index(None, "buyer_id", "id"),
    Index(None, "seller_id", "id"),
)
