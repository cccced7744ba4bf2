"""Every table, one module per bounded context, all on one MetaData."""

from tradeguard.adapters.storage.tables import deadlines, events, ledger, orders
from tradeguard.adapters.storage.tables.base import metadata

__all__ = ["deadlines", "events", "ledger", "metadata", "orders"]
