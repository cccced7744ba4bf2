"""What every request goes through (DESIGN.md §15), and the operational endpoints.

Errors are RFC 9457 problem documents; X-Request-Id is echoed or made up;
Idempotency-Key replays, refuses or runs a POST per the IETF draft; callers are
rate limited; credentials are checked, revoked and expired; /healthz, /readyz,
/metrics, /openapi.json and /problems/{code} describe the service.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import fastapi.routing
import jwt
import pytest

from tradeguard.access.model import Scope, StaffRole
from tradeguard.adapters.api import auth as auth_module
from tradeguard.adapters.api.app import create_api
from tradeguard.adapters.api.auth import Authenticator
from tradeguard.adapters.api.problems import ApiProblem
from tradeguard.adapters.storage.idempotency import fingerprint_of
from tradeguard.policy import build_policy

CNY = "CNY"
AUTH_CACHE_S = 2.1  # a revoked key or disabled account stops working within 2 seconds


def checkout(buyer_id: str = "b7", listing_id: str = "phys-s1", price: int = 1_000) -> dict:
    return {
        "buyer_id": buyer_id,
        "currency": CNY,
        "lines": [{"listing_id": listing_id, "quantity": 1, "unit_price_minor": price}],
    }


def orders_of(api: Any, buyer_id: str) -> list[dict]:
    page = api.ok(api.get("/v1/orders", params={"buyer_id": buyer_id}))
    data: list[dict] = page["data"]
    return data


# -- problem documents ----------------------------------------------------------------------------

Case = Callable[[Any], Any]  # World -> Response


def _no_credentials(world: Any) -> Any:
    return world.api.get("/v1/orders", auth=world.api.NOBODY)


def _unknown_key(world: Any) -> Any:
    return world.api.get("/v1/orders", auth="tgk_000000000000_not-a-real-secret")


def _missing_scope(world: Any) -> Any:
    return world.api.get("/v1/orders", auth=world.api.key(Scope.TOKENS))


def _wrong_role(world: Any) -> Any:
    body = {"amount_minor": 1, "currency": CNY}
    return world.api.post("/v1/payouts", auth=world.api.token("buyer:b1"), json=body)


def _foreign_order(world: Any) -> Any:
    return world.api.get(f"/v1/orders/{world.order['id']}", auth=world.api.token("buyer:b2"))


def _unknown_order(world: Any) -> Any:
    return world.api.get("/v1/orders/ord_00000000000000000000000000")


def _unknown_route(world: Any) -> Any:
    return world.api.get("/v1/no-such-thing")


def _wrong_method(world: Any) -> Any:
    return world.api.delete("/v1/orders")


def _wrong_state(world: Any) -> Any:
    return world.api.post(
        f"/v1/orders/{world.order['id']}/confirm-receipt", auth=world.api.token("buyer:b1")
    )


def _oversized(world: Any) -> Any:
    body = json.dumps({**checkout(), "padding": "x" * 1_000_001})
    return world.api.post(
        "/v1/checkouts", content=body, headers={"content-type": "application/json"}
    )


def _invalid_body(world: Any) -> Any:
    body = {"buyer_id": "b7", "currency": "cny", "lines": [], "coupon": "FREE"}
    return world.api.post("/v1/checkouts", json=body)


def _over_purchase_limit(world: Any) -> Any:
    world.api.listing("topup-s1", "s1", "virtual", purchase_limit=1)
    body = checkout("b7", "topup-s1", 90)
    body["lines"][0]["quantity"] = 2
    return world.api.post("/v1/checkouts", json=body)


PROBLEM_CASES = [
    (_no_credentials, 401, "unauthenticated"),
    (_unknown_key, 401, "invalid_credentials"),
    (_missing_scope, 403, "missing_scope"),
    (_wrong_role, 403, "forbidden"),
    (_foreign_order, 404, "not_found"),
    (_unknown_order, 404, "not_found"),
    (_unknown_route, 404, "not_found"),
    (_wrong_method, 405, "method_not_allowed"),
    (_wrong_state, 409, "transition_not_allowed"),
    (_oversized, 413, "payload_too_large"),
    (_invalid_body, 422, "validation_failed"),
    (_over_purchase_limit, 422, "purchase_limit_exceeded"),
]


@pytest.mark.parametrize(
    ("case", "status", "code"),
    PROBLEM_CASES,
    ids=[f"{status}-{case.__name__.strip('_')}" for case, status, _ in PROBLEM_CASES],
)
def test_every_error_is_a_problem_document(world, case: Case, status: int, code: str) -> None:
    # when
    response = case(world)
    # then: RFC 9457, with a type that documents itself
    body = world.api.problem(response, status, code)
    described = world.api.ok(world.api.get(body["type"], auth=world.api.NOBODY))
    assert described["code"] == code


def test_a_401_challenges_for_a_bearer_token(world) -> None:
    # when
    response = _no_credentials(world)
    # then
    assert response.headers["www-authenticate"] == 'Bearer realm="tradeguard"'


def test_a_405_names_the_allowed_methods(world) -> None:
    # when
    response = _wrong_method(world)
    # then
    assert response.headers["allow"] == "GET"


def test_a_validation_error_lists_each_offending_field(world) -> None:
    # when
    body = world.api.problem(_invalid_body(world), 422, "validation_failed")
    # then
    fields = {error["field"] for error in body["errors"]}
    assert fields == {"body.currency", "body.lines", "body.coupon"}
    assert all(error["message"] for error in body["errors"])
    assert "body.currency" in body["detail"]


def test_a_purchase_over_the_limit_says_how_many_were_bought(world) -> None:
    # when
    body = world.api.problem(_over_purchase_limit(world), 422, "purchase_limit_exceeded")
    # then
    assert body["details"] == {"listing_id": "topup-s1", "limit": 1, "already": 0, "requested": 2}
    assert orders_of(world.api, "b7") == []


def test_a_malformed_body_without_credentials_is_refused_as_unauthenticated(api) -> None:
    # when
    response = api.post(
        "/v1/checkouts",
        auth=api.NOBODY,
        content=b'{"buyer_id": ',
        headers={"content-type": "application/json"},
    )
    # then: STYLE.md §3.7, authentication comes first
    api.problem(response, 401, "unauthenticated")


def test_an_oversized_chunked_body_is_refused(world) -> None:
    # given: a valid checkout padded past 1 MB, streamed without a Content-Length
    body = (b" " * 1_100_000) + json.dumps(checkout()).encode()

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    # when
    response = world.api.post(
        "/v1/checkouts", content=chunks(), headers={"content-type": "application/json"}
    )
    # then
    assert "content-length" not in response.request.headers
    world.api.problem(response, 413, "payload_too_large")


# -- request ids ----------------------------------------------------------------------------------


def test_a_valid_incoming_request_id_is_echoed(world) -> None:
    # when
    ok = world.api.get("/v1/orders", headers={"X-Request-Id": "shop-req.42_a-b"})
    refused = world.api.get(
        "/v1/orders", auth=world.api.NOBODY, headers={"X-Request-Id": "shop-req.43"}
    )
    # then
    assert ok.status_code == 200
    assert ok.headers["x-request-id"] == "shop-req.42_a-b"
    assert refused.headers["x-request-id"] == "shop-req.43"
    assert refused.json()["request_id"] == "shop-req.43"


def test_an_invalid_or_missing_request_id_is_replaced(world) -> None:
    for incoming in ("has spaces in it", "x" * 129, "semi;colon", "ünïcode", None):
        # when
        headers = {"X-Request-Id": incoming.encode()} if incoming else {}
        response = world.api.get(f"/v1/orders/{world.order['id']}x", headers=headers)
        # then: a generated id, the same in the header and in the problem
        generated = response.headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", generated), incoming
        assert response.json()["request_id"] == generated


def test_every_response_gets_its_own_request_id(world) -> None:
    # when
    ids = {world.api.get("/healthz").headers["x-request-id"] for _ in range(3)}
    # then
    assert len(ids) == 3


# -- Idempotency-Key ------------------------------------------------------------------------------


def test_same_key_and_body_replay_the_response_and_create_one_checkout(world) -> None:
    # given
    api, headers = world.api, {"Idempotency-Key": "checkout-7f3a"}
    # when
    first = api.post("/v1/checkouts", json=checkout(), headers=headers)
    second = api.post("/v1/checkouts", json=checkout(), headers=headers)
    # then
    assert first.status_code == second.status_code == 201
    assert "idempotent-replayed" not in first.headers
    assert second.headers["idempotent-replayed"] == "true"
    assert second.headers["content-type"] == "application/json"
    assert second.json() == first.json()
    assert second.headers["x-request-id"] != first.headers["x-request-id"]
    assert [o["id"] for o in orders_of(api, "b7")] == [first.json()["orders"][0]["id"]]


def test_a_body_with_reordered_keys_is_the_same_request(world) -> None:
    # given
    api, headers = world.api, {"Idempotency-Key": "reorder-1", "content-type": "application/json"}
    body = checkout()
    reordered = {key: body[key] for key in reversed(list(body))}
    assert json.dumps(reordered) != json.dumps(body)
    # when
    first = api.post("/v1/checkouts", content=json.dumps(body), headers=headers)
    second = api.post("/v1/checkouts", content=json.dumps(reordered, indent=2), headers=headers)
    # then
    assert first.status_code == second.status_code == 201
    assert second.headers["idempotent-replayed"] == "true"
    assert len(orders_of(api, "b7")) == 1


def test_same_key_with_another_body_is_refused(world) -> None:
    # given
    api, headers = world.api, {"Idempotency-Key": "checkout-reused"}
    api.ok(api.post("/v1/checkouts", json=checkout(price=1_000), headers=headers), 201)
    # when
    reused = api.post("/v1/checkouts", json=checkout(price=2_000), headers=headers)
    other_path = api.post("/v1/tokens", json={"party": "buyer:b7"}, headers=headers)
    # then
    api.problem(reused, 422, "idempotency_key_reused")
    api.problem(other_path, 422, "idempotency_key_reused")
    assert [o["total_minor"] for o in orders_of(api, "b7")] == [1_000]


def test_a_malformed_idempotency_key_is_a_bad_request(world) -> None:
    for key in ("k" * 256, "k" * 300, "ключ-1".encode(), "has space", "tab\there"):
        # when
        headers = {"Idempotency-Key": key}
        response = world.api.post("/v1/checkouts", json=checkout(), headers=headers)
        # then
        world.api.problem(response, 400, "idempotency_key_invalid")
    assert orders_of(world.api, "b7") == []
    # and: 255 printable ASCII characters are fine
    longest = {"Idempotency-Key": "k" * 255}
    world.api.ok(world.api.post("/v1/checkouts", json=checkout(), headers=longest), 201)


def test_keys_are_scoped_to_the_caller(world) -> None:
    # given: two operator keys with the orders scope
    api = world.api
    _, one = api.new_key(Scope.ORDERS)
    _, two = api.new_key(Scope.ORDERS)
    headers = {"Idempotency-Key": "shared-key"}
    # when: each sends the same key, even with the same body
    first = api.post("/v1/checkouts", auth=one, json=checkout(), headers=headers)
    second = api.post("/v1/checkouts", auth=two, json=checkout(), headers=headers)
    # then: two independent checkouts
    assert first.status_code == second.status_code == 201
    assert "idempotent-replayed" not in second.headers
    assert first.json()["payment_group_id"] != second.json()["payment_group_id"]
    assert len(orders_of(api, "b7")) == 2


def test_a_payout_posted_twice_with_one_key_pays_once(world) -> None:
    # given: s1 has 9.80 CNY available
    api = world.api
    api.completed_order("b1", "phys-s1", 1_000)
    seller = api.token("seller:s1")
    before = api.balance("seller:s1:available", auth=seller)
    body, headers = {"amount_minor": 500, "currency": CNY}, {"Idempotency-Key": "payout-2026-01-05"}
    # when
    first = api.post("/v1/payouts", auth=seller, json=body, headers=headers)
    second = api.post("/v1/payouts", auth=seller, json=body, headers=headers)
    # then
    assert first.status_code == second.status_code == 201
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json()["id"] == first.json()["id"]
    assert api.balance("seller:s1:available", auth=seller) == before - 500
    assert [p["id"] for p in api.ok(api.get("/v1/payouts", auth=seller))["data"]] == [
        first.json()["id"]
    ]


def test_a_key_still_running_answers_409(world) -> None:
    # given: the same caller's first request with this key has not finished
    api = world.api
    key_id, plaintext = api.new_key(Scope.ORDERS)
    body = json.dumps(checkout()).encode()
    api.app.idempotency.claim(
        f"operator:{key_id}",
        "in-flight",
        fingerprint_of("POST", "/v1/checkouts", body),
        api.clock.now(),
        timedelta(seconds=60),
        timedelta(hours=24),
    )
    # when
    response = api.post(
        "/v1/checkouts",
        auth=plaintext,
        content=body,
        headers={"Idempotency-Key": "in-flight", "content-type": "application/json"},
    )
    # then
    api.problem(response, 409, "idempotency_key_in_use")
    assert response.headers["retry-after"] == "1"
    assert orders_of(api, "b7") == []


def test_an_expired_key_is_not_replayed(world) -> None:
    # given: a key used 25 hours ago
    api, headers = world.api, {"Idempotency-Key": "yesterday"}
    api.ok(api.post("/v1/checkouts", json=checkout("b7"), headers=headers), 201)
    api.clock.advance(timedelta(hours=25))
    # when: it comes again with another request
    again = api.post("/v1/checkouts", json=checkout("b8", price=2_000), headers=headers)
    # then: neither a replay nor a refusal
    assert again.status_code == 201, again.text
    assert "idempotent-replayed" not in again.headers


def test_an_expired_key_may_be_reused_for_a_new_checkout(world) -> None:
    # given: a key used 25 hours ago
    api, headers = world.api, {"Idempotency-Key": "yesterday"}
    api.ok(api.post("/v1/checkouts", json=checkout("b7"), headers=headers), 201)
    api.clock.advance(timedelta(hours=25))
    # when
    again = api.ok(
        api.post("/v1/checkouts", json=checkout("b8", price=2_000), headers=headers), 201
    )
    # then: the new request was carried out
    assert again["orders"][0]["buyer_id"] == "b8"
    assert again["total_minor"] == 2_000
    assert len(orders_of(api, "b8")) == 1


def test_an_expired_key_may_be_reused_for_a_new_payout(world) -> None:
    # given: s1 paid 1.00 out with a key 25 hours ago
    api = world.api
    api.completed_order("b1", "phys-s1", 10_000)
    seller, headers = api.token("seller:s1"), {"Idempotency-Key": "daily-payout"}
    body = {"amount_minor": 100, "currency": CNY}
    first = api.ok(api.post("/v1/payouts", auth=seller, json=body, headers=headers), 201)
    api.clock.advance(timedelta(hours=25))
    # when: the key comes again with 3.00
    again = api.ok(
        api.post("/v1/payouts", auth=seller, json={**body, "amount_minor": 300}, headers=headers),
        201,
    )
    # then: a new payout of 3.00
    assert again["id"] != first["id"]
    assert again["amount_minor"] == 300
    assert api.balance("seller:s1:payouts", auth=seller) == 400


# -- rate limits ----------------------------------------------------------------------------------


@pytest.fixture
def limited(make_api: Any) -> Any:
    """An API whose policy allows a participant 5 requests a minute."""
    return make_api(policy=build_policy({"access": {"participant_requests_per_minute": 5}}))


def test_the_sixth_quick_request_of_a_five_a_minute_participant_is_refused(limited) -> None:
    # given
    buyer = limited.token("buyer:b1")
    # when
    statuses = [limited.get("/v1/orders", auth=buyer).status_code for _ in range(6)]
    # then
    assert statuses == [200] * 5 + [429]


def test_a_participant_over_the_rate_limit_gets_429_while_others_go_on(limited) -> None:
    # given
    buyer, other = limited.token("buyer:b1"), limited.token("buyer:b2")
    # when: b1 sends quick requests until refused
    statuses = []
    for _ in range(30):
        statuses.append(limited.get("/v1/orders", auth=buyer).status_code)
        if statuses[-1] != 200:
            break
    refused = limited.get("/v1/orders", auth=buyer)
    # then
    assert statuses[-1] == 429
    body = limited.problem(refused, 429, "rate_limited")
    assert int(refused.headers["retry-after"]) >= 1
    assert "5 requests a minute" in body["detail"]
    # and: another buyer, and the operator, are not affected
    assert limited.get("/v1/orders", auth=other).status_code == 200
    assert limited.get("/v1/orders").status_code == 200


# -- credentials ----------------------------------------------------------------------------------


def test_staff_login_with_a_wrong_password_or_unknown_email_is_refused(api) -> None:
    # given
    support = api.staff(StaffRole.SUPPORT)
    # when
    wrong = api.post(
        "/v1/staff/sessions",
        auth=api.NOBODY,
        json={"email": support.email, "password": "not the password"},
    )
    unknown = api.post(
        "/v1/staff/sessions",
        auth=api.NOBODY,
        json={"email": "nobody@tradeguard.test", "password": support.password},
    )
    right = api.post(
        "/v1/staff/sessions",
        auth=api.NOBODY,
        json={"email": support.email.upper(), "password": support.password},
    )
    # then
    assert (
        api.problem(wrong, 401, "invalid_credentials")["detail"]
        == api.problem(unknown, 401, "invalid_credentials")["detail"]
    )
    session = api.ok(right, 201)
    assert session["staff"]["role"] == "support"
    assert "password" not in json.dumps(session)
    me = api.ok(api.get("/v1/staff/me", auth=session["token"]))
    assert (me["id"], me["role"]) == (support.id, "support")


def test_a_disabled_staff_accounts_token_stops_working(api) -> None:
    # given: an arbitrator who is logged in
    arbitrator = api.staff(StaffRole.ARBITRATOR)
    api.ok(api.get("/v1/staff/me", auth=arbitrator.token))
    # when: an admin disables the account
    disabled = api.ok(api.delete(f"/v1/staff/{arbitrator.id}"))
    time.sleep(AUTH_CACHE_S)
    # then
    assert disabled["disabled_at"] is not None
    body = api.problem(api.get("/v1/staff/me", auth=arbitrator.token), 401, "invalid_credentials")
    assert "disabled" in body["detail"]
    login = api.post(
        "/v1/staff/sessions",
        auth=api.NOBODY,
        json={"email": arbitrator.email, "password": arbitrator.password},
    )
    api.problem(login, 401, "invalid_credentials")


def test_a_revoked_api_key_is_refused(api) -> None:
    # given: a key in use
    key_id, plaintext = api.new_key(Scope.ORDERS)
    api.ok(api.get("/v1/orders", auth=plaintext))
    # when
    revoked = api.ok(api.delete(f"/v1/api-keys/{key_id}"))
    time.sleep(AUTH_CACHE_S)
    # then
    assert revoked["revoked_at"] is not None
    api.problem(api.get("/v1/orders", auth=plaintext), 401, "invalid_credentials")
    listed = {k["id"]: k for k in api.ok(api.get("/v1/api-keys"))["data"]}
    assert listed[key_id]["revoked_at"] is not None
    assert "key" not in listed[key_id]


def _claims(party: str, **overrides: Any) -> dict[str, Any]:
    now = int(datetime.now(UTC).timestamp())
    claims = {
        "iss": "tradeguard",
        "aud": "tradeguard:participant",
        "sub": party,
        "iat": now,
        "exp": now + 600,
    }
    return {**claims, **overrides}


def test_an_expired_participant_token_is_refused_with_a_helpful_detail(world) -> None:
    # given: a token the server's secret signed, which expired a minute ago
    api = world.api
    secret = api.app.access.server_secret("jwt-hs256")
    now = int(datetime.now(UTC).timestamp())
    expired = jwt.encode(
        _claims("buyer:b1", iat=now - 960, exp=now - 60), secret, algorithm="HS256"
    )
    still_valid = jwt.encode(_claims("buyer:b1"), secret, algorithm="HS256")
    timeline = f"/v1/orders/{world.order['id']}/timeline"
    # when
    response = api.get(timeline, auth=expired)
    # then
    body = api.problem(response, 401, "invalid_credentials")
    assert "expired" in body["detail"]
    assert "operator" in body["detail"]  # it says whom to ask for a new one
    assert "buyer_id" not in response.text
    assert api.get(timeline, auth=still_valid).status_code == 200


def test_a_token_not_issued_by_this_server_is_refused(world) -> None:
    # given: tokens that are not what this server mints
    api = world.api
    secret = api.app.access.server_secret("jwt-hs256")
    forged = {
        "other secret": jwt.encode(_claims("buyer:b1"), "another-secret-" * 3, algorithm="HS256"),
        "other algorithm": jwt.encode(_claims("buyer:b1"), secret, algorithm="HS512"),
        "other issuer": jwt.encode(_claims("buyer:b1", iss="elsewhere"), secret, algorithm="HS256"),
        "no such staff": jwt.encode(
            _claims("staff:stf_1", aud="tradeguard:staff"), secret, algorithm="HS256"
        ),
        "operator subject": jwt.encode(_claims("operator:key_1"), secret, algorithm="HS256"),
        "garbage": "not.a.token",
    }
    for name, token in forged.items():
        # when
        response = api.get(f"/v1/orders/{world.order['id']}/timeline", auth=token)
        # then
        assert response.status_code == 401, name
        api.problem(response, 401, "invalid_credentials")
        assert "order.created" not in response.text, name


def test_a_participant_token_expires_after_the_ttl_it_was_minted_with(api) -> None:
    # when
    minted = api.ok(api.post("/v1/tokens", json={"party": "seller:s1", "ttl_seconds": 60}), 201)
    # then
    claims = jwt.decode(minted["token"], options={"verify_signature": False})
    assert claims["sub"] == "seller:s1"
    assert claims["exp"] - claims["iat"] == 60
    assert minted["token_type"] == "Bearer"
    too_long = api.post("/v1/tokens", json={"party": "seller:s1", "ttl_seconds": 86_401})
    api.problem(too_long, 422, "validation_failed")
    bad_party = api.post("/v1/tokens", json={"party": "staff:stf_1"})
    api.problem(bad_party, 422, "validation_failed")


class _Monotonic:
    """A stand-in for the auth module's ``time`` whose monotonic clock can be moved forward."""

    def __init__(self) -> None:
        self.ahead = 0.0

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic() + self.ahead


