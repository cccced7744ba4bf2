"""Dependencies shared by the routes: the App, the caller, the request key, problem docs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal, Protocol, TypeVar

from fastapi import Depends, Request
from pydantic import BaseModel

from tradeguard.access.model import Scope, StaffRole
from tradeguard.adapters.api.auth import ALL_STAFF, Access, Authenticator, Principal
from tradeguard.adapters.api.problems import PROBLEM_JSON
from tradeguard.bootstrap import App


class HasId(Protocol):
    """Anything paged by id."""

    @property
    def id(self) -> str:
        """The object's id, which cursors carry."""
        ...


# Dependencies are ``async`` though they never wait: FastAPI runs a plain ``def`` dependency
# in its thread pool, a hop that cost more than the work on every request.


async def get_app(request: Request) -> App:
    """The wired services."""
    app: App = request.app.state.tradeguard
    return app


async def get_authenticator(request: Request) -> Authenticator:
    """Token minting and checking."""
    auth: Authenticator = request.app.state.authenticator
    return auth


async def request_key(request: Request) -> str | None:
    """The caller-scoped Idempotency-Key, passed to creations so retries never create twice."""
    key: str | None = getattr(request.state, "request_key", None)
    return key


AppDep = Annotated[App, Depends(get_app)]
AuthDep = Annotated[Authenticator, Depends(get_authenticator)]
RequestKey = Annotated[str | None, Depends(request_key)]

#: Operators with the scope, the buyer and the seller of the object, and every staff role.
ORDER_READERS = Access(operator=Scope.ORDERS, buyer=True, seller=True, staff=ALL_STAFF)
OperatorOrders = Annotated[Principal, Depends(Access(operator=Scope.ORDERS))]
OperatorPayments = Annotated[Principal, Depends(Access(operator=Scope.PAYMENTS))]
OperatorTokens = Annotated[Principal, Depends(Access(operator=Scope.TOKENS))]
OperatorWebhooks = Annotated[Principal, Depends(Access(operator=Scope.WEBHOOKS))]
Admin = Annotated[
    Principal, Depends(Access(operator=Scope.ADMIN, staff=frozenset({StaffRole.ADMIN})))
]
OrderReader = Annotated[Principal, Depends(ORDER_READERS)]
Fulfiller = Annotated[Principal, Depends(Access(operator=Scope.ORDERS, seller=True))]
Buyer = Annotated[Principal, Depends(Access(buyer=True))]
Canceller = Annotated[Principal, Depends(Access(operator=Scope.ORDERS, buyer=True, seller=True))]
MoneyReader = Annotated[
    Principal, Depends(Access(operator=Scope.PAYMENTS, buyer=True, seller=True, staff=ALL_STAFF))
]
PayoutRequester = Annotated[Principal, Depends(Access(operator=Scope.PAYMENTS, seller=True))]
PayoutReader = Annotated[
    Principal, Depends(Access(operator=Scope.PAYMENTS, seller=True, staff=ALL_STAFF))
]
FundReader = Annotated[Principal, Depends(Access(operator=Scope.PAYMENTS, staff=ALL_STAFF))]
AnyStaff = Annotated[Principal, Depends(Access(staff=ALL_STAFF))]


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str
    request_id: str | None = None
    errors: list[dict[str, str]] | None = None
    details: dict[str, Any] | None = None


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation of the problem responses an endpoint may give."""
    text = {
        400: "Malformed header (e.g. an invalid Idempotency-Key).",
        401: "No, unknown, revoked or expired credentials.",
        403: "Your role or your API key's scopes may not call this endpoint.",
        404: "No such object, or not one you may see.",
        409: "The object's state does not allow this, or the same Idempotency-Key is still running.",
        413: "The request body is too large.",
        422: "The request is invalid (fields listed in errors), or its Idempotency-Key was used for another request.",
        429: "Rate limit exceeded; see Retry-After.",
        503: "The database is briefly unavailable; retry.",
    }
    return {
        status: {"model": Problem, "description": text[status], "content": {PROBLEM_JSON: {}}}
        for status in statuses
    }


#: Every error an authenticated endpoint may answer with.
COMMON = problems(400, 401, 403, 404, 409, 413, 422, 429, 503)

#: Event sequence numbers are 64-bit integers in the database.
MAX_SEQUENCE = 2**63 - 1

Kind = Literal["operator", "buyer", "seller", "staff"]

T = TypeVar("T", bound=HasId)


def page_of(rows: Sequence[T], limit: int) -> tuple[list[T], str | None]:
    """Cut a ``limit + 1`` fetch to a page and its cursor (the last id), None on the last page.

    Listing methods fetch one row more than asked so the API knows whether another page exists.
    """
    page = list(rows[:limit])
    return page, (page[-1].id if len(rows) > limit and page else None)
