"""The order store in SQLAlchemy Core; rows are converted to domain objects explicitly."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from tradeguard.adapters.storage.sql import DIALECTS, Prepared, Sql, in_list
from tradeguard.adapters.storage.tables.orders import (
    delivery_records,
    listings,
    order_lines,
    orders,
    payout_holds,
    payouts,
    shipments,
    tracking_events,
)
from tradeguard.ledger.model import Invariant, Violation
from tradeguard.orders.model import (
    DeliveryRecord,
    GoodsKind,
    Listing,
    Order,
    OrderLine,
    OrderState,
    PaymentGroup,
    Payout,
    PayoutHold,
    PayoutState,
    Shipment,
    TrackingEvent,
    TrackingStatus,
)
from tradeguard.orders.ports import OrderFilter

OC, LC = orders.c, listings.c

#: Columns an order use case may change; ``update`` writes exactly these.
_MUTABLE = (
    "state",
    "paid_minor",
    "released_minor",
    "refunded_minor",
    "fee_minor",
    "late_compensation_minor",
    "is_late",
    "late_compensation_paid",
    "receipt_extensions",
    "auto_confirm_holds",
    "payment_reference",
    "late_compensation_source",
    "ship_by_at",
    "auto_confirm_at",
    "last_tracking_status",
    "completed_by",
    "close_reason",
    "updated_at",
    "paid_at",
    "shipped_at",
    "delivered_at",
    "completed_at",
    "closed_at",
)
_IMMUTABLE = (
    "id",
    "payment_group_id",
    "buyer_id",
    "seller_id",
    "currency",
    "goods_kind",
    "subtotal_minor",
    "shipping_fee_minor",
    "fee_bps",
    "created_at",
)


def _insert(table: Any, columns: Sequence[str]) -> Prepared:
    return Prepared(table.insert().values({c: bindparam(c) for c in columns}).inline())


class _Statements:
    """The order hot path's statements for one dialect."""

    def __init__(self, dialect: str) -> None:
        by_id = select(orders).where(OC.id == bindparam("order_id"))
        in_group = (
            select(orders).where(OC.payment_group_id == bindparam("group_id")).order_by(OC.id)
        )
        listing_query = (
            select(listings).where(in_list(LC.id, "listing_ids", dialect)).order_by(LC.id)
        )
        self.update = Prepared(
            update(orders)
            .where(OC.id == bindparam("order_id"))
            .values({c: bindparam(c) for c in _MUTABLE})
        )
        self.get = Prepared(by_id)
        paid_by = orders.alias("paid_by")
        self.group_for_payment = Prepared(
            in_group.add_columns(
                select(paid_by.c.payment_group_id)
                .where(paid_by.c.payment_reference == bindparam("reference"))
                .limit(1)
                .scalar_subquery()
                .label("reference_paid_group")
            ).with_for_update(of=orders)
        )
        self.get_locked = Prepared(by_id.with_for_update())
        self.in_group = Prepared(in_group)
        self.in_group_locked = Prepared(in_group.with_for_update())
        self.listings = Prepared(listing_query)
        self.listings_locked = Prepared(listing_query.with_for_update())
        self.insert_order = _insert(orders, (*_IMMUTABLE, *_MUTABLE))
        self.insert_line = _insert(
            order_lines,
            ("order_id", "line_no", "listing_id", "title", "quantity", "unit_price_minor"),
        )
        self.lines = Prepared(
            select(order_lines)
            .where(order_lines.c.order_id == bindparam("order_id"))
            .order_by(order_lines.c.line_no)
        )
        self.bought = Prepared(
            select(func.coalesce(func.sum(order_lines.c.quantity), 0))
            .select_from(order_lines.join(orders, OC.id == order_lines.c.order_id))
            .where(
                OC.buyer_id == bindparam("buyer_id"),
                order_lines.c.listing_id == bindparam("listing_id"),
                OC.state != OrderState.CLOSED.value,
            )
        )
        self.insert_shipment = _insert(
            shipments,
            (
                "id",
                "order_id",
                "direction",
                "carrier",
                "tracking_number",
                "serial_numbers",
                "shipped_at",
            ),
        )
        self.shipments = Prepared(
            select(shipments)
            .where(shipments.c.order_id == bindparam("order_id"))
            .order_by(shipments.c.shipped_at, shipments.c.id)
        )
        self.insert_tracking = _insert(
            tracking_events,
            (
                "id",
                "order_id",
                "shipment_id",
                "status",
                "occurred_at",
                "location",
                "detail",
                "recorded_at",
            ),
        )
        self.tracking = Prepared(
            select(tracking_events)
            .where(tracking_events.c.order_id == bindparam("order_id"))
            .order_by(tracking_events.c.occurred_at, tracking_events.c.id)
        )
        self.insert_delivery = _insert(
            delivery_records, ("id", "order_id", "method", "detail", "delivered_at", "recorded_by")
        )
        self.deliveries = Prepared(
            select(delivery_records)
            .where(delivery_records.c.order_id == bindparam("order_id"))
            .order_by(delivery_records.c.delivered_at, delivery_records.c.id)
        )


