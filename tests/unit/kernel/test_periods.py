"""Policy periods, working days on the Chinese holiday calendar, and the injected clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tradeguard.kernel.clock import FakeClock, ensure_aware
from tradeguard.kernel.periods import Period, PeriodUnit, WorkingCalendar, period_validator

FAST = settings(max_examples=100, deadline=None, database=None)

SHANGHAI = ZoneInfo("Asia/Shanghai")
BUCHAREST = ZoneInfo("Europe/Bucharest")


def shanghai(month: int, day: int, hour: int = 10, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return WorkingCalendar("CN", "Asia/Shanghai")


# --- Period.parse --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("72h", Period(72, PeriodUnit.HOURS)),
        ("10d", Period(10, PeriodUnit.DAYS)),
        ("3wd", Period(3, PeriodUnit.WORKING_DAYS)),
        ("0h", Period(0, PeriodUnit.HOURS)),
        (" 24 h ", Period(24, PeriodUnit.HOURS)),
    ],
)
def test_period_parse_accepts_hours_days_and_working_days(text: str, expected: Period) -> None:
    assert Period.parse(text) == expected


@pytest.mark.parametrize("text", ["72h", "10d", "3wd"])
def test_period_str_is_what_parse_reads(text: str) -> None:
    assert str(Period.parse(text)) == text


@pytest.mark.parametrize(
    "text", ["", "h", "72", "3 weeks", "3w", "-1d", "1.5d", "72hours", "d10", "10 days", "3dw"]
)
def test_period_parse_refuses_junk_naming_the_accepted_forms(text: str) -> None:
    # when
    with pytest.raises(ValueError, match="is not a period") as caught:
        Period.parse(text)

    # then
    message = str(caught.value)
    assert repr(text) in message
    for example in ("'72h'", "'10d'", "'3wd'"):
        assert example in message


def test_period_constructors_match_their_units() -> None:
    assert Period.hours(72) == Period.parse("72h")
    assert Period.days(10) == Period.parse("10d")
    assert Period.working_days(3) == Period.parse("3wd")


def test_hours_and_days_have_a_fixed_length_but_working_days_do_not() -> None:
    assert Period.hours(72).as_timedelta() == timedelta(hours=72)
    assert Period.days(10).as_timedelta() == timedelta(days=10)
    assert Period.hours(1).is_calendar_time
    assert Period.days(1).is_calendar_time
    assert not Period.working_days(1).is_calendar_time
    with pytest.raises(ValueError, match="working days have no fixed length"):
        Period.working_days(3).as_timedelta()


def test_period_validator_takes_a_string_or_a_period_and_nothing_else() -> None:
    assert period_validator("2d") == Period.days(2)
    assert period_validator(Period.hours(5)) == Period.hours(5)
    with pytest.raises(ValueError, match="a period is a string"):
        period_validator(72)


# --- the calendar facts the tests below rely on ----------------------------------------------------


def test_the_2026_chinese_calendar_is_what_these_tests_assume() -> None:
    # given: the holidays package's data for 2026
    cn = holidays.country_holidays("CN", years=2026)

    # then: Spring Festival Feb 15-23 and National Day Oct 1-7 are off ...
    spring_festival = [date(2026, 2, d) for d in range(15, 24)]
    national_day = [date(2026, 10, d) for d in range(1, 8)]
    for day in spring_festival + national_day:
        assert not cn.is_working_day(day), day
    # ... and these weekend days are worked instead (调休)
    for day in (date(2026, 2, 14), date(2026, 2, 28), date(2026, 9, 20), date(2026, 10, 10)):
        assert day.weekday() >= 5
        assert day in cn.weekend_workdays
        assert cn.is_working_day(day), day


def test_working_calendar_knows_holidays_weekends_and_worked_weekends(
    calendar: WorkingCalendar,
) -> None:
    assert calendar.is_working_day(date(2026, 1, 5))  # a plain Monday
    assert not calendar.is_working_day(date(2026, 1, 10))  # a plain Saturday
    assert not calendar.is_working_day(date(2026, 2, 17))  # Spring Festival
    assert not calendar.is_working_day(date(2026, 10, 1))  # National Day
    assert calendar.is_working_day(date(2026, 2, 14))  # a Saturday worked instead
    assert calendar.is_working_day(date(2026, 9, 20))  # a Sunday worked instead


# --- WorkingCalendar.add ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "count", "due"),
    [
        (shanghai(1, 9), 1, shanghai(1, 12)),  # Friday + 1wd -> Monday
        (shanghai(1, 8), 3, shanghai(1, 13)),  # Thursday + 3wd -> Tuesday
        (shanghai(1, 5), 5, shanghai(1, 12)),  # a whole working week
    ],
)
def test_working_days_skip_weekends(
    calendar: WorkingCalendar, start: datetime, count: int, due: datetime
) -> None:
    assert calendar.add(start, Period.working_days(count)) == due


@pytest.mark.parametrize(
    ("start", "count", "due"),
    [
        # Friday before the Spring Festival: Sat 14 is worked, then nothing until Tue 24
        (shanghai(2, 13), 1, shanghai(2, 14)),
        (shanghai(2, 13), 2, shanghai(2, 24)),
        (shanghai(2, 13), 3, shanghai(2, 25)),
        (shanghai(2, 12), 4, shanghai(2, 25)),
        # Sat 28 Feb is worked after the festival
        (shanghai(2, 27), 1, shanghai(2, 28)),
        (shanghai(2, 27), 2, shanghai(3, 2)),
    ],
)
def test_working_days_skip_the_spring_festival_and_count_its_worked_weekends(
    calendar: WorkingCalendar, start: datetime, count: int, due: datetime
) -> None:
    assert calendar.add(start, Period.working_days(count)) == due


@pytest.mark.parametrize(
    ("start", "count", "due"),
    [
        (shanghai(9, 18), 1, shanghai(9, 20)),  # Sunday 20 Sep is worked
        (shanghai(9, 29), 1, shanghai(9, 30)),
        (shanghai(9, 29), 2, shanghai(10, 8)),  # Oct 1-7 off
        (shanghai(9, 30), 3, shanghai(10, 10)),  # Saturday 10 Oct is worked
    ],
)
def test_working_days_skip_national_day_and_count_its_worked_weekends(
    calendar: WorkingCalendar, start: datetime, count: int, due: datetime
) -> None:
    assert calendar.add(start, Period.working_days(count)) == due


def test_working_days_count_on_the_local_date_not_the_utc_date(calendar: WorkingCalendar) -> None:
    # given: Thursday 20:00 UTC is already Friday 04:00 in Shanghai
    start = datetime(2026, 1, 8, 20, 0, tzinfo=UTC)

    # when
    due = calendar.add(start, Period.working_days(1))

    # then: one working day after Friday is Monday, at the same local time
    assert due == shanghai(1, 12, hour=4)


def test_working_days_keep_the_time_of_day_and_answer_in_utc(calendar: WorkingCalendar) -> None:
    # when
    due = calendar.add(
        datetime(2026, 1, 9, 17, 45, 30, 123, tzinfo=SHANGHAI), Period.working_days(1)
    )

    # then
    assert due.tzinfo == UTC
    assert due == datetime(2026, 1, 12, 17, 45, 30, 123, tzinfo=SHANGHAI)


def test_working_days_keep_the_local_time_of_day_across_a_dst_change() -> None:
    # given: Romania moves its clocks forward on Sunday 29 March 2026
    calendar = WorkingCalendar("RO", "Europe/Bucharest")
    start = datetime(2026, 3, 27, 10, 0, tzinfo=BUCHAREST)

    # when
    due = calendar.add(start, Period.working_days(1))

    # then: Monday 10:00 local, which is 71 hours later, not 72
    assert due == datetime(2026, 3, 30, 10, 0, tzinfo=BUCHAREST)
    assert due - start == timedelta(hours=71)


def test_zero_working_days_is_the_start_itself(calendar: WorkingCalendar) -> None:
    start = shanghai(2, 17)  # even on a holiday

    assert calendar.add(start, Period.working_days(0)) == start


@pytest.mark.parametrize(
    ("period", "elapsed"),
    [
        (Period.hours(72), timedelta(hours=72)),
        (Period.days(10), timedelta(days=10)),
        (Period.hours(0), timedelta(0)),
    ],
)
def test_hours_and_days_are_plain_elapsed_time_even_over_a_holiday(
    calendar: WorkingCalendar, period: Period, elapsed: timedelta
) -> None:
    # given: the Friday before the Spring Festival
    start = shanghai(2, 13)

    # when
    due = calendar.add(start, period)

    # then
    assert due == start + elapsed
    assert due.tzinfo == UTC


def test_days_are_elapsed_time_not_wall_clock_days_across_a_dst_change() -> None:
    calendar = WorkingCalendar("RO", "Europe/Bucharest")
    start = datetime(2026, 3, 28, 12, 0, tzinfo=BUCHAREST)

    due = calendar.add(start, Period.days(1))

    assert due - start == timedelta(hours=24)
    assert due.astimezone(BUCHAREST).hour == 13


@pytest.mark.parametrize(
    ("start", "count"),
    [
        (shanghai(1, 10), 1),  # Saturday
        (shanghai(1, 11), 2),  # Sunday
        (shanghai(2, 16), 3),  # Spring Festival eve
        (shanghai(10, 3), 1),  # National Day, a Saturday
    ],
)
def test_a_start_on_a_non_working_day_ends_on_a_working_day_at_the_same_time(
    calendar: WorkingCalendar, start: datetime, count: int
) -> None:
    due = calendar.add(start, Period.working_days(count)).astimezone(SHANGHAI)

    assert calendar.is_working_day(due.date())
    assert due.time() == start.time()


@pytest.mark.parametrize(
    ("start", "next_working_start", "count"),
    [
        (shanghai(1, 10), shanghai(1, 12), 1),  # Saturday -> counts from Monday
        (shanghai(2, 16), shanghai(2, 24), 3),  # Spring Festival -> counts from Tue 24 Feb
    ],
    ids=["saturday", "spring-festival"],
)
def test_a_start_on_a_non_working_day_counts_from_the_next_working_day(
    calendar: WorkingCalendar, start: datetime, next_working_start: datetime, count: int
) -> None:
    # given: the same deadline requested on the next working day at the same time
    period = Period.working_days(count)

    # when
    due = calendar.add(start, period)

    # then: Saturday 10:00 + 1wd is Tuesday 10:00, one full working day after Monday 10:00
    assert due == calendar.add(next_working_start, period)


@FAST
@given(
    day=st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31)),
    count=st.integers(min_value=0, max_value=15),
)
def test_working_days_between_undoes_add_from_a_working_day(day: date, count: int) -> None:
    # given
    calendar = WorkingCalendar("CN", "Asia/Shanghai")
    assume(calendar.is_working_day(day))
    start = datetime.combine(day, datetime.min.time(), tzinfo=SHANGHAI) + timedelta(hours=10)

    # when
    due = calendar.add(start, Period.working_days(count))

    # then
    assert calendar.working_days_between(start, due) == count
    assert calendar.is_working_day(due.astimezone(SHANGHAI).date())


# --- naive datetimes and the clock ------------------------------------------------------------------


@pytest.mark.parametrize("period", [Period.hours(1), Period.days(1), Period.working_days(1)])
def test_the_calendar_refuses_naive_datetimes(calendar: WorkingCalendar, period: Period) -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        calendar.add(datetime(2026, 1, 5, 9, 0), period)


def test_working_days_between_refuses_naive_datetimes(calendar: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        calendar.working_days_between(datetime(2026, 1, 5), shanghai(1, 9))


def test_ensure_aware_converts_to_utc_and_refuses_naive() -> None:
    aware = ensure_aware(shanghai(1, 5, hour=17))

    assert aware.tzinfo == UTC
    assert aware == datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="naive datetime"):
        ensure_aware(datetime(2026, 1, 5, 9, 0))


def test_fake_clock_starts_on_monday_5_january_2026_at_9_utc() -> None:
    now = FakeClock().now()

    assert now == datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    assert now.tzinfo == UTC
    assert now.weekday() == 0


def test_fake_clock_refuses_a_naive_start() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        FakeClock(datetime(2026, 1, 5, 9, 0))


def test_fake_clock_moves_forward_when_told() -> None:
    # given
    clock = FakeClock(shanghai(2, 13))

    # when
    moved = clock.advance(timedelta(hours=72))
    clock.set(shanghai(2, 20))

    # then
    assert moved == shanghai(2, 16)
    assert clock.now() == shanghai(2, 20)
    assert clock.now().tzinfo == UTC


def test_fake_clock_never_moves_backwards() -> None:
    # given
    clock = FakeClock()
    start = clock.now()

    # when / then
    with pytest.raises(ValueError, match="never moves backwards"):
        clock.advance(timedelta(microseconds=-1))
    with pytest.raises(ValueError, match="never moves backwards"):
        clock.set(start - timedelta(seconds=1))
    assert clock.now() == start


def test_fake_clock_may_stand_still() -> None:
    clock = FakeClock()
    start = clock.now()

    assert clock.advance(timedelta(0)) == start
    clock.set(start)
    assert clock.now() == start


def test_fake_clock_set_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        FakeClock().set(datetime(2030, 1, 1))


@FAST
@given(steps=st.lists(st.integers(min_value=-(10**6), max_value=10**9), max_size=30))
def test_fake_clock_time_is_monotonic_whatever_it_is_asked(steps: list[int]) -> None:
    # given
    clock = FakeClock()
    seen = [clock.now()]

    # when: a mix of forward and backward requests, by advance and by set
    for i, micros in enumerate(steps):
        delta = timedelta(microseconds=micros)
        try:
            if i % 2:
                clock.advance(delta)
            else:
                clock.set(clock.now() + delta)
        except ValueError:
            assert micros < 0
        seen.append(clock.now())

    # then
    assert seen == sorted(seen)
