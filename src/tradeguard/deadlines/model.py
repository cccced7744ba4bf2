"""Deadlines are rows, not threads: a timer survives restarts and fires once.

A deadline belongs to a subject (``order:ord_...``) and has a kind
(``order.auto_confirm``). At most one deadline of a kind is active per subject.
Pausing keeps the remaining time; resuming counts it from the moment of resume.
A deadline may carry a reminder (DESIGN.md §4: ship-by -24 h, auto-confirm
-2 days) that fires once, before it is due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from tradeguard.kernel.parties import Actor
from tradeguard.kernel.statemachine import InvalidDefinition, TransitionTable


class DeadlineState(StrEnum):
    """Where a timer is in its life."""

    PENDING = "pending"  #: waiting for its due time
    PAUSED = "paused"  #: stopped with its remaining time kept
    FIRED = "fired"  #: its handler ran and committed
    OBSOLETE = "obsolete"  #: due, but the subject had moved on; nothing to do
    CANCELLED = "cancelled"


class DeadlineEvent(StrEnum):
    """What can happen to a timer."""

    FIRE = "fire"
    FIND_OBSOLETE = "find_obsolete"
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"
    RESCHEDULE = "reschedule"


class DeadlineEffect(StrEnum):
    """Deadlines have no side effects of their own; handlers do the work."""

    NONE = "none"


S, E = DeadlineState, DeadlineEvent
# fmt: off
DEADLINE_TRANSITIONS: Final = TransitionTable[DeadlineState, DeadlineEvent, DeadlineEffect](
    "deadline",
    DeadlineState,
    initial=S.PENDING,
    final={S.FIRED, S.OBSOLETE, S.CANCELLED},
    rows=[
        # source     event             actor         target       effects
        (S.PENDING, E.FIRE,           Actor.SYSTEM, S.FIRED,     []),
        (S.PENDING, E.FIND_OBSOLETE,  Actor.SYSTEM, S.OBSOLETE,  []),
        (S.PENDING, E.PAUSE,          Actor.SYSTEM, S.PAUSED,    []),
        (S.PENDING, E.RESCHEDULE,     Actor.SYSTEM, S.PENDING,   []),
        (S.PENDING, E.CANCEL,         Actor.SYSTEM, S.CANCELLED, []),
        (S.PAUSED,  E.RESUME,         Actor.SYSTEM, S.PENDING,   []),
        (S.PAUSED,  E.RESCHEDULE,     Actor.SYSTEM, S.PAUSED,    []),
        (S.PAUSED,  E.CANCEL,         Actor.SYSTEM, S.CANCELLED, []),
    ],
)
# fmt: on

#: States in which a deadline still counts: at most one per (subject, kind).
ACTIVE_STATES: Final = frozenset({S.PENDING, S.PAUSED})


def sources_of(event: DeadlineEvent) -> frozenset[DeadlineState]:
    """States from which ``event`` is allowed."""
    return frozenset(r.source for r in DEADLINE_TRANSITIONS.rows if r.event == event)


# Storage cancels "every active timer" with one indexed statement; that is only right
# while the table lets exactly the active states be cancelled.
if sources_of(DeadlineEvent.CANCEL) != ACTIVE_STATES:  # pragma: no cover - a definition error
    raise InvalidDefinition("deadline: CANCEL must be allowed from exactly the active states")


@dataclass(frozen=True, slots=True)
class NewDeadline:
    """A timer to schedule, optionally with a reminder some time before it is due."""

    kind: str
    subject: str
    due_at: datetime
    remind_before: timedelta | None = None

    @property
    def remind_before_ms(self) -> int | None:
        """The reminder lead in milliseconds, if any."""
        return _ms(self.remind_before) if self.remind_before is not None else None


@dataclass(frozen=True, slots=True)
class Deadline:
    """A stored timer.

    ``next_at`` is when a worker should look at it next: its reminder time while
    the reminder is unsent, else its due time. The reminder is kept as a lead
    before the due time, so pausing, resuming or moving the deadline moves its
    reminder too.
    """

    id: int
    kind: str
    subject: str
    due_at: datetime
    state: DeadlineState
    remind_before_ms: int | None
    reminded_at: datetime | None
    remaining_on_pause_ms: int | None
    attempts: int
    last_error: str | None
    created_at: datetime
    fired_at: datetime | None
    next_at: datetime

    @property
    def subject_id(self) -> str:
        """The id part of the subject (``order:ord_1`` -> ``ord_1``)."""
        return self.subject.split(":", 1)[1]

    @property
    def remind_at(self) -> datetime | None:
        """When the reminder goes out (or went out), if the deadline has one."""
        if self.remind_before_ms is None:
            return None
        return self.due_at - timedelta(milliseconds=self.remind_before_ms)

    def reminder_due(self, now: datetime) -> bool:
        """True when the unsent reminder should go out now and the deadline itself is not yet due."""
        remind_at = self.remind_at
        return remind_at is not None and self.reminded_at is None and remind_at <= now < self.due_at


def next_look(due_at: datetime, remind_before_ms: int | None, reminder_sent: bool) -> datetime:
    """When a worker should next look at a deadline: its unsent reminder's time, else its due time.

    >>> from datetime import UTC
    >>> due = datetime(2026, 1, 10, tzinfo=UTC)
    >>> next_look(due, 2 * 86_400_000, False).day, next_look(due, 2 * 86_400_000, True).day
    (8, 10)
    """
    if remind_before_ms is not None and not reminder_sent:
        return due_at - timedelta(milliseconds=remind_before_ms)
    return due_at


def _ms(delta: timedelta) -> int:
    return int(delta / timedelta(milliseconds=1))


class Outcome(StrEnum):
    """What a handler reports about a due deadline."""

    FIRED = "fired"  #: it did its work
    OBSOLETE = "obsolete"  #: the subject no longer needs it (fired late or twice: harmless)


@dataclass(frozen=True, slots=True)
class WorkerReport:
    """What one worker pass did."""

    fired: int = 0
    obsolete: int = 0
    failed: int = 0
    reminded: int = 0

    @property
    def handled(self) -> int:
        """Deadlines and reminders dealt with (fired, obsolete or reminded)."""
        return self.fired + self.obsolete + self.reminded

    def __add__(self, other: WorkerReport) -> WorkerReport:
        return WorkerReport(
            self.fired + other.fired,
            self.obsolete + other.obsolete,
            self.failed + other.failed,
            self.reminded + other.reminded,
        )
