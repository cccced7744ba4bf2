"""What every service needs besides storage: the clock, the id factory and the working calendar."""

from __future__ import annotations

from dataclasses import dataclass, field

from tradeguard.kernel.clock import Clock, SystemClock
from tradeguard.kernel.ids import IdFactory
from tradeguard.kernel.periods import WorkingCalendar


@dataclass(frozen=True, slots=True)
class Runtime:
    """The injected environment of the services (production: system clock, random ids)."""

    clock: Clock = field(default_factory=SystemClock)
    ids: IdFactory = field(default_factory=IdFactory)
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
