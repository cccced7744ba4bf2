"""The paired A/B tool reads one figure per run and judges pairs, not single figures."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).parents[3] / "benchmarks" / "ab.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("benchmark_ab", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the class is made
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


ab = _load()


def test_the_figure_is_read_from_the_last_json_object_a_run_printed() -> None:
    output = 'incremental: 930 reviews/s\n{"reviews_per_s": 12.5}\n{"reviews_per_s": 1401.5}\n'
    assert ab.figure(output, "reviews_per_s") == 1401.5


def test_a_run_without_the_figure_is_an_error_not_a_zero() -> None:
    with pytest.raises(ValueError, match="no number under 'reviews_per_s'"):
        ab.figure('{"recompute_10m_s": 51.5}', "reviews_per_s")
    with pytest.raises(ValueError, match="no JSON object"):
        ab.figure("Traceback (most recent call last): ...", "reviews_per_s")


def test_the_summary_counts_the_pairs_the_working_tree_won() -> None:
    pairs = [ab.Pair(1000, 1100), ab.Pair(1200, 1150), ab.Pair(900, 990)]
    result = ab.summary(pairs)
    assert result["b_won"] == 2
    assert result["rounds"] == 3
    assert result["median_b_over_a"] == 1.1


def test_for_a_time_lower_is_better() -> None:
    pairs = [ab.Pair(50.0, 40.0), ab.Pair(52.0, 55.0)]
    assert ab.summary(pairs, higher_is_better=False)["b_won"] == 1
