"""The ledger store in SQLAlchemy Core: the money hot path, so no ORM here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, BigInteger, Row, String, bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.types import TypeEngine

from tradeguard.adapters.storage.sql import DIALECTS, Prepared, Sql, in_list
from tradeguard.adapters.storage.tables.ledger import (
    NON_NEGATIVE_KINDS,
    ledger_accounts,
    ledger_transfers,
)
from tradeguard.kernel.errors import ValidationFailed
from tradeguard.kernel.money import Money
from tradeguard.ledger.model import (
    AccountBalance,
    AccountKey,
    AccountKind,
    Invariant,
    LockedAccount,
    Transfer,
    TransferReason,
    TransferRequest,
    Violation,
    classify,
)

A, T = ledger_accounts.c, ledger_transfers.c
_SRC, _DST = ledger_accounts.alias("src"), ledger_accounts.alias("dst")

#: Create the accounts that do not exist yet (each locked by its insert until commit) and
#: lock the others in ascending id order. The two parts see the same snapshot, so an
#: account is returned by exactly one of them; new keys are inserted in key order. A key
#: without a kind is only watched: locked if it exists, never created.
_LOCK_OR_CREATE_SQL = """
WITH wanted AS (
    SELECT w.address, w.currency, w.kind, w.n
    FROM unnest(:addresses, :currencies, :kinds) WITH ORDINALITY AS w(address, currency, kind, n)
), created AS (
    INSERT INTO ledger_accounts (address, currency, kind, created_at)
    SELECT address, currency, kind, :at FROM wanted WHERE kind IS NOT NULL ORDER BY n
    ON CONFLICT (address, currency) DO NOTHING
    RETURNING id, address, currency, balance_minor
), existing AS (
    SELECT acc.id, acc.address, acc.currency, acc.balance_minor
    FROM ledger_accounts AS acc
    JOIN wanted ON acc.address = wanted.address AND acc.currency = wanted.currency
    ORDER BY acc.id
    FOR UPDATE OF acc
)
SELECT id, address, currency, balance_minor FROM existing
UNION ALL
SELECT id, address, currency, balance_minor FROM created
"""

#: Insert the transfers whose idempotency key is free; move the cached balances only when
#: every one was (otherwise the caller sees which were replays and moves nothing). The
#: CHECK constraints on ``ledger_accounts`` still refuse a forbidden negative balance.
_POST_SQL = """
WITH new AS (
    INSERT INTO ledger_transfers (idempotency_key, source_account_id, destination_account_id,
                                  currency, amount_minor, reference, reason, created_at)
    SELECT k, s, d, c, a, r, why, :at
    FROM unnest(:keys, :sources, :destinations, :currencies, :amounts, :references, :reasons)
         AS t(k, s, d, c, a, r, why)
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id, idempotency_key
), moved AS (
    UPDATE ledger_accounts AS acc SET balance_minor = acc.balance_minor + m.delta
    FROM unnest(:account_ids, :deltas) AS m(account_id, delta)
    WHERE acc.id = m.account_id AND (SELECT count(*) FROM new) = :expected
    RETURNING acc.id
)
SELECT id, idempotency_key FROM new
"""


class _Statements:
    """The hot-path statements, built once per dialect so each execution only binds values."""

    def __init__(self, dialect: str) -> None:
        columns = (A.id, A.address, A.currency, A.balance_minor)
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        self.lock = Prepared(
            select(*columns)
            .where(
                in_list(A.address, "addresses", dialect), in_list(A.currency, "currencies", dialect)
            )
            .order_by(A.id)
            .with_for_update()
        )
        self.add = Prepared(
            update(ledger_accounts)
            .where(A.id == bindparam("account_id"))
            .values(balance_minor=A.balance_minor + bindparam("delta"))
        )
        self.create = Prepared(
            insert(ledger_accounts)
            .values({c: bindparam(c) for c in ("address", "currency", "kind", "created_at")})
            .on_conflict_do_nothing(index_elements=["address", "currency"])
            .returning(*columns)
        )
        self.insert = Prepared(
            insert(ledger_transfers)
            .values(
                {
                    c: bindparam(c)
                    for c in (
                        "idempotency_key",
                        "source_account_id",
                        "destination_account_id",
                        "currency",
                        "amount_minor",
                        "reference",
                        "reason",
                        "created_at",
                    )
                }
            )
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(T.id, T.idempotency_key)
        )
        # PostgreSQL posts a whole set of transfers in one statement: the inserts, then the
        # balance moves only if every key was free. Per statement, the driver and the server
        # each spend more than the row work costs, and a release posts two or three transfers.
        self.post = _postgresql_only(
            dialect,
            _POST_SQL,
            {
                **{array: type_ for array, _, type_ in _POST_COLUMNS},
                "account_ids": BigInteger(),
                "deltas": BigInteger(),
            },
        )
        # PostgreSQL creates the missing accounts and locks the rest in one statement: a
        # payment always opens its order's escrow account, and a round trip saved there is
        # one wait (and two context switches) fewer on every payment.
        self.lock_or_create = _postgresql_only(
            dialect,
            _LOCK_OR_CREATE_SQL,
            {"addresses": String(), "currencies": String(), "kinds": String()},
        )
        # Settlement asks for one or two exact accounts on every release.
        self.balances_of = Prepared(
            select(A.address, A.currency, A.kind, A.balance_minor)
            .where(in_list(A.address, "addresses", dialect))
            .order_by(A.address, A.currency)
        )
        self.find = Prepared(
            select(
                ledger_transfers,
                _SRC.c.address.label("source"),
                _DST.c.address.label("destination"),
            )
            .join(_SRC, _SRC.c.id == T.source_account_id)
            .join(_DST, _DST.c.id == T.destination_account_id)
            .where(in_list(T.idempotency_key, "keys", dialect))
        )


def _postgresql_only(
    dialect: str, sql: str, arrays: Mapping[str, TypeEngine[Any]]
) -> Prepared | None:
    """A PostgreSQL statement whose parameters ``arrays`` are typed arrays; None elsewhere."""
    if dialect != "postgresql":
        return None
    return Prepared(
        text(sql).bindparams(*(bindparam(name, type_=ARRAY(t)) for name, t in arrays.items()))
    )


#: The per-transfer arrays of ``_POST_SQL``: (parameter, transfer row column, element type).
_POST_COLUMNS: tuple[tuple[str, str, TypeEngine[Any]], ...] = (
    ("keys", "idempotency_key", String()),
    ("sources", "source_account_id", BigInteger()),
    ("destinations", "destination_account_id", BigInteger()),
    ("currencies", "currency", String()),
    ("amounts", "amount_minor", BigInteger()),
    ("references", "reference", String()),
    ("reasons", "reason", String()),
)

_STATEMENTS = {name: _Statements(name) for name in DIALECTS}


class SqlLedgerStore:
    """Implements :class:`tradeguard.ledger.ports.LedgerStore`."""

    def __init__(self, sql: Sql) -> None:
        self._sql = sql
        self._q = _STATEMENTS[sql.dialect]
        # What this unit of work knows for sure: the accounts it holds locked (the same
        # objects the ledger service moves after posting) and watched ones that did not exist.
        self._held: dict[AccountKey, LockedAccount] = {}
        self._absent: set[AccountKey] = set()

    def lock_accounts(
        self, keys: Sequence[AccountKey], at: datetime, watch: Sequence[AccountKey] = ()
    ) -> dict[AccountKey, LockedAccount]:
        """Lock the accounts in ascending id order, creating the missing ones (locked as inserted).

        ``watch`` accounts are locked too if they exist, and never created.
        """
        watched = set(watch) - set(keys)
        if self._q.lock_or_create is not None:
            ordered = sorted(set(keys), key=lambda k: (k.address, k.currency))
            ordered += sorted(watched, key=lambda k: (k.address, k.currency))
            locked = self._lock_or_create(self._q.lock_or_create, ordered, watched, at)
        else:
            locked = self._lock_then_create(keys, watched, at)
        self._held.update(locked)
        self._absent |= {k for k in watched if k not in locked}
        self._absent -= locked.keys()
        return locked

    def balance(self, key: AccountKey) -> int:
        """The cached balance of one account (0 if it does not exist); see the port."""
        held = self._held.get(key)
        if held is not None:
            return held.balance_minor
        if key in self._absent:
            return 0
        rows = self._sql.rows(self._q.balances_of, {"addresses": [key.address]})
        return sum(r.balance_minor for r in rows if r.currency == key.currency)

    def _lock_then_create(
        self, keys: Sequence[AccountKey], watched: set[AccountKey], at: datetime
    ) -> dict[AccountKey, LockedAccount]:
        wanted = set(keys) | watched
        locked = self._lock([*keys, *watched], wanted)
        missing = [k for k in keys if k not in locked]
        if missing:
            rows = [
                {
                    "address": k.address,
                    "currency": k.currency,
                    "kind": classify(k.address).kind.value,
                    "created_at": at,
                }
                for k in missing
            ]
            # A row this transaction inserted is locked by it until commit; a row a
            # concurrent transaction inserted first comes back empty here and is locked below.
            for row in self._sql.rows_many(self._q.create, rows):
                key = AccountKey(row.address, row.currency)
                locked[key] = LockedAccount(
                    row.id, key, row.balance_minor, classify(row.address).may_go_negative
                )
            still_missing = [k for k in missing if k not in locked]
            if still_missing:
                locked.update(self._lock(still_missing, set(still_missing)))
        return locked

    def _lock_or_create(
        self,
        statement: Prepared,
        keys: Sequence[AccountKey],
        watched: set[AccountKey],
        at: datetime,
    ) -> dict[AccountKey, LockedAccount]:
        params = {
            "addresses": [k.address for k in keys],
            "currencies": [k.currency for k in keys],
            # A watched account has no kind here, so the statement does not create it.
            "kinds": [None if k in watched else classify(k.address).kind.value for k in keys],
            "at": at,
        }
        locked = {}
        for row in self._sql.rows(statement, params):
            key = AccountKey(row.address, row.currency)
            locked[key] = LockedAccount(
                row.id, key, row.balance_minor, classify(row.address).may_go_negative
            )
        # A row a concurrent transaction committed after this statement's snapshot was
        # neither created nor seen: lock it now that it is there.
        still_missing = [k for k in keys if k not in locked and k not in watched]
        if still_missing:
            locked.update(self._lock(still_missing, set(still_missing)))
        return locked

    def _lock(
        self, keys: Sequence[AccountKey], wanted: set[AccountKey]
    ) -> dict[AccountKey, LockedAccount]:
        params = {
            "addresses": sorted({k.address for k in keys}),
            "currencies": sorted({k.currency for k in keys}),
        }
        locked = {}
        for row in self._sql.rows(self._q.lock, params):
            key = AccountKey(row.address, row.currency)
            if key in wanted:
                locked[key] = LockedAccount(
                    row.id, key, row.balance_minor, classify(row.address).may_go_negative
                )
        return locked

    def find_transfers(self, idempotency_keys: Sequence[str]) -> dict[str, Transfer]:
        """Already posted transfers by idempotency key."""
        rows = self._sql.rows(self._q.find, {"keys": list(idempotency_keys)})
        return {row.idempotency_key: _transfer(row) for row in rows}

    def insert_and_apply(
        self,
        requests: Sequence[TransferRequest],
        accounts: Mapping[AccountKey, LockedAccount],
        deltas: Mapping[int, int],
        at: datetime,
    ) -> dict[str, Transfer]:
        """Insert transfers whose key is free and, if all were, move the cached balances."""
        rows = [
            {
                "idempotency_key": r.idempotency_key,
                "source_account_id": accounts[AccountKey(r.source, r.amount.currency)].id,
                "destination_account_id": accounts[AccountKey(r.destination, r.amount.currency)].id,
                "currency": r.amount.currency,
                "amount_minor": r.amount.amount_minor,
                "reference": r.reference,
                "reason": r.reason.value,
                "created_at": at,
            }
            for r in requests
        ]
        if self._q.post is not None:
            ordered = sorted(deltas)
            returned = self._sql.rows(
                self._q.post,
                {
                    **{array: [r[column] for r in rows] for array, column, _ in _POST_COLUMNS},
                    "at": at,
                    "expected": len(rows),
                    "account_ids": ordered,
                    "deltas": [deltas[i] for i in ordered],
                },
            )
        else:
            returned = self._sql.rows_many(self._q.insert, rows)
            if len(returned) == len(rows) and deltas:
                self._sql.run_many(
                    self._q.add,
                    [{"account_id": i, "delta": d} for i, d in sorted(deltas.items())],
                )
        ids = {row.idempotency_key: row.id for row in returned}
        return {
            r.idempotency_key: Transfer(
                r.source,
                r.destination,
                r.amount,
                r.idempotency_key,
                r.reference,
                r.reason,
                id=ids[r.idempotency_key],
                created_at=at,
            )
            for r in requests
            if r.idempotency_key in ids
        }

    def balances(
        self, address_prefix: str | None = None, addresses: Sequence[str] | None = None
    ) -> list[AccountBalance]:
        """Cached balances, by address prefix or exact addresses, ordered by address."""
        if addresses is not None and address_prefix is None:
            rows = self._sql.rows(self._q.balances_of, {"addresses": list(addresses)})
            return [
                AccountBalance(r.address, r.currency, AccountKind(r.kind), r.balance_minor)
                for r in rows
            ]
        query = select(A.address, A.currency, A.kind, A.balance_minor).order_by(
            A.address, A.currency
        )
        if address_prefix is not None:
            # LIKE uses the index; SQLite's LIKE ignores case, so the exact prefix is checked
            # too (buyer "B1" must not see buyer "b1"'s accounts).
            query = query.where(
                A.address.startswith(address_prefix, autoescape=True),
                func.substr(A.address, 1, len(address_prefix)) == address_prefix,
            )
        if addresses is not None:
            query = query.where(A.address.in_(list(addresses)))
        return [
            AccountBalance(row.address, row.currency, AccountKind(row.kind), row.balance_minor)
            for row in self._sql.rows(query)
        ]

    def transfers_by_reference(self, reference: str) -> list[Transfer]:
        """Transfers posted with ``reference``, oldest first."""
        rows = self._sql.rows(
            select(
                ledger_transfers,
                _SRC.c.address.label("source"),
                _DST.c.address.label("destination"),
            )
            .join(_SRC, _SRC.c.id == T.source_account_id)
            .join(_DST, _DST.c.id == T.destination_account_id)
            .where(T.reference == reference)
            .order_by(T.id)
        )
        return [_transfer(row) for row in rows]

    def audit(self) -> list[Violation]:
        """Check the ledger's own invariants; every violation found is returned, none hidden."""
        violations: list[Violation] = []
        sums = select(A.currency, func.sum(A.balance_minor).label("total")).group_by(A.currency)
        for currency, total in self._sql.rows(sums.having(func.sum(A.balance_minor) != 0)):
            violations.append(
                Violation(
                    Invariant.BALANCES_SUM_TO_ZERO, f"{currency} balances sum to {total}, not 0"
                )
            )
        for address, currency, cached, computed in self._sql.rows(text(_CACHED_BALANCE_SQL)):
            violations.append(
                Violation(
                    Invariant.CACHED_BALANCE_MATCHES_TRANSFERS,
                    f"account {address} ({currency}) caches {cached} but its transfers sum to {computed}",
                )
            )
        negative = select(A.address, A.currency, A.balance_minor).where(
            A.balance_minor < 0, A.kind.in_(NON_NEGATIVE_KINDS)
        )
        for address, currency, balance in self._sql.rows(negative):
            violations.append(
                Violation(
                    Invariant.NON_NEGATIVE_ACCOUNTS,
                    f"account {address} ({currency}) holds {balance}",
                )
            )
        # A kind that contradicts the address would let a never-negative account escape the CHECK.
        for address, kind in self._sql.rows(select(A.address, A.kind)):
            try:
                expected = classify(address).kind.value
            except ValidationFailed:
                expected = "(no valid kind)"
            if expected != kind:
                violations.append(
                    Violation(
                        Invariant.NON_NEGATIVE_ACCOUNTS,
                        f"account {address} is recorded as {kind} but its address makes it {expected}",
                    )
                )
        for tid, key, amount, currency, src_cur, dst_cur in self._sql.rows(
            text(_MALFORMED_TRANSFERS_SQL)
        ):
            violations.append(
                Violation(
                    Invariant.TRANSFERS_WELL_FORMED,
                    f"transfer {tid} ({key}) moves {amount} {currency} from a {src_cur} account to a {dst_cur} account",
                )
            )
        return violations


