"""Webhooks end to end (DESIGN.md §13): signed per Standard Webhooks, retried, logged, replayed.

A real HTTP receiver listens on 127.0.0.1 (a policy with ``allow_localhost``);
endpoints are registered and inspected through the API, order events are made
through the API, and the real dispatcher sends them. Each received request is
checked with the reference verifier ``standardwebhooks.Webhook(secret).verify``.
Retries are driven by moving the fake clock past each retry delay of
``events/rules.py``. The SSRF rules are checked through the API with the default
policy and with fake resolvers, and the pure rules at unit level at the end.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from tradeguard.adapters.dispatch import FAN_OUT_BATCH, WebhookDispatcher
from tradeguard.adapters.net import resolve
from tradeguard.bootstrap import App, build_app
from tradeguard.events import rules
from tradeguard.events.model import (
    DELIVERY_TRANSITIONS,
    DeliveryEvent,
    DeliveryState,
    DomainEvent,
)
from tradeguard.events.policy import WebhookPolicy
from tradeguard.kernel.errors import TransitionNotAllowed, ValidationFailed
from tradeguard.kernel.parties import OPERATOR, Actor, buyer, seller
from tradeguard.kernel.periods import Period
from tradeguard.policy import build_policy

LOCAL = {"webhooks": {"allow_localhost": True}}

RETRY_OVERFLOW_BUG = (
    "BUG: retry_delay (events/rules.py:22) computes first * factor**(n-1) as a timedelta before "
    "capping it; from the 23rd attempt it raises OverflowError, so a policy retrying longer "
    "than ~5 days (retry_for = '7d') crashes record() and the delivery is resent forever"
)


# -- a real receiver --------------------------------------------------------------------------


@dataclass
class Received:
    """One request the receiver got, and what it answered."""

    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def webhook_id(self) -> str:
        """The Standard Webhooks message id."""
        return self.headers["webhook-id"]

    @property
    def payload(self) -> dict[str, Any]:
        """The JSON body."""
        return json.loads(self.body)  # type: ignore[no-any-return]


#: Decides the status to answer: gets the request and the earlier requests to the same path.
Answer = Callable[[Received, list[Received]], int]


def always(status: int) -> Answer:
    """Answer every request with ``status``."""
    return lambda got, before: status


def fail_first(times: int, event_type: str) -> Answer:
    """Answer 500 to the first ``times`` requests of each ``event_type`` message, then 200."""

    def answer(got: Received, before: list[Received]) -> int:
        if got.payload["type"] != event_type:
            return 200
        earlier = [r for r in before if r.webhook_id == got.webhook_id]
        return 500 if len(earlier) < times else 200

    return answer


class Receiver:
    """An HTTP server in a thread on 127.0.0.1 and a free port, recording every POST."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.answers: dict[str, Answer] = {}
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                got = Received(self.path, headers, body, 0)
                with receiver._lock:
                    before = [r for r in receiver.received if r.path == self.path]
                    got.status = receiver.answers.get(self.path, always(200))(got, before)
                    receiver.received.append(got)
                self.send_response(got.status)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass  # quiet: the test reads `received` instead

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        """The receiver's URL for ``path``."""
        return f"http://127.0.0.1:{self.port}{path}"

    def at(self, path: str) -> list[Received]:
        """Requests received on ``path``, in order."""
        with self._lock:
            return [r for r in self.received if r.path == path]

    def close(self) -> None:
        """Stop serving and release the socket."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A running receiver, stopped after the test."""
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def hooks_app(make_app: Callable[..., App]) -> App:
    """TradeGuard whose webhook policy allows the loopback receiver."""
    return make_app(policy=build_policy(LOCAL))


@pytest.fixture
def client(hooks_app: App, api_client: Callable[[App], Any]) -> Any:
    """The API of ``hooks_app`` as an all-scopes operator."""
    return api_client(hooks_app)


@pytest.fixture
def dispatcher(hooks_app: App) -> Iterator[WebhookDispatcher]:
    """The real dispatcher with the real resolver, closed after the test."""
    sender = WebhookDispatcher(hooks_app.webhooks, resolve)
    yield sender
    sender.close()


# -- helpers over the API -----------------------------------------------------------------------


