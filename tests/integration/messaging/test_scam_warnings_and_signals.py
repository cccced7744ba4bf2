"""Every message is scanned: a flagged one warns the recipient and records a risk signal (§7, §11)."""

from __future__ import annotations

from tradeguard.bootstrap import App
from tradeguard.kernel.parties import OPERATOR, buyer, seller
from tradeguard.messaging.model import Conversation
from tradeguard.risk.model import SignalKind

PHISHING = (
    "亲,宝贝价格标高了,这是改价后的链接 http://taobao-gaijia.cn/item 请重新拍下,旧的交易会自动关闭"
)


def test_phishing_message_carries_a_warning_for_the_recipient(
    app: App, conversation: Conversation
) -> None:
    # when
    app.messaging.post(seller("s1"), conversation.id, PHISHING)

    # then: the buyer reading the conversation sees the warning and why
    (message,) = app.messaging.messages(buyer("b1"), conversation.id)
    assert message.verdict.flagged
    assert set(message.verdict.reasons) >= {
        "reorder_link",
        "link_outside_allowlist",
        "lookalike_domain",
    }


def test_phishing_message_records_a_risk_signal_against_its_sender(
    app: App, conversation: Conversation
) -> None:
    # when
    message = app.messaging.post(seller("s1"), conversation.id, PHISHING)

    # then
    signals = app.units.run(lambda uow: uow.risk_signals.for_subject(f"message:{message.id}"))
    assert [(s.kind, s.party_id) for s in signals] == [(SignalKind.MESSAGE_SCAM, "s1")]
    assert signals[0].reasons == message.verdict.reasons
    assert [s.id for s in app.units.run(lambda uow: uow.risk_signals.for_party("s1"))] == [
        signals[0].id
    ]
    events = app.units.run(lambda uow: uow.outbox.after(0, 100, include_unsettled=True))
    assert [e.type for e in events] == [
        "conversation.started",
        "message.sent",
        "message.flagged",
        "risk.signal_recorded",
    ]
    assert events[3].data["party_id"] == "s1"


def test_honest_message_records_no_signal(app: App, conversation: Conversation) -> None:
    message = app.messaging.post(seller("s1"), conversation.id, "今天下午发货,顺丰包邮")
    assert not message.verdict.flagged
    assert app.units.run(lambda uow: uow.risk_signals.for_party("s1")) == []


def test_flagged_message_is_still_delivered_and_chained(
    app: App, conversation: Conversation
) -> None:
    # The scan warns; it never drops a message, so the chat log stays complete as evidence.
    app.messaging.post(buyer("b1"), conversation.id, "请问发货了吗?")
    app.messaging.post(seller("s1"), conversation.id, PHISHING)
    app.messaging.checkpoint(conversation.id)
    assert app.messaging.get(OPERATOR, conversation.id).head_seq == 2
    assert app.messaging.verify(conversation.id) == []
