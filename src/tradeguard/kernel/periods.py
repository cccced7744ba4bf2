"""Durations as the policy writes them: ``72h``, ``10d`` or ``3wd`` (working days).

Working days are counted on the marketplace's holiday calendar in its own time
zone (DESIGN.md §6: staff SLAs "in working days, on a holiday calendar"), so a
dispute filed on the eve of the Spring Festival is not overdue when staff come
back. The ``holidays`` package knows each country's public holidays and, for
China, the weekend days that are worked instead (调休).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays

from tradeguard.kernel.clock import ensure_aware


class PeriodUnit(StrEnum):
    """The unit a policy period is counted in."""

    HOURS = "h"
    DAYS = "d"
    WORKING_DAYS = "wd"


_PERIOD = re.compile(r"^\s*(\d{1,5})\s*(h|d|wd)\s*$")


@dataclass(frozen=True, slots=True)
class Period:
    """A policy duration: a count of hours, calendar days or working days.

    >>> Period.parse("72h"), str(Period.parse("3wd"))
    (Period(count=72, unit=<PeriodUnit.HOURS: 'h'>), '3wd')
    """

    count: int
    unit: PeriodUnit

    @classmethod
    def parse(cls, text: str) -> Period:
        """Parse ``<n>h``, ``<n>d`` or ``<n>wd``; raise ValueError naming the accepted forms."""
        match = _PERIOD.match(text)
        if not match:
            raise ValueError(
                f"{text!r} is not a period; write e.g. '72h' (hours), '10d' (days) or '3wd' (working days), at most 5 digits"
            )
        return cls(int(match.group(1)), PeriodUnit(match.group(2)))

    @classmethod
    def hours(cls, count: int) -> Period:
        """``count`` hours."""
        return cls(count, PeriodUnit.HOURS)

    @classmethod
    def days(cls, count: int) -> Period:
        """``count`` calendar days."""
        return cls(count, PeriodUnit.DAYS)

    @classmethod
    def working_days(cls, count: int) -> Period:
        """``count`` working days on the marketplace calendar."""
        return cls(count, PeriodUnit.WORKING_DAYS)

    def __str__(self) -> str:
        return f"{self.count}{self.unit.value}"

    @property
    def is_calendar_time(self) -> bool:
        """True when the period is a fixed length of time (hours or days)."""
        return self.unit != PeriodUnit.WORKING_DAYS

    def as_timedelta(self) -> timedelta:
        """The fixed length of an hours/days period; working days have none."""
        if self.unit == PeriodUnit.HOURS:
            return timedelta(hours=self.count)
        if self.unit == PeriodUnit.DAYS:
            return timedelta(days=self.count)
        raise ValueError("working days have no fixed length; use WorkingCalendar.add")


def period_validator(value: Any) -> Period:
    """Coerce policy input (``"72h"`` or a Period) into a Period, for pydantic fields."""
    if isinstance(value, Period):
        return value
    if isinstance(value, str):
        return Period.parse(value)
    raise ValueError("a period is a string such as '72h', '10d' or '3wd'")


class WorkingCalendar:
    """Counts working days in one country's calendar and time zone."""

    def __init__(self, country: str = "CN", timezone: str = "Asia/Shanghai") -> None:
        self.country = country
        self.zone = ZoneInfo(timezone)
        self._holidays = _country_holidays(country)

    def is_working_day(self, day: date) -> bool:
        """True when ``day`` is a working day (weekday or worked weekend, and no holiday)."""
        return bool(self._holidays.is_working_day(day))

    def add(self, start: datetime, period: Period) -> datetime:
        """Return the instant ``period`` after ``start``.

        Hours and days are plain elapsed time. Working days step one local
        calendar day at a time, counting only working days, and keep the local
        time of day; a start on a non-working day counts from the next working
        day's same time.
        """
        start = ensure_aware(start)
        if period.is_calendar_time:
            return start + period.as_timedelta()
        local = start.astimezone(self.zone)
        day = local.date()
        if period.count == 0:
            return start
        # A start on a rest day counts from the next working day, at the same time of day.
        while not self.is_working_day(day):
            day += timedelta(days=1)
        remaining = period.count
        while remaining > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        due_local = datetime.combine(day, local.timetz()).replace(tzinfo=self.zone)
        return ensure_aware(due_local)

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """Count working days strictly after ``start``'s local date, up to ``end``'s, inclusive."""
        first = ensure_aware(start).astimezone(self.zone).date()
        last = ensure_aware(end).astimezone(self.zone).date()
        count = 0
        day = first
        while day < last:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count


@lru_cache(maxsize=16)
def _country_holidays(country: str) -> Any:
    # Years are filled lazily by the holidays package as dates are queried.
    return holidays.country_holidays(country)
