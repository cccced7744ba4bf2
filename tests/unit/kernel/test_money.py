"""Money: integer minor units, half-even rates and exact splits (DESIGN.md §3)."""

from __future__ import annotations

import operator
from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeguard.kernel.errors import CurrencyMismatch, InvalidAmount, UnknownCurrency
from tradeguard.kernel.money import (
    Money,
    allocate,
    apply_bps,
    major_units,
    minor_per_major,
    round_half_even,
)

FAST = settings(max_examples=200, deadline=None, database=None)

amounts = st.integers(min_value=-(10**15), max_value=10**15)
rates_bps = st.integers(min_value=0, max_value=10_000)
# Small amounts at round rates hit exact halves (the ties half-even decides) half of the time.
bps_cases = st.one_of(
    st.tuples(amounts, rates_bps),
    st.tuples(
        st.integers(min_value=-2_000, max_value=2_000),
        st.sampled_from([200, 500, 1_250, 2_500, 5_000]),
    ),
)
# (numerator, denominator) pairs: arbitrary ones, and exact ties (2k + 1) * h / 2h.
divisions = st.one_of(
    st.tuples(
        st.integers(min_value=-(10**20), max_value=10**20),
        st.integers(min_value=1, max_value=10**6),
    ),
    st.tuples(
        st.integers(min_value=-(10**12), max_value=10**12),
        st.integers(min_value=1, max_value=10**6),
    ).map(lambda kh: ((2 * kh[0] + 1) * kh[1], 2 * kh[1])),
)
weight_lists = st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=20).filter(
    any
)


def decimal_half_even(numerator: int, denominator: int) -> int:
    """The oracle: exact decimal division, rounded half-even by the standard library."""
    with localcontext(Context(prec=80)):
        quotient = Decimal(numerator) / Decimal(denominator)
        return int(quotient.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


# --- construction -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount",
    [1.0, 12.5, True, False, Decimal("1"), Decimal("12.50"), "100", None],
    ids=["float", "fractional float", "True", "False", "Decimal", "Decimal cents", "str", "None"],
)
def test_money_refuses_anything_but_an_int_amount(amount: object) -> None:
    # when / then
    with pytest.raises(InvalidAmount, match="integer count of minor units"):
        Money(amount, "CNY")  # type: ignore[arg-type]


def test_money_accepts_negative_and_zero_integer_amounts() -> None:
    # when
    debit, nothing = Money(-1999, "CNY"), Money.zero("JPY")

    # then
    assert debit.amount_minor == -1999
    assert nothing == Money(0, "JPY")
    assert nothing.is_zero
    assert not debit.is_zero


@pytest.mark.parametrize("currency", ["XXX", "cny", "", "RMB", "CNY "])
def test_money_refuses_an_unknown_currency(currency: str) -> None:
    with pytest.raises(UnknownCurrency) as caught:
        Money(100, currency)

    assert repr(currency) in str(caught.value)


# --- arithmetic and comparison --------------------------------------------------------------


def test_money_of_one_currency_adds_subtracts_and_negates() -> None:
    a, b = Money(1999, "CNY"), Money(1, "CNY")

    assert a + b == Money(2000, "CNY")
    assert a - b == Money(1998, "CNY")
    assert -a == Money(-1999, "CNY")


def test_money_multiplies_only_by_an_int() -> None:
    price = Money(250, "CNY")

    assert price * 3 == Money(750, "CNY")
    assert 3 * price == Money(750, "CNY")
    for factor in (1.5, True, Decimal("2")):
        with pytest.raises(InvalidAmount, match="apply_bps"):
            price * factor  # type: ignore[operator]


def test_money_of_one_currency_compares_by_amount() -> None:
    small, big = Money(100, "USD"), Money(200, "USD")

    assert small < big
    assert small <= big
    assert small <= Money(100, "USD")
    assert big > small
    assert big >= small
    assert big >= Money(200, "USD")
    assert min(big, small) == small


