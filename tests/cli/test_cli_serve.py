"""`tradeguard serve`: the API over real HTTP, threaded on SQLite and inline in two processes on PostgreSQL."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tradeguard.bootstrap import build_app

SERVE = str(Path(sys.executable).parent / "tradeguard")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def operator_key(database: Any) -> str:
    app = build_app(database.url, migrate=False)
    try:
        _, key = app.access.create_api_key("serve-test", ["orders", "payments", "tokens"])
    finally:
        app.close()
    return key


@pytest.fixture
def serving(
    database: Any, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[httpx.Client]:
    """`tradeguard serve` with the test's options, on the test's database and a free port."""
    port = _free_port()
    errors = tmp_path / "serve.err"
    with errors.open("w") as stderr:
        server = subprocess.Popen(  # noqa: S603 - our own entry point, our own arguments
            [SERVE, "serve", "--port", str(port), *request.param],
            env={**os.environ, "TRADEGUARD_DATABASE_URL": database.url},
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,  # uvicorn's worker processes go with it on the way out
        )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            until = time.monotonic() + 60
            while True:
                try:
                    if client.get("/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert server.poll() is None, errors.read_text()
                assert time.monotonic() < until, "serve did not become ready in 60 s"
                time.sleep(0.2)
            yield client
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


@pytest.mark.parametrize(
    ("database", "serving"),
    [("sqlite", []), ("postgresql", ["--inline", "--workers", "2"])],
    indirect=True,
    ids=["threaded-sqlite", "inline-two-processes-postgresql"],
)
def test_serve_runs_an_order_lifecycle_over_http(serving: httpx.Client, operator_key: str) -> None:
    operator = {"Authorization": f"Bearer {operator_key}"}

    def token(party: str) -> dict[str, str]:
        minted = serving.post("/v1/tokens", json={"party": party}, headers=operator)
        assert minted.status_code == 201, minted.text
        return {"Authorization": f"Bearer {minted.json()['token']}"}

    # given: a listing, and tokens for its seller and a buyer
    listing = {"seller_id": "s1", "title": "Tea"}
    assert serving.put("/v1/listings/l_tea", json=listing, headers=operator).status_code == 200
    seller, buyer = token("seller:s1"), token("buyer:b1")
    # when: the whole guaranteed transaction goes through the served API
    cart = {
        "buyer_id": "b1",
        "currency": "CNY",
        "lines": [{"listing_id": "l_tea", "quantity": 1, "unit_price_minor": 4_000}],
    }
    once = {**operator, "Idempotency-Key": "serve-checkout-1"}
    checkout = serving.post("/v1/checkouts", json=cart, headers=once)
    assert checkout.status_code == 201, checkout.text
    order_id = checkout.json()["orders"][0]["id"]
    group = checkout.json()["payment_group_id"]
    payment = {"amount_minor": 4_000, "currency": "CNY", "payment_reference": "psp-1"}
    paid = serving.post(f"/v1/payment-groups/{group}/payment", json=payment, headers=operator)
    assert paid.status_code == 200, paid.text
    shipment = {"carrier": "SF", "tracking_number": "SF1"}
    shipped = serving.post(f"/v1/orders/{order_id}/ship", json=shipment, headers=seller)
    assert shipped.status_code == 200, shipped.text
    received = serving.post(f"/v1/orders/{order_id}/confirm-receipt", headers=buyer)
    assert received.status_code == 200, received.text
    # then: the order is complete, the retried checkout is a replay, a stranger sees nothing
    assert serving.get(f"/v1/orders/{order_id}", headers=buyer).json()["state"] == "completed"
    again = serving.post("/v1/checkouts", json=cart, headers=once)
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json()["payment_group_id"] == group
    stranger = token("buyer:b2")
    assert serving.get(f"/v1/orders/{order_id}", headers=stranger).status_code == 404
