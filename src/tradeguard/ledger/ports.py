"""What the ledger needs from storage. The SQL adapter implements it with Core statements."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from tradeguard.ledger.model import (
    AccountBalance,
    AccountKey,
    LockedAccount,
    Transfer,
    TransferRequest,
    Violation,
)


class LedgerStore(Protocol):
    """Account rows, transfer rows and the audit queries, within one unit of work."""

    def lock_accounts(
        self, keys: Sequence[AccountKey], at: datetime, watch: Sequence[AccountKey] = ()
    ) -> dict[AccountKey, LockedAccount]:
        """Create missing accounts, then lock all of them in ascending id order and return them.

        Ascending-id locking is what makes concurrent transfers over the same
        accounts deadlock-free on PostgreSQL (READ COMMITTED + FOR UPDATE).
        ``watch`` accounts are locked with them if they exist, never created, so
        that :meth:`balance` knows them without another read.
        """
        ...

    def balance(self, key: AccountKey) -> int:
        """One account's cached balance (0 if it does not exist).

        Accounts this unit of work locked are answered from what it knows of them,
        moves included; others are read.
        """
        ...

    def find_transfers(self, idempotency_keys: Sequence[str]) -> dict[str, Transfer]:
        """Return already posted transfers by idempotency key."""
        ...

    def insert_and_apply(
        self,
        requests: Sequence[TransferRequest],
        accounts: Mapping[AccountKey, LockedAccount],
        deltas: Mapping[int, int],
        at: datetime,
    ) -> dict[str, Transfer]:
        """Insert the transfers whose idempotency key is still free and return those, by key.

        Only when every one of them was inserted are ``deltas`` (account id -> change)
        added to the cached balances; otherwise the balances are left alone and the
        caller decides (replay or refusal).
        """
        ...

    def balances(
        self, address_prefix: str | None = None, addresses: Sequence[str] | None = None
    ) -> list[AccountBalance]:
        """Read cached balances, optionally of accounts whose address starts with a prefix."""
        ...

    def transfers_by_reference(self, reference: str) -> list[Transfer]:
        """Every transfer posted with ``reference``, oldest first."""
        ...

    def audit(self) -> list[Violation]:
        """Run the ledger's own invariant checks (everything but order settlement)."""
        ...
