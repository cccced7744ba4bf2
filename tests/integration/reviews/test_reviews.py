"""DESIGN.md §8, one test per rule: who reviews what and when, follow-ups, explanations, revisions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tradeguard.kernel.errors import Forbidden, NotFound, TransitionNotAllowed, ValidationFailed
from tradeguard.kernel.parties import OPERATOR, Actor, Party, buyer, seller
from tradeguard.policy import build_policy
from tradeguard.reviews.errors import AlreadyReviewed, NotReviewable
from tradeguard.reviews.model import DetailedRatings, Photo, Polarity, ReviewOrigin, ReviewState

DAY = timedelta(days=1)
ARBITRATOR = Party(Actor.ARBITRATOR, "arb1")
PHOTO = Photo("a" * 64, "image/jpeg", 120_000)


def test_only_the_buyer_of_a_completed_order_may_review_it(shop) -> None:
    # given: a completed order of b1, and a paid one not yet received
    order_id = shop.completed_order()
    # when / then: another buyer does not see it, a seller may not review it
    with pytest.raises(NotFound):
        shop.app.reviews.post(order_id, buyer("b2"), stars=5)
    with pytest.raises(Forbidden):
        shop.app.reviews.post(order_id, seller("s1"), stars=5)
    # and: the buyer may
    review = shop.review(order_id)
    assert review.state == ReviewState.PUBLISHED
    assert review.counted


def test_an_order_not_completed_cannot_be_reviewed(shop) -> None:
    # given: an order paid but not yet shipped
    shop.completed_order()  # registers the listing
    checkout = shop.app.orders.create_checkout("b1", "CNY", [_line()], None)
    order = checkout.orders[0]
    # when / then
    with pytest.raises(NotReviewable):
        shop.review(order.id)


def test_the_review_window_ends_15_days_after_completion(shop) -> None:
    # given: two orders completed now
    early, late = shop.completed_order(), shop.completed_order()
    # when: one is reviewed just inside the window, the other at its end
    shop.clock.advance(15 * DAY - timedelta(seconds=1))
    assert shop.review(early).state == ReviewState.PUBLISHED
    shop.clock.advance(timedelta(seconds=1))
    # then
    with pytest.raises(NotReviewable):
        shop.review(late)


def test_an_unrated_order_gets_the_default_positive_rating_when_the_window_ends(shop) -> None:
    # given: a completed order nobody reviews
    order_id = shop.completed_order()
    # when: the review window passes and the worker runs
    shop.advance(15 * DAY)
    # then: a default 5-star review counts for the seller
    view = shop.app.reviews.for_order(order_id, OPERATOR)
    assert view.review.origin == ReviewOrigin.DEFAULT
    assert view.review.polarity == Polarity.POSITIVE
    assert shop.points() == 1


def test_the_default_rating_may_be_none(make_shop) -> None:
    # given: a policy whose default rating is none
    shop = make_shop(policy=build_policy({"reviews": {"default_rating": "none"}}))
    order_id = shop.completed_order()
    # when
    shop.advance(15 * DAY)
    # then: nothing was rated
    with pytest.raises(NotFound):
        shop.app.reviews.for_order(order_id, OPERATOR)
    assert shop.points() == 0


def test_a_buyer_reviews_an_order_once(shop) -> None:
    # given
    order_id = shop.completed_order()
    shop.review(order_id)
    # when / then
    with pytest.raises(AlreadyReviewed):
        shop.review(order_id, 4)


@pytest.mark.parametrize("stars", [1, 2, 3])
def test_neutral_and_negative_ratings_need_a_reason(shop, stars) -> None:
    # given
    order_id = shop.completed_order()
    # when / then
    with pytest.raises(ValidationFailed):
        shop.review(order_id, stars, reason="  ")
    assert shop.review(order_id, stars, reason="arrived broken").polarity != Polarity.POSITIVE


@pytest.mark.parametrize("stars", [0, 6])
def test_the_overall_rating_is_one_to_five_stars(shop, stars) -> None:
    order_id = shop.completed_order()
    with pytest.raises(ValidationFailed):
        shop.review(order_id, stars, reason="x")


def test_detailed_seller_ratings_are_one_to_five(shop) -> None:
    order_id = shop.completed_order()
    with pytest.raises(ValidationFailed):
        shop.review(order_id, detailed=DetailedRatings(5, 0, 5))
    review = shop.review(order_id, detailed=DetailedRatings(5, 4, 3))
    assert review.detailed == DetailedRatings(5, 4, 3)


def test_photos_are_sha256_references_with_checked_type_and_size(shop) -> None:
    order_id = shop.completed_order()
    for bad in (
        Photo("not-a-hash", "image/jpeg", 10),
        Photo("b" * 64, "application/x-msdownload", 10),
        Photo("b" * 64, "image/png", 50 * 1024 * 1024),
    ):
        with pytest.raises(ValidationFailed):
            shop.review(order_id, photos=(bad,))
    review = shop.review(order_id, photos=(PHOTO,))
    assert shop.app.reviews.get(review.id, OPERATOR).review.photos == (PHOTO,)


def test_an_anonymous_review_does_not_name_the_buyer_to_the_seller(shop) -> None:
    # given: an anonymous review the seller may see (it rated the buyer)
    order_id = shop.completed_order()
    review = shop.review(order_id, is_anonymous=True)
    shop.app.reviews.rate_buyer(order_id, seller("s1"), Polarity.POSITIVE)
    # when
    view = shop.app.reviews.get(review.id, seller("s1"))
    # then
    assert view.revealed
    assert not view.show_buyer


def test_one_follow_up_within_180_days_of_completion(shop) -> None:
    # given: two reviewed orders
    first, second = shop.reviewed(), shop.reviewed()
    # when: one follows up on day 179, the other on day 180
    shop.clock.advance(180 * DAY - timedelta(seconds=1))
    followed = shop.app.reviews.follow_up(first.id, buyer("b1"), "still works", (PHOTO,))
    shop.clock.advance(timedelta(seconds=1))
    # then
    assert followed.follow_up_text == "still works"
    with pytest.raises(TransitionNotAllowed):
        shop.app.reviews.follow_up(second.id, buyer("b1"), "late")
    with pytest.raises(TransitionNotAllowed):  # and only one
        shop.app.reviews.follow_up(first.id, buyer("b1"), "again")


def test_the_seller_explains_once_per_review_and_once_per_follow_up(shop) -> None:
    # given: a revealed review with a follow-up
    order_id = shop.completed_order()
    review = shop.review(order_id, 2, reason="slow")
    shop.app.reviews.rate_buyer(order_id, seller("s1"), Polarity.POSITIVE)
    shop.app.reviews.follow_up(review.id, buyer("b1"), "still slow")
    # when
    shop.app.reviews.explain(review.id, seller("s1"), "courier strike that week")
    explained = shop.app.reviews.explain(review.id, seller("s1"), "sorry", on_follow_up=True)
    # then
    assert explained.explanation == "courier strike that week"
    assert explained.follow_up_explanation == "sorry"
    for on_follow_up in (False, True):
        with pytest.raises(TransitionNotAllowed):
            shop.app.reviews.explain(review.id, seller("s1"), "edit", on_follow_up=on_follow_up)


def test_another_seller_cannot_touch_the_review(shop) -> None:
    review = shop.reviewed()
    with pytest.raises(NotFound):
        shop.app.reviews.explain(review.id, seller("s2"), "fake")


def test_the_buyer_revises_a_negative_rating_upward_once_within_30_days(shop) -> None:
    # given: seed 000 — a 1-star review while the parcel was late
    review = shop.reviewed(1, reason="parcel not here")
    assert shop.points() == -1
    # when: the parcel arrives and the buyer raises it
    shop.clock.advance(10 * DAY)
    revised = shop.app.reviews.revise(review.id, buyer("b1"), 5, text="arrived, great")
    # then: it counts as positive, the original is kept, and it cannot be revised again
    assert (revised.stars, revised.original_stars) == (5, 1)
    assert shop.points() == 1
    with pytest.raises(TransitionNotAllowed):
        shop.app.reviews.revise(review.id, buyer("b1"), 5)


def test_a_revision_is_never_downward(shop) -> None:
    review = shop.reviewed(3, reason="ok")
    with pytest.raises(TransitionNotAllowed):
        shop.app.reviews.revise(review.id, buyer("b1"), 2, reason="worse")
    with pytest.raises(TransitionNotAllowed):
        shop.app.reviews.revise(review.id, buyer("b1"), 3)


def test_a_positive_rating_is_not_revised(shop) -> None:
    review = shop.reviewed(4)
    with pytest.raises(TransitionNotAllowed):
        shop.app.reviews.revise(review.id, buyer("b1"), 5)


def test_a_revision_comes_within_30_days(shop) -> None:
    review = shop.reviewed(2, reason="slow")
    shop.clock.advance(30 * DAY)
    with pytest.raises(TransitionNotAllowed):
        shop.app.reviews.revise(review.id, buyer("b1"), 5)


def test_a_seller_can_never_edit_or_delete_a_review(shop) -> None:
    # given
    review = shop.reviewed(2, reason="slow")
    # when / then: a seller may not revise, decide or exclude
    with pytest.raises(TransitionNotAllowed):
        shop.app.reviews.revise(review.id, seller("s1"), 5)
    with pytest.raises(TransitionNotAllowed):
        shop.app.reviews.exclude(review.id, seller("s1"), "I dislike it")
    assert shop.app.reviews.get(review.id, OPERATOR).review.stars == 2


def _line():
    from tradeguard.orders.rules import CartLine

    return CartLine("s1-item", 1, 5_000)
