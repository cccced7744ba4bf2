"""Seed 002: a virtual-goods shop, a buyer who buys a "one per ID" top-up twice, a false complaint.

The story (seeds/002): a new shop sells 1-yuan phone top-ups for 0.90, one per
buyer ID, delivered automatically by its top-up software. On 2014-01-09 at
23:20 and 23:21 one buyer ID orders the same top-up twice and pays at 23:22;
the software delivers at 23:24; the next day the buyer complains "not shipped".
The platform dismissed the complaint because the seller had delivery records.

With TradeGuard the second purchase never exists: the listing's per-buyer limit
refuses it at creation, so there is no second payment to deliver or complain
about, and the first order keeps its automatic delivery record as evidence and
completes by itself three days after delivery. Complaints come later (disputes).
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tradeguard.kernel.clock import FakeClock
from tradeguard.kernel.errors import TransitionNotAllowed
from tradeguard.kernel.parties import OPERATOR, buyer, seller
from tradeguard.orders.errors import PurchaseLimitExceeded
from tradeguard.orders.model import GoodsKind, OrderState
from tradeguard.orders.ports import OrderFilter
from tradeguard.orders.rules import CartLine

CST = ZoneInfo("Asia/Shanghai")
SHOP = "yaoji-chuangfu"  # 姚记创富
BUYER = "buyer-20140109"
TOPUP = "topup-1-yuan"
PRICE = 90  # a 1-yuan top-up on promotion for 0.90
TOP_UP_LOG = "话费充值成功: 1元 -> 138****5678, 充值软件流水号 20140109232400017"


def at(hour: int, minute: int, day: int = 9) -> datetime:
    """An instant on the shop's clock in January 2014 (China Standard Time)."""
    return datetime(2014, 1, day, hour, minute, tzinfo=CST)


