"""What deadlines need from storage."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

from tradeguard.deadlines.model import Deadline, DeadlineState, NewDeadline
from tradeguard.kernel.uow import SavepointCapable


class DeadlineStore(Protocol):
    """The timer table."""

    def insert(self, deadlines: Sequence[NewDeadline], at: datetime) -> None:
        """Add pending timers."""
        ...

    def replace_active(self, subject: str, deadlines: Sequence[NewDeadline], at: datetime) -> None:
        """Cancel every active timer of ``subject`` and add ``deadlines``, in one step."""
        ...

    def active(
        self, subject: str, kinds: Collection[str] | None = None, *, lock: bool = False
    ) -> list[Deadline]:
        """Pending or paused timers of ``subject`` (optionally of some kinds), oldest first."""
        ...

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
        """Rewrite a timer that is in ``from_states``; False if it was not."""
        ...

    def finish(self, deadline_id: int, state: DeadlineState, at: datetime) -> None:
        """Mark a pending timer fired or obsolete."""
        ...

    def cancel_active(self, subject: str, kinds: Collection[str] | None, at: datetime) -> None:
        """Cancel the active timers of ``subject`` (of ``kinds``, or all)."""
        ...

    def claim_due(self, now: datetime, limit: int) -> list[Deadline]:
        """Lock up to ``limit`` pending timers to look at by ``now``, skipping any another worker holds."""
        ...

    def mark_reminded(self, deadline_id: int, at: datetime, next_at: datetime) -> None:
        """Record that the reminder went out; the worker next looks at the due time."""
        ...

    def record_failure(self, deadline_id: int, error: str, retry_at: datetime) -> None:
        """Keep a timer pending after its handler raised, with the error and a later retry time."""
        ...

    def get(self, deadline_id: int) -> Deadline | None:
        """One timer by id."""
        ...


class DeadlinesUnitOfWork(SavepointCapable, Protocol):
    """A unit of work with the timer table."""

    @property
    def deadlines(self) -> DeadlineStore:
        """The timer table."""
        ...
