"""What risk signals need from storage."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from tradeguard.risk.model import RiskSignal


class RiskSignalStore(Protocol):
    """The signal table."""

    def record(self, signals: Sequence[RiskSignal]) -> None:
        """Append signals."""
        ...

    def for_subject(self, subject: str) -> list[RiskSignal]:
        """Signals about a subject, oldest first."""
        ...

    def for_party(self, party_id: str, *, limit: int = 100) -> list[RiskSignal]:
        """Signals against a party, newest first."""
        ...