def register(client: Any, url: str, event_types: list[str] | None = None) -> dict[str, Any]:
    """Register an endpoint through the API; return the answer (with its secret)."""
    body: dict[str, Any] = {"url": url, "description": "contract tests"}
    if event_types is not None:
        body["event_types"] = event_types
    response = client.post("/v1/webhook-endpoints", json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def checkout(client: Any, buyer_id: str = "b1", seller_id: str = "s1") -> dict[str, Any]:
    """A one-order checkout of 100.00 through the API (order.created)."""
    listing = f"l-{seller_id}"
    response = client.request(
        "PUT", f"/v1/listings/{listing}", json={"seller_id": seller_id, "title": "Tea"}
    )
    assert response.status_code == 200, response.text
    response = client.post(
        "/v1/checkouts",
        json={
            "buyer_id": buyer_id,
            "currency": "CNY",
            "lines": [{"listing_id": listing, "quantity": 1, "unit_price_minor": 10_000}],
        },
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def pay(client: Any, made: dict[str, Any]) -> None:
    """The payment provider captured the checkout's total (order.paid)."""
    response = client.post(
        f"/v1/payment-groups/{made['payment_group_id']}/payment",
        json={
            "amount_minor": made["total_minor"],
            "currency": "CNY",
            "payment_reference": f"psp-{made['payment_group_id']}",
        },
    )
    assert response.status_code == 200, response.text


def events(client: Any) -> dict[str, str]:
    """Every event in the feed: id -> type."""
    response = client.get("/v1/events", params={"limit": 500})
    assert response.status_code == 200, response.text
    return {e["id"]: e["type"] for e in response.json()["data"]}


def deliveries(client: Any, endpoint_id: str) -> list[dict[str, Any]]:
    """An endpoint's deliveries in the log, newest first."""
    response = client.get("/v1/webhook-deliveries", params={"endpoint_id": endpoint_id})
    assert response.status_code == 200, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


def delivery(client: Any, delivery_id: str) -> dict[str, Any]:
    """A delivery with its attempt log."""
    response = client.get(f"/v1/webhook-deliveries/{delivery_id}")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def verified(secret: str, got: Received) -> dict[str, Any]:
    """The payload, after the reference verifier accepted the signature."""
    return Webhook(secret).verify(got.body, got.headers)  # type: ignore[no-any-return]


# -- signing and payload ------------------------------------------------------------------------


def test_every_delivery_is_signed_per_standard_webhooks(
    client: Any, receiver: Receiver, dispatcher: WebhookDispatcher, clock: Any
) -> None:
    # given
    endpoint = register(client, receiver.url("/hooks"))
    made = checkout(client)
    pay(client, made)
    # when
    report = dispatcher.drain()
    # then
    assert endpoint["secret"].startswith("whsec_")
    assert "secret" not in client.get(f"/v1/webhook-endpoints/{endpoint['id']}").json()
    feed = events(client)
    assert sorted(feed.values()) == ["order.created", "order.paid"]
    got = receiver.at("/hooks")
    assert (report.sent, report.succeeded, len(got)) == (2, 2, 2)
    assert {r.webhook_id: r.payload["type"] for r in got} == feed
    for request in got:
        payload = verified(endpoint["secret"], request)
        assert set(payload) == {"type", "timestamp", "data"}
        assert payload["data"]["event_id"] == request.webhook_id
        assert payload["data"]["subject"] == f"order:{made['orders'][0]['id']}"
        assert datetime.fromisoformat(payload["timestamp"]) == clock.now()
        assert request.headers["content-type"] == "application/json"
        assert request.headers["webhook-signature"].startswith("v1,")
        signed_at = datetime.fromtimestamp(int(request.headers["webhook-timestamp"]), UTC)
        assert abs(datetime.now(UTC) - signed_at) < timedelta(minutes=1)  # the real clock
    logged = deliveries(client, endpoint["id"])
    assert {d["state"] for d in logged} == {"succeeded"}
    assert {d["event_id"] for d in logged} == set(feed)
    assert all(d["attempts"] == 1 and d["last_status_code"] == 200 for d in logged)


def test_a_signature_holds_only_for_its_secret_and_body(
    client: Any, receiver: Receiver, dispatcher: WebhookDispatcher
) -> None:
    # given
    endpoint = register(client, receiver.url("/hooks"))
    other = register(client, receiver.url("/other"))
    checkout(client)
    dispatcher.drain()
    (request,) = receiver.at("/hooks")
    # then
    assert other["secret"] != endpoint["secret"]
    with pytest.raises(WebhookVerificationError):
        Webhook(other["secret"]).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint["secret"]).verify(
            request.body.replace(b"order", b"ORDER"), request.headers
        )
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint["secret"]).verify(request.body, {**request.headers, "webhook-id": "evt_x"})


# -- retries ------------------------------------------------------------------------------------


