"""Fixtures of the HTTP API tests: a TestClient, keys, tokens, staff logins and a small world.

Everything a test asserts on goes through HTTP (``create_api(app)`` in a
Starlette ``TestClient``); the App's services are used only to set up what the
API cannot (an API key to start with, staff accounts, a settled webhook
delivery) and to move time. The helpers live here as fixtures rather than in an
importable module, so these tests never collide with another folder's helpers.
"""

from __future__ import annotations

import itertools
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from functools import cached_property
from typing import Any

import pytest
from argon2 import PasswordHasher
from httpx import Response
from sqlalchemy import event
from starlette.exceptions import StarletteDeprecationWarning

from tradeguard.access import service as access_service
from tradeguard.access.model import Scope, StaffRole
from tradeguard.adapters.api.app import create_api
from tradeguard.bootstrap import App
from tradeguard.kernel.clock import FakeClock

with warnings.catch_warnings():
    # Starlette asks for httpx2 at import time; the project pins httpx, which still works.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

CNY = "CNY"
PASSWORD = "correct horse battery staple"
SHIPMENT = {"carrier": "SF", "tracking_number": "SF1234567890"}
#: Every key an RFC 9457 problem document of this API carries.
PROBLEM_FIELDS = frozenset({"type", "title", "status", "detail", "code", "instance", "request_id"})


class As(Enum):
    """Who sends a request when no credential string is given."""

    OPERATOR = "the operator key with every scope"
    NOBODY = "no Authorization header"


Auth = str | As


def bearer(credential: str) -> dict[str, str]:
    """The Authorization header for an API key or a token."""
    return {"Authorization": f"Bearer {credential}"}


