"""What the orders context needs from storage."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from tradeguard.deadlines.ports import DeadlineStore
from tradeguard.events.ports import Outbox
from tradeguard.kernel.uow import SavepointCapable
from tradeguard.ledger.model import Violation
from tradeguard.ledger.ports import LedgerStore
from tradeguard.orders.model import (
    DeliveryRecord,
    Listing,
    Order,
    OrderState,
    PaymentGroup,
    Payout,
    PayoutHold,
    Shipment,
    TrackingEvent,
)


@dataclass(frozen=True, slots=True)
class OrderFilter:
    """Which orders a listing returns; participants are narrowed to their own by the service."""

    buyer_id: str | None = None
    seller_id: str | None = None
    states: Collection[OrderState] | None = None
    payment_group_id: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


class OrderStore(Protocol):
    """Listings, payment groups, orders and the facts recorded about them."""

    def get_listings(
        self, listing_ids: Collection[str], *, lock: bool = False
    ) -> dict[str, Listing]:
        """Listings by id; with ``lock``, row-locked in ascending id order."""
        ...

    def save_listing(self, listing: Listing) -> None:
        """Insert or update a listing."""
        ...

    def bought_quantity(self, buyer_id: str, listing_id: str) -> int:
        """Units of a listing in the buyer's orders that are not closed."""
        ...

    def get_payment_group(self, group_id: str) -> PaymentGroup | None:
        """A payment group by id, as its orders describe it."""
        ...

    def insert_orders(self, orders: Sequence[Order]) -> None:
        """Store new orders with their lines."""
        ...

    def get(self, order_id: str, *, lock: bool = False, with_lines: bool = False) -> Order | None:
        """One order; with ``lock``, row-locked until the unit of work ends."""
        ...

    def in_group(self, group_id: str, *, lock: bool = False) -> list[Order]:
        """The orders of a payment group, in ascending id order (the lock order)."""
        ...

    def group_for_payment(
        self, group_id: str, payment_reference: str
    ) -> tuple[list[Order], str | None]:
        """A payment group's orders (locked, ascending id) and the group a reference paid.

        The second part is the group ``payment_reference`` already paid, if any; both
        come from one read because a payment is on the hot path.
        """
        ...

    def update(self, order: Order) -> None:
        """Write back an order's mutable fields."""
        ...

    def find(self, where: OrderFilter, *, before_id: str | None, limit: int) -> list[Order]:
        """Orders matching ``where``, newest first, strictly before ``before_id``."""
        ...

    def insert_shipment(self, shipment: Shipment) -> None:
        """Record a parcel."""
        ...

    def shipments(self, order_id: str) -> list[Shipment]:
        """An order's parcels, oldest first."""
        ...

    def insert_tracking_event(self, event: TrackingEvent) -> None:
        """Record a carrier scan."""
        ...

    def tracking_events(self, order_id: str) -> list[TrackingEvent]:
        """An order's carrier scans in the order they occurred."""
        ...

    def insert_delivery_record(self, record: DeliveryRecord) -> None:
        """Record a virtual delivery."""
        ...

    def delivery_records(self, order_id: str) -> list[DeliveryRecord]:
        """An order's delivery records, oldest first."""
        ...

    def insert_payout(self, payout: Payout) -> None:
        """Record a payout."""
        ...

    def get_payout(self, payout_id: str, *, lock: bool = False) -> Payout | None:
        """One payout."""
        ...

    def payout_by_request_key(self, request_key: str) -> Payout | None:
        """The payout created for a request key, if any."""
        ...

    def update_payout(self, payout: Payout) -> None:
        """Write back a payout's state."""
        ...

    def find_payouts(
        self, seller_id: str | None, *, before_id: str | None, limit: int
    ) -> list[Payout]:
        """Payouts, newest first."""
        ...

    def place_payout_hold(self, seller_id: str, subject: str, reason: str, at: datetime) -> None:
        """Hold the seller's payouts for ``subject`` (idempotent per subject)."""
        ...

    def release_payout_hold(self, subject: str, at: datetime) -> None:
        """Lift the hold placed for ``subject``."""
        ...

    def payout_holds(self, seller_id: str) -> list[PayoutHold]:
        """The holds standing on the seller's payouts."""
        ...

    def audit_settlement(self) -> list[Violation]:
        """Check every order's escrow against its settlement (DESIGN.md §3 order invariants)."""
        ...


class OrdersUnitOfWork(SavepointCapable, Protocol):
    """What an order use case touches in one transaction."""

    @property
    def orders(self) -> OrderStore:
        """Listings, orders and their records."""
        ...

    @property
    def ledger(self) -> LedgerStore:
        """Accounts and transfers."""
        ...

    @property
    def deadlines(self) -> DeadlineStore:
        """The timer table."""
        ...

    @property
    def outbox(self) -> Outbox:
        """Domain events."""
        ...
