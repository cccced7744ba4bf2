"""Precision, recall and false-positive rate of the scam scan on the labelled corpus (DESIGN.md §7).

The corpus (benchmarks/data/scam_corpus.txt) holds Chinese and English messages
written for TradeGuard: scams from the tricks of seed 001 (re-order links,
refund links, verification codes, card numbers, off-platform payment and
contact, look-alike domains, fake platform staff, advance fees) and ordinary
trade talk, including hard cases (warnings about scams, order and tracking
numbers, links to the marketplace itself).

    python benchmarks/scam_scan.py            # the figures, then every miss and false alarm
    python benchmarks/scam_scan.py --json     # {"precision": ..., "recall": ..., ...}
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from tradeguard.messaging.scan import ScamScanner

CORPUS = Path(__file__).parent / "data" / "scam_corpus.txt"


def load(path: Path = CORPUS) -> list[tuple[bool, str]]:
    """(is_scam, text) pairs: lines ``S|text`` or ``H|text``; ``#`` starts a comment line."""
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        label, sep, text = line.partition("|")
        if not sep or label not in ("S", "H") or not text:
            raise SystemExit(f"{path}:{number}: expected 'S|text' or 'H|text'")
        items.append((label == "S", text))
    return items


def evaluate(items: list[tuple[bool, str]]) -> dict[str, object]:
    """Confusion counts, the three rates, and the misses and false alarms themselves."""
    scanner = ScamScanner()
    tp = fp = fn = tn = 0
    misses, false_alarms = [], []
    began = time.perf_counter()
    for is_scam, text in items:
        verdict = scanner.scan(text)
        if is_scam and verdict.flagged:
            tp += 1
        elif is_scam:
            fn += 1
            misses.append(text)
        elif verdict.flagged:
            fp += 1
            false_alarms.append(f"{text}  {list(verdict.reasons)}")
        else:
            tn += 1
    elapsed = time.perf_counter() - began
    return {
        "messages": len(items),
        "scams": tp + fn,
        "honest": fp + tn,
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / (tp + fn) if tp + fn else 0.0,
        "false_positive_rate": fp / (fp + tn) if fp + tn else 0.0,
        "scan_us_per_message": elapsed / max(1, len(items)) * 1e6,
        "misses": misses,
        "false_alarms": false_alarms,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    result = evaluate(load(args.corpus))
    if args.json:
        print(
            json.dumps(
                {
                    key: round(value, 4) if isinstance(value, float) else value
                    for key, value in result.items()
                    if key not in ("misses", "false_alarms")
                }
            )
        )
        return
    print(
        f"{result['messages']} messages ({result['scams']} scams, {result['honest']} honest): "
        f"precision {result['precision']:.3f}, recall {result['recall']:.3f}, "
        f"false-positive rate {result['false_positive_rate']:.3f}, "
        f"{result['scan_us_per_message']:.0f} µs per message"
    )
    for text in result["misses"]:  # type: ignore[attr-defined]
        print(f"  missed: {text}")
    for text in result["false_alarms"]:  # type: ignore[attr-defined]
        print(f"  false alarm: {text}")


if __name__ == "__main__":
    main()