@pytest.mark.parametrize(
    "combine",
    [operator.add, operator.sub, operator.lt, operator.le, operator.gt, operator.ge],
    ids=["add", "sub", "lt", "le", "gt", "ge"],
)
def test_money_in_different_currencies_cannot_be_combined(
    combine: Callable[[Money, Money], object],
) -> None:
    # given
    yuan, dollars = Money(100, "CNY"), Money(100, "USD")

    # when / then
    with pytest.raises(CurrencyMismatch) as caught:
        combine(yuan, dollars)
    assert "CNY" in str(caught.value)
    assert "USD" in str(caught.value)


def test_money_in_different_currencies_is_never_equal() -> None:
    assert Money(100, "CNY") != Money(100, "USD")


# --- rounding ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        (5, 2, 2),
        (7, 2, 4),
        (1, 2, 0),
        (3, 2, 2),
        (-1, 2, 0),
        (-5, 2, -2),
        (-7, 2, -4),
        (125, 10, 12),
        (135, 10, 14),
        (126, 10, 13),
        (-126, 10, -13),
        (0, 7, 0),
    ],
)
def test_round_half_even_rounds_ties_to_the_even_neighbour(
    numerator: int, denominator: int, expected: int
) -> None:
    assert round_half_even(numerator, denominator) == expected


@FAST
@given(division=divisions)
def test_round_half_even_equals_the_decimal_oracle(division: tuple[int, int]) -> None:
    numerator, denominator = division

    assert round_half_even(numerator, denominator) == decimal_half_even(numerator, denominator)


@pytest.mark.parametrize("denominator", [0, -1, -10_000])
def test_round_half_even_refuses_a_denominator_that_is_not_positive(denominator: int) -> None:
    with pytest.raises(InvalidAmount, match="denominator"):
        round_half_even(10, denominator)


@FAST
@given(case=bps_cases)
def test_apply_bps_equals_the_decimal_half_even_oracle(case: tuple[int, int]) -> None:
    # given
    amount, rate = case

    # when
    result = apply_bps(Money(amount, "CNY"), rate)

    # then
    assert result == Money(decimal_half_even(amount * rate, 10_000), "CNY")


@pytest.mark.parametrize(
    ("amount", "rate", "expected"),
    [
        (250, 500, 12),  # 0.125 -> 0.12 (tie, to even)
        (350, 500, 18),  # 0.175 -> 0.18 (tie, to even)
        (-250, 500, -12),
        (10_025, 200, 200),  # 200.5 -> 200
        (10_075, 200, 202),  # 201.5 -> 202
        (12_345, 0, 0),
        (12_345, 10_000, 12_345),
    ],
)
def test_apply_bps_rounds_half_even_to_a_whole_minor_unit(
    amount: int, rate: int, expected: int
) -> None:
    assert apply_bps(Money(amount, "CNY"), rate) == Money(expected, "CNY")


@pytest.mark.parametrize("rate", [5.0, 0.05, True, Decimal("500")])
def test_apply_bps_refuses_a_rate_that_is_not_integer_basis_points(rate: object) -> None:
    with pytest.raises(InvalidAmount, match="basis points"):
        apply_bps(Money(100, "CNY"), rate)  # type: ignore[arg-type]


def test_apply_bps_keeps_the_currency() -> None:
    assert apply_bps(Money(1000, "JPY"), 500) == Money(50, "JPY")


# --- allocation -------------------------------------------------------------------------------


@FAST
@given(total=amounts, weights=weight_lists)
def test_allocate_parts_always_sum_to_the_total(total: int, weights: list[int]) -> None:
    # when
    parts = allocate(Money(total, "CNY"), weights)

    # then
    assert len(parts) == len(weights)
    assert all(part.currency == "CNY" for part in parts)
    assert sum(part.amount_minor for part in parts) == total


@FAST
@given(total=amounts, weights=weight_lists)
def test_allocate_parts_differ_by_less_than_one_unit_from_the_exact_share(
    total: int, weights: list[int]
) -> None:
    # when
    parts = allocate(Money(total, "CNY"), weights)

    # then
    weight_sum = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        exact = Fraction(total * weight, weight_sum)
        assert abs(part.amount_minor - exact) < 1


