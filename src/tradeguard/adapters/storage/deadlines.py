"""The timer table, claimed with FOR UPDATE SKIP LOCKED on PostgreSQL."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, text, update

from tradeguard.adapters.storage.sql import DIALECTS, Prepared, Sql, in_list
from tradeguard.adapters.storage.tables.deadlines import deadlines
from tradeguard.deadlines.model import (
    ACTIVE_STATES,
    Deadline,
    DeadlineState,
    NewDeadline,
    next_look,
)

D = deadlines.c
_ACTIVE = sorted(s.value for s in ACTIVE_STATES)
_NEW_COLUMNS = (
    "kind",
    "subject",
    "due_at",
    "next_at",
    "state",
    "remind_before_ms",
    "attempts",
    "created_at",
)


# The active states are written into the SQL, not bound: only then can PostgreSQL's cached
# (generic) plans use the partial indexes, whose predicates name these states.
_IS_ACTIVE = text("deadlines.state IN (" + ", ".join(f"'{state}'" for state in _ACTIVE) + ")")
_IS_PENDING = text(f"deadlines.state = '{DeadlineState.PENDING.value}'")


# PostgreSQL only: cancel the subject's active timers and start one new timer, in one statement.
_REPLACE_ONE_SQL = """
WITH cancelled AS (
    UPDATE deadlines SET state = 'cancelled', fired_at = :created_at
    WHERE deadlines.subject = :subject AND deadlines.state IN ('paused', 'pending')
)
INSERT INTO deadlines (kind, subject, due_at, next_at, state, remind_before_ms, attempts, created_at)
VALUES (:kind, :subject, :due_at, :next_at, :state, :remind_before_ms, :attempts, :created_at)
"""
if (
    str(_IS_ACTIVE) != "deadlines.state IN ('paused', 'pending')"
):  # pragma: no cover - keep the two in step
    raise RuntimeError("_REPLACE_ONE_SQL must cancel exactly the active states")


class _Statements:
    """The timer table's statements for one dialect."""

    def __init__(self, dialect: str) -> None:
        active = select(deadlines).where(D.subject == bindparam("of_subject"), _IS_ACTIVE)
        of_kinds = active.where(in_list(D.kind, "kinds", dialect)).order_by(D.id)
        cancel = update(deadlines).where(D.subject == bindparam("of_subject"), _IS_ACTIVE)
        cancelled: dict[str, Any] = {
            "state": DeadlineState.CANCELLED.value,
            "fired_at": bindparam("at"),
        }
        self.insert = Prepared(
            deadlines.insert().values({c: bindparam(c) for c in _NEW_COLUMNS}).inline()
        )
        # Cancelling the old timers and starting the new one is a single statement on PostgreSQL.
        self.replace_one = Prepared(text(_REPLACE_ONE_SQL))
        self.active = Prepared(active.order_by(D.id))
        self.active_of_kinds = Prepared(of_kinds)
        self.active_locked = Prepared(active.order_by(D.id).with_for_update())
        self.active_of_kinds_locked = Prepared(of_kinds.with_for_update())
        self.cancel = Prepared(cancel.values(cancelled))
        self.cancel_kinds = Prepared(
            cancel.where(in_list(D.kind, "kinds", dialect)).values(cancelled)
        )
        self.change = Prepared(
            update(deadlines)
            .where(D.id == bindparam("deadline_id"), D.state == bindparam("from_state"))
            .values(
                state=bindparam("to_state"),
                due_at=bindparam("new_due_at"),
                next_at=bindparam("new_next_at"),
                remaining_on_pause_ms=bindparam("new_remaining"),
                reminded_at=bindparam("new_reminded_at"),
            )
            .returning(D.id)
        )
        # The worker holds this row's lock since it claimed it, so a cancellation seen here was
        # made by the handler itself (an order that completes cancels all of its timers, the
        # firing one included); the timer did fire, and says so.
        self.finish = Prepared(
            update(deadlines)
            .where(
                D.id == bindparam("deadline_id"),
                text("deadlines.state IN ('pending', 'cancelled')"),
            )
            .values(state=bindparam("to_state"), fired_at=bindparam("at"))
        )
        self.reminded = Prepared(
            update(deadlines)
            .where(D.id == bindparam("deadline_id"))
            .values(reminded_at=bindparam("at"), next_at=bindparam("new_next_at"))
        )
        self.claim = Prepared(
            select(deadlines)
            .where(_IS_PENDING, D.next_at <= bindparam("now"))
            .order_by(D.next_at, D.id)
            .limit(bindparam("claim_limit"))
            # Rows another worker claimed are skipped, not waited for; SQLAlchemy omits the
            # clause on SQLite, which has one writer at a time anyway.
            .with_for_update(skip_locked=True)
        )
        self.fail = Prepared(
            update(deadlines)
            .where(D.id == bindparam("deadline_id"))
            .values(
                attempts=D.attempts + 1,
                last_error=bindparam("error"),
                next_at=bindparam("retry_at"),
            )
        )
        self.get = Prepared(select(deadlines).where(D.id == bindparam("deadline_id")))


