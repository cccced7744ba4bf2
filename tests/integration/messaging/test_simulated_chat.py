"""The simulator's chat: ordinary talk passes, phishing "customer service" is flagged (seed 001)."""

from __future__ import annotations

from tradeguard.adapters.sim.messaging import MessagingBehaviour
from tradeguard.adapters.sim.simulator import SimulationConfig, Simulator
from tradeguard.bootstrap import App
from tradeguard.kernel.clock import FakeClock


def test_simulated_phishing_is_flagged_and_honest_chat_is_not(app: App, clock: FakeClock) -> None:
    # given
    config = SimulationConfig(days=4, buyers=30, sellers=5, seed=11)

    # when
    summary = Simulator(app, clock, config, [MessagingBehaviour()]).run().as_dict()

    # then
    chat = summary["messaging"]
    assert chat["messages"] > chat["phishing_sent"] > 0
    assert chat["flagged_phishing"] == chat["phishing_sent"]
    assert chat["flagged_honest"] == 0
    assert chat["chains_broken"] == 0
    assert summary["ledger_ok"] is True
