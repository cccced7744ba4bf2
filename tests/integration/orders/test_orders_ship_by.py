"""DESIGN.md §4 ship-by: 72 h after payment an unshipped order is late; the buyer is compensated."""

from datetime import timedelta

import pytest

from tradeguard.kernel.errors import TransitionNotAllowed
from tradeguard.kernel.parties import OPERATOR, buyer, seller
from tradeguard.orders.model import OrderState

SHIP_BY = timedelta(hours=72)
REMINDER_LEAD = timedelta(hours=24)
SECOND = timedelta(seconds=1)


def test_ship_by_reminder_is_written_to_the_outbox_24_hours_before_ship_by(market) -> None:
    # given
    order_id = market.paid_order()
    paid_at = market.clock.now()
    market.advance(SHIP_BY - REMINDER_LEAD - SECOND)
    assert "order.ship_by_reminder" not in market.event_types(order_id)
    # when
    report = market.advance(SECOND)
    # then
    reminders = [e for e in market.events(order_id) if e.type == "order.ship_by_reminder"]
    assert report.reminded == 1
    assert len(reminders) == 1
    assert reminders[0].occurred_at == paid_at + SHIP_BY - REMINDER_LEAD
    assert reminders[0].data["due_at"] == (paid_at + SHIP_BY).isoformat()
    assert reminders[0].data["order_id"] == order_id
    assert not market.get(order_id).is_late


def test_ship_by_reminder_is_not_sent_for_an_order_shipped_in_time(market) -> None:
    # given
    order_id = market.paid_order()
    market.advance(timedelta(hours=10))
    market.ship(order_id)
    # when
    market.advance(SHIP_BY)
    # then
    assert "order.ship_by_reminder" not in market.event_types(order_id)
    assert "order.late_shipment" not in market.event_types(order_id)
    assert not market.get(order_id).is_late


def test_unshipped_physical_order_is_marked_late_when_ship_by_ends(market) -> None:
    # given
    order_id = market.paid_order(price=10_000, shipping=1_000)
    market.advance(SHIP_BY - SECOND)
    assert not market.get(order_id).is_late
    # when
    market.advance(SECOND)
    # then
    order = market.get(order_id)
    assert order.state == OrderState.PAID
    assert order.is_late
    assert order.late_compensation_minor == 500  # 5 % of the 100.00 goods price; shipping excluded
    assert not order.late_compensation_paid
    assert market.escrow(order_id) == 11_000  # marking late moves no money
    assert "order.late_shipment" in market.event_types(order_id)
    assert market.app.verify_ledger() == []


@pytest.mark.parametrize(
    ("price", "compensation"),
    [(10_000, 500), (10_050, 502), (10_150, 508), (59_980, 2_999), (60_000, 3_000)],
    ids=["100.00", "100.50-half-even-down", "101.50-half-even-up", "just-below-cap", "at-cap"],
)
def test_late_compensation_is_5_percent_of_the_goods_price_up_to_the_cap(
    market, price, compensation
) -> None:
    # given
    order_id = market.paid_order(price=price, shipping=2_000)
    # when
    market.advance(SHIP_BY)
    # then
    assert market.get(order_id).late_compensation_minor == compensation


@pytest.mark.parametrize(
    ("price", "quantity"),
    [(60_020, 1), (1_000_000, 1), (40_000, 3)],
    ids=["just-above-cap", "10000.00", "3x400.00"],
)
def test_late_compensation_is_capped_at_30_cny(market, price, quantity) -> None:
    # given
    order_id = market.paid_order(price=price, quantity=quantity)
    # when
    market.advance(SHIP_BY)
    # then
    assert market.get(order_id).late_compensation_minor == 3_000


def test_buyer_claims_late_compensation_from_escrow(market) -> None:
    # given
    order_id = market.late_order(price=10_000)
    # when
    market.app.orders.claim_late_compensation(order_id, buyer("b1"))
    # then
    order = market.get(order_id)
    assert order.late_compensation_paid
    assert market.escrow(order_id) == 10_000 - 500
    assert market.balance("buyer:b1:funding") == -10_000 + 500
    assert "order.late_compensation_paid" in market.event_types(order_id)
    assert market.app.verify_ledger() == []


def test_late_compensation_is_paid_only_once(market) -> None:
    # given
    order_id = market.late_order(price=10_000)
    market.app.orders.claim_late_compensation(order_id, buyer("b1"))
    before = market.snapshot()
    # when
    with pytest.raises(TransitionNotAllowed):
        market.app.orders.claim_late_compensation(order_id, buyer("b1"))
    # then
    assert market.snapshot() == before
    assert market.balance("buyer:b1:funding") == -10_000 + 500
    assert market.app.verify_ledger() == []


def test_an_order_shipped_in_time_has_no_compensation_to_claim(market) -> None:
    # given
    order_id = market.shipped_order()
    before = market.snapshot()
    # when
    with pytest.raises(TransitionNotAllowed):
        market.app.orders.claim_late_compensation(order_id, buyer("b1"))
    # then
    assert market.snapshot() == before


