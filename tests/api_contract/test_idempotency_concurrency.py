"""Idempotency-Key and payment confirmation under real concurrency (DESIGN.md §3, §15).

The API is served by uvicorn on 127.0.0.1 and a free port, and 20 threads fire
the same request at the same moment over real HTTP connections: to one server
running requests in its thread pool, and in turn to two servers running them
inline on their event loops (as `serve --inline --workers 2` does in two
processes; here two event loops share the App). PostgreSQL only:
SQLite has one writer, so its requests would queue behind each other instead of
racing, and the row locks this checks do not exist there.
"""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import uvicorn

from tradeguard.adapters.api.app import create_api
from tradeguard.bootstrap import App
from tradeguard.kernel.parties import OPERATOR, buyer, seller
from tradeguard.orders.model import GoodsKind
from tradeguard.orders.rules import CartLine

pytestmark = pytest.mark.parametrize("database", ["postgresql"], indirect=True)

RACERS = 20


class Served:
    """The API served by uvicorn in a background thread."""

    def __init__(self, app: App, *, inline: bool = False) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.base_url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(
            app=create_api(app, inline=inline),
            log_level="warning",
            access_log=False,
            lifespan="on",
            ws="none",
            http="h11",
            limit_concurrency=200,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )
        self.thread.start()
        self._wait_until_healthy()

    def _wait_until_healthy(self) -> None:
        deadline = time.monotonic() + 20
        with httpx.Client(base_url=self.base_url) as probe:
            while time.monotonic() < deadline:
                try:
                    if probe.get("/healthz").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        raise RuntimeError("uvicorn did not answer /healthz within 20 s")

    def stop(self) -> None:
        """Ask uvicorn to exit, wait for it, release the socket."""
        self.server.should_exit = True
        self.thread.join(timeout=20)
        self.sock.close()


class Alternating(httpx.BaseTransport):
    """Send each request to the next server in turn, as a balancer in front of processes would.

    Only the port changes (the Host header keeps the first server's): both serve one App.
    An inline server runs one request at a time, so there the twenty racers meet as two.
    """

    def __init__(self, servers: list[Served], limits: httpx.Limits) -> None:
        self.ports = [httpx.URL(s.base_url).port for s in servers]
        self.turns = itertools.count()
        self.transport = httpx.HTTPTransport(limits=limits)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(port=self.ports[next(self.turns) % len(self.ports)])
        return self.transport.handle_request(request)

    def close(self) -> None:
        self.transport.close()


@pytest.fixture(params=["threaded", "inline"])
def served(app: App, request: pytest.FixtureRequest) -> Iterator[list[Served]]:
    """The default-policy app behind uvicorn: one threaded server, or two inline ones."""
    if request.param == "threaded":
        servers = [Served(app)]
    else:
        servers = [Served(app, inline=True), Served(app, inline=True)]
    yield servers
    for server in servers:
        server.stop()


@pytest.fixture
def http(app: App, served: list[Served]) -> Iterator[httpx.Client]:
    """A client of the served API with an all-scopes operator key."""
    _, key = app.access.create_api_key(
        "contract", ["orders", "payments", "tokens", "webhooks", "admin"]
    )
    limits = httpx.Limits(max_connections=RACERS * 2, max_keepalive_connections=RACERS * 2)
    with httpx.Client(
        base_url=served[0].base_url,
        headers={"authorization": f"Bearer {key}"},
        transport=Alternating(served, limits),
        timeout=60,
    ) as client:
        yield client


