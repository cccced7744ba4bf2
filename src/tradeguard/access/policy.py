"""Numbers that govern callers: token lifetimes, rate limits, idempotency retention."""

from __future__ import annotations

from pydantic import Field

from tradeguard.kernel.periods import Period
from tradeguard.kernel.policytypes import CalendarPeriodField, PolicySection


class AccessPolicy(PolicySection):
    """Tokens, rate limits and idempotency keys of the API (DESIGN.md §15)."""

    participant_token_ttl_s: int = Field(
        default=900,
        ge=30,
        le=86_400,
        description="Default lifetime of a buyer or seller token (15 minutes).",
    )
    participant_token_max_ttl_s: int = Field(
        default=86_400, ge=60, le=604_800, description="Longest lifetime an operator may ask for."
    )
    staff_token_ttl_s: int = Field(
        default=28_800, ge=300, le=86_400, description="Lifetime of a staff login (8 hours)."
    )
    api_key_requests_per_minute: int = Field(
        default=6_000, ge=1, description="Rate limit per operator API key."
    )
    participant_requests_per_minute: int = Field(
        default=300, ge=1, description="Rate limit per buyer or seller token."
    )
    staff_requests_per_minute: int = Field(
        default=600, ge=1, description="Rate limit per staff login."
    )
    anonymous_requests_per_minute: int = Field(
        default=600, ge=1, description="Rate limit per client address for unauthenticated calls."
    )
    idempotency_key_retention: CalendarPeriodField = Field(
        default=Period.hours(24),
        description="How long a stored Idempotency-Key response is replayed.",
    )
    idempotency_lease_s: int = Field(
        default=60,
        ge=5,
        le=3600,
        description="A request still running after this long no longer blocks a retry with the same key.",
    )
