"""Who is calling: operator API keys, participant tokens, staff tokens (DESIGN.md §1, §15).

* Operators send ``Authorization: Bearer tgk_...`` — an API key with scopes.
* Buyers and sellers send a short-lived token the operator minted for them
  (``POST /v1/tokens``); it names exactly one party, and every participant
  endpoint acts as that party, on that party's own objects only.
* Staff log in with email and password and send the token they get back.

Tokens are JWTs (HS256) signed with a server secret shared by every process on
the database. Access rules are declared per endpoint with :class:`Access`; the
check order is written once: credentials (401) -> role or scope for this endpoint
(403) -> the object visible to the party (404, in the services) -> state (409).
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Final

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPBearer

from tradeguard.access.model import API_KEY_PREFIX, ApiKey, Scope, StaffAccount, StaffRole
from tradeguard.access.policy import AccessPolicy
from tradeguard.access.service import AccessService
from tradeguard.adapters.api.problems import ApiProblem
from tradeguard.kernel.errors import ValidationFailed
from tradeguard.kernel.parties import Actor, Party

ISSUER: Final = "tradeguard"
PARTICIPANT_AUDIENCE: Final = "tradeguard:participant"
STAFF_AUDIENCE: Final = "tradeguard:staff"
ALL_STAFF: Final = frozenset(StaffRole)
_CACHE_SECONDS: Final = 2.0  # a revoked key or disabled staff account stops working within this


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller."""

    kind: str  #: "operator", "buyer", "seller" or "staff"
    id: str  #: API key id, buyer id, seller id or staff id
    party: Party
    scopes: frozenset[Scope] = frozenset()
    role: StaffRole | None = None

    @property
    def key(self) -> str:
        """A stable name for rate limits and idempotency scoping."""
        return f"{self.kind}:{self.id}"


@dataclass
class _Cached:
    value: Any
    until: float  #: time.monotonic() after which the entry is stale


@dataclass
class Authenticator:
    """Checks credentials and mints tokens."""

    access: AccessService
    policy: AccessPolicy
    secret: str
    _cache: dict[str, _Cached] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- minting --------------------------------------------------------------------------------

    def mint_participant(self, party: str, ttl_s: int | None) -> tuple[str, datetime]:
        """A token for ``buyer:ID`` or ``seller:ID`` (default lifetime: the policy's, 15 minutes)."""
        kind, sep, party_id = party.partition(":")
        if kind not in ("buyer", "seller") or not sep or not party_id:
            raise ValidationFailed("A party is 'buyer:<id>' or 'seller:<id>'.", field="party")
        ttl = ttl_s if ttl_s is not None else self.policy.participant_token_ttl_s
        if not 30 <= ttl <= self.policy.participant_token_max_ttl_s:
            raise ValidationFailed(
                f"ttl_seconds must be between 30 and {self.policy.participant_token_max_ttl_s}.",
                field="ttl_seconds",
            )
        return self._mint(f"{kind}:{party_id}", PARTICIPANT_AUDIENCE, ttl, {})

    def mint_staff(self, account: StaffAccount) -> tuple[str, datetime]:
        """A staff login token."""
        return self._mint(
            f"staff:{account.id}",
            STAFF_AUDIENCE,
            self.policy.staff_token_ttl_s,
            {"role": account.role.value},
        )

    def _mint(
        self, subject: str, audience: str, ttl_s: int, extra: dict[str, Any]
    ) -> tuple[str, datetime]:
        # Tokens are a transport credential: they are dated by the wall clock, not the
        # simulated one, so clients and other processes can check them.
        now = datetime.now(UTC)
        expires = now + timedelta(seconds=ttl_s)
        claims = {
            "iss": ISSUER,
            "aud": audience,
            "sub": subject,
            "iat": int(now.timestamp()),
            "exp": int(expires.timestamp()),
            "jti": secrets.token_hex(8),
            **extra,
        }
        return jwt.encode(claims, self.secret, algorithm="HS256"), expires.replace(microsecond=0)

    # -- checking -------------------------------------------------------------------------------

    def authenticate(self, authorization: str | None) -> Principal | None:
        """The principal behind an Authorization header; None without one; ApiProblem if invalid."""
        if not authorization:
            return None
        scheme, _, credential = authorization.partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            raise ApiProblem(
                "invalid_credentials", "Use 'Authorization: Bearer <API key or token>'.", CHALLENGE
            )
        if credential.startswith(API_KEY_PREFIX):
            key = self._api_key(credential)
            if key is None:
                raise ApiProblem("invalid_credentials", "Unknown or revoked API key.", CHALLENGE)
            return Principal("operator", key.id, Party(Actor.OPERATOR, key.id), key.scopes)
        return self._token(credential)

    def needs_lookup(self, authorization: str | None) -> bool:
        """Whether checking this header may need the database (an API key or staff not cached)."""
        credential = (authorization or "").partition(" ")[2].strip()
        if not credential:
            return False
        if credential.startswith(API_KEY_PREFIX):
            return self._get(credential) is None
        if self._get(_TOKEN_CACHE + credential) is not None:
            return False
        try:
            subject = str(jwt.decode(credential, options={"verify_signature": False}).get("sub"))
        except jwt.PyJWTError:
            return False
        return subject.startswith("staff:") and self._get(subject) is None

    def _api_key(self, plaintext: str) -> ApiKey | None:
        cached = self._get(plaintext)
        if cached is not None:
            return cached.value  # type: ignore[no-any-return]
        key = self.access.authenticate_api_key(plaintext)
        self._put(plaintext, key)
        return key

    def _token(self, token: str) -> Principal:
        # A client sends the same token with every request for its lifetime: checking the
        # signature once and remembering the answer (until the token or the cache entry
        # expires) takes JWT decoding off the per-request path.
        cached = self._get(_TOKEN_CACHE + token)
        if cached is not None:
            principal, expires = cached.value
            if time.time() < expires:
                return principal  # type: ignore[no-any-return]
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
            audience = unverified.get("aud")
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=["HS256"],
                audience=audience
                if audience in (PARTICIPANT_AUDIENCE, STAFF_AUDIENCE)
                else PARTICIPANT_AUDIENCE,
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "aud", "iss"]},
            )
        except jwt.ExpiredSignatureError:
            raise ApiProblem(
                "invalid_credentials",
                "The token has expired; ask the operator for a new one.",
                CHALLENGE,
            ) from None
        except jwt.PyJWTError:
            raise ApiProblem("invalid_credentials", "The token is not valid.", CHALLENGE) from None
        principal = self._principal(claims)
        expires = float(claims["exp"])
        # A participant token's principal follows from its signed claims alone, so it may be
        # remembered for the token's whole life; a staff principal carries the account's role
        # and state, which can change, so it is re-derived every few seconds.
        ttl = expires - time.time() if principal.kind in ("buyer", "seller") else _CACHE_SECONDS
        self._put(_TOKEN_CACHE + token, (principal, expires), ttl)
        return principal

    def _principal(self, claims: dict[str, Any]) -> Principal:
        kind, _, subject_id = str(claims["sub"]).partition(":")
        if claims["aud"] == PARTICIPANT_AUDIENCE and kind in ("buyer", "seller") and subject_id:
            return Principal(kind, subject_id, Party(Actor(kind), subject_id))
        if claims["aud"] == STAFF_AUDIENCE and kind == "staff" and subject_id:
            account = self._staff(subject_id)
            if account is None or not account.is_active:
                raise ApiProblem(
                    "invalid_credentials", "Unknown or disabled staff account.", CHALLENGE
                )
            return Principal(
                "staff", account.id, Party(account.role.actor, account.id), role=account.role
            )
        raise ApiProblem("invalid_credentials", "The token is not valid.", CHALLENGE)

    def _staff(self, staff_id: str) -> StaffAccount | None:
        cache_key = f"staff:{staff_id}"  # the token's subject, as needs_lookup asks for it
        cached = self._get(cache_key)
        if cached is not None:
            return cached.value  # type: ignore[no-any-return]
        account = self.access.staff(staff_id)
        self._put(cache_key, account)
        return account

    def _get(self, key: str) -> _Cached | None:
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None and time.monotonic() < cached.until:
            return cached
        return None

    def _put(self, key: str, value: Any, ttl_s: float = _CACHE_SECONDS) -> None:
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[key] = _Cached(value, time.monotonic() + ttl_s)