_STATEMENTS = {name: _Statements(name) for name in DIALECTS}


class SqlDeadlineStore:
    """Implements :class:`tradeguard.deadlines.ports.DeadlineStore`."""

    def __init__(self, sql: Sql) -> None:
        self._sql = sql
        self._q = _STATEMENTS[sql.dialect]

    def insert(self, new: Sequence[NewDeadline], at: datetime) -> None:
        """Add pending timers."""
        self._sql.run_many(self._q.insert, [_new_row(d, at) for d in new])

    def replace_active(self, subject: str, new: Sequence[NewDeadline], at: datetime) -> None:
        """Cancel the subject's active timers and add ``new``."""
        if self._sql.is_postgresql and len(new) == 1 and new[0].subject == subject:
            self._sql.run(self._q.replace_one, _new_row(new[0], at))
            return
        self.cancel_active(subject, None, at)
        self.insert(new, at)

    def active(
        self, subject: str, kinds: Collection[str] | None = None, *, lock: bool = False
    ) -> list[Deadline]:
        """Pending or paused timers of the subject, oldest first."""
        if kinds is None:
            query = self._q.active_locked if lock else self._q.active
        else:
            query = self._q.active_of_kinds_locked if lock else self._q.active_of_kinds
        params = {"of_subject": subject, "kinds": [str(k) for k in kinds or ()]}
        return [_deadline(row) for row in self._sql.rows(query, params)]

    def change(
        self,
        deadline_id: int,
        *,
        from_states: Collection[DeadlineState],
        state: DeadlineState,
        due_at: datetime,
        next_at: datetime,
        remaining_on_pause_ms: int | None,
        reminded_at: datetime | None,
    ) -> bool:
        """Rewrite a timer that is still in ``from_states``."""
        (from_state,) = from_states  # one row, one known state: the caller read it under lock
        changed = self._sql.rows(
            self._q.change,
            {
                "deadline_id": deadline_id,
                "from_state": from_state.value,
                "to_state": state.value,
                "new_due_at": due_at,
                "new_next_at": next_at,
                "new_remaining": remaining_on_pause_ms,
                "new_reminded_at": reminded_at,
            },
        )
        return bool(changed)

    def finish(self, deadline_id: int, state: DeadlineState, at: datetime) -> None:
        """Mark a pending timer fired or obsolete."""
        self._sql.run(
            self._q.finish, {"deadline_id": deadline_id, "to_state": state.value, "at": at}
        )

    def cancel_active(self, subject: str, kinds: Collection[str] | None, at: datetime) -> None:
        """Cancel the subject's active timers of ``kinds`` (or all)."""
        if kinds is None:
            self._sql.run(self._q.cancel, {"of_subject": subject, "at": at})
        else:
            self._sql.run(
                self._q.cancel_kinds,
                {"of_subject": subject, "at": at, "kinds": [str(k) for k in kinds]},
            )

    def claim_due(self, now: datetime, limit: int) -> list[Deadline]:
        """Lock up to ``limit`` pending timers to look at by ``now``, skipping rows other workers hold."""
        return [
            _deadline(row)
            for row in self._sql.rows(self._q.claim, {"now": now, "claim_limit": limit})
        ]

    def mark_reminded(self, deadline_id: int, at: datetime, next_at: datetime) -> None:
        """The reminder went out; next look at the due time."""
        self._sql.run(
            self._q.reminded, {"deadline_id": deadline_id, "at": at, "new_next_at": next_at}
        )

    def record_failure(self, deadline_id: int, error: str, retry_at: datetime) -> None:
        """Keep the timer pending, count the attempt and look again at ``retry_at``."""
        self._sql.run(
            self._q.fail, {"deadline_id": deadline_id, "error": error, "retry_at": retry_at}
        )

    def get(self, deadline_id: int) -> Deadline | None:
        """One timer."""
        row = self._sql.first(self._q.get, {"deadline_id": deadline_id})
        return _deadline(row) if row else None


def _new_row(d: NewDeadline, at: datetime) -> dict[str, Any]:
    return {
        "kind": d.kind,
        "subject": d.subject,
        "due_at": d.due_at,
        "next_at": next_look(d.due_at, d.remind_before_ms, False),
        "state": DeadlineState.PENDING.value,
        "remind_before_ms": d.remind_before_ms,
        "attempts": 0,
        "created_at": at,
    }


def _deadline(row: Any) -> Deadline:
    return Deadline(
        id=row.id,
        kind=row.kind,
        subject=row.subject,
        due_at=row.due_at,
        state=DeadlineState(row.state),
        remind_before_ms=row.remind_before_ms,
        reminded_at=row.reminded_at,
        remaining_on_pause_ms=row.remaining_on_pause_ms,
        attempts=row.attempts,
        last_error=row.last_error,
        created_at=row.created_at,
        fired_at=row.fired_at,
        next_at=row.next_at,
    )
