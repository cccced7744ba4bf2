"""The refund request store in SQLAlchemy Core; rows are converted to domain objects explicitly."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update

from tradeguard.adapters.storage.sql import DIALECTS, Prepared, Sql
from tradeguard.adapters.storage.tables.aftersales import refund_requests
from tradeguard.adapters.storage.tables.orders import orders
from tradeguard.aftersales.model import (
    BuyerHistory,
    RefundFilter,
    RefundKind,
    RefundReason,
    RefundRequest,
    RefundState,
    ReturnShippingPayer,
)
from tradeguard.orders.model import OrderState

RC = refund_requests.c

_IMMUTABLE = (
    "id",
    "order_id",
    "buyer_id",
    "seller_id",
    "currency",
    "created_at",
)
#: Columns a use case may change; ``update`` writes exactly these.
_MUTABLE = (
    "kind",
    "reason",
    "state",
    "requested_minor",
    "description",
    "return_shipping_payer",
    "freight_insured",
    "refunded_minor",
    "outbound_shipping_deduction_minor",
    "return_shipping_minor",
    "return_shipping_reimbursed_minor",
    "carrier_claim_minor",
    "instant_refunded_minor",
    "instant_recovered",
    "serial_mismatch",
    "paused_auto_confirm",
    "amendments",
    "refused_reason",
    "refund_source",
    "close_reason",
    "dispute_id",
    "updated_at",
    "agreed_at",
    "return_shipped_at",
    "ended_at",
    "answer_due_at",
)


class _Statements:
    """The after-sales statements for one dialect, compiled once."""

    def __init__(self) -> None:
        by_id = select(refund_requests).where(RC.id == bindparam("request_id"))
        self.get = Prepared(by_id)
        self.get_locked = Prepared(by_id.with_for_update())
        self.insert = Prepared(
            refund_requests.insert()
            .values({c: bindparam(c) for c in (*_IMMUTABLE, *_MUTABLE)})
            .inline()
        )
        self.update = Prepared(
            update(refund_requests)
            .where(RC.id == bindparam("request_id"))
            .values({c: bindparam(c) for c in _MUTABLE})
        )
        self.for_order = Prepared(
            select(refund_requests).where(RC.order_id == bindparam("order_id")).order_by(RC.id)
        )
        self.completed = Prepared(
            select(func.count(), func.min(orders.c.created_at)).where(
                orders.c.buyer_id == bindparam("buyer_id"),
                orders.c.state == OrderState.COMPLETED.value,
            )
        )
        self.first_order = Prepared(
            select(func.min(orders.c.created_at)).where(orders.c.buyer_id == bindparam("buyer_id"))
        )
        self.refunds = Prepared(select(func.count()).where(RC.buyer_id == bindparam("buyer_id")))


_STATEMENTS = {name: _Statements() for name in DIALECTS}


class SqlRefundStore:
    """Implements :class:`tradeguard.aftersales.ports.RefundStore`."""

    def __init__(self, sql: Sql) -> None:
        self._sql = sql
        self._q = _STATEMENTS[sql.dialect]

    def insert(self, request: RefundRequest) -> None:
        """Store a new request."""
        self._sql.run(
            self._q.insert,
            {
                "id": request.id,
                "order_id": request.order_id,
                "buyer_id": request.buyer_id,
                "seller_id": request.seller_id,
                "currency": request.currency,
                "created_at": request.created_at,
                **_mutable_values(request),
            },
        )

    def get(self, request_id: str, *, lock: bool = False) -> RefundRequest | None:
        """One request, optionally row-locked."""
        row = self._sql.first(
            self._q.get_locked if lock else self._q.get, {"request_id": request_id}
        )
        return _request(row) if row is not None else None

    def update(self, request: RefundRequest) -> None:
        """Write back the request's mutable columns."""
        self._sql.run(self._q.update, {"request_id": request.id, **_mutable_values(request)})

    def for_order(self, order_id: str) -> list[RefundRequest]:
        """The order's requests, oldest first."""
        return [_request(r) for r in self._sql.rows(self._q.for_order, {"order_id": order_id})]

    def find(
        self, where: RefundFilter, *, before_id: str | None, limit: int
    ) -> list[RefundRequest]:
        """Requests newest first, keyed by id for cursor pagination."""
        query = select(refund_requests).order_by(RC.id.desc()).limit(limit)
        if where.order_id is not None:
            query = query.where(RC.order_id == where.order_id)
        if where.buyer_id is not None:
            query = query.where(RC.buyer_id == where.buyer_id)
        if where.seller_id is not None:
            query = query.where(RC.seller_id == where.seller_id)
        if where.states:
            query = query.where(RC.state.in_(sorted(s.value for s in where.states)))
        if before_id is not None:
            query = query.where(RC.id < before_id)
        return [_request(r) for r in self._sql.rows(query)]

    def buyer_history(self, buyer_id: str, now: datetime) -> BuyerHistory:
        """Completed orders, refund requests and days since the buyer's first order."""
        params = {"buyer_id": buyer_id}
        completed = self._sql.first(self._q.completed, params)
        first: datetime | None = self._sql.scalar(self._q.first_order, params)
        refunds = int(self._sql.scalar(self._q.refunds, params) or 0)
        if first is not None and first.tzinfo is None:
            # Aggregates bypass the column type on SQLite: the value comes back naive (UTC) or as text.
            first = first.replace(tzinfo=now.tzinfo)
        age_days = max(0, (now - first).days) if first is not None else 0
        return BuyerHistory(
            completed_orders=int(completed[0] or 0) if completed is not None else 0,
            refunds=refunds,
            account_age_days=age_days,
        )


