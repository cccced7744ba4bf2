"""Request and response bodies of the HTTP API (``XCreate`` in, ``XPublic`` out).

Money travels as integer minor units with an ISO 4217 currency, as Stripe's API
does: ``{"amount_minor": 1999, "currency": "CNY"}`` is 19.99 yuan. Instants are
ISO 8601 with a UTC offset.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from tradeguard.access.model import ApiKey, Scope, StaffAccount, StaffRole
from tradeguard.events.model import DeliveryAttempt, StoredEvent, WebhookDelivery, WebhookEndpoint
from tradeguard.ledger.model import AccountBalance
from tradeguard.orders.model import GoodsKind, Listing, Order, OrderState, Payout, TrackingStatus
from tradeguard.orders.service import Checkout, OrderDetails
from tradeguard.orders.settlement import FundStatus

Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$"), Field(examples=["CNY"])]
AmountMinor = Annotated[int, Field(ge=0, le=10**13, strict=True)]
PositiveAmountMinor = Annotated[int, Field(ge=1, le=10**13, strict=True)]
ShortText = Annotated[str, StringConstraints(max_length=500)]


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("give a time zone offset, e.g. 2026-01-05T09:00:00Z")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]


def _no_nul(value: Any, path: str = "") -> None:
    if isinstance(value, str):
        if "\x00" in value:
            # PostgreSQL cannot store NUL in text; refuse it at the door with a 422.
            raise ValueError(f"{path or 'a text field'} contains a NUL character")
    elif isinstance(value, dict):
        for key, item in value.items():
            _no_nul(key, path)
            _no_nul(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _no_nul(item, f"{path}.{index}" if path else str(index))


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: Any) -> Any:
        _no_nul(data)
        return data


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# -- listings and checkouts ---------------------------------------------------------------------


class ListingCreate(_In):
    """A product page registered by the operator."""

    seller_id: Identifier
    title: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    goods_kind: GoodsKind = GoodsKind.PHYSICAL
    purchase_limit_per_buyer: Annotated[int | None, Field(ge=1, le=1_000_000)] = Field(
        default=None,
        description="Refuse a purchase over this many units per buyer ('one per ID', seed 002).",
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "seller_id": "s_1001",
                    "title": "10 yuan phone top-up",
                    "goods_kind": "virtual",
                    "purchase_limit_per_buyer": 1,
                }
            ]
        },
    )


class ListingPublic(_Out):
    """A registered listing."""

    id: str
    seller_id: str
    title: str
    goods_kind: GoodsKind
    purchase_limit_per_buyer: int | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, listing: Listing) -> ListingPublic:
        """From the domain object."""
        return cls.model_validate(listing)


class CartLineIn(_In):
    """A listing bought in some quantity at a unit price."""

    listing_id: Identifier
    quantity: Annotated[int, Field(ge=1, le=10_000, strict=True)]
    unit_price_minor: AmountMinor


class CheckoutCreate(_In):
    """A cart paid at once; it becomes one order per seller under one payment group."""

    buyer_id: Identifier
    currency: Currency
    lines: Annotated[list[CartLineIn], Field(min_length=1, max_length=100)]
    shipping_fees_minor: dict[Identifier, AmountMinor] = Field(
        default_factory=dict, description="Shipping fee per seller id, in minor units."
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "buyer_id": "b_42",
                    "currency": "CNY",
                    "lines": [
                        {"listing_id": "l_phone_case", "quantity": 2, "unit_price_minor": 1500}
                    ],
                    "shipping_fees_minor": {"s_1001": 800},
                }
            ]
        },
    )


class OrderLinePublic(_Out):
    """One line of an order."""

    line_no: int
    listing_id: str
    title: str
    quantity: int
    unit_price_minor: int


class ShipmentPublic(_Out):
    """A parcel."""

    id: str
    direction: str
    carrier: str
    tracking_number: str
    serial_numbers: list[str]
    shipped_at: datetime


class TrackingEventPublic(_Out):
    """A carrier scan."""

    id: str
    status: TrackingStatus
    occurred_at: datetime
    location: str | None
    detail: str | None
    recorded_at: datetime


class DeliveryRecordPublic(_Out):
    """Proof that virtual goods were delivered."""

    id: str
    method: str
    detail: str
    delivered_at: datetime
    recorded_by: str


class OrderSummary(_Out):
    """An order's state and money (in minor units)."""

    id: str
    payment_group_id: str
    buyer_id: str
    seller_id: str
    state: OrderState
    goods_kind: GoodsKind
    currency: str
    subtotal_minor: int
    shipping_fee_minor: int
    total_minor: int
    paid_minor: int
    released_minor: int
    refunded_minor: int
    escrow_minor: int
    fee_minor: int
    is_late: bool
    late_compensation_minor: int
    late_compensation_paid: bool
    receipt_extensions: int
    created_at: datetime
    paid_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    completed_at: datetime | None
    closed_at: datetime | None
    completed_by: str | None
    close_reason: str | None
    last_tracking_status: TrackingStatus | None
    ship_by_at: datetime | None = Field(
        description="When the seller must ship by; is_late says whether it was missed."
    )
    auto_confirm_at: datetime | None = Field(
        description="When the order completes by itself, while counting."
    )
    auto_confirm_paused: bool = Field(
        description="True while an open refund or dispute holds auto-confirm."
    )

    @classmethod
    def of(cls, order: Order) -> OrderSummary:
        """From the domain object."""
        return cls.model_validate(order)


