"""State machines as explicit transition tables.

A table is data: rows of (source state, event, actors) -> target state and named
effects, optionally with a named guard the owning service evaluates. The table is
validated when it is built, so a broken machine fails at import in every test
run (duplicate rows, states nobody can reach, non-final states with no exit,
final states with exits, states with no path to a final state). ``fire`` is the
only way to ask for a move; services apply the row they get back in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from tradeguard.kernel.errors import TransitionNotAllowed
from tradeguard.kernel.parties import Actor

S = TypeVar("S", bound=StrEnum)
E = TypeVar("E", bound=StrEnum)
F = TypeVar("F", bound=StrEnum)


class InvalidDefinition(Exception):
    """A transition table is malformed; raised at import, never at run time."""


@dataclass(frozen=True, slots=True)
class Transition(Generic[S, E, F]):
    """One row of a transition table, for one actor."""

    source: S
    event: E
    actor: Actor
    target: S
    effects: tuple[F, ...]
    guard: str | None = None


RowSpec = tuple[S, E, Actor | Iterable[Actor], S, Iterable[F]]
GuardedRowSpec = tuple[S, E, Actor | Iterable[Actor], S, Iterable[F], str | None]


class TransitionTable(Generic[S, E, F]):
    """(state, event, actor) -> next state and effects, validated at definition time."""

    def __init__(
        self,
        name: str,
        states: type[S],
        initial: S | Iterable[S],
        final: Iterable[S],
        rows: Iterable[RowSpec[S, E, F] | GuardedRowSpec[S, E, F]],
    ) -> None:
        self.name = name
        self.states = states
        self.initial = frozenset([initial] if isinstance(initial, StrEnum) else initial)
        self.final = frozenset(final)
        self._rows: dict[tuple[S, E, Actor], Transition[S, E, F]] = {}
        self._ordered: list[Transition[S, E, F]] = []
        for spec in rows:
            source, event, actors, target, effects = spec[:5]
            guard = spec[5] if len(spec) > 5 else None
            actor_set = [actors] if isinstance(actors, Actor) else list(actors)
            for actor in actor_set:
                key = (source, event, actor)
                if key in self._rows:
                    raise InvalidDefinition(f"{name}: duplicate row for {source}/{event}/{actor}")
                row = Transition(source, event, actor, target, tuple(effects), guard)
                self._rows[key] = row
                self._ordered.append(row)
        self._validate()

    def _validate(self) -> None:
        exits: dict[S, set[S]] = {s: set() for s in self.states}
        for row in self._ordered:
            exits[row.source].add(row.target)
        reachable = set(self.initial)
        frontier = list(self.initial)
        while frontier:
            state = frontier.pop()
            for nxt in exits[state] - reachable:
                reachable.add(nxt)
                frontier.append(nxt)
        unreachable = set(self.states) - reachable
        if unreachable:
            raise InvalidDefinition(
                f"{self.name}: unreachable states {sorted(s.value for s in unreachable)}"
            )
        for state in self.states:
            leaves = exits[state] - {state}
            if state in self.final and leaves:
                raise InvalidDefinition(f"{self.name}: final state {state} has exits")
            if state not in self.final and not leaves:
                raise InvalidDefinition(f"{self.name}: non-final state {state} has no exit")
        # Every state must be able to end: walk backwards from the final states.
        can_end = set(self.final)
        changed = True
        while changed:
            changed = False
            for state, targets in exits.items():
                if state not in can_end and targets & can_end:
                    can_end.add(state)
                    changed = True
        trapped = set(self.states) - can_end
        if trapped:
            raise InvalidDefinition(
                f"{self.name}: states with no path to a final state {sorted(trapped)}"
            )

    def fire(self, state: S, event: E, actor: Actor) -> Transition[S, E, F]:
        """Return the row for (state, event, actor), or raise TransitionNotAllowed."""
        row = self._rows.get((state, event, actor))
        if row is None:
            raise TransitionNotAllowed(self.name, state, event, actor)
        return row

    def allows(self, state: S, event: E, actor: Actor) -> bool:
        """True when some row matches (guards not evaluated)."""
        return (state, event, actor) in self._rows

    def events_for(self, state: S, actor: Actor) -> list[E]:
        """Events ``actor`` may send in ``state``, in table order (guards not evaluated)."""
        return [r.event for r in self._ordered if r.source == state and r.actor == actor]

    @property
    def rows(self) -> list[Transition[S, E, F]]:
        """Every row, one per actor, in definition order."""
        return list(self._ordered)

    def to_markdown(self) -> str:
        """Render the table as Markdown, one line per (source, event, target), actors joined."""
        merged: dict[tuple[S, E, S, tuple[F, ...], str | None], list[str]] = {}
        for r in self._ordered:
            merged.setdefault((r.source, r.event, r.target, r.effects, r.guard), []).append(
                r.actor.value
            )
        lines = [
            "| source | event | actors | target | effects | guard |",
            "|---|---|---|---|---|---|",
        ]
        for (source, event, target, effects, guard), actors in merged.items():
            lines.append(
                f"| {source} | {event} | {', '.join(actors)} | {target} | "
                f"{', '.join(e.value for e in effects) or '—'} | {guard or '—'} |"
            )
        return "\n".join(lines)
