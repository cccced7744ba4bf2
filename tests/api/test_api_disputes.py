"""The dispute endpoints (DESIGN.md §6) through HTTP, with the seed 002 story end to end.

Seed 002: a virtual-goods shop's automatic top-up software delivers; the buyer
files a false "not shipped" complaint. The platform rules on real evidence: the
delivery record is the system's own, the buyer has none, and the complaint is
dismissed for lack of evidence — the seller is protected and paid.
"""

from __future__ import annotations

import base64
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tradeguard.access.model import StaffRole
from tradeguard.disputes.bundle import ed25519_check, verify_bundle
from tradeguard.messaging.chain import verify_chain_proof


@pytest.fixture(autouse=True)
def _blobs_in_a_scratch_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Uploads go to this test's own directory, never the working directory."""
    monkeypatch.setenv("TRADEGUARD_BLOB_DIR", str(tmp_path / "blobs"))


SHOP, BUYER = "yaoji-chuangfu", "buyer-20140109"
PNG = b"\x89PNG\r\n\x1a\n" + b"alipay screenshot: paid 0.90" * 8


def _virtual_delivered(api: Any) -> dict[str, Any]:
    api.listing("topup-1", SHOP, "virtual", purchase_limit=1)
    order = api.paid_order(BUYER, "topup-1", 90)
    api.ok(
        api.post(
            f"/v1/orders/{order['id']}/deliveries",
            auth=api.token(f"seller:{SHOP}"),
            json={"detail": "话费充值成功: 1元 -> 138****5678"},
        )
    )
    return order


def test_seed_002_false_not_shipped_complaint_is_dismissed_and_the_seller_protected(api) -> None:
    # given: a delivered top-up; the same buyer's second one-per-ID purchase is refused
    order = _virtual_delivered(api)
    refused = api.post(
        "/v1/checkouts",
        json={
            "buyer_id": BUYER,
            "currency": "CNY",
            "lines": [{"listing_id": "topup-1", "quantity": 1, "unit_price_minor": 90}],
        },
    )
    api.problem(refused, 422, "purchase_limit_exceeded")
    buyer, shop = api.token(f"buyer:{BUYER}"), api.token(f"seller:{SHOP}")
    arbitrator = api.staff(StaffRole.ARBITRATOR).token

    # when: the next day the buyer complains "not shipped"
    api.advance(timedelta(hours=12))
    case = api.ok(
        api.post(
            "/v1/disputes",
            auth=buyer,
            json={"order_id": order["id"], "type": "not_received", "description": "未发货"},
            headers={"Idempotency-Key": "complaint-1"},
        ),
        201,
    )
    # then: the shop must answer; the delivery record is already evidence
    assert case["state"] == "awaiting_response"
    assert [e["kind"] for e in case["evidence"]] == ["payment_record", "delivery_record"]
    assert case["suggestion"] is None  # parties never see staff's suggestion

    # when: the shop answers and submits; the buyer has nothing to submit; the phase ends
    api.ok(
        api.post(
            f"/v1/disputes/{case['id']}/response",
            auth=shop,
            json={"statement": "自动充值软件已于23:24充值成功"},
        )
    )
    api.ok(api.post(f"/v1/disputes/{case['id']}/evidence/submit", auth=shop))
    api.advance(timedelta(days=3))
    seen = api.ok(api.get(f"/v1/disputes/{case['id']}", auth=arbitrator))
    # then: the rules suggest dismissal, the buyer is past due with no evidence
    assert seen["state"] == "under_review"
    assert seen["suggestion"]["rule"] == "virtual_delivered_no_evidence"
    assert seen["suggestion"]["outcome"] == "dismissed"
    assert seen["evidence_details"]["buyer"] == {
        "due_by": seen["evidence_due_at"],
        "has_evidence": False,
        "past_due": True,
        "submission_count": 0,
    }

    # when: the arbitrator dismisses for lack of evidence
    decision = api.ok(
        api.post(
            f"/v1/disputes/{case['id']}/decision",
            auth=arbitrator,
            json={"outcome": "dismissed", "reason": "delivery record; the buyer has no evidence"},
        )
    )
    # then: signed, no money moved, and the seller is paid when auto-confirm completes the order
    assert decision["outcome"] == "dismissed"
    assert decision["signature_b64"]
    api.advance(timedelta(days=3))
    assert api.order(order["id"])["state"] == "completed"
    assert api.balance(f"seller:{SHOP}:available") == 88
    assert api.balance(f"buyer:{BUYER}:funding") == -90

    # and: the buyer's copy of the bundle verifies offline with the platform keys only
    bundle = api.ok(api.get(f"/v1/disputes/{case['id']}/bundle", auth=buyer))
    keys = api.app.platform_keys.public_keys()
    assert verify_bundle(bundle, keys, ed25519_check, verify_chain_proof) == []
    assert bundle["decisions"][0]["payload"]["outcome"] == "dismissed"


