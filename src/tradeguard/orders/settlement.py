"""Where money owed to a buyer comes from, and how the platform gets an advance back (DESIGN.md §5).

Before completion a refund comes out of the order's escrow (see
``OrderService.refund_from_escrow``). After completion the seller owes it: it is
paid from the seller's available balance; when that is short — or the seller
refuses or is gone — the platform **advances** it (先行赔付) and books a
receivable against the seller.

Ledger model of an advance of A to buyer B on seller X's behalf: one transfer
``platform:receivable:seller:X -> buyer:B:funding``. The receivable's balance
goes to -A: what X owes. The compensation fund backs those receivables: an
advance is refused when the fund could not absorb every receivable outstanding
plus the new one. A receivable is recovered from the seller's later releases
(at each completion), then from its deposit after a grace period; a payout is
held while the seller owes anything or while a hold (an open refund request)
stands.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tradeguard.deadlines import service as deadlines
from tradeguard.deadlines.model import Deadline, NewDeadline, Outcome
from tradeguard.events import service as events
from tradeguard.events.model import DomainEvent
from tradeguard.kernel.errors import Conflict, ErrorKind, TradeGuardError, ValidationFailed
from tradeguard.kernel.money import Money, check_currency
from tradeguard.kernel.parties import Actor, Party
from tradeguard.kernel.runtime import Runtime
from tradeguard.kernel.uow import UnitOfWorkRunner
from tradeguard.ledger import service as ledger
from tradeguard.ledger.model import AccountKey, TransferReason, TransferRequest
from tradeguard.orders.model import PayoutHold
from tradeguard.orders.policy import SettlementPolicy
from tradeguard.orders.ports import OrdersUnitOfWork

FUND = "platform:compensation_fund"
CAPITAL = "platform:capital"
RECEIVABLE_PREFIX = "platform:receivable:seller:"
DEPOSIT_RECOVERY = "seller.receivable_deposit_recovery"


class FundExhausted(TradeGuardError):
    """The compensation fund cannot back another advance; the operator must top it up."""

    code = "compensation_fund_exhausted"
    kind = ErrorKind.CONFLICT


class PayoutHeld(Conflict):
    """The seller's payouts are held."""

    code = "payout_held"


class Source(StrEnum):
    """Where a payment to a buyer came from."""

    ESCROW = "escrow"
    SELLER_AVAILABLE = "seller_available"
    ADVANCE = "advance"


@dataclass(frozen=True, slots=True)
class FundStatus:
    """The compensation fund and what it backs, in one currency."""

    currency: str
    balance_minor: int
    receivables_outstanding_minor: int  #: what sellers owe the platform for advances

    @property
    def headroom_minor(self) -> int:
        """How much more the fund can advance."""
        return self.balance_minor - self.receivables_outstanding_minor


def receivable_account(seller_id: str) -> str:
    """The account of what ``seller_id`` owes the platform (negative = owed)."""
    return f"{RECEIVABLE_PREFIX}{seller_id}"


