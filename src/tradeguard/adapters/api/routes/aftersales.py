"""Refund requests, returns and exchanges (DESIGN.md §5)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, status

from tradeguard.access.model import Scope
from tradeguard.adapters.api.auth import ALL_STAFF, Access, Principal
from tradeguard.adapters.api.deps import COMMON, AppDep, Buyer, RequestKey, page_of
from tradeguard.adapters.api.routing import api_router
from tradeguard.adapters.api.schemas_aftersales import (
    RefundAgree,
    RefundAmend,
    RefundCreate,
    RefundPage,
    RefundPublic,
    RefundRefusal,
    ReplacementShipmentCreate,
    ReturnShipmentCreate,
)
from tradeguard.aftersales.model import RefundFilter, RefundState

router = api_router(prefix="/v1", responses=COMMON, tags=["refunds"])

OrderId = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_]+$")]
RefundId = Annotated[
    str,
    Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_]+$", description="rf_..."),
]
#: The buyer, or the operator (with `orders`) on the buyer's behalf.
BuyerOrOperator = Annotated[Principal, Depends(Access(operator=Scope.ORDERS, buyer=True))]
Seller = Annotated[Principal, Depends(Access(seller=True))]
RefundReader = Annotated[
    Principal, Depends(Access(operator=Scope.ORDERS, buyer=True, seller=True, staff=ALL_STAFF))
]


@router.post(
    "/orders/{order_id}/refunds",
    status_code=status.HTTP_201_CREATED,
    summary="Ask for a refund, return or exchange",
)
def create_refund(
    order_id: OrderId,
    body: RefundCreate,
    app: AppDep,
    principal: BuyerOrOperator,
    key: RequestKey,
) -> RefundPublic:
    """Open a refund request (buyer, or operator with `orders`).

    The order's auto-confirm pauses and the seller's payouts are held until it
    ends; the seller's answer deadline starts (24 h unshipped, 36 h refund only,
    5 days return, by default). A no-reason return more than 7 days after receipt
    is refused with `no_reason_window_passed`. With an Idempotency-Key, a retry
    never opens a second request.
    """
    request = app.aftersales.request(
        order_id,
        principal.party,
        kind=body.kind,
        reason=body.reason,
        amount_minor=body.amount_minor,
        description=body.description,
        freight_insured=body.freight_insured,
        request_key=key,
    )
    return RefundPublic.of(request)


@router.get("/refunds", summary="List refund requests")
def list_refunds(
    app: AppDep,
    principal: RefundReader,
    order_id: Annotated[str | None, Query(max_length=40)] = None,
    state: Annotated[list[RefundState] | None, Query()] = None,
    cursor: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> RefundPage:
    """Refund requests newest first; a buyer or seller sees only their own."""
    where = RefundFilter(order_id=order_id, states=frozenset(state or ()))
    page, next_cursor = page_of(
        app.aftersales.find(principal.party, where, before_id=cursor, limit=limit + 1), limit
    )
    return RefundPage(data=[RefundPublic.of(r) for r in page], next_cursor=next_cursor)


@router.get("/refunds/{refund_id}", summary="Get a refund request")
def get_refund(refund_id: RefundId, app: AppDep, principal: RefundReader) -> RefundPublic:
    """A refund request with its money and running deadline."""
    return RefundPublic.of(app.aftersales.get(refund_id, principal.party))


@router.post("/refunds/{refund_id}/agree", summary="Agree to a refund request")
def agree(refund_id: RefundId, body: RefundAgree, app: AppDep, principal: Seller) -> RefundPublic:
    """The seller agrees (seller): money-only requests are refunded now, returns are awaited."""
    request = app.aftersales.agree(
        refund_id, principal.party, outbound_shipping_minor=body.outbound_shipping_minor
    )
    return RefundPublic.of(request)


@router.post("/refunds/{refund_id}/refuse", summary="Refuse a refund request")
def refuse(
    refund_id: RefundId, body: RefundRefusal, app: AppDep, principal: Seller
) -> RefundPublic:
    """The seller refuses with a reason (seller); the buyer may amend or escalate within 5 days."""
    return RefundPublic.of(app.aftersales.refuse(refund_id, principal.party, body.reason))


@router.post("/refunds/{refund_id}/amend", summary="Amend a refused request")
def amend(refund_id: RefundId, body: RefundAmend, app: AppDep, principal: Buyer) -> RefundPublic:
    """The buyer changes a refused request (buyer); the seller's answer deadline starts again."""
    request = app.aftersales.amend(
        refund_id,
        principal.party,
        kind=body.kind,
        reason=body.reason,
        amount_minor=body.amount_minor,
        description=body.description,
    )
    return RefundPublic.of(request)


