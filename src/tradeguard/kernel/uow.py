"""The unit of work: everything a use case changes commits together or not at all.

Services never open transactions themselves; they hand a function to a
:class:`UnitOfWorkRunner`, which runs it in one transaction, commits, and
retries the whole function when the database reports a transient conflict
(deadlock, serialization failure). A TradeGuardError rolls everything back, so
a rejected request changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Protocol, TypeVar

T = TypeVar("T")
U_co = TypeVar("U_co", covariant=True)


class SavepointCapable(Protocol):
    """A unit of work that can undo part of itself."""

    def savepoint(self) -> AbstractContextManager[None]:
        """Open a nested scope; an exception inside rolls back only that scope."""
        ...


class UnitOfWorkRunner(Protocol[U_co]):
    """Runs use cases in units of work of type U."""

    def run(self, work: Callable[[U_co], T]) -> T:
        """Run ``work`` in one transaction and commit; roll back and re-raise on error."""
        ...
