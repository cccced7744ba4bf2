"""DESIGN.md §4: an open refund or dispute pauses auto-confirm; the remaining time resumes after."""

from datetime import timedelta

import pytest

from tradeguard.kernel.errors import Conflict
from tradeguard.kernel.parties import buyer
from tradeguard.orders.model import OrderState

SECOND = timedelta(seconds=1)
AUTO_CONFIRM = timedelta(days=10)


def test_paused_order_never_auto_confirms(market) -> None:
    # given
    order_id = market.shipped_order()
    market.advance(timedelta(days=4))
    market.app.orders.pause(order_id, "refund requested")
    # when
    report = market.advance(timedelta(days=365))
    # then
    details = market.details(order_id)
    assert report.fired == 0
    assert details.order.state == OrderState.SHIPPED
    assert details.auto_confirm_paused
    assert details.auto_confirm_at is None
    assert "order.auto_confirm_reminder" not in market.event_types(order_id)
    assert market.escrow(order_id) == details.order.total_minor
    assert market.app.verify_ledger() == []


def test_resumed_order_auto_confirms_after_the_time_left_at_pause(market) -> None:
    # given: paused with 6 days left, resumed 20 days later
    order_id = market.shipped_order()
    market.advance(timedelta(days=4))
    market.app.orders.pause(order_id, "dispute opened")
    market.advance(timedelta(days=20))
    # when
    market.app.orders.resume(order_id, "dispute closed")
    resumed_at = market.clock.now()
    # then
    assert market.details(order_id).auto_confirm_at == resumed_at + timedelta(days=6)
    market.advance(timedelta(days=6) - SECOND)
    assert market.get(order_id).state == OrderState.SHIPPED
    market.advance(SECOND)
    order = market.get(order_id)
    assert order.state == OrderState.COMPLETED
    assert order.completed_by == "auto_confirm"
    assert market.app.verify_ledger() == []


def test_the_reminder_comes_again_2_days_before_the_resumed_auto_confirm(market) -> None:
    # given: paused with 6 days left, before the reminder was due
    order_id = market.shipped_order()
    market.advance(timedelta(days=4))
    market.app.orders.pause(order_id, "dispute opened")
    market.advance(timedelta(days=20))
    market.app.orders.resume(order_id, "dispute closed")
    # when
    market.advance(timedelta(days=4))
    # then
    assert market.event_types(order_id).count("order.auto_confirm_reminder") == 1


def test_holds_nest_so_two_pauses_need_two_resumes(market) -> None:
    # given
    order_id = market.shipped_order()
    market.advance(timedelta(days=1))
    market.app.orders.pause(order_id, "refund requested")
    market.app.orders.pause(order_id, "dispute opened")
    # when
    market.app.orders.resume(order_id, "refund withdrawn")
    # then
    assert market.details(order_id).auto_confirm_paused
    market.advance(timedelta(days=30))
    assert market.get(order_id).state == OrderState.SHIPPED
    # when
    market.app.orders.resume(order_id, "dispute closed")
    # then
    details = market.details(order_id)
    assert not details.auto_confirm_paused
    assert details.auto_confirm_at == market.clock.now() + timedelta(days=9)


def test_resuming_an_order_that_is_not_paused_is_refused(market) -> None:
    # given
    order_id = market.shipped_order()
    before = market.snapshot()
    # when
    with pytest.raises(Conflict):
        market.app.orders.resume(order_id, "nothing to resume")
    # then
    assert market.snapshot() == before


def test_resuming_once_more_than_paused_is_refused(market) -> None:
    # given
    order_id = market.shipped_order()
    market.app.orders.pause(order_id, "refund requested")
    market.app.orders.resume(order_id, "refund withdrawn")
    before = market.snapshot()
    # when
    with pytest.raises(Conflict):
        market.app.orders.resume(order_id, "again")
    # then
    assert market.snapshot() == before


def test_a_paused_virtual_order_keeps_its_remaining_time(market) -> None:
    # given
    order_id = market.delivered_order()
    market.advance(timedelta(days=1))
    market.app.orders.pause(order_id, "buyer says the code does not work")
    market.advance(timedelta(days=10))
    # when
    market.app.orders.resume(order_id, "seller sent a new code")
    # then
    assert market.details(order_id).auto_confirm_at == market.clock.now() + timedelta(days=2)


def test_the_buyer_may_still_confirm_receipt_while_paused(market) -> None:
    # given
    order_id = market.shipped_order(price=10_000)
    market.app.orders.pause(order_id, "refund requested")
    # when
    market.app.orders.confirm_receipt(order_id, buyer("b1"))
    # then
    assert market.get(order_id).state == OrderState.COMPLETED
    assert market.balance("seller:s1:available") == 9_800
    assert market.app.verify_ledger() == []
