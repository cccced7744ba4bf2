"""Accounts, transfers and the invariants the ledger keeps (DESIGN.md §3).

Every movement of money is one transfer from a source account to a destination
account, both in the transfer's currency. Transfers are immutable: a correction
is a new transfer. Each account caches its balance; the cache must always equal
the sum of the account's transfers, which ``tradeguard ledger verify`` checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from tradeguard.kernel.errors import ValidationFailed
from tradeguard.kernel.money import Money


class AccountKind(StrEnum):
    """What an account holds; decides whether its balance may go negative."""

    BUYER_FUNDING = "buyer_funding"  #: the buyer's money outside the platform (card, wallet)
    ESCROW = "escrow"  #: one order's guaranteed money, held until receipt is confirmed
    SELLER_AVAILABLE = "seller_available"  #: released money the seller may withdraw
    SELLER_DEPOSIT = "seller_deposit"  #: the seller's guarantee deposit (保证金)
    SELLER_PAYOUTS = "seller_payouts"  #: money paid out to the seller's bank
    PLATFORM_FEES = "platform_fees"
    PLATFORM_COMPENSATION_FUND = "platform_compensation_fund"  #: pays advances (先行赔付)
    PLATFORM_CAPITAL = "platform_capital"  #: the platform's own money outside the ledger
    PLATFORM_RECEIVABLE = "platform_receivable"  #: what a seller owes the platform
    INSURER = "insurer"  #: e.g. freight insurance (运费险)
    CARRIER_CLAIMS = "carrier_claims"  #: damage and loss claims against a carrier


@dataclass(frozen=True, slots=True)
class AccountRule:
    """How an address pattern maps to an account kind."""

    pattern: re.Pattern[str]
    kind: AccountKind
    may_go_negative: bool


_ID = r"[A-Za-z0-9_.\-]{1,64}"

#: Address patterns (Formance-style ``segment:segment``). Only accounts standing for
#: money outside the platform, and claims, may go negative; escrow, seller
#: available and deposit accounts never do, and the database enforces that too.
ACCOUNT_RULES: Final[tuple[AccountRule, ...]] = (
    AccountRule(re.compile(rf"^buyer:{_ID}:funding$"), AccountKind.BUYER_FUNDING, True),
    AccountRule(re.compile(rf"^escrow:order:{_ID}$"), AccountKind.ESCROW, False),
    AccountRule(re.compile(rf"^seller:{_ID}:available$"), AccountKind.SELLER_AVAILABLE, False),
    AccountRule(re.compile(rf"^seller:{_ID}:deposit$"), AccountKind.SELLER_DEPOSIT, False),
    AccountRule(re.compile(rf"^seller:{_ID}:payouts$"), AccountKind.SELLER_PAYOUTS, True),
    AccountRule(re.compile(r"^platform:fees(:[0-9]{1,2})?$"), AccountKind.PLATFORM_FEES, False),
    AccountRule(
        re.compile(r"^platform:compensation_fund$"), AccountKind.PLATFORM_COMPENSATION_FUND, False
    ),
    AccountRule(re.compile(r"^platform:capital$"), AccountKind.PLATFORM_CAPITAL, True),
    AccountRule(
        re.compile(rf"^platform:receivable:seller:{_ID}$"), AccountKind.PLATFORM_RECEIVABLE, True
    ),
    AccountRule(re.compile(rf"^insurer:{_ID}$"), AccountKind.INSURER, True),
    AccountRule(re.compile(rf"^carrier:{_ID}:claims$"), AccountKind.CARRIER_CLAIMS, True),
)


def classify(address: str) -> AccountRule:
    """Return the rule an account address follows, or raise ValidationFailed.

    >>> classify("escrow:order:ord_1").kind, classify("buyer:b7:funding").may_go_negative
    (<AccountKind.ESCROW: 'escrow'>, True)
    """
    for rule in ACCOUNT_RULES:
        if rule.pattern.match(address):
            return rule
    raise ValidationFailed(f"{address!r} is not a ledger account address.", address=address)


class TransferReason(StrEnum):
    """Why money moved; the ledger's vocabulary, shared by every context."""

    ESCROW_HOLD = "escrow_hold"  #: the buyer paid; money enters the order's escrow
    ESCROW_RELEASE = "escrow_release"  #: receipt confirmed; the seller's share leaves escrow
    PLATFORM_FEE = "platform_fee"  #: the platform's fee, taken at release
    REFUND = "refund"  #: money back to the buyer
    LATE_SHIPMENT_COMPENSATION = "late_shipment_compensation"
    PAYOUT = "payout"  #: available balance to the seller's bank
    PAYOUT_REVERSAL = "payout_reversal"  #: the bank refused a payout; money returns
    ADVANCE = "advance"  #: the platform pays a buyer on a seller's behalf (先行赔付)
    RECEIVABLE_RECOVERY = "receivable_recovery"
    DEPOSIT = "deposit"
    DEPOSIT_RELEASE = "deposit_release"
    FUND_TOP_UP = "fund_top_up"
    INSURANCE_REIMBURSEMENT = "insurance_reimbursement"
    CARRIER_CLAIM = "carrier_claim"
    COMPENSATION = "compensation"
    RETURN_SHIPPING = "return_shipping"


