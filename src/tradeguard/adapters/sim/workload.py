"""Scripted order lifecycles, shared by the benchmarks and the simulator."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tradeguard.bootstrap import App
from tradeguard.kernel.parties import OPERATOR, buyer, seller
from tradeguard.orders.model import GoodsKind
from tradeguard.orders.rules import CartLine

T = TypeVar("T")

BENCH_SELLERS = 64
BENCH_LISTING_PRICE_MINOR = 12_900


def bench_listing(seller_no: int) -> str:
    """The benchmark listing sold by bench seller ``seller_no``."""
    return f"bench-l{seller_no}"


def bench_checkout_body(buyer_id: str, seller_no: int) -> dict[str, Any]:
    """The JSON body of ``POST /v1/checkouts`` for one benchmark item, shipping included."""
    return {
        "buyer_id": buyer_id,
        "currency": "CNY",
        "lines": [
            {
                "listing_id": bench_listing(seller_no),
                "quantity": 1,
                "unit_price_minor": BENCH_LISTING_PRICE_MINOR,
            }
        ],
        "shipping_fees_minor": {f"bench-s{seller_no}": 800},
    }


def bench_payment_body(checkout: dict[str, Any]) -> dict[str, Any]:
    """The JSON body reporting the payment of a checkout's answer (``POST .../payment``)."""
    return {
        "amount_minor": checkout["total_minor"],
        "currency": "CNY",
        "payment_reference": f"psp-{checkout['payment_group_id']}",
    }


def register_bench_listings(app: App, sellers: int = BENCH_SELLERS) -> None:
    """Register one physical listing per benchmark seller (idempotent)."""
    for n in range(sellers):
        app.orders.register_listing(
            bench_listing(n), f"bench-s{n}", f"Bench item {n}", GoodsKind.PHYSICAL
        )


@dataclass
class Timings:
    """Per-command latencies in seconds, and how many full lifecycles finished."""

    latencies_s: list[float] = field(default_factory=list)
    lifecycles: int = 0

    def timed(self, command: Callable[[], T]) -> T:
        """Run one service command and record its latency."""
        started = time.perf_counter()
        result = command()
        self.latencies_s.append(time.perf_counter() - started)
        return result


def run_lifecycle(app: App, timings: Timings, client: int, n: int) -> None:
    """Create -> pay -> ship -> confirm receipt (which releases escrow): four service commands."""
    seller_no = (client * 7919 + n) % BENCH_SELLERS
    buyer_id = f"bench-b{client}-{n % 1000}"
    checkout = timings.timed(
        lambda: app.orders.create_checkout(
            buyer_id,
            "CNY",
            [CartLine(bench_listing(seller_no), 1, BENCH_LISTING_PRICE_MINOR)],
            {f"bench-s{seller_no}": 800},
        )
    )
    group_id = checkout.payment_group_id
    order_id = checkout.orders[0].id
    total = checkout.total_minor
    timings.timed(
        lambda: app.orders.confirm_payment(group_id, total, "CNY", f"psp-{group_id}", OPERATOR)
    )
    timings.timed(
        lambda: app.orders.ship(
            order_id, seller(f"bench-s{seller_no}"), carrier="SF", tracking_number=f"SF{n}"
        )
    )
    timings.timed(lambda: app.orders.confirm_receipt(order_id, buyer(buyer_id)))
    timings.lifecycles += 1


COMMANDS_PER_LIFECYCLE = 4