class SettlementService:
    """Seller-funded payments to buyers, platform advances, recovery, payout holds, the fund."""

    def __init__(
        self, units: UnitOfWorkRunner[OrdersUnitOfWork], runtime: Runtime, policy: SettlementPolicy
    ) -> None:
        self._units = units
        self._rt = runtime
        self._policy = policy

    # -- paying buyers on a seller's behalf (within the caller's unit of work) -------------------

    def pay_buyer(
        self,
        uow: OrdersUnitOfWork,
        *,
        seller_id: str,
        buyer_id: str,
        amount: Money,
        key: str,
        reference: str,
        reason: TransferReason,
        allow_advance: bool = True,
    ) -> Source:
        """Pay ``amount`` that the seller owes the buyer: from the seller's available balance, else advanced.

        ``key`` makes the payment idempotent. With ``allow_advance=False`` a short
        balance raises InsufficientFunds instead of advancing.
        """
        available = self.balance(uow, f"seller:{seller_id}:available", amount.currency)
        if available >= amount.amount_minor or not allow_advance:
            transfer = TransferRequest(
                f"seller:{seller_id}:available",
                f"buyer:{buyer_id}:funding",
                amount,
                key,
                reference,
                reason,
            )
            ledger.post_transfers(uow.ledger, [transfer], self._rt.clock.now())
            return Source.SELLER_AVAILABLE
        self.advance(
            uow, seller_id=seller_id, buyer_id=buyer_id, amount=amount, key=key, reference=reference
        )
        return Source.ADVANCE

    def advance(
        self,
        uow: OrdersUnitOfWork,
        *,
        seller_id: str,
        buyer_id: str,
        amount: Money,
        key: str,
        reference: str,
    ) -> None:
        """The platform pays the buyer now and books a receivable against the seller (先行赔付)."""
        now = self._rt.clock.now()
        status = self._fund(uow, amount.currency)
        if status.headroom_minor < amount.amount_minor:
            raise FundExhausted(
                f"The compensation fund ({status.balance_minor} {amount.currency} minor units) cannot back "
                f"{amount.amount_minor} more on top of {status.receivables_outstanding_minor} outstanding; top it up.",
                headroom_minor=status.headroom_minor,
            )
        payment = TransferRequest(
            receivable_account(seller_id),
            f"buyer:{buyer_id}:funding",
            amount,
            key,
            reference,
            TransferReason.ADVANCE,
        )
        ledger.post_transfers(uow.ledger, [payment], now)
        # The deposit is the seller's guarantee: if later sales have not repaid the advance
        # within the grace period, the deposit does.
        subject = f"seller:{seller_id}"
        if not uow.deadlines.active(subject, [DEPOSIT_RECOVERY]):
            due = self._rt.calendar.add(now, self._policy.deposit_recovery_after)
            deadlines.schedule(uow.deadlines, [NewDeadline(DEPOSIT_RECOVERY, subject, due)], now)
        data = {
            "seller_id": seller_id,
            "buyer_id": buyer_id,
            "amount_minor": amount.amount_minor,
            "currency": amount.currency,
            "reference": reference,
        }
        events.record(
            uow.outbox, [DomainEvent("settlement.advanced", subject, data)], self._rt.ids, now
        )

    # -- recovery -------------------------------------------------------------------------------

    def owed(self, uow: OrdersUnitOfWork, seller_id: str, currency: str) -> int:
        """What the seller owes the platform in ``currency`` (0 or more)."""
        return max(0, -self.balance(uow, receivable_account(seller_id), currency))

    def recover_from_available(
        self, uow: OrdersUnitOfWork, seller_id: str, currency: str, reference: str
    ) -> int:
        """Take what the seller owes out of its available balance (after a release); return the amount."""
        owed = self.owed(uow, seller_id, currency)
        if owed == 0:
            return 0
        take = min(owed, self.balance(uow, f"seller:{seller_id}:available", currency))
        if take > 0:
            self._recover(
                uow, seller_id, f"seller:{seller_id}:available", Money(take, currency), reference
            )
        return take

    def recover_from_deposit(self, uow: OrdersUnitOfWork, seller_id: str, currency: str) -> int:
        """Take what the seller still owes out of its guarantee deposit; return the amount."""
        owed = self.owed(uow, seller_id, currency)
        take = min(owed, self.balance(uow, f"seller:{seller_id}:deposit", currency))
        if take > 0:
            self._recover(
                uow,
                seller_id,
                f"seller:{seller_id}:deposit",
                Money(take, currency),
                f"seller:{seller_id}:deposit",
            )
        return take

    def _recover(
        self, uow: OrdersUnitOfWork, seller_id: str, source: str, amount: Money, reference: str
    ) -> None:
        now = self._rt.clock.now()
        key = f"recovery:{seller_id}:{self._rt.ids.new('rcv', now)}"
        transfer = TransferRequest(
            source,
            receivable_account(seller_id),
            amount,
            key,
            reference,
            TransferReason.RECEIVABLE_RECOVERY,
        )
        ledger.post_transfers(uow.ledger, [transfer], now)
        data = {
            "seller_id": seller_id,
            "amount_minor": amount.amount_minor,
            "currency": amount.currency,
            "from": source,
        }
        events.record(
            uow.outbox,
            [DomainEvent("settlement.recovered", f"seller:{seller_id}", data)],
            self._rt.ids,
            now,
        )

    def deadline_handlers(self) -> dict[str, object]:
        """The deposit-recovery timer's handler."""

        def recover(uow: OrdersUnitOfWork, deadline: Deadline, now: datetime) -> Outcome:
            seller_id = deadline.subject_id
            currencies = {
                b.currency for b in uow.ledger.balances(addresses=[receivable_account(seller_id)])
            }
            recovered = sum(
                self.recover_from_deposit(uow, seller_id, c) for c in sorted(currencies)
            )
            return Outcome.FIRED if recovered else Outcome.OBSOLETE

        return {DEPOSIT_RECOVERY: recover}

    # -- payout holds ---------------------------------------------------------------------------

    def place_hold(self, uow: OrdersUnitOfWork, seller_id: str, subject: str, reason: str) -> None:
        """Hold the seller's payouts while ``subject`` (e.g. an open refund request) is unresolved."""
        uow.orders.place_payout_hold(seller_id, subject, reason, self._rt.clock.now())

    def release_hold(self, uow: OrdersUnitOfWork, subject: str) -> None:
        """Lift the hold placed for ``subject``."""
        uow.orders.release_payout_hold(subject, self._rt.clock.now())

    def holds(self, seller_id: str, party: Party) -> list[PayoutHold]:
        """The holds on a seller's payouts; a seller sees only its own."""
        if party.actor == Actor.BUYER or (party.actor == Actor.SELLER and party.id != seller_id):
            return []
        return self._units.run(lambda uow: uow.orders.payout_holds(seller_id))

    def check_payout_allowed(self, uow: OrdersUnitOfWork, seller_id: str, currency: str) -> None:
        """Refuse a payout while the seller owes the platform or a hold stands."""
        owed = self.owed(uow, seller_id, currency)
        if owed > 0:
            raise PayoutHeld(
                f"Seller {seller_id} owes the platform {owed} {currency} minor units for advances; payouts resume once repaid.",
                owed_minor=owed,
            )
        holds = uow.orders.payout_holds(seller_id)
        if holds:
            raise PayoutHeld(
                f"Payouts of seller {seller_id} are held: {holds[0].reason} ({holds[0].subject}).",
                holds=len(holds),
            )

    # -- the fund -------------------------------------------------------------------------------

    def top_up_fund(self, amount_minor: int, currency: str, reference: str) -> FundStatus:
        """Move the platform's own money into the compensation fund (operator)."""
        check_currency(currency)
        if type(amount_minor) is not int or amount_minor <= 0:
            raise ValidationFailed("A top-up is a positive amount of minor units.")
        if not reference:
            raise ValidationFailed("A top-up needs a reference (e.g. the bank transfer's).")

        def work(uow: OrdersUnitOfWork) -> FundStatus:
            now = self._rt.clock.now()
            transfer = TransferRequest(
                CAPITAL,
                FUND,
                Money(amount_minor, currency),
                f"fund_top_up:{reference}",
                reference,
                TransferReason.FUND_TOP_UP,
            )
            ledger.post_transfers(uow.ledger, [transfer], now)
            return self._fund(uow, currency)

        return self._units.run(work)

    def fund_status(self, currency: str) -> FundStatus:
        """The fund's balance and the receivables it backs."""
        check_currency(currency)
        return self._units.run(lambda uow: self._fund(uow, currency))

    def _fund(self, uow: OrdersUnitOfWork, currency: str) -> FundStatus:
        balance = self.balance(uow, FUND, currency)
        receivables = sum(
            -b.balance_minor
            for b in uow.ledger.balances(address_prefix=RECEIVABLE_PREFIX)
            if b.currency == currency and b.balance_minor < 0
        )
        return FundStatus(currency, balance, receivables)

    @staticmethod
    def balance(uow: OrdersUnitOfWork, address: str, currency: str) -> int:
        """The cached balance of one account in one currency (0 if it does not exist yet)."""
        return uow.ledger.balance(AccountKey(address, currency))
