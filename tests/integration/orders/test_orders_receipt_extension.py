"""DESIGN.md §4: the buyer extends receipt by 3 days, once, only when at most 3 days remain."""

from datetime import timedelta

import pytest

from tradeguard.kernel.errors import TransitionNotAllowed
from tradeguard.kernel.parties import OPERATOR, buyer, seller
from tradeguard.orders.model import OrderState

SECOND = timedelta(seconds=1)
AUTO_CONFIRM = timedelta(days=10)
EXTENSION = timedelta(days=3)


def test_buyer_extends_receipt_by_3_days_when_3_days_remain(market) -> None:
    # given
    order_id = market.shipped_order()
    shipped_at = market.clock.now()
    market.advance(AUTO_CONFIRM - EXTENSION)
    # when
    market.app.orders.extend_receipt(order_id, buyer("b1"))
    # then
    details = market.details(order_id)
    assert details.auto_confirm_at == shipped_at + AUTO_CONFIRM + EXTENSION
    assert details.order.receipt_extensions == 1
    assert "order.receipt_extended" in market.event_types(order_id)


def test_extended_order_auto_confirms_3_days_later_than_it_would_have(market) -> None:
    # given
    order_id = market.shipped_order()
    shipped_at = market.clock.now()
    market.advance(timedelta(days=8))
    market.app.orders.extend_receipt(order_id, buyer("b1"))
    # when
    market.advance(AUTO_CONFIRM - timedelta(days=8))
    assert market.get(order_id).state == OrderState.SHIPPED
    market.advance(EXTENSION)
    # then
    order = market.get(order_id)
    assert order.state == OrderState.COMPLETED
    assert order.completed_at == shipped_at + AUTO_CONFIRM + EXTENSION
    assert market.app.verify_ledger() == []


def test_extension_is_refused_while_more_than_3_days_remain(market) -> None:
    # given
    order_id = market.shipped_order()
    market.advance(AUTO_CONFIRM - EXTENSION - SECOND)
    before = market.snapshot()
    # when
    with pytest.raises(TransitionNotAllowed):
        market.app.orders.extend_receipt(order_id, buyer("b1"))
    # then
    assert market.snapshot() == before


def test_receipt_can_be_extended_only_once(market) -> None:
    # given
    order_id = market.shipped_order()
    market.advance(AUTO_CONFIRM - timedelta(days=1))
    market.app.orders.extend_receipt(order_id, buyer("b1"))
    market.advance(timedelta(days=2))  # 2 days left again
    before = market.snapshot()
    # when
    with pytest.raises(TransitionNotAllowed):
        market.app.orders.extend_receipt(order_id, buyer("b1"))
    # then
    assert market.snapshot() == before


def test_extension_is_refused_while_auto_confirm_is_paused(market) -> None:
    # given
    order_id = market.shipped_order()
    market.advance(timedelta(days=8))
    market.app.orders.pause(order_id, "refund requested")
    before = market.snapshot()
    # when
    with pytest.raises(TransitionNotAllowed):
        market.app.orders.extend_receipt(order_id, buyer("b1"))
    # then
    assert market.snapshot() == before


def test_virtual_order_receipt_may_be_extended_right_after_delivery(market) -> None:
    # given
    order_id = market.delivered_order()
    delivered_at = market.clock.now()
    # when
    market.app.orders.extend_receipt(order_id, buyer("b1"))
    # then
    assert market.details(order_id).auto_confirm_at == delivered_at + timedelta(days=6)


def test_extension_re_arms_the_auto_confirm_reminder(market) -> None:
    # given: the reminder went out 2 days before the original auto-confirm
    order_id = market.shipped_order()
    market.advance(AUTO_CONFIRM - timedelta(days=2))
    assert market.event_types(order_id).count("order.auto_confirm_reminder") == 1
    market.app.orders.extend_receipt(order_id, buyer("b1"))
    # when
    market.advance(EXTENSION)
    # then
    assert market.event_types(order_id).count("order.auto_confirm_reminder") == 2
    assert market.get(order_id).state == OrderState.SHIPPED


@pytest.mark.parametrize("party", [seller("s1"), OPERATOR], ids=["seller", "operator"])
def test_only_the_buyer_extends_receipt(market, party) -> None:
    # given
    order_id = market.shipped_order()
    market.advance(AUTO_CONFIRM - timedelta(days=1))
    before = market.snapshot()
    # when
    with pytest.raises(TransitionNotAllowed):
        market.app.orders.extend_receipt(order_id, party)
    # then
    assert market.snapshot() == before


def test_receipt_cannot_be_extended_before_shipment(market) -> None:
    # given
    order_id = market.paid_order()
    before = market.snapshot()
    # when
    with pytest.raises(TransitionNotAllowed):
        market.app.orders.extend_receipt(order_id, buyer("b1"))
    # then
    assert market.snapshot() == before
