"""Merchant use cases: verification, documents, guarantee enrolment, the deposit (DESIGN.md §10)."""

from __future__ import annotations

from typing import Any

from tradeguard.events import service as events
from tradeguard.events.model import DomainEvent
from tradeguard.kernel.errors import Conflict, NotFound, ValidationFailed
from tradeguard.kernel.money import Money, check_currency
from tradeguard.kernel.parties import Actor, Party
from tradeguard.kernel.runtime import Runtime
from tradeguard.kernel.uow import UnitOfWorkRunner
from tradeguard.ledger import service as ledger
from tradeguard.ledger.model import TransferReason, TransferRequest
from tradeguard.merchants.model import (
    EVENT_TYPES,
    MERCHANT_TRANSITIONS,
    Merchant,
    MerchantDocument,
    MerchantEvent,
    MerchantState,
)
from tradeguard.merchants.policy import MerchantPolicy
from tradeguard.merchants.ports import MerchantsUnitOfWork
from tradeguard.merchants.validators import validate_registration
from tradeguard.reputation.ports import ReputationUnitOfWork
from tradeguard.reputation.service import MerchantStanding

_HEX = frozenset("0123456789abcdef")


class MerchantService:
    """Verification records, guarantee enrolment and deposits."""

    def __init__(
        self, units: UnitOfWorkRunner[MerchantsUnitOfWork], runtime: Runtime, policy: MerchantPolicy
    ) -> None:
        self._units = units
        self._rt = runtime
        self._policy = policy

    @property
    def policy(self) -> MerchantPolicy:
        """The merchant policy in force."""
        return self._policy

    def submit(
        self,
        seller_id: str,
        legal_name: str,
        country: str,
        registration_number: str,
        category: str | None = None,
    ) -> Merchant:
        """Submit (or, after a rejection, resubmit) a seller's business details (operator).

        The registration number must pass its country's validator (China: the GB
        32100-2015 check character), so a mistyped or invented code is refused here.
        """
        if not legal_name.strip() or len(legal_name) > 200:
            raise ValidationFailed("The legal name is 1 to 200 characters.", field="legal_name")
        number = validate_registration(country, registration_number)

        def work(uow: MerchantsUnitOfWork) -> Merchant:
            now = self._rt.clock.now()
            merchant = uow.merchants.get(seller_id, lock=True)
            if merchant is None:
                merchant = Merchant(
                    seller_id, legal_name.strip(), country.upper(), number,
                    MerchantState.SUBMITTED, now, now,
                )  # fmt: skip
                uow.merchants.insert(merchant)
                event_type = "merchant.submitted"
            else:
                row = MERCHANT_TRANSITIONS.fire(
                    merchant.state, MerchantEvent.RESUBMIT, Actor.OPERATOR
                )
                merchant.state = row.target
                merchant.legal_name, merchant.country = legal_name.strip(), country.upper()
                merchant.registration_number = number
                merchant.submitted_at = merchant.updated_at = now
                merchant.rejection_reason = None
                uow.merchants.update(merchant)
                event_type = EVENT_TYPES[MerchantEvent.RESUBMIT]
            if category:
                uow.reputation.set_category(seller_id, category, now)
            self._record(uow, event_type, merchant, {})
            return merchant

        return self._units.run(work)

    def add_document(
        self, seller_id: str, kind: str, sha256: str, content_type: str, size_bytes: int
    ) -> Merchant:
        """Attach an uploaded document by the sha256 of its bytes (size and type checked)."""
        if len(sha256) != 64 or not set(sha256) <= _HEX:
            raise ValidationFailed(
                "Name the document by the lowercase hex sha256 of its bytes.", field="sha256"
            )
        if content_type not in self._policy.document_types:
            raise ValidationFailed(
                f"Documents must be one of {', '.join(self._policy.document_types)}.",
                field="content_type",
            )
        if not 0 < size_bytes <= self._policy.document_max_bytes:
            raise ValidationFailed(
                f"A document is 1 to {self._policy.document_max_bytes} bytes.", field="size_bytes"
            )
        if not kind or len(kind) > 32:
            raise ValidationFailed("The document kind is 1 to 32 characters.", field="kind")

        def work(uow: MerchantsUnitOfWork) -> Merchant:
            now = self._rt.clock.now()
            merchant = self._get(uow, seller_id, lock=True)
            document = MerchantDocument(sha256, kind, content_type, size_bytes, now)
            if uow.merchants.add_document(seller_id, document):
                self._record(
                    uow, "merchant.document_added", merchant, {"sha256": sha256, "kind": kind}
                )
            return self._get(uow, seller_id)

        return self._units.run(work)

    def decide(self, seller_id: str, party: Party, *, verify: bool, reason: str = "") -> Merchant:
        """Staff verify or reject a submitted record; verified_by and when are kept."""
        event = MerchantEvent.VERIFY if verify else MerchantEvent.REJECT
        if not verify and not reason.strip():
            raise ValidationFailed("A rejection needs a reason.", field="reason")
        return self._transition(seller_id, party, event, reason)

    def revoke(self, seller_id: str, party: Party, reason: str) -> Merchant:
        """Staff withdraw a verification."""
        if not reason.strip():
            raise ValidationFailed("A revocation needs a reason.", field="reason")
        return self._transition(seller_id, party, MerchantEvent.REVOKE, reason)

    def set_guarantee(self, seller_id: str, *, enrolled: bool) -> Merchant:
        """Enrol the seller in the guarantee, or withdraw it (operator)."""

        def work(uow: MerchantsUnitOfWork) -> Merchant:
            now = self._rt.clock.now()
            merchant = self._get(uow, seller_id, lock=True)
            if enrolled == merchant.guarantee_enrolled:
                return merchant  # asking twice changes nothing
            if enrolled:
                if not merchant.is_verified:
                    raise Conflict("Only a verified merchant enrols in the guarantee.")
                merchant.guarantee_enrolled_at, merchant.guarantee_withdrawn_at = now, None
            else:
                merchant.guarantee_withdrawn_at = now
            merchant.updated_at = now
            uow.merchants.update(merchant)
            kind = "merchant.guarantee_enrolled" if enrolled else "merchant.guarantee_withdrawn"
            self._record(uow, kind, merchant, {})
            return merchant

        return self._units.run(work)

    def post_deposit(self, seller_id: str, amount_minor: int, currency: str, reference: str) -> int:
        """Hold a deposit (保证金) from the seller's bank in ``seller:ID:deposit``; return the balance.

        Ledger: ``seller:ID:payouts -> seller:ID:deposit`` (the reverse of a payout),
        idempotent per reference.
        """
        check_currency(currency)
        if type(amount_minor) is not int or amount_minor <= 0:
            raise ValidationFailed(
                "A deposit is a positive amount of minor units.", field="amount_minor"
            )
        if not reference or len(reference) > 120:
            raise ValidationFailed(
                "A deposit needs a reference of 1 to 120 characters.", field="reference"
            )

        def work(uow: MerchantsUnitOfWork) -> int:
            now = self._rt.clock.now()
            merchant = self._get(uow, seller_id)
            transfer = TransferRequest(
                f"seller:{seller_id}:payouts",
                merchant.deposit_account,
                Money(amount_minor, currency),
                f"merchant:{seller_id}:deposit:{reference}",
                f"merchant:{seller_id}",
                TransferReason.DEPOSIT,
            )
            ledger.post_transfers(uow.ledger, [transfer], now)
            balance = _balance(uow, merchant.deposit_account, currency)
            self._record(
                uow,
                "merchant.deposit_posted",
                merchant,
                {
                    "amount_minor": amount_minor,
                    "currency": currency,
                    "reference": reference,
                    "balance_minor": balance,
                },
            )
            return balance

        return self._units.run(work)

    def get(self, seller_id: str, party: Party) -> Merchant:
        """A seller's record: the seller itself, operators and staff."""
        if party.actor == Actor.BUYER or (party.actor == Actor.SELLER and party.id != seller_id):
            raise NotFound("merchant", seller_id)
        return self._units.run(lambda uow: self._get(uow, seller_id))

    def find(
        self, state: MerchantState | None, *, before_id: str | None = None, limit: int = 50
    ) -> list[Merchant]:
        """Records, e.g. the staff queue of submitted ones."""
        return self._units.run(
            lambda uow: uow.merchants.find(
                state.value if state else None, before_id=before_id, limit=limit
            )
        )

    def deposit_minor(self, seller_id: str) -> int:
        """The seller's deposit in the policy currency."""
        return self._units.run(
            lambda uow: _balance(uow, f"seller:{seller_id}:deposit", self._policy.deposit_currency)
        )

    def standing(self, uow: ReputationUnitOfWork, seller_id: str) -> MerchantStanding:
        """Verification, guarantee and deposit, for the trust badge (reputation calls this)."""
        merchants_uow: MerchantsUnitOfWork = uow  # type: ignore[assignment]  # the same SQL unit
        merchant = merchants_uow.merchants.get(seller_id)
        if merchant is None:
            return MerchantStanding(False, False, False)
        deposit = _balance(merchants_uow, merchant.deposit_account, self._policy.deposit_currency)
        return MerchantStanding(
            merchant.is_verified,
            merchant.guarantee_enrolled,
            deposit > 0 and deposit >= self._policy.deposit_required_minor,
        )

    # -- helpers --------------------------------------------------------------------------------

    def _transition(
        self, seller_id: str, party: Party, event: MerchantEvent, reason: str
    ) -> Merchant:
        def work(uow: MerchantsUnitOfWork) -> Merchant:
            now = self._rt.clock.now()
            merchant = self._get(uow, seller_id, lock=True)
            row = MERCHANT_TRANSITIONS.fire(merchant.state, event, party.actor)
            merchant.state, merchant.updated_at = row.target, now
            if event == MerchantEvent.VERIFY:
                merchant.verified_by, merchant.verified_at = str(party), now
            elif event in (MerchantEvent.REJECT, MerchantEvent.REVOKE):
                merchant.rejection_reason = reason.strip()
            if event == MerchantEvent.REVOKE and merchant.guarantee_enrolled:
                merchant.guarantee_withdrawn_at = now  # no guarantee without verification
            uow.merchants.update(merchant)
            facts = {"by": str(party), **({"reason": reason.strip()} if reason.strip() else {})}
            self._record(uow, EVENT_TYPES[event], merchant, facts)
            return merchant

        return self._units.run(work)

    def _get(self, uow: MerchantsUnitOfWork, seller_id: str, *, lock: bool = False) -> Merchant:
        merchant = uow.merchants.get(seller_id, lock=lock)
        if merchant is None:
            raise NotFound("merchant", seller_id)
        return merchant

    def _record(
        self, uow: MerchantsUnitOfWork, kind: str, merchant: Merchant, facts: dict[str, Any]
    ) -> None:
        data = {
            "seller_id": merchant.seller_id,
            "state": merchant.state.value,
            "country": merchant.country,
            "guarantee_enrolled": merchant.guarantee_enrolled,
            **facts,
        }
        events.record(
            uow.outbox,
            [DomainEvent(kind, f"merchant:{merchant.seller_id}", data)],
            self._rt.ids,
            self._rt.clock.now(),
        )


def _balance(uow: MerchantsUnitOfWork, address: str, currency: str) -> int:
    return sum(
        b.balance_minor for b in uow.ledger.balances(addresses=[address]) if b.currency == currency
    )