def test_a_participant_token_is_verified_once_for_its_life_and_refused_after_it(
    api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a ten-minute buyer token, and a count of signature checks
    secret = api.app.access.server_secret("jwt-hs256")
    authenticator = Authenticator(api.app.access, api.app.policy.access, secret)
    token = jwt.encode(_claims("buyer:b1"), secret, algorithm="HS256")
    clock, checks = _Monotonic(), []
    verify = auth_module.jwt.decode

    def counted(*args: Any, **kwargs: Any) -> Any:
        checks.append(kwargs.get("options", {}).get("verify_signature", True))
        return verify(*args, **kwargs)

    monkeypatch.setattr(auth_module, "time", clock)
    monkeypatch.setattr(auth_module.jwt, "decode", counted)
    # when: it is used, and again a minute later (other cached credentials last seconds)
    first = authenticator.authenticate(f"Bearer {token}")
    clock.ahead = 60
    later = authenticator.authenticate(f"Bearer {token}")
    # then: the same buyer, with the signature checked once
    assert first == later
    assert first is not None
    assert first.key == "buyer:b1"
    assert checks.count(True) == 1
    # given: a token that expires in a second or two, checked and remembered
    expires = int(time.time()) + 2
    short = jwt.encode(_claims("buyer:b1", exp=expires), secret, algorithm="HS256")
    assert authenticator.authenticate(f"Bearer {short}") == first
    # when: it is used after it expired
    time.sleep(max(0.0, expires - time.time()) + 0.05)
    with pytest.raises(ApiProblem) as refused:
        authenticator.authenticate(f"Bearer {short}")
    # then
    assert refused.value.code == "invalid_credentials"
    assert "expired" in refused.value.detail


# -- operations -----------------------------------------------------------------------------------


def test_health_and_readiness(api) -> None:
    # when
    health = api.ok(api.get("/healthz", auth=api.NOBODY))
    ready = api.ok(api.get("/readyz", auth=api.NOBODY))
    # then
    assert health["status"] == "ok"
    assert ready == {"status": "ok", "checks": {"database": "ok", "schema": "ok"}}


def test_metrics_count_requests_by_route_template(world) -> None:
    # given
    world.api.ok(world.api.get(f"/v1/orders/{world.order['id']}/timeline"))
    # when
    response = world.api.get("/metrics", auth=world.api.NOBODY)
    # then
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "# TYPE tradeguard_http_requests_total counter" in response.text
    assert (
        'tradeguard_http_requests_total{method="GET",route="/v1/orders/{order_id}/timeline",status="200"} 1.0'
        in response.text
    )
    assert world.order["id"] not in response.text  # templates, not ids: bounded label values
    assert "tradeguard_http_request_duration_seconds_bucket" in response.text


def test_metrics_count_requests_refused_before_routing_under_one_label(api) -> None:
    # given: strangers probing made-up paths, which are refused before any route is chosen
    for n in range(5):
        assert api.get(f"/v1/probe-{n}/x", auth=api.NOBODY).status_code == 401
    # when
    text = api.get("/metrics", auth=api.NOBODY).text
    # then: one series for all of them, none per path
    assert "probe-" not in text
    assert 'tradeguard_http_requests_total{method="GET",route="unmatched",status="401"} 5.0' in text


def test_openapi_is_3_1_and_documents_every_route(api) -> None:
    # given
    app = create_api(api.app).app
    walk = getattr(fastapi.routing, "iter_route_contexts", lambda routes: routes)
    served = {
        (method.lower(), route.path)
        for route in walk(app.routes)
        if getattr(route, "include_in_schema", True)
        for method in route.methods or ()
        if method != "HEAD"
    }
    # when
    spec = api.ok(api.get("/openapi.json", auth=api.NOBODY))
    # then
    assert re.fullmatch(r"3\.1\.\d+", spec["openapi"])
    documented = {(m, path) for path, ops in spec["paths"].items() for m in ops}
    assert documented == served
    assert len(served) >= 40
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert op.get("summary"), f"{method} {path} has no summary"
            assert op.get("description"), f"{method} {path} has no description"
            is_public = path == "/v1/staff/sessions" or path.startswith("/v1/public/")
            if path.startswith("/v1/") and not is_public:
                assert op.get("security") == [{"HTTPBearer": []}], f"{method} {path}"
                assert {"401", "403", "422"} <= set(op["responses"]), f"{method} {path}"


def test_openapi_documents_error_bodies_as_problem_json(api) -> None:
    # when
    spec = api.ok(api.get("/openapi.json", auth=api.NOBODY))
    # then
    refusal = spec["paths"]["/v1/orders/{order_id}"]["get"]["responses"]["404"]
    assert refusal["content"] == {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
    }


def test_problem_types_are_documented(api) -> None:
    # given: domain codes (no status: it depends on the error's kind) and the API's own
    codes = {
        "purchase_limit_exceeded": None,
        "transition_not_allowed": None,
        "insufficient_funds": None,
        "rate_limited": 429,
        "idempotency_key_reused": 422,
        "unauthenticated": 401,
    }
    for code, status in codes.items():
        # when
        described = api.ok(api.get(f"/problems/{code}", auth=api.NOBODY))
        # then
        assert described["code"] == code
        assert described["title"]
        assert described["description"]
        if status is not None:
            assert described["status"] == status
    limit = api.ok(api.get("/problems/purchase_limit_exceeded", auth=api.NOBODY))
    assert "bought as many" in limit["description"]


def test_an_unknown_problem_type_is_a_404_problem(api) -> None:
    # when
    response = api.get("/problems/no_such_problem", auth=api.NOBODY)
    # then
    api.problem(response, 404, "not_found")
