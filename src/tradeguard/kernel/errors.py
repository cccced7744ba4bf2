"""Errors TradeGuard raises on purpose.

Each error has a stable snake_case ``code`` (it becomes the problem+json ``type``
and ``code`` over HTTP) and a ``kind`` that adapters map to a status: the API to
an HTTP status, the CLI to an exit code. Domain code knows neither.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar


class ErrorKind(StrEnum):
    """What sort of refusal an error is; adapters map it to their own vocabulary."""

    INVALID = (
        "invalid"  #: the request itself is wrong (bad amount, unknown currency, limit exceeded)
    )
    NOT_FOUND = "not_found"  #: no such object, or not one the caller may see
    CONFLICT = "conflict"  #: the object's current state does not allow this
    FORBIDDEN = "forbidden"  #: the caller's role may never do this
    UNAVAILABLE = "unavailable"  #: a transient condition; retrying later may succeed


class TradeGuardError(Exception):
    """Something TradeGuard refused; the docstring is the default message."""

    code: ClassVar[str] = "tradeguard_error"
    kind: ClassVar[ErrorKind] = ErrorKind.INVALID

    def __init__(self, message: str | None = None, **details: Any) -> None:
        self.message = message or (self.__doc__ or self.code).strip().splitlines()[0]
        self.details = details
        super().__init__(self.message)


class InvalidAmount(TradeGuardError):
    """The amount is not a valid integer count of minor units."""

    code = "invalid_amount"


class UnknownCurrency(TradeGuardError):
    """The currency is not a supported ISO 4217 code."""

    code = "unknown_currency"

    def __init__(self, currency: str) -> None:
        super().__init__(f"Unknown or unsupported currency {currency!r}.", currency=currency)


class CurrencyMismatch(TradeGuardError):
    """Amounts in different currencies cannot be combined."""

    code = "currency_mismatch"

    def __init__(self, left: str, right: str) -> None:
        super().__init__(f"Cannot combine {left} with {right}.", left=left, right=right)


class NotFound(TradeGuardError):
    """No such object, or not one you may see."""

    code = "not_found"
    kind = ErrorKind.NOT_FOUND

    def __init__(self, what: str, identifier: str) -> None:
        super().__init__(f"No {what} {identifier!r}.", object=what, id=identifier)


class TransitionNotAllowed(TradeGuardError):
    """This action is not allowed in the current state."""

    code = "transition_not_allowed"
    kind = ErrorKind.CONFLICT

    def __init__(self, machine: str, state: str, event: str, actor: str, reason: str = "") -> None:
        self.machine, self.state, self.event, self.actor = machine, state, event, actor
        article = "an" if machine[:1].lower() in "aeiou" else "a"
        text = f"Can't {event} {article} {machine} that is {state} as {actor}."
        if reason:
            text = f"{text[:-1]}: {reason}."
        super().__init__(text, machine=machine, state=state, event=event, actor=actor)


class Forbidden(TradeGuardError):
    """Your role may not do this."""

    code = "forbidden"
    kind = ErrorKind.FORBIDDEN


class ValidationFailed(TradeGuardError):
    """The request is not valid."""

    code = "validation_failed"


class Conflict(TradeGuardError):
    """The request conflicts with the current state."""

    code = "conflict"
    kind = ErrorKind.CONFLICT


class AlreadyExists(Conflict):
    """Something with the same unique identity was created at the same time."""

    code = "already_exists"


class TransientFailure(TradeGuardError):
    """A transient condition (lock timeout, deadlock) prevented this; retry later."""

    code = "transient_failure"
    kind = ErrorKind.UNAVAILABLE
