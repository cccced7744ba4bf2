"""DESIGN.md §4: a cart across sellers becomes one order per seller under one payment group."""

import pytest

from tradeguard.kernel.errors import Conflict, Forbidden, NotFound
from tradeguard.kernel.parties import OPERATOR, buyer
from tradeguard.orders.errors import PaymentMismatch
from tradeguard.orders.model import OrderState


@pytest.fixture
def cart(market):
    """Two shops, three lines: shop s1 sells two items (+8.00 shipping), shop s2 one (free shipping)."""
    market.listing("case", seller_id="s1")
    market.listing("cable", seller_id="s1")
    market.listing("lamp", seller_id="s2")
    return market.checkout(
        [("case", 2, 1_500), ("lamp", 1, 9_900), ("cable", 1, 1_200)], shipping={"s1": 800}
    )


def test_a_cart_across_sellers_becomes_one_order_per_seller_under_one_payment_group(
    market, cart
) -> None:
    # given: the cart fixture
    # when
    orders = {o.seller_id: market.details(o.id).order for o in cart.orders}
    # then
    assert sorted(orders) == ["s1", "s2"]
    assert {o.payment_group_id for o in orders.values()} == {cart.payment_group_id}
    assert [(line.listing_id, line.quantity) for line in orders["s1"].lines] == [
        ("case", 2),
        ("cable", 1),
    ]
    assert (orders["s1"].subtotal_minor, orders["s1"].shipping_fee_minor) == (4_200, 800)
    assert (orders["s2"].subtotal_minor, orders["s2"].shipping_fee_minor) == (9_900, 0)
    assert all(o.state == OrderState.AWAITING_PAYMENT for o in orders.values())
    assert cart.total_minor == 5_000 + 9_900


def test_paying_the_group_total_escrows_each_orders_own_share(market, cart) -> None:
    # given: the cart fixture
    # when
    market.app.orders.confirm_payment(cart.payment_group_id, 14_900, "CNY", "psp-1", OPERATOR)
    # then
    by_seller = {o.seller_id: o.id for o in cart.orders}
    assert market.escrow(by_seller["s1"]) == 5_000
    assert market.escrow(by_seller["s2"]) == 9_900
    assert market.balance("buyer:b1:funding") == -14_900
    for order_id in by_seller.values():
        order = market.get(order_id)
        assert order.state == OrderState.PAID
        assert order.payment_reference == "psp-1"
        assert order.paid_minor == order.total_minor
        assert "order.paid" in market.event_types(order_id)
    assert market.app.verify_ledger() == []


@pytest.mark.parametrize(
    ("amount", "currency"),
    [(14_899, "CNY"), (14_901, "CNY"), (5_000, "CNY"), (14_900, "USD")],
    ids=["one-fen-short", "one-fen-over", "one-shop-only", "wrong-currency"],
)
def test_a_payment_of_the_wrong_amount_or_currency_is_refused_and_changes_nothing(
    market, cart, amount, currency
) -> None:
    # given
    before = market.snapshot()
    # when
    with pytest.raises(PaymentMismatch):
        market.app.orders.confirm_payment(
            cart.payment_group_id, amount, currency, "psp-1", OPERATOR
        )
    # then
    assert market.snapshot() == before
    assert market.app.verify_ledger() == []


def test_confirming_the_same_payment_reference_twice_escrows_once(market, cart) -> None:
    # given
    market.app.orders.confirm_payment(cart.payment_group_id, 14_900, "CNY", "psp-1", OPERATOR)
    before = market.snapshot()
    # when
    orders = market.app.orders.confirm_payment(
        cart.payment_group_id, 14_900, "CNY", "psp-1", OPERATOR
    )
    # then
    assert [o.state for o in orders] == [OrderState.PAID, OrderState.PAID]
    assert market.snapshot() == before
    assert market.balance("buyer:b1:funding") == -14_900
    assert market.app.verify_ledger() == []


def test_a_second_payment_for_an_already_paid_group_is_refused(market, cart) -> None:
    # given
    market.app.orders.confirm_payment(cart.payment_group_id, 14_900, "CNY", "psp-1", OPERATOR)
    before = market.snapshot()
    # when
    with pytest.raises(Conflict):
        market.app.orders.confirm_payment(cart.payment_group_id, 14_900, "CNY", "psp-2", OPERATOR)
    # then
    assert market.snapshot() == before
    assert market.app.verify_ledger() == []


def test_paying_a_group_with_no_order_awaiting_payment_is_refused(market, cart) -> None:
    # given
    for order in cart.orders:
        market.app.orders.cancel(order.id, buyer("b1"), "changed my mind")
    before = market.snapshot()
    # when
    with pytest.raises(Conflict, match="no order awaiting payment"):
        market.app.orders.confirm_payment(cart.payment_group_id, 14_900, "CNY", "psp-1", OPERATOR)
    # then
    assert market.snapshot() == before
    assert market.app.verify_ledger() == []


def test_a_group_with_a_cancelled_order_is_paid_for_the_remaining_orders_only(market, cart) -> None:
    # given
    by_seller = {o.seller_id: o.id for o in cart.orders}
    market.app.orders.cancel(by_seller["s2"], buyer("b1"))
    # when
    market.app.orders.confirm_payment(cart.payment_group_id, 5_000, "CNY", "psp-1", OPERATOR)
    # then
    assert market.get(by_seller["s1"]).state == OrderState.PAID
    assert market.get(by_seller["s2"]).state == OrderState.CLOSED
    assert market.escrow(by_seller["s1"]) == 5_000
    assert market.escrow(by_seller["s2"]) == 0
    assert market.app.verify_ledger() == []


def test_only_the_operator_confirms_payment(market, cart) -> None:
    # given
    before = market.snapshot()
    # when
    with pytest.raises(Forbidden):
        market.app.orders.confirm_payment(
            cart.payment_group_id, 14_900, "CNY", "psp-1", buyer("b1")
        )
    # then
    assert market.snapshot() == before


def test_paying_an_unknown_payment_group_is_refused(market) -> None:
    # given
    before = market.snapshot()
    # when
    with pytest.raises(NotFound):
        market.app.orders.confirm_payment("pg_nope", 100, "CNY", "psp-1", OPERATOR)
    # then
    assert market.snapshot() == before


def test_one_payment_reference_cannot_pay_two_payment_groups(market) -> None:
    # given: a payment reference that already paid one checkout
    listing = market.listing()
    first = market.checkout([(listing, 1, 1000)], buyer_id="b1")
    market.app.orders.confirm_payment(first.payment_group_id, 1000, "CNY", "psp-77", OPERATOR)
    second = market.checkout([(listing, 1, 1000)], buyer_id="b2")
    before = market.snapshot()
    # when / then
    with pytest.raises(Conflict, match="already paid"):
        market.app.orders.confirm_payment(second.payment_group_id, 1000, "CNY", "psp-77", OPERATOR)
    assert market.snapshot() == before
