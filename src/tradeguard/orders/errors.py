"""Errors of the orders context."""

from __future__ import annotations

from tradeguard.kernel.errors import Conflict, TradeGuardError


class PurchaseLimitExceeded(TradeGuardError):
    """The buyer already bought as many of this listing as it allows."""

    code = "purchase_limit_exceeded"

    def __init__(self, listing_id: str, limit: int, already: int, requested: int) -> None:
        super().__init__(
            f"Listing {listing_id} allows {limit} per buyer; this buyer already has {already} "
            f"and asked for {requested} more.",
            listing_id=listing_id,
            limit=limit,
            already=already,
            requested=requested,
        )


class PaymentMismatch(TradeGuardError):
    """The payment does not match what the orders cost."""

    code = "payment_mismatch"


class MixedGoodsKinds(TradeGuardError):
    """One seller's order cannot mix physical and virtual goods."""

    code = "mixed_goods_kinds"


class ListingConflict(Conflict):
    """The listing belongs to another seller."""

    code = "listing_conflict"
