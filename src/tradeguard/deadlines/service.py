"""Scheduling timers and running due ones (DESIGN.md §12).

Workers claim rows to look at with ``FOR UPDATE SKIP LOCKED`` (on PostgreSQL;
SQLite has one writer), run each handler inside a savepoint of the same
transaction, and mark the row fired or obsolete. Handlers re-read their subject
and report OBSOLETE when it has moved on, so a timer that fires late or twice is
harmless. A handler that raises leaves its timer pending, its subject untouched
(the savepoint is rolled back) and records the error with a later retry time.
Every state change goes through the deadline transition table.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from tradeguard.deadlines.model import (
    DEADLINE_TRANSITIONS,
    Deadline,
    DeadlineEvent,
    DeadlineState,
    NewDeadline,
    Outcome,
    WorkerReport,
    next_look,
)
from tradeguard.deadlines.ports import DeadlineStore, DeadlinesUnitOfWork
from tradeguard.kernel.clock import Clock
from tradeguard.kernel.errors import TransitionNotAllowed
from tradeguard.kernel.parties import Actor
from tradeguard.kernel.uow import UnitOfWorkRunner

U = TypeVar("U", bound=DeadlinesUnitOfWork)
S = TypeVar("S")

#: A handler gets the unit of work, the due deadline and the worker's "now".
Handler = Callable[[U, Deadline, datetime], Outcome]

_FIRST_RETRY = timedelta(minutes=1)
_LONGEST_RETRY = timedelta(hours=6)


def fire_transition(subject: S | None, step: Callable[[S], object]) -> Outcome:
    """Fire a timer whose effect is one state-machine event on ``subject``.

    A subject that is gone, or whose state no longer allows the event (a party acted
    first), makes the timer obsolete rather than failed, so late or repeated firing is
    harmless. Every context's timers go through here.
    """
    if subject is None:
        return Outcome.OBSOLETE
    try:
        step(subject)
    except TransitionNotAllowed:
        return Outcome.OBSOLETE
    return Outcome.FIRED


def schedule(store: DeadlineStore, deadlines: Sequence[NewDeadline], at: datetime) -> None:
    """Add timers. The caller makes sure no timer of the same kind is active for the subject."""
    if deadlines:
        store.insert(deadlines, at)


def cancel(store: DeadlineStore, subject: str, kinds: Collection[str] | None, at: datetime) -> None:
    """Cancel the subject's active timers (of ``kinds``, or all)."""
    store.cancel_active(subject, kinds, at)


def cancel_and_schedule(
    store: DeadlineStore, subject: str, deadlines: Sequence[NewDeadline], at: datetime
) -> None:
    """Cancel all of the subject's active timers and start ``deadlines`` (one step on PostgreSQL)."""
    store.replace_active(subject, deadlines, at)


def pause(store: DeadlineStore, subject: str, kinds: Collection[str], at: datetime) -> int:
    """Stop the subject's pending timers of ``kinds``, keeping each one's remaining time."""
    paused = 0
    for deadline in store.active(subject, kinds, lock=True):
        if not DEADLINE_TRANSITIONS.allows(deadline.state, DeadlineEvent.PAUSE, Actor.SYSTEM):
            continue
        row = DEADLINE_TRANSITIONS.fire(deadline.state, DeadlineEvent.PAUSE, Actor.SYSTEM)
        remaining_ms = max(0, _ms(deadline.due_at - at))
        paused += store.change(
            deadline.id,
            from_states={row.source},
            state=row.target,
            due_at=deadline.due_at,
            next_at=deadline.next_at,
            remaining_on_pause_ms=remaining_ms,
            reminded_at=deadline.reminded_at,
        )
    return paused


def resume(store: DeadlineStore, subject: str, kinds: Collection[str], at: datetime) -> int:
    """Restart the subject's paused timers of ``kinds``; each is due its remaining time from ``at``."""
    resumed = 0
    for deadline in store.active(subject, kinds, lock=True):
        if not DEADLINE_TRANSITIONS.allows(deadline.state, DeadlineEvent.RESUME, Actor.SYSTEM):
            continue
        row = DEADLINE_TRANSITIONS.fire(deadline.state, DeadlineEvent.RESUME, Actor.SYSTEM)
        due = at + timedelta(milliseconds=deadline.remaining_on_pause_ms or 0)
        resumed += store.change(
            deadline.id,
            from_states={row.source},
            state=row.target,
            due_at=due,
            next_at=next_look(due, deadline.remind_before_ms, deadline.reminded_at is not None),
            remaining_on_pause_ms=None,
            reminded_at=deadline.reminded_at,
        )
    return resumed