_STATEMENTS = {name: _Statements(name) for name in DIALECTS}


class SqlOrderStore:
    """Implements :class:`tradeguard.orders.ports.OrderStore`."""

    def __init__(self, sql: Sql) -> None:
        self._sql = sql
        self._q = _STATEMENTS[sql.dialect]

    # -- listings -------------------------------------------------------------------------------

    def get_listings(
        self, listing_ids: Collection[str], *, lock: bool = False
    ) -> dict[str, Listing]:
        """Listings by id; locked in ascending id order when asked."""
        if not listing_ids:
            return {}
        query = self._q.listings_locked if lock else self._q.listings
        return {
            row.id: _listing(row)
            for row in self._sql.rows(query, {"listing_ids": sorted(listing_ids)})
        }

    def save_listing(self, listing: Listing) -> None:
        """Insert or update a listing (the caller holds its lock, if it exists)."""
        insert = pg_insert if self._sql.is_postgresql else sqlite_insert
        values = {
            "seller_id": listing.seller_id,
            "title": listing.title,
            "goods_kind": listing.goods_kind.value,
            "purchase_limit_per_buyer": listing.purchase_limit_per_buyer,
            "updated_at": listing.updated_at,
        }
        self._sql.run(
            insert(listings)
            .values(id=listing.id, created_at=listing.created_at, **values)
            .on_conflict_do_update(index_elements=["id"], set_=values)
        )

    def bought_quantity(self, buyer_id: str, listing_id: str) -> int:
        """Units of the listing in the buyer's orders that are not closed."""
        return int(
            self._sql.scalar(self._q.bought, {"buyer_id": buyer_id, "listing_id": listing_id}) or 0
        )

    # -- payment groups and orders --------------------------------------------------------------

    def get_payment_group(self, group_id: str) -> PaymentGroup | None:
        """A payment group, read from its orders (which all share buyer and currency)."""
        row = self._sql.first(
            select(
                func.min(OC.buyer_id).label("buyer_id"),
                func.min(OC.currency).label("currency"),
                func.min(OC.created_at).label("created_at"),
                func.min(OC.paid_at).label("paid_at"),
                func.max(OC.payment_reference).label("payment_reference"),
                func.count().label("orders"),
            ).where(OC.payment_group_id == group_id)
        )
        if row is None or not row.orders:
            return None
        return PaymentGroup(
            group_id, row.buyer_id, row.currency, row.created_at, row.paid_at, row.payment_reference
        )

    def insert_orders(self, new_orders: Sequence[Order]) -> None:
        """Store new orders and their lines."""
        self._sql.run_many(
            self._q.insert_order,
            [
                {
                    "id": o.id,
                    "payment_group_id": o.payment_group_id,
                    "buyer_id": o.buyer_id,
                    "seller_id": o.seller_id,
                    "currency": o.currency,
                    "goods_kind": o.goods_kind.value,
                    "subtotal_minor": o.subtotal_minor,
                    "shipping_fee_minor": o.shipping_fee_minor,
                    "fee_bps": o.fee_bps,
                    "created_at": o.created_at,
                    **_mutable_values(o),
                }
                for o in new_orders
            ],
        )
        self._sql.run_many(
            self._q.insert_line,
            [
                {
                    "order_id": o.id,
                    "line_no": line.line_no,
                    "listing_id": line.listing_id,
                    "title": line.title,
                    "quantity": line.quantity,
                    "unit_price_minor": line.unit_price_minor,
                }
                for o in new_orders
                for line in o.lines
            ],
        )

    def get(self, order_id: str, *, lock: bool = False, with_lines: bool = False) -> Order | None:
        """One order, optionally row-locked, optionally with its lines."""
        row = self._sql.first(self._q.get_locked if lock else self._q.get, {"order_id": order_id})
        if row is None:
            return None
        order = _order(row)
        if with_lines:
            order.lines = [
                OrderLine(r.line_no, r.listing_id, r.title, r.quantity, r.unit_price_minor)
                for r in self._sql.rows(self._q.lines, {"order_id": order_id})
            ]
        return order

    def in_group(self, group_id: str, *, lock: bool = False) -> list[Order]:
        """A payment group's orders in ascending id order."""
        query = self._q.in_group_locked if lock else self._q.in_group
        return [_order(row) for row in self._sql.rows(query, {"group_id": group_id})]

    def group_for_payment(
        self, group_id: str, payment_reference: str
    ) -> tuple[list[Order], str | None]:
        """The group's orders (locked) and the group ``payment_reference`` already paid."""
        rows = self._sql.rows(
            self._q.group_for_payment, {"group_id": group_id, "reference": payment_reference}
        )
        paid_group: str | None = rows[0].reference_paid_group if rows else None
        return [_order(row) for row in rows], paid_group

    def update(self, order: Order) -> None:
        """Write back the order's mutable columns."""
        self._sql.run(self._q.update, {"order_id": order.id, **_mutable_values(order)})

    def find(self, where: OrderFilter, *, before_id: str | None, limit: int) -> list[Order]:
        """Orders newest first, keyed by id for cursor pagination."""
        query = select(orders).order_by(OC.id.desc()).limit(limit)
        if where.buyer_id is not None:
            query = query.where(OC.buyer_id == where.buyer_id)
        if where.seller_id is not None:
            query = query.where(OC.seller_id == where.seller_id)
        if where.states:
            query = query.where(OC.state.in_([s.value for s in where.states]))
        if where.payment_group_id is not None:
            query = query.where(OC.payment_group_id == where.payment_group_id)
        if where.created_from is not None:
            query = query.where(OC.created_at >= where.created_from)
        if where.created_to is not None:
            query = query.where(OC.created_at < where.created_to)
        if before_id is not None:
            query = query.where(OC.id < before_id)
        return [_order(row) for row in self._sql.rows(query)]

    # -- facts about an order -------------------------------------------------------------------

    def insert_shipment(self, shipment: Shipment) -> None:
        """Record a parcel."""
        self._sql.run(
            self._q.insert_shipment,
            {
                "id": shipment.id,
                "order_id": shipment.order_id,
                "direction": shipment.direction,
                "carrier": shipment.carrier,
                "tracking_number": shipment.tracking_number,
                "serial_numbers": list(shipment.serial_numbers),
                "shipped_at": shipment.shipped_at,
            },
        )

    def shipments(self, order_id: str) -> list[Shipment]:
        """An order's parcels, oldest first."""
        return [
            Shipment(
                r.id,
                r.order_id,
                r.direction,
                r.carrier,
                r.tracking_number,
                tuple(r.serial_numbers),
                r.shipped_at,
            )
            for r in self._sql.rows(self._q.shipments, {"order_id": order_id})
        ]

    def insert_tracking_event(self, event: TrackingEvent) -> None:
        """Record a carrier scan."""
        self._sql.run(
            self._q.insert_tracking,
            {
                "id": event.id,
                "order_id": event.order_id,
                "shipment_id": event.shipment_id,
                "status": event.status.value,
                "occurred_at": event.occurred_at,
                "location": event.location,
                "detail": event.detail,
                "recorded_at": event.recorded_at,
            },
        )

    def tracking_events(self, order_id: str) -> list[TrackingEvent]:
        """An order's carrier scans in the order they occurred."""
        return [
            TrackingEvent(
                r.id,
                r.order_id,
                r.shipment_id,
                TrackingStatus(r.status),
                r.occurred_at,
                r.location,
                r.detail,
                r.recorded_at,
            )
            for r in self._sql.rows(self._q.tracking, {"order_id": order_id})
        ]

    def insert_delivery_record(self, record: DeliveryRecord) -> None:
        """Record a virtual delivery."""
        self._sql.run(
            self._q.insert_delivery,
            {
                "id": record.id,
                "order_id": record.order_id,
                "method": record.method,
                "detail": record.detail,
                "delivered_at": record.delivered_at,
                "recorded_by": record.recorded_by,
            },
        )

    def delivery_records(self, order_id: str) -> list[DeliveryRecord]:
        """An order's delivery records, oldest first."""
        return [
            DeliveryRecord(r.id, r.order_id, r.method, r.detail, r.delivered_at, r.recorded_by)
            for r in self._sql.rows(self._q.deliveries, {"order_id": order_id})
        ]

    # -- payouts --------------------------------------------------------------------------------

    def insert_payout(self, payout: Payout) -> None:
        """Record a payout."""
        self._sql.run(payouts.insert().values(**_payout_values(payout)))

    def get_payout(self, payout_id: str, *, lock: bool = False) -> Payout | None:
        """One payout."""
        query = select(payouts).where(payouts.c.id == payout_id)
        if lock:
            query = query.with_for_update()
        row = self._sql.first(query)
        return _payout(row) if row else None

    def payout_by_request_key(self, request_key: str) -> Payout | None:
        """The payout created for a request key, if any."""
        row = self._sql.first(select(payouts).where(payouts.c.request_key == request_key))
        return _payout(row) if row else None

    def update_payout(self, payout: Payout) -> None:
        """Write back a payout's state."""
        values = _payout_values(payout)
        del values["id"]
        self._sql.run(update(payouts).where(payouts.c.id == payout.id).values(values))

    def find_payouts(
        self, seller_id: str | None, *, before_id: str | None, limit: int
    ) -> list[Payout]:
        """Payouts newest first."""
        query = select(payouts).order_by(payouts.c.id.desc()).limit(limit)
        if seller_id is not None:
            query = query.where(payouts.c.seller_id == seller_id)
        if before_id is not None:
            query = query.where(payouts.c.id < before_id)
        return [_payout(r) for r in self._sql.rows(query)]

    # -- audit ----------------------------------------------------------------------------------

    def place_payout_hold(self, seller_id: str, subject: str, reason: str, at: datetime) -> None:
        """Hold the seller's payouts for ``subject``."""
        insert = pg_insert if self._sql.is_postgresql else sqlite_insert
        self._sql.run(
            insert(payout_holds)
            .values(subject=subject, seller_id=seller_id, reason=reason[:500], placed_at=at)
            .on_conflict_do_nothing()
        )

    def release_payout_hold(self, subject: str, at: datetime) -> None:
        """Lift the hold for ``subject``."""
        self._sql.run(delete(payout_holds).where(payout_holds.c.subject == subject))

    def payout_holds(self, seller_id: str) -> list[PayoutHold]:
        """The holds on the seller's payouts, oldest first."""
        rows = self._sql.rows(
            select(payout_holds)
            .where(payout_holds.c.seller_id == seller_id)
            .order_by(payout_holds.c.placed_at)
        )
        return [PayoutHold(r.seller_id, r.subject, r.reason, r.placed_at) for r in rows]

    def audit_settlement(self) -> list[Violation]:
        """Every order's escrow against its settlement, and nothing released or refunded twice."""
        violations = []
        for row in self._sql.rows(text(_ESCROW_BALANCE_SQL)):
            violations.append(
                Violation(
                    Invariant.ESCROW_MATCHES_ORDER,
                    f"order {row.id}: escrow holds {row.escrow} but paid {row.paid_minor} - released "
                    f"{row.released_minor} - refunded {row.refunded_minor} = "
                    f"{row.paid_minor - row.released_minor - row.refunded_minor}",
                )
            )
        for row in self._sql.rows(text(_ESCROW_TRANSFERS_SQL)):
            if row.held != row.paid_minor:
                violations.append(
                    Violation(
                        Invariant.ESCROW_MATCHES_ORDER,
                        f"order {row.id}: {row.held} entered escrow but the order records {row.paid_minor} paid",
                    )
                )
            if row.released != row.released_minor or row.refunded != row.refunded_minor:
                violations.append(
                    Violation(
                        Invariant.ESCROW_MATCHES_ORDER,
                        f"order {row.id}: transfers released {row.released} and refunded {row.refunded}; "
                        f"the order records {row.released_minor} and {row.refunded_minor}",
                    )
                )
            if row.released + row.refunded > row.held:
                violations.append(
                    Violation(
                        Invariant.NOTHING_RELEASED_OR_REFUNDED_TWICE,
                        f"order {row.id}: {row.released + row.refunded} left escrow but only {row.held} entered it",
                    )
                )
        for row in self._sql.rows(text(_PAID_OUT_TWICE_SQL)):
            violations.append(
                Violation(
                    Invariant.NOTHING_RELEASED_OR_REFUNDED_TWICE,
                    f"{row.address}: {row.times} {row.reason} transfers for {row.reference}",
                )
            )
        for row in self._sql.rows(text(_STATE_SQL)):
            violations.append(
                Violation(
                    Invariant.ESCROW_MATCHES_ORDER,
                    f"order {row.id} is {row.state} but escrow holds {row.paid_minor - row.released_minor - row.refunded_minor}"
                    f" of {row.paid_minor} paid (expected {row.expectation})",
                )
            )
        return violations