class OrderPublic(OrderSummary):
    """An order with its lines, parcels, scans, delivery records and running deadlines."""

    lines: list[OrderLinePublic]
    shipments: list[ShipmentPublic]
    tracking_events: list[TrackingEventPublic]
    delivery_records: list[DeliveryRecordPublic]

    @classmethod
    def of_details(cls, details: OrderDetails) -> OrderPublic:
        """From the order and its records."""
        base = OrderSummary.of(details.order).model_dump()
        return cls(
            **base,
            lines=[OrderLinePublic.model_validate(line) for line in details.order.lines],
            shipments=[ShipmentPublic.model_validate(s) for s in details.shipments],
            tracking_events=[
                TrackingEventPublic.model_validate(t) for t in details.tracking_events
            ],
            delivery_records=[
                DeliveryRecordPublic.model_validate(d) for d in details.delivery_records
            ],
        )


class CheckoutPublic(BaseModel):
    """The orders a checkout created."""

    payment_group_id: str
    currency: str
    total_minor: int = Field(description="What the buyer pays for the whole checkout.")
    orders: list[OrderSummary]

    @classmethod
    def of(cls, checkout: Checkout) -> CheckoutPublic:
        """From the domain object."""
        currency = checkout.orders[0].currency if checkout.orders else ""
        return cls(
            payment_group_id=checkout.payment_group_id,
            currency=currency,
            total_minor=checkout.total_minor,
            orders=[OrderSummary.of(o) for o in checkout.orders],
        )


class PaymentCreate(_In):
    """The payment provider captured the buyer's money for a payment group."""

    amount_minor: PositiveAmountMinor
    currency: Currency
    payment_reference: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(
        description="The payment provider's reference; confirming it again is harmless."
    )


class PaymentGroupPublic(BaseModel):
    """A payment group after payment."""

    payment_group_id: str
    orders: list[OrderSummary]


class ShipmentCreate(_In):
    """The seller handed physical goods to a carrier."""

    carrier: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    tracking_number: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    serial_numbers: Annotated[
        list[Annotated[str, StringConstraints(min_length=1, max_length=128)]],
        Field(max_length=1000),
    ] = Field(
        default_factory=list,
        description="Serial numbers of the items in the parcel, compared when they come back.",
    )


class DeliveryCreate(_In):
    """Virtual goods were delivered."""

    method: Literal["automatic", "manual"] = "automatic"
    detail: Annotated[str, StringConstraints(min_length=1, max_length=2000)] = Field(
        description="What was delivered to which account, e.g. 'top-up of 10 CNY to 138****0000 succeeded'."
    )


class TrackingEventCreate(_In):
    """A carrier scan from the operator's carrier integration."""

    status: TrackingStatus
    occurred_at: AwareDatetime
    location: Annotated[str, StringConstraints(max_length=200)] | None = None
    detail: Annotated[str, StringConstraints(max_length=2000)] | None = None


class CancelCreate(_In):
    """Why the order is cancelled."""

    reason: ShortText = ""


class OrderPage(BaseModel):
    """A page of orders, newest first."""

    data: list[OrderSummary]
    next_cursor: str | None = Field(
        description="Pass as ?cursor= to get the next page; null on the last page."
    )


class TimelineEntry(BaseModel):
    """One event in an order's history."""

    id: str
    sequence: int
    type: str
    occurred_at: datetime
    data: dict[str, Any]

    @classmethod
    def of(cls, event: StoredEvent) -> TimelineEntry:
        """From an outbox event."""
        return cls(
            id=event.id,
            sequence=event.sequence,
            type=event.type,
            occurred_at=event.occurred_at,
            data=dict(event.data),
        )


class Timeline(BaseModel):
    """An order's events in the order they happened."""

    order_id: str
    events: list[TimelineEntry]


