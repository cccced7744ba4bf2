"""Participant tokens, staff login, API keys and staff accounts (DESIGN.md §1)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, status

from tradeguard.adapters.api.deps import (
    COMMON,
    Admin,
    AnyStaff,
    AppDep,
    AuthDep,
    OperatorTokens,
    problems,
)
from tradeguard.adapters.api.problems import ApiProblem
from tradeguard.adapters.api.routing import api_router
from tradeguard.adapters.api.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyList,
    ApiKeyPublic,
    StaffCreate,
    StaffList,
    StaffLogin,
    StaffPublic,
    StaffSession,
    TokenCreate,
    TokenPublic,
)
from tradeguard.kernel.errors import NotFound

router = api_router(prefix="/v1", responses=COMMON)

KeyId = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_]+$")]


@router.post(
    "/tokens",
    tags=["access"],
    status_code=status.HTTP_201_CREATED,
    summary="Mint a participant token",
)
def mint_token(body: TokenCreate, auth: AuthDep, _: OperatorTokens) -> TokenPublic:
    """A short-lived token for `buyer:ID` or `seller:ID` (operator, `tokens`; default 15 minutes).

    Endpoints called with it act as that party, on that party's own objects only:
    anyone else's answer 404.
    """
    token, expires_at = auth.mint_participant(body.party, body.ttl_seconds)
    return TokenPublic(token=token, party=body.party, expires_at=expires_at)


@router.post(
    "/staff/sessions",
    tags=["access"],
    status_code=status.HTTP_201_CREATED,
    summary="Staff login",
    responses=problems(400, 401, 413, 422, 429, 503),
)
def staff_login(body: StaffLogin, app: AppDep, auth: AuthDep) -> StaffSession:
    """Exchange a staff email and password for a bearer token (8 hours)."""
    account = app.access.authenticate_staff(body.email, body.password)
    if account is None:
        raise ApiProblem(
            "invalid_credentials", "Wrong email or password, or the account is disabled."
        )
    token, expires_at = auth.mint_staff(account)
    return StaffSession(token=token, expires_at=expires_at, staff=StaffPublic.of(account))


@router.get("/staff/me", tags=["access"], summary="The logged-in staff member")
def staff_me(app: AppDep, principal: AnyStaff) -> StaffPublic:
    """The staff account behind the token."""
    account = app.access.staff(principal.id)
    if account is None:
        raise NotFound("staff account", principal.id)
    return StaffPublic.of(account)


@router.get("/staff", tags=["access"], summary="List staff accounts")
def list_staff(app: AppDep, _: Admin) -> StaffList:
    """Every staff account (operator `admin` scope or staff admin)."""
    return StaffList(data=[StaffPublic.of(a) for a in app.access.staff_accounts()])


@router.post(
    "/staff", tags=["access"], status_code=status.HTTP_201_CREATED, summary="Create a staff account"
)
def create_staff(body: StaffCreate, app: AppDep, _: Admin) -> StaffPublic:
    """A staff account with a role: support, arbitrator, risk_analyst or admin."""
    return StaffPublic.of(app.access.create_staff(body.email, body.role, body.password))


@router.delete("/staff/{staff_id}", tags=["access"], summary="Disable a staff account")
def disable_staff(staff_id: KeyId, app: AppDep, _: Admin) -> StaffPublic:
    """Disable an account; its tokens stop working within seconds."""
    app.access.disable_staff(staff_id)
    account = app.access.staff(staff_id)
    if account is None:  # pragma: no cover - disabled just above
        raise NotFound("staff account", staff_id)
    return StaffPublic.of(account)


@router.get("/api-keys", tags=["access"], summary="List API keys")
def list_api_keys(app: AppDep, _: Admin) -> ApiKeyList:
    """Operator API keys, without secrets."""
    return ApiKeyList(data=[ApiKeyPublic.of(k) for k in app.access.api_keys()])


@router.post(
    "/api-keys", tags=["access"], status_code=status.HTTP_201_CREATED, summary="Create an API key"
)
def create_api_key(body: ApiKeyCreate, app: AppDep, _: Admin) -> ApiKeyCreated:
    """A new operator key with scopes; the `key` in the answer is shown this once."""
    key, plaintext = app.access.create_api_key(body.name, body.scopes)
    return ApiKeyCreated(**ApiKeyPublic.of(key).model_dump(), key=plaintext)


@router.delete("/api-keys/{key_id}", tags=["access"], summary="Revoke an API key")
def revoke_api_key(key_id: KeyId, app: AppDep, _: Admin) -> ApiKeyPublic:
    """Revoke a key; requests with it are refused within seconds."""
    return ApiKeyPublic.of(app.access.revoke_api_key(key_id))
