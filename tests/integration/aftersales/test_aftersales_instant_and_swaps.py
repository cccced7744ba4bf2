"""DESIGN.md §5 instant refunds (极速退款) for high-tier buyers, and swapped returns (seed 001)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tradeguard.aftersales.errors import RefundAmountInvalid
from tradeguard.aftersales.model import (
    BuyerHistory,
    BuyerTier,
    RefundKind,
    RefundReason,
    RefundState,
)
from tradeguard.aftersales.policy import AfterSalesPolicy
from tradeguard.aftersales.tier import buyer_tier
from tradeguard.kernel.parties import buyer, seller
from tradeguard.orders.model import OrderState

K, R, S = RefundKind, RefundReason, RefundState


def _trusted_buyer(shop, buyer_id: str = "b1") -> None:
    for _ in range(10):
        shop.completed_order(buyer_id=buyer_id, seller_id="s9", price=1_000)
    shop.clock.advance(timedelta(days=91))


def _returned(shop, order_id, serials=()):
    request = shop.request(order_id, K.RETURN_AND_REFUND, R.QUALITY_PROBLEM)
    shop.app.aftersales.agree(request.id, seller("s1"))
    return shop.app.aftersales.ship_return(
        request.id, buyer("b1"), carrier="YTO", tracking_number="YT9", serial_numbers=serials
    )


def test_trusted_buyer_is_refunded_from_the_fund_as_soon_as_the_return_has_tracking(shop) -> None:
    # given
    shop.fund()
    _trusted_buyer(shop)
    assert shop.app.aftersales.tier("b1") == "trusted"
    order_id = shop.shipped_order(price=10_000)
    # when
    shipped = _returned(shop, order_id)
    # then the buyer has the money before the parcel arrives
    assert shipped.instant_refunded_minor == 10_000
    assert shop.balance("platform:compensation_fund") == 1_000_000 - 10_000
    assert shop.balance(f"escrow:order:{order_id}") == 10_000
    assert "refund.instant_refunded" in shop.event_types(order_id)


def test_instant_refund_is_recovered_from_escrow_when_the_seller_confirms_the_parcel(shop) -> None:
    # given
    shop.fund()
    _trusted_buyer(shop)
    order_id = shop.shipped_order(price=10_000)
    request = _returned(shop, order_id)
    buyer_before = shop.balance("buyer:b1:funding")
    # when
    refunded = shop.app.aftersales.confirm_return(request.id, seller("s1"))
    # then the fund is whole again and the buyer was not paid twice
    assert refunded.state == S.REFUNDED
    assert refunded.instant_recovered
    assert shop.balance("platform:compensation_fund") == 1_000_000
    assert shop.balance("buyer:b1:funding") == buyer_before
    assert shop.order(order_id).state == OrderState.CLOSED


def test_instant_refund_after_completion_is_recovered_from_the_seller(shop) -> None:
    shop.fund()
    _trusted_buyer(shop)
    order_id = shop.completed_order(price=10_000)
    request = _returned(shop, order_id)
    shop.app.aftersales.confirm_return(request.id, seller("s1"))
    assert shop.balance("platform:compensation_fund") == 1_000_000
    # the seller's 98.00 available is taken and the 2.00 short becomes a receivable
    assert shop.balance("seller:s1:available") == 0
    assert shop.balance("platform:receivable:seller:s1") == -200


def test_new_buyer_waits_for_the_parcel(shop) -> None:
    shop.fund()
    order_id = shop.shipped_order(price=10_000)
    shipped = _returned(shop, order_id)
    assert shipped.instant_refunded_minor == 0
    assert shop.balance("platform:compensation_fund") == 1_000_000


def test_buyer_tier_from_completed_orders_refund_rate_and_account_age() -> None:
    policy = AfterSalesPolicy()
    assert buyer_tier(BuyerHistory(10, 2, 90), policy) == BuyerTier.TRUSTED
    assert buyer_tier(BuyerHistory(10, 3, 90), policy) == BuyerTier.STANDARD
    assert buyer_tier(BuyerHistory(10, 0, 89), policy) == BuyerTier.STANDARD
    assert buyer_tier(BuyerHistory(9, 0, 900), policy) == BuyerTier.STANDARD
    assert buyer_tier(BuyerHistory(20, 0, 900, disputes_lost=1), policy) == BuyerTier.STANDARD
    assert buyer_tier(BuyerHistory(0, 0, 900), policy) == BuyerTier.NEW


def test_returned_serials_that_differ_are_flagged_and_held_from_auto_refund(shop) -> None:
    # given a hard drive shipped with its serial number (seed 001's JD swap ring)
    order_id = shop.shipped_order(serials=("WD-123",))
    request = _returned(shop, order_id, serials=("WD-999",))
    # then
    assert request.serial_mismatch
    assert "refund.serial_mismatch" in shop.event_types(order_id)
    # the seller-confirm deadline passes without an automatic refund
    shop.advance(timedelta(days=11))
    assert shop.refund(request.id).state == S.RETURN_SHIPPED
    assert shop.balance(f"escrow:order:{order_id}") == 10_000
    # and the seller may reject the parcel
    rejected = shop.app.aftersales.reject_return(request.id, seller("s1"), "serial differs")
    assert rejected.state == S.SELLER_REFUSED


def test_swapped_return_gets_no_instant_refund(shop) -> None:
    shop.fund()
    _trusted_buyer(shop)
    order_id = shop.shipped_order(serials=("WD-123",))
    request = _returned(shop, order_id, serials=())
    assert request.serial_mismatch
    assert request.instant_refunded_minor == 0


def test_matching_serials_auto_refund_when_the_seller_is_silent(shop) -> None:
    order_id = shop.shipped_order(serials=("WD-1", "WD-2"))
    request = _returned(shop, order_id, serials=("WD-2", "WD-1"))
    assert not request.serial_mismatch
    shop.advance(timedelta(days=10))
    assert shop.refund(request.id).state == S.REFUNDED


def test_an_instant_refund_whose_return_was_rejected_is_never_refunded_again(shop) -> None:
    # given a trusted buyer refunded instantly, whose return the seller then rejected
    shop.fund()
    _trusted_buyer(shop)
    order_id = shop.shipped_order(price=10_000)
    request = _returned(shop, order_id)
    shop.app.aftersales.reject_return(request.id, seller("s1"), "empty box")
    shop.app.aftersales.withdraw(request.id, buyer("b1"))
    # when the buyer asks again for the same money
    with pytest.raises(RefundAmountInvalid):
        shop.request(order_id, K.REFUND_ONLY, R.NOT_AS_DESCRIBED, amount=1)
