"""Orders through HTTP (DESIGN.md §4): the guaranteed transaction as its callers drive it.

The operator registers listings, checks carts out and reports payments with its
API key; sellers ship and buyers confirm with the tokens the operator minted for
them; time moves on the fake clock and ``app.run_deadlines()`` plays the worker.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

CNY = "CNY"
DAY = timedelta(days=1)
SHIPMENT = {"carrier": "SF", "tracking_number": "SF1234567890", "serial_numbers": ["IMEI-1"]}
SCANS = [
    {"status": "in_transit", "occurred_at": "2026-01-06T12:00:00Z", "location": "Hangzhou"},
    {"status": "signed", "occurred_at": "2026-01-07T18:00:00Z", "detail": "front desk"},
]


def at(text: str) -> datetime:
    """An instant from the API's ISO 8601 text."""
    return datetime.fromisoformat(text)


def event_types(api: Any, order_id: str, auth: Any = None) -> list[str]:
    """The types of an order's timeline events, as ``auth`` (default: the operator) reads them."""
    timeline = api.ok(api.get(f"/v1/orders/{order_id}/timeline", auth=auth or api.operator_key))
    assert timeline["order_id"] == order_id
    return [event["type"] for event in timeline["events"]]


def test_full_lifecycle_from_listing_to_the_sellers_balance(api) -> None:
    # given: s1's listing, and b1's and s1's tokens
    api.listing("case-s1", "s1")
    buyer, seller = api.token("buyer:b1"), api.token("seller:s1")
    # when: b1 checks out two cases plus shipping, and the payment is captured
    checkout = api.checkout("b1", [("case-s1", 2, 1500)], {"s1": 800})
    [created] = checkout["orders"]
    paid = api.pay(checkout)["orders"][0]
    # then
    assert created["state"] == "awaiting_payment"
    assert checkout["total_minor"] == created["total_minor"] == 3800
    assert paid["state"] == "paid"
    assert paid["escrow_minor"] == 3800

    # when: s1 ships with its own token, and the carrier scans the parcel twice
    shipped = api.ok(api.post(f"/v1/orders/{paid['id']}/ship", auth=seller, json=SHIPMENT))
    for scan in SCANS:
        api.ok(api.post(f"/v1/orders/{paid['id']}/tracking-events", json=scan))
    # then
    assert shipped["state"] == "shipped"
    assert at(shipped["auto_confirm_at"]) == at(shipped["shipped_at"]) + 10 * DAY
    seen = api.summary(paid, auth=buyer)
    assert seen["last_tracking_status"] == "signed"
    assert seen["delivered_at"] is not None

    # when: b1 confirms receipt with its own token
    completed = api.ok(api.post(f"/v1/orders/{paid['id']}/confirm-receipt", auth=buyer))
    # then: escrow is released, minus the 2 % platform fee, to s1's available balance
    assert completed["state"] == "completed"
    assert completed["completed_by"] == "buyer"
    assert completed["fee_minor"] == 76
    assert completed["escrow_minor"] == 0
    balances = api.ok(api.get("/v1/accounts", auth=seller))["data"]
    assert {b["account"]: b["balance_minor"] for b in balances} == {"seller:s1:available": 3724}
    assert event_types(api, paid["id"], auth=seller) == [
        "order.created",
        "order.paid",
        "order.shipped",
        "order.tracking_updated",
        "order.tracking_updated",
        "order.completed",
    ]


def test_a_multi_seller_cart_becomes_one_order_per_seller(api) -> None:
    # given
    api.listing("case-s1", "s1")
    api.listing("cable-s1", "s1")
    api.listing("lamp-s2", "s2")
    lines = [("case-s1", 1, 1500), ("lamp-s2", 1, 9900), ("cable-s1", 3, 500)]
    # when
    checkout = api.checkout("b1", lines, {"s1": 800, "s2": 0})
    # then: one order per seller, each with its own lines and shipping, under one payment group
    orders = {o["seller_id"]: o for o in checkout["orders"]}
    assert set(orders) == {"s1", "s2"}
    assert {o["payment_group_id"] for o in orders.values()} == {checkout["payment_group_id"]}
    assert orders["s1"]["subtotal_minor"] == 1500 + 3 * 500
    assert orders["s1"]["total_minor"] == 1500 + 3 * 500 + 800
    assert orders["s2"]["total_minor"] == 9900
    assert checkout["total_minor"] == 3000 + 800 + 9900

    # when: one payment for the whole cart
    paid = api.pay(checkout)["orders"]
    # then: each order escrows its own share
    assert {o["seller_id"]: o["escrow_minor"] for o in paid} == {"s1": 3800, "s2": 9900}
    assert {o["state"] for o in paid} == {"paid"}
    # and: each seller sees its own order only
    for seller_id in ("s1", "s2"):
        listed = api.ok(api.get("/v1/orders", auth=api.token(f"seller:{seller_id}")))["data"]
        assert [o["id"] for o in listed] == [orders[seller_id]["id"]]
    # and: the group's orders can be listed together
    group = api.ok(api.get("/v1/orders", params={"payment_group_id": checkout["payment_group_id"]}))
    assert {o["id"] for o in group["data"]} == {o["id"] for o in paid}


