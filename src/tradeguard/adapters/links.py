"""Links between bounded contexts, wired in the composition root.

A context that needs another declares a port in its own ``ports.py`` (after-sales:
``EscalationPort``; disputes: ``AfterSalesLink``, ``SellerCreditLink``) and never imports
the other context. The translators here implement those ports on top of the other
context's service, converting its records, so each context stays buildable and
testable alone and the contexts meet in one place.
"""

from __future__ import annotations

from typing import Any

from tradeguard.aftersales import model as aftersales_model
from tradeguard.aftersales.service import AfterSalesService
from tradeguard.disputes import ports as disputes_ports
from tradeguard.disputes.service import DisputeService

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
