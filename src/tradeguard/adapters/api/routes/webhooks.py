"""Webhook endpoints, the delivery log, manual replay, and the event feed (DESIGN.md §13)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, status

from tradeguard.adapters.api.deps import COMMON, MAX_SEQUENCE, AppDep, OperatorWebhooks, page_of
from tradeguard.adapters.api.routing import api_router
from tradeguard.adapters.api.schemas import (
    EventPage,
    EventPublic,
    WebhookDeliveryPage,
    WebhookDeliveryPublic,
    WebhookEndpointCreate,
    WebhookEndpointCreated,
    WebhookEndpointList,
    WebhookEndpointPublic,
)

router = api_router(prefix="/v1", responses=COMMON)

Id = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_]+$")]


@router.post(
    "/webhook-endpoints",
    tags=["webhooks"],
    status_code=status.HTTP_201_CREATED,
    summary="Register an endpoint",
)
def register_endpoint(
    body: WebhookEndpointCreate, app: AppDep, _: OperatorWebhooks
) -> WebhookEndpointCreated:
    """Deliver events of the given types to a URL, signed per Standard Webhooks with the returned `secret`.

    URLs whose host resolves to a private, loopback or link-local address are
    refused unless the policy allows them (the host is checked again before
    every delivery).
    """
    endpoint = app.webhooks.register(body.url, body.event_types, body.description)
    return WebhookEndpointCreated(
        **WebhookEndpointPublic.of(endpoint).model_dump(), secret=endpoint.secret
    )


@router.get("/webhook-endpoints", tags=["webhooks"], summary="List endpoints")
def list_endpoints(app: AppDep, _: OperatorWebhooks) -> WebhookEndpointList:
    """Every endpoint, without secrets."""
    return WebhookEndpointList(data=[WebhookEndpointPublic.of(e) for e in app.webhooks.endpoints()])


@router.get("/webhook-endpoints/{endpoint_id}", tags=["webhooks"], summary="Get an endpoint")
def get_endpoint(endpoint_id: Id, app: AppDep, _: OperatorWebhooks) -> WebhookEndpointPublic:
    """One endpoint, without its secret."""
    return WebhookEndpointPublic.of(app.webhooks.endpoint(endpoint_id))


@router.delete("/webhook-endpoints/{endpoint_id}", tags=["webhooks"], summary="Disable an endpoint")
def disable_endpoint(endpoint_id: Id, app: AppDep, _: OperatorWebhooks) -> WebhookEndpointPublic:
    """Stop delivering to an endpoint; its delivery log stays."""
    return WebhookEndpointPublic.of(app.webhooks.disable(endpoint_id))


@router.get("/webhook-deliveries", tags=["webhooks"], summary="The delivery log")
def list_deliveries(
    app: AppDep,
    _: OperatorWebhooks,
    endpoint_id: Annotated[str | None, Query(max_length=40)] = None,
    event_id: Annotated[str | None, Query(max_length=40)] = None,
    cursor: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> WebhookDeliveryPage:
    """Deliveries newest first, optionally of one endpoint or one event."""
    rows = app.webhooks.deliveries(
        endpoint_id=endpoint_id, event_id=event_id, before_id=cursor, limit=limit + 1
    )
    page, next_cursor = page_of(rows, limit)
    return WebhookDeliveryPage(
        data=[WebhookDeliveryPublic.of(d) for d in page], next_cursor=next_cursor
    )


@router.get(
    "/webhook-deliveries/{delivery_id}",
    tags=["webhooks"],
    summary="Get a delivery with its attempts",
)
def get_delivery(delivery_id: Id, app: AppDep, _: OperatorWebhooks) -> WebhookDeliveryPublic:
    """A delivery and every HTTP attempt made for it."""
    delivery, attempts = app.webhooks.delivery(delivery_id)
    return WebhookDeliveryPublic.of(delivery, attempts)


@router.post(
    "/webhook-deliveries/{delivery_id}/replay",
    tags=["webhooks"],
    status_code=status.HTTP_201_CREATED,
    summary="Replay a delivery",
)
def replay_delivery(delivery_id: Id, app: AppDep, _: OperatorWebhooks) -> WebhookDeliveryPublic:
    """Send a settled delivery's event again, as a new delivery in the log (same `webhook-id`)."""
    return WebhookDeliveryPublic.of(app.webhooks.replay(delivery_id))


@router.get("/events", tags=["webhooks"], summary="The event feed")
def list_events(
    app: AppDep,
    _: OperatorWebhooks,
    after: Annotated[
        int, Query(ge=0, le=MAX_SEQUENCE, description="Only events after this sequence number.")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> EventPage:
    """Every domain event in order, for operators who poll instead of (or besides) receiving webhooks."""
    events = app.webhooks.feed(after, limit)
    return EventPage(
        data=[EventPublic.of(e) for e in events],
        next_after=events[-1].sequence if events else after,
    )
