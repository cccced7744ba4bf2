"""Every table, one module per bounded context (and one for the API adapter), all on one MetaData."""

from tradeguard.adapters.storage.tables import (
    access,
    api,
    deadlines,
    events,
    ledger,
    merchants,
    orders,
    reputation,
    reviews,
    webhooks,
)
from tradeguard.adapters.storage.tables.base import metadata

__all__ = [
    "access",
    "api",
    "deadlines",
    "events",
    "ledger",
    "merchants",
    "metadata",
    "orders",
    "reputation",
    "reviews",
    "webhooks",
]
