"""The hash chain and its signed checkpoints (DESIGN.md §7): stored tampering is found."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from tradeguard.bootstrap import App
from tradeguard.kernel.errors import ValidationFailed
from tradeguard.kernel.parties import OPERATOR, buyer, seller
from tradeguard.messaging.chain import verify_chain_proof
from tradeguard.messaging.model import Conversation


def _chat(app: App, conversation: Conversation, count: int) -> None:
    for n in range(1, count + 1):
        party = buyer("b1") if n % 2 else seller("s1")
        app.messaging.post(party, conversation.id, f"消息 {n}: 这件衣服有M码吗?")


def test_checkpoint_is_signed_every_n_messages(
    with_checkpoints_every: Callable[[int], App],
) -> None:
    # given
    app = with_checkpoints_every(3)
    chat = app.messaging.start(OPERATOR, buyer_id="b1", seller_id="s1")

    # when
    _chat(app, chat, 7)

    # then
    checkpoints = app.units.run(lambda uow: uow.messaging.checkpoints(chat.id, 0, 100))
    assert [c.seq for c in checkpoints] == [3, 6]
    assert app.messaging.get(OPERATOR, chat.id).checkpointed_seq == 6
    assert {c.key_id for c in checkpoints} == set(app.platform_keys.public_keys())


def test_checkpoint_on_demand_covers_the_head_once(app: App, conversation: Conversation) -> None:
    _chat(app, conversation, 2)
    first = app.messaging.checkpoint(conversation.id)
    assert first is not None
    assert first.seq == 2
    assert app.messaging.checkpoint(conversation.id) is None


def test_chain_proof_of_a_range_verifies_offline(
    with_checkpoints_every: Callable[[int], App],
) -> None:
    # given
    app = with_checkpoints_every(5)
    chat = app.messaging.start(OPERATOR, buyer_id="b1", seller_id="s1")
    _chat(app, chat, 12)

    # when
    proof = app.messaging.chain_proof(chat.id, 3, 4).to_dict()

    # then: covered by the checkpoint at 5; the text of message 5 is not disclosed
    assert verify_chain_proof(proof, app.platform_keys.public_keys()) == []
    assert [c["seq"] for c in proof["checkpoints"]] == [5]
    assert len(proof["tail_digests"]) == 1
    assert "消息 5" not in str(proof)


def test_chain_proof_past_the_last_checkpoint_checkpoints_the_head(
    app: App, conversation: Conversation
) -> None:
    _chat(app, conversation, 4)
    proof = app.messaging.chain_proof(conversation.id).to_dict()
    assert verify_chain_proof(proof, app.platform_keys.public_keys()) == []
    assert [c["seq"] for c in proof["checkpoints"]] == [4]


@pytest.mark.parametrize(("first", "last"), [(0, 1), (2, 1), (1, 9)])
def test_chain_proof_of_an_impossible_range_is_refused(
    app: App, conversation: Conversation, first: int, last: int
) -> None:
    _chat(app, conversation, 3)
    with pytest.raises(ValidationFailed):
        app.messaging.chain_proof(conversation.id, first, last)


def test_intact_conversation_verifies(app: App, conversation: Conversation) -> None:
    _chat(app, conversation, 5)
    app.messaging.checkpoint(conversation.id)
    assert app.messaging.verify(conversation.id) == []


def test_edited_message_row_is_detected(app: App, conversation: Conversation) -> None:
    # given
    _chat(app, conversation, 4)
    app.messaging.checkpoint(conversation.id)

    # when: someone with database access rewrites what the seller said
    with app.engine.begin() as conn:
        conn.execute(
            text("UPDATE messages SET text = :t WHERE conversation_id = :c AND seq = 2"),
            {"t": "我保证七天内全额退款", "c": conversation.id},
        )

    # then
    assert "message 2: content altered (hash mismatch)" in app.messaging.verify(conversation.id)


def test_edited_row_with_recomputed_hashes_is_caught_by_the_signed_checkpoint(
    app: App, conversation: Conversation
) -> None:
    # given
    _chat(app, conversation, 4)
    app.messaging.checkpoint(conversation.id)
    stored = app.units.run(lambda uow: uow.messaging.messages(conversation.id, 1, 4))

    # when: the forger rewrites message 2 and recomputes every hash and the head
    from dataclasses import replace

    from tradeguard.messaging.model import chain_hash, content_digest

    prev = stored[0].hash
    with app.engine.begin() as conn:
        for message in stored[1:]:
            edited = replace(message, text="卖家承诺包退") if message.seq == 2 else message
            new_hash = chain_hash(prev, content_digest(edited.canonical_bytes()))
            conn.execute(
                text(
                    "UPDATE messages SET text = :t, prev_hash = :p, hash = :h "
                    "WHERE conversation_id = :c AND seq = :s"
                ),
                {
                    "t": edited.text,
                    "p": prev,
                    "h": new_hash,
                    "c": conversation.id,
                    "s": message.seq,
                },
            )
            prev = new_hash
        conn.execute(
            text("UPDATE conversations SET head_hash = :h WHERE id = :c"),
            {"h": prev, "c": conversation.id},
        )

    # then
    problems = app.messaging.verify(conversation.id)
    assert problems == ["checkpoint 4: the chain does not reach the signed hash"]


def test_deleted_message_row_is_detected(app: App, conversation: Conversation) -> None:
    _chat(app, conversation, 3)
    with app.engine.begin() as conn:
        conn.execute(
            text("DELETE FROM messages WHERE conversation_id = :c AND seq = 3"),
            {"c": conversation.id},
        )
    assert app.messaging.verify(conversation.id) != []


#: (table, column) pairs whose stored text a tamperer might change.
TAMPERABLE = [
    ("messages", "text"),
    ("messages", "sender_id"),
    ("messages", "kind"),
    ("messages", "sender_role"),
    ("messages", "id"),
    ("messages", "hash"),
    ("messages", "prev_hash"),
    ("chain_checkpoints", "hash"),
    ("chain_checkpoints", "signature"),
    ("chain_checkpoints", "key_id"),
]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_every_flipped_character_of_a_stored_row_is_reported(
    app: App, conversation: Conversation, data: st.DataObject
) -> None:
    # given: a checkpointed conversation (built once; each example restores what it changed)
    if app.messaging.get(OPERATOR, conversation.id).head_seq == 0:
        _chat(app, conversation, 4)
        app.messaging.checkpoint(conversation.id)
    table, column = data.draw(st.sampled_from(TAMPERABLE), label="field")
    seq = data.draw(st.integers(1, 4), label="seq") if table == "messages" else 4
    with app.engine.connect() as conn:
        original = conn.execute(
            text(f"SELECT {column} FROM {table} WHERE conversation_id = :c AND seq = :s"),
            {"c": conversation.id, "s": seq},
        ).scalar_one()
    position = data.draw(st.integers(0, len(original) - 1), label="position")
    replacement = data.draw(
        st.characters(min_codepoint=33, max_codepoint=0x9FFF).filter(
            lambda ch: ch != original[position]
        ),
        label="character",
    )
    tampered = original[:position] + replacement + original[position + 1 :]

    # when
    statement = text(f"UPDATE {table} SET {column} = :v WHERE conversation_id = :c AND seq = :s")
    with app.engine.begin() as conn:
        conn.execute(statement, {"v": tampered, "c": conversation.id, "s": seq})
    try:
        problems = app.messaging.verify(conversation.id)
    except ValueError:
        problems = ["the row no longer parses"]  # e.g. an unknown kind: refused on reading
    finally:
        with app.engine.begin() as conn:
            conn.execute(statement, {"v": original, "c": conversation.id, "s": seq})

    # then
    assert problems, f"{table}.{column} of {seq} changed to {tampered!r} went unnoticed"
    assert app.messaging.verify(conversation.id) == []
