"""What every request goes through before and after its route: one ASGI middleware.

In order: a request id (``X-Request-Id``, echoed back), authentication (the
principal lands in ``request.state``), a size limit, the per-caller rate limit
(429 with ``Retry-After``), Idempotency-Key handling for POSTs (IETF draft:
replay, 422 on a different body, 409 while the first is running), then the
route; afterwards one structured JSON log line and the Prometheus metrics.
"""

from __future__ import annotations

import json
import math
import random
import re
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram

from tradeguard.access.policy import AccessPolicy
from tradeguard.adapters.api.auth import CHALLENGE, Authenticator, Principal
from tradeguard.adapters.api.problems import API_PROBLEMS, PROBLEM_JSON, ApiProblem, problem_body
from tradeguard.adapters.api.routing import run_blocking, run_inline
from tradeguard.adapters.storage.idempotency import (
    Claim,
    IdempotencyStore,
    StoredResponse,
    fingerprint_of,
)
from tradeguard.kernel.clock import Clock

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY_BYTES = 1_000_000
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
_QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
_BODILESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: /v1 endpoints anyone may call: logging in, and everything under /v1/public/.
_PUBLIC_ENDPOINTS = frozenset({("POST", "/v1/staff/sessions")})
_PUBLIC_PREFIX = "/v1/public/"

log = structlog.get_logger("tradeguard.api")


class Metrics:
    """Prometheus metrics of the API process."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.requests = Counter(
            "tradeguard_http_requests_total",
            "HTTP requests by route and status.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "tradeguard_http_request_duration_seconds",
            "HTTP request latency by route.",
            ["method", "route"],
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=registry,
        )
        self.deadlines = Counter(
            "tradeguard_deadlines_total",
            "Deadlines handled by the in-process worker.",
            ["outcome"],
            registry=registry,
        )
        self.webhooks = Counter(
            "tradeguard_webhook_attempts_total",
            "Webhook delivery attempts.",
            ["outcome"],
            registry=registry,
        )
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one request and its latency under its route template."""
        key = (method, route, status)
        series = self._series.get(key)
        if series is None:
            # ``labels()`` checks and looks the series up under a lock on every call; the
            # children are stable objects, so each is looked up once.
            series = (
                self.requests.labels(method, route, str(status)),
                self.latency.labels(method, route),
            )
            if len(self._series) < 10_000:
                self._series[key] = series
        series[0].inc()
        series[1].observe(seconds)


