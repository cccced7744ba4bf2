"""Merchant verification records and their transition table (DESIGN.md §10)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from tradeguard.kernel.parties import Actor
from tradeguard.kernel.statemachine import TransitionTable


class MerchantState(StrEnum):
    """Where a seller's business verification stands."""

    SUBMITTED = "submitted"  #: waiting for staff to check the documents
    VERIFIED = "verified"
    REJECTED = "rejected"  #: the operator may resubmit corrected details
    REVOKED = "revoked"  #: verification withdrawn (e.g. licence cancelled)


class MerchantEvent(StrEnum):
    """What can be asked of a verification record."""

    VERIFY = "verify"
    REJECT = "reject"
    RESUBMIT = "resubmit"
    REVOKE = "revoke"


S, E, A = MerchantState, MerchantEvent, Actor
_VERIFIERS = frozenset({A.SUPPORT, A.ADMIN})

MERCHANT_TRANSITIONS: Final = TransitionTable[MerchantState, MerchantEvent, MerchantEvent](
    "merchant",
    MerchantState,
    initial=S.SUBMITTED,
    final={S.REVOKED},
    rows=[
        (S.SUBMITTED, E.VERIFY, _VERIFIERS, S.VERIFIED, []),
        (S.SUBMITTED, E.REJECT, _VERIFIERS, S.REJECTED, []),
        (S.REJECTED, E.RESUBMIT, A.OPERATOR, S.SUBMITTED, []),
        (S.VERIFIED, E.REVOKE, _VERIFIERS, S.REVOKED, []),
    ],
)

EVENT_TYPES: Final[dict[MerchantEvent, str]] = {
    E.VERIFY: "merchant.verified",
    E.REJECT: "merchant.rejected",
    E.RESUBMIT: "merchant.submitted",
    E.REVOKE: "merchant.revoked",
}


@dataclass(frozen=True, slots=True)
class MerchantDocument:
    """An uploaded document (business licence, ID), referenced by the sha256 of its bytes."""

    sha256: str
    kind: str  #: e.g. business_licence, legal_representative_id
    content_type: str
    size_bytes: int
    uploaded_at: datetime


@dataclass(slots=True)
class Merchant:
    """A seller's business verification record, guarantee enrolment and documents."""

    seller_id: str
    legal_name: str
    country: str
    registration_number: str
    state: MerchantState
    submitted_at: datetime
    updated_at: datetime
    verified_by: str | None = None
    verified_at: datetime | None = None
    rejection_reason: str | None = None
    guarantee_enrolled_at: datetime | None = None
    guarantee_withdrawn_at: datetime | None = None
    documents: tuple[MerchantDocument, ...] = ()

    @property
    def is_verified(self) -> bool:
        """True while verification stands."""
        return self.state == MerchantState.VERIFIED

    @property
    def guarantee_enrolled(self) -> bool:
        """True while enrolled in the guarantee (担保交易 with compensation)."""
        return self.guarantee_enrolled_at is not None and self.guarantee_withdrawn_at is None

    @property
    def deposit_account(self) -> str:
        """The seller's deposit (保证金) account."""
        return f"seller:{self.seller_id}:deposit"
