"""Domain events: facts, named in the past tense, written in the same transaction as the change.

The outbox row is the event's only record until a dispatcher delivers it; it
also forms each order's timeline. ``type`` names are ``<subject>.<fact>``,
such as ``order.paid`` or ``order.auto_confirm_reminder``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from tradeguard.kernel.parties import Actor
from tradeguard.kernel.statemachine import TransitionTable


@dataclass(frozen=True, slots=True)
class DomainEvent:
    """A fact that happened to a subject, with a JSON-serialisable snapshot."""

    type: str
    subject: str
    data: Mapping[str, Any] = field(default_factory=dict)
    order_id: str | None = None  #: lets an order's timeline include other contexts' events


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as stored in the outbox."""

    sequence: int
    id: str
    type: str
    subject: str
    order_id: str | None
    data: Mapping[str, Any]
    occurred_at: datetime


class DeliveryState(StrEnum):
    """Where a webhook delivery stands."""

    PENDING = "pending"  #: waiting for its next attempt
    SUCCEEDED = "succeeded"  #: the endpoint answered 2xx
    FAILED = "failed"  #: retries exhausted; a manual replay may send it again


class DeliveryEvent(StrEnum):
    """What an attempt's outcome does to a delivery."""

    SUCCEED = "succeed"
    RETRY = "retry"
    GIVE_UP = "give_up"


# fmt: off
DELIVERY_TRANSITIONS: Final = TransitionTable[DeliveryState, DeliveryEvent, DeliveryEvent](
    "webhook delivery",
    DeliveryState,
    initial=DeliveryState.PENDING,
    final={DeliveryState.SUCCEEDED, DeliveryState.FAILED},
    rows=[
        # source                event                 actor         target                  effects
        (DeliveryState.PENDING, DeliveryEvent.SUCCEED, Actor.SYSTEM, DeliveryState.SUCCEEDED, []),
        (DeliveryState.PENDING, DeliveryEvent.RETRY,   Actor.SYSTEM, DeliveryState.PENDING,   []),
        (DeliveryState.PENDING, DeliveryEvent.GIVE_UP, Actor.SYSTEM, DeliveryState.FAILED,    []),
    ],
)
# fmt: on


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    """Where the operator wants events delivered, which ones, and the secret they are signed with."""

    id: str
    url: str
    event_types: tuple[str, ...]  #: exact types ("order.paid") or prefixes ("order.*"), or "*"
    secret: str  #: Standard Webhooks secret, ``whsec_`` + base64
    description: str
    created_at: datetime
    disabled_at: datetime | None = None

    @property
    def is_enabled(self) -> bool:
        """True until disabled."""
        return self.disabled_at is None

    def wants(self, event_type: str) -> bool:
        """True when ``event_type`` passes the endpoint's filter.

        >>> from datetime import UTC, datetime
        >>> e = WebhookEndpoint("we_1", "https://x", ("order.*", "payout.paid"), "s", "", datetime.now(UTC))
        >>> e.wants("order.paid"), e.wants("payout.paid"), e.wants("payout.failed")
        (True, True, False)
        """
        for pattern in self.event_types:
            if pattern == "*" or pattern == event_type:
                return True
            if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
                return True
        return False


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One event on its way to one endpoint, with its attempt bookkeeping."""

    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    last_status_code: int | None = None
    last_error: str | None = None
    finished_at: datetime | None = None
    replay_of: str | None = None


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    """One HTTP attempt, as the delivery log shows it."""

    delivery_id: str
    number: int
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        """True for a 2xx answer."""
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True, slots=True)
class Dispatch:
    """A delivery claimed for sending, with what to send and where."""

    delivery: WebhookDelivery
    endpoint: WebhookEndpoint
    event: StoredEvent

    def payload(self) -> dict[str, Any]:
        """The Standard Webhooks payload: type, timestamp and data."""
        return {
            "type": self.event.type,
            "timestamp": self.event.occurred_at.isoformat(),
            "data": {
                "event_id": self.event.id,
                "subject": self.event.subject,
                **dict(self.event.data),
            },
        }
