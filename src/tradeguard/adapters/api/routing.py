"""How a synchronous endpoint runs: in one trip to a worker thread, or inline on the event loop.

Our endpoints call services that block on the database, so FastAPI would run
them in its thread pool — and then go back to the pool a second time to check
the returned object against the response model before rendering it. Each trip
costs a thread wake-up and a GIL hand-over (~150-250 µs on a small VM, as much
as the rest of the routing). :class:`OneHopRoute` wraps such an endpoint so
that its result is checked and rendered, by the same Pydantic type adapter
FastAPI would use, right where the endpoint ran, and handed back as a finished
JSON :class:`~starlette.responses.Response`, which FastAPI passes through.

Where it runs is decided per request by :data:`run_inline`, which the gateway
sets from `tradeguard serve --inline`:

* threaded (the default): one trip to the thread pool, so a process serves many
  requests at once while each waits on the database;
* inline: on the event loop itself, no thread at all. A process then serves one
  request at a time, so it takes several processes per core (`--workers`) to
  keep the cores busy while requests wait on PostgreSQL — the pre-fork model of
  a classic WSGI server. With the hand-overs gone, the same machine answers
  about a quarter more requests (README, Benchmarks).

What FastAPI documents does not change: the wrapper keeps the endpoint's
signature and return annotation (``functools.wraps``), so parameters, the
response model and the OpenAPI document are derived from the original.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar

import anyio.to_thread
from fastapi import APIRouter
from fastapi.datastructures import DefaultPlaceholder
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import ResponseValidationError
from fastapi.routing import APIRoute
from pydantic import TypeAdapter, ValidationError
from starlette.responses import Response

#: Whether blocking work of the current request runs on the event loop (set by the gateway).
run_inline: ContextVar[bool] = ContextVar("tradeguard_run_inline", default=False)

T = TypeVar("T")


async def run_blocking(function: Callable[..., T], *args: Any) -> T:
    """Run blocking ``function(*args)`` the way this request runs blocking work (see module)."""
    if run_inline.get():
        return function(*args)
    return await anyio.to_thread.run_sync(function, *args)


class OneHopRoute(APIRoute):
    """An APIRoute whose sync endpoint is run, checked and rendered in one place (see module)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not _blocks(endpoint):
            super().__init__(path, endpoint, **kwargs)
            return
        answer: Callable[[Any], Any] = _as_is

        def run(values: dict[str, Any]) -> Any:
            return answer(endpoint(**values))

        @functools.wraps(endpoint)
        async def answered(**values: Any) -> Any:
            return await run_blocking(run, values)

        super().__init__(path, answered, **kwargs)
        if (
            self.response_model is not None
            and isinstance(self.response_class, DefaultPlaceholder)
            and not _sets_response(self.dependant)
        ):
            answer = _Answer(self)
        # else FastAPI renders the answer: there is no model to check it against, the route
        # has a response class of its own, or the endpoint or one of its dependencies takes
        # FastAPI's ``Response`` parameter to set a status, headers or cookies, which FastAPI
        # copies onto the response it renders (and would not onto one made here).


def _blocks(endpoint: Callable[..., Any]) -> bool:
    """A plain synchronous function: FastAPI would run it in the thread pool."""
    return inspect.isfunction(endpoint) and not (
        inspect.iscoroutinefunction(endpoint)
        or inspect.isgeneratorfunction(endpoint)
        or inspect.isasyncgenfunction(endpoint)
    )


def _sets_response(dependant: Dependant) -> bool:
    """Whether the endpoint or any of its dependencies takes FastAPI's ``Response`` parameter."""
    return dependant.response_param_name is not None or any(
        _sets_response(sub) for sub in dependant.dependencies
    )


def _as_is(value: Any) -> Any:
    return value


class _Answer:
    """Check an endpoint's result against its response model and render it as JSON."""

    def __init__(self, route: APIRoute) -> None:
        self._adapter: TypeAdapter[Any] = TypeAdapter(route.response_model)
        self._status = route.status_code or 200
        self._options: dict[str, Any] = {
            "include": route.response_model_include,
            "exclude": route.response_model_exclude,
            "by_alias": route.response_model_by_alias,
            "exclude_unset": route.response_model_exclude_unset,
            "exclude_defaults": route.response_model_exclude_defaults,
            "exclude_none": route.response_model_exclude_none,
        }

    def __call__(self, value: Any) -> Any:
        if isinstance(value, Response):
            return value
        try:
            # As FastAPI does: an ORM-like object or a dict is accepted by attribute or key.
            checked = self._adapter.validate_python(value, from_attributes=True)
        except ValidationError as exc:
            # The endpoint broke its own contract: FastAPI's error, so its 500 handling applies.
            raise ResponseValidationError(errors=exc.errors(), body=value) from exc
        # FastAPI refuses a response model on a status without a body (204, 304), so there
        # is always one to render here.
        return Response(
            content=self._adapter.dump_json(checked, **self._options),
            status_code=self._status,
            media_type="application/json",
        )


def api_router(**kwargs: Any) -> APIRouter:
    """An APIRouter whose routes are :class:`OneHopRoute`."""
    return APIRouter(route_class=OneHopRoute, **kwargs)


__all__ = ["OneHopRoute", "api_router", "run_blocking", "run_inline"]
