"""The platform key store: every generation of the Ed25519 key (see signing.service on why here)."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from tradeguard.adapters.storage.sql import Sql
from tradeguard.adapters.storage.tables.messaging import platform_keys
from tradeguard.signing.model import PlatformKey

P = platform_keys.c


class SqlPlatformKeyStore:
    """Implements :class:`tradeguard.signing.ports.PlatformKeyStore`."""

    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    def keys(self) -> list[PlatformKey]:
        """Every generation, oldest first."""
        return [_key(r) for r in self._sql.rows(select(platform_keys).order_by(P.generation))]

    def current(self) -> tuple[PlatformKey, bytes] | None:
        """The newest unretired generation and its private key."""
        row = self._sql.first(
            select(platform_keys)
            .where(P.retired_at.is_(None))
            .order_by(P.generation.desc())
            .limit(1)
        )
        if row is None:
            return None
        return _key(row), base64.b64decode(row.private_key)

    def insert(self, key: PlatformKey, private_key_raw: bytes) -> None:
        """Store a generation."""
        self._sql.run(
            platform_keys.insert().values(
                key_id=key.key_id,
                generation=key.generation,
                public_key=key.public_key_b64,
                private_key=base64.b64encode(private_key_raw).decode("ascii"),
                created_at=key.created_at,
            )
        )

    def retire(self, key_id: str, at: datetime) -> None:
        """Mark a generation as no longer current."""
        self._sql.run(update(platform_keys).where(P.key_id == key_id).values(retired_at=at))


def _key(row: Any) -> PlatformKey:
    return PlatformKey(row.key_id, row.generation, row.public_key, row.created_at, row.retired_at)
