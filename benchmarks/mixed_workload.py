"""Mixed workload against PostgreSQL: 80 % plain order lifecycles, 20 % with a refund path.

K concurrent clients (default 8) run, through the service layer, for a fixed duration:

* plain lifecycles: create -> pay -> ship -> confirm receipt (4 commands), the same
  as ``benchmarks/order_lifecycle.py``;
* every fifth lifecycle of each client takes a refund path instead, alternating
  a partial refund (create -> pay -> ship -> request -> seller agrees, refunded
  from escrow -> confirm receipt: 6 commands) and a return (create -> pay -> ship
  -> request -> agree -> ship the return -> seller accepts it, refunded and the
  order closed: 7 commands).

Then, in the same run, K clients run plain lifecycles only (before and after the
mixed run, averaged). It prints throughput
(service commands/s) and p99 command latency for both, and the ratio (issue 4's
target: the mixed workload keeps at least 80 % of the plain throughput).

    python benchmarks/mixed_workload.py --db postgresql://postgres@127.0.0.1:5432/bench
    python benchmarks/mixed_workload.py --json   # {"k", "commands_per_s", "p99_ms",
                                                 #  "plain_commands_per_s", "mixed_over_plain"}
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

from tradeguard.adapters.sim.workload import (
    BENCH_LISTING_PRICE_MINOR,
    BENCH_SELLERS,
    Timings,
    bench_listing,
    register_bench_listings,
    run_lifecycle,
)
from tradeguard.adapters.storage.engine import database_url, is_sqlite
from tradeguard.aftersales.model import RefundKind, RefundReason
from tradeguard.bootstrap import App, build_app
from tradeguard.kernel.parties import OPERATOR, buyer, seller
from tradeguard.orders.rules import CartLine

REFUND_EVERY = 5  #: one lifecycle in five takes a refund path: 20 %


def run_refund_lifecycle(app: App, timings: Timings, client: int, n: int) -> None:
    """A lifecycle with after-sales: a partial refund (6 commands) or a return (7), alternately."""
    seller_no = (client * 7919 + n) % BENCH_SELLERS
    buyer_id = f"bench-rb{client}-{n % 1000}"
    shop = seller(f"bench-s{seller_no}")
    checkout = timings.timed(
        lambda: app.orders.create_checkout(
            buyer_id,
            "CNY",
            [CartLine(bench_listing(seller_no), 1, BENCH_LISTING_PRICE_MINOR)],
            {f"bench-s{seller_no}": 800},
        )
    )
    group_id, order_id, total = (
        checkout.payment_group_id,
        checkout.orders[0].id,
        checkout.total_minor,
    )
    timings.timed(
        lambda: app.orders.confirm_payment(group_id, total, "CNY", f"psp-{group_id}", OPERATOR)
    )
    timings.timed(lambda: app.orders.ship(order_id, shop, carrier="SF", tracking_number=f"SF{n}"))
    is_return = (n // REFUND_EVERY) % 2 == 1
    request = timings.timed(
        lambda: app.aftersales.request(
            order_id,
            buyer(buyer_id),
            kind=RefundKind.RETURN_AND_REFUND if is_return else RefundKind.PARTIAL_REFUND,
            reason=RefundReason.QUALITY_PROBLEM if is_return else RefundReason.PRICE_DIFFERENCE,
            amount_minor=BENCH_LISTING_PRICE_MINOR if is_return else 1_000,
        )
    )
    timings.timed(lambda: app.aftersales.agree(request.id, shop))
    if is_return:
        timings.timed(
            lambda: app.aftersales.ship_return(
                request.id, buyer(buyer_id), carrier="YTO", tracking_number=f"YT{n}"
            )
        )
        timings.timed(lambda: app.aftersales.confirm_return(request.id, shop))
    else:
        timings.timed(lambda: app.orders.confirm_receipt(order_id, buyer(buyer_id)))
    timings.lifecycles += 1


def _worker(
    url: str,
    threads: int,
    first_client: int,
    duration_s: float,
    start_at: float,
    mixed: bool,
    queue: Any,
) -> None:
    """One process: ``threads`` clients looping lifecycles until the deadline."""
    app = build_app(url, migrate=False, pool_size=max(1, threads))
    all_timings = [Timings() for _ in range(threads)]
    deadline = start_at + duration_s

    def client(index: int) -> None:
        timings = all_timings[index]
        n = 0
        while time.time() < start_at:
            time.sleep(0.001)
        while time.time() < deadline:
            if mixed and n % REFUND_EVERY == REFUND_EVERY - 1:
                run_refund_lifecycle(app, timings, first_client + index, n)
            else:
                run_lifecycle(app, timings, first_client + index, n)
            n += 1

    pool = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    app.close()
    queue.put([lat for t in all_timings for lat in t.latencies_s])


@dataclass
class Measured:
    commands_per_s: float
    p99_ms: float


def measure(
    url: str, k: int, duration_s: float, processes: int, *, mixed: bool, run: int
) -> Measured:
    """Run K clients for ``duration_s`` seconds; service commands/s and p99 command latency."""
    processes = max(1, min(processes, k))
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    start_at = time.time() + 2.0 + 0.3 * processes
    shares = [k // processes + (1 if i < k % processes else 0) for i in range(processes)]
    # Client numbers differ between runs so buyers and payment references never repeat.
    first = 1_000 * run
    procs = []
    for share in shares:
        procs.append(
            ctx.Process(
                target=_worker, args=(url, share, first, duration_s, start_at, mixed, queue)
            )
        )
        first += share
    for p in procs:
        p.start()
    latencies: list[float] = []
    for _ in procs:
        latencies.extend(queue.get())
    for p in procs:
        p.join()
    if not latencies:
        raise SystemExit("no command completed; is the database reachable?")
    latencies.sort()
    return Measured(
        commands_per_s=len(latencies) / duration_s,
        p99_ms=latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", help="PostgreSQL URL (default: TRADEGUARD_DATABASE_URL)")
    parser.add_argument("--k", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument(
        "--duration", type=float, default=10.0, help="seconds per measurement (default 10)"
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes (default: cores)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    url = database_url(args.db)
    if is_sqlite(url):
        raise SystemExit("give a PostgreSQL URL with --db or TRADEGUARD_DATABASE_URL")
    app = build_app(url)  # migrates
    register_bench_listings(app)
    app.close()

    # Plain runs before and after the mixed one, averaged, so a machine whose load drifts
    # during the run (caches warming, neighbours busy) does not favour either workload.
    before = measure(url, args.k, args.duration, args.processes, mixed=False, run=0)
    mixed = measure(url, args.k, args.duration, args.processes, mixed=True, run=1)
    after = measure(url, args.k, args.duration, args.processes, mixed=False, run=2)
    plain = Measured(
        (before.commands_per_s + after.commands_per_s) / 2, max(before.p99_ms, after.p99_ms)
    )
    ratio = mixed.commands_per_s / plain.commands_per_s
    if args.json:
        print(
            json.dumps(
                {
                    "k": args.k,
                    "commands_per_s": round(mixed.commands_per_s, 1),
                    "p99_ms": round(mixed.p99_ms, 2),
                    "plain_commands_per_s": round(plain.commands_per_s, 1),
                    "mixed_over_plain": round(ratio, 3),
                }
            )
        )
        return
    print(f"{'workload':<28} {'K':>3} {'commands/s':>11} {'p99 ms':>8}")
    print(
        f"{'mixed (20 % refund paths)':<28} {args.k:>3} {mixed.commands_per_s:>11.1f} {mixed.p99_ms:>8.2f}"
    )
    print(
        f"{'plain lifecycles':<28} {args.k:>3} {plain.commands_per_s:>11.1f} {plain.p99_ms:>8.2f}"
    )
    print(f"mixed / plain throughput: {ratio:.3f} (target >= 0.8)")


if __name__ == "__main__":
    main()
