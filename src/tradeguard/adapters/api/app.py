"""The FastAPI application, the gateway around it, and the in-process background work."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import orjson
import structlog
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from tradeguard import __version__
from tradeguard.adapters.api import problems
from tradeguard.adapters.api.auth import Authenticator
from tradeguard.adapters.api.gateway import Gateway, Metrics, RateLimiter
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
from tradeguard.adapters.dispatch import WebhookDispatcher
from tradeguard.adapters.net import resolve
from tradeguard.bootstrap import App

DESCRIPTION = """
TradeGuard holds a marketplace buyer's money in escrow until the goods arrive and
keeps every movement of it in a double-entry ledger (DESIGN.md §3–4).

**Callers.** The operator's backend uses an API key (`Authorization: Bearer tgk_...`)
whose scopes (`orders`, `payments`, `tokens`, `webhooks`, `admin`) decide what it may do.
Buyers and sellers use a short-lived token the operator mints for them (`POST /v1/tokens`);
with it they act on their own orders only — anyone else's answer 404. Staff log in with
`POST /v1/staff/sessions`.

**Retries.** Every POST accepts an `Idempotency-Key` header (IETF draft): the same key and
body returns the stored response, the same key with another body answers 422, and while the
first request is still running 409. Keys are kept 24 hours.

**Errors** are `application/problem+json` (RFC 9457) with a stable `type` and machine `code`.

**Money** is an integer count of minor units plus an ISO 4217 currency.

**Webhooks** are signed per the Standard Webhooks specification.
"""

TAGS = [
    {
        "name": "orders",
        "description": "Listings, checkouts and the guaranteed transaction (担保交易).",
    },
    {"name": "payments", "description": "Payments captured by the operator's payment provider."},
    {"name": "money", "description": "Ledger balances and seller payouts."},
    {
        "name": "access",
        "description": "Participant tokens, staff login, API keys and staff accounts.",
    },
    {
        "name": "webhooks",
        "description": "Signed event delivery, the delivery log and the event feed.",
    },
    {
        "name": "messaging",
        "description": "Buyer–seller conversations as a hash-chained log, scam warnings, chain proofs.",
    },
    {"name": "reviews", "description": "Reviews, follow-ups, revisions, explanations, moderation."},
    {
        "name": "reputation",
        "description": "Seller credit, buyer credit and the public trust badge.",
    },
    {"name": "merchants", "description": "Business verification, guarantee enrolment, deposits."},
    {"name": "operations", "description": "Health, readiness, metrics and problem types."},
    {"name": "refunds", "description": "After-sales (售后): refunds, returns and exchanges."},
]


@dataclass
class BackgroundWork:
    """The deadline worker and webhook dispatcher loops, run in threads inside `serve`."""

    app: App
    dispatcher: WebhookDispatcher
    metrics: Metrics
    interval_s: float = 1.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        """Start both loops."""
        self._stop.clear()
        for name, step in (
            ("deadline-worker", self._deadlines),
            ("webhook-dispatcher", self._webhooks),
        ):
            thread = threading.Thread(target=self._loop, args=(name, step), name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Stop both loops and wait for them."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        self._threads.clear()

    def _loop(self, name: str, step: Callable[[], Any]) -> None:
        log = structlog.get_logger(f"tradeguard.{name}")
        sweeps = 0
        while not self._stop.is_set():
            try:
                step()
                sweeps += 1
                if name == "deadline-worker" and sweeps % 600 == 0:
                    self.app.idempotency.sweep(self.app.clock.now())
            except Exception as exc:  # the loop must outlive a bad pass; the next pass retries
                log.error("background pass failed", error=f"{type(exc).__name__}: {exc}")
            self._stop.wait(self.interval_s)

    def _deadlines(self) -> None:
        report = self.app.run_deadlines()
        for outcome, count in (
            ("fired", report.fired),
            ("obsolete", report.obsolete),
            ("reminded", report.reminded),
            ("failed", report.failed),
        ):
            if count:
                self.metrics.deadlines.labels(outcome).inc(count)

    def _webhooks(self) -> None:
        self.dispatcher.run_once()


def create_api(
    app: App,
    *,
    background: bool = False,
    background_interval_s: float = 1.0,
    dispatcher: WebhookDispatcher | None = None,
    secret: str | None = None,
    inline: bool = False,
) -> Gateway:
    """Build the ASGI application: the FastAPI routes wrapped in the gateway middleware.

    ``inline`` runs each request's blocking work on the event loop instead of in a
    worker thread (`serve --inline`; see :mod:`tradeguard.adapters.api.routing`).
    """
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    authenticator = Authenticator(
        app.access, app.policy.access, secret or app.access.server_secret("jwt-hs256")
    )
    dispatcher = dispatcher or WebhookDispatcher(
        app.webhooks,
        resolve,
        on_attempt=lambda ok: metrics.webhooks.labels("succeeded" if ok else "failed").inc(),
    )
    work = BackgroundWork(app, dispatcher, metrics, background_interval_s)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if background:
            work.start()
        try:
            yield
        finally:
            if background:
                work.stop()

    api = FastAPI(
        title="TradeGuard API",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        license_info={"name": "Apache-2.0"},
    )
    api.state.tradeguard = app
    api.state.authenticator = authenticator
    api.state.metrics = metrics
    api.state.dispatcher = dispatcher
    api.state.background = work
    problems.install(api)
    for module in (orders, money, access, webhooks, messaging, health, aftersales, disputes):
        api.include_router(module.router)
    api.include_router(reputation.router)
    api.include_router(reputation.public_router)
    _document_problems_as_problem_json(api)
    return Gateway(
        app=api,
        authenticator=authenticator,
        idempotency=app.idempotency,
        policy=app.policy.access,
        clock=app.clock,
        metrics=metrics,
        limiter=RateLimiter(),
        inline=inline,
    )


def _document_problems_as_problem_json(api: FastAPI) -> None:
    """Say in the OpenAPI document that errors come as ``application/problem+json``.

    FastAPI files every response model under ``application/json``; generated clients
    would then not recognise the error bodies the server actually sends.
    """
    build = api.openapi

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is not None:
            return api.openapi_schema
        schema = build()
        for operation in (op for item in schema.get("paths", {}).values() for op in item.values()):
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status.isdigit() and int(status) >= 400 and "application/json" in content:
                    content[problems.PROBLEM_JSON] = content.pop("application/json")
        api.openapi_schema = schema
        return schema

    api.openapi = openapi  # type: ignore[method-assign]


def configure_logging(level: int = logging.INFO, stream: BinaryIO | None = None) -> None:
    """One JSON object per line on ``stream`` (default stdout), through structlog.

    Every request writes a line, so it is rendered by orjson into bytes and written
    as such: a third of the cost of ``json.dumps`` and a text stream. The standard
    library's loggers (uvicorn's, alembic's) keep writing their lines to stdout.
    """
    logging.basicConfig(format="%(message)s", stream=sys.stdout, level=level)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.dict_tracebacks,
            structlog.processors.JSONRenderer(serializer=orjson.dumps),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.BytesLoggerFactory(stream or sys.stdout.buffer),
        cache_logger_on_first_use=True,
    )
