"""Money as integer minor units of one ISO 4217 currency (DESIGN.md §3).

No float ever touches an amount. Rates are basis points (1 bp = 0.01 %), rounded
half-even to a whole minor unit, and splits hand the leftover units out
deterministically so that the parts always sum to the whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from tradeguard.kernel.errors import CurrencyMismatch, InvalidAmount, UnknownCurrency

#: ISO 4217 minor-unit exponents of the currencies TradeGuard accepts. Extending
#: the table is safe; changing an exponent of a currency in use is not.
MINOR_UNIT_EXPONENT: Final[dict[str, int]] = {
    "CNY": 2,
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "RON": 2,
    "HKD": 2,
    "TWD": 2,
    "SGD": 2,
    "AUD": 2,
    "CAD": 2,
    "BRL": 2,
    "RUB": 2,
    "PLN": 2,
    "MXN": 2,
    "INR": 2,
    "TRY": 2,
    "JPY": 0,
    "KRW": 0,
    "VND": 0,
    "CLP": 0,
    "KWD": 3,
    "BHD": 3,
}

BPS_DENOMINATOR: Final = 10_000

#: The largest amount TradeGuard handles, in minor units (10 trillion yuan): far below the
#: 64-bit columns' limit, so no sum of a few amounts can overflow storage.
MAX_AMOUNT_MINOR: Final = 10**15


def check_currency(currency: str) -> str:
    """Return ``currency`` if it is a supported ISO 4217 code, else raise UnknownCurrency.

    >>> check_currency("CNY")
    'CNY'
    """
    if currency not in MINOR_UNIT_EXPONENT:
        raise UnknownCurrency(currency)
    return currency


def minor_per_major(currency: str) -> int:
    """Return how many minor units make one major unit (100 for CNY, 1 for JPY).

    >>> minor_per_major("CNY"), minor_per_major("JPY"), minor_per_major("KWD")
    (100, 1, 1000)
    """
    result: int = 10 ** MINOR_UNIT_EXPONENT[check_currency(currency)]
    return result


@dataclass(frozen=True, slots=True, order=False)
class Money:
    """A count of minor units of one ISO 4217 currency. Never a float.

    >>> Money(1999, "CNY") + Money(1, "CNY")
    Money(amount_minor=2000, currency='CNY')
    """

    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        # type() rather than isinstance(): bool is an int subclass and must be refused too.
        if type(self.amount_minor) is not int:
            raise InvalidAmount(
                f"amount_minor must be an integer count of minor units, not {type(self.amount_minor).__name__}"
            )
        if abs(self.amount_minor) > MAX_AMOUNT_MINOR:
            raise InvalidAmount(
                f"{self.amount_minor} minor units is beyond the largest amount handled ({MAX_AMOUNT_MINOR})."
            )
        check_currency(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        """Return nothing, in ``currency``."""
        return cls(0, currency)

    def _same_currency(self, other: Money) -> None:
        if self.currency != other.currency:
            raise CurrencyMismatch(self.currency, other.currency)

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount_minor + other.amount_minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount_minor - other.amount_minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount_minor, self.currency)

    def __mul__(self, factor: int) -> Money:
        if type(factor) is not int:
            raise InvalidAmount(
                "money can only be multiplied by an integer; use apply_bps for rates"
            )
        return Money(self.amount_minor * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount_minor < other.amount_minor

    def __le__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount_minor <= other.amount_minor

    def __gt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount_minor > other.amount_minor

    def __ge__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount_minor >= other.amount_minor

    @property
    def is_zero(self) -> bool:
        """True when the amount is exactly nothing."""
        return self.amount_minor == 0

    def format(self) -> str:
        """Render for people, e.g. ``CNY 12.50``; display only, never parsed back.

        >>> Money(1250, "CNY").format(), Money(-5, "USD").format(), Money(300, "JPY").format()
        ('CNY 12.50', 'USD -0.05', 'JPY 300')
        """
        exponent = MINOR_UNIT_EXPONENT[self.currency]
        sign = "-" if self.amount_minor < 0 else ""
        whole, fraction = divmod(abs(self.amount_minor), 10**exponent)
        if exponent == 0:
            return f"{self.currency} {sign}{whole}"
        return f"{self.currency} {sign}{whole}.{fraction:0{exponent}d}"


def round_half_even(numerator: int, denominator: int) -> int:
    """Divide two integers, rounding to the nearest integer and ties to even.

    Half-even (banker's rounding) keeps the sum of many rounded fees unbiased,
    which matters when millions of orders each pay a fee.

    >>> round_half_even(5, 2), round_half_even(7, 2), round_half_even(-5, 2)
    (2, 4, -2)
    """
    if denominator <= 0:
        raise InvalidAmount("denominator must be positive")
    quotient, remainder = divmod(numerator, denominator)
    twice = remainder * 2
    if twice > denominator or (twice == denominator and quotient % 2 == 1):
        quotient += 1
    return quotient


def apply_bps(amount: Money, rate_bps: int) -> Money:
    """Return ``amount * rate_bps / 10_000``, rounded half-even to a whole minor unit.

    >>> apply_bps(Money(250, "CNY"), 500)  # 5 % of 2.50 is 0.125 -> 0.12
    Money(amount_minor=12, currency='CNY')
    >>> apply_bps(Money(350, "CNY"), 500)  # 0.175 -> 0.18
    Money(amount_minor=18, currency='CNY')
    """
    if type(rate_bps) is not int:
        raise InvalidAmount("rates are integer basis points")
    return Money(round_half_even(amount.amount_minor * rate_bps, BPS_DENOMINATOR), amount.currency)


def allocate(total: Money, weights: Sequence[int]) -> list[Money]:
    """Split ``total`` in proportion to non-negative integer ``weights``; parts sum to ``total``.

    Each part gets its floor share; the leftover minor units go one each to the
    largest remainders, ties to the earliest weight, so the split is deterministic.

    >>> [m.amount_minor for m in allocate(Money(100, "CNY"), [1, 1, 1])]
    [34, 33, 33]
    >>> [m.amount_minor for m in allocate(Money(1000, "CNY"), [700, 300])]
    [700, 300]
    """
    if not weights:
        raise InvalidAmount("allocate needs at least one weight")
    if any(type(w) is not int or w < 0 for w in weights):
        raise InvalidAmount("weights must be non-negative integers")
    weight_sum = sum(weights)
    if weight_sum == 0:
        raise InvalidAmount("weights must not all be zero")
    sign = -1 if total.amount_minor < 0 else 1
    magnitude = abs(total.amount_minor)
    shares = [divmod(magnitude * w, weight_sum) for w in weights]
    parts = [q for q, _ in shares]
    leftover = magnitude - sum(parts)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-shares[i][1], i))
    for i in by_remainder[:leftover]:
        parts[i] += 1
    return [Money(sign * p, total.currency) for p in parts]


def major_units(amount_major: int, currency: str) -> Money:
    """Return a whole number of major units (e.g. the 30-yuan compensation cap) as Money.

    >>> major_units(30, "CNY")
    Money(amount_minor=3000, currency='CNY')
    """
    return Money(amount_major * minor_per_major(currency), currency)
