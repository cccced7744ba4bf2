"""What the after-sales context needs from storage and from the disputes context."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from tradeguard.aftersales.model import BuyerHistory, EscalatedRequest, RefundFilter, RefundRequest
from tradeguard.orders.ports import OrdersUnitOfWork


class RefundStore(Protocol):
    """Refund requests."""

    def insert(self, request: RefundRequest) -> None:
        """Store a new request."""
        ...

    def get(self, request_id: str, *, lock: bool = False) -> RefundRequest | None:
        """One request; with ``lock``, row-locked until the unit of work ends."""
        ...

    def update(self, request: RefundRequest) -> None:
        """Write back a request's mutable fields."""
        ...

    def for_order(self, order_id: str) -> list[RefundRequest]:
        """The order's requests, oldest first."""
        ...

    def find(
        self, where: RefundFilter, *, before_id: str | None, limit: int
    ) -> list[RefundRequest]:
        """Requests matching ``where``, newest first, strictly before ``before_id``."""
        ...

    def buyer_history(self, buyer_id: str, now: datetime) -> BuyerHistory:
        """The buyer's completed orders, refund requests and account age (first order)."""
        ...


class AfterSalesUnitOfWork(OrdersUnitOfWork, Protocol):
    """What an after-sales use case touches in one transaction: the order's world and refunds."""

    @property
    def aftersales(self) -> RefundStore:
        """Refund requests."""
        ...


class EscalationPort(Protocol):
    """The disputes context opens a dispute from an escalated refund request (DESIGN.md §6)."""

    def open_from_escalation(self, uow: Any, request: EscalatedRequest) -> str:
        """Open a dispute in the caller's unit of work and return its id."""
        ...
