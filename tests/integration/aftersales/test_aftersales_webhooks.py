"""DESIGN.md §13: every refund state change reaches the operator's webhook endpoints."""

from __future__ import annotations

import time

from tradeguard.aftersales.model import RefundKind, RefundReason
from tradeguard.kernel.parties import buyer, seller
from tradeguard.policy import build_policy


def test_every_refund_state_change_is_delivered_to_refund_webhooks(make_app, shop_on) -> None:
    # given an endpoint subscribed to refund events
    app = make_app(policy=build_policy({"webhooks": {"allow_localhost": True}}))
    shop = shop_on(app)
    endpoint = app.webhooks.register("http://127.0.0.1:9/hooks", ["refund.*"])
    order_id = shop.shipped_order()
    request = shop.request(order_id, RefundKind.RETURN_AND_REFUND, RefundReason.QUALITY_PROBLEM)
    # when the request runs its course
    app.aftersales.agree(request.id, seller("s1"))
    app.aftersales.ship_return(request.id, buyer("b1"), carrier="YTO", tracking_number="Y1")
    app.aftersales.confirm_return(request.id, seller("s1"))
    # On PostgreSQL events wait while any older transaction of the cluster still runs.
    give_up = time.monotonic() + 60
    while (app.webhooks.fan_out() or app.webhooks.held_back()) and time.monotonic() < give_up:
        time.sleep(0.05)
    # then
    delivered = [d.event_type for d in app.webhooks.deliveries(endpoint_id=endpoint.id, limit=100)]
    assert sorted(delivered) == sorted(
        [
            "refund.requested",
            "refund.agreed",
            "refund.return_requested",
            "refund.return_shipped",
            "refund.refunded",
        ]
    )
