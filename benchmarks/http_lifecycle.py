"""Order lifecycles over HTTP against `tradeguard serve` on PostgreSQL, beside the in-process figure.

Starts `tradeguard serve` as we recommend running it on PostgreSQL (`--inline`,
two processes per core; `--threaded` for the thread-pool model, one process per
core) on a scratch database created on the given PostgreSQL server (and dropped
after), then drives full lifecycles over HTTP with httpx at a fixed
concurrency for a fixed duration: create checkout and report payment (operator
API key), ship (seller token), confirm receipt (buyer token). In the same run it
measures the in-process lifecycle (benchmarks/order_lifecycle.py) at the same
concurrency and prints the ratio.

    python benchmarks/http_lifecycle.py --db postgresql://postgres@127.0.0.1:5432/test
    python benchmarks/http_lifecycle.py --json

Rate limits are raised for the run (a policy file in a temporary directory): the
benchmark measures throughput, not the limiter.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from order_lifecycle import measure
from scratch import scratch_database
from tradeguard.adapters.sim.workload import (
    BENCH_SELLERS,
    bench_checkout_body,
    bench_listing,
    bench_payment_body,
)
from tradeguard.adapters.storage.engine import database_url, is_sqlite

POLICY = """
[access]
api_key_requests_per_minute = 10000000
participant_requests_per_minute = 10000000
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tradeguard(*args: str, env: dict[str, str]) -> str:
    exe = str(Path(sys.executable).parent / "tradeguard")
    return subprocess.run([exe, *args], env=env, check=True, capture_output=True, text=True).stdout


