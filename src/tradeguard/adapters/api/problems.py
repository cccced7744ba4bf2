"""Errors as ``application/problem+json`` (RFC 9457), with a stable ``type`` and machine ``code``.

Every refusal — a domain error, a validation error, a missing credential, a
rate limit, an unknown route — leaves the API in this one shape, so clients
branch on ``code`` and show ``detail``. ``type`` is a relative URI that resolves
to a description of the problem on the same server (``GET /problems/{code}``).
"""

from __future__ import annotations

import json
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from tradeguard.kernel.errors import ErrorKind, TradeGuardError

PROBLEM_JSON: Final = "application/problem+json"

STATUS_OF_KIND: Final[dict[ErrorKind, int]] = {
    ErrorKind.INVALID: 422,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.FORBIDDEN: 403,
    ErrorKind.UNAVAILABLE: 503,
}

#: Codes the API itself raises (domain codes come from the errors' ``code``), with their help text.
API_PROBLEMS: Final[dict[str, tuple[int, str, str]]] = {
    "unauthenticated": (
        401,
        "Authentication required",
        "Send 'Authorization: Bearer <API key or token>'.",
    ),
    "invalid_credentials": (
        401,
        "Invalid credentials",
        "The API key or token is unknown, revoked or expired.",
    ),
    "missing_scope": (
        403,
        "Missing scope",
        "The operator API key lacks the scope this endpoint needs.",
    ),
    "forbidden": (403, "Forbidden", "Your role may not call this endpoint."),
    "not_found": (404, "Not found", "No such object, or not one you may see."),
    "method_not_allowed": (
        405,
        "Method not allowed",
        "The resource does not support this HTTP method.",
    ),
    "validation_failed": (
        422,
        "Validation failed",
        "The request is not valid; see errors for each field.",
    ),
    "idempotency_key_invalid": (
        400,
        "Invalid Idempotency-Key",
        "Use 1 to 255 printable ASCII characters.",
    ),
    "idempotency_key_reused": (
        422,
        "Idempotency-Key reused",
        "This key was already used for a different request; use a new key for a new request.",
    ),
    "idempotency_key_in_use": (
        409,
        "Idempotency-Key in use",
        "A request with this key is still being processed; retry after a moment.",
    ),
    "rate_limited": (
        429,
        "Too many requests",
        "Slow down; retry after the number of seconds in Retry-After.",
    ),
    "payload_too_large": (413, "Payload too large", "Request bodies are limited in size."),
    "internal_error": (
        500,
        "Internal error",
        "Something failed on our side; the request changed nothing.",
    ),
}


class ApiProblem(Exception):
    """A refusal raised by the API layer itself (authentication, scopes, rate limits)."""

    def __init__(
        self, code: str, detail: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        status, title, default = API_PROBLEMS[code]
        self.code, self.status, self.title = code, status, title
        self.detail = detail or default
        self.headers = headers or {}
        super().__init__(self.detail)


def problem_body(
    status: int,
    code: str,
    title: str,
    detail: str,
    instance: str,
    request_id: str | None,
    **extra: Any,
) -> dict[str, Any]:
    """The problem document."""
    body: dict[str, Any] = {
        "type": f"/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "instance": instance,
    }
    if request_id:
        body["request_id"] = request_id
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def problem_response(
    request: Request,
    status: int,
    code: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    """A problem+json response for ``request``."""
    request_id = getattr(request.state, "request_id", None)
    body = problem_body(status, code, title, detail, request.url.path, request_id, **extra)
    return Response(
        json.dumps(body, ensure_ascii=False),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


async def _domain(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TradeGuardError)  # noqa: S101 - registered for this type only
    status = STATUS_OF_KIND[exc.kind]
    details = {
        k: v for k, v in exc.details.items() if isinstance(v, str | int | float | bool) or v is None
    }
    title = exc.code.replace("_", " ").capitalize()
    return problem_response(request, status, exc.code, title, exc.message, details=details or None)


async def _api(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiProblem)  # noqa: S101 - registered for this type only
    return problem_response(
        request, exc.status, exc.code, exc.title, exc.detail, headers=exc.headers
    )


async def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)  # noqa: S101 - registered for this type only
    errors = []
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ())]
        errors.append({"field": ".".join(location), "message": str(error.get("msg", "invalid"))})
    status, title, _ = API_PROBLEMS["validation_failed"]
    fields = ", ".join(e["field"] for e in errors[:5])
    detail = f"The request is not valid: {fields}." if fields else "The request is not valid."
    return problem_response(request, status, "validation_failed", title, detail, errors=errors)


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101 - registered for this type only
    code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(
        exc.status_code
    )
    if code is None:
        code = "forbidden" if exc.status_code == 403 else "validation_failed"
    _, title, default = API_PROBLEMS[code]
    detail = (
        exc.detail
        if isinstance(exc.detail, str) and exc.detail not in ("Not Found", "Method Not Allowed")
        else default
    )
    return problem_response(
        request, exc.status_code, code, title, detail, headers=dict(exc.headers or {})
    )


async def _unexpected(request: Request, exc: Exception) -> Response:
    status, title, detail = API_PROBLEMS["internal_error"]
    return problem_response(request, status, "internal_error", title, detail)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem+json.

    They are ``async`` though they never wait: Starlette runs a plain ``def`` handler in
    its thread pool, a hand-off that costs more than the handler (and that `serve
    --inline` exists to avoid).
    """
    app.add_exception_handler(TradeGuardError, _domain)
    app.add_exception_handler(ApiProblem, _api)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
