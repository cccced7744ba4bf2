"""Request and response bodies of the after-sales endpoints (DESIGN.md §5)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from tradeguard.adapters.api.schemas import (
    PositiveAmountMinor,
    _In,  # the shared input base: strict, NUL refused
)
from tradeguard.aftersales.model import RefundKind, RefundReason, RefundRequest, RefundState

Carrier = Annotated[str, StringConstraints(min_length=1, max_length=64)]
TrackingNumber = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Serials = Annotated[
    list[Annotated[str, StringConstraints(min_length=1, max_length=128)]], Field(max_length=1000)
]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
Postage = Annotated[int, Field(ge=0, le=10**9, strict=True)]


class RefundCreate(_In):
    """The buyer asks for a refund, a return, an exchange or a partial refund."""

    kind: RefundKind
    reason: RefundReason
    amount_minor: PositiveAmountMinor = Field(
        description="What the buyer asks back, in minor units (at most what is refundable)."
    )
    description: Annotated[str, StringConstraints(max_length=2000)] = ""
    freight_insured: bool = Field(
        default=False, description="The order carries freight insurance (运费险) for the return."
    )


class RefundAmend(_In):
    """After a refusal, the buyer changes the request."""

    kind: RefundKind | None = None
    reason: RefundReason | None = None
    amount_minor: PositiveAmountMinor | None = None
    description: Annotated[str, StringConstraints(max_length=2000)] | None = None


class RefundAgree(_In):
    """The seller agrees; for a free-shipping no-reason return it may state its outbound postage."""

    outbound_shipping_minor: Postage = 0


class RefundRefusal(_In):
    """The seller refuses the request or rejects the returned parcel, saying why."""

    reason: Reason


class ReturnShipmentCreate(_In):
    """The buyer shipped the item back."""

    carrier: Carrier
    tracking_number: TrackingNumber
    serial_numbers: Serials = Field(
        default_factory=list,
        description="Serial numbers of the returned items, compared with those shipped.",
    )
    shipping_minor: Postage = Field(default=0, description="The buyer's postage for the return.")


class ReplacementShipmentCreate(_In):
    """The seller shipped the replacement of an exchange."""

    carrier: Carrier
    tracking_number: TrackingNumber
    serial_numbers: Serials = Field(default_factory=list)


class RefundPublic(BaseModel):
    """A refund request with its state and money (minor units)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    order_id: str
    buyer_id: str
    seller_id: str
    currency: str
    kind: RefundKind
    reason: RefundReason
    state: RefundState
    requested_minor: int
    refunded_minor: int
    description: str
    return_shipping_payer: str
    freight_insured: bool
    outbound_shipping_deduction_minor: int
    return_shipping_minor: int
    return_shipping_reimbursed_minor: int
    carrier_claim_minor: int
    instant_refunded_minor: int
    serial_mismatch: bool = Field(
        description="The returned serial numbers differ from those shipped: held from auto-refund."
    )
    amendments: int
    refused_reason: str | None
    refund_source: str | None
    close_reason: str | None
    dispute_id: str | None
    created_at: datetime
    agreed_at: datetime | None
    return_shipped_at: datetime | None
    ended_at: datetime | None
    due_at: datetime | None = Field(description="When the running deadline of the request expires.")

    @classmethod
    def of(cls, request: RefundRequest) -> RefundPublic:
        """The public view of a request."""
        return cls.model_validate(
            {
                **{name: getattr(request, name) for name in cls.model_fields if name != "due_at"},
                "return_shipping_payer": request.return_shipping_payer.value,
                "due_at": request.answer_due_at,
            }
        )


class RefundPage(BaseModel):
    """A page of refund requests, newest first."""

    data: list[RefundPublic]
    next_cursor: str | None = Field(
        description="Pass as ?cursor= to get the next page; null on the last page."
    )
