"""DESIGN.md §4 cancellation: anyone before payment, seller or operator after, nobody after shipment."""

import pytest

from tradeguard.kernel.errors import Conflict, TransitionNotAllowed
from tradeguard.kernel.parties import OPERATOR, buyer, seller
from tradeguard.orders.model import OrderState

PARTIES = [buyer("b1"), seller("s1"), OPERATOR]
PARTY_IDS = ["buyer", "seller", "operator"]


@pytest.mark.parametrize("party", PARTIES, ids=PARTY_IDS)
def test_anyone_may_cancel_before_payment(market, party) -> None:
    # given
    order_id = market.order()
    # when
    market.app.orders.cancel(order_id, party, "changed plans")
    # then
    order = market.get(order_id)
    assert order.state == OrderState.CLOSED
    assert order.close_reason == f"cancelled_by_{party.actor}"
    assert market.details(order_id).deadlines == []
    closed = [e for e in market.events(order_id) if e.type == "order.closed"]
    assert closed[0].data["reason"] == "changed plans"
    assert market.app.verify_ledger() == []


@pytest.mark.parametrize("party", [seller("s1"), OPERATOR], ids=["seller", "operator"])
def test_seller_or_operator_may_cancel_after_payment_with_a_full_refund(market, party) -> None:
    # given
    order_id = market.paid_order(price=10_000, shipping=800)
    assert market.balance("buyer:b1:funding") == -10_800
    # when
    market.app.orders.cancel(order_id, party, "out of stock")
    # then
    order = market.get(order_id)
    assert order.state == OrderState.CLOSED
    assert order.refunded_minor == 10_800
    assert market.escrow(order_id) == 0
    assert market.balance("buyer:b1:funding") == 0
    assert market.balance("seller:s1:available") == 0
    assert market.details(order_id).deadlines == []
    assert market.app.verify_ledger() == []


def test_a_cancelled_paid_order_is_never_marked_late(market) -> None:
    # given
    order_id = market.paid_order()
    market.app.orders.cancel(order_id, seller("s1"), "out of stock")
    # when
    report = market.advance(market.app.policy.orders.ship_by.as_timedelta() * 2)
    # then
    assert report.fired == 0
    assert not market.get(order_id).is_late


def test_buyer_may_not_cancel_after_payment_while_shipment_is_on_time(market) -> None:
    # given
    order_id = market.paid_order()
    before = market.snapshot()
    # when
    with pytest.raises(TransitionNotAllowed):
        market.app.orders.cancel(order_id, buyer("b1"))
    # then
    assert market.snapshot() == before


@pytest.mark.parametrize("party", PARTIES, ids=PARTY_IDS)
def test_nobody_may_cancel_after_shipment(market, party) -> None:
    # given
    order_id = market.shipped_order()
    before = market.snapshot()
    # when
    with pytest.raises(TransitionNotAllowed):
        market.app.orders.cancel(order_id, party)
    # then
    assert market.snapshot() == before


@pytest.mark.parametrize("party", PARTIES, ids=PARTY_IDS)
def test_nobody_may_cancel_delivered_virtual_goods(market, party) -> None:
    # given
    order_id = market.delivered_order()
    before = market.snapshot()
    # when
    with pytest.raises(TransitionNotAllowed):
        market.app.orders.cancel(order_id, party)
    # then
    assert market.snapshot() == before


@pytest.mark.parametrize("party", PARTIES, ids=PARTY_IDS)
def test_a_closed_order_cannot_be_cancelled_again(market, party) -> None:
    # given
    order_id = market.paid_order()
    market.app.orders.cancel(order_id, OPERATOR)
    before = market.snapshot()
    # when
    with pytest.raises(TransitionNotAllowed):
        market.app.orders.cancel(order_id, party)
    # then
    assert market.snapshot() == before
    assert market.balance("buyer:b1:funding") == 0


def test_a_payment_for_a_cancelled_order_is_refused(market) -> None:
    # given
    order_id = market.order(price=10_000)
    group_id = market.get(order_id).payment_group_id
    market.app.orders.cancel(order_id, buyer("b1"))
    before = market.snapshot()
    # when
    with pytest.raises(Conflict):
        market.app.orders.confirm_payment(group_id, 10_000, "CNY", "psp-late", OPERATOR)
    # then
    assert market.snapshot() == before
