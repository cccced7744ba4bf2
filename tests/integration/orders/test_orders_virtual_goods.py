"""DESIGN.md §4: virtual goods go paid -> delivered -> completed with a delivery record."""

import pytest

from tradeguard.kernel.errors import TransitionNotAllowed, ValidationFailed
from tradeguard.kernel.parties import OPERATOR, SYSTEM, buyer, seller
from tradeguard.orders.errors import MixedGoodsKinds
from tradeguard.orders.model import DeadlineKind, GoodsKind, OrderState


def test_delivering_virtual_goods_records_an_automatic_delivery_record(market) -> None:
    # given
    order_id = market.paid_order(kind=GoodsKind.VIRTUAL, price=90)
    # when
    market.app.orders.deliver(
        order_id, seller("s1"), detail="top-up of 1 yuan to 138****0000 succeeded"
    )
    # then
    details = market.details(order_id, buyer("b1"))
    assert details.order.state == OrderState.DELIVERED
    assert details.order.delivered_at == market.clock.now()
    [record] = details.delivery_records
    assert record.method == "automatic"
    assert record.detail == "top-up of 1 yuan to 138****0000 succeeded"
    assert record.delivered_at == market.clock.now()
    assert record.recorded_by == "seller:s1"
    assert details.shipments == []
    assert [d.kind for d in details.deadlines] == [DeadlineKind.AUTO_CONFIRM]
    delivered = [e for e in market.events(order_id) if e.type == "order.delivered"]
    assert delivered[0].data["delivery_record_id"] == record.id
    assert market.escrow(order_id) == 90
    assert market.app.verify_ledger() == []


@pytest.mark.parametrize("party", [SYSTEM, OPERATOR], ids=["system", "operator"])
def test_the_system_or_operator_may_record_a_delivery(market, party) -> None:
    # given
    order_id = market.paid_order(kind=GoodsKind.VIRTUAL)
    # when
    market.app.orders.deliver(order_id, party, method="manual", detail="code sent by e-mail")
    # then
    [record] = market.details(order_id).delivery_records
    assert (record.method, record.recorded_by) == ("manual", str(party))


def test_shipping_a_virtual_order_is_refused(market) -> None:
    # given
    order_id = market.paid_order(kind=GoodsKind.VIRTUAL)
    before = market.snapshot()
    # when
    with pytest.raises(TransitionNotAllowed):
        market.app.orders.ship(order_id, seller("s1"), carrier="SF", tracking_number="SF1")
    # then
    assert market.snapshot() == before


def test_delivering_a_physical_order_is_refused(market) -> None:
    # given
    order_id = market.paid_order(kind=GoodsKind.PHYSICAL)
    before = market.snapshot()
    # when
    with pytest.raises(TransitionNotAllowed):
        market.app.orders.deliver(order_id, seller("s1"), detail="sent")
    # then
    assert market.snapshot() == before


def test_virtual_goods_cannot_be_delivered_before_payment(market) -> None:
    # given
    order_id = market.order(kind=GoodsKind.VIRTUAL)
    before = market.snapshot()
    # when
    with pytest.raises(TransitionNotAllowed):
        market.app.orders.deliver(order_id, seller("s1"), detail="sent")
    # then
    assert market.snapshot() == before


def test_virtual_goods_are_delivered_only_once(market) -> None:
    # given
    order_id = market.delivered_order()
    before = market.snapshot()
    # when
    with pytest.raises(TransitionNotAllowed):
        market.app.orders.deliver(order_id, seller("s1"), detail="sent again")
    # then
    assert market.snapshot() == before
    assert len(market.details(order_id).delivery_records) == 1


@pytest.mark.parametrize(
    ("method", "detail"),
    [("automatic", ""), ("carrier-pigeon", "sent")],
    ids=["no-detail", "bad-method"],
)
def test_a_delivery_record_needs_a_detail_and_a_known_method(market, method, detail) -> None:
    # given
    order_id = market.paid_order(kind=GoodsKind.VIRTUAL)
    before = market.snapshot()
    # when
    with pytest.raises(ValidationFailed):
        market.app.orders.deliver(order_id, seller("s1"), method=method, detail=detail)
    # then
    assert market.snapshot() == before


def test_a_buyer_cannot_record_a_delivery(market) -> None:
    # given
    order_id = market.paid_order(kind=GoodsKind.VIRTUAL)
    before = market.snapshot()
    # when
    with pytest.raises(TransitionNotAllowed):
        market.app.orders.deliver(order_id, buyer("b1"), detail="I got it myself")
    # then
    assert market.snapshot() == before


def test_one_sellers_order_cannot_mix_physical_and_virtual_goods(market) -> None:
    # given
    market.listing("phone", seller_id="s1", kind=GoodsKind.PHYSICAL)
    market.listing("sim-topup", seller_id="s1", kind=GoodsKind.VIRTUAL)
    before = market.snapshot()
    # when
    with pytest.raises(MixedGoodsKinds):
        market.checkout([("phone", 1, 100_000), ("sim-topup", 1, 5_000)])
    # then
    assert market.snapshot() == before
