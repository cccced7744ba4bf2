"""The heads a process remembers for appends without the locking read (messaging.heads)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from tradeguard.messaging.heads import HeadCache
from tradeguard.messaging.model import Conversation


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _chat(conversation_id: str = "cnv_1", head_seq: int = 0) -> Conversation:
    return Conversation(
        conversation_id, "b1", "s1", None, datetime(2026, 1, 5, tzinfo=UTC), head_seq=head_seq
    )


def test_a_committed_head_is_remembered() -> None:
    heads = HeadCache()
    heads.remember(_chat(head_seq=3))
    assert heads.get("cnv_1") == _chat(head_seq=3)
    assert heads.get("cnv_2") is None


def test_an_older_head_never_replaces_a_newer_one() -> None:
    heads = HeadCache()
    heads.remember(_chat(head_seq=5))
    heads.remember(_chat(head_seq=4))
    found = heads.get("cnv_1")
    assert found is not None
    assert found.head_seq == 5


def test_a_miss_forgets_the_head_and_cools_off_for_a_while() -> None:
    clock = _Clock()
    heads = HeadCache(cool_off_s=60, monotonic=clock)
    heads.remember(_chat(head_seq=2))

    heads.missed("cnv_1")
    heads.remember(_chat(head_seq=3))  # written under the lock meanwhile

    assert heads.get("cnv_1") is None
    clock.now = 59.9
    assert heads.get("cnv_1") is None
    clock.now = 60.0
    assert heads.get("cnv_1") == _chat(head_seq=3)


def test_the_least_recently_written_are_forgotten_first() -> None:
    heads = HeadCache(capacity=2)
    heads.remember(_chat("cnv_1"))
    heads.remember(_chat("cnv_2"))
    heads.remember(replace(_chat("cnv_1"), head_seq=1))  # written again: now the newest
    heads.remember(_chat("cnv_3"))

    assert heads.get("cnv_2") is None
    assert heads.get("cnv_1") is not None
    assert heads.get("cnv_3") is not None


def test_cool_offs_are_bounded_too() -> None:
    clock = _Clock()
    heads = HeadCache(capacity=2, cool_off_s=10, monotonic=clock)
    for n in range(5):
        heads.missed(f"cnv_{n}")
    heads.remember(_chat("cnv_4"))
    heads.remember(_chat("cnv_0"))
    # only the two latest misses are still cooling off
    assert heads.get("cnv_4") is None
    assert heads.get("cnv_0") is not None
