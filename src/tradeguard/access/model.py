"""Operator API keys and staff accounts.

An API key is shown once, at creation; only a hash of its secret is stored, so a
leaked database does not leak working keys. Staff passwords are argon2 hashes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from tradeguard.kernel.parties import Actor


class Scope(StrEnum):
    """What an operator API key may do."""

    ORDERS = "orders"  #: listings, checkouts, shipping and tracking on the operator's behalf, reads
    PAYMENTS = "payments"  #: report captured payments, payouts
    TOKENS = "tokens"  #: mint participant tokens for buyers and sellers
    WEBHOOKS = "webhooks"  #: register endpoints, read the delivery log, replay
    ADMIN = "admin"  #: manage API keys and staff accounts


class StaffRole(StrEnum):
    """Staff roles (DESIGN.md §1)."""

    SUPPORT = "support"  #: customer service (客服)
    ARBITRATOR = "arbitrator"  #: decides disputes (小二)
    RISK_ANALYST = "risk_analyst"
    ADMIN = "admin"

    @property
    def actor(self) -> Actor:
        """The actor this role acts as in transition tables."""
        return Actor(self.value)


#: Prefix of every operator API key, so secret scanners and logs can recognise one.
API_KEY_PREFIX: Final = "tgk_"


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An operator API key, without its secret."""

    id: str
    name: str
    lookup: str  #: the public part of the key, used to find the row
    secret_hash: str
    scopes: frozenset[Scope]
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    @property
    def is_active(self) -> bool:
        """True until revoked."""
        return self.revoked_at is None


@dataclass(frozen=True, slots=True)
class StaffAccount:
    """A staff user (support, arbitrator, risk analyst or admin)."""

    id: str
    email: str
    role: StaffRole
    password_hash: str
    created_at: datetime
    disabled_at: datetime | None = None

    @property
    def is_active(self) -> bool:
        """True until disabled."""
        return self.disabled_at is None
