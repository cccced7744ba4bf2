"""Creating, checking and revoking operator API keys and staff accounts."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import replace

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from tradeguard.access.model import API_KEY_PREFIX, ApiKey, Scope, StaffAccount, StaffRole
from tradeguard.access.ports import AccessUnitOfWork
from tradeguard.kernel.errors import Conflict, NotFound, ValidationFailed
from tradeguard.kernel.runtime import Runtime
from tradeguard.kernel.uow import UnitOfWorkRunner

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_hasher = PasswordHasher()
#: A valid hash of a random password: verifying against it makes "no such user" take as long
#: as "wrong password", so login timing does not reveal which emails exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
MIN_PASSWORD_LENGTH = 10


def hash_secret(secret: str) -> str:
    """SHA-256 of an API key secret. Keys are 190 random bits, so a fast hash is enough."""
    return hashlib.sha256(secret.encode()).hexdigest()


def split_api_key(plaintext: str) -> tuple[str, str] | None:
    """Split ``tgk_<lookup>_<secret>`` into (lookup, secret), or None if it is not shaped like a key."""
    if not plaintext.startswith(API_KEY_PREFIX):
        return None
    lookup, sep, secret = plaintext[len(API_KEY_PREFIX) :].partition("_")
    if not sep or not lookup or not secret:
        return None
    return lookup, secret


class AccessService:
    """Operator API keys and staff accounts."""

    def __init__(self, units: UnitOfWorkRunner[AccessUnitOfWork], runtime: Runtime) -> None:
        self._units = units
        self._rt = runtime

    # -- API keys -------------------------------------------------------------------------------

    def create_api_key(self, name: str, scopes: Iterable[Scope | str]) -> tuple[ApiKey, str]:
        """Create a key; return it and its plaintext, which is never stored and never shown again."""
        name = name.strip()
        if not name or len(name) > 100:
            raise ValidationFailed("An API key needs a name of 1 to 100 characters.")
        try:
            scope_set = frozenset(Scope(s) for s in scopes)
        except ValueError:
            raise ValidationFailed(
                f"Unknown scope; choose from: {', '.join(s.value for s in Scope)}."
            ) from None
        if not scope_set:
            raise ValidationFailed(
                f"An API key needs at least one scope: {', '.join(s.value for s in Scope)}."
            )
        lookup = secrets.token_hex(6)
        secret = secrets.token_urlsafe(24)
        now = self._rt.clock.now()
        key = ApiKey(
            self._rt.ids.new("key", now), name, lookup, hash_secret(secret), scope_set, now
        )
        self._units.run(lambda uow: uow.access.insert_api_key(key))
        return key, f"{API_KEY_PREFIX}{lookup}_{secret}"

    def authenticate_api_key(self, plaintext: str) -> ApiKey | None:
        """The active key matching ``plaintext``, or None."""
        parts = split_api_key(plaintext)
        if parts is None:
            return None
        lookup, secret = parts
        key = self._units.run(lambda uow: uow.access.api_key_by_lookup(lookup))
        if key is None or not key.is_active:
            return None
        if not hmac.compare_digest(key.secret_hash, hash_secret(secret)):
            return None
        return key

    def revoke_api_key(self, key_id: str) -> ApiKey:
        """Revoke a key at once; requests with it fail from now on.

        Revoking a revoked key changes nothing and answers with it, so a retried revocation
        is not an error.
        """

        def work(uow: AccessUnitOfWork) -> ApiKey:
            uow.access.revoke_api_key(key_id, self._rt.clock.now())
            key = uow.access.api_key(key_id)
            if key is None:
                raise NotFound("API key", key_id)
            return key

        return self._units.run(work)

    def api_keys(self) -> list[ApiKey]:
        """Every key (without secrets), newest first."""
        return self._units.run(lambda uow: uow.access.api_keys())

    # -- staff ----------------------------------------------------------------------------------

    def create_staff(self, email: str, role: StaffRole | str, password: str) -> StaffAccount:
        """Create a staff account; emails are unique and stored lower-case."""
        email = email.strip().lower()
        if not _EMAIL.match(email):
            raise ValidationFailed(f"{email!r} is not an email address.")
        try:
            staff_role = StaffRole(role)
        except ValueError:
            raise ValidationFailed(
                f"Unknown role; choose from: {', '.join(r.value for r in StaffRole)}."
            ) from None
        if len(password) < MIN_PASSWORD_LENGTH:
            raise ValidationFailed(
                f"A staff password has at least {MIN_PASSWORD_LENGTH} characters."
            )
        now = self._rt.clock.now()
        account = StaffAccount(
            self._rt.ids.new("stf", now), email, staff_role, _hasher.hash(password), now
        )

        def work(uow: AccessUnitOfWork) -> StaffAccount:
            if uow.access.staff_by_email(email) is not None:
                raise Conflict(f"A staff account for {email} already exists.", email=email)
            uow.access.insert_staff(account)
            return account

        return self._units.run(work)

    def authenticate_staff(self, email: str, password: str) -> StaffAccount | None:
        """The active account if the password is right, else None (in constant-ish time)."""
        account = self._units.run(lambda uow: uow.access.staff_by_email(email.strip().lower()))
        stored = account.password_hash if account is not None else _DUMMY_HASH
        try:
            _hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if account is None or not account.is_active:
            return None
        if _hasher.check_needs_rehash(account.password_hash):
            rehashed, staff_id = _hasher.hash(password), account.id
            self._units.run(lambda uow: uow.access.update_staff_password(staff_id, rehashed))
            account = replace(account, password_hash=rehashed)
        return account

    def staff(self, staff_id: str) -> StaffAccount | None:
        """A staff account by id."""
        return self._units.run(lambda uow: uow.access.staff(staff_id))

    def staff_accounts(self) -> list[StaffAccount]:
        """Every staff account."""
        return self._units.run(lambda uow: uow.access.staff_accounts())

    def disable_staff(self, staff_id: str) -> None:
        """Disable a staff account; its tokens stop working (disabling twice is not an error)."""

        def work(uow: AccessUnitOfWork) -> None:
            uow.access.disable_staff(staff_id, self._rt.clock.now())
            if uow.access.staff(staff_id) is None:
                raise NotFound("staff account", staff_id)

        self._units.run(work)

    def server_secret(self, name: str) -> str:
        """A random secret shared by every process on this database (created on first use)."""
        return self._units.run(lambda uow: uow.access.secret(name, secrets.token_urlsafe(48)))