@router.post("/refunds/{refund_id}/escalate", summary="Escalate to the platform")
def escalate(refund_id: RefundId, app: AppDep, principal: Buyer) -> RefundPublic:
    """After a refusal the buyer asks the platform to decide (buyer): the request becomes a dispute."""
    return RefundPublic.of(app.aftersales.escalate(refund_id, principal.party))


@router.post("/refunds/{refund_id}/withdraw", summary="Withdraw a refund request")
def withdraw(refund_id: RefundId, app: AppDep, principal: BuyerOrOperator) -> RefundPublic:
    """The buyer withdraws (buyer, or operator with `orders`); auto-confirm resumes."""
    return RefundPublic.of(app.aftersales.withdraw(refund_id, principal.party))


@router.post("/refunds/{refund_id}/return-shipment", summary="Ship the return")
def ship_return(
    refund_id: RefundId, body: ReturnShipmentCreate, app: AppDep, principal: Buyer
) -> RefundPublic:
    """The buyer sent the item back (buyer); serial numbers are compared with those shipped.

    A trusted buyer is refunded at once from the compensation fund (instant refund).
    """
    request = app.aftersales.ship_return(
        refund_id,
        principal.party,
        carrier=body.carrier,
        tracking_number=body.tracking_number,
        serial_numbers=body.serial_numbers,
        shipping_minor=body.shipping_minor,
    )
    return RefundPublic.of(request)


@router.post("/refunds/{refund_id}/confirm-return", summary="Accept the returned parcel")
def confirm_return(refund_id: RefundId, app: AppDep, principal: Seller) -> RefundPublic:
    """The seller accepts the returned parcel (seller only, never the operator): the buyer is refunded."""
    return RefundPublic.of(app.aftersales.confirm_return(refund_id, principal.party))


@router.post("/refunds/{refund_id}/reject-return", summary="Reject the returned parcel")
def reject_return(
    refund_id: RefundId, body: RefundRefusal, app: AppDep, principal: Seller
) -> RefundPublic:
    """The seller rejects the returned parcel, e.g. a swapped item (seller); the buyer may escalate."""
    return RefundPublic.of(app.aftersales.reject_return(refund_id, principal.party, body.reason))


@router.post("/refunds/{refund_id}/replacement-shipment", summary="Ship the replacement")
def ship_replacement(
    refund_id: RefundId, body: ReplacementShipmentCreate, app: AppDep, principal: Seller
) -> RefundPublic:
    """Exchange: the seller ships the replacement (seller); the order stays open until it arrives."""
    request = app.aftersales.ship_replacement(
        refund_id,
        principal.party,
        carrier=body.carrier,
        tracking_number=body.tracking_number,
        serial_numbers=body.serial_numbers,
    )
    return RefundPublic.of(request)


@router.post("/refunds/{refund_id}/confirm-replacement", summary="Confirm the replacement")
def confirm_replacement(refund_id: RefundId, app: AppDep, principal: Buyer) -> RefundPublic:
    """The buyer received the replacement (buyer): the exchange ends and auto-confirm resumes."""
    return RefundPublic.of(app.aftersales.confirm_replacement(refund_id, principal.party))
