"""Reputation throughput on PostgreSQL: incremental reviews/s, and a full recomputation of 10M.

1. **Incremental.** Completed orders are bulk-loaded; then K clients (threads
   spread over processes, default 2 x 4 = 8) post reviews through
   ``ReviewService.post`` for a fixed duration. Each review is moderated, stored
   and counted with O(1) database work (one repeat-window row, one
   buyer-seller-month row, one seller-day row and the seller's totals).
2. **Recomputation.** The reviews table is emptied and 10 million counted
   reviews (100 000 sellers, 1 million buyers, a year of days) are loaded with
   COPY in committed chunks; then ``ReputationService.recompute`` rebuilds every
   seller's figures in SQL, one range of sellers per unit of work: first from
   empty aggregate tables (``recompute_10m_s``), then again over the figures it
   just built (``recompute_10m_steady_s``: each range's rows are deleted and
   written anew, as a routine re-run does).

Everything runs in a scratch database created for the run and dropped after.

    python benchmarks/reputation.py --db postgresql://postgres@127.0.0.1:5432/test
    python benchmarks/reputation.py --json     # {"reviews_per_s": ..., "recompute_10m_s": ...}
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing as mp
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from scratch import scratch_database
from tradeguard.adapters.storage.engine import database_url, is_sqlite
from tradeguard.bootstrap import build_app
from tradeguard.kernel.parties import buyer
from tradeguard.reviews.model import DetailedRatings

STARS = (5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 4, 4, 4, 3, 2, 1, 5)
REVIEW_COLUMNS = (
    "id, order_id, buyer_id, seller_id, listing_id, state, origin, stars, dsr_item, "
    "dsr_communication, dsr_shipping, text, is_anonymous, photos, flags, created_at, rated_on, "
    "rated_month, order_completed_at, weight, published_at, counts_for_credit, counted, "
    "follow_up_photos"
)


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _copy(conn: psycopg.Connection[Any], sql: str, rows: str) -> None:
    with conn.cursor() as cur, cur.copy(sql) as copy:
        copy.write(rows)


# -- 1. incremental -------------------------------------------------------------------------------


def load_completed_orders(url: str, count: int, sellers: int) -> None:
    """Bulk-load ``count`` completed orders (one line each), completed an hour ago."""
    completed = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    with psycopg.connect(_libpq(url)) as conn:
        for start in range(0, count, 50_000):
            orders, lines = io.StringIO(), io.StringIO()
            for n in range(start, min(count, start + 50_000)):
                seller_id = f"s{n % sellers:05d}"
                orders.write(
                    f"o{n:09d}\tg{n:09d}\tb{n % 9973:05d}\t{seller_id}\tCNY\tphysical\tcompleted\t"
                    f"1000\t0\t200\t1000\t{completed}\t{completed}\t{completed}\n"
                )
                lines.write(f"o{n:09d}\t1\tl{n % 500:04d}-{seller_id}\tgoods\t1\t1000\n")
            _copy(
                conn,
                "COPY orders (id, payment_group_id, buyer_id, seller_id, currency, goods_kind, "
                "state, subtotal_minor, shipping_fee_minor, fee_bps, paid_minor, created_at, "
                "updated_at, completed_at) FROM STDIN",
                orders.getvalue(),
            )
            _copy(
                conn,
                "COPY order_lines (order_id, line_no, listing_id, title, quantity, "
                "unit_price_minor) FROM STDIN",
                lines.getvalue(),
            )
            conn.commit()


def _client(app: Any, orders: list[int], deadline: float, counts: list[int], slot: int) -> None:
    done = 0
    for n in orders:
        if time.monotonic() >= deadline:
            break
        stars = STARS[n % len(STARS)]
        app.reviews.post(
            f"o{n:09d}",
            buyer(f"b{n % 9973:05d}"),
            stars=stars,
            detailed=DetailedRatings(5, 4, 5) if n % 2 else None,
            text="fast delivery, exactly as described" if stars >= 4 else "slow",
            reason=None if stars >= 4 else "arrived late",
        )
        done += 1
    counts[slot] = done


def _process(
    url: str, threads: int, orders: list[int], start_at: float, duration_s: float, queue: Any
) -> None:
    app = build_app(url, migrate=False, pool_size=threads)
    counts = [0] * threads
    share = [orders[i::threads] for i in range(threads)]
    while time.time() < start_at:
        time.sleep(0.001)
    deadline = time.monotonic() + duration_s
    workers = [
        threading.Thread(target=_client, args=(app, share[i], deadline, counts, i))
        for i in range(threads)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    app.close()
    queue.put(sum(counts))


def measure_incremental(
    url: str, processes: int, threads: int, duration_s: float, orders: int
) -> float:
    """Reviews per second posted by ``processes x threads`` clients."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    all_orders = list(range(orders))
    start_at = time.time() + 3.0  # let every process import and connect first
    procs = [
        ctx.Process(
            target=_process,
            args=(url, threads, all_orders[p::processes], start_at, duration_s, queue),
        )
        for p in range(processes)
    ]
    for p in procs:
        p.start()
    total = sum(queue.get() for _ in procs)
    for p in procs:
        p.join()
    return total / duration_s


