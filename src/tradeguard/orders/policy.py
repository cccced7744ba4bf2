"""The numbers of DESIGN.md §4, with their documented defaults."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tradeguard.kernel.periods import Period
from tradeguard.kernel.policytypes import (
    Bps,
    CalendarPeriodField,
    Count,
    PeriodField,
    PolicySection,
)


class OrderPolicy(PolicySection):
    """Order deadlines, fees and compensation (DESIGN.md §4)."""

    payment_window: PeriodField = Field(
        default=Period.hours(72), description="Unpaid orders close this long after creation."
    )
    ship_by: PeriodField = Field(
        default=Period.hours(72),
        description="Sellers ship (or deliver virtual goods) within this after payment; later is marked late.",
    )
    ship_by_reminder_before: CalendarPeriodField = Field(
        default=Period.hours(24),
        description="The ship-by reminder webhook fires this long before ship-by.",
    )
    late_shipment_compensation_bps: Bps = Field(
        default=500,
        description="Late shipment compensation as a share of the goods price, paid by the seller.",
    )
    late_shipment_compensation_cap_major: Count = Field(
        default=30,
        description="Cap on late shipment compensation, in major units of the order currency.",
    )
    auto_confirm_counts_from: Literal["shipment", "delivery"] = Field(
        default="shipment",
        description="Physical goods: count auto-confirm from shipment (Taobao) or from the carrier's delivery scan (eBay).",
    )
    auto_confirm_after_shipment: PeriodField = Field(
        default=Period.days(10), description="Physical goods auto-confirm this long after shipment."
    )
    auto_confirm_after_delivery: PeriodField = Field(
        default=Period.days(3),
        description="Auto-confirm this long after delivery: virtual goods always, physical goods when counting from delivery.",
    )
    auto_confirm_without_delivery_scan: PeriodField = Field(
        default=Period.days(30),
        description="When counting from delivery, auto-confirm anyway this long after shipment if no delivery scan arrives.",
    )
    auto_confirm_reminder_before: CalendarPeriodField = Field(
        default=Period.days(2),
        description="The auto-confirm reminder webhook fires this long before auto-confirm.",
    )
    receipt_extension: PeriodField = Field(
        default=Period.days(3), description="How much a buyer's extension adds to auto-confirm."
    )
    receipt_extension_when_remaining: CalendarPeriodField = Field(
        default=Period.days(3),
        description="A buyer may extend only when at most this much time remains.",
    )
    receipt_extensions_max: Count = Field(
        default=1, description="How many times a buyer may extend receipt per order."
    )
    platform_fee_bps: Bps = Field(
        default=200, description="Platform fee taken from escrow at completion."
    )
    fee_account_shards: int = Field(
        default=16,
        strict=True,
        ge=1,
        le=64,
        description=(
            "Spread platform fees over this many ledger accounts (platform:fees:0 ... N-1) so that "
            "concurrent completions do not queue on one row lock; their sum is the fee income. 1 keeps one platform:fees account."
        ),
    )
    max_lines_per_order: int = Field(
        default=100,
        strict=True,
        ge=1,
        le=1000,
        description="Refuse carts with more lines than this.",
    )


class SettlementPolicy(PolicySection):
    """Advances, receivables and payouts (DESIGN.md §5: where the money comes from)."""

    deposit_recovery_after: PeriodField = Field(
        default=Period.days(3),
        description="Recover an advance from the seller's deposit if later sales have not repaid it this long after.",
    )
