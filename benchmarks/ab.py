"""Paired A/B runs of a benchmark: the working tree against a base commit, alternating.

The 2-core VMs these benchmarks run on drift by ±30 % within minutes (the same code
gave 1,060 and 1,600 reviews/s ten minutes apart), so two figures measured at
different times say nothing about a change. This script checks the base commit
out into a temporary git worktree, then runs the same benchmark command
alternately against the base (A) and the working tree (B), ``--rounds`` times,
each run importing ``tradeguard`` from its own tree (``PYTHONPATH``). It reads
one number from each run's JSON output (``--key``), prints every pair with its
ratio B/A, and sums up with the median ratio and how many pairs B won: a change
that wins most pairs at a steady ratio is real; one that wins half is noise.

    python benchmarks/ab.py --base HEAD --key reviews_per_s --rounds 4 -- \\
        python benchmarks/reputation.py --json --reviews 1000 --duration 15

    python benchmarks/ab.py --base main~1 --key http_over_inprocess -- \\
        python benchmarks/http_lifecycle.py --json

The command runs from the working tree's ``benchmarks/`` scripts in both arms;
only the imported ``tradeguard`` differs. ``--json`` prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Pair:
    """One round: the base's figure and the working tree's."""

    a: float
    b: float

    @property
    def ratio(self) -> float:
        """B over A (above 1 when the working tree is faster on a higher-is-better figure)."""
        return self.b / self.a if self.a else float("inf")


def figure(output: str, key: str) -> float:
    """The number under ``key`` in the last JSON object a run printed."""
    for line in reversed(output.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            value = json.loads(line).get(key)
            if not isinstance(value, int | float):
                raise ValueError(f"the run's JSON has no number under {key!r}: {line[:200]}")
            return float(value)
    raise ValueError(f"the run printed no JSON object: {output.strip()[-300:]!r}")


def summary(pairs: Sequence[Pair], higher_is_better: bool = True) -> dict[str, object]:
    """Median ratio B/A, how many pairs B won, and every pair (the ``--json`` object)."""
    ratios = [p.ratio for p in pairs]
    won = sum((r > 1) if higher_is_better else (r < 1) for r in ratios)
    return {
        "pairs": [{"a": p.a, "b": p.b, "b_over_a": round(p.ratio, 4)} for p in pairs],
        "median_b_over_a": round(statistics.median(ratios), 4) if ratios else None,
        "b_won": won,
        "rounds": len(pairs),
    }


@contextmanager
def worktree(rev: str) -> Iterator[Path]:
    """A detached worktree of ``rev`` in a temporary directory, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="tradeguard-ab-") as tmp:
        path = Path(tmp) / "base"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(path), rev],
            check=True,
        )
        try:
            yield path
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(path)], check=False
            )


def run(command: Sequence[str], src: Path) -> str:
    """Run the benchmark importing ``tradeguard`` from ``src``; its stdout."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(src), os.environ.get("PYTHONPATH")])),
    }
    done = subprocess.run(list(command), env=env, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"benchmark failed (exit {done.returncode}): {done.stderr.strip()[-500:]}")
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base", default="HEAD", help="commit to compare against (default HEAD)")
    parser.add_argument("--key", required=True, help="JSON key of the figure to compare")
    parser.add_argument("--rounds", type=int, default=4, help="A/B pairs to run (default 4)")
    parser.add_argument(
        "--lower-is-better", action="store_true", help="the figure is a time, not a rate"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the benchmark command")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        raise SystemExit("give the benchmark command after --")
    if args.rounds < 1:
        raise SystemExit("--rounds must be at least 1")

    pairs: list[Pair] = []
    with worktree(args.base) as base:
        for n in range(args.rounds):
            try:
                a = figure(run(command, base / "src"), args.key)
                b = figure(run(command, ROOT / "src"), args.key)
            except ValueError as exc:
                raise SystemExit(f"round {n + 1}: {exc}") from None
            pairs.append(Pair(a, b))
            if not args.json:
                print(
                    f"round {n + 1}: A {a:,.2f}  B {b:,.2f}  B/A {pairs[-1].ratio:.3f}", flush=True
                )
    result = summary(pairs, higher_is_better=not args.lower_is_better)
    if args.json:
        print(json.dumps({"key": args.key, "base": args.base, **result}))
    else:
        print(
            f"{args.key}: median B/A {result['median_b_over_a']}, "
            f"B better in {result['b_won']} of {result['rounds']} pairs (A = {args.base})"
        )


if __name__ == "__main__":
    sys.exit(main())
