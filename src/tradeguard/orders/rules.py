"""Pure order rules of DESIGN.md §4: (facts, policy) -> decision. No I/O, no clock reads."""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from tradeguard.kernel.errors import ValidationFailed
from tradeguard.kernel.money import MAX_AMOUNT_MINOR, Money, apply_bps, major_units
from tradeguard.kernel.periods import WorkingCalendar
from tradeguard.orders.errors import MixedGoodsKinds, PurchaseLimitExceeded
from tradeguard.orders.model import GoodsKind, Listing, Order
from tradeguard.orders.policy import OrderPolicy


@dataclass(frozen=True, slots=True)
class CartLine:
    """A line of a checkout request."""

    listing_id: str
    quantity: int
    unit_price_minor: int


@dataclass(frozen=True, slots=True)
class SellerPart:
    """The lines of a cart that one seller fulfils: they become one order."""

    seller_id: str
    goods_kind: GoodsKind
    lines: tuple[tuple[CartLine, Listing], ...]
    shipping_fee_minor: int

    @property
    def subtotal_minor(self) -> int:
        """Goods price: quantity times unit price, summed."""
        return sum(line.quantity * line.unit_price_minor for line, _ in self.lines)


def split_cart(
    lines: Sequence[CartLine],
    listings: Mapping[str, Listing],
    shipping_fees: Mapping[str, int],
    *,
    max_lines: int,
) -> list[SellerPart]:
    """Split a cart into one part per seller, in the order sellers first appear.

    A cart paid at once across several shops becomes one order per shop under
    one payment group (as Taobao splits per shop); each escrows its own share.
    """
    if not lines:
        raise ValidationFailed("A checkout needs at least one line.")
    if len(lines) > max_lines:
        raise ValidationFailed(f"A checkout may have at most {max_lines} lines.", lines=len(lines))
    by_seller: dict[str, list[tuple[CartLine, Listing]]] = {}
    for line in lines:
        if line.quantity <= 0:
            raise ValidationFailed("Quantities must be positive.", listing_id=line.listing_id)
        if line.unit_price_minor < 0:
            raise ValidationFailed("Unit prices cannot be negative.", listing_id=line.listing_id)
        listing = listings[line.listing_id]
        by_seller.setdefault(listing.seller_id, []).append((line, listing))
    unknown = set(shipping_fees) - set(by_seller)
    if unknown:
        raise ValidationFailed(
            f"Shipping fees given for sellers with no line in the cart: {', '.join(sorted(unknown))}."
        )
    parts = []
    for seller_id, seller_lines in by_seller.items():
        kinds = {listing.goods_kind for _, listing in seller_lines}
        if len(kinds) > 1:
            raise MixedGoodsKinds(
                f"Seller {seller_id}'s lines mix physical and virtual goods; check them out separately."
            )
        fee = shipping_fees.get(seller_id, 0)
        if fee < 0:
            raise ValidationFailed("Shipping fees cannot be negative.", seller_id=seller_id)
        part = SellerPart(seller_id, kinds.pop(), tuple(seller_lines), fee)
        if part.subtotal_minor + fee <= 0:
            raise ValidationFailed("An order must cost something.", seller_id=seller_id)
        if part.subtotal_minor + fee > MAX_AMOUNT_MINOR:
            raise ValidationFailed(
                f"An order may cost at most {MAX_AMOUNT_MINOR} minor units.", seller_id=seller_id
            )
        parts.append(part)
    return parts


def check_purchase_limit(listing: Listing, already_bought: int, requested: int) -> None:
    """Refuse a purchase over the listing's per-buyer limit, at creation (seed 002).

    ``already_bought`` counts the buyer's units of this listing in orders that
    are not closed, so a buyer whose earlier order expired unpaid may buy again.
    """
    limit = listing.purchase_limit_per_buyer
    if limit is not None and already_bought + requested > limit:
        raise PurchaseLimitExceeded(listing.id, limit, already_bought, requested)


def late_shipment_compensation(order: Order, policy: OrderPolicy) -> Money:
    """Compensation for a late shipment: a share of the goods price, capped (DESIGN.md §4).

    >>> from tradeguard.orders.policy import OrderPolicy
    >>> from datetime import UTC, datetime
    >>> from tradeguard.orders.model import GoodsKind, OrderState
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> o = Order("o", "g", "b", "s", "CNY", GoodsKind.PHYSICAL, OrderState.PAID, 10_000, 0, 200, t, t)
    >>> late_shipment_compensation(o, OrderPolicy()).amount_minor  # 5 % of 100.00
    500
    >>> o.subtotal_minor = 1_000_000  # 5 % of 10 000.00 is 500.00, capped at 30.00
    >>> late_shipment_compensation(o, OrderPolicy()).amount_minor
    3000
    """
    share = apply_bps(order.money(order.subtotal_minor), policy.late_shipment_compensation_bps)
    cap = major_units(policy.late_shipment_compensation_cap_major, order.currency)
    return min(share, cap)


def platform_fee(order: Order) -> Money:
    """The platform's fee on what escrow releases at completion, rounded half-even."""
    return apply_bps(order.money(order.escrow_minor), order.fee_bps)


def extension_allowed(order: Order, remaining: timedelta | None, policy: OrderPolicy) -> bool:
    """A buyer may extend receipt once, and only when little time remains (DESIGN.md §4)."""
    if remaining is None or order.auto_confirm_holds > 0:
        return False
    return (
        order.receipt_extensions < policy.receipt_extensions_max
        and remaining <= policy.receipt_extension_when_remaining.as_timedelta()
    )


def auto_confirm_due_on_shipment(
    shipped_at: datetime, policy: OrderPolicy, calendar: WorkingCalendar
) -> datetime:
    """When a shipped physical order auto-confirms, before any delivery scan."""
    if policy.auto_confirm_counts_from == "shipment":
        return calendar.add(shipped_at, policy.auto_confirm_after_shipment)
    return calendar.add(shipped_at, policy.auto_confirm_without_delivery_scan)


def auto_confirm_due_on_delivery(
    delivered_at: datetime, policy: OrderPolicy, calendar: WorkingCalendar
) -> datetime:
    """When an order auto-confirms counted from delivery (virtual goods; eBay-style physical goods)."""
    return calendar.add(delivered_at, policy.auto_confirm_after_delivery)


def fee_account(order_id: str, shards: int) -> str:
    """The platform fee account an order's fee goes to: one of ``shards`` fixed accounts.

    Spreading a hot account over a few rows lets completions commit in parallel; the
    choice is a stable hash of the order, so the same order always uses the same shard.

    >>> fee_account("ord_1", 1), fee_account("ord_1", 16) == fee_account("ord_1", 16)
    ('platform:fees', True)
    """
    if shards <= 1:
        return "platform:fees"
    return f"platform:fees:{zlib.crc32(order_id.encode()) % shards}"