def test_late_compensation_claimed_after_shipping_late_comes_from_escrow(market) -> None:
    # given
    order_id = market.late_order(price=10_000)
    market.ship(order_id)
    # when
    market.app.orders.claim_late_compensation(order_id, buyer("b1"))
    market.app.orders.confirm_receipt(order_id, buyer("b1"))
    # then
    assert market.balance("buyer:b1:funding") == -10_000 + 500
    assert market.balance("seller:s1:available") + market.fees() == 10_000 - 500
    assert market.app.verify_ledger() == []


def test_late_compensation_claimed_after_completion_is_paid_from_the_sellers_available_balance(
    market,
) -> None:
    # given
    order_id = market.late_order(price=10_000)
    market.ship(order_id)
    market.app.orders.confirm_receipt(order_id, buyer("b1"))
    available = market.balance("seller:s1:available")
    assert available == 10_000 - 200
    # when
    market.app.orders.claim_late_compensation(order_id, buyer("b1"))
    # then
    assert market.balance("seller:s1:available") == available - 500
    assert market.balance("buyer:b1:funding") == -10_000 + 500
    assert market.get(order_id).late_compensation_paid
    assert market.app.verify_ledger() == []


def test_buyer_may_cancel_a_late_unshipped_order_with_a_full_refund(market) -> None:
    # given
    order_id = market.late_order(price=10_000, shipping=800)
    # when
    market.app.orders.cancel(order_id, buyer("b1"), "seller never shipped")
    # then
    order = market.get(order_id)
    assert order.state == OrderState.CLOSED
    assert order.close_reason == "cancelled_by_buyer"
    assert market.escrow(order_id) == 0
    assert market.balance("buyer:b1:funding") == 0
    assert market.details(order_id).deadlines == []
    assert market.app.verify_ledger() == []


def test_buyer_may_not_cancel_a_paid_order_before_ship_by(market) -> None:
    # given
    order_id = market.paid_order()
    market.advance(SHIP_BY - SECOND)
    before = market.snapshot()
    # when
    with pytest.raises(TransitionNotAllowed):
        market.app.orders.cancel(order_id, buyer("b1"))
    # then
    assert market.snapshot() == before
    assert market.app.verify_ledger() == []


def test_a_late_order_can_still_be_shipped_and_stays_late(market) -> None:
    # given
    order_id = market.late_order()
    # when
    market.ship(order_id)
    # then
    order = market.get(order_id)
    assert order.state == OrderState.SHIPPED
    assert order.is_late
    with pytest.raises(TransitionNotAllowed):
        market.app.orders.cancel(order_id, buyer("b1"))


def test_a_buyer_who_claimed_late_compensation_still_gets_a_full_refund_on_cancelling(
    market,
) -> None:
    # given: the seller has money of its own from an earlier sale
    market.completed_order(buyer_id="b0", price=50_000)
    order_id = market.late_order(price=10_000)
    market.app.orders.claim_late_compensation(order_id, buyer("b1"))
    # when
    market.app.orders.cancel(order_id, buyer("b1"), "seller never shipped")
    # then: the whole payment came back, and the compensation on top of it
    assert market.balance("buyer:b1:funding") == 500
    assert market.app.verify_ledger() == []


def test_compensation_taken_from_escrow_is_repaid_by_the_seller_when_the_order_is_refunded(
    market,
) -> None:
    # given: a seller with no money of its own, so the compensation comes out of escrow
    market.app.settlement.top_up_fund(100_000, "CNY", "bank-1")
    order_id = market.late_order(price=10_000)
    market.app.orders.claim_late_compensation(order_id, buyer("b1"))
    assert market.get(order_id).late_compensation_source == "escrow"
    # when
    market.app.orders.cancel(order_id, buyer("b1"), "seller never shipped")
    # then: the buyer is whole plus compensation; the platform advanced it against the seller
    assert market.balance("buyer:b1:funding") == 500
    assert market.balance("platform:receivable:seller:s1") == -500
    assert market.get(order_id).late_compensation_source == "advance"
    assert market.app.verify_ledger() == []


def test_compensation_the_seller_cannot_pay_after_completion_is_advanced_by_the_platform(
    market,
) -> None:
    # given: a completed late order whose seller withdrew everything
    market.app.settlement.top_up_fund(100_000, "CNY", "bank-1")
    order_id = market.late_order(price=10_000)
    market.ship(order_id)
    market.app.orders.confirm_receipt(order_id, buyer("b1"))
    market.app.payouts.request("s1", market.balance("seller:s1:available"), "CNY", seller("s1"))
    # when
    market.app.orders.claim_late_compensation(order_id, buyer("b1"))
    # then
    assert market.balance("buyer:b1:funding") == -10_000 + 500
    assert market.balance("platform:receivable:seller:s1") == -500
    assert market.get(order_id).late_compensation_source == "advance"
    assert market.app.verify_ledger() == []


@pytest.mark.parametrize("party", [seller("s1"), OPERATOR], ids=["seller", "operator"])
def test_late_compensation_is_claimed_by_the_buyer_not_the_seller_or_operator(
    market, party
) -> None:
    # given
    order_id = market.late_order()
    before = market.snapshot()
    # when
    with pytest.raises(TransitionNotAllowed):
        market.app.orders.claim_late_compensation(order_id, party)
    # then
    assert market.snapshot() == before
