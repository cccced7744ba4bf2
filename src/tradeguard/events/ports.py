"""What events need from storage."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from tradeguard.events.model import DomainEvent, StoredEvent


class Outbox(Protocol):
    """The outbox table: append in the unit of work, read for timelines and delivery."""

    def append(self, events: Sequence[tuple[str, DomainEvent]], at: datetime) -> None:
        """Store ``(event_id, event)`` pairs, in order."""
        ...

    def for_order(self, order_id: str, *, after: int = 0, limit: int = 100) -> list[StoredEvent]:
        """An order's events in the order they happened."""
        ...

    def after(self, sequence: int, limit: int) -> list[StoredEvent]:
        """Events with a sequence number greater than ``sequence``, oldest first."""
        ...
