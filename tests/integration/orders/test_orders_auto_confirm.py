"""DESIGN.md §4 auto-confirm: receipt is confirmed automatically, and completion releases escrow."""

from datetime import timedelta

import pytest

from tradeguard.kernel.errors import TransitionNotAllowed
from tradeguard.kernel.parties import buyer
from tradeguard.orders.model import GoodsKind, OrderState
from tradeguard.policy import build_policy

SECOND = timedelta(seconds=1)
AFTER_SHIPMENT = timedelta(days=10)
AFTER_DELIVERY = timedelta(days=3)
REMINDER_LEAD = timedelta(days=2)


def test_shipped_physical_order_auto_confirms_10_days_after_shipment(market) -> None:
    # given
    order_id = market.shipped_order()
    shipped_at = market.clock.now()
    market.advance(AFTER_SHIPMENT - SECOND)
    assert market.get(order_id).state == OrderState.SHIPPED
    # when
    market.advance(SECOND)
    # then
    order = market.get(order_id)
    assert order.state == OrderState.COMPLETED
    assert order.completed_by == "auto_confirm"
    assert order.completed_at == shipped_at + AFTER_SHIPMENT
    assert market.event_types(order_id)[-1] == "order.completed"
    assert market.app.verify_ledger() == []


def test_delivered_virtual_order_auto_confirms_3_days_after_delivery(market) -> None:
    # given
    order_id = market.delivered_order()
    delivered_at = market.clock.now()
    market.advance(AFTER_DELIVERY - SECOND)
    assert market.get(order_id).state == OrderState.DELIVERED
    # when
    market.advance(SECOND)
    # then
    order = market.get(order_id)
    assert order.state == OrderState.COMPLETED
    assert order.completed_by == "auto_confirm"
    assert order.completed_at == delivered_at + AFTER_DELIVERY
    assert market.app.verify_ledger() == []


@pytest.mark.parametrize(
    ("kind", "auto_confirm_after"),
    [(GoodsKind.PHYSICAL, AFTER_SHIPMENT), (GoodsKind.VIRTUAL, AFTER_DELIVERY)],
    ids=["physical", "virtual"],
)
def test_auto_confirm_reminder_fires_2_days_before_auto_confirm(
    market, kind, auto_confirm_after
) -> None:
    # given
    order_id = market.paid_order(kind=kind)
    if kind == GoodsKind.PHYSICAL:
        market.ship(order_id)
    else:
        market.deliver(order_id)
    started = market.clock.now()
    market.advance(auto_confirm_after - REMINDER_LEAD - SECOND)
    assert "order.auto_confirm_reminder" not in market.event_types(order_id)
    # when
    report = market.advance(SECOND)
    # then
    reminders = [e for e in market.events(order_id) if e.type == "order.auto_confirm_reminder"]
    assert report.reminded == 1
    assert [e.occurred_at for e in reminders] == [started + auto_confirm_after - REMINDER_LEAD]
    assert reminders[0].data["due_at"] == (started + auto_confirm_after).isoformat()
    assert market.get(order_id).state in (OrderState.SHIPPED, OrderState.DELIVERED)


def test_completion_releases_escrow_to_the_seller_minus_the_platform_fee(market) -> None:
    # given
    order_id = market.shipped_order(price=10_000, shipping=800)
    # when
    market.advance(AFTER_SHIPMENT)
    # then
    order = market.get(order_id)
    assert order.fee_minor == 216  # 2 % of 108.00
    assert market.balance("seller:s1:available") == 10_800 - 216
    assert market.fees() == 216
    assert market.escrow(order_id) == 0
    assert order.released_minor == 10_800
    assert market.app.verify_ledger() == []


@pytest.mark.parametrize(
    ("total", "fee"),
    [(75, 2), (125, 2), (175, 4), (225, 4), (149, 3), (151, 3)],
    ids=["1.5-up", "2.5-down", "3.5-up", "4.5-down", "2.98", "3.02"],
)
def test_platform_fee_is_200_bps_rounded_half_even(market, total, fee) -> None:
    # given
    order_id = market.delivered_order(price=total)
    # when
    market.advance(AFTER_DELIVERY)
    # then
    assert market.get(order_id).fee_minor == fee
    assert market.balance("seller:s1:available") == total - fee
    assert market.fees() == fee
    assert market.app.verify_ledger() == []


def test_platform_fee_goes_to_a_platform_fees_account(market) -> None:
    # given
    order_ids = [market.shipped_order(buyer_id=f"b{n}", price=10_000) for n in range(3)]
    # when
    market.advance(AFTER_SHIPMENT)
    # then
    fee_accounts = market.app.balances("platform:fees")
    assert all(b.address.split(":")[:2] == ["platform", "fees"] for b in fee_accounts)
    assert sum(b.balance_minor for b in fee_accounts) == 3 * 200
    assert [market.get(o).state for o in order_ids] == [OrderState.COMPLETED] * 3
    assert market.app.verify_ledger() == []


def test_platform_fee_goes_to_the_single_platform_fees_account_when_not_sharded(
    make_app, market_on
) -> None:
    # given
    market = market_on(make_app(policy=build_policy({"orders": {"fee_account_shards": 1}})))
    order_id = market.shipped_order(price=10_000)
    # when
    market.app.orders.confirm_receipt(order_id, buyer("b1"))
    # then
    assert [(b.address, b.balance_minor) for b in market.app.balances("platform:fees")] == [
        ("platform:fees", 200)
    ]
    assert market.app.verify_ledger() == []


@pytest.mark.parametrize("kind", [GoodsKind.PHYSICAL, GoodsKind.VIRTUAL])
def test_buyer_confirming_receipt_completes_the_order_as_the_buyer(market, kind) -> None:
    # given
    order_id = market.paid_order(kind=kind, price=10_000)
    if kind == GoodsKind.PHYSICAL:
        market.ship(order_id)
    else:
        market.deliver(order_id)
    # when
    market.app.orders.confirm_receipt(order_id, buyer("b1"))
    # then
    order = market.get(order_id)
    assert order.state == OrderState.COMPLETED
    assert order.completed_by == "buyer"
    assert market.balance("seller:s1:available") == 9_800
    assert market.details(order_id).deadlines == []
    assert market.app.verify_ledger() == []


def test_an_order_the_buyer_confirmed_is_not_completed_again_by_auto_confirm(market) -> None:
    # given
    order_id = market.shipped_order(price=10_000)
    market.app.orders.confirm_receipt(order_id, buyer("b1"))
    before = market.snapshot()
    # when: well past auto-confirm, but before the review window (15 days) gives its default rating
    report = market.advance(AFTER_SHIPMENT + timedelta(days=4))
    # then
    assert report.fired == 0
    assert market.snapshot() == before
    assert market.app.verify_ledger() == []


def test_receipt_cannot_be_confirmed_twice(market) -> None:
    # given
    order_id = market.completed_order(price=10_000)
    before = market.snapshot()
    # when
    with pytest.raises(TransitionNotAllowed):
        market.app.orders.confirm_receipt(order_id, buyer("b1"))
    # then
    assert market.snapshot() == before
    assert market.balance("seller:s1:available") == 9_800


def test_receipt_cannot_be_confirmed_before_shipment(market) -> None:
    # given
    order_id = market.paid_order()
    before = market.snapshot()
    # when
    with pytest.raises(TransitionNotAllowed):
        market.app.orders.confirm_receipt(order_id, buyer("b1"))
    # then
    assert market.snapshot() == before
