"""Conversation heads this process wrote last, for appends that skip the locking read.

An append needs the conversation's head (its last seq and hash) before it can
chain the next message. Reading it under a row lock costs a round trip and a
statement on every message. A process that appended the last message already
knows the head, so it appends at ``head_seq + 1`` straight away; the messages'
primary key (conversation, seq) refuses the append if another process got
there first, because seqs are dense: a head that moved means that seq is taken.
That is optimistic concurrency over an expected version, as event stores do.

A conversation written from several processes (an API served by several
workers) would miss here time after time, so a miss turns optimism off for that
conversation for a while and its appends take the locking read again.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from tradeguard.messaging.model import Conversation

#: How many conversations a process remembers (least recently written are forgotten first).
DEFAULT_CAPACITY = 10_000
#: How long after a miss a conversation's appends take the locking read.
DEFAULT_COOL_OFF_S = 60.0


class HeadCache:
    """Conversations as this process last committed them, bounded, thread-safe."""

    def __init__(
        self,
        capacity: int = DEFAULT_CAPACITY,
        cool_off_s: float = DEFAULT_COOL_OFF_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._capacity = capacity
        self._cool_off_s = cool_off_s
        self._monotonic = monotonic
        self._heads: OrderedDict[str, Conversation] = OrderedDict()
        self._cooling: dict[str, float] = {}
        self._lock = threading.Lock()

    def get(self, conversation_id: str) -> Conversation | None:
        """The remembered conversation, unless it is cooling off after a miss."""
        with self._lock:
            until = self._cooling.get(conversation_id)
            if until is not None:
                if self._monotonic() < until:
                    return None
                del self._cooling[conversation_id]
            return self._heads.get(conversation_id)

    def remember(self, conversation: Conversation) -> None:
        """Record a committed head; an older head never replaces a newer one."""
        with self._lock:
            known = self._heads.get(conversation.id)
            if known is not None and known.head_seq > conversation.head_seq:
                return
            self._heads[conversation.id] = conversation
            self._heads.move_to_end(conversation.id)
            while len(self._heads) > self._capacity:
                self._heads.popitem(last=False)

    def missed(self, conversation_id: str) -> None:
        """Another process moved the head: forget it and take the locking read for a while."""
        with self._lock:
            self._heads.pop(conversation_id, None)
            if len(self._cooling) >= self._capacity:
                # Bounded like the heads; expired cool-offs go first, then the oldest.
                now = self._monotonic()
                for key in [k for k, until in self._cooling.items() if until <= now]:
                    del self._cooling[key]
                while len(self._cooling) >= self._capacity:
                    del self._cooling[next(iter(self._cooling))]
            self._cooling[conversation_id] = self._monotonic() + self._cool_off_s
