"""DESIGN.md §4: a listing's per-buyer limit ("one per ID") refuses the extra order at creation."""

import threading
from datetime import timedelta

import pytest

from tradeguard.kernel.errors import ValidationFailed
from tradeguard.kernel.parties import OPERATOR, buyer
from tradeguard.orders.errors import PurchaseLimitExceeded
from tradeguard.orders.model import GoodsKind, OrderState
from tradeguard.orders.ports import OrderFilter


@pytest.fixture
def topup(market):
    """A virtual 1-yuan top-up limited to one per buyer."""
    return market.listing("topup-1", seller_id="s1", kind=GoodsKind.VIRTUAL, limit=1)


def test_second_purchase_by_the_same_buyer_is_refused_at_creation(market, topup) -> None:
    # given
    market.checkout([(topup, 1, 90)], buyer_id="b1")
    # when
    with pytest.raises(PurchaseLimitExceeded) as refused:
        market.checkout([(topup, 1, 90)], buyer_id="b1")
    # then
    assert refused.value.details == {
        "listing_id": topup,
        "limit": 1,
        "already": 1,
        "requested": 1,
    }
    assert "allows 1 per buyer" in str(refused.value)


def test_a_refused_purchase_creates_no_order_and_no_event(market, topup) -> None:
    # given
    market.listing("cable", seller_id="s2")
    market.checkout([(topup, 1, 90)], buyer_id="b1")
    before = market.snapshot()
    # when: the second cart also holds another shop's item
    with pytest.raises(PurchaseLimitExceeded):
        market.checkout([("cable", 1, 1_000), (topup, 1, 90)], buyer_id="b1")
    # then
    assert market.snapshot() == before
    assert len(market.app.orders.find(buyer("b1"), OrderFilter())) == 1


def test_other_buyers_may_buy_a_limited_listing(market, topup) -> None:
    # given
    market.checkout([(topup, 1, 90)], buyer_id="b1")
    # when
    checkout = market.checkout([(topup, 1, 90)], buyer_id="b2")
    # then
    assert checkout.orders[0].buyer_id == "b2"


def test_buying_more_than_the_limit_in_one_checkout_is_refused(market, topup) -> None:
    # given
    before = market.snapshot()
    # when
    with pytest.raises(PurchaseLimitExceeded):
        market.checkout([(topup, 2, 90)], buyer_id="b1")
    # then
    assert market.snapshot() == before


def test_two_lines_of_the_same_limited_listing_count_together(market, topup) -> None:
    # when
    with pytest.raises(PurchaseLimitExceeded):
        market.checkout([(topup, 1, 90), (topup, 1, 90)], buyer_id="b1")


def test_same_buyer_may_buy_again_after_the_first_order_closed_unpaid(market, topup) -> None:
    # given
    first = market.checkout([(topup, 1, 90)], buyer_id="b1").orders[0].id
    market.advance(timedelta(hours=72))
    assert market.get(first).state == OrderState.CLOSED
    # when
    second = market.checkout([(topup, 1, 90)], buyer_id="b1").orders[0].id
    # then
    assert market.get(second).state == OrderState.AWAITING_PAYMENT


def test_same_buyer_may_buy_again_after_cancelling_the_first_order(market, topup) -> None:
    # given
    first = market.checkout([(topup, 1, 90)], buyer_id="b1").orders[0].id
    market.app.orders.cancel(first, buyer("b1"))
    # when
    checkout = market.checkout([(topup, 1, 90)], buyer_id="b1")
    # then
    assert len(checkout.orders) == 1


def test_a_completed_order_still_counts_toward_the_limit(market, topup) -> None:
    # given
    order_id = market.delivered_order(listing_id=topup, price=90)
    market.app.orders.confirm_receipt(order_id, buyer("b1"))
    # when
    with pytest.raises(PurchaseLimitExceeded):
        market.checkout([(topup, 1, 90)], buyer_id="b1")


def test_a_limit_of_two_allows_two_units_then_refuses(market) -> None:
    # given
    listing = market.listing("ticket", seller_id="s1", kind=GoodsKind.VIRTUAL, limit=2)
    market.checkout([(listing, 1, 500)], buyer_id="b1")
    market.checkout([(listing, 1, 500)], buyer_id="b1")
    # when
    with pytest.raises(PurchaseLimitExceeded) as refused:
        market.checkout([(listing, 1, 500)], buyer_id="b1")
    # then
    assert refused.value.details["already"] == 2


def test_a_purchase_limit_below_one_is_refused(market) -> None:
    # when
    with pytest.raises(ValidationFailed):
        market.listing("bad", limit=0)


def test_simultaneous_purchases_over_the_limit_let_only_one_through(market, topup) -> None:
    # given
    attempts = 4
    barrier = threading.Barrier(attempts)
    outcomes: list[str] = []

    def buy() -> None:
        barrier.wait()
        try:
            market.checkout([(topup, 1, 90)], buyer_id="b1")
        except PurchaseLimitExceeded:
            outcomes.append("refused")
        else:
            outcomes.append("created")

    threads = [threading.Thread(target=buy) for _ in range(attempts)]
    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # then
    assert sorted(outcomes) == ["created"] + ["refused"] * (attempts - 1)
    assert len(market.app.orders.find(OPERATOR, OrderFilter(buyer_id="b1"))) == 1