class EventPublic(TimelineEntry):
    """One domain event in the feed, with what it is about."""

    subject: str = Field(description="The object the event is about, such as an order id.")
    order_id: str | None = Field(description="The order concerned, when there is one.")

    @classmethod
    def of(cls, event: StoredEvent) -> EventPublic:
        """From an outbox event."""
        return cls(
            id=event.id,
            sequence=event.sequence,
            type=event.type,
            occurred_at=event.occurred_at,
            data=dict(event.data),
            subject=event.subject,
            order_id=event.order_id,
        )


class EventPage(BaseModel):
    """Events in sequence order."""

    data: list[EventPublic]
    next_after: int = Field(
        description="Pass as ?after= to poll for what comes next (the last sequence seen)."
    )


# -- money --------------------------------------------------------------------------------------


class BalancePublic(BaseModel):
    """A ledger account's cached balance."""

    account: str
    currency: str
    kind: str
    balance_minor: int

    @classmethod
    def of(cls, balance: AccountBalance) -> BalancePublic:
        """From the domain object."""
        return cls(
            account=balance.address,
            currency=balance.currency,
            kind=balance.kind.value,
            balance_minor=balance.balance_minor,
        )


class BalanceList(BaseModel):
    """Balances."""

    data: list[BalancePublic]


class PayoutCreate(_In):
    """Withdraw from a seller's available balance."""

    seller_id: Identifier | None = Field(
        default=None, description="Required for operators; a seller pays out its own balance."
    )
    amount_minor: PositiveAmountMinor
    currency: Currency


class PayoutFailure(_In):
    """The bank refused a payout."""

    reason: ShortText = ""


class PayoutPublic(_Out):
    """A payout."""

    id: str
    seller_id: str
    currency: str
    amount_minor: int
    state: str
    created_at: datetime
    failed_at: datetime | None
    failure_reason: str | None

    @classmethod
    def of(cls, payout: Payout) -> PayoutPublic:
        """From the domain object."""
        return cls(
            id=payout.id,
            seller_id=payout.seller_id,
            currency=payout.currency,
            amount_minor=payout.amount_minor,
            state=payout.state.value,
            created_at=payout.created_at,
            failed_at=payout.failed_at,
            failure_reason=payout.failure_reason,
        )


class PayoutPage(BaseModel):
    """A page of payouts, newest first."""

    data: list[PayoutPublic]
    next_cursor: str | None


class FundTopUp(_In):
    """Platform money into the compensation fund."""

    amount_minor: PositiveAmountMinor
    currency: Currency
    reference: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(
        description="The bank transfer's reference; the same reference tops up once."
    )


class FundStatusPublic(BaseModel):
    """The compensation fund in one currency."""

    currency: str
    balance_minor: int
    receivables_outstanding_minor: int = Field(
        description="What sellers owe the platform for advances."
    )
    headroom_minor: int = Field(description="How much more the fund can advance.")

    @classmethod
    def of(cls, status: FundStatus) -> FundStatusPublic:
        """From the domain object."""
        return cls(
            currency=status.currency,
            balance_minor=status.balance_minor,
            receivables_outstanding_minor=status.receivables_outstanding_minor,
            headroom_minor=status.headroom_minor,
        )


class PayoutHoldPublic(BaseModel):
    """One hold on a seller's payouts."""

    subject: str
    reason: str
    placed_at: datetime


class PayoutHoldList(BaseModel):
    """Why a seller's payouts wait: holds, and what it owes for advances (by currency)."""

    seller_id: str
    owed_minor: dict[str, int]
    data: list[PayoutHoldPublic]


# -- access -------------------------------------------------------------------------------------


class TokenCreate(_In):
    """Mint a token for a buyer or a seller."""

    party: Annotated[str, StringConstraints(pattern=r"^(buyer|seller):[A-Za-z0-9_.\-]{1,64}$")] = (
        Field(examples=["buyer:b_42"])
    )
    ttl_seconds: Annotated[int, Field(ge=30, le=604_800)] | None = Field(
        default=None, description="Default 900 (15 minutes)."
    )


class TokenPublic(BaseModel):
    """A bearer token."""

    token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme's name, not a secret
    party: str
    expires_at: datetime


class StaffLogin(_In):
    """Staff credentials."""

    email: Annotated[str, StringConstraints(min_length=3, max_length=254)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1000)]


class StaffPublic(BaseModel):
    """A staff account."""

    id: str
    email: str
    role: StaffRole
    created_at: datetime
    disabled_at: datetime | None

    @classmethod
    def of(cls, account: StaffAccount) -> StaffPublic:
        """From the domain object (never the password hash)."""
        return cls(
            id=account.id,
            email=account.email,
            role=account.role,
            created_at=account.created_at,
            disabled_at=account.disabled_at,
        )


