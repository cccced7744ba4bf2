"""Appends from several processes (DESIGN.md §7): the chain stays one unbroken line.

Each App stands for one process: its messaging service remembers the heads it
wrote and appends to them without the locking read. The messages' primary key
refuses an append whose head another process moved; the append is then taken
again under the lock, and nothing of the refused attempt remains.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from tradeguard.adapters.storage.engine import make_engine
from tradeguard.bootstrap import App, build_app
from tradeguard.kernel.clock import FakeClock
from tradeguard.kernel.parties import OPERATOR, buyer, seller
from tradeguard.messaging.model import ConversationNotFound
from tradeguard.policy import Policy

if TYPE_CHECKING:
    from tests.conftest import Database

AppFactory = Callable[..., App]

PHISHING = "亲,宝贝价格标高了,请点击链接 http://tb-gaijia.cn/item 重新拍下"


def _events(app: App, kind: str) -> list[str]:
    stored = app.units.run(lambda uow: uow.outbox.after(0, 1_000, include_unsettled=True))
    return [e.subject for e in stored if e.type == kind]


def test_an_append_on_a_head_another_process_moved_is_taken_again_under_the_lock(
    make_app: AppFactory,
) -> None:
    # given two processes, each having written to the same conversation
    first, second = make_app(), make_app()
    chat = first.messaging.start(OPERATOR, buyer_id="b1", seller_id="s1")
    first.messaging.post(buyer("b1"), chat.id, "还有M码吗?")
    second.messaging.post(seller("s1"), chat.id, "有的亲")

    # when the first appends to the head it remembers, which the second has moved
    late = first.messaging.post(buyer("b1"), chat.id, PHISHING)

    # then the message follows the second's, and the chain verifies
    assert late.seq == 3
    messages = first.messaging.messages(OPERATOR, chat.id)
    assert [m.seq for m in messages] == [1, 2, 3]
    assert late.prev_hash == messages[1].hash
    assert first.messaging.verify(chat.id) == []
    # and the refused attempt left no event and no risk signal behind
    assert len(_events(first, "message.sent")) == 3
    assert len(_events(first, "message.flagged")) == 1
    assert len(_events(first, "risk.signal_recorded")) == 1


def test_alternating_processes_keep_seqs_dense(make_app: AppFactory) -> None:
    first, second = make_app(), make_app()
    chat = first.messaging.start(OPERATOR, buyer_id="b1", seller_id="s1")

    for n in range(10):
        process = first if n % 3 else second
        process.messaging.post(buyer("b1") if n % 2 else seller("s1"), chat.id, f"第{n}条")

    assert [m.seq for m in first.messaging.messages(OPERATOR, chat.id)] == list(range(1, 11))
    assert second.messaging.verify(chat.id) == []
    assert first.messaging.get(OPERATOR, chat.id).head_seq == 10


def test_a_remembered_head_never_moves_the_checkpoint_back(
    make_app: AppFactory, with_checkpoints_every: Callable[[int], App]
) -> None:
    # given a process that remembers the conversation before any checkpoint
    writer = with_checkpoints_every(5)
    chat = writer.messaging.start(OPERATOR, buyer_id="b1", seller_id="s1")
    writer.messaging.post(buyer("b1"), chat.id, "一")
    writer.messaging.post(seller("s1"), chat.id, "二")
    # and another that checkpoints the idle conversation
    assert make_app().messaging.checkpoint(chat.id) is not None

    # when the first appends on its remembered head
    writer.messaging.post(buyer("b1"), chat.id, "三")

    # then the checkpoint taken meanwhile still counts
    assert writer.messaging.get(OPERATOR, chat.id).checkpointed_seq == 2


def test_a_remembered_conversation_is_still_refused_to_a_stranger(app: App) -> None:
    chat = app.messaging.start(OPERATOR, buyer_id="b1", seller_id="s1")
    app.messaging.post(buyer("b1"), chat.id, "你好")

    with pytest.raises(ConversationNotFound):
        app.messaging.post(buyer("b2"), chat.id, "我也想聊")
    with pytest.raises(ConversationNotFound):
        app.messaging.post(seller("s2"), chat.id, "我也想聊")
    assert app.messaging.get(OPERATOR, chat.id).head_seq == 1


def test_concurrent_appends_from_two_processes_form_one_chain(
    make_app: AppFactory, database: Database
) -> None:
    if database.backend == "sqlite":
        pytest.skip("SQLite serves one writer; the race needs PostgreSQL")
    first, second = make_app(), make_app()
    chat = first.messaging.start(OPERATOR, buyer_id="b1", seller_id="s1")
    errors: list[BaseException] = []

    def chat_from(app: App, party_is_buyer: bool) -> None:
        party = buyer("b1") if party_is_buyer else seller("s1")
        try:
            for n in range(25):
                app.messaging.post(party, chat.id, f"{n}")
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=chat_from, args=(app, n % 2 == 0))
        for n, app in enumerate((first, second, first, second))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert [m.seq for m in first.messaging.messages(OPERATOR, chat.id, limit=500)] == list(
        range(1, 101)
    )
    assert first.messaging.verify(chat.id) == []
    assert len(_events(first, "message.sent")) == 100


@pytest.mark.parametrize("warm_up", [3, 4, 5])
def test_a_refused_append_leaves_the_process_able_to_write(
    make_app: AppFactory, database: Database, policy: Policy, clock: FakeClock, warm_up: int
) -> None:
    # psycopg prepares a statement on its sixth run on a connection; a prepare queued behind
    # the refused append is skipped by the server, and the connection must not be reused
    # believing it exists.
    if database.backend == "sqlite":
        pytest.skip("the driver's prepared statements are PostgreSQL's")
    engine = make_engine(database.url, pool_size=1)  # every unit on the same connection
    try:
        first = build_app(engine=engine, policy=policy, clock=clock, migrate=False)
        second = make_app()
        chat = first.messaging.start(OPERATOR, buyer_id="b1", seller_id="s1")
        for n in range(warm_up):
            first.messaging.post(buyer("b1"), chat.id, f"热身 {n}")
        second.messaging.post(seller("s1"), chat.id, "我先说")

        for n in range(10):
            first.messaging.post(buyer("b1"), chat.id, f"之后 {n}")

        assert first.messaging.get(OPERATOR, chat.id).head_seq == warm_up + 11
        assert first.messaging.verify(chat.id) == []
    finally:
        engine.dispose()
