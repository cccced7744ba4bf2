"""Idempotency-Key records for the HTTP API (IETF draft "The Idempotency-Key HTTP Header Field").

A key is scoped to the caller that sent it. The first request with a key claims
it ("running", with a lease); a retry with the same request gets the stored
response, with a different request 422, and while the first is still running
409. A request that crashed mid-way releases its claim when the lease runs out,
so a later retry may run it again — safe because every money movement and every
creation below the API is itself idempotent.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from tradeguard.adapters.storage.tables.api import idempotency_keys

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
I = idempotency_keys.c  # noqa: E741 - the table's columns, as elsewhere


class Claim(StrEnum):
    """What the first look at a key says to do."""

    EXECUTE = "execute"  #: new (or expired, or abandoned) key: run the request
    REPLAY = "replay"  #: same request already answered: send the stored response
    MISMATCH = "mismatch"  #: the key was used for a different request
    IN_PROGRESS = "in_progress"  #: the first request with this key is still running


@dataclass(frozen=True)
class StoredResponse:
    """A response kept for replay."""

    status_code: int
    body: str
    headers: dict[str, str]


@dataclass(frozen=True)
class ClaimResult:
    """The outcome of claiming a key, with the stored response for REPLAY."""

    claim: Claim
    response: StoredResponse | None = None
    #: When this use of the key began. A key reused after it expired is a new use and must
    #: create new things; a retry after an abandoned run is the same use and must not.
    generation: datetime | None = None

    @property
    def use(self) -> str:
        """A stable name for this use of the key (part of the request key)."""
        if self.generation is None:
            return ""
        return str((self.generation - _EPOCH) // timedelta(microseconds=1))


class IdempotencyStore:
    """Claims, completes and forgets Idempotency-Key records."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert

    def claim(
        self,
        principal: str,
        key: str,
        fingerprint: str,
        now: datetime,
        lease: timedelta,
        retention: timedelta,
    ) -> ClaimResult:
        """Claim ``key`` for this request, or say why not (one short transaction)."""
        values = {
            "principal": principal,
            "key": key,
            "fingerprint": fingerprint,
            "state": "running",
            "locked_until": now + lease,
            "created_at": now,
            "expires_at": now + retention,
        }
        with self._engine.begin() as conn:
            inserted = conn.execute(
                self._insert(idempotency_keys)
                .values(values)
                .on_conflict_do_nothing()
                .returning(I.key)
            ).first()
            if inserted is not None:
                return ClaimResult(Claim.EXECUTE, generation=now)
            row = conn.execute(
                select(idempotency_keys)
                .where(I.principal == principal, I.key == key)
                .with_for_update()
            ).first()
            if row is None:  # deleted between the two statements: the caller may retry
                return ClaimResult(Claim.IN_PROGRESS)
            expired = row.expires_at <= now
            abandoned = row.state == "running" and row.locked_until <= now
            if expired or (abandoned and row.fingerprint == fingerprint):
                # An abandoned run may have committed before it died: the retry keeps its
                # generation so it finds what the first run made instead of making it again.
                generation = now if expired else row.created_at
                conn.execute(
                    update(idempotency_keys)
                    .where(I.principal == principal, I.key == key)
                    .values(
                        {k: v for k, v in values.items() if k not in ("principal", "key")}
                        | {"created_at": generation}
                    )
                )
                return ClaimResult(Claim.EXECUTE, generation=generation)
            if row.fingerprint != fingerprint:
                return ClaimResult(Claim.MISMATCH)
            if row.state == "done":
                return ClaimResult(
                    Claim.REPLAY,
                    StoredResponse(
                        row.status_code, row.response_body or "", dict(row.response_headers or {})
                    ),
                )
            return ClaimResult(Claim.IN_PROGRESS)

    def complete(self, principal: str, key: str, response: StoredResponse) -> None:
        """Keep the response for replays."""
        with self._engine.begin() as conn:
            conn.execute(
                update(idempotency_keys)
                .where(I.principal == principal, I.key == key)
                .values(
                    state="done",
                    status_code=response.status_code,
                    response_body=response.body,
                    response_headers=response.headers,
                )
            )

    def release(self, principal: str, key: str) -> None:
        """Forget a claim whose request failed transiently, so a retry runs it again."""
        with self._engine.begin() as conn:
            conn.execute(delete(idempotency_keys).where(I.principal == principal, I.key == key))

    def sweep(self, now: datetime) -> int:
        """Delete records past their retention; return how many."""
        with self._engine.begin() as conn:
            result: Any = conn.execute(
                delete(idempotency_keys).where(I.expires_at <= bindparam("now")), {"now": now}
            )
            return int(result.rowcount)


def fingerprint_of(method: str, path: str, body: bytes) -> str:
    """SHA-256 over method, path and the body with JSON canonicalised (key order does not matter)."""
    try:
        canonical = json.dumps(
            json.loads(body or b"null"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        payload = canonical.encode()
    except ValueError:
        payload = body
    digest = hashlib.sha256()
    for part in (method.upper().encode(), b"\n", path.encode(), b"\n", payload):
        digest.update(part)
    return digest.hexdigest()
