"""The simulator's honest reviewers (issue 6): mostly positive ratings, and seed 000's revision."""

from __future__ import annotations

from tradeguard.adapters.sim.reviewers import Reviewers
from tradeguard.adapters.sim.simulator import SimulationConfig, Simulator

CONFIG = SimulationConfig(days=26, buyers=16, sellers=3, seed=4, never_confirming_buyer_share=0.2)


def test_honest_buyers_rate_mostly_positive_and_unrated_orders_get_the_default(app, clock) -> None:
    # when
    summary = Simulator(app, clock, CONFIG, [Reviewers()]).run().as_dict()
    # then
    reviews = summary["reviews"]
    distribution = reviews["rating_distribution"]
    assert reviews["reviews"] > 0
    assert distribution["5"] + distribution["4"] > reviews["reviews"] / 2
    assert reviews["by_origin"].get("default", 0) > 0  # never-confirming buyers, window ended
    assert set(reviews["seller_levels"]) <= {"none", "heart_1", "heart_2", "heart_3"}
    assert summary["ledger_ok"]


def test_seed_000_buyers_raise_their_rating_once_the_goods_work(app, clock) -> None:
    # given: every reviewer is impatient
    behaviour = Reviewers(impatient_share=1.0, follow_up_share=0.0)
    # when
    summary = Simulator(app, clock, CONFIG, [behaviour]).run().as_dict()
    # then: their 2-star ratings became 5 stars
    reviews = summary["reviews"]
    assert reviews["revised_upward"] > 0
    assert reviews["rating_distribution"]["2"] < reviews["revised_upward"]
