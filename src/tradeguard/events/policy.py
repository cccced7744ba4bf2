"""Webhook delivery numbers (DESIGN.md §13)."""

from __future__ import annotations

from pydantic import Field

from tradeguard.kernel.periods import Period
from tradeguard.kernel.policytypes import CalendarPeriodField, PolicySection


class WebhookPolicy(PolicySection):
    """How hard TradeGuard tries to deliver webhooks, and where it may send them."""

    retry_for: CalendarPeriodField = Field(
        default=Period.days(3),
        description="Keep retrying a failing delivery this long after it was created.",
    )
    first_retry_after_s: int = Field(
        default=5,
        ge=1,
        le=3600,
        description="Delay before the first retry; each later retry waits longer.",
    )
    backoff_factor: int = Field(
        default=4,
        ge=2,
        le=10,
        description="Each retry waits this many times longer than the one before ...",
    )
    longest_retry_delay: CalendarPeriodField = Field(
        default=Period.hours(8), description="... but never longer than this."
    )
    timeout_s: float = Field(
        default=10.0, gt=0, le=60, description="Seconds to wait for an endpoint's answer."
    )
    allow_private_networks: bool = Field(
        default=False, description="Allow endpoints on private (RFC 1918, ULA) addresses."
    )
    allow_localhost: bool = Field(
        default=False,
        description="Allow endpoints on loopback addresses (development only; `serve --dev` sets it).",
    )
