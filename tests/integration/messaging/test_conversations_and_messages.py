"""Conversations and messages (DESIGN.md §7), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tradeguard.bootstrap import App
from tradeguard.kernel.errors import Forbidden, NotFound, ValidationFailed
from tradeguard.kernel.parties import OPERATOR, Actor, Party, buyer, seller
from tradeguard.messaging.model import (
    Conversation,
    ConversationNotFound,
    MessageKind,
    MessageRefused,
    SenderRole,
)


def test_buyer_and_seller_talk_in_one_conversation(app: App, conversation: Conversation) -> None:
    # when
    first = app.messaging.post(buyer("b1"), conversation.id, "请问什么时候发货?")
    second = app.messaging.post(seller("s1"), conversation.id, "今天下午就发,顺丰。")

    # then
    listed = app.messaging.messages(seller("s1"), conversation.id)
    assert [(m.seq, m.sender_role, m.text) for m in listed] == [
        (1, SenderRole.BUYER, "请问什么时候发货?"),
        (2, SenderRole.SELLER, "今天下午就发,顺丰。"),
    ]
    assert second.prev_hash == first.hash
    assert app.messaging.get(buyer("b1"), conversation.id).head_seq == 2


def test_starting_the_same_conversation_again_finds_it(
    app: App, conversation: Conversation
) -> None:
    again = app.messaging.start(buyer("b1"), seller_id="s1")
    assert again.id == conversation.id


def test_conversation_about_an_order_must_name_its_parties(app: App, order_id: str) -> None:
    # when
    about_order = app.messaging.start(buyer("b1"), seller_id="s1", order_id=order_id)

    # then
    assert about_order.order_id == order_id
    with pytest.raises(ValidationFailed):
        app.messaging.start(OPERATOR, buyer_id="b1", seller_id="s2", order_id=order_id)
    with pytest.raises(NotFound):
        app.messaging.start(buyer("b2"), seller_id="s1", order_id=order_id)


def test_messages_for_order_finds_the_order_chat(app: App, order_id: str) -> None:
    # given
    chat = app.messaging.start(OPERATOR, buyer_id="b1", seller_id="s1", order_id=order_id)
    app.messaging.post(buyer("b1"), chat.id, "能发顺丰吗?")
    app.messaging.post(OPERATOR, chat.id, "亲,您好,欢迎光临!", kind=MessageKind.AUTO_REPLY)
    unrelated = app.messaging.start(OPERATOR, buyer_id="b1", seller_id="s1")
    app.messaging.post(buyer("b1"), unrelated.id, "another topic")

    # when
    found = app.messaging.messages_for_order(order_id)

    # then
    assert [(m.kind, m.sender_role) for m in found] == [
        (MessageKind.HUMAN, SenderRole.BUYER),
        (MessageKind.AUTO_REPLY, SenderRole.SELLER),
    ]
    assert not found[1].is_promise_capable
    assert [c.id for c in app.messaging.conversations_for_order(order_id)] == [chat.id]


def test_participants_see_only_their_own_conversations(
    app: App, conversation: Conversation
) -> None:
    with pytest.raises(ConversationNotFound):
        app.messaging.get(buyer("b2"), conversation.id)
    with pytest.raises(ConversationNotFound):
        app.messaging.post(seller("s2"), conversation.id, "hello")
    assert app.messaging.find(buyer("b2")) == []
    assert [c.id for c in app.messaging.find(seller("s1"))] == [conversation.id]


def test_participants_start_conversations_only_as_themselves(app: App) -> None:
    with pytest.raises(Forbidden):
        app.messaging.start(buyer("b1"), buyer_id="b2", seller_id="s1")
    with pytest.raises(ValidationFailed):
        app.messaging.start(OPERATOR, buyer_id="b1", seller_id="b1")


@pytest.mark.parametrize(
    ("party", "kind"),
    [
        (OPERATOR, MessageKind.HUMAN),  # "human" means a person on that side wrote it
        (buyer("b1"), MessageKind.AUTO_REPLY),
        (seller("s1"), MessageKind.SYSTEM),
        (Party(Actor.SUPPORT, "staff_1"), MessageKind.HUMAN),
    ],
)
def test_only_the_posting_rules_decide_who_posts_which_kind(
    app: App, conversation: Conversation, party: Party, kind: MessageKind
) -> None:
    with pytest.raises(Forbidden):
        app.messaging.post(party, conversation.id, "hello", kind=kind)
    assert app.messaging.get(OPERATOR, conversation.id).head_seq == 0


def test_operator_posts_auto_replies_for_the_seller_and_system_notices(
    app: App, conversation: Conversation
) -> None:
    auto = app.messaging.post(OPERATOR, conversation.id, "亲,在的", kind="auto_reply")
    notice = app.messaging.post(OPERATOR, conversation.id, "订单已发货", kind="system")
    assert (auto.sender_role, auto.sender_id) == (SenderRole.SELLER, "s1")
    assert (notice.sender_role, notice.sender_id) == (SenderRole.PLATFORM, None)


@pytest.mark.parametrize("text", ["", "   ", "a\x00b", "x" * 2001])
def test_refused_message_changes_nothing(app: App, conversation: Conversation, text: str) -> None:
    with pytest.raises(MessageRefused):
        app.messaging.post(buyer("b1"), conversation.id, text)
    assert app.messaging.messages(OPERATOR, conversation.id) == []


def test_unknown_attachment_is_refused(app: App, conversation: Conversation) -> None:
    with pytest.raises(MessageRefused):
        app.messaging.post(buyer("b1"), conversation.id, "see photo", attachments=["ab" * 32])


def test_attachment_is_chained_by_its_sha256(app: App, conversation: Conversation) -> None:
    # given
    ref = app.blobs.put(b"\x89PNG\r\n\x1a\n" + b"pixels", "image/png")

    # when
    message = app.messaging.post(buyer("b1"), conversation.id, "", attachments=[ref.sha256])

    # then
    assert message.attachments == (ref.sha256,)
    assert ref.sha256 in message.canonical_bytes().decode()


def test_every_message_records_an_event(app: App, conversation: Conversation) -> None:
    app.messaging.post(buyer("b1"), conversation.id, "hi")
    events = app.units.run(lambda uow: uow.outbox.after(0, 100, include_unsettled=True))
    assert [e.type for e in events] == ["conversation.started", "message.sent"]
    assert events[1].data["warning"] == {"flagged": False, "reasons": []}


def test_message_listing_pages_by_seq(app: App, conversation: Conversation) -> None:
    for n in range(5):
        app.messaging.post(buyer("b1"), conversation.id, f"m{n}")
    page = app.messaging.messages(buyer("b1"), conversation.id, after_seq=2, limit=2)
    assert [m.seq for m in page] == [3, 4]
