"""Units of work over SQLAlchemy Core connections, with retries of transient conflicts."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import psycopg
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from tradeguard.adapters.storage.access import SqlAccessStore
from tradeguard.adapters.storage.aftersales import SqlRefundStore
from tradeguard.adapters.storage.deadlines import SqlDeadlineStore
from tradeguard.adapters.storage.disputes import SqlDisputeStore
from tradeguard.adapters.storage.ledger import SqlLedgerStore
from tradeguard.adapters.storage.merchants import SqlMerchantStore
from tradeguard.adapters.storage.messaging import SqlMessagingStore
from tradeguard.adapters.storage.orders import SqlOrderStore
from tradeguard.adapters.storage.outbox import SqlOutbox
from tradeguard.adapters.storage.reputation import SqlReputationStore
from tradeguard.adapters.storage.reviews import SqlReviewStore
from tradeguard.adapters.storage.risk import SqlRiskSignalStore
from tradeguard.adapters.storage.signing import SqlPlatformKeyStore
from tradeguard.adapters.storage.sql import Sql
from tradeguard.adapters.storage.webhooks import SqlWebhookStore
from tradeguard.kernel.errors import AlreadyExists, TransientFailure
from tradeguard.messaging.model import SeqTaken

T = TypeVar("T")

#: SQLSTATEs after which the whole unit of work may simply be run again.
_RETRYABLE_SQLSTATES = frozenset(
    {"40001", "40P01", "55P03"}
)  # serialization, deadlock, lock timeout


#: Unique violations a context handles itself, by constraint (PostgreSQL name, SQLite columns).
_CONSTRAINT_ERRORS: dict[str, type[AlreadyExists]] = {
    "pk_messages": SeqTaken,
    "messages.conversation_id, messages.seq": SeqTaken,
}


class SqlUnitOfWork:
    """One transaction on one connection, with a store per context."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.sql = Sql(connection)
        self.ledger = SqlLedgerStore(self.sql)
        self.orders = SqlOrderStore(self.sql)
        self.deadlines = SqlDeadlineStore(self.sql)
        self.outbox = SqlOutbox(self.sql)
        self.access = SqlAccessStore(self.sql)
        self.webhooks = SqlWebhookStore(self.sql)
        self.aftersales = SqlRefundStore(self.sql)
        self.disputes = SqlDisputeStore(self.sql)
        self.messaging = SqlMessagingStore(self.sql)
        self.platform_keys = SqlPlatformKeyStore(self.sql)
        self.risk_signals = SqlRiskSignalStore(self.sql)
        self.reviews = SqlReviewStore(self.sql)
        self.reputation = SqlReputationStore(self.sql)
        self.merchants = SqlMerchantStore(self.sql)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction: an exception inside undoes only what happened inside."""
        self.sql.transaction_block()
        with self.connection.begin_nested():
            yield


class SqlUnits:
    """Runs use cases in units of work; implements the domain's UnitOfWorkRunner."""

    def __init__(self, engine: Engine, *, retries: int = 4, pipelined: bool = True) -> None:
        self.engine = engine
        self._retries = retries
        self._pipelined = pipelined and engine.dialect.name == "postgresql"

    def run(self, work: Callable[[SqlUnitOfWork], T]) -> T:
        """Run ``work`` in a transaction and commit; retry deadlocks and serialization failures.

        On PostgreSQL the unit runs in psycopg pipeline mode: writes whose result
        the use case does not read are sent without waiting, and reach the server
        together with the end of the transaction. Reads still wait for their rows.
        """
        attempt = 0
        while True:
            try:
                with self.engine.begin() as connection:
                    if not self._pipelined:
                        return work(SqlUnitOfWork(connection))
                    return _run_pipelined(connection, work)
            except (DBAPIError, psycopg.Error) as exc:
                if _is_unique_violation(exc):
                    constraint = _constraint_name(exc)
                    raise _CONSTRAINT_ERRORS.get(constraint, AlreadyExists)(
                        "Something with the same identity was just created; retry to read it.",
                        constraint=constraint,
                    ) from None
                if not _is_transient(exc):
                    raise
                attempt += 1
                if attempt > self._retries:
                    raise TransientFailure("The database stayed busy; retry the request.") from exc
                # Jittered backoff so colliding transactions do not collide again in lockstep.
                time.sleep(random.uniform(0, 0.005 * 2**attempt))  # noqa: S311 - jitter, not secrecy


def _run_pipelined(connection: Connection, work: Callable[[SqlUnitOfWork], T]) -> T:
    """Run ``work`` as one implicit transaction of a psycopg pipeline.

    PostgreSQL runs everything a pipeline sends before its Sync as one transaction,
    committed at the Sync if nothing failed and rolled back if anything did; a unit
    that raises (a refused request, say) queues a ROLLBACK before that Sync. So the
    unit sends no BEGIN and no COMMIT: two statements fewer per unit, each of which
    costs the driver and the server more than the row work of a typical write. The
    connection is in autocommit mode only for the pipeline's lifetime (psycopg would
    otherwise open its own transaction); a unit that needs a transaction block —
    savepoints, ``SET LOCAL`` — asks for one with ``Sql.transaction_block``.
    """
    raw: Any = connection.connection.dbapi_connection
    raw.autocommit = True
    try:
        with _discard_on_server_error(connection), raw.pipeline():
            unit = SqlUnitOfWork(connection)
            unit.sql.hold_sends()
            try:
                result = work(unit)
            except BaseException:
                # The Sync that ends the pipeline would commit what the unit already sent.
                unit.sql.abandon_transaction()
                raise
            unit.sql.end_transaction_block()
        return result
    finally:
        try:
            raw.autocommit = False
        except psycopg.Error:
            # Still busy after a failure: this connection must not serve another unit.
            connection.invalidate()


@contextmanager
def _discard_on_server_error(connection: Connection) -> Iterator[None]:
    """Let no connection whose pipeline failed on the server serve another unit.

    After a failed statement the server skips the rest of the pipeline, including a
    PREPARE that psycopg queued there (it prepares a statement on its sixth run) and
    still records as done; every later use of that statement on the connection would
    fail. A refused write is routine (a lost append race, a duplicate key), so such a
    connection is dropped and the pool opens a fresh one.
    """
    try:
        yield
    except psycopg.Error:
        connection.invalidate()
        raise


def _driver_error(exc: DBAPIError | psycopg.Error) -> object:
    # Statements run on psycopg directly raise psycopg errors; SQLAlchemy wraps the rest.
    return exc.orig if isinstance(exc, DBAPIError) else exc


def _is_transient(exc: DBAPIError | psycopg.Error) -> bool:
    error = _driver_error(exc)
    if getattr(error, "sqlstate", None) in _RETRYABLE_SQLSTATES:
        return True
    return "database is locked" in str(error)


def _is_unique_violation(exc: DBAPIError | psycopg.Error) -> bool:
    error = _driver_error(exc)
    return getattr(error, "sqlstate", None) == "23505" or "UNIQUE constraint failed" in str(error)


def _constraint_name(exc: DBAPIError | psycopg.Error) -> str:
    error = _driver_error(exc)
    diag = getattr(error, "diag", None)
    name = getattr(diag, "constraint_name", None)
    return str(name) if name else str(error).split(":", 1)[-1].strip()[:200]
