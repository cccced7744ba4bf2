"""Merchant tables (DESIGN.md §10): verification records, their documents, guarantee enrolment."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, String, Table, Text

from tradeguard.adapters.storage.tables.base import metadata
from tradeguard.adapters.storage.types import UTCDateTime

merchants = Table(
    "merchants",
    metadata,
    Column("seller_id", String(64), primary_key=True),
    Column("legal_name", String(200), nullable=False),
    Column("country", String(2), nullable=False),
    Column("registration_number", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("submitted_at", UTCDateTime, nullable=False),
    Column("verified_by", String(120)),
    Column("verified_at", UTCDateTime),
    Column("rejection_reason", Text),
    Column("guarantee_enrolled_at", UTCDateTime),
    Column("guarantee_withdrawn_at", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "country", "registration_number"),
)

merchant_documents = Table(
    "merchant_documents",
    metadata,
    Column("seller_id", String(64), primary_key=True),
    Column("sha256", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("uploaded_at", UTCDateTime, nullable=False),
)
