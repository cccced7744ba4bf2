"""DESIGN.md §6-7: the order's chat as evidence, with its chain proof; auto-replies are never promises."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tradeguard.disputes.bundle import ed25519_check, verify_bundle
from tradeguard.disputes.model import CaseState, CaseType, EvidenceKind, Outcome
from tradeguard.kernel.errors import NotFound, ValidationFailed
from tradeguard.kernel.parties import OPERATOR, buyer, seller
from tradeguard.messaging.chain import verify_chain_proof
from tradeguard.orders.model import OrderState


def chat(disputes, order_id: str, *lines: tuple[str, str]) -> str:
    """A conversation about the order; each line is (who, text), who in buyer/seller/auto."""
    app = disputes.app
    conversation = app.messaging.start(buyer("b1"), seller_id="s1", order_id=order_id)
    for who, text in lines:
        if who == "auto":
            app.messaging.post(OPERATOR, conversation.id, text, kind="auto_reply")
        else:
            app.messaging.post(
                buyer("b1") if who == "buyer" else seller("s1"), conversation.id, text
            )
    return conversation.id


def test_a_broken_human_promise_in_chat_makes_the_buyer_win(disputes) -> None:
    # given: the seller promised a free gift in chat and never sent it
    order_id = disputes.shipped(price=12_000)
    conversation = chat(
        disputes,
        order_id,
        ("buyer", "Does it come with the charger?"),
        ("seller", "Yes, we promise to include a charger for free."),
    )
    case = disputes.file(order_id, CaseType.BROKEN_PROMISE, claimed=2_000)
    item = disputes.app.disputes.quote_chat(case.id, buyer("b1"), conversation, 1, 2, promise_seq=2)
    assert item.counts
    assert item.provenance.value == "system"
    # when: the seller answers but shows nothing that the promise was kept
    disputes.to_review(case.id)
    suggestion = disputes.case(case.id).suggestion
    # then
    assert suggestion is not None
    assert (suggestion.rule, suggestion.outcome) == ("human_promise_broken", Outcome.BUYER_WINS)
    decision = disputes.decide(
        case.id, outcome="buyer_wins", refund_minor=suggestion.refund_minor, credit_points=2
    )
    assert decision.refund_minor == 2_000
    assert disputes.get_order(order_id).state == OrderState.SHIPPED
    assert disputes.balance(f"escrow:order:{order_id}") == 10_000


def test_an_auto_reply_is_not_the_sellers_promise(disputes) -> None:
    # given: the "promise" is the shop's automatic reply (seed 002)
    order_id = disputes.shipped()
    conversation = chat(
        disputes,
        order_id,
        ("buyer", "Will you ship today?"),
        ("auto", "Thanks for your message! We promise shipment within 24 hours."),
    )
    case = disputes.file(order_id, CaseType.BROKEN_PROMISE)
    # when
    item = disputes.app.disputes.quote_chat(case.id, buyer("b1"), conversation, 1, 2, promise_seq=2)
    disputes.to_review(case.id)
    # then
    assert not item.counts
    assert item.note == "an automatic reply is not the seller's promise"
    suggestion = disputes.case(case.id).suggestion
    assert suggestion is not None
    assert (suggestion.rule, suggestion.outcome) == ("only_auto_reply_promises", Outcome.DISMISSED)


def test_only_the_cases_own_conversation_can_be_quoted(disputes) -> None:
    # given: a conversation of another buyer with the seller
    order_id = disputes.shipped()
    other = disputes.app.messaging.start(buyer("b2"), seller_id="s1")
    disputes.app.messaging.post(buyer("b2"), other.id, "hello")
    case = disputes.file(order_id, CaseType.BROKEN_PROMISE)
    # then
    with pytest.raises(NotFound):
        disputes.app.disputes.quote_chat(case.id, buyer("b1"), other.id, 1, 1)
    own = chat(disputes, order_id, ("buyer", "hi"))
    with pytest.raises(ValidationFailed):
        disputes.app.disputes.quote_chat(case.id, buyer("b1"), own, 1, 1, promise_seq=3)


def test_a_bundle_with_chat_carries_a_chain_proof_that_verifies_offline(disputes) -> None:
    # given: a decided case quoting the chat
    order_id = disputes.shipped()
    conversation = chat(
        disputes, order_id, ("buyer", "Is it new?"), ("seller", "Brand new, we promise.")
    )
    case = disputes.file(order_id, CaseType.BROKEN_PROMISE, claimed=1_000)
    disputes.app.disputes.quote_chat(case.id, buyer("b1"), conversation, 1, 2, promise_seq=2)
    disputes.to_review(case.id)
    disputes.decide(case.id, outcome="buyer_wins", refund_minor=1_000)
    bundle = disputes.app.disputes.export_bundle(case.id, OPERATOR)
    keys = disputes.app.platform_keys.public_keys()
    # then
    assert len(bundle["chain_proofs"]) == 1
    assert verify_bundle(bundle, keys, ed25519_check, verify_chain_proof) == []
    # and: a message altered in the proof is reported by the chain check
    bundle["chain_proofs"][0]["proof"]["messages"][1]["text"] = "Used, no promise."
    failures = verify_bundle(bundle, keys, ed25519_check, verify_chain_proof)
    assert any(f.startswith("chain proof of") for f in failures)
    assert disputes.case(case.id).state == CaseState.DECIDED
    disputes.advance(timedelta(days=7))
    assert disputes.case(case.id).state == CaseState.CLOSED
    assert [i.kind for i in disputes.details(case.id).evidence].count(EvidenceKind.CHAT_RANGE) == 1
