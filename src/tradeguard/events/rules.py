"""Pure webhook rules: retry schedule and which endpoint addresses are allowed."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from tradeguard.events.policy import WebhookPolicy
from tradeguard.kernel.errors import ValidationFailed


def retry_delay(attempts: int, policy: WebhookPolicy) -> timedelta:
    """Wait before retry number ``attempts`` (1 = first retry): exponential, capped.

    >>> p = WebhookPolicy()
    >>> [int(retry_delay(n, p).total_seconds()) for n in (1, 2, 3, 4, 5, 9)]
    [5, 20, 80, 320, 1280, 28800]
    """
    longest = policy.longest_retry_delay.as_timedelta()
    # Cap before building a timedelta: the uncapped exponential overflows one after ~20 retries.
    seconds = policy.first_retry_after_s * policy.backoff_factor ** max(0, min(attempts - 1, 60))
    return min(timedelta(seconds=min(seconds, longest.total_seconds())), longest)


def next_attempt(
    attempts: int, created_at: datetime, now: datetime, policy: WebhookPolicy
) -> datetime | None:
    """When to try again after ``attempts`` failed attempts, or None once the retry period is over."""
    at = now + retry_delay(attempts, policy)
    if at > created_at + policy.retry_for.as_timedelta():
        return None
    return at


def endpoint_host(url: str) -> tuple[str, int]:
    """The host and port a webhook URL points at; refuses anything but http(s) URLs with a host."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http"):
        raise ValidationFailed(
            "A webhook URL must start with https:// (or http:// for development).", field="url"
        )
    if not parts.hostname:
        raise ValidationFailed("A webhook URL needs a host name.", field="url")
    if parts.username or parts.password:
        raise ValidationFailed("A webhook URL must not carry credentials.", field="url")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ValidationFailed("The webhook URL's port is not a number.", field="url") from None
    return parts.hostname, port


def check_addresses(host: str, addresses: Iterable[str], policy: WebhookPolicy) -> None:
    """Refuse a host that resolves to an address TradeGuard must not call (SSRF protection).

    Every resolved address must pass: loopback only when ``allow_localhost``;
    link-local (cloud metadata at 169.254.169.254), multicast, reserved and
    unspecified addresses never; any other address that is not globally routable
    (RFC 1918, unique-local, the 100.64.0.0/10 carrier-grade range where some
    clouds serve metadata, documentation and benchmark ranges) only when
    ``allow_private_networks``.
    """
    resolved = list(addresses)
    if not resolved:
        raise ValidationFailed(f"The webhook host {host} does not resolve.", field="url")
    for text in resolved:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        mapped = getattr(address, "ipv4_mapped", None)
        if mapped is not None:
            address = mapped
        if address.is_loopback:
            if not policy.allow_localhost:
                raise ValidationFailed(
                    f"The webhook host {host} resolves to a loopback address ({address}); allowed only in development.",
                    field="url",
                )
            continue
        if (
            address.is_link_local
            or address.is_multicast
            or address.is_unspecified
            or address.is_reserved
        ):
            raise ValidationFailed(
                f"The webhook host {host} resolves to a forbidden address ({address}).", field="url"
            )
        if not address.is_global and not policy.allow_private_networks:
            raise ValidationFailed(
                f"The webhook host {host} resolves to a private address ({address}); the policy does not allow private networks.",
                field="url",
            )