_CACHED_BALANCE_SQL = """
SELECT a.address, a.currency, a.balance_minor,
       COALESCE(i.total, 0) - COALESCE(o.total, 0) AS computed
FROM ledger_accounts a
LEFT JOIN (SELECT destination_account_id AS account_id, SUM(amount_minor) AS total
           FROM ledger_transfers GROUP BY destination_account_id) i ON i.account_id = a.id
LEFT JOIN (SELECT source_account_id AS account_id, SUM(amount_minor) AS total
           FROM ledger_transfers GROUP BY source_account_id) o ON o.account_id = a.id
WHERE a.balance_minor <> COALESCE(i.total, 0) - COALESCE(o.total, 0)
ORDER BY a.address
"""

_MALFORMED_TRANSFERS_SQL = """
SELECT t.id, t.idempotency_key, t.amount_minor, t.currency,
       s.currency AS source_currency, d.currency AS destination_currency
FROM ledger_transfers t
JOIN ledger_accounts s ON s.id = t.source_account_id
JOIN ledger_accounts d ON d.id = t.destination_account_id
WHERE t.amount_minor <= 0
   OR t.source_account_id = t.destination_account_id
   OR s.currency <> t.currency
   OR d.currency <> t.currency
ORDER BY t.id
"""


def _transfer(row: Row[Any]) -> Transfer:
    return Transfer(
        row.source,
        row.destination,
        Money(row.amount_minor, row.currency),
        row.idempotency_key,
        row.reference,
        TransferReason(row.reason),
        id=row.id,
        created_at=row.created_at,
    )
