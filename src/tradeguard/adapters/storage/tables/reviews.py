"""Review tables (DESIGN.md §8): reviews, sellers' ratings of buyers, moderation decisions."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Float,
    Index,
    SmallInteger,
    String,
    Table,
    Text,
    text,
)

from tradeguard.adapters.storage.tables.base import metadata
from tradeguard.adapters.storage.types import Json, UTCDateTime

reviews = Table(
    "reviews",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("order_id", String(40), nullable=False, unique=True),  # one review per order
    Column("buyer_id", String(64), nullable=False),
    Column("seller_id", String(64), nullable=False),
    Column("listing_id", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("origin", String(16), nullable=False),
    Column("stars", SmallInteger, nullable=False),
    Column("dsr_item", SmallInteger),
    Column("dsr_communication", SmallInteger),
    Column("dsr_shipping", SmallInteger),
    Column("text", Text, nullable=False),
    Column("reason", Text),
    Column("is_anonymous", Boolean, nullable=False, server_default=text("false")),
    Column("photos", Json, nullable=False),
    Column("flags", Json, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("rated_on", Date, nullable=False),
    Column("rated_month", String(7), nullable=False),
    Column("order_completed_at", UTCDateTime, nullable=False),
    Column("weight", Float, nullable=False, server_default="1"),
    Column("published_at", UTCDateTime),
    Column("counts_for_credit", Boolean, nullable=False, server_default=text("false")),
    Column("counted", Boolean, nullable=False, server_default=text("false")),
    Column("excluded_at", UTCDateTime),
    Column("exclusion_reason", Text),
    Column("revised_at", UTCDateTime),
    Column("original_stars", SmallInteger),
    Column("follow_up_text", Text),
    Column("follow_up_photos", Json, nullable=False),
    Column("follow_up_at", UTCDateTime),
    Column("explanation", Text),
    Column("explained_at", UTCDateTime),
    Column("follow_up_explanation", Text),
    Column("follow_up_explained_at", UTCDateTime),
    Column("decided_by", String(120)),
    Column("decided_at", UTCDateTime),
    Column("decision_note", Text),
    CheckConstraint("stars BETWEEN 1 AND 5", name="stars_1_to_5"),
    Index(None, "seller_id", "id"),
    Index(None, "buyer_id", "id"),
    Index(None, "state", "id"),
)

buyer_ratings = Table(
    "buyer_ratings",
    metadata,
    Column("order_id", String(40), primary_key=True),
    Column("seller_id", String(64), nullable=False),
    Column("buyer_id", String(64), nullable=False, index=True),
    Column("polarity", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("rated_at", UTCDateTime, nullable=False),
)

review_decisions = Table(
    "review_decisions",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("review_id", String(40), nullable=False, index=True),
    Column("decision", String(16), nullable=False),
    Column("staff", String(120), nullable=False),
    Column("note", Text, nullable=False),
    Column("decided_at", UTCDateTime, nullable=False),
)
