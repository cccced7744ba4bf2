"""DESIGN.md §5 deadline table: each timer through the deadline worker, with its effect on expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tradeguard.aftersales.errors import NoReasonWindowPassed
from tradeguard.aftersales.model import RefundKind, RefundReason, RefundState
from tradeguard.kernel.clock import FakeClock
from tradeguard.kernel.parties import OPERATOR, buyer, seller
from tradeguard.orders.model import OrderState, TrackingStatus
from tradeguard.policy import load_policy

K, R, S = RefundKind, RefundReason, RefundState


def test_seller_silent_24_hours_on_an_unshipped_order_auto_agrees_and_refunds(shop) -> None:
    # given
    order_id = shop.paid_order()
    request = shop.request(order_id, reason=R.NOT_SHIPPED)
    # when
    shop.advance(timedelta(hours=23, minutes=59))
    assert shop.refund(request.id).state == S.REQUESTED
    shop.advance(timedelta(minutes=1))
    # then
    refunded = shop.refund(request.id)
    assert refunded.state == S.REFUNDED
    assert refunded.refunded_minor == 10_000
    assert shop.order(order_id).state == OrderState.CLOSED


def test_seller_silent_36_hours_on_a_shipped_refund_only_request_auto_agrees_and_refunds(
    shop,
) -> None:
    order_id = shop.shipped_order()
    request = shop.request(order_id, K.REFUND_ONLY, R.NOT_RECEIVED)
    shop.advance(timedelta(hours=35))
    assert shop.refund(request.id).state == S.REQUESTED
    shop.advance(timedelta(hours=1))
    assert shop.refund(request.id).state == S.REFUNDED


def test_seller_silent_5_days_on_a_return_request_auto_agrees_and_awaits_the_return(shop) -> None:
    order_id = shop.shipped_order()
    request = shop.request(order_id, K.RETURN_AND_REFUND, R.QUALITY_PROBLEM)
    shop.advance(timedelta(days=4, hours=23))
    assert shop.refund(request.id).state == S.REQUESTED
    shop.advance(timedelta(hours=1))
    assert shop.refund(request.id).state == S.AWAITING_RETURN
    assert shop.balance(f"escrow:order:{order_id}") == 10_000


def test_buyer_silent_5_days_after_a_refusal_closes_the_request(shop) -> None:
    order_id = shop.shipped_order()
    request = shop.request(order_id, K.REFUND_ONLY, R.NOT_AS_DESCRIBED)
    shop.app.aftersales.refuse(request.id, seller("s1"), "as described")
    shop.advance(timedelta(days=5))
    closed = shop.refund(request.id)
    assert closed.state == S.CLOSED
    assert closed.close_reason == "buyer_missed_window"


def test_buyer_who_does_not_ship_the_return_within_7_days_loses_the_request(shop) -> None:
    order_id = shop.shipped_order()
    request = shop.request(order_id, K.RETURN_AND_REFUND, R.QUALITY_PROBLEM)
    shop.app.aftersales.agree(request.id, seller("s1"))
    shop.advance(timedelta(days=7))
    assert shop.refund(request.id).state == S.CLOSED
    assert not shop.order(order_id).auto_confirm_paused


def test_seller_silent_10_days_after_the_return_shipped_auto_refunds(shop) -> None:
    order_id = shop.shipped_order()
    request = shop.request(order_id, K.RETURN_AND_REFUND, R.QUALITY_PROBLEM)
    shop.app.aftersales.agree(request.id, seller("s1"))
    shop.app.aftersales.ship_return(request.id, buyer("b1"), carrier="YTO", tracking_number="Y")
    shop.advance(timedelta(days=9, hours=23))
    assert shop.refund(request.id).state == S.RETURN_SHIPPED
    shop.advance(timedelta(hours=1))
    assert shop.refund(request.id).state == S.REFUNDED
    assert shop.order(order_id).state == OrderState.CLOSED


def test_a_timer_that_fires_after_the_seller_answered_changes_nothing(shop) -> None:
    order_id = shop.shipped_order()
    request = shop.request(order_id, K.REFUND_ONLY, R.NOT_RECEIVED)
    shop.app.aftersales.refuse(request.id, seller("s1"), "tracking shows delivery")
    shop.app.aftersales.amend(request.id, buyer("b1"), kind=K.PARTIAL_REFUND, amount_minor=500)
    shop.app.aftersales.agree(request.id, seller("s1"))
    report = shop.advance(timedelta(days=30))
    assert report is not None
    assert shop.refund(request.id).refunded_minor == 500


def test_no_reason_return_is_refused_7_days_after_receipt(shop) -> None:
    # given goods received (confirmed) and 7 days and a minute gone
    order_id = shop.shipped_order()
    shop.app.orders.confirm_receipt(order_id, buyer("b1"))
    shop.advance(timedelta(days=7, minutes=1))
    # when / then
    with pytest.raises(NoReasonWindowPassed):
        shop.request(order_id, K.RETURN_AND_REFUND, R.NO_REASON, amount=10_000)
    # while a quality problem may still be raised
    assert shop.request(order_id, K.RETURN_AND_REFUND, R.QUALITY_PROBLEM).state == S.REQUESTED


def test_no_reason_return_inside_the_window_counts_from_receipt_not_from_shipment(shop) -> None:
    order_id = shop.shipped_order()
    shop.advance(timedelta(days=6))
    shop.app.orders.confirm_receipt(order_id, buyer("b1"))
    shop.advance(timedelta(days=6))
    request = shop.request(order_id, K.RETURN_AND_REFUND, R.NO_REASON, amount=10_000)
    assert request.state == S.REQUESTED


def test_ebay_preset_counts_the_seller_answer_in_business_days(make_app, shop_on) -> None:
    # given a Friday on the eBay preset: 3 business days is Wednesday, not Monday
    clock = FakeClock(datetime(2026, 3, 6, 15, 0, tzinfo=UTC))
    app = make_app(policy=load_policy(preset="ebay"), clock=clock)
    shop = shop_on(app)
    shop.clock = clock
    order_id = shop.shipped_order()
    request = shop.request(order_id, K.REFUND_ONLY, R.NOT_RECEIVED)
    # when
    shop.advance(timedelta(days=4))  # Tuesday
    assert shop.refund(request.id).state == S.REQUESTED
    shop.advance(timedelta(days=1))  # Wednesday
    # then
    assert shop.refund(request.id).state == S.REFUNDED


def test_no_reason_window_counts_from_the_carriers_delivery_scan(shop) -> None:
    # given a parcel signed for more than 7 days ago, never confirmed by the buyer
    order_id = shop.shipped_order()
    shop.app.orders.record_tracking(
        order_id, OPERATOR, status=TrackingStatus.SIGNED, occurred_at=shop.clock.now()
    )
    shop.advance(timedelta(days=7, minutes=1))
    # when / then
    with pytest.raises(NoReasonWindowPassed):
        shop.request(order_id, K.RETURN_AND_REFUND, R.NO_REASON, amount=10_000)


def test_an_exchange_ends_10_days_after_the_replacement_ships(shop) -> None:
    order_id = shop.shipped_order()
    request = shop.request(order_id, K.EXCHANGE, R.QUALITY_PROBLEM)
    shop.app.aftersales.agree(request.id, seller("s1"))
    shop.app.aftersales.ship_return(request.id, buyer("b1"), carrier="YTO", tracking_number="Y")
    shop.app.aftersales.ship_replacement(
        request.id, seller("s1"), carrier="SF", tracking_number="R"
    )
    shop.advance(timedelta(days=9, hours=23))
    assert shop.refund(request.id).state == S.REPLACEMENT_SHIPPED
    shop.advance(timedelta(hours=1))
    assert shop.refund(request.id).state == S.EXCHANGED
    assert not shop.order(order_id).auto_confirm_paused
