"""Domain events: facts, named in the past tense, written in the same transaction as the change.

The outbox row is the event's only record until a dispatcher delivers it; it
also forms each order's timeline. ``type`` names are ``<subject>.<fact>``,
such as ``order.paid`` or ``order.auto_confirm_reminder``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


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