def test_seed_002_second_one_per_id_purchase_is_refused_and_the_delivered_order_completes(
    make_app,
) -> None:
    # given: the shop's top-up listing, limited to one per buyer ID
    clock = FakeClock(at(23, 0))
    app = make_app(clock=clock)
    app.orders.register_listing(
        TOPUP, SHOP, "1元话费充值（同一ID限拍一次）", GoodsKind.VIRTUAL, purchase_limit_per_buyer=1
    )

    # when: 23:20, the buyer checks out one top-up
    clock.set(at(23, 20))
    checkout = app.orders.create_checkout(BUYER, "CNY", [CartLine(TOPUP, 1, PRICE)])
    [first] = checkout.orders
    # then
    assert first.state == OrderState.AWAITING_PAYMENT

    # when: 23:21, the same buyer ID orders the same top-up again
    clock.set(at(23, 21))
    with pytest.raises(PurchaseLimitExceeded) as refused:
        app.orders.create_checkout(BUYER, "CNY", [CartLine(TOPUP, 1, PRICE)])
    # then: refused at creation, with a message that says why
    assert refused.value.code == "purchase_limit_exceeded"
    assert str(refused.value) == (
        f"Listing {TOPUP} allows 1 per buyer; this buyer already has 1 and asked for 1 more."
    )

    # when: 23:22, the payment provider captures the 0.90
    clock.set(at(23, 22))
    app.orders.confirm_payment(
        checkout.payment_group_id, PRICE, "CNY", "alipay-0109-2322", OPERATOR
    )
    # and 23:24, the shop's software tops the phone up and reports it
    clock.set(at(23, 24))
    app.orders.deliver(first.id, seller(SHOP), method="automatic", detail=TOP_UP_LOG)
    # then
    assert app.orders.get(first.id, buyer(BUYER)).order.state == OrderState.DELIVERED

    # when: a minute later the buyer tries once more, now that the first one was delivered
    clock.set(at(23, 25))
    with pytest.raises(PurchaseLimitExceeded):
        app.orders.create_checkout(BUYER, "CNY", [CartLine(TOPUP, 1, PRICE)])
    # then: there is one order, one payment, one delivery, and nothing else
    assert [o.id for o in app.orders.find(OPERATOR, OrderFilter(buyer_id=BUYER))] == [first.id]
    event_types = [
        e.type
        for e in app.units.run(lambda uow: uow.outbox.after(0, 1_000, include_unsettled=True))
    ]
    assert event_types.count("order.created") == 1
    assert event_types.count("order.paid") == 1
    assert event_types.count("order.delivered") == 1
    balances = {b.address: b.balance_minor for b in app.balances()}
    assert balances[f"buyer:{BUYER}:funding"] == -PRICE
    assert [a for a in balances if a.startswith("escrow:")] == [f"escrow:order:{first.id}"]

    # when: the next day (the buyer's complaint would come here) everyone looks at the order
    clock.set(at(12, 0, day=10))
    views = [app.orders.get(first.id, p) for p in (buyer(BUYER), seller(SHOP), OPERATOR)]
    # then: the delivery record is there, the same for all, as system evidence
    for view in views:
        [record] = view.delivery_records
        assert record.method == "automatic"
        assert record.detail == TOP_UP_LOG
        assert record.delivered_at == at(23, 24)
        assert record.recorded_by == f"seller:{SHOP}"
    delivered = app.units.run(lambda uow: uow.outbox.for_order(first.id))
    assert [e.data["delivery_record_id"] for e in delivered if e.type == "order.delivered"] == [
        views[0].delivery_records[0].id
    ]
    # and the buyer cannot cancel delivered goods to get the money back
    with pytest.raises(TransitionNotAllowed):
        app.orders.cancel(first.id, buyer(BUYER), "not shipped")

    # when: three days after delivery, auto-confirm runs
    clock.set(at(23, 23, day=12))
    app.run_deadlines()
    assert app.orders.get(first.id, OPERATOR).order.state == OrderState.DELIVERED
    clock.set(at(23, 24, day=12))
    app.run_deadlines()
    # then: the order completed by itself and the shop was paid 0.90 minus the 2 % fee
    order = app.orders.get(first.id, seller(SHOP)).order
    assert order.state == OrderState.COMPLETED
    assert order.completed_by == "auto_confirm"
    assert order.completed_at == at(23, 24, day=12)
    assert order.fee_minor == 2  # 1.8 rounded half-even
    balances = {b.address: b.balance_minor for b in app.balances()}
    assert balances[f"seller:{SHOP}:available"] == PRICE - 2
    assert balances[f"escrow:order:{first.id}"] == 0
    assert balances[f"buyer:{BUYER}:funding"] == -PRICE
    assert app.verify_ledger() == []


def test_seed_002_the_limit_is_per_buyer_id_so_other_buyers_still_buy_one_each(make_app) -> None:
    # given
    clock = FakeClock(at(23, 0))
    app = make_app(clock=clock)
    app.orders.register_listing(
        TOPUP, SHOP, "1元话费充值（同一ID限拍一次）", GoodsKind.VIRTUAL, purchase_limit_per_buyer=1
    )
    buyers = [f"buyer-{n}" for n in range(3)]
    # when: three different IDs each buy one, pay, and are topped up automatically
    for n, buyer_id in enumerate(buyers):
        clock.set(at(23, 20 + n))
        checkout = app.orders.create_checkout(buyer_id, "CNY", [CartLine(TOPUP, 1, PRICE)])
        app.orders.confirm_payment(
            checkout.payment_group_id, PRICE, "CNY", f"alipay-{buyer_id}", OPERATOR
        )
        app.orders.deliver(checkout.orders[0].id, seller(SHOP), detail=f"top-up for {buyer_id}")
    # then
    orders = app.orders.find(seller(SHOP), OrderFilter())
    assert sorted(o.buyer_id for o in orders) == buyers
    assert {o.state for o in orders} == {OrderState.DELIVERED}
    clock.advance(timedelta(days=3))
    app.run_deadlines()
    assert {o.state for o in app.orders.find(seller(SHOP), OrderFilter())} == {OrderState.COMPLETED}
    assert app.verify_ledger() == []
