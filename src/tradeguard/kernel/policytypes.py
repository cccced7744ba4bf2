"""Building blocks for policy sections: a strict, frozen pydantic base and typed fields.

Every number of DESIGN.md lives in a policy section; each context owns its
section and :mod:`tradeguard.policy` composes them into the one object an
operator overrides from a TOML file or a named preset.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer

from tradeguard.kernel.periods import Period, period_validator

#: A policy duration, written ``72h``, ``10d`` or ``3wd`` in TOML.
PeriodField = Annotated[
    Period,
    BeforeValidator(period_validator),
    PlainSerializer(str, return_type=str),
]


def _calendar_period(value: object) -> Period:
    period = period_validator(value)
    if not period.is_calendar_time:
        raise ValueError(
            "this period is counted backwards from a deadline; use hours or days, not working days"
        )
    return period


#: A policy duration that must be plain elapsed time (``24h``, ``2d``), e.g. reminder lead times.
CalendarPeriodField = Annotated[
    Period,
    BeforeValidator(_calendar_period),
    PlainSerializer(str, return_type=str),
]

#: A rate in basis points, 0 to 10 000 (0 % to 100 %).
Bps = Annotated[int, Field(ge=0, le=10_000, strict=True)]

#: A non-negative whole count.
Count = Annotated[int, Field(ge=0, strict=True)]


class PolicySection(BaseModel):
    """Base of policy sections: immutable, and unknown keys are errors rather than typos ignored."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)
