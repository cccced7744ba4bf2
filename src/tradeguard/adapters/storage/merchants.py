"""The merchant store in SQLAlchemy Core."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from tradeguard.adapters.storage.sql import Sql
from tradeguard.adapters.storage.tables.merchants import merchant_documents, merchants
from tradeguard.merchants.model import Merchant, MerchantDocument, MerchantState

M, MD = merchants.c, merchant_documents.c
_MUTABLE = (
    "legal_name",
    "country",
    "registration_number",
    "state",
    "submitted_at",
    "verified_by",
    "verified_at",
    "rejection_reason",
    "guarantee_enrolled_at",
    "guarantee_withdrawn_at",
    "updated_at",
)


def _merchant(row: Any, documents: tuple[MerchantDocument, ...] = ()) -> Merchant:
    return Merchant(
        seller_id=row.seller_id,
        legal_name=row.legal_name,
        country=row.country,
        registration_number=row.registration_number,
        state=MerchantState(row.state),
        submitted_at=row.submitted_at,
        updated_at=row.updated_at,
        verified_by=row.verified_by,
        verified_at=row.verified_at,
        rejection_reason=row.rejection_reason,
        guarantee_enrolled_at=row.guarantee_enrolled_at,
        guarantee_withdrawn_at=row.guarantee_withdrawn_at,
        documents=documents,
    )


class SqlMerchantStore:
    """Implements :class:`tradeguard.merchants.ports.MerchantStore`."""

    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    def get(self, seller_id: str, *, lock: bool = False) -> Merchant | None:
        """One record with its documents."""
        query = select(merchants).where(M.seller_id == seller_id)
        row = self._sql.first(query.with_for_update() if lock else query)
        if row is None:
            return None
        docs = tuple(
            MerchantDocument(d.sha256, d.kind, d.content_type, int(d.size_bytes), d.uploaded_at)
            for d in self._sql.rows(
                select(merchant_documents)
                .where(MD.seller_id == seller_id)
                .order_by(MD.uploaded_at, MD.sha256)
            )
        )
        return _merchant(row, docs)

    def insert(self, merchant: Merchant) -> None:
        """Store a new record."""
        self._sql.run(
            merchants.insert().values(
                seller_id=merchant.seller_id, **{c: getattr(merchant, c) for c in _MUTABLE}
            )
        )

    def update(self, merchant: Merchant) -> None:
        """Write back the mutable fields."""
        values = {c: getattr(merchant, c) for c in _MUTABLE}
        values["state"] = merchant.state.value
        self._sql.run(update(merchants).where(M.seller_id == merchant.seller_id).values(values))

    def add_document(self, seller_id: str, document: MerchantDocument) -> bool:
        """Attach a document once per sha256."""
        exists = self._sql.first(
            select(MD.sha256).where(MD.seller_id == seller_id, MD.sha256 == document.sha256)
        )
        if exists is not None:
            return False
        self._sql.run(
            merchant_documents.insert().values(
                seller_id=seller_id,
                sha256=document.sha256,
                kind=document.kind,
                content_type=document.content_type,
                size_bytes=document.size_bytes,
                uploaded_at=document.uploaded_at,
            )
        )
        return True

    def find(self, state: str | None, *, before_id: str | None, limit: int) -> list[Merchant]:
        """Records by seller id descending."""
        query = select(merchants).order_by(M.seller_id.desc()).limit(limit)
        if state is not None:
            query = query.where(M.state == state)
        if before_id is not None:
            query = query.where(M.seller_id < before_id)
        return [_merchant(r) for r in self._sql.rows(query)]