class RateLimiter:
    """Token buckets per caller, in this process (each API process limits on its own)."""

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, per_minute: int) -> float:
        """Spend one token; return 0 if allowed, else the seconds to wait."""
        rate = per_minute / 60.0
        # A full minute's allowance may arrive at once, and no more: a five-a-minute caller's
        # sixth quick request waits.
        capacity = float(per_minute)
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (capacity, now))
            tokens = min(capacity, tokens + (now - last) * rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            if len(self._buckets) > 100_000:
                self._buckets.clear()
            return (1.0 - tokens) / rate


@dataclass
class Gateway:
    """The ASGI middleware (see the module docstring)."""

    app: ASGIApp
    authenticator: Authenticator
    idempotency: IdempotencyStore
    policy: AccessPolicy
    clock: Clock
    metrics: Metrics
    limiter: RateLimiter
    #: Blocking work on the event loop rather than in threads (`serve --inline`; see routing).
    inline: bool = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one request."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        # Reset on the way out: an in-process caller (a test client, a benchmark) may run
        # the app in its own task and context.
        inline = run_inline.set(self.inline)
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])
        }
        incoming_id = headers.get("x-request-id", "")
        request_id = incoming_id if _REQUEST_ID.match(incoming_id) else _new_request_id()
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        status_holder = {"status": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        principal: Principal | None = None
        path: str = scope["path"]
        try:
            if path.startswith("/v1/"):
                principal = await self._authenticate(headers.get("authorization"))
                if principal is None and not _is_public(scope["method"], path):
                    # Before the body is even read: a stranger learns nothing about the
                    # endpoint's validation rules.
                    raise ApiProblem("unauthenticated", headers=CHALLENGE)
            # Health, metrics, documentation and problem pages ignore credentials, so a
            # load balancer or a browser with a stale token still gets an answer.
            state["principal"] = principal
            raw_target = scope.get("raw_path", b"") + b"?" + scope.get("query_string", b"")
            if b"%00" in raw_target.lower() or "\x00" in scope["path"]:
                # PostgreSQL cannot store or compare NUL in text; refuse it before any query.
                raise ApiProblem(
                    "validation_failed", "NUL characters are not allowed in paths or query strings."
                )
            length = headers.get("content-length")
            if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
                raise ApiProblem(
                    "payload_too_large", f"Request bodies are limited to {MAX_BODY_BYTES} bytes."
                )
            self._limit(principal, scope)
            body = b""
            if scope["method"] not in _BODILESS_METHODS:
                # Read here, not in the route, so the size limit holds however the body is
                # framed (a chunked body has no Content-Length to check up front).
                body = await _read_body(receive)
            key = headers.get("idempotency-key")
            if scope["method"] == "POST" and key is not None and principal is not None:
                await self._idempotent(scope, body, receive, send_with_id, principal, key)
            else:
                await self.app(scope, _replaying(body, receive), send_with_id)
        except ApiProblem as problem:
            await _send_problem(send_with_id, scope, request_id, problem)
        finally:
            run_inline.reset(inline)
            self._observe(scope, principal, status_holder["status"], started, request_id)

    async def _authenticate(self, authorization: str | None) -> Principal | None:
        # Tokens and remembered API keys are checked on the event loop (microseconds); only a
        # credential that needs the database is blocking work.
        if self.authenticator.needs_lookup(authorization):
            return await run_blocking(self.authenticator.authenticate, authorization)
        return self.authenticator.authenticate(authorization)

    def _limit(self, principal: Principal | None, scope: Scope) -> None:
        if principal is None:
            client = scope.get("client") or ("unknown", 0)
            key, per_minute = f"anonymous:{client[0]}", self.policy.anonymous_requests_per_minute
        elif principal.kind == "operator":
            key, per_minute = principal.key, self.policy.api_key_requests_per_minute
        elif principal.kind == "staff":
            key, per_minute = principal.key, self.policy.staff_requests_per_minute
        else:
            key, per_minute = principal.key, self.policy.participant_requests_per_minute
        wait = self.limiter.take(key, per_minute)
        if wait > 0:
            raise ApiProblem(
                "rate_limited",
                f"More than {per_minute} requests a minute; retry in {math.ceil(wait)} s.",
                {"Retry-After": str(math.ceil(wait))},
            )

    async def _idempotent(
        self,
        scope: Scope,
        body: bytes,
        receive: Receive,
        send: Send,
        principal: Principal,
        key: str,
    ) -> None:
        if not _IDEMPOTENCY_KEY.match(key):
            raise ApiProblem("idempotency_key_invalid")
        path = scope["path"] + (
            ("?" + scope["query_string"].decode()) if scope.get("query_string") else ""
        )
        fingerprint = fingerprint_of(scope["method"], path, body)
        now = self.clock.now()
        claim = await run_blocking(
            lambda: self.idempotency.claim(
                principal.key,
                key,
                fingerprint,
                now,
                timedelta(seconds=self.policy.idempotency_lease_s),
                self.policy.idempotency_key_retention.as_timedelta(),
            )
        )
        if claim.claim == Claim.MISMATCH:
            raise ApiProblem("idempotency_key_reused")
        if claim.claim == Claim.IN_PROGRESS:
            raise ApiProblem("idempotency_key_in_use", headers={"Retry-After": "1"})
        if claim.claim == Claim.REPLAY and claim.response is not None:
            stored = claim.response
            replay_headers = [(k.encode(), v.encode()) for k, v in stored.headers.items()]
            await send(
                {
                    "type": "http.response.start",
                    "status": stored.status_code,
                    "headers": [*replay_headers, (b"idempotent-replayed", b"true")],
                }
            )
            await send({"type": "http.response.body", "body": stored.body.encode()})
            return
        state = scope.setdefault("state", {})
        state["idempotency_key"] = key
        # The generation makes a key reused after it expired a new request (a new checkout),
        # while a retry of the same use keeps deriving the same identities.
        state["request_key"] = f"{principal.key}:{key}:{claim.use}"
        captured: dict[str, Any] = {"status": 500, "headers": {}, "body": []}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = {
                    k.decode("latin-1"): v.decode("latin-1")
                    for k, v in message.get("headers", [])
                    if k.lower() in (b"content-type", b"location")
                }
            elif message["type"] == "http.response.body":
                captured["body"].append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, _replaying(body, receive), capture)
        except BaseException:
            await run_blocking(self.idempotency.release, principal.key, key)
            raise
        status = captured["status"]
        if status >= 500 or status == 429:
            # Nothing was decided: let a retry with the same key run again.
            await run_blocking(self.idempotency.release, principal.key, key)
            return
        response = StoredResponse(status, b"".join(captured["body"]).decode(), captured["headers"])
        await run_blocking(self.idempotency.complete, principal.key, key, response)

    def _observe(
        self,
        scope: Scope,
        principal: Principal | None,
        status: int,
        started: float,
        request_id: str,
    ) -> None:
        elapsed = time.perf_counter() - started
        # A request refused before routing (bad credentials, say) has no route: it is counted
        # as "unmatched" rather than under its raw path, which anyone could vary without end.
        template = getattr(scope.get("route"), "path", None) or "unmatched"
        self.metrics.observe_request(scope["method"], template, status, elapsed)
        if scope["path"] in _QUIET_PATHS and status < 400:
            return
        log.info(
            "request",
            request_id=request_id,
            method=scope["method"],
            path=scope["path"],
            route=template,
            status=status,
            duration_ms=round(elapsed * 1000, 2),
            principal=principal.key if principal else None,
        )


def _new_request_id() -> str:
    # Request ids only need to be unique, not secret: a PRNG seeded from the OS once is
    # cheaper than a system call per request.
    return f"{_request_ids.getrandbits(128):032x}"


_request_ids = random.Random()  # noqa: S311 - uniqueness, not secrecy


def _is_public(method: str, path: str) -> bool:
    """Whether a /v1 endpoint answers callers without credentials."""
    return (method, path) in _PUBLIC_ENDPOINTS or path.startswith(_PUBLIC_PREFIX)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """``receive`` that hands the already-read body to the route, then listens for disconnects."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ApiProblem(
                "payload_too_large", f"Request bodies are limited to {MAX_BODY_BYTES} bytes."
            )
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _send_problem(send: Send, scope: Scope, request_id: str, problem: ApiProblem) -> None:
    body = problem_body(
        problem.status, problem.code, problem.title, problem.detail, scope["path"], request_id
    )
    headers = [(b"content-type", PROBLEM_JSON.encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in problem.headers.items()]
    await send({"type": "http.response.start", "status": problem.status, "headers": headers})
    await send(
        {"type": "http.response.body", "body": json.dumps(body, ensure_ascii=False).encode()}
    )


__all__ = ["API_PROBLEMS", "Gateway", "Metrics", "RateLimiter"]
