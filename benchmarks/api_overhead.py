"""CPU the HTTP API adds to an order lifecycle, measured in one process without a network.

Runs the same lifecycle (create checkout, report payment, ship, confirm receipt)
``--lifecycles`` times through the service layer and as many times through the ASGI
application `tradeguard serve` runs (the gateway, FastAPI routing, dependencies,
validation, serialisation, logging and metrics), the two taking turns on a single
client, and prints the client-side CPU per lifecycle of each path and their ratio.
PostgreSQL's own work is not counted (it is the same on both paths), nor are the
HTTP parser and socket, which uvicorn and the kernel add on top.

Where `http_lifecycle.py` needs the whole machine and drifts with it, the ratio
moves little from run to run (a slow spell of the VM weighs on both paths), so it
suits a paired A/B (benchmarks/ab.py):

    python benchmarks/api_overhead.py --db postgresql://postgres@127.0.0.1:5432/test --json
    python benchmarks/ab.py --base HEAD --key api_over_service --lower-is-better -- \\
        python benchmarks/api_overhead.py --db postgresql://postgres@127.0.0.1:5432/test --json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from scratch import scratch_database
from tradeguard.adapters.api.app import configure_logging, create_api
from tradeguard.adapters.api.gateway import Gateway
from tradeguard.adapters.sim.workload import (
    BENCH_SELLERS,
    Timings,
    bench_checkout_body,
    bench_payment_body,
    register_bench_listings,
    run_lifecycle,
)
from tradeguard.adapters.storage.engine import database_url, is_sqlite
from tradeguard.bootstrap import App, build_app
from tradeguard.policy import load_policy

BUYERS = 32


class AsgiClient:
    """Just enough of an HTTP client to call an ASGI app in-process."""

    def __init__(self, app: Gateway) -> None:
        self.app = app

    async def request(
        self, method: str, path: str, authorization: str, body: dict[str, Any] | None = None
    ) -> tuple[int, Any]:
        payload = json.dumps(body).encode() if body is not None else b""
        headers = [
            (b"host", b"127.0.0.1:8000"),
            (b"accept", b"*/*"),
            (b"user-agent", b"api-overhead"),
            (b"authorization", authorization.encode()),
            (b"content-length", str(len(payload)).encode()),
        ]
        if body is not None:
            headers.append((b"content-type", b"application/json"))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
        }
        sent = False
        status = 0
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": payload, "more_body": False}
            await asyncio.sleep(3600)  # a client that stays connected
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        data = b"".join(chunks)
        if status >= 400:
            raise RuntimeError(f"{method} {path}: {status} {data[:200]!r}")
        return status, json.loads(data) if data else None


async def http_lifecycles(
    client: AsgiClient,
    operator: str,
    sellers: list[str],
    buyers: list[str],
    count: int,
    first: int,
) -> None:
    """``count`` lifecycles through the ASGI app, buyer and seller chosen as the HTTP benchmark does."""
    for n in range(first, first + count):
        c = n % BUYERS
        s = (c * 7919 + n) % BENCH_SELLERS
        _, checkout = await client.request(
            "POST", "/v1/checkouts", operator, bench_checkout_body(f"api-b{c}", s)
        )
        group, order_id = checkout["payment_group_id"], checkout["orders"][0]["id"]
        await client.request(
            "POST", f"/v1/payment-groups/{group}/payment", operator, bench_payment_body(checkout)
        )
        await client.request(
            "POST",
            f"/v1/orders/{order_id}/ship",
            sellers[s],
            {"carrier": "SF", "tracking_number": f"SF{n}"},
        )
        await client.request("POST", f"/v1/orders/{order_id}/confirm-receipt", buyers[c])


def cpu_per_lifecycle(
    paths: dict[str, Callable[[int, int], None]], count: int, rounds: int
) -> dict[str, list[tuple[float, float]]]:
    """Each path's (user, system) CPU seconds per lifecycle, round by round.

    The paths take turns within each round, so a machine drifting in speed (a VM's
    neighbours) weighs on all of them alike; one warm-up round comes first (imports,
    prepared statements, caches).
    """
    for run in paths.values():
        run(count // 4 or 1, 0)
    figures: dict[str, list[tuple[float, float]]] = {name: [] for name in paths}
    first = count
    for _ in range(rounds):
        for name, run in paths.items():
            before = os.times()
            run(count, first)
            after = os.times()
            first += count
            figures[name].append(
                ((after.user - before.user) / count, (after.system - before.system) / count)
            )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", help="PostgreSQL URL (default: TRADEGUARD_DATABASE_URL)")
    parser.add_argument(
        "--lifecycles", type=int, default=200, help="per path and round (default 200)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
    parser.add_argument(
        "--inline",
        action="store_true",
        help="run blocking work on the event loop, as `serve --inline` does",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    admin_url = database_url(args.db)
    if is_sqlite(admin_url):
        raise SystemExit("give a PostgreSQL URL with --db or TRADEGUARD_DATABASE_URL")

    # The request log goes where `serve` sends it in production (a stream), here nowhere.
    configure_logging(stream=open(os.devnull, "wb"))  # noqa: SIM115 - lives as long as the run
    with scratch_database(admin_url, "api") as url:
        policy = load_policy(None, None)
        policy = policy.model_copy(
            update={
                "access": policy.access.model_copy(
                    update={
                        "api_key_requests_per_minute": 10_000_000,
                        "participant_requests_per_minute": 10_000_000,
                    }
                )
            }
        )
        app: App = build_app(url, policy=policy, pool_size=4)
        try:
            register_bench_listings(app)
            gateway = create_api(app, inline=args.inline)
            _, plaintext = app.access.create_api_key("api-overhead", ["orders", "payments"])
            operator = f"Bearer {plaintext}"
            auth = gateway.authenticator
            sellers = [
                "Bearer " + auth.mint_participant(f"seller:bench-s{n}", 3600)[0]
                for n in range(BENCH_SELLERS)
            ]
            buyers = [
                "Bearer " + auth.mint_participant(f"buyer:api-b{c}", 3600)[0] for c in range(BUYERS)
            ]
            client = AsgiClient(gateway)
            loop = asyncio.new_event_loop()

            def over_http(count: int, first: int) -> None:
                loop.run_until_complete(
                    http_lifecycles(client, operator, sellers, buyers, count, first)
                )

            timings = Timings()

            def in_process(count: int, first: int) -> None:
                for n in range(first, first + count):
                    run_lifecycle(app, timings, n % BUYERS, n)

            figures = cpu_per_lifecycle(
                {"service": in_process, "api": over_http}, args.lifecycles, args.rounds
            )
            loop.close()
        finally:
            app.close()

    def median_us(path: str, part: Callable[[tuple[float, float]], float]) -> int:
        return round(statistics.median(part(f) for f in figures[path]) * 1e6)

    service_cpu = median_us("service", sum)
    api_cpu = median_us("api", sum)
    result = {
        "lifecycles": args.lifecycles,
        "service_cpu_us_per_lifecycle": service_cpu,
        "service_system_us_per_lifecycle": median_us("service", lambda f: f[1]),
        "api_cpu_us_per_lifecycle": api_cpu,
        "api_system_us_per_lifecycle": median_us("api", lambda f: f[1]),
        "api_added_cpu_us_per_request": round((api_cpu - service_cpu) / 4),
        # Per round, then the median: the two paths of one round ran side by side.
        "api_over_service": round(
            statistics.median(
                sum(a) / sum(s) for a, s in zip(figures["api"], figures["service"], strict=True)
            ),
            3,
        ),
    }
    if args.json:
        print(json.dumps(result))
        return
    for name, path in (("service layer", "service"), ("through API", "api")):
        print(
            f"{name + ':':<15}{result[f'{path}_cpu_us_per_lifecycle']:>7} µs CPU per lifecycle"
            f" ({result[f'{path}_system_us_per_lifecycle']} µs of it in the kernel)"
        )
    print(
        f"API adds {result['api_added_cpu_us_per_request']} µs per request "
        f"(x{result['api_over_service']} of the service layer)"
    )


if __name__ == "__main__":
    main()
