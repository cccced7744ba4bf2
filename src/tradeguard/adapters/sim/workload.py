"""Scripted order lifecycles, shared by the benchmarks and the simulator."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

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
