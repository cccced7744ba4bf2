"""The numbers of DESIGN.md §5, with their documented defaults (Taobao's rules)."""

from __future__ import annotations

from pydantic import Field

from tradeguard.aftersales.model import BuyerTier
from tradeguard.kernel.periods import Period
from tradeguard.kernel.policytypes import Bps, Count, PeriodField, PolicySection


class AfterSalesPolicy(PolicySection):
    """Refund, return and exchange deadlines, money rules and the instant-refund tier (DESIGN.md §5)."""

    answer_not_shipped: PeriodField = Field(
        default=Period.hours(24),
        description="The seller answers a refund request on an unshipped order within this, else it is agreed and refunded.",
    )
    answer_refund_only: PeriodField = Field(
        default=Period.hours(36),
        description="The seller answers a refund-only (or partial) request on a shipped order within this, else it is agreed and refunded.",
    )
    answer_return: PeriodField = Field(
        default=Period.days(5),
        description="The seller answers a return-and-refund or exchange request within this, else it is agreed.",
    )
    buyer_response_after_refusal: PeriodField = Field(
        default=Period.days(5),
        description="After a refusal the buyer amends or escalates within this, else the request closes.",
    )
    return_shipment: PeriodField = Field(
        default=Period.days(7),
        description="After agreement the buyer ships the return within this, else the request closes.",
    )
    seller_confirm_return: PeriodField = Field(
        default=Period.days(10),
        description="The seller accepts or rejects the returned parcel within this after its shipment, else it is refunded.",
    )
    replacement_receipt: PeriodField = Field(
        default=Period.days(10),
        description="An exchange ends this long after the replacement ships unless the buyer confirms earlier.",
    )
    no_reason_window: PeriodField = Field(
        default=Period.days(7),
        description="Seven-day no-reason returns are accepted this long after receipt (delivery scan, else confirmation).",
    )
    buyer_amendments_max: Count = Field(
        default=3, description="How many times a buyer may amend a refused request."
    )
    return_shipping_cap_major: Count = Field(
        default=30,
        description="Cap, in major units, on the return postage the seller reimburses when at fault.",
    )
    outbound_shipping_deduction_cap_major: Count = Field(
        default=20,
        description="Cap, in major units, on the outbound shipping a seller may deduct from a no-reason refund of a free-shipping order.",
    )
    freight_insurance_cap_major: Count = Field(
        default=25,
        description="Cap, in major units, on what freight insurance (运费险) reimburses for a buyer-paid return.",
    )
    freight_insurer: str = Field(
        default="freight",
        pattern=r"^[A-Za-z0-9_.\-]{1,64}$",
        description="The insurer whose ledger account (insurer:NAME) pays freight insurance.",
    )
    instant_refund_min_tier: BuyerTier = Field(
        default=BuyerTier.TRUSTED,
        description="Buyers of this tier or above get instant refunds (极速退款) once the return has a tracking number.",
    )
    trusted_min_completed_orders: Count = Field(
        default=10, description="A trusted buyer has at least this many completed orders."
    )
    trusted_max_refund_rate_bps: Bps = Field(
        default=2_000,
        description="A trusted buyer's refund requests are at most this share of its completed orders.",
    )
    trusted_min_account_age_days: Count = Field(
        default=90, description="A trusted buyer's first order is at least this old."
    )
    standard_min_completed_orders: Count = Field(
        default=1, description="A standard buyer has completed at least this many orders."
    )