def test_a_failing_receiver_is_retried_with_backoff_until_it_succeeds(
    hooks_app: App, client: Any, receiver: Receiver, dispatcher: WebhookDispatcher, clock: Any
) -> None:
    # given: the receiver answers 500 twice to the order.paid message, then 200
    receiver.answers["/flaky"] = fail_first(2, "order.paid")
    endpoint = register(client, receiver.url("/flaky"))
    pay(client, checkout(client))
    policy = hooks_app.policy.webhooks
    # when: the first pass, then a pass before the first retry is due
    dispatcher.drain()
    dispatcher.drain()
    clock.advance(rules.retry_delay(1, policy) - timedelta(seconds=1))
    dispatcher.drain()
    # then: one failed attempt so far, retry not early
    paid_id = next(i for i, t in events(client).items() if t == "order.paid")
    assert [r.status for r in receiver.at("/flaky") if r.webhook_id == paid_id] == [500]
    (pending,) = [d for d in deliveries(client, endpoint["id"]) if d["event_id"] == paid_id]
    assert (pending["state"], pending["attempts"], pending["last_status_code"]) == (
        "pending",
        1,
        500,
    )
    # when: past the first retry delay, then past the second
    clock.advance(timedelta(seconds=1))
    dispatcher.drain()
    clock.advance(rules.retry_delay(2, policy))
    dispatcher.drain()
    dispatcher.drain()
    # then: every event was answered 2xx exactly once; the paid one after three attempts
    got = receiver.at("/flaky")
    answered_ok = [r.webhook_id for r in got if 200 <= r.status < 300]
    assert sorted(answered_ok) == sorted(events(client))
    retried = [r for r in got if r.webhook_id == paid_id]
    assert [r.status for r in retried] == [500, 500, 200]
    assert len({r.body for r in retried}) == 1  # the same message, the same webhook-id
    for request in retried:
        verified(endpoint["secret"], request)
    logged = deliveries(client, endpoint["id"])
    assert len(logged) == 2
    assert {d["state"] for d in logged} == {"succeeded"}
    assert sorted(d["attempts"] for d in logged) == [1, 3]
    detail = delivery(client, pending["id"])
    assert [a["status_code"] for a in detail["attempt_log"]] == [500, 500, 200]
    assert [a["number"] for a in detail["attempt_log"]] == [1, 2, 3]
    assert detail["attempt_log"][0]["error"] == "HTTP 500"
    times = [datetime.fromisoformat(a["attempted_at"]) for a in detail["attempt_log"]]
    assert times[1] - times[0] == rules.retry_delay(1, policy)
    assert times[2] - times[1] == rules.retry_delay(2, policy)
    assert detail["next_attempt_at"] is None
    assert datetime.fromisoformat(detail["finished_at"]) == times[2]


def test_retries_stop_after_the_retry_period_and_the_delivery_fails(
    hooks_app: App, client: Any, receiver: Receiver, dispatcher: WebhookDispatcher, clock: Any
) -> None:
    # given: a receiver that always fails
    receiver.answers["/down"] = always(503)
    endpoint = register(client, receiver.url("/down"), ["order.created"])
    checkout(client)
    policy = hooks_app.policy.webhooks
    created_at = clock.now()
    expected, at = 1, created_at
    while (at := rules.next_attempt(expected, created_at, at, policy)) is not None:
        expected += 1
    # when: each retry is run as soon as it is due
    dispatcher.drain()
    for _ in range(expected + 5):
        (pending,) = deliveries(client, endpoint["id"])
        if pending["state"] != "pending":
            break
        clock.set(datetime.fromisoformat(pending["next_attempt_at"]))
        dispatcher.drain()
    # then
    (failed,) = deliveries(client, endpoint["id"])
    assert failed["state"] == "failed"
    assert failed["attempts"] == expected == len(receiver.at("/down"))
    assert failed["next_attempt_at"] is None
    assert failed["last_status_code"] == 503
    detail = delivery(client, failed["id"])
    last = datetime.fromisoformat(detail["attempt_log"][-1]["attempted_at"])
    assert last <= created_at + policy.retry_for.as_timedelta()
    assert datetime.fromisoformat(detail["finished_at"]) == last
    # when: long after, nothing more is sent
    clock.advance(timedelta(days=4))
    dispatcher.drain()
    # then
    assert len(receiver.at("/down")) == expected


def test_a_week_long_retry_period_ends_in_failed(
    make_app: Callable[..., App],
    api_client: Callable[[App], Any],
    receiver: Receiver,
    clock: Any,
) -> None:
    # given: a valid policy retrying for a week, and a receiver that is down all along
    app = make_app(policy=build_policy({"webhooks": {"allow_localhost": True, "retry_for": "7d"}}))
    client = api_client(app)
    receiver.answers["/down"] = always(500)
    endpoint = register(client, receiver.url("/down"), ["order.created"])
    checkout(client)
    sender = WebhookDispatcher(app.webhooks, resolve)
    try:
        # when: each retry is run as soon as it is due
        sender.drain()
        for _ in range(60):
            (pending,) = deliveries(client, endpoint["id"])
            if pending["state"] != "pending":
                break
            clock.set(datetime.fromisoformat(pending["next_attempt_at"]))
            sender.drain()
    finally:
        sender.close()
    # then
    (settled,) = deliveries(client, endpoint["id"])
    assert settled["state"] == "failed"
    assert settled["attempts"] == len(receiver.at("/down")) > 22


