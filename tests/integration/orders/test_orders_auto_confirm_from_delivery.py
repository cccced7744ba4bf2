"""DESIGN.md §4: the policy may count auto-confirm from the carrier's delivery scan (eBay-style)."""

from datetime import timedelta

import pytest

from tradeguard.kernel.parties import OPERATOR
from tradeguard.orders.model import OrderState, TrackingStatus
from tradeguard.policy import build_policy

SECOND = timedelta(seconds=1)
AFTER_DELIVERY = timedelta(days=3)
WITHOUT_SCAN = timedelta(days=30)


@pytest.fixture
def eb(make_app, market_on):
    """A marketplace whose physical orders auto-confirm counting from delivery."""
    policy = build_policy({"orders": {"auto_confirm_counts_from": "delivery"}})
    return market_on(make_app(policy=policy))


def _scan(market, order_id, status):
    market.app.orders.record_tracking(
        order_id, OPERATOR, status=status, occurred_at=market.clock.now(), location="Hangzhou"
    )


@pytest.mark.parametrize("status", [TrackingStatus.DELIVERED, TrackingStatus.SIGNED])
def test_physical_order_auto_confirms_3_days_after_the_delivery_scan(eb, status) -> None:
    # given
    order_id = eb.shipped_order()
    eb.advance(timedelta(days=2))
    _scan(eb, order_id, status)
    scanned_at = eb.clock.now()
    eb.advance(AFTER_DELIVERY - SECOND)
    assert eb.get(order_id).state == OrderState.SHIPPED
    # when
    eb.advance(SECOND)
    # then
    order = eb.get(order_id)
    assert order.state == OrderState.COMPLETED
    assert order.completed_by == "auto_confirm"
    assert order.completed_at == scanned_at + AFTER_DELIVERY
    assert eb.app.verify_ledger() == []


def test_delivery_scan_moves_auto_confirm_to_3_days_after_delivery(eb) -> None:
    # given
    order_id = eb.shipped_order()
    shipped_at = eb.clock.now()
    assert eb.details(order_id).auto_confirm_at == shipped_at + WITHOUT_SCAN
    eb.clock.advance(timedelta(days=4))
    # when
    _scan(eb, order_id, TrackingStatus.DELIVERED)
    # then
    details = eb.details(order_id)
    assert details.auto_confirm_at == eb.clock.now() + AFTER_DELIVERY
    assert details.order.delivered_at == eb.clock.now()


def test_physical_order_auto_confirms_30_days_after_shipment_without_a_delivery_scan(eb) -> None:
    # given
    order_id = eb.shipped_order()
    shipped_at = eb.clock.now()
    _scan(eb, order_id, TrackingStatus.IN_TRANSIT)
    eb.advance(WITHOUT_SCAN - SECOND)
    assert eb.get(order_id).state == OrderState.SHIPPED
    # when
    eb.advance(SECOND)
    # then
    order = eb.get(order_id)
    assert order.state == OrderState.COMPLETED
    assert order.completed_at == shipped_at + WITHOUT_SCAN
    assert eb.app.verify_ledger() == []


@pytest.mark.parametrize(
    "status",
    [TrackingStatus.IN_TRANSIT, TrackingStatus.EXCEPTION, TrackingStatus.RETURNED_TO_SENDER],
)
def test_scans_that_are_not_a_delivery_do_not_start_the_delivery_count(eb, status) -> None:
    # given
    order_id = eb.shipped_order()
    shipped_at = eb.clock.now()
    eb.clock.advance(timedelta(days=1))
    # when
    _scan(eb, order_id, status)
    # then
    details = eb.details(order_id)
    assert details.auto_confirm_at == shipped_at + WITHOUT_SCAN
    assert details.order.delivered_at is None
    eb.advance(AFTER_DELIVERY * 2)
    assert eb.get(order_id).state == OrderState.SHIPPED


def test_a_second_delivery_scan_does_not_move_auto_confirm_again(eb) -> None:
    # given
    order_id = eb.shipped_order()
    eb.clock.advance(timedelta(days=2))
    _scan(eb, order_id, TrackingStatus.DELIVERED)
    due = eb.details(order_id).auto_confirm_at
    eb.clock.advance(timedelta(days=1))
    # when
    _scan(eb, order_id, TrackingStatus.SIGNED)
    # then
    assert eb.details(order_id).auto_confirm_at == due


def test_auto_confirm_reminder_fires_2_days_before_the_delivery_based_auto_confirm(eb) -> None:
    # given
    order_id = eb.shipped_order()
    eb.advance(timedelta(days=2))
    _scan(eb, order_id, TrackingStatus.DELIVERED)
    eb.advance(timedelta(days=1) - SECOND)
    assert "order.auto_confirm_reminder" not in eb.event_types(order_id)
    # when
    eb.advance(SECOND)
    # then
    assert eb.event_types(order_id).count("order.auto_confirm_reminder") == 1


def test_counting_from_shipment_ignores_the_delivery_scan(market) -> None:
    # given: the default policy counts from shipment
    order_id = market.shipped_order()
    shipped_at = market.clock.now()
    market.clock.advance(timedelta(days=1))
    # when
    _scan(market, order_id, TrackingStatus.DELIVERED)
    # then
    assert market.details(order_id).auto_confirm_at == shipped_at + timedelta(days=10)
    market.advance(timedelta(days=9) - SECOND)
    assert market.get(order_id).state == OrderState.SHIPPED
    market.advance(SECOND)
    assert market.get(order_id).state == OrderState.COMPLETED