_ESCROW_BALANCE_SQL = """
SELECT o.id, o.paid_minor, o.released_minor, o.refunded_minor, COALESCE(a.balance_minor, 0) AS escrow
FROM orders o
LEFT JOIN ledger_accounts a ON a.address = 'escrow:order:' || o.id AND a.currency = o.currency
WHERE COALESCE(a.balance_minor, 0) <> o.paid_minor - o.released_minor - o.refunded_minor
ORDER BY o.id
"""

# Money into escrow, out to the seller and platform, and out to the buyer, per order.
_ESCROW_TRANSFERS_SQL = """
SELECT o.id, o.paid_minor, o.released_minor, o.refunded_minor,
       SUM(CASE WHEN t.destination_account_id = a.id THEN t.amount_minor ELSE 0 END) AS held,
       SUM(CASE WHEN t.source_account_id = a.id AND t.reason IN ('escrow_release', 'platform_fee')
                THEN t.amount_minor ELSE 0 END) AS released,
       SUM(CASE WHEN t.source_account_id = a.id AND t.reason NOT IN ('escrow_release', 'platform_fee')
                THEN t.amount_minor ELSE 0 END) AS refunded
FROM orders o
JOIN ledger_accounts a ON a.address = 'escrow:order:' || o.id AND a.currency = o.currency
JOIN ledger_transfers t ON t.source_account_id = a.id OR t.destination_account_id = a.id
GROUP BY o.id, o.paid_minor, o.released_minor, o.refunded_minor
HAVING SUM(CASE WHEN t.destination_account_id = a.id THEN t.amount_minor ELSE 0 END) <> o.paid_minor
    OR SUM(CASE WHEN t.source_account_id = a.id AND t.reason IN ('escrow_release', 'platform_fee')
                THEN t.amount_minor ELSE 0 END) <> o.released_minor
    OR SUM(CASE WHEN t.source_account_id = a.id AND t.reason NOT IN ('escrow_release', 'platform_fee')
                THEN t.amount_minor ELSE 0 END) <> o.refunded_minor
ORDER BY o.id
"""