def _mutable_values(request: RefundRequest) -> dict[str, Any]:
    return {
        "kind": request.kind.value,
        "reason": request.reason.value,
        "state": request.state.value,
        "requested_minor": request.requested_minor,
        "description": request.description,
        "return_shipping_payer": request.return_shipping_payer.value,
        "freight_insured": request.freight_insured,
        "refunded_minor": request.refunded_minor,
        "outbound_shipping_deduction_minor": request.outbound_shipping_deduction_minor,
        "return_shipping_minor": request.return_shipping_minor,
        "return_shipping_reimbursed_minor": request.return_shipping_reimbursed_minor,
        "carrier_claim_minor": request.carrier_claim_minor,
        "instant_refunded_minor": request.instant_refunded_minor,
        "instant_recovered": request.instant_recovered,
        "serial_mismatch": request.serial_mismatch,
        "paused_auto_confirm": request.paused_auto_confirm,
        "amendments": request.amendments,
        "refused_reason": request.refused_reason,
        "refund_source": request.refund_source,
        "close_reason": request.close_reason,
        "dispute_id": request.dispute_id,
        "updated_at": request.updated_at,
        "agreed_at": request.agreed_at,
        "return_shipped_at": request.return_shipped_at,
        "ended_at": request.ended_at,
        "answer_due_at": request.answer_due_at,
    }


def _request(row: Any) -> RefundRequest:
    return RefundRequest(
        id=row.id,
        order_id=row.order_id,
        buyer_id=row.buyer_id,
        seller_id=row.seller_id,
        currency=row.currency,
        kind=RefundKind(row.kind),
        reason=RefundReason(row.reason),
        state=RefundState(row.state),
        requested_minor=row.requested_minor,
        description=row.description,
        return_shipping_payer=ReturnShippingPayer(row.return_shipping_payer),
        freight_insured=bool(row.freight_insured),
        created_at=row.created_at,
        updated_at=row.updated_at,
        refunded_minor=row.refunded_minor,
        outbound_shipping_deduction_minor=row.outbound_shipping_deduction_minor,
        return_shipping_minor=row.return_shipping_minor,
        return_shipping_reimbursed_minor=row.return_shipping_reimbursed_minor,
        carrier_claim_minor=row.carrier_claim_minor,
        instant_refunded_minor=row.instant_refunded_minor,
        instant_recovered=bool(row.instant_recovered),
        serial_mismatch=bool(row.serial_mismatch),
        paused_auto_confirm=bool(row.paused_auto_confirm),
        amendments=row.amendments,
        refused_reason=row.refused_reason,
        refund_source=row.refund_source,
        close_reason=row.close_reason,
        dispute_id=row.dispute_id,
        agreed_at=row.agreed_at,
        return_shipped_at=row.return_shipped_at,
        ended_at=row.ended_at,
        answer_due_at=row.answer_due_at,
    )