@dataclass(frozen=True, slots=True)
class TransferRequest:
    """A movement the caller wants; becomes a :class:`Transfer` once posted.

    The idempotency key is unique forever: posting the same request again is a
    no-op that returns the stored transfer, and reusing the key for different
    money is refused.
    """

    source: str
    destination: str
    amount: Money
    idempotency_key: str
    reference: str
    reason: TransferReason

    def __post_init__(self) -> None:
        if self.amount.amount_minor <= 0:
            raise ValidationFailed(
                "A transfer moves a positive amount.", amount=self.amount.amount_minor
            )
        if self.source == self.destination:
            raise ValidationFailed("A transfer needs two different accounts.", account=self.source)
        if not self.idempotency_key or len(self.idempotency_key) > 200:
            raise ValidationFailed("A transfer needs an idempotency key of 1 to 200 characters.")
        classify(self.source)
        classify(self.destination)

    def same_movement(self, other: TransferRequest) -> bool:
        """True when ``other`` moves the same money between the same accounts for the same cause."""
        return (
            self.source == other.source
            and self.destination == other.destination
            and self.amount == other.amount
            and self.reference == other.reference
            and self.reason == other.reason
        )


@dataclass(frozen=True, slots=True)
class Transfer(TransferRequest):
    """A posted, immutable transfer."""

    id: int = 0
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AccountKey:
    """An account is an address in one currency."""

    address: str
    currency: str


@dataclass(slots=True)
class LockedAccount:
    """An account row held under a row lock for the rest of the unit of work."""

    id: int
    key: AccountKey
    balance_minor: int
    may_go_negative: bool


@dataclass(frozen=True, slots=True)
class AccountBalance:
    """An account's cached balance, as read."""

    address: str
    currency: str
    kind: AccountKind
    balance_minor: int

    @property
    def balance(self) -> Money:
        """The balance as Money."""
        return Money(self.balance_minor, self.currency)


class Invariant(StrEnum):
    """The invariants of DESIGN.md §3 that ``tradeguard ledger verify`` checks."""

    BALANCES_SUM_TO_ZERO = "balances_sum_to_zero"  #: per currency, every balance together is 0
    CACHED_BALANCE_MATCHES_TRANSFERS = "cached_balance_matches_transfers"
    NON_NEGATIVE_ACCOUNTS = "non_negative_accounts"  #: escrow, available, deposit never below 0
    TRANSFERS_WELL_FORMED = "transfers_well_formed"  #: positive, two accounts, one currency
    ESCROW_MATCHES_ORDER = "escrow_matches_order"  #: escrow = paid - released - refunded
    NOTHING_RELEASED_OR_REFUNDED_TWICE = "nothing_released_or_refunded_twice"


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken invariant, with enough detail to find the rows."""

    invariant: Invariant
    detail: str

    def __str__(self) -> str:
        return f"{self.invariant}: {self.detail}"
