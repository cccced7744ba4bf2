"""The webhook dispatcher: sends leased deliveries over HTTP, signed per Standard Webhooks.

Each delivery carries ``webhook-id`` (the event id, stable across retries so
receivers can de-duplicate), ``webhook-timestamp`` and ``webhook-signature``
(HMAC-SHA256 over ``id.timestamp.body`` with the endpoint's secret). The host is
resolved and checked against the SSRF rules right before sending and the
connection is pinned to the address that passed, so DNS cannot be re-pointed
between the check and the call.
"""

from __future__ import annotations

import ipaddress
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx
import structlog
from standardwebhooks import Webhook

from tradeguard.events import rules
from tradeguard.events.model import Dispatch
from tradeguard.events.webhooks import Resolver, WebhookService
from tradeguard.kernel.clock import Clock, SystemClock
from tradeguard.kernel.errors import ValidationFailed

log = structlog.get_logger("tradeguard.webhooks")
USER_AGENT = "TradeGuard-Webhooks/0.1"
#: Events read per fan-out; a pass fans out again only after a full batch.
FAN_OUT_BATCH = 500


@dataclass(frozen=True)
class DispatchReport:
    """What one dispatcher pass did."""

    events_fanned_out: int = 0
    sent: int = 0
    succeeded: int = 0
    failed: int = 0


class WebhookDispatcher:
    """Fans out new events, then sends due deliveries (a few in parallel)."""

    def __init__(
        self,
        service: WebhookService,
        resolver: Resolver,
        *,
        client: httpx.Client | None = None,
        signing_clock: Clock | None = None,
        parallel: int = 8,
        on_attempt: Callable[[bool], None] | None = None,
    ) -> None:
        self._service = service
        self._resolve = resolver
        self._client = client or httpx.Client(
            follow_redirects=False, headers={"user-agent": USER_AGENT}
        )
        # Receivers check the timestamp against their own clock: sign with the real one.
        self._signing_clock = signing_clock or SystemClock()
        self._parallel = parallel
        self._on_attempt = on_attempt

    def run_once(self, batch: int = 50) -> DispatchReport:
        """One pass: fan out every new event, send what is due."""
        fanned = 0
        while True:
            count = self._service.fan_out(FAN_OUT_BATCH)
            fanned += count
            # A short batch means the backlog is gone. Looping until a pass found nothing
            # spun on a busy outbox (new events every few milliseconds) and took ~8 % of
            # each API process's CPU; what arrives meanwhile waits for the next pass.
            if count < FAN_OUT_BATCH:
                break
        dispatches = self._service.claim(batch)
        if not dispatches:
            return DispatchReport(fanned)
        if len(dispatches) == 1 or self._parallel <= 1:
            outcomes = [self._send(d) for d in dispatches]
        else:
            with ThreadPoolExecutor(max_workers=min(self._parallel, len(dispatches))) as pool:
                outcomes = list(pool.map(self._send, dispatches))
        succeeded = sum(outcomes)
        return DispatchReport(fanned, len(outcomes), succeeded, len(outcomes) - succeeded)

    def drain(self, max_passes: int = 100, settle_s: float = 10.0) -> DispatchReport:
        """Pass until every committed event is fanned out and nothing is due (tests, ``--once``).

        Events held back behind a still-running transaction are waited for, up to
        ``settle_s`` seconds.
        """
        total = DispatchReport()
        settle_until = time.monotonic() + settle_s
        passes = 0
        while passes < max_passes:
            passes += 1
            report = self.run_once()
            total = DispatchReport(
                total.events_fanned_out + report.events_fanned_out,
                total.sent + report.sent,
                total.succeeded + report.succeeded,
                total.failed + report.failed,
            )
            if report.sent == 0 and report.events_fanned_out == 0:
                if time.monotonic() < settle_until and self._service.held_back():
                    passes -= 1  # waiting for other transactions is not a pass
                    time.sleep(0.01)
                    continue
                break
        return total

    def _send(self, dispatch: Dispatch) -> bool:
        body = json.dumps(dispatch.payload(), separators=(",", ":"), ensure_ascii=False)
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        try:
            url, host_header, sni = self._pinned(dispatch.endpoint.url)
            now = self._signing_clock.now()
            headers = {
                "content-type": "application/json",
                "webhook-id": dispatch.event.id,
                "webhook-timestamp": str(int(now.timestamp())),
                "webhook-signature": Webhook(dispatch.endpoint.secret).sign(
                    dispatch.event.id, now, body
                ),
                "host": host_header,
            }
            extensions = {"sni_hostname": sni} if sni else {}
            response = self._client.post(
                url,
                content=body.encode(),
                headers=headers,
                timeout=self._service.policy.timeout_s,
                extensions=extensions,
            )
            status = response.status_code
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except ValidationFailed as exc:
            error = exc.message
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        duration_ms = int((time.perf_counter() - started) * 1000)
        self._service.record(
            dispatch.delivery.id, status_code=status, error=error, duration_ms=duration_ms
        )
        succeeded = error is None
        if self._on_attempt is not None:
            self._on_attempt(succeeded)
        log.info(
            "webhook attempt",
            delivery_id=dispatch.delivery.id,
            event_id=dispatch.event.id,
            endpoint_id=dispatch.endpoint.id,
            status=status,
            error=error,
            duration_ms=duration_ms,
        )
        return succeeded

    def _pinned(self, url: str) -> tuple[str, str, str | None]:
        """The URL with its host replaced by a checked address, the Host header, and the TLS name."""
        host, port = rules.endpoint_host(url)
        try:
            addresses = self._resolve(host, port)
        except OSError:
            raise ValidationFailed(f"The webhook host {host} does not resolve.") from None
        rules.check_addresses(host, addresses, self._service.policy)
        address = ipaddress.ip_address(addresses[0].split("%", 1)[0])
        literal = f"[{address}]" if address.version == 6 else str(address)
        parts = urlsplit(url)
        netloc = f"{literal}:{parts.port}" if parts.port else literal
        host_header = f"{host}:{parts.port}" if parts.port else host
        pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
        return pinned, host_header, host if parts.scheme == "https" else None

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()
