"""The scam scan meets issue 5's targets on the labelled corpus: recall >= 0.95, FPR <= 0.02."""

from __future__ import annotations

import re
from pathlib import Path

from tradeguard.messaging.scan import ScamScanner

CORPUS = Path(__file__).parents[3] / "benchmarks" / "data" / "scam_corpus.txt"
CJK = re.compile(r"[\u4e00-\u9fff]")


def _corpus() -> list[tuple[bool, str]]:
    lines = CORPUS.read_text(encoding="utf-8").splitlines()
    return [(line[0] == "S", line[2:]) for line in lines if line[:2] in ("S|", "H|")]


def test_corpus_has_300_messages_in_both_languages_and_both_labels() -> None:
    items = _corpus()
    assert len(items) >= 300
    for is_scam in (True, False):
        texts = [t for s, t in items if s is is_scam]
        assert sum(1 for t in texts if CJK.search(t)) >= 50
        assert sum(1 for t in texts if not CJK.search(t)) >= 25


def test_scan_recall_and_false_positive_rate_meet_the_targets() -> None:
    # given
    scanner = ScamScanner()
    items = _corpus()

    # when
    flagged = [(is_scam, scanner.scan(text).flagged) for is_scam, text in items]

    # then
    scams = [f for s, f in flagged if s]
    honest = [f for s, f in flagged if not s]
    recall = sum(scams) / len(scams)
    false_positive_rate = sum(honest) / len(honest)
    assert recall >= 0.95, recall
    assert false_positive_rate <= 0.02, false_positive_rate
