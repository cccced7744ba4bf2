"""DESIGN.md §4 payment window: an unpaid order closes 72 h after creation."""

from datetime import timedelta

from tradeguard.orders.model import DeadlineKind, OrderState

PAYMENT_WINDOW = timedelta(hours=72)
SECOND = timedelta(seconds=1)


def test_unpaid_order_closes_when_the_payment_window_ends(market) -> None:
    # given
    order_id = market.order()
    # when
    report = market.advance(PAYMENT_WINDOW)
    # then
    order = market.get(order_id)
    assert report.fired == 1
    assert order.state == OrderState.CLOSED
    assert order.close_reason == "payment_expired"
    assert order.closed_at == market.clock.now()
    assert market.event_types(order_id)[-1] == "order.closed"
    assert market.details(order_id).deadlines == []
    assert market.app.verify_ledger() == []


def test_unpaid_order_stays_open_until_the_payment_window_ends(market) -> None:
    # given
    order_id = market.order()
    # when
    report = market.advance(PAYMENT_WINDOW - SECOND)
    # then
    assert report.fired == 0
    assert market.get(order_id).state == OrderState.AWAITING_PAYMENT
    assert market.event_types(order_id) == ["order.created"]


def test_paid_order_is_untouched_when_the_payment_window_ends(market) -> None:
    # given
    order_id = market.order(price=10_000)
    market.clock.advance(timedelta(hours=1))
    market.pay(order_id)
    before = market.details(order_id)
    # when
    market.advance(PAYMENT_WINDOW - timedelta(hours=1))
    # then
    after = market.details(order_id)
    assert after.order == before.order
    assert after.order.state == OrderState.PAID
    assert not after.order.is_late
    assert market.escrow(order_id) == 10_000
    assert [d.kind for d in after.deadlines] == [DeadlineKind.SHIP_BY]
    assert "order.closed" not in market.event_types(order_id)
    assert market.app.verify_ledger() == []


def test_every_order_of_an_unpaid_checkout_closes_when_the_payment_window_ends(market) -> None:
    # given
    market.listing("l1", seller_id="s1")
    market.listing("l2", seller_id="s2")
    checkout = market.checkout([("l1", 1, 1_000), ("l2", 1, 2_000)])
    # when
    market.advance(PAYMENT_WINDOW)
    # then
    assert [market.get(o.id).state for o in checkout.orders] == [OrderState.CLOSED] * 2
    assert market.app.verify_ledger() == []
