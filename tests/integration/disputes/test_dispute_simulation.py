"""DESIGN.md §15: the simulated dispute abusers meet the rules of §6 on an accelerated clock."""

from __future__ import annotations

from tradeguard.adapters.sim.disputes import DisputeBehaviour
from tradeguard.adapters.sim.simulator import SimulationConfig, Simulator


def test_simulated_abusers_lose_and_wronged_buyers_win(app, clock) -> None:
    # given: a small market where many buyers and shops abuse complaints
    behaviour = DisputeBehaviour(
        false_complainer_share=0.3,
        fake_screenshot_share=0.2,
        promise_breaker_share=0.4,
        harasser_share=0.3,
    )
    config = SimulationConfig(days=12, buyers=30, sellers=6, seed=11, virtual_seller_share=0.4)
    # when
    summary = Simulator(app, clock, config, [behaviour]).run().as_dict()
    figures = summary["disputes"]
    # then: every false "not shipped" complaint on delivered top-ups was dismissed
    seed002 = {k for k in figures if k.startswith("seed002_complainer_")}
    assert seed002 == {"seed002_complainer_dismissed"}
    # and: a doctored payment screenshot never counted
    assert figures["fake_screenshots_counted_as_payment"] == 0
    assert figures["cases_filed"] > 0
    # and: buyers who quoted a broken promise won
    assert {k for k in figures if k.startswith("promise_victim_")} <= {"promise_victim_buyer_wins"}
    assert summary["ledger_ok"]
