"""DESIGN.md §8: moderation before publishing, seller-rates-buyer and the double-blind reveal."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tradeguard.kernel.errors import Forbidden, TransitionNotAllowed
from tradeguard.kernel.parties import OPERATOR, Actor, Party, buyer, seller
from tradeguard.policy import build_policy
from tradeguard.reviews.errors import AlreadyRated, BuyerRatingNotAllowed
from tradeguard.reviews.model import ModerationFlag, Polarity, ReviewState
from tradeguard.reviews.ports import ReviewFilter

DAY = timedelta(days=1)
SUPPORT = Party(Actor.SUPPORT, "cs1")


def test_personal_data_is_masked_before_publishing(shop) -> None:
    # given: a review naming a phone number, an ID number, an email and an address
    text = "卖家电话13812345678，身份证11010519491231002X，邮箱a.b@example.com，寄到杭州市西湖区文三路90号"
    # when
    review = shop.reviewed(text=text)
    # then: none of it is stored or shown; the review is published
    stored = shop.app.reviews.get(review.id, OPERATOR).review
    for secret in ("13812345678", "11010519491231002X", "a.b@example.com", "文三路90号"):
        assert secret not in stored.text
    assert stored.state == ReviewState.PUBLISHED


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        ("垃圾卖家，骗子", ModerationFlag.INSULT),
        ("what an idiot", ModerationFlag.INSULT),
        ("好评返现，加微信", ModerationFlag.SPAM),
        ("cheaper at http://cheap-copies.example/x", ModerationFlag.LINK),
    ],
)
def test_insults_spam_and_links_hold_the_review_for_staff(shop, text, flag) -> None:
    # when
    review = shop.reviewed(text=text)
    # then: held, not counted, in the staff queue
    assert review.state == ReviewState.PENDING
    assert flag in review.flags
    assert shop.points() == 0
    queue = shop.app.reviews.find(SUPPORT, ReviewFilter(state=ReviewState.PENDING))
    assert [v.review.id for v in queue] == [review.id]


def test_staff_publish_a_held_review_and_the_decision_is_recorded(shop) -> None:
    # given
    review = shop.reviewed(text="idiot courier, but fine")
    # when
    published = shop.app.reviews.decide(review.id, SUPPORT, approve=True, note="about the courier")
    # then
    assert published.state == ReviewState.PUBLISHED
    assert shop.points() == 1
    [decision] = shop.app.reviews.decisions(review.id, SUPPORT)
    assert (decision.decision, decision.staff, decision.note) == (
        "approve",
        "support:cs1",
        "about the courier",
    )


def test_a_rejected_review_never_counts(shop) -> None:
    review = shop.reviewed(text="加微信 返现")
    rejected = shop.app.reviews.decide(review.id, SUPPORT, approve=False, note="spam")
    assert rejected.state == ReviewState.REJECTED
    assert shop.points() == 0
    with pytest.raises(TransitionNotAllowed):
        shop.app.reviews.decide(review.id, SUPPORT, approve=True)


def test_participants_do_not_moderate(shop) -> None:
    review = shop.reviewed(text="idiot")
    for party in (buyer("b1"), seller("s1")):
        with pytest.raises(TransitionNotAllowed):
            shop.app.reviews.decide(review.id, party, approve=True)
    with pytest.raises(Forbidden):
        shop.app.reviews.decisions(review.id, seller("s1"))


def test_a_seller_rates_the_buyer_in_full_by_default(shop) -> None:
    order_id = shop.completed_order()
    rating = shop.app.reviews.rate_buyer(order_id, seller("s1"), Polarity.NEGATIVE, "rude")
    assert rating.polarity == Polarity.NEGATIVE
    with pytest.raises(AlreadyRated):
        shop.app.reviews.rate_buyer(order_id, seller("s1"), Polarity.POSITIVE)


def test_a_positive_only_policy_refuses_other_buyer_ratings(make_shop) -> None:
    shop = make_shop(policy=build_policy({"reviews": {"seller_rates_buyer": "positive_only"}}))
    order_id = shop.completed_order()
    with pytest.raises(BuyerRatingNotAllowed):
        shop.app.reviews.rate_buyer(order_id, seller("s1"), Polarity.NEUTRAL)
    assert shop.app.reviews.rate_buyer(order_id, seller("s1"), Polarity.POSITIVE)


def test_neither_side_sees_the_other_rating_until_both_rated(shop) -> None:
    # given: the buyer reviewed; the seller has not rated the buyer yet
    order_id = shop.completed_order()
    review = shop.review(order_id, 2, reason="slow")
    # then: the seller sees the review hidden, and cannot explain what it cannot see
    assert not shop.app.reviews.get(review.id, seller("s1")).revealed
    with pytest.raises(TransitionNotAllowed):
        shop.app.reviews.explain(review.id, seller("s1"), "sorry")
    # when: the seller rates the buyer
    shop.app.reviews.rate_buyer(order_id, seller("s1"), Polarity.NEUTRAL)
    # then: both see both
    assert shop.app.reviews.get(review.id, seller("s1")).revealed
    buyer_view = shop.app.reviews.get(review.id, buyer("b1"))
    assert buyer_view.buyer_rating is not None
    assert buyer_view.buyer_rating.polarity == Polarity.NEUTRAL


def test_the_buyer_does_not_see_the_sellers_rating_before_reviewing(shop) -> None:
    order_id = shop.completed_order()
    shop.app.reviews.rate_buyer(order_id, seller("s1"), Polarity.POSITIVE)
    review = shop.review(order_id)
    # both have rated now: revealed
    assert shop.app.reviews.get(review.id, buyer("b1")).buyer_rating is not None


def test_ratings_are_revealed_when_the_window_ends(shop) -> None:
    # given: only the buyer rated
    order_id = shop.completed_order()
    review = shop.review(order_id)
    assert shop.app.reviews.public("s1") == []
    # when: the window ends
    shop.advance(15 * DAY)
    # then: the seller and the public see it, without the reviewer
    assert shop.app.reviews.get(review.id, seller("s1")).revealed
    [public] = shop.app.reviews.public("s1")
    assert public.review.id == review.id
    assert not public.show_buyer


def test_the_public_page_skips_hidden_reviews_without_coming_up_short(shop) -> None:
    # given: three revealed reviews, then two newer ones still under the double-blind
    for n in range(3):
        order_id = shop.completed_order(buyer_id=f"old{n}")
        shop.review(order_id, buyer_id=f"old{n}")
        shop.app.reviews.rate_buyer(order_id, seller("s1"), Polarity.POSITIVE)
    for n in range(2):
        shop.reviewed(buyer_id=f"new{n}")
    # when: a page of two is asked for
    page = shop.app.reviews.public("s1", limit=2)
    # then: two revealed reviews, not fewer
    assert len(page) == 2
    assert all(not view.show_buyer for view in page)
