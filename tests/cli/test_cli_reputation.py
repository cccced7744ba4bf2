"""``tradeguard reputation``: recompute, show a seller, check a registration number."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import Result
from typer.testing import CliRunner

from tradeguard.adapters.cli.main import cli


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def test_a_valid_credit_code_passes_and_a_corrupted_one_fails_in_one_line() -> None:
    assert _invoke("reputation", "check-code", "91350100M000100Y43").exit_code == 0
    result = _invoke("reputation", "check-code", "91350100M000100Y44")
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("error: ")
    assert len(result.stderr.strip().splitlines()) == 1


def test_recompute_and_show_a_seller_after_a_simulation(tmp_path: Path) -> None:
    # given: a simulated marketplace with reviews
    db = f"sqlite:///{tmp_path / 'sim.db'}"
    args = ("--days", "20", "--buyers", "15", "--sellers", "2", "--seed", "2", "--json")
    assert _invoke("simulate", *args, "--db", db).exit_code == 0
    # when
    recomputed = _invoke("reputation", "recompute", "--db", db)
    shown = _invoke("reputation", "seller", "sim-s0", "--db", db)
    # then
    assert recomputed.exit_code == 0, recomputed.output
    assert "recomputed" in recomputed.stdout
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["seller_id"] == "sim-s0"
