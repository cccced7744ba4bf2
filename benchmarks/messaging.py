"""Messaging throughput and proof verification against PostgreSQL (issue 5, DESIGN.md §7).

1. Append: K concurrent clients (default 8) post messages — each scanned for
   scams, hash-chained and checkpointed every N (the policy's) — to their own
   conversations through the service layer for a fixed duration. Clients are
   threads spread over worker processes (one per core), because a Python
   process runs one thread of Python at a time. Prints messages/s.
2. Verify: a 10,000-message conversation is proven (``chain_proof``), the proof
   written to JSON and read back as an auditor would, and
   ``verify_chain_proof`` timed on it with the platform's public keys only.

Everything runs in a scratch database created on the server of ``--db`` and
dropped afterwards.

    python benchmarks/messaging.py --db postgresql://postgres@127.0.0.1:5432/test
    python benchmarks/messaging.py --json     # {"messages_per_s": ..., "verify_10k_s": ...}
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import threading
import time
from typing import Any

from scratch import scratch_database
from tradeguard.adapters.storage import migrations
from tradeguard.adapters.storage.engine import database_url, make_engine
from tradeguard.bootstrap import build_app
from tradeguard.kernel.parties import OPERATOR, buyer, seller
from tradeguard.messaging.chain import verify_chain_proof

LINES = (
    "请问这款还有货吗?今天能发货吗?",
    "有货的亲,今天下午四点前付款当天发货",
    "Is the blue one still in stock?",
    "Yes, it ships tomorrow morning.",
    "亲,宝贝价格标高了,请点击链接 http://tb-gaijia.cn/item 重新拍下",  # a flagged one now and then
)


def _worker(
    url: str, threads: int, first: int, duration_s: float, start_at: float, queue: Any
) -> None:
    """One process: ``threads`` clients posting until the deadline."""
    app = build_app(url, migrate=False, pool_size=max(1, threads))
    counts = [0] * threads
    latencies: list[list[float]] = [[] for _ in range(threads)]

    def client(index: int) -> None:
        n = first + index
        chat = app.messaging.start(OPERATOR, buyer_id=f"bench-b{n}", seller_id=f"bench-s{n}")
        parties = (buyer(f"bench-b{n}"), seller(f"bench-s{n}"))
        while time.perf_counter() < start_at:
            time.sleep(0.001)
        deadline = start_at + duration_s
        sent = 0
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            app.messaging.post(parties[sent % 2], chat.id, LINES[sent % len(LINES)])
            latencies[index].append(time.perf_counter() - began)
            sent += 1
        counts[index] = sent

    workers = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    app.close()
    queue.put((sum(counts), [x for per in latencies for x in per]))


def append_throughput(
    url: str, clients: int, duration_s: float, processes: int
) -> dict[str, float]:
    """Messages per second with ``clients`` concurrent clients, and latency percentiles."""
    processes = max(1, min(clients, processes))
    per_process = [
        clients // processes + (1 if i < clients % processes else 0) for i in range(processes)
    ]
    app = build_app(url, migrate=False)
    app.platform_keys.init()  # so no client races to create the key inside the timed window
    app.close()
    ctx = mp.get_context("fork")
    queue: Any = ctx.Queue()
    start_at = time.perf_counter() + 3.0
    procs, first = [], 0
    for threads in per_process:
        proc = ctx.Process(target=_worker, args=(url, threads, first, duration_s, start_at, queue))
        proc.start()
        procs.append(proc)
        first += threads
    total, latencies = 0, []
    for _ in procs:
        count, lat = queue.get()
        total += count
        latencies.extend(lat)
    for proc in procs:
        proc.join()
    latencies.sort()
    return {
        "messages_per_s": total / duration_s,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


def verify_10k(url: str, size: int) -> dict[str, float]:
    """Seconds to verify an offline proof of a ``size``-message conversation."""
    app = build_app(url, migrate=False, pool_size=8)
    chat = app.messaging.start(OPERATOR, buyer_id="bench-big-b", seller_id="bench-big-s")
    parties = (buyer("bench-big-b"), seller("bench-big-s"))
    for n in range(size):
        app.messaging.post(parties[n % 2], chat.id, f"{LINES[n % 4]} #{n}")
    began = time.perf_counter()
    proof = app.messaging.chain_proof(chat.id)
    build_s = time.perf_counter() - began
    document = json.dumps(proof.to_dict(), ensure_ascii=False)
    keys = app.platform_keys.public_keys()
    began = time.perf_counter()
    problems = verify_chain_proof(json.loads(document), keys)
    verify_s = time.perf_counter() - began
    if problems:
        raise SystemExit(f"the proof did not verify: {problems[:3]}")
    began = time.perf_counter()
    stored = app.messaging.verify(chat.id)
    stored_s = time.perf_counter() - began
    if stored:
        raise SystemExit(f"the stored log did not verify: {stored[:3]}")
    app.close()
    return {
        "verify_10k_s": verify_s,
        "proof_build_s": build_s,
        "stored_log_verify_s": stored_s,
        "proof_bytes": len(document.encode()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", help="PostgreSQL URL (default: TRADEGUARD_DATABASE_URL)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of appending")
    parser.add_argument(
        "--processes",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes the clients are spread over (default: cores)",
    )
    parser.add_argument("--size", type=int, default=10_000, help="messages in the proven case")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    admin_url = args.db or database_url(None)
    if not admin_url.startswith("postgresql"):
        raise SystemExit("benchmarks/messaging.py needs a PostgreSQL URL (--db)")
    with scratch_database(admin_url, "messaging") as url:
        engine = make_engine(url)
        migrations.upgrade(engine)
        engine.dispose()
        append = append_throughput(url, args.clients, args.duration, args.processes)
        verify = verify_10k(url, args.size)
    if args.json:
        print(
            json.dumps(
                {
                    "messages_per_s": round(append["messages_per_s"], 1),
                    "verify_10k_s": round(verify["verify_10k_s"], 3),
                }
            )
        )
        return
    print(f"append, {args.clients} clients, {args.duration:.0f} s (scan + chain + checkpoints):")
    print(
        f"  {append['messages_per_s']:.1f} messages/s"
        f"  p50 {append['p50_ms']:.2f} ms  p99 {append['p99_ms']:.2f} ms"
    )
    print(
        f"verify an offline proof of {args.size} messages ({verify['proof_bytes']} bytes of JSON):"
    )
    print(
        f"  {verify['verify_10k_s']:.3f} s  (building the proof: {verify['proof_build_s']:.3f} s)"
    )
    print(f"  stored-log check of the same conversation: {verify['stored_log_verify_s']:.3f} s")


if __name__ == "__main__":
    main()