# -- 2. full recomputation ------------------------------------------------------------------------


def load_reviews(url: str, count: int, sellers: int, buyers: int, chunk: int = 500_000) -> None:
    """Empty the review tables and COPY ``count`` counted reviews in committed chunks."""
    per_seller = max(1, count // sellers)
    today = datetime.now(UTC).date()
    days = [(today - timedelta(days=d)) for d in range(365)]
    day_text = [d.isoformat() for d in days]
    month_text = [f"{d.year:04d}-{d.month:02d}" for d in days]
    at = datetime.now(UTC).isoformat()
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        conn.execute(
            "TRUNCATE reviews, reputation_days, reputation_pair_months, reputation_item_windows, "
            "seller_reputation"
        )
        # Loading is not what is measured: keep only the indexes the recomputation reads.
        for index in ("ix_reviews_buyer_id_id", "ix_reviews_state_id"):
            conn.execute(f"DROP INDEX IF EXISTS {index}")
        conn.execute("ALTER TABLE reviews DROP CONSTRAINT IF EXISTS uq_reviews_order_id")
    with psycopg.connect(_libpq(url)) as conn:
        for start in range(0, count, chunk):
            out = io.StringIO()
            write = out.write
            for n in range(start, min(count, start + chunk)):
                stars = STARS[n % 20]
                d = (n * 31) % 365
                dsr = "5\t4\t5" if n % 2 else "\\N\t\\N\t\\N"
                write(
                    f"r{n:09d}\to{n:09d}\tb{(n * 7919) % buyers:07d}\ts{n // per_seller:06d}\t"
                    f"l{n % 7}\tpublished\tbuyer\t{stars}\t{dsr}\t\tf\t[]\t[]\t{at}\t"
                    f"{day_text[d]}\t{month_text[d]}\t{at}\t1\t{at}\tt\tt\t[]\n"
                )
            _copy(conn, f"COPY reviews ({REVIEW_COLUMNS}) FROM STDIN", out.getvalue())
            conn.commit()
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE reviews")


def measure_recompute(url: str) -> tuple[float, int]:
    """Seconds to rebuild every seller's figures, and how many sellers."""
    app = build_app(url, migrate=False)
    started = time.perf_counter()
    sellers = app.reputation.recompute()
    elapsed = time.perf_counter() - started
    app.close()
    return elapsed, sellers


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", help="PostgreSQL URL (default: TRADEGUARD_DATABASE_URL)")
    parser.add_argument(
        "--duration", type=float, default=15.0, help="seconds of posting (default 15)"
    )
    parser.add_argument("--processes", type=int, default=2, help="client processes (default 2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per process (default 4)")
    parser.add_argument("--orders", type=int, default=80_000, help="completed orders to review")
    parser.add_argument("--reviews", type=int, default=10_000_000, help="reviews to recompute from")
    parser.add_argument("--sellers", type=int, default=100_000, help="sellers in the recomputation")
    parser.add_argument("--buyers", type=int, default=1_000_000, help="buyers in the recomputation")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    admin_url = database_url(args.db)
    if is_sqlite(admin_url):
        raise SystemExit("give a PostgreSQL URL with --db or TRADEGUARD_DATABASE_URL")
    with scratch_database(admin_url, "reputation") as url:
        build_app(url).close()  # migrates the scratch database
        load_completed_orders(url, args.orders, sellers=1_000)
        reviews_per_s = measure_incremental(
            url, args.processes, args.threads, args.duration, args.orders
        )
        if not args.json:
            print(
                f"incremental: {reviews_per_s:,.0f} reviews/s at concurrency {args.processes * args.threads}",
                flush=True,
            )
        started = time.perf_counter()
        load_reviews(url, args.reviews, args.sellers, args.buyers)
        load_s = time.perf_counter() - started
        recompute_s, sellers = measure_recompute(url)
        steady_s, _ = measure_recompute(url)
    result = {
        "reviews_per_s": round(reviews_per_s, 1),
        "recompute_10m_s": round(recompute_s, 2),
        "recompute_10m_steady_s": round(steady_s, 2),
        "reviews": args.reviews,
        "sellers": sellers,
        "concurrency": args.processes * args.threads,
        "load_s": round(load_s, 1),
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"recompute: {recompute_s:.1f} s for {args.reviews:,} reviews of {sellers:,} sellers "
            f"from empty figures, {steady_s:.1f} s over figures already right "
            f"(COPY load took {load_s:.0f} s, not counted)"
        )


if __name__ == "__main__":
    main()