class StaffCreate(_In):
    """A new staff account."""

    email: Annotated[str, StringConstraints(min_length=3, max_length=254)]
    role: StaffRole
    password: Annotated[str, StringConstraints(min_length=10, max_length=1000)]


class StaffSession(BaseModel):
    """A staff login."""

    token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme's name, not a secret
    expires_at: datetime
    staff: StaffPublic


class ApiKeyCreate(_In):
    """A new operator API key."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    scopes: Annotated[list[Scope], Field(min_length=1)]


class ApiKeyPublic(BaseModel):
    """An API key, without its secret."""

    id: str
    name: str
    scopes: list[Scope]
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyPublic:
        """From the domain object."""
        return cls(
            id=key.id,
            name=key.name,
            scopes=sorted(key.scopes),
            created_at=key.created_at,
            revoked_at=key.revoked_at,
        )


class ApiKeyCreated(ApiKeyPublic):
    """A new API key: ``key`` is shown this once and never again."""

    key: str


class ApiKeyList(BaseModel):
    """API keys."""

    data: list[ApiKeyPublic]


class StaffList(BaseModel):
    """Staff accounts."""

    data: list[StaffPublic]


# -- webhooks -----------------------------------------------------------------------------------


class WebhookEndpointCreate(_In):
    """Where to deliver which events."""

    url: Annotated[str, StringConstraints(min_length=8, max_length=2000)] = Field(
        examples=["https://shop.example/hooks/tradeguard"]
    )
    event_types: Annotated[
        list[Annotated[str, StringConstraints(min_length=1, max_length=80)]], Field(max_length=50)
    ] = Field(
        default_factory=lambda: ["*"],
        description="Exact types ('order.paid'), prefixes ('order.*') or '*'.",
    )
    description: ShortText = ""


class WebhookEndpointPublic(BaseModel):
    """A webhook endpoint."""

    id: str
    url: str
    event_types: list[str]
    description: str
    enabled: bool
    created_at: datetime
    disabled_at: datetime | None

    @classmethod
    def of(cls, endpoint: WebhookEndpoint) -> WebhookEndpointPublic:
        """From the domain object (without the secret)."""
        return cls(
            id=endpoint.id,
            url=endpoint.url,
            event_types=list(endpoint.event_types),
            description=endpoint.description,
            enabled=endpoint.is_enabled,
            created_at=endpoint.created_at,
            disabled_at=endpoint.disabled_at,
        )


class WebhookEndpointCreated(WebhookEndpointPublic):
    """A new endpoint with the secret its deliveries are signed with (Standard Webhooks)."""

    secret: str


class WebhookEndpointList(BaseModel):
    """Endpoints."""

    data: list[WebhookEndpointPublic]


class DeliveryAttemptPublic(BaseModel):
    """One HTTP attempt."""

    number: int
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int

    @classmethod
    def of(cls, attempt: DeliveryAttempt) -> DeliveryAttemptPublic:
        """From the domain object."""
        return cls(
            number=attempt.number,
            attempted_at=attempt.attempted_at,
            status_code=attempt.status_code,
            error=attempt.error,
            duration_ms=attempt.duration_ms,
        )


class WebhookDeliveryPublic(BaseModel):
    """A delivery in the log."""

    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    state: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None
    replay_of: str | None
    attempt_log: list[DeliveryAttemptPublic] = Field(default_factory=list)

    @classmethod
    def of(
        cls, delivery: WebhookDelivery, attempts: list[DeliveryAttempt] | None = None
    ) -> WebhookDeliveryPublic:
        """From the domain object."""
        return cls(
            id=delivery.id,
            endpoint_id=delivery.endpoint_id,
            event_id=delivery.event_id,
            event_type=delivery.event_type,
            state=delivery.state.value,
            attempts=delivery.attempts,
            next_attempt_at=delivery.next_attempt_at if delivery.state.value == "pending" else None,
            last_status_code=delivery.last_status_code,
            last_error=delivery.last_error,
            created_at=delivery.created_at,
            finished_at=delivery.finished_at,
            replay_of=delivery.replay_of,
            attempt_log=[DeliveryAttemptPublic.of(a) for a in attempts or []],
        )


class WebhookDeliveryPage(BaseModel):
    """A page of deliveries, newest first."""

    data: list[WebhookDeliveryPublic]
    next_cursor: str | None


class Health(BaseModel):
    """Liveness or readiness."""

    status: Literal["ok", "unavailable"]
    checks: dict[str, str] = Field(default_factory=dict)
