"""Errors the after-sales context raises on purpose, each with a stable code."""

from __future__ import annotations

from tradeguard.kernel.errors import Conflict, ValidationFailed


class RefundNotAllowed(Conflict):
    """This refund request is not allowed for the order as it stands."""

    code = "refund_not_allowed"


class RefundAlreadyOpen(Conflict):
    """The order already has an open refund request."""

    code = "refund_already_open"


class NoReasonWindowPassed(Conflict):
    """The seven-day no-reason return window has passed."""

    code = "no_reason_window_passed"


class RefundAmountInvalid(ValidationFailed):
    """The refund amount is not allowed for this order, kind and reason."""

    code = "invalid_refund_amount"
