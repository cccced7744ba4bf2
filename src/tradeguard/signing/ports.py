"""What the platform keys need from storage."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from tradeguard.signing.model import PlatformKey


class PlatformKeyStore(Protocol):
    """Every generation of the platform key; the newest unretired one is current."""

    def keys(self) -> list[PlatformKey]:
        """Every generation, oldest first."""
        ...

    def current(self) -> tuple[PlatformKey, bytes] | None:
        """The current key and its raw 32-byte private key, or None before the first key."""
        ...

    def insert(self, key: PlatformKey, private_key_raw: bytes) -> None:
        """Store a new generation (its generation number is unique)."""
        ...

    def retire(self, key_id: str, at: datetime) -> None:
        """Mark a generation as no longer current."""
        ...


class SigningUnitOfWork(Protocol):
    """What key management touches in one transaction."""

    @property
    def platform_keys(self) -> PlatformKeyStore:
        """The key generations."""
        ...
