"""The HTTP API keeps its own OpenAPI contract (DESIGN.md §15), checked by schemathesis.

Every operation of ``/openapi.json`` is fuzzed with generated requests, valid ones
(positive) and invalid ones (negative), sent through the real gateway with an
all-scopes operator API key. Each response must:

* never be a 5xx, whatever the input;
* have a status code the operation documents;
* have the content type documented for that status;
* match the documented response schema.

Further tests walk the success paths with real ids (listing, checkout, payment,
shipment, receipt, payout, staff, API keys, webhook endpoint and delivery) so the
2xx schemas are checked on real objects, not only on the 404s random ids get.

Why not ``schemathesis.pytest.from_fixture``: the installed schemathesis
(4.32.5) rewrites ``request.node._nodeid``, which pytest 9.2 no longer has
(``AttributeError: 'Function' object has no attribute '_nodeid'``). The tests
below use schemathesis' own Python API instead — ``openapi.from_asgi``,
``APIOperation.as_strategy`` with Hypothesis, ``case.call_and_validate`` — one
pytest test per operation (positive, then negative data), so a contract bug can
be marked on exactly the operation that has it.

The fuzzing runs on SQLite only. On PostgreSQL it took about 85 s of the
folder's 2-minute budget (every example is a round trip to the server), and
what it found there and not on SQLite has a single cause — PostgreSQL refuses
U+0000 in text. That finding, and the others, are pinned at the end of this
file as deterministic tests that run on both backends.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import event

from tradeguard.adapters.api.app import create_api
from tradeguard.adapters.api.routes import (
    access,
    aftersales,
    disputes,
    health,
    messaging,
    money,
    orders,
    reputation,
    webhooks,
)
from tradeguard.adapters.storage.engine import make_engine
from tradeguard.bootstrap import App, build_app
from tradeguard.kernel.clock import FakeClock
from tradeguard.kernel.parties import OPERATOR, buyer, seller
from tradeguard.orders.model import GoodsKind
from tradeguard.orders.rules import CartLine
from tradeguard.policy import build_policy

#: The tests that drive the schema run on SQLite only (see the module docstring).
sqlite_only = pytest.mark.parametrize("database", ["sqlite"], indirect=True)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
ALL_SCOPES = ["orders", "payments", "tokens", "webhooks", "admin"]
MAX_EXAMPLES = 12

#: Every operation the routers declare, as ``(METHOD, path)``; the schema must list exactly these.
OPERATIONS = sorted(
    (method, route.path)
    for router in (
        *(
            module.router
            for module in (orders, money, access, webhooks, health, messaging, aftersales, disputes)
        ),
        reputation.router,
        reputation.public_router,
    )
    for route in router.routes
    for method in getattr(route, "methods", ())
)

#: Contract bugs schemathesis found, by ``(METHOD, path)``: that operation's test is xfail(strict).
KNOWN_BUGS: dict[tuple[str, str], str] = {}
#: Operations left out of the fuzzing, with why. Each is pinned by a deterministic test below.
EXCLUDED = {
    # Self-deadlocks on SQLite: one request holds the database for 150 s, then answers 503,
    # and stalls every operation fuzzed after it. See test_payout_holds_answer_on_sqlite.
    ("GET", "/v1/payout-holds"),
}
#: These take no input at all (no parameters, body or credentials): nothing can be made invalid.
NO_INPUT = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/v1/public/platform-keys"),
}


def _public_resolver(host: str, port: int) -> list[str]:
    """Every host is public: fuzzed webhook URLs must not reach real DNS."""
    return ["93.184.216.34"]


@pytest.fixture
def contract_app(database: Any, clock: Any) -> App:
    """TradeGuard with the default policy, a fake clock and a resolver that never leaves the process."""
    app = build_app(
        engine=database.engine,
        policy=build_policy({}),
        clock=clock,
        migrate=False,
        resolver=_public_resolver,
    )
    return app  # its engine belongs to the `database` fixture, which disposes of it


@pytest.fixture
def operator_key(contract_app: App) -> str:
    """An all-scopes operator API key (its plaintext)."""
    _, plaintext = contract_app.access.create_api_key("contract", ALL_SCOPES)
    return plaintext


def _seed(app: App) -> dict[str, str]:
    """A small marketplace, so list endpoints answer with real objects.

    The schema's own examples use listing ``l_phone_case`` of seller ``s_1001``,
    so the example checkout the fuzzer sends succeeds too.
    """
    app.orders.register_listing("l_phone_case", "s_1001", "Phone case", GoodsKind.PHYSICAL, None)
    app.orders.register_listing("l_topup", "s_1001", "Top-up", GoodsKind.VIRTUAL, 1)
    checkout = app.orders.create_checkout("b_42", "CNY", [CartLine("l_phone_case", 1, 10_000)], {})
    order = checkout.orders[0]
    app.orders.confirm_payment(checkout.payment_group_id, 10_000, "CNY", "psp-seed", OPERATOR)
    app.orders.ship(order.id, seller("s_1001"), carrier="SF", tracking_number="SF1")
    app.orders.confirm_receipt(order.id, buyer("b_42"))
    payout = app.payouts.request("s_1001", 1_000, "CNY", OPERATOR)
    endpoint = app.webhooks.register("https://hooks.example/tg", ["order.*"], "seed")
    app.webhooks.fan_out()  # deliveries in the log, never sent
    return {
        "order_id": order.id,
        "payment_group_id": checkout.payment_group_id,
        "payout_id": payout.id,
        "endpoint_id": endpoint.id,
    }


@pytest.fixture
def seeded(contract_app: App) -> dict[str, str]:
    """The small marketplace of :func:`_seed` on the test's database."""
    return _seed(contract_app)


