"""What events need from storage."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from tradeguard.events.model import (
    DeliveryAttempt,
    Dispatch,
    DomainEvent,
    StoredEvent,
    WebhookDelivery,
    WebhookEndpoint,
)


class Outbox(Protocol):
    """The outbox table: append in the unit of work, read for timelines and delivery."""

    def append(self, events: Sequence[tuple[str, DomainEvent]], at: datetime) -> None:
        """Store ``(event_id, event)`` pairs, in order."""
        ...

    def for_order(self, order_id: str, *, after: int = 0, limit: int = 100) -> list[StoredEvent]:
        """An order's events in the order they happened."""
        ...

    def after(
        self, sequence: int, limit: int, *, include_unsettled: bool = False
    ) -> list[StoredEvent]:
        """Events with a sequence number greater than ``sequence``, oldest first.

        Stops before any event that a still-running transaction might precede with an
        earlier sequence number, so a reader that remembers the last sequence it saw
        never skips an event; ``include_unsettled`` reads every committed event instead
        (for a one-off look, never for a cursor). Events numbered since the last
        :meth:`mark` are held back.
        """
        ...

    def passable(self, sequence: int) -> tuple[int, int]:
        """How far :meth:`after` would read past ``sequence`` with no limit, without reading.

        Returns the last sequence number such a read would reach (``sequence`` itself when
        there is nothing new) and how many events lie up to it: for a reader that wants
        none of those events but must not skip any that come later.
        """
        ...

    def mark(self) -> None:
        """Record how far events are numbered, so that :meth:`after` may read up to there.

        Run it in a unit of work of its own, before the unit that reads.
        """
        ...

    def last_sequence(self) -> int:
        """The highest sequence number committed (0 when empty), held back or not."""
        ...


class WebhookStore(Protocol):
    """Endpoints, deliveries, attempts and the fan-out cursor."""

    def insert_endpoint(self, endpoint: WebhookEndpoint) -> None:
        """Store an endpoint."""
        ...

    def endpoint(self, endpoint_id: str) -> WebhookEndpoint | None:
        """An endpoint by id."""
        ...

    def endpoints(self, *, enabled_only: bool) -> list[WebhookEndpoint]:
        """Endpoints, oldest first."""
        ...

    def disable_endpoint(self, endpoint_id: str, at: datetime) -> bool:
        """Disable an enabled endpoint; False if there is none."""
        ...

    def give_up_pending(self, endpoint_id: str, reason: str, at: datetime) -> None:
        """Mark every pending delivery to an endpoint failed with ``reason``."""
        ...

    def lock_cursor(self) -> int:
        """Lock the fan-out cursor for this unit of work and return the last event sequence fanned out."""
        ...

    def set_cursor(self, sequence: int) -> None:
        """Advance the fan-out cursor."""
        ...

    def cursor(self) -> int:
        """The last event sequence fanned out, without locking."""
        ...

    def insert_deliveries(self, deliveries: Sequence[WebhookDelivery]) -> None:
        """Store new deliveries."""
        ...

    def claim_due(self, now: datetime, limit: int, lease_until: datetime) -> list[Dispatch]:
        """Lease up to ``limit`` pending deliveries due by ``now`` (skipping rows others hold)."""
        ...

    def delivery(self, delivery_id: str, *, lock: bool = False) -> WebhookDelivery | None:
        """A delivery by id."""
        ...

    def update_delivery(self, delivery: WebhookDelivery) -> None:
        """Write back a delivery's state and bookkeeping."""
        ...

    def insert_attempt(self, attempt: DeliveryAttempt) -> None:
        """Log an attempt."""
        ...

    def attempts(self, delivery_id: str) -> list[DeliveryAttempt]:
        """A delivery's attempts in order."""
        ...

    def deliveries(
        self, *, endpoint_id: str | None, event_id: str | None, before_id: str | None, limit: int
    ) -> list[WebhookDelivery]:
        """Deliveries newest first, optionally of one endpoint or one event."""
        ...

    def event(self, event_id: str) -> StoredEvent | None:
        """An outbox event by id."""
        ...


class WebhooksUnitOfWork(Protocol):
    """What webhook use cases touch."""

    @property
    def outbox(self) -> Outbox:
        """Domain events."""
        ...

    @property
    def webhooks(self) -> WebhookStore:
        """Endpoints and deliveries."""
        ...
