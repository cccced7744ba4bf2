"""OneHopRoute: a sync endpoint runs, and its answer is checked and rendered, in one place.

Threaded (the default) that place is one worker thread; inline it is the event
loop. Either way the answers and the OpenAPI document are FastAPI's own.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI, HTTPException, Response, status
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field, field_serializer

from tradeguard.adapters.api.routing import api_router, run_inline

threads: dict[str, int] = {}


class Item(BaseModel):
    id: str
    price_minor: int = Field(ge=0, serialization_alias="priceMinor")
    note: str | None = None

    @field_serializer("id")
    def _remember_thread(self, value: str) -> str:
        threads["serialised"] = threading.get_ident()
        return value


def build(router: APIRouter, *, inline: bool = False) -> TestClient:
    @router.post("/items", status_code=status.HTTP_201_CREATED)
    def create(body: Item) -> Item:
        threads["endpoint"] = threading.get_ident()
        return body

    @router.get("/broken")
    def broken() -> Item:
        return {"id": "x", "price_minor": -1}  # type: ignore[return-value]

    @router.get("/plain")
    def plain() -> dict[str, Any]:
        return {"b": 1, "a": [1, 2]}

    @router.get("/no-model", response_model=None)
    def no_model() -> Any:
        return {"free": "form"}

    @router.get("/async")
    async def asynchronous() -> Item:
        threads["event loop"] = threading.get_ident()
        return Item(id="a", price_minor=1)

    @router.post("/accepted")
    def accepted(body: Item, response: Response) -> Item:
        response.status_code = status.HTTP_202_ACCEPTED
        response.headers["x-queue"] = "7"
        return body

    @router.get("/sparse", response_model_exclude_none=True)
    def sparse() -> Item:
        return Item(id="s", price_minor=1)

    @router.get("/refused")
    def refused() -> Item:
        raise HTTPException(status.HTTP_409_CONFLICT, "taken", headers={"retry-after": "1"})

    @router.delete("/items/{item_id}", status_code=status.HTTP_204_NO_CONTENT)
    def delete(item_id: str) -> None:
        return None

    app = FastAPI()
    app.include_router(router)

    @app.middleware("http")
    async def mode(request: Any, call_next: Any) -> Any:
        run_inline.set(inline)  # what the gateway does for `serve --inline`
        return await call_next(request)

    return TestClient(app, raise_server_exceptions=False)


# Entered as context managers: one event loop thread serves all of a client's requests.


@pytest.fixture(scope="module")
def one_hop() -> Iterator[TestClient]:
    with build(api_router()) as client:
        yield client


@pytest.fixture(scope="module")
def inline() -> Iterator[TestClient]:
    with build(api_router(), inline=True) as client:
        yield client


@pytest.fixture(scope="module")
def fastapi_default() -> Iterator[TestClient]:
    with build(APIRouter()) as client:
        yield client


def test_a_sync_endpoints_answer_is_rendered_in_the_thread_that_ran_it(
    one_hop, fastapi_default
) -> None:
    # when
    response = one_hop.post("/items", json={"id": "i1", "price_minor": 5})
    # then
    assert response.status_code == 201
    assert threads["serialised"] == threads["endpoint"]
    # where FastAPI's own route goes back to the event loop to render it
    fastapi_default.post("/items", json={"id": "i1", "price_minor": 5})
    assert threads["serialised"] != threads["endpoint"]


def test_an_inline_endpoint_runs_and_is_rendered_on_the_event_loop(inline) -> None:
    # given: the event loop's thread
    inline.get("/async")
    # when
    response = inline.post("/items", json={"id": "i1", "price_minor": 5})
    # then
    assert response.status_code == 201
    assert threads["endpoint"] == threads["serialised"] == threads["event loop"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/items", {"id": "i1", "price_minor": 5}),
        ("POST", "/items", {"id": "i1", "price_minor": 5, "note": "fragile"}),
        ("POST", "/items", {"id": "i1", "price_minor": -5}),
        ("GET", "/broken", None),
        ("GET", "/plain", None),
        ("GET", "/no-model", None),
        ("GET", "/async", None),
        ("POST", "/accepted", {"id": "i2", "price_minor": 1}),
        ("GET", "/sparse", None),
        ("GET", "/refused", None),
        ("DELETE", "/items/i1", None),
    ],
)
def test_answers_are_the_ones_fastapi_gives(
    one_hop, inline, fastapi_default, method, path, body
) -> None:
    # when
    theirs = fastapi_default.request(method, path, json=body)
    for ours in (one_hop.request(method, path, json=body), inline.request(method, path, json=body)):
        # then: status, body and content type match, including a broken contract's 500
        assert (ours.status_code, ours.content) == (theirs.status_code, theirs.content)
        for header in ("content-type", "x-queue", "retry-after"):
            assert ours.headers.get(header) == theirs.headers.get(header), header


def test_the_openapi_document_is_the_one_fastapi_gives(one_hop, fastapi_default) -> None:
    assert one_hop.get("/openapi.json").json() == fastapi_default.get("/openapi.json").json()
