"""Every table, one module per bounded context (and one for the API adapter), all on one MetaData."""

from tradeguard.adapters.storage.tables import (
    access,
    aftersales,
    api,
    deadlines,
    disputes,
    events,
    ledger,
    merchants,
    messaging,
    orders,
    reputation,
    reviews,
    webhooks,
)
from tradeguard.adapters.storage.tables.base import metadata

__all__ = [
    "access",
    "aftersales",
    "api",
    "deadlines",
    "disputes",
    "events",
    "ledger",
    "merchants",
    "messaging",
    "metadata",
    "orders",
    "reputation",
    "reviews",
    "webhooks",
]