def test_virtual_goods_are_delivered_with_a_record_and_auto_confirm_three_days_later(api) -> None:
    # given: a paid virtual order
    api.listing("topup-s1", "s1", "virtual", purchase_limit=1)
    order = api.paid_order("b1", "topup-s1", 90)
    seller = api.token("seller:s1")
    # when: the seller tries to ship it like a parcel
    refused = api.post(f"/v1/orders/{order['id']}/ship", auth=seller, json=SHIPMENT)
    # then
    api.problem(refused, 409, "transition_not_allowed")

    # when: the shop's software delivers it
    detail = "top-up of 1 CNY to 138****5678 succeeded"
    delivered = api.ok(
        api.post(
            f"/v1/orders/{order['id']}/deliveries",
            auth=seller,
            json={"method": "automatic", "detail": detail},
        )
    )
    # then: the delivery record is kept and auto-confirm counts 3 days from delivery
    assert delivered["state"] == "delivered"
    assert at(delivered["auto_confirm_at"]) == at(delivered["delivered_at"]) + 3 * DAY

    # when: three days pass
    api.advance(3 * DAY)
    # then
    completed = api.summary(order)
    assert completed["state"] == "completed"
    assert completed["completed_by"] == "auto_confirm"
    assert event_types(api, order["id"])[-2:] == ["order.delivered", "order.completed"]


def test_anyone_may_cancel_an_unpaid_order(api) -> None:
    # given
    api.listing("case-s1", "s1")
    cancellers = {
        "buyer": api.token("buyer:b1"),
        "seller": api.token("seller:s1"),
        "operator": api.operator_key,
    }
    for who, auth in cancellers.items():
        order = api.awaiting_order("b1", "case-s1")
        # when
        closed = api.ok(
            api.post(f"/v1/orders/{order['id']}/cancel", auth=auth, json={"reason": "changed mind"})
        )
        # then
        assert closed["state"] == "closed"
        assert closed["close_reason"] == f"cancelled_by_{who}"
        assert closed["refunded_minor"] == 0


def test_after_payment_the_seller_cancels_and_the_escrow_goes_back_to_the_buyer(api) -> None:
    # given
    api.listing("case-s1", "s1")
    order = api.paid_order("b1", "case-s1", 10_000)
    buyer = api.token("buyer:b1")
    assert api.balance("buyer:b1:funding", auth=buyer) == -10_000
    # when: the buyer tries first, then the seller
    by_buyer = api.post(f"/v1/orders/{order['id']}/cancel", auth=buyer, json={})
    by_seller = api.post(
        f"/v1/orders/{order['id']}/cancel", auth=api.token("seller:s1"), json={"reason": "no stock"}
    )
    # then: the buyer may not while the seller is still in time; the seller may
    api.problem(by_buyer, 409, "transition_not_allowed")
    closed = api.ok(by_seller)
    assert closed["state"] == "closed"
    assert closed["close_reason"] == "cancelled_by_seller"
    assert closed["refunded_minor"] == 10_000
    assert closed["escrow_minor"] == 0
    assert api.balance("buyer:b1:funding", auth=buyer) == 0
    assert event_types(api, order["id"])[-1] == "order.closed"


