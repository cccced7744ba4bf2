"""DESIGN.md §4: carrier tracking events are kept per order as system evidence."""

from datetime import timedelta

import pytest

from tradeguard.kernel.errors import Conflict, TransitionNotAllowed, ValidationFailed
from tradeguard.kernel.parties import OPERATOR, buyer, seller
from tradeguard.orders.model import TrackingStatus


def test_tracking_events_are_recorded_per_order_and_visible_on_the_order(market) -> None:
    # given
    order_id = market.shipped_order(buyer_id="b1")
    other_id = market.shipped_order(buyer_id="b2")
    start = market.clock.now()
    statuses = list(TrackingStatus)
    # when
    for hour, status in enumerate(statuses, start=1):
        market.clock.advance(timedelta(hours=1))
        market.app.orders.record_tracking(
            order_id,
            OPERATOR,
            status=status,
            occurred_at=start + timedelta(hours=hour) - timedelta(minutes=5),
            location=f"hub {hour}",
            detail=f"scan {status.value}",
        )
    # then
    details = market.details(order_id, buyer("b1"))
    assert [e.status for e in details.tracking_events] == statuses
    assert [e.location for e in details.tracking_events] == [f"hub {n}" for n in range(1, 6)]
    assert details.tracking_events[0].occurred_at == start + timedelta(minutes=55)
    assert details.tracking_events[0].recorded_at == start + timedelta(hours=1)
    assert {e.shipment_id for e in details.tracking_events} == {details.shipments[0].id}
    assert {e.order_id for e in details.tracking_events} == {order_id}
    assert details.order.last_tracking_status == TrackingStatus.RETURNED_TO_SENDER
    assert market.event_types(order_id).count("order.tracking_updated") == 5
    assert market.details(other_id).tracking_events == []


def test_tracking_events_are_listed_in_the_order_they_occurred(market) -> None:
    # given: the carrier reports a late scan after a newer one
    order_id = market.shipped_order()
    start = market.clock.now()
    market.clock.advance(timedelta(days=2))
    # when
    market.app.orders.record_tracking(
        order_id, OPERATOR, status=TrackingStatus.SIGNED, occurred_at=start + timedelta(days=2)
    )
    market.app.orders.record_tracking(
        order_id, OPERATOR, status=TrackingStatus.IN_TRANSIT, occurred_at=start + timedelta(days=1)
    )
    # then
    assert [e.status for e in market.details(order_id).tracking_events] == [
        TrackingStatus.IN_TRANSIT,
        TrackingStatus.SIGNED,
    ]


def test_the_seller_sees_the_tracking_events_of_its_order(market) -> None:
    # given
    order_id = market.shipped_order()
    market.app.orders.record_tracking(
        order_id, OPERATOR, status=TrackingStatus.IN_TRANSIT, occurred_at=market.clock.now()
    )
    # when
    details = market.details(order_id, seller("s1"))
    # then
    assert [e.status for e in details.tracking_events] == [TrackingStatus.IN_TRANSIT]


@pytest.mark.parametrize("paid", [False, True], ids=["awaiting-payment", "paid"])
def test_a_tracking_event_for_an_order_never_shipped_is_refused(market, paid) -> None:
    # given
    order_id = market.paid_order() if paid else market.order()
    before = market.snapshot()
    # when
    with pytest.raises(TransitionNotAllowed):
        market.app.orders.record_tracking(
            order_id, OPERATOR, status=TrackingStatus.IN_TRANSIT, occurred_at=market.clock.now()
        )
    # then
    assert market.snapshot() == before


def test_a_tracking_event_for_an_order_closed_before_shipment_is_refused(market) -> None:
    # given
    order_id = market.paid_order()
    market.app.orders.cancel(order_id, seller("s1"), "out of stock")
    before = market.snapshot()
    # when
    with pytest.raises(Conflict):
        market.app.orders.record_tracking(
            order_id, OPERATOR, status=TrackingStatus.DELIVERED, occurred_at=market.clock.now()
        )
    # then
    assert market.snapshot() == before
    assert market.details(order_id).tracking_events == []


def test_a_tracking_event_for_a_virtual_order_is_refused(market) -> None:
    # given
    order_id = market.delivered_order()
    before = market.snapshot()
    # when
    with pytest.raises(TransitionNotAllowed):
        market.app.orders.record_tracking(
            order_id, OPERATOR, status=TrackingStatus.DELIVERED, occurred_at=market.clock.now()
        )
    # then
    assert market.snapshot() == before


def test_tracking_events_still_arrive_after_completion(market) -> None:
    # given
    order_id = market.completed_order()
    # when
    market.app.orders.record_tracking(
        order_id, OPERATOR, status=TrackingStatus.SIGNED, occurred_at=market.clock.now()
    )
    # then
    assert [e.status for e in market.details(order_id).tracking_events] == [TrackingStatus.SIGNED]
    assert market.app.verify_ledger() == []


@pytest.mark.parametrize("party", [seller("s1"), buyer("b1")], ids=["seller", "buyer"])
def test_tracking_events_come_from_the_operator_only(market, party) -> None:
    # given
    order_id = market.shipped_order()
    before = market.snapshot()
    # when
    with pytest.raises(TransitionNotAllowed):
        market.app.orders.record_tracking(
            order_id, party, status=TrackingStatus.SIGNED, occurred_at=market.clock.now()
        )
    # then
    assert market.snapshot() == before


def test_a_shipment_records_carrier_tracking_number_and_serial_numbers(market) -> None:
    # given
    order_id = market.paid_order()
    # when
    market.app.orders.ship(
        order_id,
        seller("s1"),
        carrier="SF",
        tracking_number="SF1234567890",
        serial_numbers=["IMEI-1"],
    )
    # then
    [shipment] = market.details(order_id, buyer("b1")).shipments
    assert (shipment.carrier, shipment.tracking_number) == ("SF", "SF1234567890")
    assert shipment.serial_numbers == ("IMEI-1",)
    assert shipment.direction == "outbound"
    assert shipment.shipped_at == market.get(order_id).shipped_at == market.clock.now()
    shipped = [e for e in market.events(order_id) if e.type == "order.shipped"]
    assert shipped[0].data["tracking_number"] == "SF1234567890"


@pytest.mark.parametrize(("carrier", "tracking_number"), [("", "SF1"), ("SF", "")])
def test_a_shipment_needs_a_carrier_and_a_tracking_number(market, carrier, tracking_number) -> None:
    # given
    order_id = market.paid_order()
    before = market.snapshot()
    # when
    with pytest.raises(ValidationFailed):
        market.app.orders.ship(
            order_id, seller("s1"), carrier=carrier, tracking_number=tracking_number
        )
    # then
    assert market.snapshot() == before
