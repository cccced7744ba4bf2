"""Order lifecycle throughput against PostgreSQL, with pgbench as the floor of the machine.

For each K in {1, 8, 32}: K concurrent clients run full lifecycles
(create -> pay -> ship -> confirm receipt, which releases escrow) through the
service layer for a fixed duration, then pgbench runs TPC-B with the same K for
the same duration on a scratch database; the two alternate for a few rounds
(--rounds) so that a shared machine's drift in speed falls on both alike.
Prints lifecycles/s, service commands/s, p50/p99 command latency, pgbench tps
and commands/s / pgbench tps.
Clients are threads spread over worker processes (one per core by default),
because a Python process runs one thread of Python at a time.

    python benchmarks/order_lifecycle.py --db postgresql://postgres@127.0.0.1:5432/test
    python benchmarks/order_lifecycle.py --json          # one JSON object per K

The SQLite figures at K=1 follow the table (on stderr with --json, so stdout
stays one object per K).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from tradeguard.adapters.sim.workload import (
    Timings,
    register_bench_listings,
    run_lifecycle,
)
from tradeguard.adapters.storage.engine import database_url, is_sqlite
from tradeguard.bootstrap import build_app


@dataclass
class Result:
    backend: str
    k: int
    lifecycles_per_s: float
    commands_per_s: float
    p50_ms: float
    p99_ms: float
    pgbench_tps: float | None = None

    @property
    def ratio(self) -> float | None:
        return self.commands_per_s / self.pgbench_tps if self.pgbench_tps else None

    def as_json(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "lifecycles_per_s": round(self.lifecycles_per_s, 1),
            "commands_per_s": round(self.commands_per_s, 1),
            "p50_ms": round(self.p50_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
            "pgbench_tps": round(self.pgbench_tps, 1) if self.pgbench_tps else None,
            "ratio": round(self.ratio, 3) if self.ratio is not None else None,
        }


def _worker(
    url: str, threads: int, first_client: int, duration_s: float, start_at: float, queue: Any
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
            run_lifecycle(app, timings, first_client + index, n)
            n += 1

    pool = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    app.close()
    queue.put(
        (
            sum(t.lifecycles for t in all_timings),
            [lat for t in all_timings for lat in t.latencies_s],
        )
    )


def run_clients(url: str, k: int, duration_s: float, processes: int) -> tuple[int, list[float]]:
    """Run K clients for ``duration_s`` seconds; return (lifecycles, command latencies in s)."""
    processes = max(1, min(processes, k))
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    start_at = time.time() + 2.0 + 0.3 * processes  # after every process has imported and connected
    shares = [k // processes + (1 if i < k % processes else 0) for i in range(processes)]
    procs = []
    first = 0
    for share in shares:
        procs.append(
            ctx.Process(target=_worker, args=(url, share, first, duration_s, start_at, queue))
        )
        first += share
    for p in procs:
        p.start()
    lifecycles = 0
    latencies: list[float] = []
    for _ in procs:
        done, lats = queue.get()
        lifecycles += done
        latencies.extend(lats)
    for p in procs:
        p.join()
    return lifecycles, latencies


def summarise(
    url: str, k: int, duration_s: float, lifecycles: int, latencies: list[float]
) -> Result:
    """The figures of ``lifecycles`` and their command ``latencies`` over ``duration_s`` seconds."""
    latencies = sorted(latencies)
    if not latencies:
        raise SystemExit("no command completed; is the database reachable?")
    return Result(
        backend=make_url(url).get_backend_name(),
        k=k,
        lifecycles_per_s=lifecycles / duration_s,
        commands_per_s=len(latencies) / duration_s,
        p50_ms=statistics.median(latencies) * 1000,
        p99_ms=latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    )


def measure(url: str, k: int, duration_s: float, processes: int) -> Result:
    """Run K clients for ``duration_s`` seconds and summarise their command latencies."""
    lifecycles, latencies = run_clients(url, k, duration_s, processes)
    return summarise(url, k, duration_s, lifecycles, latencies)


def measure_against_pgbench(
    url: str, k: int, duration_s: float, processes: int, rounds: int
) -> Result:
    """Alternate ``rounds`` service runs with as many pgbench runs, each ``duration_s`` long.

    A shared machine drifts in speed over a minute; alternating the two puts both
    figures under the same conditions, so the ratio measures TradeGuard, not the drift.
    """
    lifecycles = 0
    latencies: list[float] = []
    pgbench = []
    for _ in range(rounds):
        done, lats = run_clients(url, k, duration_s, processes)
        lifecycles += done
        latencies.extend(lats)
        pgbench.append(run_pgbench(url, k, duration_s))
    result = summarise(url, k, duration_s * rounds, lifecycles, latencies)
    result.pgbench_tps = sum(pgbench) / len(pgbench)
    return result


def find_pgbench() -> str:
    found = shutil.which("pgbench")
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"), reverse=True):
        return str(candidate)
    raise SystemExit("pgbench not found: install the PostgreSQL server package")


def pgbench_env(url: str) -> tuple[dict[str, str], str]:
    """libpq environment for the server behind ``url``, and a scratch database name."""
    parsed = make_url(url)
    env = dict(os.environ)
    env.update(
        PGHOST=parsed.host or "127.0.0.1",
        PGPORT=str(parsed.port or 5432),
        PGUSER=parsed.username or "postgres",
    )
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    return env, "tradeguard_pgbench_scratch"


def prepare_pgbench(url: str, scale: int) -> None:
    env, scratch = pgbench_env(url)
    psql_db = make_url(url).database or "postgres"
    drop = f"DROP DATABASE IF EXISTS {scratch}"
    create = f"CREATE DATABASE {scratch}"
    for sql in (drop, create):
        subprocess.run(
            ["psql", "-d", psql_db, "-qc", sql], env=env, check=True, capture_output=True
        )
    subprocess.run(
        [find_pgbench(), "-i", "-q", "-s", str(scale), scratch],
        env=env,
        check=True,
        capture_output=True,
    )


def run_pgbench(url: str, k: int, duration_s: float) -> float:
    env, scratch = pgbench_env(url)
    jobs = min(k, os.cpu_count() or 1)
    out = subprocess.run(
        [find_pgbench(), "-c", str(k), "-j", str(jobs), "-T", str(int(duration_s)), scratch],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    match = re.search(r"tps = ([0-9.]+)", out)
    if not match:
        raise SystemExit(f"could not read pgbench output:\n{out}")
    return float(match.group(1))


def drop_pgbench(url: str) -> None:
    env, scratch = pgbench_env(url)
    psql_db = make_url(url).database or "postgres"
    subprocess.run(
        ["psql", "-d", psql_db, "-qc", f"DROP DATABASE IF EXISTS {scratch}"],
        env=env,
        capture_output=True,
    )


def line(r: Result) -> str:
    pg = f"{r.pgbench_tps:9.0f}" if r.pgbench_tps else "        -"
    ratio = f"{r.ratio:6.3f}" if r.ratio is not None else "     -"
    return (
        f"{r.backend:<10} {r.k:>3} {r.lifecycles_per_s:>12.1f} {r.commands_per_s:>11.1f} "
        f"{r.p50_ms:>8.2f} {r.p99_ms:>8.2f} {pg} {ratio}"
    )


HEADER = f"{'backend':<10} {'K':>3} {'lifecycles/s':>12} {'commands/s':>11} {'p50 ms':>8} {'p99 ms':>8} {'pgbench':>9} {'ratio':>6}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", help="PostgreSQL URL (default: TRADEGUARD_DATABASE_URL)")
    parser.add_argument(
        "--duration", type=float, default=10.0, help="seconds per measurement (default 10)"
    )
    parser.add_argument(
        "--k", default="1,8,32", help="comma-separated client counts (default 1,8,32)"
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes (default: cores)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="alternating service and pgbench runs per K, each --duration long (default 3)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object per K")
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite K=1 figures")
    args = parser.parse_args()

    url = database_url(args.db)
    if is_sqlite(url):
        raise SystemExit("give a PostgreSQL URL with --db or TRADEGUARD_DATABASE_URL")
    ks = [int(k) for k in args.k.split(",")]
    app = build_app(url)  # migrates
    register_bench_listings(app)
    app.close()

    prepare_pgbench(url, scale=max(ks))
    results = []
    try:
        for k in ks:
            result = measure_against_pgbench(url, k, args.duration, args.processes, args.rounds)
            results.append(result)
            if args.json:
                print(json.dumps(result.as_json()), flush=True)
            else:
                if len(results) == 1:
                    print(HEADER)
                print(line(result), flush=True)
    finally:
        drop_pgbench(url)

    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            sqlite_url = f"sqlite:///{tmp}/bench.db"
            app = build_app(sqlite_url)
            register_bench_listings(app)
            app.close()
            result = measure(sqlite_url, 1, args.duration, 1)
        out = sys.stderr if args.json else sys.stdout
        if args.json:
            print(HEADER, file=out)
        print(line(result), file=out, flush=True)


if __name__ == "__main__":
    main()