def test_a_delivery_whose_retry_falls_after_the_period_fails_at_once(
    client: Any, receiver: Receiver, dispatcher: WebhookDispatcher, clock: Any
) -> None:
    # given: one failed attempt, then the clock moves more than three days
    receiver.answers["/down"] = always(500)
    endpoint = register(client, receiver.url("/down"))
    checkout(client)
    dispatcher.drain()
    clock.advance(timedelta(days=3, seconds=1))
    # when
    dispatcher.drain()
    # then
    (failed,) = deliveries(client, endpoint["id"])
    assert (failed["state"], failed["attempts"]) == ("failed", 2)
    assert len(receiver.at("/down")) == 2


# -- filters and disabling ----------------------------------------------------------------------


def test_an_endpoint_receives_only_the_event_types_it_asked_for(
    hooks_app: App, client: Any, receiver: Receiver, dispatcher: WebhookDispatcher
) -> None:
    # given
    filters = {
        "/paid": ["order.paid"],
        "/orders": ["order.*"],
        "/payouts": ["payout.paid"],
        "/all": ["*"],
    }
    endpoints = {path: register(client, receiver.url(path), f) for path, f in filters.items()}
    # when: an order is bought, paid, shipped, received, and the seller paid out
    made = checkout(client)
    pay(client, made)
    order_id = made["orders"][0]["id"]
    hooks_app.orders.ship(order_id, seller("s1"), carrier="SF", tracking_number="SF1")
    hooks_app.orders.confirm_receipt(order_id, buyer("b1"))
    hooks_app.payouts.request("s1", 1_000, "CNY", OPERATOR)
    dispatcher.drain()
    # then
    feed = events(client)
    assert sorted(set(feed.values())) == [
        "order.completed",
        "order.created",
        "order.paid",
        "order.shipped",
        "payout.paid",
    ]

    def types(path: str) -> list[str]:
        return sorted(r.payload["type"] for r in receiver.at(path))

    assert types("/paid") == ["order.paid"]
    assert types("/orders") == sorted(t for t in feed.values() if t.startswith("order."))
    assert types("/payouts") == ["payout.paid"]
    assert types("/all") == sorted(feed.values())
    for path, endpoint in endpoints.items():
        assert endpoint["event_types"] == filters[path]
        logged = deliveries(client, endpoint["id"])
        assert sorted(d["event_type"] for d in logged) == types(path)
        assert {d["state"] for d in logged} == {"succeeded"}


def test_a_disabled_endpoint_gets_nothing_new(
    client: Any, receiver: Receiver, dispatcher: WebhookDispatcher
) -> None:
    # given: one event delivered
    endpoint = register(client, receiver.url("/hooks"))
    made = checkout(client)
    dispatcher.drain()
    assert len(receiver.at("/hooks")) == 1
    # when
    response = client.delete(f"/v1/webhook-endpoints/{endpoint['id']}")
    pay(client, made)
    checkout(client, buyer_id="b2")
    dispatcher.drain()
    # then
    assert response.status_code == 200, response.text
    assert response.json()["enabled"] is False
    assert response.json()["disabled_at"] is not None
    assert len(receiver.at("/hooks")) == 1
    assert len(deliveries(client, endpoint["id"])) == 1  # the log stays
    assert client.delete(f"/v1/webhook-endpoints/{endpoint['id']}").status_code == 404
    listed = client.get("/v1/webhook-endpoints").json()["data"]
    assert [(e["id"], e["enabled"]) for e in listed] == [(endpoint["id"], False)]


def test_a_disabled_endpoint_gets_no_more_retries(
    client: Any, receiver: Receiver, dispatcher: WebhookDispatcher, clock: Any
) -> None:
    # given: a delivery waiting for its retry
    receiver.answers["/hooks"] = always(500)
    endpoint = register(client, receiver.url("/hooks"))
    checkout(client)
    dispatcher.drain()
    assert len(receiver.at("/hooks")) == 1
    # when
    assert client.delete(f"/v1/webhook-endpoints/{endpoint['id']}").status_code == 200
    clock.advance(timedelta(hours=1))
    dispatcher.drain()
    # then
    assert len(receiver.at("/hooks")) == 1


# -- manual replay ------------------------------------------------------------------------------


