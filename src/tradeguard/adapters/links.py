"""Links between bounded contexts, wired in the composition root.

A context that needs another declares a port in its own ``ports.py`` (after-sales:
``EscalationPort``; disputes: ``AfterSalesLink``, ``SellerCreditLink``) and never imports
the other context. The translators here implement those ports on top of the other
context's service, converting its records, so each context stays buildable and
testable alone and the contexts meet in one place.

Reputation plugs in twice: a buyer's credit (reputation) decides the after-sales tier
that unlocks instant refunds, and it reads the buyer's lost complaints from disputes.
Disputes deduct seller credit points and exclude reviews through ``ReputationService``
directly, whose methods already have the shape of ``SellerCreditLink``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tradeguard.aftersales import model as aftersales_model
from tradeguard.aftersales.model import BuyerTier
from tradeguard.aftersales.service import AfterSalesService
from tradeguard.disputes import ports as disputes_ports
from tradeguard.disputes.service import DisputeService
from tradeguard.reputation.model import BuyerHistory
from tradeguard.reputation.service import ReputationService

#: A dispute dismissed for lack of evidence ends the refund request as the seller's win.
_AFTER_SALES_OUTCOME = {
    "buyer_wins": "buyer_wins",
    "seller_wins": "seller_wins",
    "split": "split",
    "dismissed": "seller_wins",
}


class EscalationToDisputes:
    """After-sales → disputes: an escalated refund request opens a dispute (DESIGN.md §5, §6)."""

    def __init__(self, disputes: DisputeService) -> None:
        self._disputes = disputes

    def open_from_escalation(self, uow: Any, request: aftersales_model.EscalatedRequest) -> str:
        """Open (or find) the case for ``request`` in the caller's unit of work."""
        return self._disputes.open_from_escalation(
            uow,
            disputes_ports.EscalatedRequest(
                request_id=request.request_id,
                order_id=request.order_id,
                buyer_id=request.buyer_id,
                seller_id=request.seller_id,
                kind=request.kind,
                reason=request.reason,
                requested_minor=request.requested_minor,
                currency=request.currency,
                description=request.description,
            ),
        )


class DecisionToAfterSales:
    """Disputes → after-sales: a decision on an escalated request is carried out by after-sales."""

    def __init__(self, aftersales: AfterSalesService) -> None:
        self._aftersales = aftersales

    def settle_escalated(
        self, uow: Any, request_id: str, outcome: str, refund_minor: int, reference: str
    ) -> None:
        """Refund (or close) the request as decided, in the caller's unit of work."""
        self._aftersales.settle_escalated(
            uow, request_id, _AFTER_SALES_OUTCOME[outcome], refund_minor, reference
        )


class BuyerHistoryFromContexts:
    """Reputation's buyer history: orders (completed, money refunded, first order) + lost complaints.

    A complaint the buyer filed that ended ``seller_wins`` or ``dismissed`` counts as a
    dispute lost (DESIGN.md §9: buyer tier from completed orders, refund rate, disputes
    lost and account age).
    """

    def history(self, uow: Any, buyer_id: str) -> BuyerHistory:
        """The buyer's history, read in the caller's unit of work."""
        orders_only: BuyerHistory = uow.reputation.buyer_orders(buyer_id)
        return replace(orders_only, disputes_lost=uow.disputes.complaints_lost_by_buyer(buyer_id))


class CreditTierSource:
    """After-sales tiers from reputation's buyer credit (DESIGN.md §5 instant refunds, §9).

    Credit tiers are finer than after-sales tiers: a buyer whose credit allows instant
    refunds is ``trusted``; ``new`` and ``restricted`` buyers are ``new`` (nothing
    unlocked); everyone else, including a high score with too many refunds, is ``standard``.
    """

    def __init__(self, reputation: ReputationService) -> None:
        self._reputation = reputation

    def tier(self, uow: Any, buyer_id: str) -> BuyerTier:
        """The buyer's after-sales tier, read in the caller's unit of work."""
        credit = self._reputation.buyer_credit(uow, buyer_id)
        if credit.allows_instant_refund:
            return BuyerTier.TRUSTED
        if credit.tier in ("new", "restricted"):
            return BuyerTier.NEW
        return BuyerTier.STANDARD
