"""Webhook endpoints and deliveries: fan-out from the outbox, leases, retries, replay (DESIGN.md §13).

Sending is not done here: the dispatcher adapter claims deliveries (a short
transaction that leases them), makes the HTTP calls outside any transaction, and
reports each outcome back. A dispatcher that dies mid-send loses nothing: the
lease runs out and another picks the delivery up.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from tradeguard.events import rules
from tradeguard.events.model import (
    DELIVERY_TRANSITIONS,
    DeliveryAttempt,
    DeliveryEvent,
    DeliveryState,
    Dispatch,
    StoredEvent,
    WebhookDelivery,
    WebhookEndpoint,
)
from tradeguard.events.policy import WebhookPolicy
from tradeguard.events.ports import WebhooksUnitOfWork
from tradeguard.kernel.errors import Conflict, NotFound, ValidationFailed
from tradeguard.kernel.parties import Actor
from tradeguard.kernel.runtime import Runtime
from tradeguard.kernel.uow import UnitOfWorkRunner

#: Resolves a host and port to IP address strings (``socket.getaddrinfo`` in production).
Resolver = Callable[[str, int], list[str]]

MAX_EVENT_TYPES = 50


class WebhookService:
    """Register endpoints, fan events out to them, and keep the delivery log."""

    def __init__(
        self,
        units: UnitOfWorkRunner[WebhooksUnitOfWork],
        runtime: Runtime,
        policy: WebhookPolicy,
        resolver: Resolver,
    ) -> None:
        self._units = units
        self._rt = runtime
        self.policy = policy
        self._resolve = resolver

    # -- endpoints ------------------------------------------------------------------------------

    def check_url(self, url: str) -> None:
        """Refuse URLs whose host resolves to an address the policy forbids (also checked at send time)."""
        host, port = rules.endpoint_host(url)
        try:
            addresses = self._resolve(host, port)
        except OSError:
            raise ValidationFailed(
                f"The webhook host {host} does not resolve.", field="url"
            ) from None
        rules.check_addresses(host, addresses, self.policy)

    def register(
        self, url: str, event_types: Sequence[str], description: str = ""
    ) -> WebhookEndpoint:
        """Register an endpoint; its signing secret is generated here and shown to the operator."""
        if len(url) > 2000:
            raise ValidationFailed("A webhook URL is at most 2000 characters.", field="url")
        types = tuple(dict.fromkeys(t.strip() for t in event_types if t.strip())) or ("*",)
        if len(types) > MAX_EVENT_TYPES or any(len(t) > 80 for t in types):
            raise ValidationFailed("Too many or too long event types.", field="event_types")
        self.check_url(url)
        now = self._rt.clock.now()
        secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
        endpoint = WebhookEndpoint(
            self._rt.ids.new("we", now), url, types, secret, description[:500], now
        )
        self._units.run(lambda uow: uow.webhooks.insert_endpoint(endpoint))
        return endpoint

    def endpoint(self, endpoint_id: str) -> WebhookEndpoint:
        """An endpoint by id."""
        endpoint = self._units.run(lambda uow: uow.webhooks.endpoint(endpoint_id))
        if endpoint is None:
            raise NotFound("webhook endpoint", endpoint_id)
        return endpoint

    def endpoints(self) -> list[WebhookEndpoint]:
        """Every endpoint, oldest first."""
        return self._units.run(lambda uow: uow.webhooks.endpoints(enabled_only=False))

    def disable(self, endpoint_id: str) -> WebhookEndpoint:
        """Stop delivering to an endpoint; its log stays."""

        def work(uow: WebhooksUnitOfWork) -> WebhookEndpoint:
            now = self._rt.clock.now()
            if not uow.webhooks.disable_endpoint(endpoint_id, now):
                raise NotFound("enabled webhook endpoint", endpoint_id)
            # Retries already scheduled stop too: nothing more goes to a disabled endpoint.
            uow.webhooks.give_up_pending(endpoint_id, "endpoint disabled", now)
            endpoint = uow.webhooks.endpoint(endpoint_id)
            if endpoint is None:  # pragma: no cover - disabled just above
                raise NotFound("webhook endpoint", endpoint_id)
            return endpoint

        return self._units.run(work)

    # -- fan-out and delivery -------------------------------------------------------------------

    def feed(self, after: int, limit: int) -> list[StoredEvent]:
        """Events after sequence ``after`` in order, never skipping one that commits late."""
        self._mark()
        return self._units.run(lambda uow: uow.outbox.after(after, limit))

    def _mark(self) -> None:
        # In a unit of its own, before the reading unit (see ``Outbox.mark``).
        self._units.run(lambda uow: uow.outbox.mark())

    def fan_out(self, limit: int = 500) -> int:
        """Turn new outbox events into one delivery per interested endpoint; return how many events."""
        self._mark()

        def work(uow: WebhooksUnitOfWork) -> int:
            cursor = uow.webhooks.lock_cursor()
            endpoints = uow.webhooks.endpoints(enabled_only=True)
            if not endpoints:
                # Nobody to deliver to: move past the events without reading them. An
                # endpoint registered later wants only events from its creation on.
                upto, passed = uow.outbox.passable(cursor)
                if upto > cursor:
                    uow.webhooks.set_cursor(upto)
                return passed
            events = uow.outbox.after(cursor, limit)
            if not events:
                return 0
            now = self._rt.clock.now()
            deliveries = [
                WebhookDelivery(
                    self._rt.ids.new("wd", now),
                    e.id,
                    event.id,
                    event.type,
                    DeliveryState.PENDING,
                    0,
                    now,
                    now,
                )
                for event in events
                for e in endpoints
                if e.wants(event.type) and e.created_at <= event.occurred_at
            ]
            if deliveries:
                uow.webhooks.insert_deliveries(deliveries)
            uow.webhooks.set_cursor(events[-1].sequence)
            return len(events)

        return self._units.run(work)

    def held_back(self) -> bool:
        """Whether committed events still wait to be fanned out.

        On PostgreSQL an event is held back while a transaction that may hold a lower
        sequence number is still running (see ``Outbox.after`` and ``Outbox.mark``); a
        later pass picks it up.
        """
        return self._units.run(lambda uow: uow.outbox.last_sequence() > uow.webhooks.cursor())

    def claim(self, limit: int = 50, lease: timedelta = timedelta(seconds=60)) -> list[Dispatch]:
        """Lease due deliveries for sending; an unreported lease expires and the delivery is retried."""
        now = self._rt.clock.now()
        return self._units.run(lambda uow: uow.webhooks.claim_due(now, limit, now + lease))

    def record(
        self, delivery_id: str, *, status_code: int | None, error: str | None, duration_ms: int
    ) -> WebhookDelivery:
        """Log an attempt and move the delivery: succeeded on 2xx, else retried with backoff or given up."""

        def work(uow: WebhooksUnitOfWork) -> WebhookDelivery:
            delivery = uow.webhooks.delivery(delivery_id, lock=True)
            if delivery is None:
                raise NotFound("webhook delivery", delivery_id)
            now = self._rt.clock.now()
            attempt = DeliveryAttempt(
                delivery.id, delivery.attempts + 1, now, status_code, error, duration_ms
            )
            if delivery.state != DeliveryState.PENDING:
                return delivery  # a late report for a delivery another dispatcher already settled
            uow.webhooks.insert_attempt(attempt)
            retry_at = (
                None
                if attempt.succeeded
                else rules.next_attempt(attempt.number, delivery.created_at, now, self.policy)
            )
            if attempt.succeeded:
                event = DeliveryEvent.SUCCEED
            else:
                event = DeliveryEvent.RETRY if retry_at is not None else DeliveryEvent.GIVE_UP
            row = DELIVERY_TRANSITIONS.fire(delivery.state, event, Actor.SYSTEM)
            updated = replace(
                delivery,
                state=row.target,
                attempts=attempt.number,
                next_attempt_at=retry_at or delivery.next_attempt_at,
                last_status_code=status_code,
                last_error=error,
                finished_at=None if row.target == DeliveryState.PENDING else now,
            )
            uow.webhooks.update_delivery(updated)
            return updated

        return self._units.run(work)

    def replay(self, delivery_id: str) -> WebhookDelivery:
        """Send a delivery's event again, as a new delivery in the log (manual replay)."""

        def work(uow: WebhooksUnitOfWork) -> WebhookDelivery:
            original = uow.webhooks.delivery(delivery_id)
            if original is None:
                raise NotFound("webhook delivery", delivery_id)
            if original.state == DeliveryState.PENDING:
                raise Conflict(
                    "This delivery is still being attempted; replay it once it has settled."
                )
            endpoint = uow.webhooks.endpoint(original.endpoint_id)
            if endpoint is None or not endpoint.is_enabled:
                raise Conflict("The delivery's endpoint is disabled; register a new one first.")
            now = self._rt.clock.now()
            again = WebhookDelivery(
                self._rt.ids.new("wd", now),
                original.endpoint_id,
                original.event_id,
                original.event_type,
                DeliveryState.PENDING,
                0,
                now,
                now,
                replay_of=original.id,
            )
            uow.webhooks.insert_deliveries([again])
            return again

        return self._units.run(work)

    # -- the delivery log -----------------------------------------------------------------------

    def delivery(self, delivery_id: str) -> tuple[WebhookDelivery, list[DeliveryAttempt]]:
        """A delivery and its attempts."""

        def work(uow: WebhooksUnitOfWork) -> tuple[WebhookDelivery, list[DeliveryAttempt]]:
            delivery = uow.webhooks.delivery(delivery_id)
            if delivery is None:
                raise NotFound("webhook delivery", delivery_id)
            return delivery, uow.webhooks.attempts(delivery_id)

        return self._units.run(work)

    def deliveries(
        self,
        *,
        endpoint_id: str | None = None,
        event_id: str | None = None,
        before_id: str | None = None,
        limit: int = 50,
    ) -> list[WebhookDelivery]:
        """Deliveries, newest first."""
        limit = max(1, min(limit, 200))
        return self._units.run(
            lambda uow: uow.webhooks.deliveries(
                endpoint_id=endpoint_id, event_id=event_id, before_id=before_id, limit=limit
            )
        )

    def now(self) -> datetime:
        """The service clock's now (the dispatcher records durations with it)."""
        return self._rt.clock.now()