def _failed_delivery(
    client: Any, receiver: Receiver, dispatcher: WebhookDispatcher, clock: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """An endpoint on /flaky and its order.created delivery, failed for good."""
    receiver.answers["/flaky"] = always(500)
    endpoint = register(client, receiver.url("/flaky"), ["order.created"])
    checkout(client)
    dispatcher.drain()
    clock.advance(timedelta(days=3, seconds=1))
    dispatcher.drain()
    (failed,) = deliveries(client, endpoint["id"])
    assert failed["state"] == "failed"
    return endpoint, failed


def test_manual_replay_sends_the_event_again_as_a_new_delivery(
    client: Any, receiver: Receiver, dispatcher: WebhookDispatcher, clock: Any
) -> None:
    # given: a delivery that failed for good, and a receiver that works again
    endpoint, failed = _failed_delivery(client, receiver, dispatcher, clock)
    receiver.answers["/flaky"] = always(204)
    # when
    response = client.post(f"/v1/webhook-deliveries/{failed['id']}/replay")
    # then: a new pending delivery of the same event
    assert response.status_code == 201, response.text
    replay = response.json()
    assert replay["id"] != failed["id"]
    assert replay["replay_of"] == failed["id"]
    assert (replay["event_id"], replay["endpoint_id"]) == (failed["event_id"], endpoint["id"])
    assert (replay["state"], replay["attempts"]) == ("pending", 0)
    # when
    dispatcher.drain()
    # then: delivered with the same webhook-id; the original stays failed
    got = receiver.at("/flaky")
    assert [r.status for r in got] == [500, 500, 204]
    assert {r.webhook_id for r in got} == {failed["event_id"]}
    verified(endpoint["secret"], got[-1])
    done = delivery(client, replay["id"])
    assert (done["state"], done["attempts"], done["replay_of"]) == ("succeeded", 1, failed["id"])
    assert delivery(client, failed["id"])["state"] == "failed"
    logged = deliveries(client, endpoint["id"])
    assert [d["id"] for d in logged] == [replay["id"], failed["id"]]
    by_event = client.get("/v1/webhook-deliveries", params={"event_id": failed["event_id"]})
    assert len(by_event.json()["data"]) == 2


def test_a_succeeded_delivery_may_be_replayed_too(
    client: Any, receiver: Receiver, dispatcher: WebhookDispatcher
) -> None:
    # given
    endpoint = register(client, receiver.url("/hooks"))
    checkout(client)
    dispatcher.drain()
    (done,) = deliveries(client, endpoint["id"])
    # when
    response = client.post(f"/v1/webhook-deliveries/{done['id']}/replay")
    dispatcher.drain()
    # then
    assert response.status_code == 201, response.text
    got = receiver.at("/hooks")
    assert len(got) == 2
    assert got[0].webhook_id == got[1].webhook_id == done["event_id"]
    assert got[0].body == got[1].body


def test_replaying_a_delivery_still_being_attempted_is_refused(
    client: Any, receiver: Receiver, dispatcher: WebhookDispatcher
) -> None:
    # given: a delivery waiting for its first retry
    receiver.answers["/flaky"] = always(500)
    endpoint = register(client, receiver.url("/flaky"))
    checkout(client)
    dispatcher.drain()
    (pending,) = deliveries(client, endpoint["id"])
    assert pending["state"] == "pending"
    # when
    response = client.post(f"/v1/webhook-deliveries/{pending['id']}/replay")
    # then
    assert response.status_code in (409, 422), response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "settled" in response.json()["detail"]
    assert len(deliveries(client, endpoint["id"])) == 1


def test_replaying_a_pending_delivery_answers_409_conflict(
    client: Any, receiver: Receiver, dispatcher: WebhookDispatcher
) -> None:
    # given
    receiver.answers["/flaky"] = always(500)
    endpoint = register(client, receiver.url("/flaky"))
    checkout(client)
    dispatcher.drain()
    (pending,) = deliveries(client, endpoint["id"])
    # when
    response = client.post(f"/v1/webhook-deliveries/{pending['id']}/replay")
    # then
    assert response.status_code == 409


def test_replaying_to_a_disabled_endpoint_or_an_unknown_delivery_is_refused(
    client: Any, receiver: Receiver, dispatcher: WebhookDispatcher
) -> None:
    # given
    endpoint = register(client, receiver.url("/hooks"))
    checkout(client)
    dispatcher.drain()
    (done,) = deliveries(client, endpoint["id"])
    client.delete(f"/v1/webhook-endpoints/{endpoint['id']}")
    # when
    disabled = client.post(f"/v1/webhook-deliveries/{done['id']}/replay")
    unknown = client.post("/v1/webhook-deliveries/wd_nope/replay")
    # then
    assert disabled.status_code == 409
    assert "disabled" in disabled.json()["detail"]
    assert unknown.status_code == 404
    assert len(deliveries(client, endpoint["id"])) == 1


# -- the fan-out cursor -------------------------------------------------------------------------


# PostgreSQL only: SQLite has one writer, so a later event cannot commit before an earlier one.
@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_an_event_committed_late_is_still_delivered(
    hooks_app: App, client: Any, receiver: Receiver, dispatcher: WebhookDispatcher
) -> None:
    # given: a unit of work that wrote its event and has not committed yet
    endpoint = register(client, receiver.url("/hooks"))
    written, release = threading.Event(), threading.Event()

    def slow(uow: Any) -> None:
        uow.outbox.append(
            [("evt_slow", DomainEvent("order.slow", "order:slow"))], hooks_app.clock.now()
        )
        uow.outbox.after(0, 1)  # make sure the row (and its sequence number) reached the server
        written.set()
        assert release.wait(timeout=30)

    worker = threading.Thread(target=hooks_app.worker_units.run, args=(slow,))
    worker.start()
    try:
        assert written.wait(timeout=30)
        # when: a later event commits and is fanned out first
        checkout(client)
        dispatcher.drain()
    finally:
        release.set()
        worker.join(timeout=30)
    dispatcher.drain()
    # then: both were delivered
    assert sorted(r.payload["type"] for r in receiver.at("/hooks")) == [
        "order.created",
        "order.slow",
    ]
    assert len(deliveries(client, endpoint["id"])) == 2


def test_with_no_endpoint_the_fan_out_passes_events_by_and_a_new_endpoint_gets_later_ones(
    hooks_app: App, client: Any, receiver: Receiver, dispatcher: WebhookDispatcher
) -> None:
    # given: an order placed while no endpoint is registered, and a fan-out pass
    checkout(client)
    report = dispatcher.run_once()
    # then: the pass went past its event without a delivery
    assert report.events_fanned_out == 1
    assert report.sent == 0
    assert not hooks_app.webhooks.held_back()
    # when: an endpoint is registered and another order is placed
    endpoint = register(client, receiver.url("/hooks"))
    checkout(client)
    dispatcher.drain()
    # then: the endpoint gets the new order's event only
    assert [r.payload["type"] for r in receiver.at("/hooks")] == ["order.created"]
    assert len(deliveries(client, endpoint["id"])) == 1


class _CountingFanOut:
    """A webhook service whose fan-outs report the given event counts, then none."""

    def __init__(self, counts: list[int]) -> None:
        self.counts = counts
        self.calls = 0

    def fan_out(self, limit: int) -> int:
        self.calls += 1
        return self.counts.pop(0) if self.counts else 0

    def claim(self, limit: int) -> list[Any]:
        return []


def test_a_dispatcher_pass_fans_out_again_only_after_a_full_batch() -> None:
    # given: a busy outbox where each fan-out finds a few new events
    busy = _CountingFanOut([3, 2, 4, 1])
    # when: one pass runs
    report = WebhookDispatcher(busy, resolve).run_once()  # type: ignore[arg-type]
    # then: it fanned out once and left the newer events to the next pass
    assert (busy.calls, report.events_fanned_out) == (1, 3)
    # given: a backlog of two full batches and a short one
    backlog = _CountingFanOut([FAN_OUT_BATCH, FAN_OUT_BATCH, 7, 5])
    # when: one pass runs
    report = WebhookDispatcher(backlog, resolve).run_once()  # type: ignore[arg-type]
    # then: it kept going until the short batch
    assert (backlog.calls, report.events_fanned_out) == (3, 2 * FAN_OUT_BATCH + 7)


# -- SSRF ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:8080/hooks", "loopback"),
        ("http://10.0.0.5/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "forbidden"),
        ("http://[::1]/", "loopback"),
        ("http://localhost:8080/", "loopback"),
        ("http://0.0.0.0/", "forbidden"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://192.168.1.1/", "private"),
    ],
)
def test_default_policy_refuses_internal_addresses(
    app: App, api_client: Callable[[App], Any], url: str, reason: str
) -> None:
    # given
    client = api_client(app)
    # when
    response = client.post("/v1/webhook-endpoints", json={"url": url})
    # then
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "validation_failed"
    assert reason in problem["detail"]
    assert problem["details"] == {"field": "url"}
    assert client.get("/v1/webhook-endpoints").json()["data"] == []


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example/x",
        "file:///etc/passwd",
        "gopher://hooks.example/",
        "https://user:secret@hooks.example/",
        "https:///no-host",
        "https://hooks.example:99999/",
    ],
)
def test_urls_that_are_not_plain_http_endpoints_are_refused(
    app: App, api_client: Callable[[App], Any], url: str
) -> None:
    # when
    response = api_client(app).post("/v1/webhook-endpoints", json={"url": url})
    # then
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_failed"


