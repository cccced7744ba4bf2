"""Pure rules of DESIGN.md §8-9: star mapping, levels at every boundary, the caps, moderation, tables."""

from __future__ import annotations

import pytest

from tradeguard.kernel.parties import Actor
from tradeguard.reputation import rules
from tradeguard.reputation.model import BuyerHistory
from tradeguard.reputation.policy import LEVEL_NAMES, ReputationPolicy
from tradeguard.reviews.model import REVIEW_TRANSITIONS, Polarity, ReviewEvent, polarity
from tradeguard.reviews.moderation import is_chinese_id_number, mask_personal_data, screen

THRESHOLDS = ReputationPolicy().level_thresholds
#: DESIGN.md §9, by hand.
DESIGN_THRESHOLDS = [
    ("heart_1", 4), ("heart_2", 11), ("heart_3", 41), ("heart_4", 91), ("heart_5", 151),
    ("diamond_1", 251), ("diamond_2", 501), ("diamond_3", 1001), ("diamond_4", 2001), ("diamond_5", 5001),
    ("crown_1", 10001), ("crown_2", 20001), ("crown_3", 50001), ("crown_4", 100001), ("crown_5", 200001),
    ("gold_crown_1", 500001), ("gold_crown_2", 1000001), ("gold_crown_3", 2000001),
    ("gold_crown_4", 5000001), ("gold_crown_5", 10000001),
]  # fmt: skip


@pytest.mark.parametrize(("stars", "expected"), [(1, "negative"), (2, "negative"), (3, "neutral"), (4, "positive"), (5, "positive")])  # fmt: skip
def test_stars_map_to_positive_neutral_and_negative(stars, expected) -> None:
    assert polarity(stars) == Polarity(expected)


@pytest.mark.parametrize(("index", "name_and_threshold"), list(enumerate(DESIGN_THRESHOLDS)))
def test_each_level_starts_exactly_at_its_threshold(index, name_and_threshold) -> None:
    # given
    name, threshold = name_and_threshold
    below = DESIGN_THRESHOLDS[index - 1][0] if index else "none"
    # then
    assert rules.level(threshold - 1, THRESHOLDS) == below
    assert rules.level(threshold, THRESHOLDS) == name
    assert LEVEL_NAMES[index] == name


def test_level_thresholds_are_policy() -> None:
    custom = tuple(t * 2 for t in THRESHOLDS)
    assert rules.level(8, custom) == "heart_1"
    assert rules.level(7, custom) == "none"


@pytest.mark.parametrize(
    ("positive", "negative", "points"), [(6, 0, 6), (7, 0, 6), (0, 7, -6), (7, 7, 0), (3, 1, 2)]
)
def test_monthly_points_are_capped_at_6_each_way(positive, negative, points) -> None:
    assert rules.capped_points(positive, negative, 6) == points


def test_sellers_have_no_row_that_edits_or_deletes_a_review() -> None:
    seller_events = {row.event for row in REVIEW_TRANSITIONS.rows if row.actor == Actor.SELLER}
    assert seller_events == {ReviewEvent.EXPLAIN, ReviewEvent.EXPLAIN_FOLLOW_UP}


def test_only_the_buyer_follows_up_and_revises() -> None:
    for event in (ReviewEvent.FOLLOW_UP, ReviewEvent.REVISE):
        assert {r.actor for r in REVIEW_TRANSITIONS.rows if r.event == event} == {Actor.BUYER}


@pytest.mark.parametrize(
    ("number", "valid"),
    [("11010519491231002X", True), ("11010519491231002x", True), ("110105194912310021", False), ("110105194912310", False)],
)  # fmt: skip
def test_chinese_id_numbers_are_recognised_by_their_check_digit(number, valid) -> None:
    assert is_chinese_id_number(number) == valid


def test_an_id_number_with_a_wrong_check_digit_is_not_masked_as_one() -> None:
    _masked, kinds = mask_personal_data("order 110105194912310021")
    assert "id_number" not in kinds


@pytest.mark.parametrize(
    "text",
    ["call +86 138 1234 5678", "电话：13912345678", "mail me: x_y@qq.com", "寄到 221 Baker Street", "浙江省杭州市余杭区文一西路969号"],
)  # fmt: skip
def test_personal_data_is_masked(text) -> None:
    masked, kinds = mask_personal_data(text)
    assert "***" in masked
    assert kinds


def test_clean_text_is_published_untouched() -> None:
    result = screen("Fast shipping, exactly as described. 很好用！")
    assert (result.text, result.flags, result.masked) == (
        "Fast shipping, exactly as described. 很好用！",
        (),
        (),
    )


def test_operator_terms_extend_the_lists() -> None:
    assert screen("contact 店小二 privately", extra_spam=("店小二",)).is_held


def test_buyer_credit_tiers_from_history() -> None:
    from datetime import UTC, datetime

    policy = ReputationPolicy()
    now = datetime(2026, 6, 1, tzinfo=UTC)
    loyal = BuyerHistory(40, 0, 0, datetime(2024, 6, 1, tzinfo=UTC))
    serial_refunder = BuyerHistory(10, 10, 2, datetime(2026, 1, 1, tzinfo=UTC))
    score, rate, _age = rules.buyer_score(loyal, now, policy)
    assert (score, rate) == (500 + 240 + 24 * 5, 0)
    assert rules.buyer_tier(score, 40, policy) == "excellent"
    score, rate, _ = rules.buyer_score(serial_refunder, now, policy)
    assert rate == 5_000
    assert rules.buyer_tier(score, 10, policy) == "restricted"


@pytest.mark.parametrize(
    ("preset", "window_days", "repeat_days", "rates_buyer", "long_months"),
    [
        ("taobao", 15, 14, "full", 12),
        ("aliexpress", 180, 10, "full", 12),
        ("ebay", 60, 7, "positive_only", 12),
    ],
)
def test_review_numbers_join_the_presets(
    preset, window_days, repeat_days, rates_buyer, long_months
) -> None:
    from datetime import timedelta

    from tradeguard.policy import load_policy

    policy = load_policy(preset=preset)
    assert policy.reviews.window.as_timedelta() == timedelta(days=window_days)
    assert policy.reputation.repeat_window.as_timedelta() == timedelta(days=repeat_days)
    assert policy.reviews.seller_rates_buyer.value == rates_buyer
    assert policy.reputation.positive_rate_long_months == long_months
