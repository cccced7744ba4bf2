"""Recording domain events in the unit of work that caused them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from tradeguard.events.model import DomainEvent
from tradeguard.events.ports import Outbox
from tradeguard.kernel.ids import IdFactory


def record(
    outbox: Outbox, events: Sequence[DomainEvent], ids: IdFactory, at: datetime
) -> list[str]:
    """Append ``events`` to the outbox with fresh event ids; return the ids.

    Written in the caller's transaction: the event exists if and only if the
    change it describes committed (the transactional outbox pattern).
    """
    if not events:
        return []
    pairs = [(ids.new("evt", at), event) for event in events]
    outbox.append(pairs, at)
    return [event_id for event_id, _ in pairs]