def _app_resolving_to(
    database: Any, clock: Any, addresses: list[str], webhooks: dict[str, Any] | None = None
) -> App:
    """TradeGuard whose resolver answers ``addresses`` for every host."""
    return build_app(
        engine=database.engine,
        policy=build_policy({"webhooks": webhooks or {}}),
        clock=clock,
        migrate=False,
        resolver=lambda host, port: list(addresses),
    )


@pytest.mark.parametrize(
    ("addresses", "webhooks", "refused_for"),
    [
        (["10.1.2.3"], {}, "private"),
        (["93.184.216.34", "10.1.2.3"], {}, "private"),
        (["fd00::1"], {}, "private"),
        (["127.0.0.1"], {"allow_private_networks": True}, "loopback"),
        (["169.254.169.254"], {"allow_private_networks": True}, "forbidden"),
        (["fe80::1%eth0"], {"allow_private_networks": True, "allow_localhost": True}, "forbidden"),
        (["224.0.0.1"], {"allow_private_networks": True}, "forbidden"),
        ([], {}, "does not resolve"),
    ],
)
def test_a_public_name_resolving_to_a_forbidden_address_is_refused(
    database: Any,
    clock: Any,
    api_client: Callable[[App], Any],
    addresses: list[str],
    webhooks: dict[str, Any],
    refused_for: str,
) -> None:
    # given
    client = api_client(_app_resolving_to(database, clock, addresses, webhooks))
    # when
    response = client.post("/v1/webhook-endpoints", json={"url": "https://hooks.shop.example/tg"})
    # then
    assert response.status_code == 422, response.text
    assert refused_for in response.json()["detail"]
    assert "hooks.shop.example" in response.json()["detail"]