# A release, a fee or a refund with the same reference leaving the same escrow twice.
_PAID_OUT_TWICE_SQL = """
SELECT a.address, t.reason, t.reference, COUNT(*) AS times
FROM ledger_transfers t
JOIN ledger_accounts a ON a.id = t.source_account_id
WHERE a.kind = 'escrow' AND t.reason IN ('escrow_release', 'platform_fee', 'refund', 'late_shipment_compensation')
GROUP BY a.address, t.reason, t.reference
HAVING COUNT(*) > 1
ORDER BY a.address
"""

# Escrow must be empty before payment and after an order ends, and full while it is held.
_STATE_SQL = """
SELECT id, state, paid_minor, released_minor, refunded_minor,
       CASE WHEN state = 'awaiting_payment' THEN 'nothing paid'
            WHEN state IN ('completed', 'closed') THEN 'escrow empty'
            ELSE 'something held' END AS expectation
FROM orders
WHERE (state = 'awaiting_payment' AND paid_minor <> 0)
   OR (state IN ('completed', 'closed') AND paid_minor - released_minor - refunded_minor <> 0)
   OR (state IN ('paid', 'shipped', 'delivered') AND paid_minor <> subtotal_minor + shipping_fee_minor)
ORDER BY id
"""


def _mutable_values(order: Order) -> dict[str, Any]:
    return {
        "state": order.state.value,
        "paid_minor": order.paid_minor,
        "released_minor": order.released_minor,
        "refunded_minor": order.refunded_minor,
        "fee_minor": order.fee_minor,
        "late_compensation_minor": order.late_compensation_minor,
        "is_late": order.is_late,
        "late_compensation_paid": order.late_compensation_paid,
        "receipt_extensions": order.receipt_extensions,
        "auto_confirm_holds": order.auto_confirm_holds,
        "payment_reference": order.payment_reference,
        "late_compensation_source": order.late_compensation_source,
        "ship_by_at": order.ship_by_at,
        "auto_confirm_at": order.auto_confirm_at,
        "last_tracking_status": order.last_tracking_status.value
        if order.last_tracking_status
        else None,
        "completed_by": order.completed_by,
        "close_reason": order.close_reason,
        "updated_at": order.updated_at,
        "paid_at": order.paid_at,
        "shipped_at": order.shipped_at,
        "delivered_at": order.delivered_at,
        "completed_at": order.completed_at,
        "closed_at": order.closed_at,
    }


