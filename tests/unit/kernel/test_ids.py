"""Public ids: a type prefix, time-ordered, unguessable, reproducible when seeded."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from tradeguard.kernel import ids
from tradeguard.kernel.ids import IdFactory

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ULID_BODY = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")  # Crockford base32: no I, L, O, U


def test_an_id_is_the_prefix_then_26_crockford_characters() -> None:
    # when
    order_id = IdFactory().new("ord", START)

    # then
    prefix, body = order_id.split("_", 1)
    assert prefix == "ord"
    assert ULID_BODY.match(body)


def test_ids_sort_by_creation_time_across_milliseconds() -> None:
    # given: one id per millisecond, each with a fresh random part
    ids = IdFactory()
    times = [START + timedelta(milliseconds=i) for i in range(500)]

    # when
    made = [ids.new("ord", at) for at in reversed(times)]

    # then
    assert sorted(made) == list(reversed(made))


def test_ids_sort_by_creation_time_across_years() -> None:
    ids = IdFactory()
    times = [START + timedelta(days=400 * i, milliseconds=7 * i) for i in range(20)]

    made = [ids.new("ord", at) for at in times]

    assert made == sorted(made)


def test_ids_made_in_the_same_millisecond_differ() -> None:
    ids = IdFactory()

    made = {ids.new("ord", START) for _ in range(1000)}

    assert len(made) == 1000


def test_a_seeded_factory_reproduces_the_same_ids() -> None:
    # given
    times = [START + timedelta(seconds=i) for i in range(20)]
    first, again = IdFactory.seeded(7), IdFactory.seeded(7)

    # when
    made = [first.new("ord", at) for at in times]
    remade = [again.new("ord", at) for at in times]

    # then
    assert made == remade
    assert len(set(made)) == len(made)


def test_a_seeded_factory_replays_its_whole_sequence() -> None:
    a, b = IdFactory.seeded(42), IdFactory.seeded(42)

    assert [a.new("ord", START) for _ in range(50)] == [b.new("ord", START) for _ in range(50)]


def test_different_seeds_give_different_ids() -> None:
    assert IdFactory.seeded(1).new("ord", START) != IdFactory.seeded(2).new("ord", START)


def test_the_same_instant_gives_the_same_time_part() -> None:
    a = IdFactory.seeded(1).new("ord", START)
    b = IdFactory.seeded(2).new("rf", START)

    assert a.split("_")[1][:10] == b.split("_")[1][:10]


def test_ids_made_in_the_same_millisecond_sort_in_the_order_they_were_made() -> None:
    # given: a busy millisecond
    ids = IdFactory()

    # when
    made = [ids.new("ord", START) for _ in range(1_000)]

    # then: still in order, and still not consecutive numbers
    assert made == sorted(made)
    assert len(set(made)) == len(made)
    suffixes = {m[-4:] for m in made}
    assert len(suffixes) > 900


def _digit_by_digit(value: int, length: int) -> str:
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    return "".join(alphabet[(value >> (5 * i)) & 31] for i in reversed(range(length)))


@given(st.integers(min_value=0, max_value=2**140), st.integers(min_value=1, max_value=28))
def test_the_encoding_is_crockford_base32_of_the_low_digits(value: int, length: int) -> None:
    assert ids._encode(value, length) == _digit_by_digit(value, length)