@pytest.mark.parametrize(
    ("addresses", "webhooks"),
    [
        (["10.1.2.3"], {"allow_private_networks": True}),
        (["fd00::1", "192.168.0.9"], {"allow_private_networks": True}),
        (["93.184.216.34"], {}),
        (["2606:2800:220:1:248:1893:25c8:1946"], {}),
    ],
)
def test_allowed_addresses_are_registered(
    database: Any,
    clock: Any,
    api_client: Callable[[App], Any],
    addresses: list[str],
    webhooks: dict[str, Any],
) -> None:
    # given
    client = api_client(_app_resolving_to(database, clock, addresses, webhooks))
    # when
    response = client.post("/v1/webhook-endpoints", json={"url": "https://hooks.shop.example/tg"})
    # then
    assert response.status_code == 201, response.text
    assert response.json()["url"] == "https://hooks.shop.example/tg"


def test_the_cloud_metadata_address_in_shared_space_is_refused(
    app: App, api_client: Callable[[App], Any]
) -> None:
    # when
    response = api_client(app).post(
        "/v1/webhook-endpoints", json={"url": "http://100.100.100.200/latest/meta-data/"}
    )
    # then
    assert response.status_code == 422


def test_the_address_is_checked_again_before_each_delivery(
    database: Any,
    clock: Any,
    api_client: Callable[[App], Any],
    receiver: Receiver,
) -> None:
    # given: the name resolved to a public address at registration, to loopback now
    answers = ["93.184.216.34"]
    app = build_app(
        engine=database.engine,
        policy=build_policy({}),
        clock=clock,
        migrate=False,
        resolver=lambda host, port: list(answers),
    )
    client = api_client(app)
    endpoint = register(client, f"http://rebind.example:{receiver.port}/hooks")
    answers[:] = ["127.0.0.1"]
    checkout(client)
    sender = WebhookDispatcher(app.webhooks, lambda host, port: list(answers))
    try:
        # when
        report = sender.drain()
    finally:
        sender.close()
    # then: nothing reached the receiver; the attempt says why
    assert (report.sent, report.failed) == (1, 1)
    assert receiver.received == []
    (pending,) = deliveries(client, endpoint["id"])
    assert pending["last_status_code"] is None
    assert "loopback" in pending["last_error"]


# -- the pure rules -----------------------------------------------------------------------------


def test_retry_delay_grows_exponentially_and_is_capped() -> None:
    # given
    policy = WebhookPolicy()
    # when
    delays = [rules.retry_delay(n, policy).total_seconds() for n in range(1, 12)]
    # then
    assert delays[:7] == [5, 20, 80, 320, 1280, 5120, 20480]
    assert delays[7:] == [8 * 3600] * 4
    assert rules.retry_delay(0, policy) == timedelta(seconds=5)


@pytest.mark.parametrize("attempts", [23, 30, 1_000])
def test_retry_delay_stays_capped_however_many_attempts(attempts: int) -> None:
    assert rules.retry_delay(attempts, WebhookPolicy()) == timedelta(hours=8)


def test_retry_delay_follows_the_policy() -> None:
    # given
    policy = WebhookPolicy(
        first_retry_after_s=600, backoff_factor=3, longest_retry_delay=Period.hours(2)
    )
    # then
    delays = [rules.retry_delay(n, policy).total_seconds() for n in range(1, 6)]
    assert delays == [600, 1800, 5400, 7200, 7200]


def test_next_attempt_returns_none_after_the_retry_period() -> None:
    # given
    policy = WebhookPolicy()
    created = datetime(2026, 1, 5, 9, tzinfo=UTC)
    period = policy.retry_for.as_timedelta()
    # then
    assert rules.next_attempt(1, created, created, policy) == created + timedelta(seconds=5)
    last_possible = created + period - timedelta(hours=8)
    assert rules.next_attempt(9, created, last_possible, policy) == created + period
    late = last_possible + timedelta(seconds=1)
    assert rules.next_attempt(9, created, late, policy) is None
    assert rules.next_attempt(1, created, created + period, policy) is None


