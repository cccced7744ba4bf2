"""Business registration numbers, validated per country (DESIGN.md §10).

China's unified social credit code (统一社会信用代码) follows GB 32100-2015: 18
characters from a 31-character alphabet (no I, O, S, V, Z), a 6-digit
administrative division code at positions 3-8, and a final check character
computed from the first 17 with weights 3^i mod 31. Other countries plug their
own validator into :data:`VALIDATORS`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from tradeguard.kernel.errors import ValidationFailed

USCC_ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS: Final = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, ...
_GB_COMPANY: Final = re.compile(r"^(?:\d{8}|(?:SC|NI|OC|SO|NC|R0|IP|SP|RC|LP|SL|FC)\d{6})$")

#: A validator returns the normalised number or raises ValidationFailed.
Validator = Callable[[str], str]


def uscc_check_character(first17: str) -> str:
    """The GB 32100-2015 check character of the first 17 characters of a credit code.

    >>> uscc_check_character("91350100M000100Y4")
    '3'
    """
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def validate_uscc(value: str) -> str:
    """Validate a China unified social credit code; return it upper-cased.

    >>> validate_uscc("91350100m000100y43")
    '91350100M000100Y43'
    """
    code = value.strip().upper()
    if len(code) != 18:
        raise ValidationFailed(
            "A unified social credit code has 18 characters.", field="registration_number"
        )
    if any(c not in USCC_ALPHABET for c in code):
        raise ValidationFailed(
            "A unified social credit code uses digits and letters other than I, O, S, V and Z.",
            field="registration_number",
        )
    if not code[2:8].isdigit():
        raise ValidationFailed(
            "Characters 3-8 of a unified social credit code are the administrative division code.",
            field="registration_number",
        )
    if uscc_check_character(code[:17]) != code[17]:
        raise ValidationFailed(
            "The unified social credit code's check character does not match (GB 32100-2015).",
            field="registration_number",
        )
    return code


def validate_uk_company_number(value: str) -> str:
    """Validate a UK Companies House number (8 digits, or a 2-letter prefix and 6 digits).

    >>> validate_uk_company_number("sc123456")
    'SC123456'
    """
    number = value.strip().upper()
    if not _GB_COMPANY.match(number):
        raise ValidationFailed(
            "A UK company number is 8 digits, or a 2-letter prefix and 6 digits.",
            field="registration_number",
        )
    return number


#: Validators by ISO 3166 country; an operator's build adds its own with :func:`register`.
VALIDATORS: dict[str, Validator] = {"CN": validate_uscc, "GB": validate_uk_company_number}


def register(country: str, validator: Validator) -> None:
    """Plug in the registration-number validator of another country."""
    VALIDATORS[country.upper()] = validator


def validate_registration(country: str, number: str) -> str:
    """Validate ``number`` with ``country``'s validator; refuse countries without one."""
    validator = VALIDATORS.get(country.upper())
    if validator is None:
        raise ValidationFailed(
            f"No registration-number validator for country {country!r}; "
            f"known: {', '.join(sorted(VALIDATORS))}.",
            field="country",
        )
    return validator(number)
