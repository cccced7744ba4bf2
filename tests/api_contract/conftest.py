"""Fixtures for the API contract tests: an in-process HTTP client for the ASGI app.

The client lives here, as a fixture, rather than in an importable helper module,
so these tests never collide with another folder's module of the same name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import httpx
import pytest

from tradeguard.adapters.api.app import create_api
from tradeguard.bootstrap import App

ALL_SCOPES = ("orders", "payments", "tokens", "webhooks", "admin")


class ApiClient:
    """Sends requests to the gateway in process (httpx over ASGI) as an all-scopes operator.

    Each request runs in its own event loop, so tests stay synchronous. An exception
    escaping the application becomes the 500 the server would have answered.
    """

    def __init__(self, app: App) -> None:
        self.app = app
        self.asgi = create_api(app)
        _, self.key = app.access.create_api_key("contract", list(ALL_SCOPES))

    def request(
        self, method: str, url: str, *, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        """One request, authenticated with the operator key unless ``headers`` say otherwise."""
        sent = {"authorization": f"Bearer {self.key}", **(headers or {})}

        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.asgi, raise_app_exceptions=False)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://tradeguard.test"
            ) as client:
                response = await client.request(method, url, headers=sent, **kwargs)
                await response.aread()
                return response

        return anyio.run(send)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        """GET."""
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        """POST."""
        return self.request("POST", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        """DELETE."""
        return self.request("DELETE", url, **kwargs)


@pytest.fixture
def api_client() -> Callable[[App], ApiClient]:
    """Make an :class:`ApiClient` for an App (it creates its own all-scopes API key)."""
    return ApiClient
