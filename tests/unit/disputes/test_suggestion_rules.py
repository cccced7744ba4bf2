"""DESIGN.md §6: the documented rule table suggests an outcome from the evidence; one test per rule."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tradeguard.disputes.model import (
    Case,
    CaseState,
    CaseType,
    EvidenceItem,
    EvidenceKind,
    Outcome,
    Provenance,
)
from tradeguard.disputes.policy import DisputePolicy
from tradeguard.disputes.rules import (
    SUGGESTION_RULES,
    OrderFacts,
    rule_table_markdown,
    suggest,
    weigh,
)
from tradeguard.kernel.parties import Actor

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
POLICY = DisputePolicy()


def case(case_type: CaseType = CaseType.NOT_RECEIVED, **changes: Any) -> Case:
    complainant = case_type.complainant
    made = Case(
        "dsp_1",
        case_type,
        "ord_1",
        "b1",
        "s1",
        complainant,
        CaseState.UNDER_REVIEW,
        "CNY",
        "complaint",
        9_000,
        NOW,
        NOW,
    )
    for name, value in changes.items():
        setattr(made, name, value)
    return made


def order(**changes: Any) -> OrderFacts:
    values: dict[str, Any] = {
        "is_virtual": False,
        "is_late": False,
        "paid": True,
        "goods_minor": 9_000,
        "refundable_minor": 9_000,
        "late_compensation_minor": 0,
        "late_compensation_paid": False,
    }
    values.update(changes)
    return OrderFacts(**values)


def system(kind: EvidenceKind, **data: Any) -> EvidenceItem:
    return EvidenceItem(
        "evd_s", "dsp_1", "system", kind, Provenance.SYSTEM, kind.value, data, NOW, True
    )


def upload(party: str, kind: EvidenceKind = EvidenceKind.PHOTO) -> EvidenceItem:
    counts, note = weigh(kind, {})
    return EvidenceItem(
        "evd_u", "dsp_1", party, kind, Provenance.PARTY, "upload", {}, NOW, True, counts, note
    )


def chat(promise_kind: str, sender: str = "seller") -> EvidenceItem:
    data = {
        "quoted_by": "buyer",
        "promise_seq": 3,
        "promise_kind": promise_kind,
        "promise_sender_role": sender,
    }
    counts, note = weigh(EvidenceKind.CHAT_RANGE, data)
    return EvidenceItem(
        "evd_c",
        "dsp_1",
        "system",
        EvidenceKind.CHAT_RANGE,
        Provenance.SYSTEM,
        "chat",
        data,
        NOW,
        True,
        counts,
        note,
    )


PAID = system(EvidenceKind.PAYMENT_RECORD, paid_minor=9_000)


def test_respondent_silent_suggests_against_the_silent_seller() -> None:
    s = suggest(case(respondent_silent=True), order(), [PAID], POLICY)
    assert (s.rule, s.outcome) == ("respondent_silent", Outcome.BUYER_WINS)
    assert (s.refund_minor, s.compensation_minor, s.credit_points) == (9_000, 450, 4)


def test_respondent_silent_suggests_against_the_silent_buyer() -> None:
    s = suggest(case(CaseType.MALICIOUS_REVIEW, respondent_silent=True), order(), [PAID], POLICY)
    assert (s.rule, s.outcome, s.refund_minor) == ("respondent_silent", Outcome.SELLER_WINS, 0)


def test_virtual_goods_with_a_delivery_record_and_no_buyer_evidence_are_dismissed() -> None:
    items = [PAID, system(EvidenceKind.DELIVERY_RECORD, method="automatic")]
    s = suggest(case(), order(is_virtual=True), items, POLICY)
    assert (s.rule, s.outcome) == ("virtual_delivered_no_evidence", Outcome.DISMISSED)


def test_a_delivery_scan_and_no_buyer_evidence_are_dismissed() -> None:
    items = [
        PAID,
        system(EvidenceKind.SHIPMENT),
        system(EvidenceKind.TRACKING_EVENT, status="signed"),
    ]
    s = suggest(case(), order(), items, POLICY)
    assert (s.rule, s.outcome) == ("scan_delivered_no_evidence", Outcome.DISMISSED)


def test_buyer_evidence_against_a_delivery_scan_goes_to_staff_judgement() -> None:
    items = [
        PAID,
        system(EvidenceKind.SHIPMENT),
        system(EvidenceKind.TRACKING_EVENT, status="signed"),
        upload("buyer"),
    ]
    s = suggest(case(), order(), items, POLICY)
    assert (s.rule, s.outcome) == ("staff_judgement", None)


def test_nothing_shipped_or_delivered_suggests_the_buyer_wins_a_full_refund() -> None:
    s = suggest(case(), order(), [PAID], POLICY)
    assert (s.rule, s.outcome, s.refund_minor) == ("never_shipped", Outcome.BUYER_WINS, 9_000)


def test_a_human_seller_promise_not_kept_suggests_the_buyer_wins() -> None:
    s = suggest(
        case(CaseType.BROKEN_PROMISE, claimed_minor=2_000), order(), [PAID, chat("human")], POLICY
    )
    assert (s.rule, s.outcome, s.refund_minor, s.credit_points) == (
        "human_promise_broken",
        Outcome.BUYER_WINS,
        2_000,
        2,
    )


def test_an_auto_reply_is_never_the_sellers_promise() -> None:
    item = chat("auto_reply")
    assert not item.counts
    s = suggest(case(CaseType.BROKEN_PROMISE), order(), [PAID, item], POLICY)
    assert (s.rule, s.outcome) == ("only_auto_reply_promises", Outcome.DISMISSED)


def test_seller_evidence_that_the_promise_was_kept_goes_to_staff_judgement() -> None:
    items = [PAID, chat("human"), upload("seller", EvidenceKind.DOCUMENT)]
    s = suggest(case(CaseType.BROKEN_PROMISE), order(), items, POLICY)
    assert s.rule == "staff_judgement"


def test_a_confirmed_late_shipment_suggests_the_compensation() -> None:
    s = suggest(
        case(CaseType.LATE_SHIPMENT),
        order(is_late=True, late_compensation_minor=450),
        [PAID],
        POLICY,
    )
    assert (s.rule, s.outcome, s.compensation_minor) == (
        "late_shipment_confirmed",
        Outcome.BUYER_WINS,
        450,
    )


def test_a_complainant_without_counted_evidence_is_dismissed_for_lack_of_evidence() -> None:
    items = [PAID, system(EvidenceKind.SHIPMENT), upload("buyer", EvidenceKind.PAYMENT_SCREENSHOT)]
    s = suggest(case(CaseType.QUALITY), order(), items, POLICY)
    assert (s.rule, s.outcome) == ("no_complainant_evidence", Outcome.DISMISSED)


def test_a_payment_screenshot_never_counts() -> None:
    counts, note = weigh(EvidenceKind.PAYMENT_SCREENSHOT, {})
    assert not counts
    assert note is not None


def test_the_rule_table_documents_every_rule() -> None:
    table = rule_table_markdown()
    assert all(f"| {rule.name} |" in table for rule in SUGGESTION_RULES)
    assert len({rule.name for rule in SUGGESTION_RULES}) == len(SUGGESTION_RULES)
    assert case().complainant == Actor.BUYER
