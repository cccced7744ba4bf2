"""What access management needs from storage."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from tradeguard.access.model import ApiKey, StaffAccount


class AccessStore(Protocol):
    """API keys, staff accounts and server secrets."""

    def insert_api_key(self, key: ApiKey) -> None:
        """Store a new key."""
        ...

    def api_key_by_lookup(self, lookup: str) -> ApiKey | None:
        """The key with this public lookup part."""
        ...

    def api_key(self, key_id: str) -> ApiKey | None:
        """A key by id."""
        ...

    def api_keys(self) -> list[ApiKey]:
        """Every key, newest first."""
        ...

    def revoke_api_key(self, key_id: str, at: datetime) -> bool:
        """Revoke a key; False if there is no such active key."""
        ...

    def touch_api_key(self, key_id: str, at: datetime) -> None:
        """Record that the key was used."""
        ...

    def insert_staff(self, account: StaffAccount) -> None:
        """Store a new staff account (emails are unique)."""
        ...

    def staff_by_email(self, email: str) -> StaffAccount | None:
        """A staff account by email (case-insensitive)."""
        ...

    def staff(self, staff_id: str) -> StaffAccount | None:
        """A staff account by id."""
        ...

    def update_staff_password(self, staff_id: str, password_hash: str) -> None:
        """Replace a password hash (after a rehash)."""
        ...

    def staff_accounts(self) -> list[StaffAccount]:
        """Every staff account."""
        ...

    def disable_staff(self, staff_id: str, at: datetime) -> bool:
        """Disable an account; False if there is no such active account."""
        ...

    def secret(self, name: str, create: str) -> str:
        """The server secret called ``name``, storing ``create`` first if there is none yet."""
        ...


class AccessUnitOfWork(Protocol):
    """A unit of work with the access store."""

    @property
    def access(self) -> AccessStore:
        """API keys and staff."""
        ...
