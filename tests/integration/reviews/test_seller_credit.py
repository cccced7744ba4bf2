"""DESIGN.md §9, one test per rule: points, both anti-gaming caps, levels, rates, DSR, ranking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tradeguard.kernel.parties import OPERATOR, Actor, Party
from tradeguard.reviews.model import DetailedRatings

DAY = timedelta(days=1)
RISK = Party(Actor.RISK_ANALYST, "ra1")


@pytest.mark.parametrize(("stars", "points"), [(5, 1), (4, 1), (3, 0), (2, -1), (1, -1)])
def test_a_review_gives_plus_one_zero_or_minus_one_point(shop, stars, points) -> None:
    shop.reviewed(stars)
    assert shop.points() == points


def test_the_same_buyer_gives_at_most_6_points_a_calendar_month(shop) -> None:
    # given: a buyer reviewing seven different items positively in January
    for n in range(7):
        shop.reviewed(listing_id=f"item-{n}")
    # then: only six count
    assert shop.points() == 6
    # and another buyer still counts
    shop.reviewed(buyer_id="b2", listing_id="item-0")
    assert shop.points() == 7


def test_the_monthly_cap_also_bounds_negative_points(shop) -> None:
    for n in range(8):
        shop.reviewed(1, listing_id=f"item-{n}", reason="bad")
    assert shop.points() == -6


def test_the_monthly_cap_starts_again_on_the_first_of_the_month_in_the_marketplace_zone(
    shop,
) -> None:
    # given: six positive points from b1 on 31 January 23:59 Beijing time (15:59 UTC)
    shop.clock.set(datetime(2026, 1, 31, 15, 59, tzinfo=UTC))
    for n in range(6):
        shop.reviewed(listing_id=f"jan-{n}")
    # when: one more at 23:59:30, and one at 00:00 on 1 February Beijing time
    shop.clock.set(datetime(2026, 1, 31, 15, 59, 30, tzinfo=UTC))
    shop.reviewed(listing_id="jan-6")
    assert shop.points() == 6
    shop.clock.set(datetime(2026, 1, 31, 16, 0, tzinfo=UTC))
    shop.reviewed(listing_id="feb-0")
    # then: February counts again
    assert shop.points() == 7


def test_repeated_reviews_of_the_same_item_within_14_days_count_once(shop) -> None:
    # given: a buyer reviews the same item, then again 13 days later
    first = shop.reviewed(listing_id="case")
    shop.clock.advance(13 * DAY)
    repeat = shop.reviewed(listing_id="case")
    # then: the repeat is published but does not count
    assert first.counts_for_credit
    assert not repeat.counts_for_credit
    assert shop.points() == 1
    # when: 14 days after the first, it counts again
    shop.clock.advance(DAY)
    again = shop.reviewed(listing_id="case")
    assert again.counts_for_credit
    assert shop.points() == 2


def test_the_repeat_rule_is_per_buyer(shop) -> None:
    shop.reviewed(listing_id="case")
    shop.reviewed(buyer_id="b2", listing_id="case")
    assert shop.points() == 2


def test_reaching_a_level_is_announced(shop) -> None:
    # given: three positive points from three buyers
    for n in range(3):
        shop.reviewed(buyer_id=f"b{n}")
    assert shop.app.reputation.figures("s1").level == "none"
    # when: the fourth point arrives
    shop.reviewed(buyer_id="b9")
    # then: heart 1, and a reputation.level_changed event
    assert shop.app.reputation.figures("s1").level == "heart_1"
    events = [e for e in _events(shop) if e.type == "reputation.level_changed"]
    assert [(e.data["from_level"], e.data["to_level"]) for e in events] == [("none", "heart_1")]


def test_deductions_lower_points_once_per_reference(shop) -> None:
    # given
    for n in range(5):
        shop.reviewed(buyer_id=f"b{n}")
    # when: a dispute decision deducts 3 points, delivered twice
    for _ in range(2):
        shop.app.units.run(
            lambda uow: shop.app.reputation.deduct_points(
                uow, "s1", 3, "late shipment", "dispute:d1"
            )
        )
    # then
    assert shop.points() == 2


def test_an_excluded_review_stops_counting_and_keeps_its_reason(shop) -> None:
    # given: a 1-star review from a professional bad reviewer
    review = shop.reviewed(1, reason="extortion")
    assert shop.points() == -1
    # when: a dispute finds it malicious
    excluded = shop.app.units.run(
        lambda uow: shop.app.reputation.exclude_reviews(uow, review.order_id, "malicious review")
    )
    # then
    assert excluded == 1
    stored = shop.app.reviews.get(review.id, OPERATOR).review
    assert stored.exclusion_reason == "malicious review"
    assert not stored.counted
    figures = shop.app.reputation.figures("s1")
    assert (figures.points, figures.negative, figures.excluded_reviews) == (0, 0, 1)
    # and excluding again changes nothing
    again = shop.app.units.run(
        lambda uow: shop.app.reputation.exclude_reviews(uow, review.order_id, "twice")
    )
    assert again == 0


def test_staff_exclude_a_review_with_a_reason(shop) -> None:
    review = shop.reviewed(1, reason="competitor")
    shop.app.reviews.exclude(review.id, RISK, "competitor ring (risk case rc1)")
    assert shop.points() == 0


def test_positive_rate_over_rolling_6_and_12_months(shop) -> None:
    # given: a negative review 8 months ago and two positive ones now
    shop.reviewed(1, buyer_id="b1", reason="broken")
    shop.clock.advance(240 * DAY)
    shop.reviewed(5, buyer_id="b2")
    shop.reviewed(5, buyer_id="b3")
    # when
    figures = shop.app.reputation.figures("s1")
    # then: the 6-month window no longer holds the negative one
    assert figures.positive_rate_short_bps == 10_000
    assert figures.positive_rate_long_bps == 6_666


def test_dsr_averages_over_180_days_beside_the_category_average(shop) -> None:
    # given: s1 and s2 in the same category; an old s1 rating leaves the window
    shop.app.reputation.set_category("s1", "phones")
    shop.app.reputation.set_category("s2", "phones")
    shop.reviewed(detailed=DetailedRatings(1, 1, 1), buyer_id="b0")
    shop.clock.advance(181 * DAY)
    shop.reviewed(detailed=DetailedRatings(5, 4, 3), buyer_id="b1")
    shop.reviewed(detailed=DetailedRatings(3, 2, 1), buyer_id="b2", seller_id="s2")
    # when
    figures = shop.app.reputation.figures("s1")
    # then
    assert figures.dsr is not None
    assert figures.category_dsr is not None
    assert (
        figures.dsr.item_as_described,
        figures.dsr.communication,
        figures.dsr.shipping_speed,
    ) == (
        5.0,
        4.0,
        3.0,
    )
    assert (figures.category_dsr.item_as_described, figures.category_dsr.ratings) == (4.0, 2)


def test_category_figures_are_reused_for_their_max_age_then_summed_afresh(shop) -> None:
    # given: s1 and s2 in one category, and s1's figures read once
    shop.app.reputation.set_category("s1", "phones")
    shop.app.reputation.set_category("s2", "phones")
    shop.reviewed(detailed=DetailedRatings(5, 5, 5), buyer_id="b1")
    first = shop.app.reputation.figures("s1").category_dsr
    assert first is not None
    assert first.ratings == 1
    # when: s2 is rated a moment later
    shop.reviewed(detailed=DetailedRatings(1, 1, 1), buyer_id="b2", seller_id="s2")
    # then: the category's sums are reused while they are young, s2's own figures are current
    again = shop.app.reputation.figures("s1").category_dsr
    assert again == first
    s2 = shop.app.reputation.figures("s2")
    assert s2.dsr is not None
    assert s2.dsr.ratings == 1
    # and once they reach the policy's max age they are summed afresh
    shop.clock.advance(timedelta(seconds=shop.app.reputation.policy.category_figures_max_age_s))
    later = shop.app.reputation.figures("s1").category_dsr
    assert later is not None
    assert (later.ratings, later.item_as_described) == (2, 3.0)


def test_store_age_and_reviews_to_sales_ratio(shop) -> None:
    # given: two completed sales, one reviewed, 30 days ago
    shop.completed_order()
    shop.reviewed()
    shop.clock.advance(30 * DAY)
    # when
    figures = shop.app.reputation.figures("s1")
    # then
    assert figures.store_age_days == 30
    assert figures.completed_orders == 2
    assert figures.reviews_to_sales_bps == 5_000


def test_the_ranking_score_shrinks_toward_the_category_mean(shop) -> None:
    # given: an established seller with many 3-star reviews, and a newcomer with one 5-star review
    for n in range(20):
        shop.reviewed(3, buyer_id=f"b{n}", seller_id="s2", reason="ok")
    shop.reviewed(5, buyer_id="bx")
    # when
    newcomer = shop.app.reputation.figures("s1").ranking_score
    established = shop.app.reputation.figures("s2").ranking_score
    # then: one 5-star review does not make the newcomer a 5-star shop
    assert newcomer is not None
    assert established is not None
    assert 3.0 < newcomer < 3.5  # (10 x 3.10 + 5) / 11
    assert 3.0 <= established < 3.1


def _events(shop):
    from sqlalchemy import select

    from tradeguard.adapters.storage.tables.events import outbox_events

    with shop.app.engine.connect() as conn:
        rows = conn.execute(select(outbox_events).order_by(outbox_events.c.sequence)).all()
    return rows


def test_a_recomputation_repairs_figures_that_went_wrong(shop) -> None:
    # given: figures kept incrementally for two sellers
    from sqlalchemy import text

    shop.reviewed(5, detailed=DetailedRatings(5, 5, 4))
    shop.reviewed(2, buyer_id="b2", reason="late")
    shop.reviewed(4, seller_id="s2")
    right = shop.app.units.run(lambda uow: uow.reputation.snapshot())
    # when: rows are damaged (a wrong count, a lost day, a stray row) and the figures recomputed
    with shop.app.engine.begin() as conn:
        conn.execute(text("UPDATE reputation_pair_months SET positive = 99 WHERE buyer_id = 'b1'"))
        conn.execute(text("DELETE FROM reputation_days WHERE seller_id = 's2'"))
        conn.execute(
            text(
                "INSERT INTO reputation_pair_months (seller_id, buyer_id, month, positive, negative)"
                " VALUES ('s1', 'ghost', '2020-01', 3, 0)"
            )
        )
        conn.execute(text("UPDATE seller_reputation SET review_points = 1000"))
    shop.app.reputation.recompute(sellers_per_unit=1)
    # then: every row is what the reviews say again, and the stray row is gone
    assert shop.app.units.run(lambda uow: uow.reputation.snapshot()) == right
    with shop.app.engine.connect() as conn:
        stray = "SELECT count(*) FROM reputation_pair_months WHERE buyer_id = 'ghost'"
        assert conn.execute(text(stray)).scalar() == 0


def test_a_recomputation_over_right_figures_leaves_them_as_they_are(shop) -> None:
    from sqlalchemy import text

    # given: right figures, among them a buyer's neutral-only month (a row of zeros)
    shop.reviewed(5, detailed=DetailedRatings(5, 5, 4))
    shop.reviewed(3, buyer_id="b2", reason="so-so")
    right = shop.app.units.run(lambda uow: uow.reputation.snapshot())
    versions = (
        "SELECT string_agg(xmin::text, ',' ORDER BY seller_id, buyer_id, month) "
        "FROM reputation_pair_months"
    )
    before = None
    if shop.app.engine.dialect.name == "postgresql":
        with shop.app.engine.connect() as conn:
            before = conn.execute(text(versions)).scalar()
    # and: a stray row, which the rebuild removes
    with shop.app.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO reputation_pair_months (seller_id, buyer_id, month, positive, negative)"
                " VALUES ('s1', 'ghost', '2020-01', 3, 0)"
            )
        )
    # when
    shop.app.reputation.recompute()
    # then: the same figures, and on PostgreSQL not one right bucket row was written again
    assert shop.app.units.run(lambda uow: uow.reputation.snapshot()) == right
    if before is not None:
        with shop.app.engine.connect() as conn:
            assert conn.execute(text(versions)).scalar() == before
        assert before.count(",") == 1  # both pair-months, the neutral one too


def test_a_range_refused_as_a_duplicate_is_rebuilt_again(shop, monkeypatch) -> None:
    # given: two sellers' figures, and a rebuild whose first range collides with a review
    # counted meanwhile (the unit is refused as a duplicate)
    from tradeguard.kernel.errors import AlreadyExists

    shop.reviewed(5)
    shop.reviewed(4, seller_id="s2")
    right = shop.app.units.run(lambda uow: uow.reputation.snapshot())
    units = shop.app.reputation._units
    real_run = units.run
    calls: list[int] = []

    def run(work):
        calls.append(1)
        if len(calls) == 2:  # the first range's first attempt (call 1 lists the sellers)
            raise AlreadyExists("a bucket row was just created", constraint="pk")
        return real_run(work)

    monkeypatch.setattr(units, "run", run)
    # when
    rebuilt = shop.app.reputation.recompute(sellers_per_unit=1, workers=1)
    # then: that range was rebuilt again and every seller counted once
    assert rebuilt == 2
    assert len(calls) == 1 + 2 + 1
    assert shop.app.units.run(lambda uow: uow.reputation.snapshot()) == right