async def wait_ready(base: str, deadline_s: float = 60) -> None:
    async with httpx.AsyncClient() as client:
        until = time.monotonic() + deadline_s
        while time.monotonic() < until:
            try:
                if (await client.get(f"{base}/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit("tradeguard serve did not become ready")


def setup(
    base: str, key: str, concurrency: int
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Register the listings and mint one seller token per seller and one buyer token per client."""
    operator = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, timeout=30) as client:
        for n in range(BENCH_SELLERS):
            listing = {"seller_id": f"bench-s{n}", "title": f"Bench item {n}"}
            client.put(
                f"/v1/listings/{bench_listing(n)}", json=listing, headers=operator
            ).raise_for_status()

        def token(party: str) -> dict[str, str]:
            answer = client.post(
                "/v1/tokens", json={"party": party, "ttl_seconds": 3600}, headers=operator
            )
            answer.raise_for_status()
            return {"Authorization": f"Bearer {answer.json()['token']}"}

        sellers = [token(f"seller:bench-s{n}") for n in range(BENCH_SELLERS)]
        buyers = [token(f"buyer:http-b{c}") for c in range(concurrency)]
    return sellers, buyers


def drive(base: str, key: str, concurrency: int, duration_s: float) -> tuple[int, list[float], int]:
    """Run lifecycles over HTTP from ``concurrency`` client threads; return (lifecycles, latencies, errors).

    Each client thread keeps one connection (its own httpx transport) and sends
    requests through it directly: the client shares the two cores with the server
    and PostgreSQL, and httpx.Client's per-request extras (URL merging, a cookie jar
    emulating urllib, redirect and auth hooks) cost as much CPU as the server's
    routing. The asyncio client measured several times slower per request here.
    """
    operator = {"Authorization": f"Bearer {key}"}
    sellers, buyers = setup(base, key, concurrency)
    lock = threading.Lock()
    latencies: list[float] = []
    totals = {"done": 0, "errors": 0}
    stop_at = time.perf_counter() + duration_s

    def client_loop(c: int) -> None:
        mine: list[float] = []
        done = errors = 0
        with httpx.HTTPTransport() as transport:

            def call(
                method: str, path: str, headers: dict[str, str], body: dict[str, Any] | None = None
            ) -> Any:
                started = time.perf_counter()
                if body is None:
                    request = httpx.Request(method, base + path, headers=headers)
                else:
                    request = httpx.Request(method, base + path, headers=headers, json=body)
                answer = transport.handle_request(request)
                try:
                    data = answer.read()
                finally:
                    answer.close()
                mine.append(time.perf_counter() - started)
                if answer.status_code >= 400:
                    raise RuntimeError(f"{method} {path}: {answer.status_code} {data[:200]!r}")
                return json.loads(data)

            n = 0
            while time.perf_counter() < stop_at:
                s = (c * 7919 + n) % BENCH_SELLERS
                try:
                    checkout = call(
                        "POST", "/v1/checkouts", operator, bench_checkout_body(f"http-b{c}", s)
                    )
                    group, order_id = checkout["payment_group_id"], checkout["orders"][0]["id"]
                    payment = bench_payment_body(checkout)
                    call("POST", f"/v1/payment-groups/{group}/payment", operator, payment)
                    call(
                        "POST",
                        f"/v1/orders/{order_id}/ship",
                        sellers[s],
                        {"carrier": "SF", "tracking_number": f"SF{n}"},
                    )
                    call("POST", f"/v1/orders/{order_id}/confirm-receipt", buyers[c])
                    done += 1
                except (RuntimeError, httpx.HTTPError) as exc:
                    errors += 1
                    if errors == 1:
                        print(f"client {c}: {exc}", file=sys.stderr)
                n += 1
        with lock:
            latencies.extend(mine)
            totals["done"] += done
            totals["errors"] += errors

    threads = [threading.Thread(target=client_loop, args=(c,)) for c in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return totals["done"], latencies, totals["errors"]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", help="PostgreSQL URL (default: TRADEGUARD_DATABASE_URL)")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--duration", type=float, default=15.0, help="seconds of measurement (default 15)"
    )
    parser.add_argument(
        "--threaded",
        action="store_true",
        help="serve requests from thread pools (serve without --inline)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        help="uvicorn processes (default: two per core inline, one per core threaded)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    workers = args.workers or (cores if args.threaded else 2 * cores)
    admin_url = database_url(args.db)
    if is_sqlite(admin_url):
        raise SystemExit("give a PostgreSQL URL with --db or TRADEGUARD_DATABASE_URL")

    with scratch_database(admin_url, "http") as url, tempfile.TemporaryDirectory() as tmp:
        policy = Path(tmp) / "bench-policy.toml"
        policy.write_text(POLICY)
        env = {**os.environ, "TRADEGUARD_DATABASE_URL": url, "TRADEGUARD_POLICY": str(policy)}
        tradeguard("migrate", env=env)
        key = (
            tradeguard(
                "keys",
                "create",
                "--name",
                "http-bench",
                "--scopes",
                "orders,payments,tokens",
                env=env,
            )
            .strip()
            .splitlines()[-1]
        )
        port = free_port()
        exe = str(Path(sys.executable).parent / "tradeguard")
        server = subprocess.Popen(
            [
                exe,
                "serve",
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--policy",
                str(policy),
                *([] if args.threaded else ["--inline"]),
            ],
            env={
                **env,
                "TRADEGUARD_POOL_SIZE": str(max(4, args.concurrency // workers + 4)),
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            asyncio.run(wait_ready(base))
            done, latencies, errors = drive(base, key, args.concurrency, args.duration)
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()

        in_process = measure(url, args.concurrency, args.duration, cores)
    latencies.sort()
    lifecycles_per_s = done / args.duration
    result = {
        "concurrency": args.concurrency,
        "lifecycles_per_s": round(lifecycles_per_s, 1),
        "requests_per_s": round(len(latencies) / args.duration, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2) if latencies else None,
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 2)
        if latencies
        else None,
        "http_over_inprocess": round(lifecycles_per_s / in_process.lifecycles_per_s, 3)
        if in_process.lifecycles_per_s
        else None,
    }
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"{'path':<11} {'conc':>4} {'lifecycles/s':>12} {'requests/s':>11} {'p50 ms':>8} {'p99 ms':>8}"
    )
    print(
        f"{'http':<11} {args.concurrency:>4} {result['lifecycles_per_s']:>12} {result['requests_per_s']:>11} "
        f"{result['p50_ms']:>8} {result['p99_ms']:>8}"
    )
    print(
        f"{'in-process':<11} {args.concurrency:>4} {in_process.lifecycles_per_s:>12.1f} {in_process.commands_per_s:>11.1f} "
        f"{in_process.p50_ms:>8.2f} {in_process.p99_ms:>8.2f}"
    )
    print(f"HTTP / in-process throughput: {result['http_over_inprocess']}   (errors: {errors})")


if __name__ == "__main__":
    main()
