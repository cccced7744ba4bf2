"""A unit of work is all or nothing, however it talks to the database.

On PostgreSQL units run as the implicit transaction of a psycopg pipeline (no
BEGIN, no COMMIT; see ``uow._run_pipelined``). These tests pin down what that
must still guarantee: a unit that raises leaves nothing behind, a write that
fails at the end undoes the writes before it, savepoints and ``SET LOCAL`` work,
and a pooled connection goes back to ordinary transactions for the next unit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import bindparam, func, select, text

from tradeguard.adapters.storage.engine import make_engine
from tradeguard.adapters.storage.sql import Prepared, Sql
from tradeguard.adapters.storage.tables.ledger import ledger_accounts
from tradeguard.adapters.storage.uow import SqlUnitOfWork, SqlUnits
from tradeguard.kernel.errors import AlreadyExists

if TYPE_CHECKING:
    from tests.conftest import Database

AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _account(address: str, balance: int = 0, kind: str = "buyer_funding") -> dict[str, Any]:
    return {
        "address": address,
        "currency": "CNY",
        "kind": kind,
        "balance_minor": balance,
        "created_at": AT,
    }


def _insert(uow: SqlUnitOfWork, address: str, **kwargs: Any) -> None:
    uow.sql.run(ledger_accounts.insert().values(_account(address, **kwargs)))


def _addresses(database: Database) -> list[str]:
    with database.engine.connect() as connection:
        return sorted(connection.scalars(select(ledger_accounts.c.address)))


class Refused(Exception):
    pass


def test_a_unit_that_raises_leaves_nothing_behind(database: Database) -> None:
    units = SqlUnits(database.engine)

    def work(uow: SqlUnitOfWork) -> None:
        _insert(uow, "buyer:b1:funding")
        # a read in between makes the earlier write reach the server before the refusal
        uow.sql.scalar(select(func.count()).select_from(ledger_accounts))
        _insert(uow, "buyer:b2:funding")
        raise Refused

    with pytest.raises(Refused):
        units.run(work)

    assert _addresses(database) == []


def test_a_write_failing_at_the_end_undoes_the_writes_before_it(database: Database) -> None:
    units = SqlUnits(database.engine)

    def work(uow: SqlUnitOfWork) -> None:
        _insert(uow, "buyer:b1:funding")
        _insert(uow, "buyer:b1:funding")  # the same account again: a unique violation

    with pytest.raises(AlreadyExists):
        units.run(work)

    assert _addresses(database) == []


def test_a_check_constraint_refusal_undoes_the_whole_unit(database: Database) -> None:
    units = SqlUnits(database.engine)

    def work(uow: SqlUnitOfWork) -> None:
        _insert(uow, "buyer:b1:funding")
        # an escrow account may never go negative: the CHECK refuses the row
        _insert(uow, "escrow:order:o1", balance=-1, kind="escrow")

    with pytest.raises(Exception, match=r"non_negative|CHECK"):
        units.run(work)

    assert _addresses(database) == []


def test_a_unit_that_succeeds_is_committed_whole(database: Database) -> None:
    units = SqlUnits(database.engine)

    def work(uow: SqlUnitOfWork) -> int:
        _insert(uow, "buyer:b1:funding")
        _insert(uow, "buyer:b2:funding")
        return int(uow.sql.scalar(select(func.count()).select_from(ledger_accounts)))

    assert units.run(work) == 2
    assert _addresses(database) == ["buyer:b1:funding", "buyer:b2:funding"]


def test_a_savepoint_undoes_only_what_happened_inside_it(database: Database) -> None:
    units = SqlUnits(database.engine)

    def undone_inside_a_savepoint(uow: SqlUnitOfWork) -> None:
        with uow.savepoint():
            _insert(uow, "buyer:b2:funding")
            raise Refused

    def work(uow: SqlUnitOfWork) -> None:
        _insert(uow, "buyer:b1:funding")
        with pytest.raises(Refused):
            undone_inside_a_savepoint(uow)
        _insert(uow, "buyer:b3:funding")

    units.run(work)

    assert _addresses(database) == ["buyer:b1:funding", "buyer:b3:funding"]


def test_a_unit_that_raises_after_a_savepoint_still_leaves_nothing(database: Database) -> None:
    units = SqlUnits(database.engine)

    def work(uow: SqlUnitOfWork) -> None:
        _insert(uow, "buyer:b1:funding")
        with uow.savepoint():
            _insert(uow, "buyer:b2:funding")
        raise Refused

    with pytest.raises(Refused):
        units.run(work)

    assert _addresses(database) == []


def test_set_local_lasts_for_the_unit_only(database: Database) -> None:
    if database.backend != "postgresql":
        pytest.skip("SET LOCAL is PostgreSQL's")
    units = SqlUnits(database.engine, retries=0)
    show = text("SELECT current_setting('work_mem')")

    def inside(uow: SqlUnitOfWork) -> str:
        uow.sql.transaction_block()
        uow.sql.run(text("SET LOCAL work_mem = '77MB'"))
        return str(uow.sql.scalar(show))

    assert units.run(inside) == "77MB"
    assert units.run(lambda uow: str(uow.sql.scalar(show))) != "77MB"


def test_every_statement_of_a_unit_shares_one_transaction(database: Database) -> None:
    if database.backend != "postgresql":
        pytest.skip("transaction ids are PostgreSQL's")
    units = SqlUnits(database.engine)
    xid = text("SELECT pg_current_xact_id()::text")

    def work(uow: SqlUnitOfWork) -> tuple[str, str]:
        first = str(uow.sql.scalar(xid))
        _insert(uow, "buyer:b1:funding")
        return first, str(uow.sql.scalar(xid))

    first, last = units.run(work)
    assert first == last


def test_the_next_unit_on_a_pooled_connection_has_an_ordinary_transaction(
    database: Database,
) -> None:
    # Units that are not pipelined (the deadline worker's) rely on BEGIN ... COMMIT.
    pipelined = SqlUnits(database.engine)
    plain = SqlUnits(database.engine, pipelined=False)
    with pytest.raises(Refused):
        pipelined.run(lambda uow: (_insert(uow, "buyer:b1:funding"), _raise()))
    pipelined.run(lambda uow: _insert(uow, "buyer:b2:funding"))

    def work(uow: SqlUnitOfWork) -> None:
        _insert(uow, "buyer:b3:funding")
        raise Refused

    with pytest.raises(Refused):
        plain.run(work)
    assert _addresses(database) == ["buyer:b2:funding"]
    with database.engine.connect() as connection:
        raw: Any = connection.connection.dbapi_connection
        if database.backend == "postgresql":
            assert raw.autocommit is False


def _raise() -> None:
    raise Refused


def test_sql_outside_a_pipeline_needs_no_transaction_block(database: Database) -> None:
    # transaction_block and abandon_transaction do nothing where there is no pipeline.
    with database.engine.begin() as connection:
        sql = Sql(connection)
        sql.transaction_block()
        sql.abandon_transaction()
        sql.end_transaction_block()
        assert sql.scalar(select(func.count()).select_from(ledger_accounts)) == 0


# -- held sends and per-statement cursors (PostgreSQL) ------------------------------------------

_COUNT_ACCOUNTS = Prepared(select(func.count()).select_from(ledger_accounts))
_ADD_ACCOUNT = Prepared(
    ledger_accounts.insert().values(
        {c: bindparam(c) for c in ("address", "currency", "kind", "balance_minor", "created_at")}
    )
)


def _needs_postgresql(database: Database) -> None:
    if database.backend != "postgresql":
        pytest.skip("pipelines and psycopg cursors are PostgreSQL's")


def test_writes_wait_in_the_pipeline_until_a_read_and_the_read_sees_them(
    database: Database,
) -> None:
    _needs_postgresql(database)
    units = SqlUnits(database.engine)

    def work(uow: SqlUnitOfWork) -> tuple[int, int]:
        uow.sql.run(_ADD_ACCOUNT, _account("buyer:b1:funding"))
        uow.sql.run_many(_ADD_ACCOUNT, [_account("buyer:b2:funding")])
        raw: Any = uow.connection.connection.dbapi_connection
        held = len(raw._pipeline.command_queue)  # queued in the driver, not yet sent
        return held, int(uow.sql.scalar(_COUNT_ACCOUNTS))

    held, seen = units.run(work)
    assert held >= 2  # both writes (and a PREPARE, when psycopg's threshold is reached)
    assert seen == 2
    assert _addresses(database) == ["buyer:b1:funding", "buyer:b2:funding"]


def test_a_held_write_that_fails_undoes_the_unit_and_names_its_constraint(
    database: Database,
) -> None:
    _needs_postgresql(database)
    units = SqlUnits(database.engine, retries=0)

    def work(uow: SqlUnitOfWork) -> None:
        uow.sql.run(_ADD_ACCOUNT, _account("buyer:b1:funding"))
        uow.sql.run(_ADD_ACCOUNT, _account("buyer:b1:funding"))  # same key: refused at the Sync

    with pytest.raises(AlreadyExists):
        units.run(work)
    assert _addresses(database) == []
    # and the pool's next unit works on a healthy connection
    units.run(lambda uow: uow.sql.run(_ADD_ACCOUNT, _account("buyer:b2:funding")))
    assert _addresses(database) == ["buyer:b2:funding"]


def test_a_statement_keeps_its_own_cursor_on_a_pooled_connection(database: Database) -> None:
    _needs_postgresql(database)
    engine = make_engine(database.url, pool_size=1)  # one pooled connection for both units
    units = SqlUnits(engine)

    def cursor_of(uow: SqlUnitOfWork) -> Any:
        uow.sql.scalar(_COUNT_ACCOUNTS)
        return uow.sql._cursor(_COUNT_ACCOUNTS.compiled(uow.connection.dialect), reading=True)

    try:
        first = units.run(cursor_of)
        second = units.run(cursor_of)
    finally:
        engine.dispose()
    assert first is second
    assert first.pgresult is None  # the read's result was let go once its rows were taken