_TOKEN_CACHE: Final = "token:"  # noqa: S105 - a cache key prefix, not a secret
CHALLENGE: Final = {"WWW-Authenticate": 'Bearer realm="tradeguard"'}


class _DocumentedBearer(HTTPBearer):
    """The bearer scheme as the OpenAPI document shows it; it does no work per request.

    The gateway has already read and checked the Authorization header before any route
    runs (the principal is in ``request.state``), so parsing it again here would only
    cost time.
    """

    async def __call__(self, request: Request) -> None:  # type: ignore[override]
        """Nothing to do: see the class docstring."""
        return None


_bearer = _DocumentedBearer(
    scheme_name="HTTPBearer",
    auto_error=False,
    description="An operator API key (tgk_...), a participant token or a staff token.",
)


@dataclass(frozen=True)
class Access:
    """Who may call an endpoint: an operator scope, participants, staff roles.

    Used as a FastAPI dependency; it returns the :class:`Principal`.
    """

    operator: Scope | None = None
    buyer: bool = False
    seller: bool = False
    staff: frozenset[StaffRole] = frozenset()

    async def __call__(
        self,
        request: Request,
        _documented: Annotated[None, Depends(_bearer)],
    ) -> Principal:
        """Check the caller against the rule; raise 401 or 403."""
        principal: Principal | None = getattr(request.state, "principal", None)
        if principal is None:
            raise ApiProblem("unauthenticated", headers=CHALLENGE)
        if principal.kind == "operator":
            if self.operator is None:
                raise ApiProblem("forbidden", "Operator API keys cannot call this endpoint.")
            if self.operator not in principal.scopes:
                raise ApiProblem(
                    "missing_scope",
                    f"This endpoint needs an API key with the '{self.operator}' scope.",
                )
            return principal
        if principal.kind == "buyer" and self.buyer:
            return principal
        if principal.kind == "seller" and self.seller:
            return principal
        if principal.kind == "staff" and principal.role in self.staff:
            return principal
        raise ApiProblem(
            "forbidden", f"A {principal.role or principal.kind} may not call this endpoint."
        )