def race(call: Callable[[], httpx.Response], racers: int = RACERS) -> list[httpx.Response]:
    """Start ``racers`` calls at the same moment; return every response."""
    barrier = threading.Barrier(racers)
    responses: list[Any] = [None] * racers

    def run(n: int) -> None:
        barrier.wait()
        try:
            responses[n] = call()
        except Exception as exc:  # reported by the assertions below
            responses[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(isinstance(r, httpx.Response) for r in responses), responses
    return responses


def _in_use(response: httpx.Response) -> bool:
    return (
        response.status_code == 409
        and response.headers["content-type"] == "application/problem+json"
        and response.json()["code"] == "idempotency_key_in_use"
        and response.headers["retry-after"] == "1"
    )


def _balance(http: httpx.Client, account: str) -> int:
    response = http.get("/v1/accounts", params={"prefix": account})
    assert response.status_code == 200, response.text
    return sum(b["balance_minor"] for b in response.json()["data"] if b["account"] == account)


def test_twenty_identical_checkouts_with_one_key_create_one_checkout(
    app: App, http: httpx.Client
) -> None:
    # given
    assert (
        http.put("/v1/listings/l_tea", json={"seller_id": "s1", "title": "Tea"}).status_code == 200
    )
    body = {
        "buyer_id": "b_race",
        "currency": "CNY",
        "lines": [{"listing_id": "l_tea", "quantity": 2, "unit_price_minor": 4_000}],
        "shipping_fees_minor": {"s1": 600},
    }
    headers = {"idempotency-key": "checkout-b_race-1"}
    # when
    responses = race(lambda: http.post("/v1/checkouts", json=body, headers=headers))
    # then: one checkout; every answer is it or "still running"
    created = [r for r in responses if r.status_code == 201]
    assert created, [r.status_code for r in responses]
    assert all(r.status_code == 201 or _in_use(r) for r in responses), [
        (r.status_code, r.text) for r in responses
    ]
    assert len({r.json()["payment_group_id"] for r in created}) == 1
    assert len({r.content for r in created}) == 1
    orders = http.get("/v1/orders", params={"buyer_id": "b_race"}).json()["data"]
    assert len(orders) == 1
    assert orders[0]["payment_group_id"] == created[0].json()["payment_group_id"]
    assert orders[0]["total_minor"] == 8_600
    # when: a retry after the race
    again = http.post("/v1/checkouts", json=body, headers=headers)
    # then: the stored answer
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == created[0].content
    assert len(http.get("/v1/orders", params={"buyer_id": "b_race"}).json()["data"]) == 1
    assert app.verify_ledger() == []


@pytest.fixture
def funded_seller(app: App) -> int:
    """Seller s1 holds 98.00 available from one completed 100.00 sale."""
    app.orders.register_listing("l_cup", "s1", "Cup", GoodsKind.PHYSICAL, None)
    made = app.orders.create_checkout("b1", "CNY", [CartLine("l_cup", 1, 10_000)])
    order_id = made.orders[0].id
    app.orders.confirm_payment(made.payment_group_id, 10_000, "CNY", "psp-cup", OPERATOR)
    app.orders.ship(order_id, seller("s1"), carrier="SF", tracking_number="SF1")
    app.orders.confirm_receipt(order_id, buyer("b1"))
    available = sum(b.balance_minor for b in app.balances("seller:s1:available"))
    assert available == 9_800
    return available


def test_twenty_identical_payouts_with_one_key_pay_the_seller_once(
    app: App, http: httpx.Client, funded_seller: int
) -> None:
    # given
    body = {"seller_id": "s1", "amount_minor": 5_000, "currency": "CNY"}
    headers = {"idempotency-key": "payout-s1-2026-01-05"}
    # when
    responses = race(lambda: http.post("/v1/payouts", json=body, headers=headers))
    # then
    created = [r for r in responses if r.status_code == 201]
    assert created, [r.status_code for r in responses]
    assert all(r.status_code == 201 or _in_use(r) for r in responses), [
        (r.status_code, r.text) for r in responses
    ]
    assert len({r.json()["id"] for r in created}) == 1
    payouts = http.get("/v1/payouts", params={"seller_id": "s1"}).json()["data"]
    assert [(p["amount_minor"], p["state"]) for p in payouts] == [(5_000, "paid")]
    assert payouts[0]["id"] == created[0].json()["id"]
    assert _balance(http, "seller:s1:available") == funded_seller - 5_000
    assert _balance(http, "seller:s1:payouts") == 5_000
    assert app.verify_ledger() == []


def test_twenty_different_payouts_never_overdraw_the_seller(
    app: App, http: httpx.Client, funded_seller: int
) -> None:
    # given: each asks for more than half of what the seller holds, each with its own key
    body = {"seller_id": "s1", "amount_minor": 5_000, "currency": "CNY"}
    keys = iter(f"payout-{n}" for n in range(RACERS))
    lock = threading.Lock()

    def ask() -> httpx.Response:
        with lock:
            key = next(keys)
        return http.post("/v1/payouts", json=body, headers={"idempotency-key": key})

    # when
    responses = race(ask)
    # then: exactly one is paid; the others are refused, none fails
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 1, statuses
    assert all(s < 500 or s == 503 for s in statuses), [(r.status_code, r.text) for r in responses]
    assert all(
        r.headers["content-type"] == "application/problem+json"
        for r in responses
        if r.status_code != 201
    )
    assert len(http.get("/v1/payouts", params={"seller_id": "s1"}).json()["data"]) == 1
    assert _balance(http, "seller:s1:available") == funded_seller - 5_000
    assert app.verify_ledger() == []


def test_twenty_confirmations_of_one_payment_escrow_the_money_once(
    app: App, http: httpx.Client
) -> None:
    # given: a two-seller checkout awaiting payment
    app.orders.register_listing("l_a", "s1", "A", GoodsKind.PHYSICAL, None)
    app.orders.register_listing("l_b", "s2", "B", GoodsKind.PHYSICAL, None)
    made = app.orders.create_checkout(
        "b1", "CNY", [CartLine("l_a", 1, 3_000), CartLine("l_b", 2, 2_500)], {"s2": 500}
    )
    group = made.payment_group_id
    body = {"amount_minor": made.total_minor, "currency": "CNY", "payment_reference": "psp-777"}
    # when: no Idempotency-Key, the same payment reported 20 times at once
    responses = race(lambda: http.post(f"/v1/payment-groups/{group}/payment", json=body))
    # then: reporting the same reference again is harmless
    assert [r.status_code for r in responses] == [200] * RACERS, [
        (r.status_code, r.text) for r in responses
    ]
    assert app.verify_ledger() == []
    orders = http.get("/v1/orders", params={"payment_group_id": group}).json()["data"]
    assert len(orders) == 2
    assert {o["state"] for o in orders} == {"paid"}
    for order in orders:
        assert order["paid_minor"] == order["escrow_minor"] == order["total_minor"]
        assert _balance(http, f"escrow:order:{order['id']}") == order["total_minor"]
        timeline = http.get(f"/v1/orders/{order['id']}/timeline").json()["events"]
        assert [e["type"] for e in timeline].count("order.paid") == 1
    assert sum(o["total_minor"] for o in orders) == made.total_minor == 8_500
