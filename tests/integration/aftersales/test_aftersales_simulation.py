"""The after-sales parties of the simulator (issue 4): they run through the real services and
the worker, every outcome shows up in the summary, and the ledger stays sound."""

from __future__ import annotations

from tradeguard.adapters.sim.aftersales import AfterSalesBehaviour
from tradeguard.adapters.sim.simulator import SimulationConfig, Simulator


def test_simulated_returners_swappers_silent_and_vanishing_sellers_keep_the_ledger_sound(
    app, clock
) -> None:
    # given
    config = SimulationConfig(days=21, buyers=120, sellers=12, seed=3)
    # when
    summary = Simulator(app, clock, config, [AfterSalesBehaviour()]).run()
    # then
    figures = summary.behaviours["aftersales"]
    assert summary.ledger_violations == []
    assert figures["refund_requests"] == sum(figures["refunds_by_outcome"].values()) > 0
    assert figures["refunds_by_outcome"].get("refunded", 0) > 0
    assert figures["instant_refunds"] > 0
    assert figures["swapped_returns_flagged"] > 0
    assert figures["advanced_minor"] >= figures["recovered_minor"] >= 0
