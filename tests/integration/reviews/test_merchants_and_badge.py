"""DESIGN.md §10 and the trust badge of §9: verification, documents, guarantee, deposit, badge;
and the buyer credit score that unlocks instant refunds."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tradeguard.kernel.errors import Conflict, NotFound, TransitionNotAllowed, ValidationFailed
from tradeguard.kernel.parties import OPERATOR, Actor, Party, seller
from tradeguard.merchants.model import MerchantState
from tradeguard.merchants.validators import USCC_ALPHABET, uscc_check_character

SUPPORT = Party(Actor.SUPPORT, "cs1")
VALID_USCC = "91350100M000100Y43"
DOC = "c" * 64


def _trusted(shop, seller_id: str = "s1") -> None:
    app = shop.app
    app.merchants.submit(seller_id, "Fuzhou Example Trading Co., Ltd.", "CN", VALID_USCC, "phones")
    app.merchants.add_document(seller_id, "business_licence", DOC, "application/pdf", 200_000)
    app.merchants.decide(seller_id, SUPPORT, verify=True)
    app.merchants.set_guarantee(seller_id, enrolled=True)
    app.merchants.post_deposit(seller_id, 100_000, "CNY", "bank-1")


def test_a_merchant_is_verified_with_a_valid_unified_social_credit_code(shop) -> None:
    # when
    _trusted(shop)
    # then
    merchant = shop.app.merchants.get("s1", OPERATOR)
    assert merchant.state == MerchantState.VERIFIED
    assert (merchant.verified_by, merchant.verified_at) == ("support:cs1", shop.clock.now())
    assert [d.sha256 for d in merchant.documents] == [DOC]


@pytest.mark.parametrize(
    "code",
    [
        "91350100M000100Y44",  # check character changed
        "91350100M000100Y4",  # 17 characters
        "91350100M0001O0Y43",  # the letter O is not in the alphabet
        "9135AB00M000100Y43",  # division code not digits
    ],
)
def test_a_corrupted_credit_code_is_refused(shop, code) -> None:
    with pytest.raises(ValidationFailed):
        shop.app.merchants.submit("s1", "Example Co.", "CN", code)


def test_every_single_character_change_of_a_credit_code_is_caught() -> None:
    from tradeguard.merchants.validators import validate_uscc

    for position in range(18):
        for replacement in USCC_ALPHABET:
            if replacement == VALID_USCC[position]:
                continue
            corrupted = VALID_USCC[:position] + replacement + VALID_USCC[position + 1 :]
            with pytest.raises(ValidationFailed):
                validate_uscc(corrupted)
    assert uscc_check_character(VALID_USCC[:17]) == VALID_USCC[17]


def test_other_countries_use_their_own_validator(shop) -> None:
    assert (
        shop.app.merchants.submit("s1", "Example Ltd", "GB", "SC123456").registration_number
        == "SC123456"
    )
    with pytest.raises(ValidationFailed):
        shop.app.merchants.submit("s2", "Example Ltd", "GB", "123")
    with pytest.raises(ValidationFailed):
        shop.app.merchants.submit("s3", "Example GmbH", "ZZ", "HRB 1234")


def test_a_rejected_merchant_resubmits_and_only_staff_verify(shop) -> None:
    shop.app.merchants.submit("s1", "Example Co.", "CN", VALID_USCC)
    with pytest.raises(TransitionNotAllowed):
        shop.app.merchants.decide("s1", OPERATOR, verify=True)
    shop.app.merchants.decide("s1", SUPPORT, verify=False, reason="licence unreadable")
    again = shop.app.merchants.submit("s1", "Example Co.", "CN", VALID_USCC)
    assert again.state == MerchantState.SUBMITTED


def test_only_a_verified_merchant_enrols_in_the_guarantee(shop) -> None:
    shop.app.merchants.submit("s1", "Example Co.", "CN", VALID_USCC)
    with pytest.raises(Conflict):
        shop.app.merchants.set_guarantee("s1", enrolled=True)


def test_the_deposit_is_held_in_the_ledger_once_per_reference(shop) -> None:
    shop.app.merchants.submit("s1", "Example Co.", "CN", VALID_USCC)
    for _ in range(2):
        balance = shop.app.merchants.post_deposit("s1", 50_000, "CNY", "bank-7")
    assert balance == 50_000
    assert shop.app.verify_ledger() == []
    [account] = shop.app.balances("seller:s1:deposit")
    assert account.balance_minor == 50_000


def test_documents_are_sha256_references_with_checked_type_and_size(shop) -> None:
    shop.app.merchants.submit("s1", "Example Co.", "CN", VALID_USCC)
    with pytest.raises(ValidationFailed):
        shop.app.merchants.add_document("s1", "licence", "xyz", "application/pdf", 10)
    with pytest.raises(ValidationFailed):
        shop.app.merchants.add_document("s1", "licence", DOC, "text/html", 10)


def test_a_seller_reads_only_its_own_record(shop) -> None:
    shop.app.merchants.submit("s1", "Example Co.", "CN", VALID_USCC)
    assert shop.app.merchants.get("s1", seller("s1")).seller_id == "s1"
    with pytest.raises(NotFound):
        shop.app.merchants.get("s1", seller("s2"))


def test_the_trust_badge_needs_verification_guarantee_deposit_and_no_severe_violation(shop) -> None:
    # given: nothing yet
    assert shop.app.reputation.trust_badge("s1").missing == (
        "verified",
        "guarantee_enrolled",
        "deposit_posted",
    )
    # when: all three are in place
    _trusted(shop)
    # then
    assert shop.app.reputation.trust_badge("s1").granted
    # when: a severe violation (a 12-point deduction)
    shop.app.units.run(
        lambda uow: shop.app.reputation.deduct_points(uow, "s1", 12, "fake goods", "dispute:d9")
    )
    # then: no badge for 90 days
    assert shop.app.reputation.trust_badge("s1").missing == ("no_severe_violation",)
    shop.clock.advance(timedelta(days=90, seconds=1))
    assert shop.app.reputation.trust_badge("s1").granted


def test_a_deposit_below_the_requirement_earns_no_badge(shop) -> None:
    _trusted(shop, "s1")
    shop.app.merchants.submit("s2", "Other Co.", "CN", VALID_USCC)
    shop.app.merchants.decide("s2", SUPPORT, verify=True)
    shop.app.merchants.set_guarantee("s2", enrolled=True)
    shop.app.merchants.post_deposit("s2", 99_999, "CNY", "bank-2")
    assert shop.app.reputation.trust_badge("s2").missing == ("deposit_posted",)


def test_buyer_credit_grows_with_completed_orders_and_history(shop) -> None:
    # given: a new buyer with one order
    shop.completed_order("b1")
    new = shop.app.reputation.buyer_credit_of("b1")
    assert (new.tier, new.allows_instant_refund) == ("new", False)
    # when: ten completed orders over a year
    for _ in range(9):
        shop.completed_order("b1")
    shop.clock.advance(timedelta(days=365))
    credit = shop.app.reputation.buyer_credit_of("b1")
    # then: 500 + 10 x 6 + 12 months x 5
    assert (credit.score, credit.tier, credit.completed_orders) == (620, "trusted", 10)
    assert credit.allows_instant_refund


def test_refunded_orders_lower_buyer_credit(shop) -> None:
    # given: three completed orders and one refunded in full before shipment
    for _ in range(3):
        shop.completed_order("b1")
    checkout = shop.app.orders.create_checkout("b1", "CNY", [_line()], None)
    order = checkout.orders[0]
    shop.app.orders.confirm_payment(
        order.payment_group_id, order.total_minor, "CNY", "psp-r", OPERATOR
    )
    shop.app.units.run(
        lambda uow: shop.app.orders.refund_from_escrow(
            uow, order.id, order.total_minor, "refund:r1", "not shipped"
        )
    )
    # when
    credit = shop.app.reputation.buyer_credit_of("b1")
    # then: a refund rate of 25 % costs 100 points
    assert credit.refund_rate_bps == 2_500
    assert credit.score == 500 + 3 * 6 - 25 * 4


def _line():
    from tradeguard.orders.rules import CartLine

    return CartLine("s1-item", 1, 5_000)


def test_buyer_credit_is_read_for_a_buyer_only_from_its_own_orders(shop) -> None:
    shop.completed_order("b1")
    assert shop.app.reputation.buyer_credit_of("b2").completed_orders == 0