def reschedule(
    store: DeadlineStore, subject: str, kind: str, due_at: datetime, at: datetime
) -> bool:
    """Move the subject's active timer of ``kind`` to ``due_at``; a paused one keeps the new remaining time.

    A reminder already sent is re-armed when the new due time leaves room for it,
    so a buyer whose auto-confirm was extended is reminded again before the new date.
    """
    for deadline in store.active(subject, [kind], lock=True):
        row = DEADLINE_TRANSITIONS.fire(deadline.state, DeadlineEvent.RESCHEDULE, Actor.SYSTEM)
        reminded_at = deadline.reminded_at
        if (
            deadline.remind_before_ms is not None
            and due_at - timedelta(milliseconds=deadline.remind_before_ms) > at
        ):
            reminded_at = None
        paused = row.target == DeadlineState.PAUSED
        return store.change(
            deadline.id,
            from_states={row.source},
            state=row.target,
            due_at=due_at,
            next_at=next_look(due_at, deadline.remind_before_ms, reminded_at is not None),
            remaining_on_pause_ms=max(0, _ms(due_at - at)) if paused else None,
            reminded_at=reminded_at,
        )
    return False


def remaining(store: DeadlineStore, subject: str, kind: str, at: datetime) -> timedelta | None:
    """Time left on the subject's active timer of ``kind`` (frozen while paused), or None."""
    for deadline in store.active(subject, [kind]):
        if deadline.state == DeadlineState.PAUSED:
            return timedelta(milliseconds=deadline.remaining_on_pause_ms or 0)
        return max(timedelta(0), deadline.due_at - at)
    return None


def retry_delay(attempts: int) -> timedelta:
    """Back off exponentially after failures: 1 min, 2 min, 4 min ... at most 6 h.

    >>> retry_delay(0), retry_delay(3)
    (datetime.timedelta(seconds=60), datetime.timedelta(seconds=480))
    """
    delay: timedelta = _FIRST_RETRY * (2 ** min(attempts, 20))
    return min(delay, _LONGEST_RETRY)


def run_due(
    runner: UnitOfWorkRunner[U],
    handlers: Mapping[str, Handler[U]],
    clock: Clock,
    *,
    reminders: Mapping[str, Handler[U]] | None = None,
    batch_size: int = 100,
    on_error: Callable[[Deadline, BaseException], None] | None = None,
) -> WorkerReport:
    """Handle up to ``batch_size`` due deadlines and reminders in one transaction."""
    now = clock.now()
    reminder_handlers = reminders or {}

    def work(uow: U) -> WorkerReport:
        fired = obsolete = failed = reminded = 0
        for deadline in uow.deadlines.claim_due(now, batch_size):
            is_reminder = deadline.reminder_due(now)
            handler = (reminder_handlers if is_reminder else handlers).get(deadline.kind)
            try:
                if handler is None:
                    what = "reminder" if is_reminder else "deadline"
                    raise LookupError(f"no {what} handler for deadline kind {deadline.kind!r}")
                with uow.savepoint():
                    outcome = handler(uow, deadline, now)
                    if is_reminder:
                        uow.deadlines.mark_reminded(deadline.id, now, deadline.due_at)
                    else:
                        event = (
                            DeadlineEvent.FIRE
                            if outcome == Outcome.FIRED
                            else DeadlineEvent.FIND_OBSOLETE
                        )
                        row = DEADLINE_TRANSITIONS.fire(deadline.state, event, Actor.SYSTEM)
                        uow.deadlines.finish(deadline.id, row.target, now)
            except Exception as exc:  # any handler bug must not stop the other timers
                failed += 1
                uow.deadlines.record_failure(
                    deadline.id,
                    f"{type(exc).__name__}: {exc}"[:2000],
                    now + retry_delay(deadline.attempts),
                )
                if on_error is not None:
                    on_error(deadline, exc)
                continue
            if is_reminder:
                reminded += 1
            elif outcome == Outcome.FIRED:
                fired += 1
            else:
                obsolete += 1
        return WorkerReport(fired, obsolete, failed, reminded)

    return runner.run(work)


def drain(
    runner: UnitOfWorkRunner[U],
    handlers: Mapping[str, Handler[U]],
    clock: Clock,
    *,
    reminders: Mapping[str, Handler[U]] | None = None,
    batch_size: int = 100,
    max_passes: int = 1000,
    on_error: Callable[[Deadline, BaseException], None] | None = None,
) -> WorkerReport:
    """Run passes until nothing due is left that can be handled now (``worker --once``)."""
    total = WorkerReport()
    for _ in range(max_passes):
        report = run_due(
            runner, handlers, clock, reminders=reminders, batch_size=batch_size, on_error=on_error
        )
        total = total + report
        if report.handled == 0:
            break
    return total


def _ms(delta: timedelta) -> int:
    return int(delta / timedelta(milliseconds=1))
