"""Executing Core statements cheaply, and the same way on every path of a unit of work.

Statements are SQLAlchemy Core constructs. On SQLite they run through
SQLAlchemy as usual. On PostgreSQL — the production hot path — they are
compiled by SQLAlchemy and executed directly on the connection's psycopg
cursor, skipping SQLAlchemy's per-execution machinery, which measured as costly
as the round trip itself. Hot-path statements are wrapped in :class:`Prepared`
at import so they compile once per process; anything else compiles per call.

Units of work on PostgreSQL run in psycopg's pipeline mode as the pipeline's
implicit transaction (see ``uow._run_pipelined``): writes whose result nobody
reads are held back and leave in one send with the next read, or with the Sync
that commits them (:meth:`Sql.hold_sends`). Every statement of such a unit must
therefore go through :class:`Sql` — SQLAlchemy's own result handling cannot see
rows of a pipelined query. Each :class:`Prepared` statement runs on a cursor of
its own per connection, which keeps psycopg's parameter adapters warm.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from psycopg.rows import namedtuple_row
from psycopg.types.json import Jsonb
from sqlalchemy import (
    ARRAY,
    JSON,
    BigInteger,
    Connection,
    Executable,
    Integer,
    String,
    any_,
    bindparam,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.compiler import Compiled
from sqlalchemy.types import TypeDecorator

Params = Mapping[str, Any]


class _CompiledPg:
    """A statement compiled for psycopg: SQL text, literal values, and which binds are JSON."""

    __slots__ = ("defaults", "json_params", "lasting", "sql")

    def __init__(self, compiled: Compiled, *, with_values: bool) -> None:
        binds = compiled.binds  # type: ignore[attr-defined]
        self.sql = compiled.string
        #: Compiled once for the process (a :class:`Prepared`), not for one call.
        self.lasting = not with_values
        self.json_params = frozenset(
            name for name, bind in binds.items() if isinstance(_impl(bind.type), JSON)
        )
        # Literals (``state = 'pending'``) and, for ad-hoc statements, the values given in
        # Python compile to binds that carry their value.
        if with_values:
            self.defaults = dict(compiled.construct_params(_check=False) or {})  # type: ignore[call-arg]
        else:
            self.defaults = {name: bind.value for name, bind in binds.items() if not bind.required}

    def bind(self, params: Params | None) -> dict[str, Any]:
        values = {**self.defaults, **(params or {})}
        for name in self.json_params:
            value = values.get(name)
            if value is not None and not isinstance(value, Jsonb):
                values[name] = Jsonb(value)
        return values


def _impl(type_: Any) -> Any:
    variant = getattr(type_, "_variant_mapping", {}).get("postgresql")
    if variant is not None:
        type_ = variant
    return type_.impl if isinstance(type_, TypeDecorator) else type_


class Prepared:
    """A long-lived statement, compiled once per dialect the first time it runs."""

    __slots__ = ("_compiled", "_lock", "statement")

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: dict[str, _CompiledPg] = {}
        self._lock = threading.Lock()

    def compiled(self, dialect: Dialect) -> _CompiledPg:
        """The statement compiled for ``dialect`` (cached)."""
        found = self._compiled.get(dialect.name)
        if found is None:
            with self._lock:
                found = self._compiled.get(dialect.name)
                if found is None:
                    found = _CompiledPg(self.statement.compile(dialect=dialect), with_values=False)  # type: ignore[attr-defined]
                    self._compiled[dialect.name] = found
        return found


Statement = Prepared | Executable


class Sql:
    """Runs Core statements on one connection (see the module docstring)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name
        self.is_postgresql = self.dialect == "postgresql"
        self._raw: Any = connection.connection.dbapi_connection if self.is_postgresql else None
        # Kept with the pooled connection: creating a psycopg cursor costs as much as binding
        # a query, so no unit makes one for a statement the connection already ran.
        self._cursors: dict[tuple[_CompiledPg | None, bool], Any] = (
            _cursors_of(connection.connection.info, self._raw) if self._raw is not None else {}
        )
        self._in_block = False
        #: The psycopg pipeline whose statements this unit holds back (see :meth:`hold_sends`).
        self._held: Any = None

    def _compile(self, stmt: Statement) -> _CompiledPg:
        if isinstance(stmt, Prepared):
            return stmt.compiled(self.connection.dialect)
        compiled = stmt.compile(  # type: ignore[attr-defined]
            dialect=self.connection.dialect, compile_kwargs={"render_postcompile": True}
        )
        return _CompiledPg(compiled, with_values=True)

    @staticmethod
    def _core(stmt: Statement) -> Executable:
        return stmt.statement if isinstance(stmt, Prepared) else stmt

    def rows(self, stmt: Statement, params: Params | None = None) -> list[Any]:
        """Execute and return every row (attribute access by column name)."""
        if not self.is_postgresql:
            return list(self.connection.execute(self._core(stmt), params or {}))
        compiled = self._compile(stmt)
        cursor = self._cursor(compiled, reading=True)
        self._execute(cursor, compiled, params)
        self._send_held()
        found = list(cursor.fetchall())
        # The cursor outlives the unit: let go of the server's result now rather than at the
        # cursor's next run on this connection.
        cursor._reset()
        return found

    def first(self, stmt: Statement, params: Params | None = None) -> Any | None:
        """Execute and return the first row, or None."""
        found = self.rows(stmt, params)
        return found[0] if found else None

    def scalar(self, stmt: Statement, params: Params | None = None) -> Any:
        """Execute and return the first column of the first row (None if no row)."""
        row = self.first(stmt, params)
        return row[0] if row is not None else None

    def run(self, stmt: Statement, params: Params | None = None) -> None:
        """Execute a write whose outcome is not needed now (queued when pipelined)."""
        if not self.is_postgresql:
            self.connection.execute(self._core(stmt), params or {})
            return
        compiled = self._compile(stmt)
        self._execute(self._cursor(compiled, reading=False), compiled, params)

    def _cursor(self, compiled: _CompiledPg | None, *, reading: bool) -> Any:
        """The cursor to run ``compiled`` on: its own, for a statement compiled once.

        psycopg starts a cursor's parameter adapters afresh whenever the cursor runs a
        different query than its last, and looking them up again cost more than the
        rest of binding. A cursor that only ever runs one statement keeps them; the
        pool lends a connection, and so its cursors, to one unit at a time. Statements
        compiled per call (and transaction control, ``compiled=None``) share one.
        """
        key = (compiled if compiled is not None and compiled.lasting else None, reading)
        cursor = self._cursors.get(key)
        if cursor is None:
            cursor = self._raw.cursor(row_factory=namedtuple_row) if reading else self._raw.cursor()
            self._cursors[key] = cursor
        return cursor

    @property
    def _writer(self) -> Any:
        return self._cursor(None, reading=False)

    def hold_sends(self) -> None:
        """Let the unit's statements wait in its pipeline and leave in one send.

        psycopg sends each pipelined statement as soon as it is executed: a poll and a
        ``sendto`` on the client, and a wake-up of the server process, per statement.
        Held back, every write queued since the last read leaves with the next read
        (or with the Sync that ends the unit) in a single send, and the server takes
        them in one pass; measured on the 2-core VM, a unit of three writes and a read
        cost ~25 % less client CPU and ~30 % less server CPU that way. Statements run
        in the order they were executed either way, so a read still sees every write
        before it. This relies on psycopg internals (queueing a statement without its
        send), hence the ``<3.4`` pin in pyproject.toml; where they are missing the unit
        sends each statement at once, as before.
        """
        pipeline = getattr(self._raw, "_pipeline", None)
        if _CAN_HOLD_SENDS and isinstance(getattr(pipeline, "command_queue", None), deque):
            self._held = pipeline

    def _execute(self, cursor: Any, compiled: _CompiledPg, params: Params | None) -> None:
        if self._held is None:
            cursor.execute(compiled.sql, compiled.bind(params))
            return
        with self._raw.lock:
            self._raw.wait(_queued(cursor, compiled.sql, compiled.bind(params)))

    def _send_held(self) -> None:
        """Hand the held statements to libpq, which buffers them until the next flush."""
        if self._held is not None:
            commands = self._held.command_queue
            while commands:
                commands.popleft()()

    def transaction_block(self) -> None:
        """Make the unit's transaction an explicit block (for savepoints and ``SET LOCAL``).

        Pipelined units on PostgreSQL run as an implicit transaction (see
        ``uow._run_pipelined``); a BEGIN sent part-way turns it into an explicit
        block that still holds everything sent before. Elsewhere this does nothing.
        """
        if self._raw is not None and self._raw.autocommit and not self._in_block:
            self._writer.execute("BEGIN")
            self._in_block = True

    def abandon_transaction(self) -> None:
        """Queue the rollback of everything the unit sent (pipelined PostgreSQL units).

        The Sync that closes the pipeline commits an implicit transaction, so a unit
        that gives up turns it into an explicit block and rolls that back. If a
        statement already failed, the server skips these and the Sync rolls back.
        """
        if self._raw is None or not self._raw.autocommit:
            return
        try:
            if not self._in_block:
                self._writer.execute("BEGIN")
            self._writer.execute("ROLLBACK")
        except psycopg.Error:
            # An earlier statement failed: the server discards the rest up to the Sync,
            # which then rolls the whole transaction back.
            pass
        self._in_block = False

    def end_transaction_block(self) -> None:
        """Queue the COMMIT of a block opened by :meth:`transaction_block`, if one was.

        Held statements go to libpq first, so they leave with the unit's Sync.
        """
        self._send_held()
        if self._in_block:
            self._writer.execute("COMMIT")
            self._in_block = False

    def run_many(self, stmt: Statement, rows: Sequence[Params]) -> None:
        """Execute a write once per parameter set (pipelined by psycopg)."""
        if not rows:
            return
        if not self.is_postgresql:
            self.connection.execute(self._core(stmt), list(rows))
            return
        compiled = self._compile(stmt)
        if len(rows) == 1:
            # executemany's own bookkeeping costs more than a lone row's execute.
            self._execute(self._cursor(compiled, reading=False), compiled, rows[0])
            return
        self._writer.executemany(compiled.sql, [compiled.bind(r) for r in rows])

    def rows_many(self, stmt: Statement, rows: Sequence[Params]) -> list[Any]:
        """Execute an INSERT ... RETURNING once per parameter set; return every returned row."""
        if not rows:
            return []
        if not self.is_postgresql:
            return list(self.connection.execute(self._core(stmt), list(rows)))
        compiled = self._compile(stmt)
        cur = self._raw.cursor(row_factory=namedtuple_row)
        cur.executemany(compiled.sql, [compiled.bind(r) for r in rows], returning=True)
        out: list[Any] = []
        while True:
            out.extend(cur.fetchall())
            if not cur.nextset():
                break
        return out