def test_the_buyer_may_cancel_once_the_seller_missed_the_ship_by_time(api) -> None:
    # given: a paid order, and four days without shipment
    api.listing("case-s1", "s1")
    order = api.paid_order("b1", "case-s1")
    api.advance(4 * DAY)
    # when
    closed = api.ok(
        api.post(
            f"/v1/orders/{order['id']}/cancel", auth=api.token("buyer:b1"), json={"reason": "late"}
        )
    )
    # then
    assert closed["state"] == "closed"
    assert closed["close_reason"] == "cancelled_by_buyer"
    assert closed["is_late"] is True


def test_a_shipped_order_cannot_be_cancelled(api) -> None:
    # given
    api.listing("case-s1", "s1")
    order = api.shipped_order("b1", "case-s1")
    # when / then
    for auth in (api.token("buyer:b1"), api.token("seller:s1"), api.operator_key):
        refused = api.post(f"/v1/orders/{order['id']}/cancel", auth=auth, json={})
        api.problem(refused, 409, "transition_not_allowed")
    assert api.summary(order)["state"] == "shipped"


def test_the_buyer_extends_receipt_once_when_little_time_remains(api) -> None:
    # given: a shipped order; auto-confirm is 10 days away
    api.listing("case-s1", "s1")
    order = api.shipped_order("b1", "case-s1")
    buyer = api.token("buyer:b1")
    due = at(order["auto_confirm_at"])
    # when: the buyer asks right away
    too_early = api.post(f"/v1/orders/{order['id']}/extend-receipt", auth=buyer)
    # then
    api.problem(too_early, 409, "transition_not_allowed")

    # when: 8 days later, with 2 days left
    api.advance(8 * DAY)
    extended = api.ok(api.post(f"/v1/orders/{order['id']}/extend-receipt", auth=buyer))
    # then: 3 more days, once
    assert at(extended["auto_confirm_at"]) == due + 3 * DAY
    assert extended["receipt_extensions"] == 1
    again = api.post(f"/v1/orders/{order['id']}/extend-receipt", auth=buyer)
    api.problem(again, 409, "transition_not_allowed")
    assert "order.receipt_extended" in event_types(api, order["id"])

    # when: the original auto-confirm time passes, then the extension
    api.advance(2 * DAY)
    assert api.summary(order)["state"] == "shipped"
    api.advance(3 * DAY)
    # then
    assert api.summary(order)["completed_by"] == "auto_confirm"


def test_late_shipment_compensation_is_paid_to_the_buyer_once(api) -> None:
    # given: a paid order of 100.00 CNY that was not shipped in 4 days
    api.listing("case-s1", "s1")
    order = api.paid_order("b1", "case-s1", 10_000)
    buyer = api.token("buyer:b1")
    assert api.summary(order)["ship_by_at"] is not None
    api.clock.advance(4 * DAY)
    api.app.run_deadlines()
    late = api.summary(order, auth=buyer)
    assert late["is_late"] is True
    assert at(late["ship_by_at"]) == at(late["paid_at"]) + 3 * DAY
    assert late["late_compensation_minor"] == 500  # 5 % of the goods price
    # when: another buyer tries to claim it, then its buyer does
    stranger = api.post(f"/v1/orders/{order['id']}/late-compensation", auth=api.token("buyer:b2"))
    claimed = api.ok(api.post(f"/v1/orders/{order['id']}/late-compensation", auth=buyer))
    again = api.post(f"/v1/orders/{order['id']}/late-compensation", auth=buyer)
    # then
    api.problem(stranger, 404, "not_found")
    assert claimed["late_compensation_paid"] is True
    assert claimed["escrow_minor"] == 9_500
    assert api.balance("buyer:b1:funding", auth=buyer) == -10_000 + 500
    api.problem(again, 409, "transition_not_allowed")
    assert event_types(api, order["id"], auth=buyer)[-2:] == [
        "order.late_shipment",
        "order.late_compensation_paid",
    ]


def test_order_pages_follow_the_cursor_and_hold_every_order_exactly_once(api) -> None:
    # given: five orders of b1, a second apart
    api.listing("case-s1", "s1")
    created = []
    for _ in range(5):
        created.append(api.awaiting_order("b1", "case-s1")["id"])
        api.clock.advance(timedelta(seconds=1))
    for auth in (api.operator_key, api.token("buyer:b1"), api.token("seller:s1")):
        # when: paging two at a time
        pages, cursor = [], None
        while True:
            params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = api.ok(api.get("/v1/orders", auth=auth, params=params))
            pages.append([o["id"] for o in page["data"]])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        # then: newest first, every order once
        assert [len(p) for p in pages] == [2, 2, 1]
        assert [i for p in pages for i in p] == created[::-1]


