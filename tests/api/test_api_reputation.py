"""Reviews, reputation and merchants over HTTP (issue 6): flows, public bodies, the SVG badge."""

from __future__ import annotations

from typing import Any

from tradeguard.access.model import StaffRole

USCC = "91350100M000100Y43"


def _review(api: Any, order: dict[str, Any], body: dict[str, Any], **kwargs: Any) -> Any:
    return api.post(
        f"/v1/orders/{order['id']}/review", auth=api.token("buyer:b1"), json=body, **kwargs
    )


def test_a_buyer_reviews_over_http_and_a_retry_with_the_same_key_posts_once(world) -> None:
    # given
    api = world.api
    order = world.completed_order
    headers = {"Idempotency-Key": "review-1"}
    body = {"stars": 5, "text": "great, call me on 13812345678"}
    # when
    first = api.ok(_review(api, order, body, headers=headers), 201)
    again = _review(api, order, body, headers=headers)
    # then: the replay is the stored answer, the phone number masked
    assert again.status_code == 201
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json()["id"] == first["id"]
    assert "13812345678" not in first["text"]
    assert first["state"] == "published"


def test_a_second_review_of_the_order_is_a_conflict(world) -> None:
    api = world.api
    api.ok(_review(api, world.completed_order, {"stars": 4}), 201)
    api.problem(_review(api, world.completed_order, {"stars": 5}), 409, "already_reviewed")


def test_a_low_rating_without_a_reason_is_refused_and_changes_nothing(world) -> None:
    api = world.api
    api.problem(_review(api, world.completed_order, {"stars": 2}), 422, "validation_failed")
    api.ok(_review(api, world.completed_order, {"stars": 2, "reason": "slow"}), 201)


def test_the_seller_sees_a_hidden_rating_until_it_rates_the_buyer(world) -> None:
    # given
    api = world.api
    order = world.completed_order
    review = api.ok(_review(api, order, {"stars": 3, "reason": "meh", "text": "so-so"}), 201)
    seller = api.token("seller:s1")
    # then: hidden from the seller
    hidden = api.ok(api.get(f"/v1/reviews/{review['id']}", auth=seller))
    assert (hidden["revealed"], hidden["stars"], hidden["text"]) == (False, None, None)
    # when: the seller rates the buyer
    api.ok(
        api.post(
            f"/v1/orders/{order['id']}/buyer-rating", auth=seller, json={"rating": "positive"}
        ),
        201,
    )
    # then
    shown = api.ok(api.get(f"/v1/reviews/{review['id']}", auth=seller))
    assert (shown["revealed"], shown["stars"]) == (True, 3)


def test_public_reputation_names_no_reviewer(world) -> None:
    # given: b1 reviewed s1
    api = world.api
    api.ok(_review(api, world.completed_order, {"stars": 5, "text": "good"}), 201)
    # when: anybody reads s1's public reputation and reviews
    figures = api.ok(api.get("/v1/public/sellers/s1/reputation", auth=api.NOBODY))
    reviews = api.ok(api.get("/v1/public/sellers/s1/reviews", auth=api.NOBODY))
    # then
    assert (figures["points"], figures["positive"], figures["trust_badge"]["granted"]) == (
        1,
        1,
        False,
    )
    for body in (figures, reviews):
        text = str(body)
        assert "b1" not in text
        assert world.completed_order["id"] not in text


def test_the_trust_badge_is_an_embeddable_svg_in_chinese_and_english(world) -> None:
    # given: s1 verified, enrolled and with its deposit posted
    api = world.api
    support = api.staff(StaffRole.SUPPORT).token
    body = {
        "legal_name": "Fuzhou Example Trading Co., Ltd.",
        "country": "CN",
        "registration_number": USCC,
    }
    api.ok(api.put("/v1/merchants/s1", json=body))
    api.ok(api.post("/v1/merchants/s1/decision", auth=support, json={"verify": True}))
    api.ok(api.put("/v1/merchants/s1/guarantee", json={"enrolled": True}))
    deposit = {"amount_minor": 100_000, "currency": "CNY", "reference": "bank-1"}
    api.ok(api.post("/v1/merchants/s1/deposits", json=deposit), 201)
    # when
    zh = api.get("/v1/public/sellers/s1/badge.svg?lang=zh", auth=api.NOBODY)
    en = api.get("/v1/public/sellers/s1/badge.svg", auth=api.NOBODY)
    none = api.get("/v1/public/sellers/s2/badge.svg", auth=api.NOBODY)
    # then
    assert zh.headers["content-type"].startswith("image/svg+xml")
    assert "担保认证商家" in zh.text
    assert "Guaranteed seller" in en.text
    assert "Not guaranteed" in none.text


def test_a_corrupted_credit_code_is_refused_over_http(world) -> None:
    body = {"legal_name": "Example", "country": "CN", "registration_number": "91350100M000100Y44"}
    world.api.problem(world.api.put("/v1/merchants/s1", json=body), 422, "validation_failed")


def test_review_events_join_the_order_timeline(world) -> None:
    # given
    api = world.api
    order = world.completed_order
    # when
    api.ok(_review(api, order, {"stars": 5}), 201)
    # then: the outbox holds the event, on the order's timeline (and so for webhooks)
    timeline = api.ok(api.get(f"/v1/orders/{order['id']}/timeline"))["events"]
    assert [e["type"] for e in timeline][-1] == "review.published"
