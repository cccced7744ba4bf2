"""The access store: API keys, staff accounts, server secrets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from tradeguard.access.model import ApiKey, Scope, StaffAccount, StaffRole
from tradeguard.adapters.storage.sql import Prepared, Sql
from tradeguard.adapters.storage.tables.access import api_keys, server_secrets, staff_accounts

K, S = api_keys.c, staff_accounts.c
_BY_LOOKUP = Prepared(select(api_keys).where(K.lookup == bindparam("lookup")))
_TOUCH = Prepared(
    update(api_keys).where(K.id == bindparam("key_id")).values(last_used_at=bindparam("at"))
)


class SqlAccessStore:
    """Implements :class:`tradeguard.access.ports.AccessStore`."""

    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    def insert_api_key(self, key: ApiKey) -> None:
        """Store a new key."""
        self._sql.run(
            api_keys.insert().values(
                id=key.id,
                name=key.name,
                lookup=key.lookup,
                secret_hash=key.secret_hash,
                scopes=sorted(s.value for s in key.scopes),
                created_at=key.created_at,
            )
        )

    def api_key_by_lookup(self, lookup: str) -> ApiKey | None:
        """The key with this lookup part."""
        row = self._sql.first(_BY_LOOKUP, {"lookup": lookup})
        return _key(row) if row else None

    def api_key(self, key_id: str) -> ApiKey | None:
        """A key by id."""
        row = self._sql.first(select(api_keys).where(K.id == key_id))
        return _key(row) if row else None

    def api_keys(self) -> list[ApiKey]:
        """Every key, newest first."""
        return [
            _key(r)
            for r in self._sql.rows(select(api_keys).order_by(K.created_at.desc(), K.id.desc()))
        ]

    def revoke_api_key(self, key_id: str, at: datetime) -> bool:
        """Revoke an active key."""
        rows = self._sql.rows(
            update(api_keys)
            .where(K.id == key_id, K.revoked_at.is_(None))
            .values(revoked_at=at)
            .returning(K.id)
        )
        return bool(rows)

    def touch_api_key(self, key_id: str, at: datetime) -> None:
        """Record use."""
        self._sql.run(_TOUCH, {"key_id": key_id, "at": at})

    def insert_staff(self, account: StaffAccount) -> None:
        """Store a new staff account."""
        self._sql.run(
            staff_accounts.insert().values(
                id=account.id,
                email=account.email,
                role=account.role.value,
                password_hash=account.password_hash,
                created_at=account.created_at,
            )
        )

    def staff_by_email(self, email: str) -> StaffAccount | None:
        """A staff account by (lower-case) email."""
        row = self._sql.first(select(staff_accounts).where(S.email == email.lower()))
        return _staff(row) if row else None

    def staff(self, staff_id: str) -> StaffAccount | None:
        """A staff account by id."""
        row = self._sql.first(select(staff_accounts).where(S.id == staff_id))
        return _staff(row) if row else None

    def update_staff_password(self, staff_id: str, password_hash: str) -> None:
        """Replace a password hash."""
        self._sql.run(
            update(staff_accounts).where(S.id == staff_id).values(password_hash=password_hash)
        )

    def staff_accounts(self) -> list[StaffAccount]:
        """Every staff account by email."""
        return [_staff(r) for r in self._sql.rows(select(staff_accounts).order_by(S.email))]

    def disable_staff(self, staff_id: str, at: datetime) -> bool:
        """Disable an active account."""
        rows = self._sql.rows(
            update(staff_accounts)
            .where(S.id == staff_id, S.disabled_at.is_(None))
            .values(disabled_at=at)
            .returning(S.id)
        )
        return bool(rows)

    def secret(self, name: str, create: str) -> str:
        """The named secret; the first process to ask stores ``create``."""
        insert = pg_insert if self._sql.is_postgresql else sqlite_insert
        self._sql.run(
            insert(server_secrets).values(name=name, value=create).on_conflict_do_nothing()
        )
        value = self._sql.scalar(
            select(server_secrets.c.value).where(server_secrets.c.name == name)
        )
        return str(value)


def _key(row: Any) -> ApiKey:
    return ApiKey(
        row.id,
        row.name,
        row.lookup,
        row.secret_hash,
        frozenset(Scope(s) for s in row.scopes),
        row.created_at,
        row.revoked_at,
        row.last_used_at,
    )


def _staff(row: Any) -> StaffAccount:
    return StaffAccount(
        row.id, row.email, StaffRole(row.role), row.password_hash, row.created_at, row.disabled_at
    )