@pytest.fixture
def api_schema(contract_app: App, seeded: dict[str, str]) -> Any:
    """The app's own OpenAPI schema, loaded over ASGI from the running gateway."""
    return schemathesis.openapi.from_asgi("/openapi.json", create_api(contract_app))


@pytest.fixture(scope="module")
def fuzzed(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One seeded SQLite database and its schema for the whole fuzzing run, and the key to use.

    The fuzzed operations share it, as requests share a real server: building
    and seeding a database and loading the schema for each operation would cost
    more than the fuzzing itself.
    """
    path = tmp_path_factory.mktemp("fuzzed") / "tradeguard.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    app = build_app(
        engine=engine,
        policy=build_policy({}),
        clock=FakeClock(),
        migrate=False,
        resolver=_public_resolver,
    )
    _seed(app)
    _, key = app.access.create_api_key("contract", ALL_SCOPES)
    yield schemathesis.openapi.from_asgi("/openapi.json", create_api(app)), key
    engine.dispose()


def _params() -> list[Any]:
    params = []
    for method, path in OPERATIONS:
        if (method, path) in EXCLUDED:
            continue
        reason = KNOWN_BUGS.get((method, path))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(method, path, id=f"{method} {path}", marks=marks))
    return params


@pytest.mark.parametrize(("method", "path"), _params())
def test_operation_keeps_its_contract(fuzzed: Any, method: str, path: str) -> None:
    # given
    api_schema, operator_key = fuzzed
    operation = api_schema[path][method]
    auth = {"Authorization": f"Bearer {operator_key}"}
    modes = [GenerationMode.POSITIVE]
    if (method, path) not in NO_INPUT:
        modes.append(GenerationMode.NEGATIVE)
    for mode in modes:

        @given(case=operation.as_strategy(mode))
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            # a failure is reported as found (with its curl command): shrinking it costs seconds
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case: Any) -> None:
            # when / then
            case.call_and_validate(headers=auth, checks=CHECKS)

        fuzz()


def test_schema_lists_every_route(fuzzed: Any) -> None:
    # given
    api_schema, _ = fuzzed
    # then
    listed = sorted(
        (result.ok().method.upper(), result.ok().path) for result in api_schema.get_all_operations()
    )
    assert listed == OPERATIONS


@pytest.fixture
def call_ok(api_schema: Any, operator_key: str) -> Any:
    """Send one request built from the schema, validate the answer, check its status."""

    def call(method: str, path: str, expected: int, **parts: Any) -> Any:
        case = api_schema[path][method].Case(**parts)
        headers = {"Authorization": f"Bearer {operator_key}", **parts.get("headers", {})}
        response = case.call_and_validate(headers=headers, checks=CHECKS)
        assert response.status_code == expected, response.text
        if response.headers.get("content-type", [""])[0].startswith("application/json"):
            return response.json()
        return None

    return call


@sqlite_only
def test_success_responses_keep_their_contract(
    call_ok: Any, seeded: dict[str, str], contract_app: App
) -> None:
    """The 2xx answers of every area, each validated against its documented schema."""
    call = call_ok
    # a listing, a checkout, its payment
    call(
        "PUT",
        "/v1/listings/{listing_id}",
        200,
        path_parameters={"listing_id": "l_mug"},
        body={"seller_id": "s_7", "title": "Mug", "purchase_limit_per_buyer": 2},
    )
    call("GET", "/v1/listings/{listing_id}", 200, path_parameters={"listing_id": "l_mug"})
    checkout = call(
        "POST",
        "/v1/checkouts",
        201,
        body={
            "buyer_id": "b_7",
            "currency": "CNY",
            "lines": [{"listing_id": "l_mug", "quantity": 2, "unit_price_minor": 2_500}],
            "shipping_fees_minor": {"s_7": 500},
        },
    )
    group = checkout["payment_group_id"]
    order_id = checkout["orders"][0]["id"]
    call(
        "POST",
        "/v1/payment-groups/{payment_group_id}/payment",
        200,
        path_parameters={"payment_group_id": group},
        body={"amount_minor": 5_500, "currency": "CNY", "payment_reference": "psp-7"},
    )
    contract_app.orders.ship(order_id, seller("s_7"), carrier="SF", tracking_number="SF7")
    call("GET", "/v1/orders/{order_id}/timeline", 200, path_parameters={"order_id": order_id})
    call("GET", "/v1/orders", 200, query={"buyer_id": "b_7", "limit": 1})
    call("GET", "/v1/orders", 200, query={"state": ["shipped", "completed"]})
    # money
    call("GET", "/v1/accounts", 200, query={"prefix": "seller:s_1001:"})
    call("GET", "/v1/payouts", 200, query={"seller_id": "s_1001"})
    call("GET", "/v1/payouts/{payout_id}", 200, path_parameters={"payout_id": seeded["payout_id"]})
    call(
        "POST",
        "/v1/payouts/{payout_id}/failure",
        200,
        path_parameters={"payout_id": seeded["payout_id"]},
        body={"reason": "account closed"},
    )
    call(
        "POST",
        "/v1/payouts",
        201,
        body={"seller_id": "s_1001", "amount_minor": 500, "currency": "CNY"},
    )
    # access
    call("POST", "/v1/tokens", 201, body={"party": "buyer:b_7", "ttl_seconds": 600})
    call(
        "POST",
        "/v1/staff",
        201,
        body={"email": "ada@example.com", "role": "support", "password": "correct horse"},
    )
    session = call(
        "POST",
        "/v1/staff/sessions",
        201,
        body={"email": "ada@example.com", "password": "correct horse"},
    )
    call("GET", "/v1/staff/me", 200, headers={"Authorization": f"Bearer {session['token']}"})
    call("GET", "/v1/staff", 200)
    call(
        "DELETE",
        "/v1/staff/{staff_id}",
        200,
        path_parameters={"staff_id": session["staff"]["id"]},
    )
    created = call("POST", "/v1/api-keys", 201, body={"name": "ci", "scopes": ["orders"]})
    call("GET", "/v1/api-keys", 200)
    call("DELETE", "/v1/api-keys/{key_id}", 200, path_parameters={"key_id": created["id"]})
    # webhooks
    endpoint = call(
        "POST",
        "/v1/webhook-endpoints",
        201,
        body={"url": "https://shop.example/hooks", "event_types": ["order.paid"]},
    )
    call("GET", "/v1/webhook-endpoints", 200)
    call(
        "GET",
        "/v1/webhook-endpoints/{endpoint_id}",
        200,
        path_parameters={"endpoint_id": endpoint["id"]},
    )
    deliveries = call("GET", "/v1/webhook-deliveries", 200, query={"limit": 2})
    assert deliveries["data"], "the seeded endpoint has deliveries"
    call(
        "GET",
        "/v1/webhook-deliveries/{delivery_id}",
        200,
        path_parameters={"delivery_id": deliveries["data"][0]["id"]},
    )
    call(
        "DELETE",
        "/v1/webhook-endpoints/{endpoint_id}",
        200,
        path_parameters={"endpoint_id": endpoint["id"]},
    )
    call("GET", "/v1/events", 200, query={"after": 0, "limit": 5})
    # operations
    call("GET", "/healthz", 200)
    call("GET", "/readyz", 200)
    call("GET", "/metrics", 200)
    call("GET", "/problems/{code}", 200, path_parameters={"code": "idempotency_key_in_use"})
    call("GET", "/problems/{code}", 200, path_parameters={"code": "purchase_limit_exceeded"})


ORDER_PUBLIC_BUG = (
    "BUG: GET /v1/orders/{order_id} answers 500 (TypeError: got multiple values for keyword "
    "argument 'auto_confirm_at'): schemas.py OrderPublic.of_details passes ship_by_at, "
    "auto_confirm_at and auto_confirm_paused both in OrderSummary's dump and explicitly"
)


@pytest.fixture
def bought(contract_app: App) -> Any:
    """Buy one item of a listing of seller s_8 (``pot``: physical, ``key``: virtual)."""
    app = contract_app
    app.orders.register_listing("l_pot", "s_8", "Pot", GoodsKind.PHYSICAL, None)
    app.orders.register_listing("l_key", "s_8", "Key", GoodsKind.VIRTUAL, None)

    def buy(listing: str, buyer_id: str, pay: bool = True) -> str:
        made = app.orders.create_checkout(buyer_id, "CNY", [CartLine(listing, 1, 3_000)])
        if pay:
            reference = f"psp-{made.payment_group_id}"
            app.orders.confirm_payment(made.payment_group_id, 3_000, "CNY", reference, OPERATOR)
        return made.orders[0].id

    return buy


@sqlite_only
def test_an_order_with_its_records_keeps_its_contract(call_ok: Any, bought: Any) -> None:
    # given
    order_id = bought("l_pot", "b_8")
    # when / then
    call_ok("GET", "/v1/orders/{order_id}", 200, path_parameters={"order_id": order_id})


@sqlite_only
def test_order_commands_keep_their_contract(call_ok: Any, bought: Any) -> None:
    """The 2xx answers of the commands of an order's life."""
    call = call_ok
    shipped = bought("l_pot", "b_8")
    call(
        "POST",
        "/v1/orders/{order_id}/ship",
        200,
        path_parameters={"order_id": shipped},
        body={"carrier": "SF", "tracking_number": "SF8", "serial_numbers": ["SN1", "SN2"]},
    )
    call(
        "POST",
        "/v1/orders/{order_id}/tracking-events",
        200,
        path_parameters={"order_id": shipped},
        body={"status": "in_transit", "occurred_at": "2026-01-05T10:00:00Z", "location": "SZ"},
    )
    token = call("POST", "/v1/tokens", 201, body={"party": "buyer:b_8"})["token"]
    call(
        "POST",
        "/v1/orders/{order_id}/confirm-receipt",
        200,
        path_parameters={"order_id": shipped},
        headers={"Authorization": f"Bearer {token}"},
    )
    call(
        "POST",
        "/v1/orders/{order_id}/deliveries",
        200,
        path_parameters={"order_id": bought("l_key", "b_9")},
        body={"detail": "top-up of 10 CNY to 138****0000 succeeded"},
    )
    call(
        "POST",
        "/v1/orders/{order_id}/cancel",
        200,
        path_parameters={"order_id": bought("l_pot", "b_10", pay=False)},
        body={"reason": "changed my mind"},
    )


# -- what the fuzzing found, pinned as deterministic tests on both backends ---------------------

NUL = "\u0000"
NUL_BUG = (
    "BUG: a U+0000 character in free text passes validation and reaches PostgreSQL, which "
    "refuses it (psycopg DataError) -> 500; schemas.py string fields and query strings never "
    "reject NUL"
)
OVERFLOW_BUG = (
    "BUG: `after` has no upper bound (Query(ge=0)); 2**63 overflows the 64-bit sequence "
    "column -> 500 (routes/webhooks.py list_events, routes/orders.py order_timeline)"
)
TOTAL_BUG = (
    "BUG: a checkout's total is not bounded (100 lines x 10 000 x 10**13): it overflows the "
    "64-bit money columns -> 500 instead of 422 (schemas.py CheckoutCreate, orders rules)"
)

#: Requests with a NUL in one free-text field or query string: ``{name}`` is a seeded id.
NUL_REQUESTS = {
    "api-key-name": ("POST", "/v1/api-keys", {"json": {"name": f"ci{NUL}", "scopes": ["orders"]}}),
    "listing-title": (
        "PUT",
        "/v1/listings/l_nul",
        {"json": {"seller_id": "s_1001", "title": f"Mug{NUL}"}},
    ),
    "ship-carrier": (
        "POST",
        "/v1/orders/{paid}/ship",
        {"json": {"carrier": f"SF{NUL}", "tracking_number": "SF1"}},
    ),
    "delivery-detail": (
        "POST",
        "/v1/orders/{paid_virtual}/deliveries",
        {"json": {"detail": f"code{NUL}"}},
    ),
    "cancel-reason": ("POST", "/v1/orders/{unpaid}/cancel", {"json": {"reason": f"no{NUL}"}}),
    "payment-reference": (
        "POST",
        "/v1/payment-groups/{unpaid_group}/payment",
        {"json": {"amount_minor": 1_000, "currency": "CNY", "payment_reference": f"psp{NUL}"}},
    ),
    "payout-failure-reason": (
        "POST",
        "/v1/payouts/{payout}/failure",
        {"json": {"reason": f"closed{NUL}"}},
    ),
    "staff-email": (
        "POST",
        "/v1/staff",
        {"json": {"email": f"a{NUL}@example.com", "role": "support", "password": "x" * 12}},
    ),
    "staff-login-email": (
        "POST",
        "/v1/staff/sessions",
        {"json": {"email": f"a{NUL}@example.com", "password": "x"}},
    ),
    "webhook-description": (
        "POST",
        "/v1/webhook-endpoints",
        {"json": {"url": "https://hooks.example/tg", "description": f"d{NUL}"}},
    ),
    "webhook-event-type": (
        "POST",
        "/v1/webhook-endpoints",
        {"json": {"url": "https://hooks.example/tg", "event_types": [f"order.{NUL}"]}},
    ),
    "orders-buyer-filter": ("GET", "/v1/orders", {"params": {"buyer_id": NUL}}),
    "payouts-seller-filter": ("GET", "/v1/payouts", {"params": {"seller_id": NUL}}),
    "accounts-prefix": ("GET", "/v1/accounts", {"params": {"prefix": NUL}}),
    "deliveries-event-filter": ("GET", "/v1/webhook-deliveries", {"params": {"event_id": NUL}}),
}


@pytest.fixture
def marketplace(contract_app: App) -> dict[str, str]:
    """Orders in the states the pinned requests need, by name."""
    app = contract_app
    app.orders.register_listing("l_case", "s_1001", "Case", GoodsKind.PHYSICAL, None)
    app.orders.register_listing("l_code", "s_1001", "Code", GoodsKind.VIRTUAL, None)

    def checkout(listing: str, pay: bool) -> tuple[str, str]:
        made = app.orders.create_checkout("b_1", "CNY", [CartLine(listing, 1, 1_000)])
        if pay:
            reference = f"psp-{made.payment_group_id}"
            app.orders.confirm_payment(made.payment_group_id, 1_000, "CNY", reference, OPERATOR)
        return made.orders[0].id, made.payment_group_id

    paid, _ = checkout("l_case", pay=True)
    paid_virtual, _ = checkout("l_code", pay=True)
    unpaid, unpaid_group = checkout("l_case", pay=False)
    done, _ = checkout("l_case", pay=True)
    app.orders.ship(done, seller("s_1001"), carrier="SF", tracking_number="SF9")
    app.orders.confirm_receipt(done, buyer("b_1"))
    payout = app.payouts.request("s_1001", 100, "CNY", OPERATOR)
    return {
        "paid": paid,
        "paid_virtual": paid_virtual,
        "unpaid": unpaid,
        "unpaid_group": unpaid_group,
        "payout": payout.id,
    }


def _refused_cleanly(response: Any) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("name", sorted(NUL_REQUESTS))
def test_nul_in_text_is_never_a_server_error(
    request: pytest.FixtureRequest,
    database: Any,
    contract_app: App,
    marketplace: dict[str, str],
    api_client: Any,
    name: str,
) -> None:
    # given
    method, path, kwargs = NUL_REQUESTS[name]
    client = api_client(contract_app)
    # when
    response = client.request(method, path.format(**marketplace), **kwargs)
    # then
    _refused_cleanly(response)


@pytest.mark.parametrize("feed", ["events", "timeline"])
def test_event_sequence_beyond_64_bits_is_refused_not_a_server_error(
    contract_app: App, marketplace: dict[str, str], api_client: Any, feed: str
) -> None:
    # given
    client = api_client(contract_app)
    url = "/v1/events" if feed == "events" else f"/v1/orders/{marketplace['paid']}/timeline"
    # when
    response = client.get(url, params={"after": 2**63})
    # then
    _refused_cleanly(response)


def test_checkout_total_beyond_64_bits_is_refused_not_a_server_error(
    contract_app: App, marketplace: dict[str, str], api_client: Any
) -> None:
    # given: each line is valid on its own (10 000 x 10**13), 93 of them exceed 2**63 - 1
    client = api_client(contract_app)
    line = {"listing_id": "l_case", "quantity": 10_000, "unit_price_minor": 10**13}
    body = {"buyer_id": "b_2", "currency": "CNY", "lines": [line] * 93}
    # when
    response = client.post("/v1/checkouts", json=body)
    # then
    _refused_cleanly(response)
    assert response.status_code == 422


PAYOUT_HOLDS_BUG = (
    "BUG: GET /v1/payout-holds deadlocks on SQLite: routes/money.py payout_holds calls "
    "app.balances() (a second unit of work, BEGIN IMMEDIATE) inside app.units.run, so the "
    "inner transaction waits for the outer one: 503 after 5 x busy_timeout (150 s by default)"
)


@pytest.fixture
def impatient_sqlite_app(sqlite_template: Path, tmp_path: Path, clock: Any) -> Iterator[App]:
    """TradeGuard on SQLite with a 50 ms busy timeout, so a lock wait fails fast."""
    path = tmp_path / "impatient.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _impatient(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=50")
        cursor.close()

    yield build_app(engine=engine, policy=build_policy({}), clock=clock, migrate=False)
    engine.dispose()


def test_payout_holds_answer_on_sqlite(impatient_sqlite_app: App, api_client: Any) -> None:
    # when
    response = api_client(impatient_sqlite_app).get(
        "/v1/payout-holds", params={"seller_id": "s_1001"}
    )
    # then
    assert response.status_code == 200, response.text