def test_orders_filter_by_state_and_buyer(api) -> None:
    # given: b1 has an unpaid and a paid order, b2 a paid one
    api.listing("case-s1", "s1")
    api.listing("lamp-s2", "s2")
    unpaid = api.awaiting_order("b1", "case-s1")["id"]
    paid = api.paid_order("b1", "case-s1")["id"]
    b2_paid = api.paid_order("b2", "lamp-s2")["id"]

    def listed(auth: Any = api.operator_key, **params: Any) -> set[str]:
        return {o["id"] for o in api.ok(api.get("/v1/orders", auth=auth, params=params))["data"]}

    # when / then
    assert listed() == {unpaid, paid, b2_paid}
    assert listed(state="paid") == {paid, b2_paid}
    assert listed(state=["paid", "awaiting_payment"]) == {unpaid, paid, b2_paid}
    assert listed(state="completed") == set()
    assert listed(buyer_id="b2") == {b2_paid}
    assert listed(buyer_id="b1", state="awaiting_payment") == {unpaid}
    assert listed(seller_id="s2") == {b2_paid}
    # and: a buyer asking for someone else's orders still sees only its own
    assert listed(api.token("buyer:b1"), buyer_id="b2") == {unpaid, paid}
    assert listed(api.token("seller:s2"), seller_id="s1") == {b2_paid}
    # and: an unknown state is a validation error naming the field
    body = api.problem(api.get("/v1/orders", params={"state": "lost"}), 422, "validation_failed")
    assert [e["field"] for e in body["errors"]] == ["query.state.0"]


def test_a_seller_pays_out_and_the_operator_reports_the_payout_failed(api) -> None:
    # given: s1 earned 98.00 CNY from a completed order
    api.listing("case-s1", "s1")
    api.completed_order("b1", "case-s1", 10_000)
    seller = api.token("seller:s1")
    assert api.balance("seller:s1:available", auth=seller) == 9_800
    # when: s1 pays out 50.00
    payout = api.ok(
        api.post("/v1/payouts", auth=seller, json={"amount_minor": 5_000, "currency": CNY}), 201
    )
    # then
    assert (payout["seller_id"], payout["amount_minor"], payout["state"]) == ("s1", 5_000, "paid")
    assert api.balance("seller:s1:available", auth=seller) == 4_800
    assert api.balance("seller:s1:payouts") == 5_000

    # when: the bank refuses it
    failed = api.ok(
        api.post(f"/v1/payouts/{payout['id']}/failure", json={"reason": "account closed"})
    )
    # then: the money is back in the available balance, once
    assert failed["state"] == "failed"
    assert failed["failure_reason"] == "account closed"
    assert failed["failed_at"] is not None
    assert api.balance("seller:s1:available", auth=seller) == 9_800
    api.problem(
        api.post(f"/v1/payouts/{payout['id']}/failure", json={}), 409, "transition_not_allowed"
    )
    assert api.ok(api.get(f"/v1/payouts/{payout['id']}", auth=seller))["state"] == "failed"


def test_payouts_are_refused_beyond_the_balance_or_for_someone_else(api) -> None:
    # given
    api.listing("case-s1", "s1")
    api.completed_order("b1", "case-s1", 10_000)
    seller = api.token("seller:s1")
    # when
    too_much = api.post("/v1/payouts", auth=seller, json={"amount_minor": 9_801, "currency": CNY})
    for_s2 = api.post(
        "/v1/payouts", auth=seller, json={"seller_id": "s2", "amount_minor": 1, "currency": CNY}
    )
    unnamed = api.post("/v1/payouts", json={"amount_minor": 1, "currency": CNY})
    # then
    assert api.problem(too_much, 409, "insufficient_funds")["details"]["balance_minor"] == 9_800
    api.problem(for_s2, 422, "validation_failed")
    api.problem(unnamed, 422, "validation_failed")
    assert api.balance("seller:s1:available", auth=seller) == 9_800


