"""A risk signal: one observation about a party or object, with its reasons."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class SignalKind(StrEnum):
    """What produced a signal."""

    MESSAGE_SCAM = "message_scam"  #: the scam scan flagged a message (DESIGN.md §7)


@dataclass(frozen=True, slots=True)
class RiskSignal:
    """An observation for risk cases: what was seen, about whom, and why."""

    id: str
    kind: SignalKind
    subject: str  #: what it is about, as an outbox subject (``message:msg_…``)
    party_id: str | None  #: the party it counts against (the sender of a flagged message)
    order_id: str | None
    reasons: tuple[str, ...]
    created_at: datetime
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The signal as JSON-ready data (its event payload)."""
        return {
            "id": self.id,
            "kind": self.kind.value,
            "subject": self.subject,
            "party_id": self.party_id,
            "order_id": self.order_id,
            "reasons": list(self.reasons),
            "data": dict(self.data),
            "created_at": self.created_at.isoformat(),
        }
