"""Time is injected: domain code never reads the wall clock (DESIGN.md §12).

Production uses :class:`SystemClock`; tests and the simulator use
:class:`FakeClock` and move time themselves. Every instant is an aware UTC
datetime.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Tells the current instant."""

    def now(self) -> datetime:
        """Return the current instant as an aware UTC datetime."""
        ...


class SystemClock:
    """The wall clock, in UTC."""

    def now(self) -> datetime:
        """Return the wall-clock instant in UTC."""
        return datetime.now(UTC)


class FakeClock:
    """A clock that only moves when told to; thread-safe so concurrent tests can share it."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = ensure_aware(start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """Return the instant the clock was last set to."""
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta`` (never backwards) and return the new instant."""
        if delta < timedelta(0):
            raise ValueError("a clock never moves backwards")
        with self._lock:
            self._now += delta
            return self._now

    def set(self, instant: datetime) -> None:
        """Jump to ``instant``, which must not be in the clock's past."""
        instant = ensure_aware(instant)
        with self._lock:
            if instant < self._now:
                raise ValueError("a clock never moves backwards")
            self._now = instant


def ensure_aware(instant: datetime) -> datetime:
    """Return ``instant`` in UTC, refusing naive datetimes that would silently mean local time."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime: TradeGuard only handles aware UTC instants")
    return instant.astimezone(UTC)