def test_a_seller_lists_only_its_own_payouts(api) -> None:
    # given: s1 and s2 both earned and paid out
    api.listing("case-s1", "s1")
    api.listing("lamp-s2", "s2")
    api.completed_order("b1", "case-s1", 10_000)
    api.completed_order("b2", "lamp-s2", 20_000)
    s1, s2 = api.token("seller:s1"), api.token("seller:s2")
    body = {"amount_minor": 1_000, "currency": CNY}
    s1_payouts = [api.ok(api.post("/v1/payouts", auth=s1, json=body), 201)["id"] for _ in range(2)]
    s2_payout = api.ok(api.post("/v1/payouts", json={**body, "seller_id": "s2"}), 201)["id"]

    def listed(auth: Any, **params: Any) -> list[str]:
        return [p["id"] for p in api.ok(api.get("/v1/payouts", auth=auth, params=params))["data"]]

    # when / then: each seller sees its own, whatever it asks for; the operator sees all
    assert sorted(listed(s1)) == sorted(s1_payouts)
    assert sorted(listed(s1, seller_id="s2")) == sorted(s1_payouts)
    assert listed(s2) == [s2_payout]
    assert sorted(listed(api.operator_key)) == sorted([*s1_payouts, s2_payout])
    assert listed(api.operator_key, seller_id="s2") == [s2_payout]
    # and: another seller's payout does not exist for s1; a buyer has no payouts at all
    api.problem(api.get(f"/v1/payouts/{s2_payout}", auth=s1), 404, "not_found")
    api.problem(api.get("/v1/payouts", auth=api.token("buyer:b1")), 403, "forbidden")


def test_an_order_reads_with_its_lines_parcels_scans_and_delivery_records(api) -> None:
    # given: a two-line physical order, shipped and scanned, and a delivered virtual order
    api.listing("case-s1", "s1")
    api.listing("cable-s1", "s1")
    api.listing("topup-s1", "s1", "virtual")
    checkout = api.checkout("b1", [("case-s1", 1, 1500), ("cable-s1", 3, 500)], {"s1": 800})
    physical = api.pay(checkout)["orders"][0]
    api.ok(
        api.post(f"/v1/orders/{physical['id']}/ship", auth=api.token("seller:s1"), json=SHIPMENT)
    )
    for scan in SCANS:
        api.ok(api.post(f"/v1/orders/{physical['id']}/tracking-events", json=scan))
    virtual = api.paid_order("b1", "topup-s1", 90)
    detail = "top-up of 1 CNY to 138****5678 succeeded"
    api.ok(
        api.post(
            f"/v1/orders/{virtual['id']}/deliveries",
            auth=api.token("seller:s1"),
            json={"method": "automatic", "detail": detail},
        )
    )
    # when: the buyer, the seller and the operator read them
    for auth in (api.token("buyer:b1"), api.token("seller:s1"), api.operator_key):
        parcel = api.order(physical["id"], auth=auth)
        download = api.order(virtual["id"], auth=auth)
        # then
        assert [(line["listing_id"], line["quantity"]) for line in parcel["lines"]] == [
            ("case-s1", 1),
            ("cable-s1", 3),
        ]
        [shipment] = parcel["shipments"]
        assert (shipment["carrier"], shipment["tracking_number"]) == ("SF", "SF1234567890")
        assert shipment["serial_numbers"] == ["IMEI-1"]
        assert [t["status"] for t in parcel["tracking_events"]] == ["in_transit", "signed"]
        assert parcel["tracking_events"][0]["location"] == "Hangzhou"
        assert at(parcel["auto_confirm_at"]) == at(parcel["shipped_at"]) + 10 * DAY
        assert parcel["auto_confirm_paused"] is False
        [record] = download["delivery_records"]
        assert (record["method"], record["detail"]) == ("automatic", detail)
        assert record["recorded_by"] == "seller:s1"
        assert download["shipments"] == []


def test_payout_holds_show_a_seller_its_own_and_make_operators_name_the_seller(api) -> None:
    # given
    seller = api.token("seller:s1")
    # when
    own = api.ok(api.get("/v1/payout-holds", auth=seller, params={"seller_id": "s2"}))
    named = api.ok(api.get("/v1/payout-holds", params={"seller_id": "s2"}))
    unnamed = api.get("/v1/payout-holds")
    # then
    assert own == {"seller_id": "s1", "owed_minor": {}, "data": []}
    assert named["seller_id"] == "s2"
    assert api.problem(unnamed, 422, "validation_failed")["detail"] == "Name the seller."
