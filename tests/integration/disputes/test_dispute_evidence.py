"""DESIGN.md §6: system records attached automatically, party uploads content-addressed, evidence state."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from tradeguard.disputes.model import CaseType, EvidenceKind, Provenance
from tradeguard.kernel.errors import TransitionNotAllowed, ValidationFailed
from tradeguard.kernel.parties import OPERATOR, buyer, seller
from tradeguard.orders.model import TrackingStatus

PNG = b"\x89PNG\r\n\x1a\n" + b"photo of an empty box" * 10


def test_system_records_are_attached_automatically_with_their_provenance(disputes) -> None:
    # given: a shipped parcel with a carrier scan
    order_id = disputes.shipped()
    disputes.app.orders.record_tracking(
        order_id,
        OPERATOR,
        status=TrackingStatus.IN_TRANSIT,
        occurred_at=disputes.clock.now(),
        location="Hangzhou",
    )
    # when
    case = disputes.file(order_id)
    # then
    items = disputes.details(case.id).evidence
    assert [i.kind for i in items] == [
        EvidenceKind.PAYMENT_RECORD,
        EvidenceKind.SHIPMENT,
        EvidenceKind.TRACKING_EVENT,
    ]
    assert {i.provenance for i in items} == {Provenance.SYSTEM}
    assert items[0].data["paid_minor"] == 10_000
    assert items[1].data["carrier"] == "SF"
    assert items[2].data["location"] == "Hangzhou"


def test_virtual_goods_carry_their_delivery_record(disputes) -> None:
    # given
    case = disputes.file(disputes.delivered_virtual())
    # then
    kinds = [i.kind for i in disputes.details(case.id).evidence]
    assert kinds == [EvidenceKind.PAYMENT_RECORD, EvidenceKind.DELIVERY_RECORD]


def test_tracking_scans_arriving_later_join_the_evidence_at_review(disputes) -> None:
    # given
    order_id = disputes.shipped()
    case = disputes.file(order_id)
    disputes.app.orders.record_tracking(
        order_id, OPERATOR, status=TrackingStatus.SIGNED, occurred_at=disputes.clock.now()
    )
    # when
    disputes.to_review(case.id)
    # then
    scans = [i for i in disputes.details(case.id).evidence if i.kind == EvidenceKind.TRACKING_EVENT]
    assert [s.data["status"] for s in scans] == ["signed"]


def test_prior_decisions_on_the_order_are_evidence(disputes) -> None:
    # given: an earlier, decided complaint about the order
    order_id = disputes.completed()
    first = disputes.to_review(disputes.file(order_id, CaseType.QUALITY).id)
    disputes.decide(first.id, outcome="dismissed")
    # when
    second = disputes.file(order_id, CaseType.SELLER_HARASSMENT)
    # then
    [prior] = [
        i for i in disputes.details(second.id).evidence if i.kind == EvidenceKind.PRIOR_DECISION
    ]
    assert prior.data["payload"]["case_id"] == first.id
    assert prior.data["signature_b64"]


def test_uploads_are_content_addressed_and_shown_as_party_provided(disputes) -> None:
    # given
    case = disputes.file(disputes.shipped())
    # when
    item = disputes.app.disputes.stage_evidence(
        case.id, buyer("b1"), EvidenceKind.PHOTO, "empty box", content=PNG, content_type="image/png"
    )
    # then
    assert item.blob_sha256 == hashlib.sha256(PNG).hexdigest()
    assert item.blob_size == len(PNG)
    assert item.provenance == Provenance.PARTY
    assert disputes.app.disputes.blobs.get(item.blob_sha256) == PNG


def test_uploads_are_size_and_type_checked(disputes) -> None:
    # given
    case = disputes.file(disputes.shipped())
    # then
    with pytest.raises(ValidationFailed, match="Uploads are one of"):
        disputes.app.disputes.stage_evidence(
            case.id,
            buyer("b1"),
            EvidenceKind.PHOTO,
            "x",
            content=b"MZ",
            content_type="application/x-msdownload",
        )
    too_big = b"x" * (disputes.app.policy.disputes.max_upload_bytes + 1)
    with pytest.raises(ValidationFailed, match="at most"):
        disputes.app.disputes.stage_evidence(
            case.id, buyer("b1"), EvidenceKind.PHOTO, "x", content=too_big, content_type="image/png"
        )
    with pytest.raises(ValidationFailed, match="system record"):
        disputes.app.disputes.stage_evidence(case.id, buyer("b1"), EvidenceKind.PAYMENT_RECORD, "x")


def test_a_payment_screenshot_never_counts_as_payment(disputes) -> None:
    # given: a buyer uploads a "payment" screenshot (seed 001's fake-payment fraud)
    case = disputes.file(disputes.shipped())
    item = disputes.app.disputes.stage_evidence(
        case.id,
        buyer("b1"),
        EvidenceKind.PAYMENT_SCREENSHOT,
        "I paid 100 more",
        content=PNG,
        content_type="image/png",
    )
    # then: it is kept, shown as party-provided, and does not count
    assert not item.counts
    assert "only the payment record proves payment" in (item.note or "")
    disputes.app.disputes.submit_evidence(case.id, buyer("b1"))
    disputes.app.disputes.respond(case.id, seller("s1"), "No.")
    disputes.advance(timedelta(days=3))
    suggestion = disputes.case(case.id).suggestion
    assert suggestion is not None
    assert suggestion.rule != "respondent_silent"


def test_staged_evidence_is_private_until_submitted_and_submitted_once(disputes) -> None:
    # given
    case = disputes.file(disputes.shipped())
    disputes.app.disputes.respond(case.id, seller("s1"), "Shipped.")
    disputes.app.disputes.stage_evidence(
        case.id, seller("s1"), EvidenceKind.STATEMENT, "courier receipt"
    )
    # then: the buyer does not see the seller's staged item
    assert all(i.party != "seller" for i in disputes.details(case.id, buyer("b1")).evidence)
    # when
    disputes.app.disputes.submit_evidence(case.id, seller("s1"))
    # then
    assert any(i.party == "seller" for i in disputes.details(case.id, buyer("b1")).evidence)
    with pytest.raises(TransitionNotAllowed):
        disputes.app.disputes.submit_evidence(case.id, seller("s1"))


def test_each_party_has_an_evidence_state_like_stripes(disputes) -> None:
    # given
    case = disputes.file(disputes.shipped())
    disputes.app.disputes.respond(case.id, seller("s1"), "Shipped.")
    due = disputes.case(case.id).evidence_due_at
    disputes.app.disputes.stage_evidence(case.id, buyer("b1"), EvidenceKind.STATEMENT, "never came")
    disputes.app.disputes.submit_evidence(case.id, buyer("b1"))
    # when
    states = disputes.details(case.id).evidence_states
    # then
    assert states["buyer"].due_by == due
    assert states["buyer"].has_evidence
    assert states["buyer"].submission_count == 1
    assert not states["buyer"].past_due
    assert not states["seller"].has_evidence
    assert states["seller"].submission_count == 0
    # and: once the phase ends, the seller who never submitted is past due
    disputes.advance(timedelta(days=3))
    states = disputes.details(case.id).evidence_states
    assert states["seller"].past_due
    assert not states["buyer"].past_due
