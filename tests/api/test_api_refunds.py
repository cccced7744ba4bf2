"""After-sales over HTTP (DESIGN.md §5): the common paths, problem codes and webhooks' events."""

from __future__ import annotations

from datetime import timedelta


def _build(api) -> None:
    api.listing("phys-s1", "s1", "physical")


def test_return_and_refund_over_http_from_request_to_refund(api) -> None:
    # given a funded compensation fund: s1 has no balance yet, so the postage it owes is advanced
    _build(api)
    top_up = {"amount_minor": 100_000, "currency": "CNY", "reference": "bank-1"}
    api.ok(api.post("/v1/compensation-fund/top-ups", json=top_up), 201)
    order = api.shipped_order("b1", "phys-s1")
    b1, s1 = api.token("buyer:b1"), api.token("seller:s1")
    body = {"kind": "return_and_refund", "reason": "quality_problem", "amount_minor": 10_000}
    # when
    refund = api.ok(api.post(f"/v1/orders/{order['id']}/refunds", auth=b1, json=body), 201)
    assert refund["state"] == "requested"
    assert api.order(order["id"])["auto_confirm_paused"] is True
    agreed = api.ok(api.post(f"/v1/refunds/{refund['id']}/agree", auth=s1, json={}))
    assert agreed["state"] == "awaiting_return"
    shipped = api.ok(
        api.post(
            f"/v1/refunds/{refund['id']}/return-shipment",
            auth=b1,
            json={"carrier": "YTO", "tracking_number": "YT1", "shipping_minor": 1_000},
        )
    )
    assert shipped["state"] == "return_shipped"
    refunded = api.ok(api.post(f"/v1/refunds/{refund['id']}/confirm-return", auth=s1))
    # then
    assert refunded["state"] == "refunded"
    assert refunded["refunded_minor"] == 10_000
    assert refunded["return_shipping_reimbursed_minor"] == 1_000
    assert api.order(order["id"])["state"] == "closed"
    assert api.balance("platform:receivable:seller:s1") == -1_000
    timeline = api.ok(api.get(f"/v1/orders/{order['id']}/timeline"))["events"]
    types = [e["type"] for e in timeline]
    for event in ("refund.requested", "refund.agreed", "refund.return_shipped", "refund.refunded"):
        assert event in types


def test_seller_silent_on_a_refund_only_request_is_auto_agreed_over_http(api) -> None:
    _build(api)
    order = api.shipped_order("b1", "phys-s1")
    body = {"kind": "refund_only", "reason": "not_received", "amount_minor": 10_000}
    refund = api.ok(
        api.post(f"/v1/orders/{order['id']}/refunds", auth=api.token("buyer:b1"), json=body), 201
    )
    api.advance(timedelta(hours=36))
    assert api.ok(api.get(f"/v1/refunds/{refund['id']}"))["state"] == "refunded"


def test_a_refused_request_is_escalated_by_the_buyer(api) -> None:
    _build(api)
    order = api.shipped_order("b1", "phys-s1")
    b1, s1 = api.token("buyer:b1"), api.token("seller:s1")
    body = {"kind": "refund_only", "reason": "not_as_described", "amount_minor": 5_000}
    refund = api.ok(api.post(f"/v1/orders/{order['id']}/refunds", auth=b1, json=body), 201)
    refused = api.ok(
        api.post(f"/v1/refunds/{refund['id']}/refuse", auth=s1, json={"reason": "as pictured"})
    )
    assert refused["state"] == "seller_refused"
    assert refused["refused_reason"] == "as pictured"
    escalated = api.ok(api.post(f"/v1/refunds/{refund['id']}/escalate", auth=b1))
    assert escalated["state"] == "escalated"


def test_refused_requests_answer_with_stable_problem_codes(api) -> None:
    _build(api)
    order = api.shipped_order("b1", "phys-s1")
    b1 = api.token("buyer:b1")
    too_much = {"kind": "refund_only", "reason": "not_received", "amount_minor": 10_001}
    api.problem(
        api.post(f"/v1/orders/{order['id']}/refunds", auth=b1, json=too_much),
        422,
        "invalid_refund_amount",
    )
    wrong_reason = {"kind": "refund_only", "reason": "not_shipped", "amount_minor": 100}
    api.problem(
        api.post(f"/v1/orders/{order['id']}/refunds", auth=b1, json=wrong_reason),
        409,
        "refund_not_allowed",
    )
    ok = {"kind": "partial_refund", "reason": "quality_problem", "amount_minor": 100}
    api.ok(api.post(f"/v1/orders/{order['id']}/refunds", auth=b1, json=ok), 201)
    api.problem(
        api.post(f"/v1/orders/{order['id']}/refunds", auth=b1, json=ok),
        409,
        "refund_already_open",
    )


def test_a_retried_refund_request_with_the_same_idempotency_key_is_not_opened_twice(api) -> None:
    _build(api)
    order = api.shipped_order("b1", "phys-s1")
    b1 = api.token("buyer:b1")
    body = {"kind": "partial_refund", "reason": "quality_problem", "amount_minor": 100}
    headers = {"Idempotency-Key": "refund-1"}
    first = api.post(f"/v1/orders/{order['id']}/refunds", auth=b1, json=body, headers=headers)
    again = api.post(f"/v1/orders/{order['id']}/refunds", auth=b1, json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert again.headers.get("idempotent-replayed") == "true"