def _order(row: Any) -> Order:
    return Order(
        id=row.id,
        payment_group_id=row.payment_group_id,
        buyer_id=row.buyer_id,
        seller_id=row.seller_id,
        currency=row.currency,
        goods_kind=GoodsKind(row.goods_kind),
        state=OrderState(row.state),
        subtotal_minor=row.subtotal_minor,
        shipping_fee_minor=row.shipping_fee_minor,
        fee_bps=row.fee_bps,
        created_at=row.created_at,
        updated_at=row.updated_at,
        paid_minor=row.paid_minor,
        released_minor=row.released_minor,
        refunded_minor=row.refunded_minor,
        fee_minor=row.fee_minor,
        late_compensation_minor=row.late_compensation_minor,
        is_late=bool(row.is_late),
        late_compensation_paid=bool(row.late_compensation_paid),
        receipt_extensions=row.receipt_extensions,
        auto_confirm_holds=row.auto_confirm_holds,
        paid_at=row.paid_at,
        shipped_at=row.shipped_at,
        delivered_at=row.delivered_at,
        completed_at=row.completed_at,
        closed_at=row.closed_at,
        close_reason=row.close_reason,
        completed_by=row.completed_by,
        payment_reference=row.payment_reference,
        late_compensation_source=row.late_compensation_source,
        ship_by_at=row.ship_by_at,
        auto_confirm_at=row.auto_confirm_at,
        last_tracking_status=TrackingStatus(row.last_tracking_status)
        if row.last_tracking_status
        else None,
    )


def _listing(row: Any) -> Listing:
    return Listing(
        row.id,
        row.seller_id,
        row.title,
        GoodsKind(row.goods_kind),
        row.purchase_limit_per_buyer,
        row.created_at,
        row.updated_at,
    )


def _payout_values(payout: Payout) -> dict[str, Any]:
    return {
        "id": payout.id,
        "seller_id": payout.seller_id,
        "currency": payout.currency,
        "amount_minor": payout.amount_minor,
        "state": payout.state.value,
        "created_at": payout.created_at,
        "failed_at": payout.failed_at,
        "failure_reason": payout.failure_reason,
        "request_key": payout.request_key,
    }


def _payout(row: Any) -> Payout:
    return Payout(
        row.id,
        row.seller_id,
        row.currency,
        row.amount_minor,
        PayoutState(row.state),
        row.created_at,
        row.failed_at,
        row.failure_reason,
        row.request_key,
    )
