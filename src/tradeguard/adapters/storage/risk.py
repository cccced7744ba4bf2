"""The risk signal store (DESIGN.md §11)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, select

from tradeguard.adapters.storage.sql import Prepared, Sql
from tradeguard.adapters.storage.tables.messaging import risk_signals
from tradeguard.risk.model import RiskSignal, SignalKind

R = risk_signals.c
_INSERT = Prepared(
    risk_signals.insert()
    .values(
        {
            c: bindparam(c)
            for c in (
                "id",
                "kind",
                "subject",
                "party_id",
                "order_id",
                "reasons",
                "data",
                "created_at",
            )
        }
    )
    .inline()
)


class SqlRiskSignalStore:
    """Implements :class:`tradeguard.risk.ports.RiskSignalStore`."""

    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    def record(self, signals: Sequence[RiskSignal]) -> None:
        """Append signals."""
        self._sql.run_many(
            _INSERT,
            [
                {
                    "id": s.id,
                    "kind": s.kind.value,
                    "subject": s.subject,
                    "party_id": s.party_id,
                    "order_id": s.order_id,
                    "reasons": list(s.reasons),
                    "data": dict(s.data),
                    "created_at": s.created_at,
                }
                for s in signals
            ],
        )

    def for_subject(self, subject: str) -> list[RiskSignal]:
        """Signals about a subject, oldest first."""
        rows = self._sql.rows(
            select(risk_signals).where(R.subject == subject).order_by(R.created_at, R.id)
        )
        return [_signal(r) for r in rows]

    def for_party(self, party_id: str, *, limit: int = 100) -> list[RiskSignal]:
        """Signals against a party, newest first."""
        rows = self._sql.rows(
            select(risk_signals)
            .where(R.party_id == party_id)
            .order_by(R.created_at.desc(), R.id.desc())
            .limit(limit)
        )
        return [_signal(r) for r in rows]


def _signal(row: Any) -> RiskSignal:
    return RiskSignal(
        row.id,
        SignalKind(row.kind),
        row.subject,
        row.party_id,
        row.order_id,
        tuple(row.reasons),
        row.created_at,
        dict(row.data),
    )
