"""What the merchants context needs from storage."""

from __future__ import annotations

from typing import Protocol

from tradeguard.events.ports import Outbox
from tradeguard.kernel.uow import SavepointCapable
from tradeguard.ledger.ports import LedgerStore
from tradeguard.merchants.model import Merchant, MerchantDocument
from tradeguard.reputation.ports import ReputationStore


class MerchantStore(Protocol):
    """Verification records and their documents."""

    def get(self, seller_id: str, *, lock: bool = False) -> Merchant | None:
        """One seller's record, with its documents."""
        ...

    def insert(self, merchant: Merchant) -> None:
        """Store a new record."""
        ...

    def update(self, merchant: Merchant) -> None:
        """Write back a record's mutable fields."""
        ...

    def add_document(self, seller_id: str, document: MerchantDocument) -> bool:
        """Attach a document (idempotent per sha256); False if it was already attached."""
        ...

    def find(self, state: str | None, *, before_id: str | None, limit: int) -> list[Merchant]:
        """Records by seller id descending (without documents)."""
        ...


class MerchantsUnitOfWork(SavepointCapable, Protocol):
    """What a merchant use case touches in one transaction."""

    @property
    def merchants(self) -> MerchantStore:
        """Verification records."""
        ...

    @property
    def ledger(self) -> LedgerStore:
        """Accounts and transfers (the deposit)."""
        ...

    @property
    def reputation(self) -> ReputationStore:
        """Seller figures (the category)."""
        ...

    @property
    def outbox(self) -> Outbox:
        """Domain events."""
        ...