def assert_problem(response: Response, status: int, code: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status and code; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert set(body) >= PROBLEM_FIELDS, body
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"/problems/{code}"
    assert body["instance"] == response.request.url.path
    assert body["request_id"] == response.headers["x-request-id"]
    assert body["title"]
    assert body["detail"]
    return body


@dataclass(frozen=True)
class Staff:
    """A staff account and the token its login returned."""

    id: str
    email: str
    password: str
    role: StaffRole
    token: str


class Api:
    """A TestClient on one App, with the calls scenarios keep making."""

    OPERATOR = As.OPERATOR
    NOBODY = As.NOBODY

    def __init__(self, app: App, client: TestClient, clock: FakeClock) -> None:
        self.app = app
        self.client = client
        self.clock = clock
        _, self.operator_key = app.access.create_api_key("operator, every scope", list(Scope))
        self._keys: dict[frozenset[Scope], str] = {frozenset(Scope): self.operator_key}
        self._tokens: dict[str, str] = {}
        self._staff: dict[StaffRole, Staff] = {}
        self._numbers = itertools.count(1)

    # -- requests -------------------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        *,
        auth: Auth = As.OPERATOR,
        headers: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Response:
        """Send a request as ``auth``: a key or token, the all-scopes operator key, or nobody."""
        sent = dict(headers or {})
        if auth is As.OPERATOR:
            sent.update(bearer(self.operator_key))
        elif isinstance(auth, str):
            sent.update(bearer(auth))
        return self.client.request(method, path, headers=sent, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Response:
        """GET ``path``."""
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Response:
        """POST ``path``."""
        return self.call("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Response:
        """PUT ``path``."""
        return self.call("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Response:
        """DELETE ``path``."""
        return self.call("DELETE", path, **kwargs)

    def ok(self, response: Response, status: int = 200) -> Any:
        """The JSON body of a response that must have this status."""
        assert response.status_code == status, response.text
        return response.json()

    @staticmethod
    def problem(response: Response, status: int, code: str) -> dict[str, Any]:
        """The body of a response that must be this problem (see :func:`assert_problem`)."""
        return assert_problem(response, status, code)

    # -- credentials ----------------------------------------------------------------------------

    def number(self) -> int:
        """A number never handed out before in this test (for unique names)."""
        return next(self._numbers)

    def key(self, *scopes: Scope) -> str:
        """An operator API key with exactly these scopes (one per set, made on first use)."""
        wanted = frozenset(scopes)
        if wanted not in self._keys:
            _, plaintext = self.app.access.create_api_key(f"key {'+'.join(sorted(wanted))}", wanted)
            self._keys[wanted] = plaintext
        return self._keys[wanted]

    def new_key(self, *scopes: Scope) -> tuple[str, str]:
        """A new operator API key: its id and its plaintext."""
        key, plaintext = self.app.access.create_api_key(f"key {self.number()}", scopes)
        return key.id, plaintext

    def token(self, party: str) -> str:
        """A participant token for ``buyer:ID`` or ``seller:ID``, minted by the operator (cached)."""
        if party not in self._tokens:
            self._tokens[party] = self.mint(party)
        return self._tokens[party]

    def mint(self, party: str, ttl_seconds: int | None = None) -> str:
        """A new participant token from ``POST /v1/tokens``."""
        body: dict[str, Any] = {"party": party}
        if ttl_seconds is not None:
            body["ttl_seconds"] = ttl_seconds
        token: str = self.ok(self.post("/v1/tokens", json=body), 201)["token"]
        return token

    def staff(self, role: StaffRole) -> Staff:
        """The staff member with this role (``<role>@tradeguard.test``), logged in (cached)."""
        if role not in self._staff:
            self._staff[role] = self.new_staff(role, f"{role.value}@tradeguard.test")
        return self._staff[role]

    def new_staff(self, role: StaffRole, email: str | None = None) -> Staff:
        """Create a staff account and log it in through ``POST /v1/staff/sessions``."""
        email = email or f"staff-{self.number()}@tradeguard.test"
        account = self.app.access.create_staff(email, role, PASSWORD)
        session = self.ok(
            self.post(
                "/v1/staff/sessions", auth=As.NOBODY, json={"email": email, "password": PASSWORD}
            ),
            201,
        )
        return Staff(account.id, email, PASSWORD, role, session["token"])

    # -- orders ---------------------------------------------------------------------------------

    def listing(
        self,
        listing_id: str,
        seller_id: str,
        goods_kind: str = "physical",
        purchase_limit: int | None = None,
    ) -> dict[str, Any]:
        """Register a listing."""
        body: dict[str, Any] = {
            "seller_id": seller_id,
            "title": f"{goods_kind} goods of {seller_id}",
            "goods_kind": goods_kind,
        }
        if purchase_limit is not None:
            body["purchase_limit_per_buyer"] = purchase_limit
        return self.ok(self.put(f"/v1/listings/{listing_id}", json=body))

    def checkout(
        self,
        buyer_id: str,
        lines: list[tuple[str, int, int]],
        shipping: dict[str, int] | None = None,
    ) -> dict[str, Any]:
        """Check out ``(listing_id, quantity, unit_price_minor)`` lines; return the checkout."""
        return self.ok(
            self.post("/v1/checkouts", json=checkout_body(buyer_id, lines, shipping)), 201
        )

    def pay(self, checkout: dict[str, Any]) -> dict[str, Any]:
        """The payment provider captured what the checkout costs; return the payment group."""
        group = checkout["payment_group_id"]
        body = {
            "amount_minor": checkout["total_minor"],
            "currency": CNY,
            "payment_reference": f"psp-{group}",
        }
        return self.ok(self.post(f"/v1/payment-groups/{group}/payment", json=body))

    def awaiting_order(
        self, buyer_id: str = "b1", listing_id: str = "phys-s1", price: int = 10_000
    ) -> dict[str, Any]:
        """A one-line order awaiting payment."""
        order: dict[str, Any] = self.checkout(buyer_id, [(listing_id, 1, price)])["orders"][0]
        return order

    def paid_order(
        self, buyer_id: str = "b1", listing_id: str = "phys-s1", price: int = 10_000
    ) -> dict[str, Any]:
        """A one-line order whose payment is held in escrow."""
        checkout = self.checkout(buyer_id, [(listing_id, 1, price)])
        order: dict[str, Any] = self.pay(checkout)["orders"][0]
        assert order["state"] == "paid"
        return order

    def ship(self, order: dict[str, Any]) -> dict[str, Any]:
        """The order's seller ships it with its own token."""
        return self.ok(
            self.post(
                f"/v1/orders/{order['id']}/ship",
                auth=self.token(f"seller:{order['seller_id']}"),
                json=SHIPMENT,
            )
        )

    def shipped_order(self, buyer_id: str = "b1", listing_id: str = "phys-s1") -> dict[str, Any]:
        """A paid physical order its seller shipped."""
        return self.ship(self.paid_order(buyer_id, listing_id))

    def completed_order(
        self, buyer_id: str = "b1", listing_id: str = "phys-s1", price: int = 10_000
    ) -> dict[str, Any]:
        """A shipped order whose buyer confirmed receipt: the seller's share is available."""
        order = self.ship(self.paid_order(buyer_id, listing_id, price))
        return self.ok(
            self.post(
                f"/v1/orders/{order['id']}/confirm-receipt", auth=self.token(f"buyer:{buyer_id}")
            )
        )

    def order(self, order_id: str, auth: Auth = As.OPERATOR) -> dict[str, Any]:
        """An order with its records, as ``auth`` reads it (``GET /v1/orders/{order_id}``)."""
        return self.ok(self.get(f"/v1/orders/{order_id}", auth=auth))

    def summary(self, order: dict[str, Any], auth: Auth = As.OPERATOR) -> dict[str, Any]:
        """An order's state and money as ``auth`` lists it (``GET /v1/orders``)."""
        params = {"payment_group_id": order["payment_group_id"]}
        listed = self.ok(self.get("/v1/orders", auth=auth, params=params))["data"]
        [found] = [o for o in listed if o["id"] == order["id"]]
        return dict(found)

    def balance(self, account: str, auth: Auth = As.OPERATOR) -> int:
        """An account's balance in CNY minor units as ``auth`` lists it (0 if never used)."""
        listed = self.ok(self.get("/v1/accounts", auth=auth, params={"prefix": account}))
        return next(
            (
                b["balance_minor"]
                for b in listed["data"]
                if b["account"] == account and b["currency"] == CNY
            ),
            0,
        )

    # -- time -----------------------------------------------------------------------------------

    def advance(self, delta: timedelta) -> None:
        """Move the clock and fire whatever is due, as the deadline worker would."""
        self.clock.advance(delta)
        self.app.run_deadlines()


def checkout_body(
    buyer_id: str, lines: list[tuple[str, int, int]], shipping: dict[str, int] | None = None
) -> dict[str, Any]:
    """The JSON of ``POST /v1/checkouts``."""
    body: dict[str, Any] = {
        "buyer_id": buyer_id,
        "currency": CNY,
        "lines": [
            {"listing_id": listing, "quantity": quantity, "unit_price_minor": price}
            for listing, quantity, price in lines
        ],
    }
    if shipping:
        body["shipping_fees_minor"] = shipping
    return body


@dataclass
class World:
    """Sellers s1 and s2, buyers b1 and b2, and a paid order of b1 from s1.

    s1 and b1 are the order's own parties; s2 and b2 are parties with no part in
    it. Other objects are made the first time a test asks for them.
    """

    api: Api
    order: dict[str, Any]  #: paid, physical, buyer b1, seller s1

    @cached_property
    def virtual_order(self) -> dict[str, Any]:
        """A paid virtual order of b1 from s1."""
        return self.api.paid_order("b1", "virt-s1", 990)

    @cached_property
    def shipped_order(self) -> dict[str, Any]:
        """A shipped physical order of b1 from s1."""
        return self.api.shipped_order("b1", "phys-s1")

    @cached_property
    def order_near_auto_confirm(self) -> dict[str, Any]:
        """A shipped order of b1 from s1 whose auto-confirm is 2 days away (it may be extended)."""
        order = self.api.shipped_order("b1", "phys-s1")
        self.api.clock.advance(timedelta(days=8))
        return order

    @cached_property
    def late_order(self) -> dict[str, Any]:
        """A paid order of b1 from s1 that s1 did not ship by the ship-by time."""
        order = self.api.paid_order("b1", "phys-s1")
        self.api.advance(timedelta(days=4))
        return self.api.summary(order)

    @cached_property
    def completed_order(self) -> dict[str, Any]:
        """A completed order of b1 from s1: s1 has an available balance to pay out."""
        return self.api.completed_order("b1", "phys-s1")

    @cached_property
    def payout(self) -> dict[str, Any]:
        """A payout of 1.00 CNY to s1, requested by s1."""
        assert self.completed_order["state"] == "completed"
        return self.api.ok(
            self.api.post(
                "/v1/payouts",
                auth=self.api.token("seller:s1"),
                json={"amount_minor": 100, "currency": CNY},
            ),
            201,
        )

    @cached_property
    def endpoint(self) -> dict[str, Any]:
        """A webhook endpoint on localhost (the policy must allow localhost)."""
        return self.api.ok(
            self.api.post("/v1/webhook-endpoints", json={"url": "http://127.0.0.1:9/hooks"}), 201
        )

    @cached_property
    def delivery(self) -> dict[str, Any]:
        """A settled (succeeded) delivery of an order.created event to :attr:`endpoint`."""
        endpoint = self.endpoint
        self.api.awaiting_order("b1", "phys-s1")
        # On PostgreSQL the feed shows an event only once every older transaction on the server
        # has ended; a long transaction elsewhere (another test process) holds it back a while.
        deliveries: list[Any] = []
        give_up = time.monotonic() + 60
        while not deliveries and time.monotonic() < give_up:
            self.api.app.webhooks.fan_out()
            deliveries = self.api.app.webhooks.deliveries(endpoint_id=endpoint["id"], limit=1)
            if not deliveries:
                time.sleep(0.05)
        [delivery] = deliveries
        settled = self.api.app.webhooks.record(
            delivery.id, status_code=204, error=None, duration_ms=3
        )
        assert settled.state.value == "succeeded"
        return self.api.ok(self.api.get(f"/v1/webhook-deliveries/{delivery.id}"))


def build_world(api: Api) -> World:
    """Register s1's physical and virtual listings and s2's listing; b1 buys from s1 and pays."""
    api.listing("phys-s1", "s1", "physical")
    api.listing("virt-s1", "s1", "virtual")
    api.listing("phys-s2", "s2", "physical")
    return World(api, api.paid_order("b1", "phys-s1"))


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at its production cost takes ~0.4 s a hash; these tests make dozens of logins."""
    monkeypatch.setattr(
        access_service, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


ApiFactory = Callable[..., Api]


def _fail_fast_on_sqlite_locks(database: Any) -> None:
    """Wait 0.1 s, not 30 s, for a SQLite lock: requests here run one at a time, so a lock
    held for longer is a request waiting on itself, and it should fail fast (503) rather
    than hang the test run for minutes."""
    if database.backend != "sqlite":
        return

    @event.listens_for(database.engine, "connect")
    def _short_busy_timeout(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=100")
        cursor.close()

    database.engine.dispose()  # connections opened from now on get the short timeout


@pytest.fixture
def make_api(make_app: Callable[..., App], clock: FakeClock, database: Any) -> Iterator[ApiFactory]:
    """Build an App with ``make_app(**overrides)`` (e.g. ``policy=``) and a TestClient on it."""
    _fail_fast_on_sqlite_locks(database)
    built: list[Api] = []
    with ExitStack() as stack:

        def factory(**overrides: Any) -> Api:
            app = make_app(**overrides)
            client = stack.enter_context(TestClient(create_api(app)))
            api = Api(app, client, overrides.get("clock", clock))
            built.append(api)
            return api

        yield factory
    for api in built:
        assert api.app.verify_ledger() == []  # DESIGN.md §3, whatever the test did


@pytest.fixture
def api(make_api: ApiFactory) -> Api:
    """The API of an App with the default policy, on the test's backend."""
    return make_api()


@pytest.fixture
def make_world() -> Callable[[Api], World]:
    """Build the small world of :class:`World` through an API."""
    return build_world


@pytest.fixture
def world(api: Api) -> World:
    """The small world on the default-policy API."""
    return build_world(api)