@FAST
@given(total=amounts, weights=weight_lists)
def test_allocate_is_deterministic(total: int, weights: list[int]) -> None:
    assert allocate(Money(total, "CNY"), weights) == allocate(Money(total, "CNY"), list(weights))


@FAST
@given(total=amounts, weights=weight_lists)
def test_allocate_of_a_negative_total_mirrors_the_positive_one(
    total: int, weights: list[int]
) -> None:
    # when
    positive = allocate(Money(abs(total), "CNY"), weights)
    negative = allocate(Money(-abs(total), "CNY"), weights)

    # then
    assert negative == [-part for part in positive]


@FAST
@given(total=amounts, weights=weight_lists)
def test_allocate_gives_nothing_to_a_zero_weight(total: int, weights: list[int]) -> None:
    parts = allocate(Money(total, "CNY"), weights)

    assert all(part.is_zero for part, weight in zip(parts, weights, strict=True) if weight == 0)


@pytest.mark.parametrize(
    ("total", "weights", "expected"),
    [
        (100, [1, 1, 1], [34, 33, 33]),  # leftover goes to the earliest of equal remainders
        (2, [1, 1, 1], [1, 1, 0]),
        (-100, [1, 1, 1], [-34, -33, -33]),
        (1000, [700, 300], [700, 300]),
        (101, [1, 0, 1], [51, 0, 50]),
        (10, [1, 2], [3, 7]),  # 3.33 / 6.67: the larger remainder gets the leftover unit
        (0, [5, 3], [0, 0]),
    ],
)
def test_allocate_hands_leftover_units_to_the_largest_remainders_earliest_first(
    total: int, weights: list[int], expected: list[int]
) -> None:
    parts = allocate(Money(total, "CNY"), weights)

    assert [part.amount_minor for part in parts] == expected


@pytest.mark.parametrize(
    "weights",
    [[], [0, 0], [1, -1], [1, 1.5], [True, 1]],
    ids=["no weights", "all zero", "negative", "float", "bool"],
)
def test_allocate_refuses_weights_that_cannot_split(weights: list[int]) -> None:
    with pytest.raises(InvalidAmount):
        allocate(Money(100, "CNY"), weights)


# --- major units and formatting -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "per_major"), [("CNY", 100), ("USD", 100), ("JPY", 1), ("KRW", 1), ("KWD", 1000)]
)
def test_minor_per_major_follows_the_iso_4217_exponent(currency: str, per_major: int) -> None:
    assert minor_per_major(currency) == per_major


def test_minor_per_major_refuses_an_unknown_currency() -> None:
    with pytest.raises(UnknownCurrency):
        minor_per_major("XYZ")


@pytest.mark.parametrize(
    ("currency", "expected_minor"), [("CNY", 3000), ("JPY", 30), ("KWD", 30_000)]
)
def test_major_units_converts_whole_major_units_to_minor_units(
    currency: str, expected_minor: int
) -> None:
    assert major_units(30, currency) == Money(expected_minor, currency)


def test_major_units_refuses_an_unknown_currency() -> None:
    with pytest.raises(UnknownCurrency):
        major_units(30, "XYZ")


@pytest.mark.parametrize(
    ("money", "text"),
    [
        (Money(1250, "CNY"), "CNY 12.50"),
        (Money(5, "CNY"), "CNY 0.05"),
        (Money(-5, "USD"), "USD -0.05"),
        (Money(-123_456, "CNY"), "CNY -1234.56"),
        (Money(0, "CNY"), "CNY 0.00"),
        (Money(300, "JPY"), "JPY 300"),
        (Money(-300, "JPY"), "JPY -300"),
        (Money(1234, "KWD"), "KWD 1.234"),
        (Money(5, "KWD"), "KWD 0.005"),
        (Money(-30_000, "KWD"), "KWD -30.000"),
    ],
)
def test_money_format_shows_the_currency_and_every_minor_digit(money: Money, text: str) -> None:
    assert money.format() == text
