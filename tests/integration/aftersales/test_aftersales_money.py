"""DESIGN.md §5 money rules: amount and return shipping per reason, where the money comes from,
advances and their recovery, freight insurance, carrier claims, payout holds."""

from __future__ import annotations

import pytest

from tradeguard.aftersales.errors import RefundAmountInvalid
from tradeguard.aftersales.model import RefundKind, RefundReason, RefundState
from tradeguard.kernel.parties import buyer, seller
from tradeguard.orders.model import OrderState
from tradeguard.orders.settlement import PayoutHeld

K, R, S = RefundKind, RefundReason, RefundState
FEE = 200  # the default 2 % platform fee on 100.00


def _return(shop, order_id, reason, *, postage=0, outbound=0, serials=(), **kwargs):
    request = shop.request(order_id, K.RETURN_AND_REFUND, reason, **kwargs)
    shop.app.aftersales.agree(request.id, seller("s1"), outbound_shipping_minor=outbound)
    shop.app.aftersales.ship_return(
        request.id,
        buyer("b1"),
        carrier="YTO",
        tracking_number="YT1",
        serial_numbers=serials,
        shipping_minor=postage,
    )
    return shop.app.aftersales.confirm_return(request.id, seller("s1"))


def test_after_completion_the_refund_comes_from_the_sellers_available_balance(shop) -> None:
    # given
    order_id = shop.completed_order(price=10_000)
    assert shop.balance("seller:s1:available") == 10_000 - FEE
    # when
    refunded = _return(shop, order_id, R.QUALITY_PROBLEM, amount=5_000)
    # then
    assert refunded.refund_source == "seller_available"
    assert shop.balance("seller:s1:available") == 10_000 - FEE - 5_000
    assert shop.order(order_id).state == OrderState.COMPLETED


def test_a_seller_short_of_money_gets_the_refund_advanced_and_owes_it(shop) -> None:
    # given a seller who withdrew everything, and a funded compensation fund
    shop.fund()
    order_id = shop.completed_order(price=10_000)
    shop.app.payouts.request("s1", 10_000 - FEE, "CNY", seller("s1"))
    # when
    refunded = _return(shop, order_id, R.QUALITY_PROBLEM, amount=10_000)
    # then
    assert refunded.refund_source == "advance"
    assert shop.balance("platform:receivable:seller:s1") == -10_000
    with pytest.raises(PayoutHeld):
        shop.app.payouts.request("s1", 1, "CNY", seller("s1"))


def test_an_advance_is_recovered_from_the_sellers_later_releases(shop) -> None:
    # given an advance of 3 000 against s1
    shop.fund()
    first = shop.completed_order(price=3_000)
    shop.app.payouts.request("s1", 3_000 - 60, "CNY", seller("s1"))
    _return(shop, first, R.QUALITY_PROBLEM, amount=3_000)
    assert shop.balance("platform:receivable:seller:s1") == -3_000
    # when the seller completes another sale
    shop.completed_order(buyer_id="b2", price=10_000)
    # then the advance is repaid first
    assert shop.balance("platform:receivable:seller:s1") == 0
    assert shop.balance("seller:s1:available") == 10_000 - FEE - 3_000


def test_no_reason_return_gives_back_the_goods_but_not_the_shipping_the_buyer_paid(shop) -> None:
    order_id = shop.shipped_order(price=10_000, shipping=1_000)
    refunded = _return(shop, order_id, R.NO_REASON, amount=10_000)
    assert refunded.refunded_minor == 10_000
    assert refunded.return_shipping_payer == "buyer"
    # what is left (the buyer's outbound shipping) goes to the seller when the order completes
    assert shop.balance(f"escrow:order:{order_id}") == 1_000


def test_free_shipping_no_reason_refund_deducts_the_outbound_shipping(shop) -> None:
    order_id = shop.shipped_order(price=10_000, shipping=0)
    refunded = _return(shop, order_id, R.NO_REASON, amount=10_000, outbound=800)
    assert refunded.outbound_shipping_deduction_minor == 800
    assert refunded.refunded_minor == 9_200
    assert shop.balance(f"escrow:order:{order_id}") == 800


def test_outbound_shipping_is_not_deducted_when_the_seller_is_at_fault(shop) -> None:
    order_id = shop.shipped_order(price=10_000, shipping=0)
    refunded = _return(shop, order_id, R.QUALITY_PROBLEM, outbound=800)
    assert refunded.refunded_minor == 10_000


def test_seller_at_fault_pays_the_buyers_return_postage(shop) -> None:
    # given a seller with money from an earlier sale
    shop.completed_order(buyer_id="b0", price=10_000)
    order_id = shop.shipped_order(price=10_000)
    # when
    refunded = _return(shop, order_id, R.NOT_AS_DESCRIBED, postage=1_200)
    # then the buyer gets the price back and the postage from the seller
    assert refunded.return_shipping_reimbursed_minor == 1_200
    assert shop.balance("seller:s1:available") == 10_000 - FEE - 1_200
    assert shop.balance("buyer:b1:funding") == 1_200


def test_buyer_paid_return_is_reimbursed_by_freight_insurance_up_to_its_cap(shop) -> None:
    order_id = shop.shipped_order(price=10_000)
    refunded = _return(shop, order_id, R.NO_REASON, postage=4_000, freight_insured=True)
    assert refunded.return_shipping_reimbursed_minor == 2_500
    assert shop.balance("insurer:freight") == -2_500
    assert shop.balance("buyer:b1:funding") == 2_500


def test_buyer_paid_return_without_insurance_is_not_reimbursed(shop) -> None:
    order_id = shop.shipped_order(price=10_000)
    refunded = _return(shop, order_id, R.NO_REASON, postage=1_000)
    assert refunded.return_shipping_reimbursed_minor == 0
    assert shop.balance("buyer:b1:funding") == 0


def test_damage_in_transit_becomes_a_claim_against_the_carrier(shop) -> None:
    order_id = shop.shipped_order(price=10_000)
    refunded = _return(shop, order_id, R.DAMAGED_IN_TRANSIT)
    assert refunded.carrier_claim_minor == 10_000
    assert shop.balance("carrier:SF:claims") == -10_000
    assert shop.balance("seller:s1:available") == 10_000


def test_lost_parcel_refund_only_becomes_a_claim_against_the_carrier(shop) -> None:
    order_id = shop.shipped_order(price=10_000)
    request = shop.request(order_id, K.REFUND_ONLY, R.LOST_IN_TRANSIT)
    refunded = shop.app.aftersales.agree(request.id, seller("s1"))
    assert refunded.refunded_minor == 10_000
    assert shop.balance("carrier:SF:claims") == -10_000


def test_a_refund_is_paid_once_even_if_two_requests_follow_each_other(shop) -> None:
    shop.fund()
    order_id = shop.completed_order(price=10_000)
    first = shop.request(order_id, K.PARTIAL_REFUND, R.QUALITY_PROBLEM, amount=6_000)
    shop.app.aftersales.agree(first.id, seller("s1"))
    # the second may ask only for what is left
    with pytest.raises(RefundAmountInvalid):
        shop.request(order_id, K.REFUND_ONLY, R.QUALITY_PROBLEM, amount=4_001)
    second = shop.request(order_id, K.REFUND_ONLY, R.QUALITY_PROBLEM, amount=4_000)
    shop.app.aftersales.agree(second.id, seller("s1"))
    assert shop.balance("buyer:b1:funding") == 0