def test_the_schedule_gives_up_within_the_retry_period() -> None:
    # given
    policy = WebhookPolicy()
    created = now = datetime(2026, 1, 5, 9, tzinfo=UTC)
    attempts = 1
    # when
    while (following := rules.next_attempt(attempts, created, now, policy)) is not None:
        assert following > now
        now, attempts = following, attempts + 1
    # then
    assert now <= created + timedelta(days=3)
    assert attempts == 16


@pytest.mark.parametrize(
    "url",
    [
        "https://user:pw@hooks.example/",
        "https://token@hooks.example/",
        "ftp://hooks.example/",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "ws://hooks.example/",
        "hooks.example/no-scheme",
        "https:///path-only",
        "https://hooks.example:http/",
    ],
)
def test_endpoint_urls_with_credentials_or_other_schemes_are_refused(url: str) -> None:
    # then
    with pytest.raises(ValidationFailed) as refused:
        rules.endpoint_host(url)
    assert refused.value.details == {"field": "url"}


@pytest.mark.parametrize(
    ("url", "host", "port"),
    [
        ("https://hooks.example/tg", "hooks.example", 443),
        ("http://hooks.example/tg", "hooks.example", 80),
        ("https://HOOKS.example:8443/tg?x=1", "hooks.example", 8443),
        ("http://[2001:db8::1]:8080/", "2001:db8::1", 8080),
    ],
)
def test_endpoint_host_and_port(url: str, host: str, port: int) -> None:
    assert rules.endpoint_host(url) == (host, port)


@pytest.mark.parametrize(
    ("address", "allowed_with"),
    [
        ("93.184.216.34", {}),
        ("127.0.0.1", {"allow_localhost": True}),
        ("::1", {"allow_localhost": True}),
        ("::ffff:127.0.0.1", {"allow_localhost": True}),
        ("10.0.0.1", {"allow_private_networks": True}),
        ("172.16.5.4", {"allow_private_networks": True}),
        ("::ffff:192.168.1.1", {"allow_private_networks": True}),
        ("fd12:3456::1", {"allow_private_networks": True}),
        ("169.254.169.254", None),
        ("fe80::1", None),
        ("fe80::1%eth0", None),
        ("224.0.0.251", None),
        ("0.0.0.0", None),  # noqa: S104 - an address under test, nothing binds to it
        ("::", None),
        ("240.0.0.1", None),
    ],
)
def test_which_addresses_each_policy_allows(
    address: str, allowed_with: dict[str, bool] | None
) -> None:
    # given
    strictest = WebhookPolicy()
    loosest = WebhookPolicy(allow_localhost=True, allow_private_networks=True)
    # then
    if allowed_with is None:
        with pytest.raises(ValidationFailed, match="forbidden"):
            rules.check_addresses("h.example", [address], loosest)
        return
    rules.check_addresses("h.example", [address], WebhookPolicy(**allowed_with))
    rules.check_addresses("h.example", [address], loosest)
    if allowed_with:
        with pytest.raises(ValidationFailed):
            rules.check_addresses("h.example", [address], strictest)


def test_a_delivery_settles_once() -> None:
    # then
    outcomes = {
        event: DELIVERY_TRANSITIONS.fire(DeliveryState.PENDING, event, Actor.SYSTEM).target
        for event in DeliveryEvent
    }
    assert outcomes == {
        DeliveryEvent.SUCCEED: DeliveryState.SUCCEEDED,
        DeliveryEvent.RETRY: DeliveryState.PENDING,
        DeliveryEvent.GIVE_UP: DeliveryState.FAILED,
    }
    for final in (DeliveryState.SUCCEEDED, DeliveryState.FAILED):
        for event in DeliveryEvent:
            with pytest.raises(TransitionNotAllowed):
                DELIVERY_TRANSITIONS.fire(final, event, Actor.SYSTEM)


def test_a_late_report_for_a_settled_delivery_changes_nothing(
    hooks_app: App, client: Any, receiver: Receiver, dispatcher: WebhookDispatcher
) -> None:
    # given: a delivery that succeeded
    endpoint = register(client, receiver.url("/hooks"))
    checkout(client)
    dispatcher.drain()
    (done,) = deliveries(client, endpoint["id"])
    # when: a dispatcher whose lease had run out reports a failure afterwards
    hooks_app.webhooks.record(done["id"], status_code=500, error="HTTP 500", duration_ms=3)
    # then
    after = delivery(client, done["id"])
    assert (after["state"], after["attempts"], after["last_status_code"]) == ("succeeded", 1, 200)
    assert len(after["attempt_log"]) == 1