def test_a_fake_payment_screenshot_never_counts_as_payment(api) -> None:
    # given: an order the buyer never paid, and a paid one
    api.listing("phys-s1", "s1", "physical")
    unpaid = api.awaiting_order("b1", "phys-s1")
    buyer = api.token("buyer:b1")
    # then: no complaint without a payment record
    refused = api.post(
        "/v1/disputes",
        auth=buyer,
        json={
            "order_id": unpaid["id"],
            "type": "not_received",
            "description": "I paid, see screenshot",
        },
    )
    api.problem(refused, 409, "no_payment_on_record")
    # and: on a real complaint, the screenshot is kept but does not count
    paid = api.shipped_order("b1", "phys-s1")
    case = api.ok(
        api.post(
            "/v1/disputes",
            auth=buyer,
            json={"order_id": paid["id"], "type": "quality", "description": "broken"},
        ),
        201,
    )
    item = api.ok(
        api.post(
            f"/v1/disputes/{case['id']}/evidence",
            auth=buyer,
            json={
                "kind": "payment_screenshot",
                "title": "I paid twice",
                "content_base64": base64.b64encode(PNG).decode(),
                "content_type": "image/png",
            },
        ),
        201,
    )
    assert item["counts"] is False
    assert item["provenance"] == "party"
    assert "only the payment record proves payment" in item["note"]
    downloaded = api.get(
        f"/v1/disputes/{case['id']}/attachments/{item['attachment_sha256']}", auth=buyer
    )
    assert downloaded.status_code == 200
    assert downloaded.content == PNG


def test_only_an_arbitrator_decides(api) -> None:
    # given: a case under review
    api.listing("phys-s1", "s1", "physical")
    order = api.shipped_order("b1", "phys-s1")
    buyer, seller = api.token("buyer:b1"), api.token("seller:s1")
    case = api.ok(
        api.post(
            "/v1/disputes",
            auth=buyer,
            json={"order_id": order["id"], "type": "not_received", "description": "x"},
        ),
        201,
    )
    api.advance(timedelta(days=3))  # the seller stays silent
    body = {"outcome": "buyer_wins", "reason": "silent seller", "refund_minor": 10_000}
    # then
    api.problem(
        api.post(
            f"/v1/disputes/{case['id']}/decision",
            auth=api.staff(StaffRole.SUPPORT).token,
            json=body,
        ),
        403,
        "forbidden",
    )
    api.problem(
        api.post(f"/v1/disputes/{case['id']}/decision", auth=seller, json=body), 403, "forbidden"
    )
    api.problem(api.post(f"/v1/disputes/{case['id']}/decision", json=body), 403, "forbidden")
    decided = api.ok(
        api.post(
            f"/v1/disputes/{case['id']}/decision",
            auth=api.staff(StaffRole.ARBITRATOR).token,
            json=body,
        )
    )
    assert decided["money_source"] == "escrow"
    assert api.balance("buyer:b1:funding") == 0


def test_overdue_cases_are_in_the_supervisor_queue(api) -> None:
    # given
    api.listing("phys-s1", "s1", "physical")
    order = api.shipped_order("b1", "phys-s1")
    case = api.ok(
        api.post(
            "/v1/disputes",
            auth=api.token("buyer:b1"),
            json={"order_id": order["id"], "type": "not_received", "description": "x"},
        ),
        201,
    )
    # when: silence, then 7 working days without a decision
    api.advance(timedelta(days=3))
    api.advance(timedelta(days=14))
    # then
    queue = api.ok(api.get("/v1/dispute-queue", auth=api.staff(StaffRole.SUPPORT).token))
    assert [c["id"] for c in queue["data"]] == [case["id"]]
    assert queue["data"][0]["overdue"] is True
