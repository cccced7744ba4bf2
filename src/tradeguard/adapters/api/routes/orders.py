"""Listings, checkouts, payments and everything that happens to an order (DESIGN.md §4)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Path, Query, status

from tradeguard.adapters.api.deps import (
    COMMON,
    MAX_SEQUENCE,
    AppDep,
    Buyer,
    Canceller,
    Fulfiller,
    OperatorOrders,
    OperatorPayments,
    OrderReader,
    RequestKey,
    page_of,
)
from tradeguard.adapters.api.routing import api_router
from tradeguard.adapters.api.schemas import (
    CancelCreate,
    CheckoutCreate,
    CheckoutPublic,
    DeliveryCreate,
    ListingCreate,
    ListingPublic,
    OrderPage,
    OrderPublic,
    OrderSummary,
    PaymentCreate,
    PaymentGroupPublic,
    ShipmentCreate,
    Timeline,
    TimelineEntry,
    TrackingEventCreate,
)
from tradeguard.bootstrap import App
from tradeguard.kernel.errors import ValidationFailed
from tradeguard.kernel.parties import Party
from tradeguard.orders.model import OrderState
from tradeguard.orders.ports import OrderFilter
from tradeguard.orders.rules import CartLine

router = api_router(prefix="/v1", responses=COMMON)

OrderId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=40,
        pattern=r"^[A-Za-z0-9_]+$",
        description="An order id (ord_...).",
    ),
]
ObjectId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]


def _public(app: App, order_id: str, party: Party) -> OrderPublic:
    return OrderPublic.of_details(app.orders.get(order_id, party))


@router.put("/listings/{listing_id}", tags=["orders"], summary="Register or update a listing")
def put_listing(
    listing_id: ObjectId, body: ListingCreate, app: AppDep, _: OperatorOrders
) -> ListingPublic:
    """Register a product page with its seller, goods kind and per-buyer purchase limit (operator, `orders`)."""
    listing = app.orders.register_listing(
        listing_id, body.seller_id, body.title, body.goods_kind, body.purchase_limit_per_buyer
    )
    return ListingPublic.of(listing)


@router.get("/listings/{listing_id}", tags=["orders"], summary="Get a listing")
def get_listing(listing_id: ObjectId, app: AppDep, _: OperatorOrders) -> ListingPublic:
    """A registered listing (operator, `orders`)."""
    return ListingPublic.of(app.orders.get_listing(listing_id))


@router.post(
    "/checkouts", tags=["orders"], status_code=status.HTTP_201_CREATED, summary="Create a checkout"
)
def create_checkout(
    body: CheckoutCreate, app: AppDep, _: OperatorOrders, key: RequestKey
) -> CheckoutPublic:
    """Create one order per seller under one payment group, awaiting payment (operator, `orders`).

    A listing's per-buyer purchase limit is enforced here: a purchase over it is
    refused with `purchase_limit_exceeded` instead of being left for a complaint.
    With an Idempotency-Key, a retry never creates the checkout twice.
    """
    checkout = app.orders.create_checkout(
        body.buyer_id,
        body.currency,
        [CartLine(line.listing_id, line.quantity, line.unit_price_minor) for line in body.lines],
        body.shipping_fees_minor,
        request_key=key,
    )
    return CheckoutPublic.of(checkout)


@router.post(
    "/payment-groups/{payment_group_id}/payment",
    tags=["payments"],
    summary="Report a captured payment",
)
def confirm_payment(
    payment_group_id: ObjectId, body: PaymentCreate, app: AppDep, principal: OperatorPayments
) -> PaymentGroupPublic:
    """The payment provider captured the buyer's money: each order escrows its share (operator, `payments`).

    The amount must equal what the orders awaiting payment cost. Reporting the
    same payment reference again changes nothing.
    """
    orders = app.orders.confirm_payment(
        payment_group_id, body.amount_minor, body.currency, body.payment_reference, principal.party
    )
    return PaymentGroupPublic(
        payment_group_id=payment_group_id, orders=[OrderSummary.of(o) for o in orders]
    )


@router.get("/orders", tags=["orders"], summary="List orders")
def list_orders(
    app: AppDep,
    principal: OrderReader,
    state: Annotated[
        list[OrderState] | None, Query(description="Only orders in these states.")
    ] = None,
    buyer_id: Annotated[str | None, Query(max_length=64)] = None,
    seller_id: Annotated[str | None, Query(max_length=64)] = None,
    payment_group_id: Annotated[str | None, Query(max_length=40)] = None,
    created_from: Annotated[
        datetime | None, Query(description="Created at or after (ISO 8601).")
    ] = None,
    created_to: Annotated[datetime | None, Query(description="Created before (ISO 8601).")] = None,
    cursor: Annotated[
        str | None, Query(max_length=40, description="next_cursor of the previous page.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> OrderPage:
    """Orders newest first, with cursor pagination; a buyer or seller sees only their own."""
    where = OrderFilter(
        buyer_id=buyer_id,
        seller_id=seller_id,
        states=state,
        payment_group_id=payment_group_id,
        created_from=_aware_or_none(created_from),
        created_to=_aware_or_none(created_to),
    )
    page, next_cursor = page_of(
        app.orders.find(principal.party, where, before_id=cursor, limit=limit + 1), limit
    )
    return OrderPage(data=[OrderSummary.of(o) for o in page], next_cursor=next_cursor)


@router.get("/orders/{order_id}", tags=["orders"], summary="Get an order")
def get_order(order_id: OrderId, app: AppDep, principal: OrderReader) -> OrderPublic:
    """An order with its lines, parcels, carrier scans, delivery records and running deadlines."""
    return _public(app, order_id, principal.party)


@router.get("/orders/{order_id}/timeline", tags=["orders"], summary="An order's timeline")
def order_timeline(
    order_id: OrderId,
    app: AppDep,
    principal: OrderReader,
    after: Annotated[
        int, Query(ge=0, le=MAX_SEQUENCE, description="Only events after this sequence number.")
    ] = 0,
) -> Timeline:
    """Everything that happened to the order, in order: the same events the webhooks deliver."""
    events = app.orders.timeline(order_id, principal.party, after=after)
    return Timeline(order_id=order_id, events=[TimelineEntry.of(e) for e in events])


@router.post("/orders/{order_id}/ship", tags=["orders"], summary="Ship physical goods")
def ship(
    order_id: OrderId, body: ShipmentCreate, app: AppDep, principal: Fulfiller
) -> OrderSummary:
    """The seller handed the goods to a carrier; auto-confirm starts counting (seller, or operator with `orders`)."""
    order = app.orders.ship(
        order_id,
        principal.party,
        carrier=body.carrier,
        tracking_number=body.tracking_number,
        serial_numbers=body.serial_numbers,
    )
    return OrderSummary.of(order)


@router.post("/orders/{order_id}/deliveries", tags=["orders"], summary="Record a virtual delivery")
def deliver(
    order_id: OrderId, body: DeliveryCreate, app: AppDep, principal: Fulfiller
) -> OrderSummary:
    """Virtual goods were delivered; the delivery record is kept as evidence (seller, or operator with `orders`)."""
    return OrderSummary.of(
        app.orders.deliver(order_id, principal.party, method=body.method, detail=body.detail)
    )


@router.post("/orders/{order_id}/tracking-events", tags=["orders"], summary="Record a carrier scan")
def tracking_event(
    order_id: OrderId, body: TrackingEventCreate, app: AppDep, principal: OperatorOrders
) -> OrderSummary:
    """A scan from the carrier integration (operator, `orders`); with the eBay-style policy a delivery scan starts auto-confirm."""
    order = app.orders.record_tracking(
        order_id,
        principal.party,
        status=body.status,
        occurred_at=body.occurred_at,
        location=body.location,
        detail=body.detail,
    )
    return OrderSummary.of(order)


@router.post("/orders/{order_id}/confirm-receipt", tags=["orders"], summary="Confirm receipt")
def confirm_receipt(order_id: OrderId, app: AppDep, principal: Buyer) -> OrderSummary:
    """The buyer received the goods: the order completes and escrow is released to the seller (buyer)."""
    return OrderSummary.of(app.orders.confirm_receipt(order_id, principal.party))


@router.post(
    "/orders/{order_id}/extend-receipt", tags=["orders"], summary="Extend the receipt period"
)
def extend_receipt(order_id: OrderId, app: AppDep, principal: Buyer) -> OrderSummary:
    """Buy time before auto-confirm: once, and only when little time remains (buyer)."""
    return OrderSummary.of(app.orders.extend_receipt(order_id, principal.party))


@router.post("/orders/{order_id}/cancel", tags=["orders"], summary="Cancel an order")
def cancel(
    order_id: OrderId, body: CancelCreate, app: AppDep, principal: Canceller
) -> OrderSummary:
    """Close an order before shipment; paid money goes back to the buyer.

    Anyone may cancel before payment; after payment the seller or the operator
    may, and the buyer only when the seller missed the ship-by time.
    """
    return OrderSummary.of(app.orders.cancel(order_id, principal.party, body.reason))


@router.post(
    "/orders/{order_id}/late-compensation",
    tags=["orders"],
    summary="Claim late-shipment compensation",
)
def claim_late_compensation(order_id: OrderId, app: AppDep, principal: Buyer) -> OrderSummary:
    """The buyer of a late shipment takes the compensation the seller owes, once (buyer)."""
    return OrderSummary.of(app.orders.claim_late_compensation(order_id, principal.party))


def _aware_or_none(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    raise ValidationFailed("Give instants with a time zone offset, e.g. 2026-01-05T09:00:00Z.")
