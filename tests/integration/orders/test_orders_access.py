"""Object-level access (DESIGN.md §1, §15): participants see and act on their own orders only."""

import pytest

from tradeguard.kernel.errors import NotFound, TransitionNotAllowed
from tradeguard.kernel.parties import OPERATOR, buyer, seller
from tradeguard.orders.model import GoodsKind, OrderState, TrackingStatus
from tradeguard.orders.ports import OrderFilter

STRANGERS = [buyer("b2"), seller("s2")]
STRANGER_IDS = ["another-buyer", "another-seller"]


@pytest.mark.parametrize("stranger", STRANGERS, ids=STRANGER_IDS)
def test_another_party_asking_for_an_order_gets_not_found(market, stranger) -> None:
    # given
    order_id = market.shipped_order(buyer_id="b1", seller_id="s1", price=123_456)
    # when
    with pytest.raises(NotFound) as refused:
        market.app.orders.get(order_id, stranger)
    # then
    assert refused.value.details == {"object": "order", "id": order_id}
    for secret in ("b1", "s1", "123456", "SF"):
        assert secret not in str(refused.value).replace(order_id, "")


@pytest.mark.parametrize("stranger", STRANGERS, ids=STRANGER_IDS)
def test_a_foreign_order_looks_exactly_like_a_missing_one(market, stranger) -> None:
    # given
    order_id = market.shipped_order()
    missing_id = order_id[:-1] + ("A" if order_id[-1] != "A" else "B")
    # when
    with pytest.raises(NotFound) as foreign:
        market.app.orders.get(order_id, stranger)
    with pytest.raises(NotFound) as missing:
        market.app.orders.get(missing_id, stranger)
    # then
    assert str(foreign.value).replace(order_id, "?") == str(missing.value).replace(missing_id, "?")
    assert type(foreign.value) is type(missing.value)


BUYER_ACTIONS = {
    "confirm_receipt": lambda app, order_id, party: app.orders.confirm_receipt(order_id, party),
    "extend_receipt": lambda app, order_id, party: app.orders.extend_receipt(order_id, party),
    "claim_late_compensation": lambda app, order_id, party: app.orders.claim_late_compensation(
        order_id, party
    ),
}
SELLER_ACTIONS = {
    "ship": lambda app, order_id, party: app.orders.ship(
        order_id, party, carrier="SF", tracking_number="SF9"
    ),
    "cancel": lambda app, order_id, party: app.orders.cancel(order_id, party),
}


@pytest.mark.parametrize("action", list(BUYER_ACTIONS))
def test_another_buyer_acting_on_an_order_gets_not_found(market, action) -> None:
    # given: a late, shipped order near auto-confirm, where the real buyer could do all of these
    order_id = market.late_order(buyer_id="b1")
    market.ship(order_id)
    market.clock.advance(market.app.policy.orders.auto_confirm_after_shipment.as_timedelta() / 2)
    before = market.snapshot()
    # when
    with pytest.raises(NotFound):
        BUYER_ACTIONS[action](market.app, order_id, buyer("b2"))
    # then
    assert market.snapshot() == before


@pytest.mark.parametrize("action", list(SELLER_ACTIONS))
def test_another_seller_acting_on_an_order_gets_not_found(market, action) -> None:
    # given: a paid order the real seller could ship or cancel
    order_id = market.paid_order(seller_id="s1")
    before = market.snapshot()
    # when
    with pytest.raises(NotFound):
        SELLER_ACTIONS[action](market.app, order_id, seller("s2"))
    # then
    assert market.snapshot() == before


def test_another_seller_cannot_deliver_virtual_goods(market) -> None:
    # given
    order_id = market.paid_order(seller_id="s1", kind=GoodsKind.VIRTUAL)
    before = market.snapshot()
    # when
    with pytest.raises(NotFound):
        market.app.orders.deliver(order_id, seller("s2"), detail="not mine to deliver")
    # then
    assert market.snapshot() == before


def test_a_buyer_cannot_ship_their_own_order(market) -> None:
    # given
    order_id = market.paid_order(buyer_id="b1")
    before = market.snapshot()
    # when
    with pytest.raises(TransitionNotAllowed):
        market.app.orders.ship(order_id, buyer("b1"), carrier="SF", tracking_number="SF1")
    # then
    assert market.snapshot() == before
    assert market.get(order_id).state == OrderState.PAID


def test_a_seller_cannot_confirm_receipt_of_its_own_order(market) -> None:
    # given
    order_id = market.shipped_order(seller_id="s1")
    before = market.snapshot()
    # when
    with pytest.raises(TransitionNotAllowed):
        market.app.orders.confirm_receipt(order_id, seller("s1"))
    # then
    assert market.snapshot() == before


def test_participants_list_only_their_own_orders(market) -> None:
    # given
    mine = market.order(buyer_id="b1", seller_id="s1")
    market.order(buyer_id="b2", seller_id="s2")
    # when
    as_buyer = market.app.orders.find(buyer("b1"), OrderFilter())
    as_seller = market.app.orders.find(seller("s1"), OrderFilter(buyer_id="b2"))
    prying = market.app.orders.find(buyer("b1"), OrderFilter(buyer_id="b2"))
    # then
    assert [o.id for o in as_buyer] == [mine]
    assert as_seller == []
    assert {o.buyer_id for o in prying} == {"b1"}  # the filter is narrowed to the caller
    assert len(market.app.orders.find(OPERATOR, OrderFilter())) == 2


def test_the_parties_of_an_order_see_its_records(market) -> None:
    # given
    order_id = market.shipped_order(buyer_id="b1", seller_id="s1")
    market.app.orders.record_tracking(
        order_id, OPERATOR, status=TrackingStatus.IN_TRANSIT, occurred_at=market.clock.now()
    )
    # when
    views = [market.app.orders.get(order_id, p) for p in (buyer("b1"), seller("s1"), OPERATOR)]
    # then
    assert all(v == views[0] for v in views)
    assert len(views[0].tracking_events) == 1