def _cursors_of(info: dict[Any, Any], raw: Any) -> dict[tuple[_CompiledPg | None, bool], Any]:
    """The cursors of a pooled psycopg connection, by statement (kept in the pool's info)."""
    found = info.get(_CURSORS_KEY)
    if found is None or found[0] is not raw:
        found = (raw, {})
        info[_CURSORS_KEY] = found
    cursors: dict[tuple[_CompiledPg | None, bool], Any] = found[1]
    return cursors


_CURSORS_KEY = "tradeguard.statement_cursors"


def _queued(cursor: Any, query: str, params: dict[str, Any]) -> Any:
    """What ``psycopg.Cursor._execute_gen`` does, minus the send: the statement waits queued.

    In pipeline mode the steps below only queue the statement (and, on its sixth run,
    its PREPARE) and its pending result; ``execute`` would then send the queue at once.
    """
    yield from cursor._start_query(query)
    query_parts = cursor._convert_query(query, params)
    yield from cursor._maybe_prepare_gen(query_parts)
    cursor._last_query = query
    yield from cursor._conn._prepared.maintain_gen(cursor._conn)


_CAN_HOLD_SENDS = all(
    callable(getattr(psycopg.Cursor, name, None))
    for name in ("_start_query", "_convert_query", "_maybe_prepare_gen")
)


def in_list(column: ColumnElement[Any], name: str, dialect: str) -> ColumnElement[bool]:
    """``column IN (:name...)`` that needs no per-call SQL rendering on PostgreSQL (``= ANY(array)``).

    Pass the values as a list under ``name``.
    """
    if dialect == "postgresql":
        element_type = BigInteger() if isinstance(column.type, Integer) else String()
        return column == any_(bindparam(name, type_=ARRAY(element_type)))
    return column.in_(bindparam(name, expanding=True))


DIALECTS = ("postgresql", "sqlite")
