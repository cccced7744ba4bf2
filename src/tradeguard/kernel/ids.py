"""Public identifiers: a short type prefix and a time-ordered, random suffix.

``ord_01JH2...`` reads as an order in logs and sorts by creation time, which
keyed cursor pagination relies on. The random part makes ids unguessable, so
enumerating other parties' objects is pointless. The simulator injects a seeded
generator so the same seed yields the same ids.
"""

from __future__ import annotations

import hashlib
import os
import random
import threading
from collections.abc import Callable
from datetime import datetime

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


# Two digits per lookup: ids are made on every write, and a digit-at-a-time loop cost more
# than everything else in making one.
_PAIRS = tuple(a + b for a in _CROCKFORD for b in _CROCKFORD)


def _encode(value: int, length: int) -> str:
    """The low ``length`` base-32 digits of ``value`` in Crockford's alphabet."""
    odd = length % 2
    head = [_CROCKFORD[(value >> (5 * (length - 1))) & 31]] if odd else []
    return "".join(
        head + [_PAIRS[(value >> shift) & 1023] for shift in range(5 * (length - odd - 2), -1, -10)]
    )


class IdFactory:
    """Makes ULID-shaped ids (48-bit milliseconds + 80 random bits) with a type prefix."""

    def __init__(self, random_bits: Callable[[int], int] | None = None) -> None:
        self._random_bits = random_bits or (
            lambda n: int.from_bytes(os.urandom((n + 7) // 8)) >> ((8 - n % 8) % 8)
        )
        self._lock = threading.Lock()
        self._last = (-1, 0)

    @classmethod
    def seeded(cls, seed: int) -> IdFactory:
        """A reproducible factory for simulations and tests (never for production)."""
        rng = random.Random(seed)  # noqa: S311 - reproducibility, not secrecy, is the point here
        return cls(rng.getrandbits)

    @staticmethod
    def derived(prefix: str, key: str) -> str:
        """A stable id for ``key``: the same request key always names the same object.

        Used when a caller's Idempotency-Key must make a creation happen once at most.
        """
        digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:17])
        return f"{prefix}_{_encode(digest >> 6, 26)}"

    def new(self, prefix: str, at: datetime) -> str:
        """Return a fresh id such as ``ord_01JH2Q...`` for an object created at ``at``."""
        if at.tzinfo is None:
            raise ValueError("naive datetime: ids are dated by aware UTC instants")
        millis = int(at.timestamp() * 1000) & ((1 << 48) - 1)
        with self._lock:
            last_millis, last_rand = self._last
            step = 1 + self._random_bits(32) if millis == last_millis else 0
            if step and last_rand + step < 1 << 80:
                # Monotonic within a millisecond (as ULID specifies), so ids made in order sort
                # in order; the random step keeps the next id unguessable from the last.
                rand = last_rand + step
            else:
                rand = self._random_bits(80)
            self._last = (millis, rand)
        return f"{prefix}_{_encode(millis, 10)}{_encode(rand, 16)}"
