"""The pure order rules of DESIGN.md §4: carts, purchase limits, compensation, fees, extensions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeguard.kernel.errors import TradeGuardError, ValidationFailed
from tradeguard.kernel.money import Money
from tradeguard.kernel.periods import Period, WorkingCalendar
from tradeguard.orders.errors import MixedGoodsKinds, PurchaseLimitExceeded
from tradeguard.orders.model import GoodsKind, Listing, Order, OrderState
from tradeguard.orders.policy import OrderPolicy
from tradeguard.orders.rules import (
    CartLine,
    auto_confirm_due_on_delivery,
    auto_confirm_due_on_shipment,
    check_purchase_limit,
    extension_allowed,
    fee_account,
    late_shipment_compensation,
    platform_fee,
    split_cart,
)

FAST = settings(max_examples=200, deadline=None, database=None)
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

ListingFactory = Callable[..., Listing]
OrderFactory = Callable[..., Order]


@pytest.fixture
def make_listing() -> ListingFactory:
    """A physical listing of seller s1 with no purchase limit, unless overridden."""

    def factory(**overrides: Any) -> Listing:
        fields: dict[str, Any] = {
            "id": "lst_1",
            "seller_id": "s1",
            "title": "USB cable",
            "goods_kind": GoodsKind.PHYSICAL,
            "purchase_limit_per_buyer": None,
            "created_at": NOW,
            "updated_at": NOW,
        }
        fields.update(overrides)
        return Listing(**fields)

    return factory


@pytest.fixture
def make_order() -> OrderFactory:
    """A paid CNY 100.00 physical order with the default 2 % fee, unless overridden."""

    def factory(**overrides: Any) -> Order:
        fields: dict[str, Any] = {
            "id": "ord_1",
            "payment_group_id": "pg_1",
            "buyer_id": "b1",
            "seller_id": "s1",
            "currency": "CNY",
            "goods_kind": GoodsKind.PHYSICAL,
            "state": OrderState.PAID,
            "subtotal_minor": 10_000,
            "shipping_fee_minor": 0,
            "fee_bps": 200,
            "created_at": NOW,
            "updated_at": NOW,
        }
        fields.update(overrides)
        fields.setdefault("paid_minor", fields["subtotal_minor"] + fields["shipping_fee_minor"])
        return Order(**fields)

    return factory


@pytest.fixture
def catalogue(make_listing: ListingFactory) -> dict[str, Listing]:
    """Listings of three sellers: s1 and s2 sell physical goods, s3 a virtual top-up."""
    listings = [
        make_listing(id="cable", seller_id="s1"),
        make_listing(id="charger", seller_id="s1"),
        make_listing(id="case", seller_id="s2"),
        make_listing(id="topup", seller_id="s3", goods_kind=GoodsKind.VIRTUAL),
        make_listing(id="gift_card", seller_id="s1", goods_kind=GoodsKind.VIRTUAL),
    ]
    return {listing.id: listing for listing in listings}


def line(listing_id: str, quantity: int = 1, unit_price_minor: int = 1000) -> CartLine:
    return CartLine(listing_id, quantity, unit_price_minor)


# --- split_cart ---------------------------------------------------------------------------------------


def test_split_cart_makes_one_part_per_seller(catalogue: dict[str, Listing]) -> None:
    # given
    cart = [line("cable", 2, 1500), line("case", 1, 2000), line("charger", 1, 4900)]

    # when
    parts = split_cart(cart, catalogue, {}, max_lines=100)

    # then
    assert [p.seller_id for p in parts] == ["s1", "s2"]
    s1, s2 = parts
    assert [cart_line.listing_id for cart_line, _ in s1.lines] == ["cable", "charger"]
    assert [listing.id for _, listing in s1.lines] == ["cable", "charger"]
    assert s1.subtotal_minor == 2 * 1500 + 4900
    assert s2.subtotal_minor == 2000
    assert (s1.goods_kind, s2.goods_kind) == (GoodsKind.PHYSICAL, GoodsKind.PHYSICAL)


def test_split_cart_orders_sellers_by_first_appearance(catalogue: dict[str, Listing]) -> None:
    # given: s2 first, then s3, then s1, then s2 again
    cart = [line("case"), line("topup"), line("cable"), line("case", 3)]

    # when
    parts = split_cart(cart, catalogue, {}, max_lines=100)

    # then
    assert [p.seller_id for p in parts] == ["s2", "s3", "s1"]
    assert [cart_line.quantity for cart_line, _ in parts[0].lines] == [1, 3]


def test_split_cart_lets_different_sellers_sell_different_kinds(
    catalogue: dict[str, Listing],
) -> None:
    parts = split_cart([line("cable"), line("topup")], catalogue, {}, max_lines=100)

    assert [p.goods_kind for p in parts] == [GoodsKind.PHYSICAL, GoodsKind.VIRTUAL]


def test_split_cart_refuses_one_seller_mixing_physical_and_virtual_goods(
    catalogue: dict[str, Listing],
) -> None:
    # given: seller s1's cable (physical) and gift card (virtual)
    cart = [line("cable"), line("gift_card")]

    # when / then
    with pytest.raises(MixedGoodsKinds, match="s1"):
        split_cart(cart, catalogue, {}, max_lines=100)


def test_split_cart_gives_each_seller_its_own_shipping_fee(catalogue: dict[str, Listing]) -> None:
    parts = split_cart([line("cable"), line("case")], catalogue, {"s2": 800}, max_lines=100)

    assert [p.shipping_fee_minor for p in parts] == [0, 800]


def test_split_cart_refuses_shipping_fees_for_sellers_not_in_the_cart(
    catalogue: dict[str, Listing],
) -> None:
    # given
    fees = {"s1": 500, "s9": 800, "s3": 100}

    # when / then
    with pytest.raises(ValidationFailed, match="s3, s9"):
        split_cart([line("cable")], catalogue, fees, max_lines=100)


def test_split_cart_refuses_a_negative_shipping_fee(catalogue: dict[str, Listing]) -> None:
    with pytest.raises(ValidationFailed, match="Shipping fees cannot be negative"):
        split_cart([line("cable")], catalogue, {"s1": -1}, max_lines=100)


@pytest.mark.parametrize("quantity", [0, -1, -100])
def test_split_cart_refuses_quantities_that_are_not_positive(
    catalogue: dict[str, Listing], quantity: int
) -> None:
    with pytest.raises(ValidationFailed, match="Quantities must be positive") as caught:
        split_cart([line("cable"), line("case", quantity)], catalogue, {}, max_lines=100)

    assert caught.value.details == {"listing_id": "case"}


def test_split_cart_refuses_a_negative_unit_price(catalogue: dict[str, Listing]) -> None:
    with pytest.raises(ValidationFailed, match="Unit prices cannot be negative"):
        split_cart([line("cable", 1, -1)], catalogue, {}, max_lines=100)


def test_split_cart_refuses_more_lines_than_the_policy_allows(
    catalogue: dict[str, Listing],
) -> None:
    # given
    cart = [line("cable")] * 4

    # when / then
    assert len(split_cart(cart[:3], catalogue, {}, max_lines=3)) == 1
    with pytest.raises(ValidationFailed, match="at most 3 lines"):
        split_cart(cart, catalogue, {}, max_lines=3)


def test_split_cart_refuses_an_empty_cart(catalogue: dict[str, Listing]) -> None:
    with pytest.raises(ValidationFailed, match="at least one line"):
        split_cart([], catalogue, {}, max_lines=100)


def test_split_cart_refuses_an_order_that_costs_nothing(catalogue: dict[str, Listing]) -> None:
    with pytest.raises(ValidationFailed, match="must cost something"):
        split_cart([line("cable", 1, 0)], catalogue, {}, max_lines=100)


def test_split_cart_accepts_free_goods_with_paid_shipping(catalogue: dict[str, Listing]) -> None:
    parts = split_cart([line("cable", 1, 0)], catalogue, {"s1": 600}, max_lines=100)

    assert (parts[0].subtotal_minor, parts[0].shipping_fee_minor) == (0, 600)


# --- purchase limits (seed 002) -------------------------------------------------------------------


def test_a_second_purchase_of_a_one_per_buyer_listing_is_refused(
    make_listing: ListingFactory,
) -> None:
    # given: seed 002's "one per ID" top-up, already bought once
    listing = make_listing(id="topup", goods_kind=GoodsKind.VIRTUAL, purchase_limit_per_buyer=1)

    # when / then
    with pytest.raises(PurchaseLimitExceeded) as caught:
        check_purchase_limit(listing, already_bought=1, requested=1)
    assert caught.value.details == {"listing_id": "topup", "limit": 1, "already": 1, "requested": 1}
    assert "topup allows 1 per buyer" in str(caught.value)


def test_a_first_purchase_within_the_limit_is_fine(make_listing: ListingFactory) -> None:
    listing = make_listing(purchase_limit_per_buyer=1)

    check_purchase_limit(listing, already_bought=0, requested=1)


def test_one_order_over_the_limit_is_refused(make_listing: ListingFactory) -> None:
    listing = make_listing(purchase_limit_per_buyer=1)

    with pytest.raises(PurchaseLimitExceeded):
        check_purchase_limit(listing, already_bought=0, requested=2)


def test_a_listing_without_a_limit_accepts_any_quantity(make_listing: ListingFactory) -> None:
    listing = make_listing(purchase_limit_per_buyer=None)

    check_purchase_limit(listing, already_bought=10_000, requested=10_000)


# --- late shipment compensation -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subtotal", "shipping", "expected"),
    [
        (10_000, 0, 500),  # 5 % of 100.00
        (10_000, 5_000, 500),  # shipping is not the goods price
        (250, 0, 12),  # 12.5 -> 12, half-even
        (350, 0, 18),  # 17.5 -> 18, half-even
        (60_000, 0, 3000),  # exactly the cap
        (60_010, 0, 3000),  # over the cap
        (1_000_000, 0, 3000),  # 500.00 capped at 30.00 yuan
    ],
)
def test_late_shipment_compensation_is_5_percent_of_goods_price_capped_at_30_yuan(
    make_order: OrderFactory, subtotal: int, shipping: int, expected: int
) -> None:
    # given
    order = make_order(subtotal_minor=subtotal, shipping_fee_minor=shipping)

    # when
    compensation = late_shipment_compensation(order, OrderPolicy())

    # then
    assert compensation == Money(expected, "CNY")


@pytest.mark.parametrize(
    ("currency", "subtotal", "expected"),
    [
        ("JPY", 400, 20),  # 5 % of 400 yen
        ("JPY", 1_000, 30),  # 50 yen capped at 30 yen: the cap is in major units
        ("KWD", 10_000_000, 30_000),  # 30 dinars, three decimals
    ],
)
def test_late_shipment_compensation_caps_in_the_major_unit_of_the_order_currency(
    make_order: OrderFactory, currency: str, subtotal: int, expected: int
) -> None:
    order = make_order(currency=currency, subtotal_minor=subtotal)

    assert late_shipment_compensation(order, OrderPolicy()) == Money(expected, currency)


def test_late_shipment_compensation_follows_the_policy(make_order: OrderFactory) -> None:
    policy = OrderPolicy(
        late_shipment_compensation_bps=1000, late_shipment_compensation_cap_major=5
    )

    assert late_shipment_compensation(make_order(subtotal_minor=4_000), policy).amount_minor == 400
    assert late_shipment_compensation(make_order(subtotal_minor=9_000), policy).amount_minor == 500


@FAST
@given(subtotal=st.integers(min_value=0, max_value=10**12))
def test_late_shipment_compensation_is_the_smaller_of_the_share_and_the_cap(
    subtotal: int,
) -> None:
    # given
    order = Order(
        "ord_1", "pg_1", "b1", "s1", "CNY", GoodsKind.PHYSICAL, OrderState.PAID,
        subtotal, 0, 200, NOW, NOW,
    )  # fmt: skip

    # when
    compensation = late_shipment_compensation(order, OrderPolicy())

    # then
    share = int((Decimal(subtotal) * 500 / 10_000).quantize(Decimal(1), ROUND_HALF_EVEN))
    assert compensation == Money(min(share, 3000), "CNY")


# --- platform fee -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("escrow", "fee_bps", "expected"),
    [
        (10_000, 200, 200),
        (10_025, 200, 200),  # 200.5 -> 200, half-even
        (10_075, 200, 202),  # 201.5 -> 202, half-even
        (250, 500, 12),  # 12.5 -> 12
        (350, 500, 18),  # 17.5 -> 18
        (10_000, 0, 0),
    ],
)
def test_platform_fee_is_bps_of_escrow_rounded_half_even(
    make_order: OrderFactory, escrow: int, fee_bps: int, expected: int
) -> None:
    order = make_order(subtotal_minor=escrow, fee_bps=fee_bps)

    assert platform_fee(order) == Money(expected, "CNY")


def test_platform_fee_is_taken_on_what_escrow_still_holds(make_order: OrderFactory) -> None:
    # given: CNY 100.00 paid, 20.00 refunded to the buyer
    order = make_order(subtotal_minor=10_000, refunded_minor=2_000)

    # when / then: 2 % of 80.00
    assert platform_fee(order) == Money(160, "CNY")


# --- receipt extension ------------------------------------------------------------------------------


def test_extension_is_allowed_once_when_at_most_3_days_remain(make_order: OrderFactory) -> None:
    order = make_order(state=OrderState.SHIPPED)

    assert extension_allowed(order, timedelta(days=3), OrderPolicy())
    assert extension_allowed(order, timedelta(hours=1), OrderPolicy())


def test_extension_is_refused_while_more_than_3_days_remain(make_order: OrderFactory) -> None:
    order = make_order(state=OrderState.SHIPPED)

    assert not extension_allowed(order, timedelta(days=3, seconds=1), OrderPolicy())


def test_a_second_extension_is_refused(make_order: OrderFactory) -> None:
    order = make_order(state=OrderState.SHIPPED, receipt_extensions=1)

    assert not extension_allowed(order, timedelta(days=1), OrderPolicy())


def test_extension_is_refused_while_auto_confirm_is_paused(make_order: OrderFactory) -> None:
    order = make_order(state=OrderState.SHIPPED, auto_confirm_holds=1)

    assert not extension_allowed(order, timedelta(days=1), OrderPolicy())


def test_extension_is_refused_without_a_running_auto_confirm(make_order: OrderFactory) -> None:
    order = make_order(state=OrderState.SHIPPED)

    assert not extension_allowed(order, None, OrderPolicy())


def test_extension_rules_follow_the_policy(make_order: OrderFactory) -> None:
    policy = OrderPolicy(receipt_extensions_max=2, receipt_extension_when_remaining=Period.days(5))
    order = make_order(state=OrderState.SHIPPED, receipt_extensions=1)

    assert extension_allowed(order, timedelta(days=5), policy)
    assert not extension_allowed(replace(order, receipt_extensions=2), timedelta(days=1), policy)


# --- auto-confirm due times ---------------------------------------------------------------------------


def test_auto_confirm_is_10_days_after_shipment_by_default() -> None:
    calendar = WorkingCalendar()

    assert auto_confirm_due_on_shipment(NOW, OrderPolicy(), calendar) == NOW + timedelta(days=10)


def test_auto_confirm_counted_from_delivery_falls_back_to_30_days_after_shipment() -> None:
    policy = OrderPolicy(auto_confirm_counts_from="delivery")

    due = auto_confirm_due_on_shipment(NOW, policy, WorkingCalendar())

    assert due == NOW + timedelta(days=30)


def test_auto_confirm_is_3_days_after_delivery_by_default() -> None:
    calendar = WorkingCalendar()

    assert auto_confirm_due_on_delivery(NOW, OrderPolicy(), calendar) == NOW + timedelta(days=3)


# --- fee account sharding ---------------------------------------------------------------------------


@pytest.mark.parametrize("shards", [0, 1])
def test_one_shard_keeps_one_platform_fee_account(shards: int) -> None:
    assert fee_account("ord_1", shards) == "platform:fees"


def test_fee_account_sharding_is_stable_across_processes() -> None:
    # crc32, not hash(): these values must never change between runs or releases
    assert fee_account("ord_1", 16) == "platform:fees:11"
    assert fee_account("ord_01JH2Q0000000000000000000", 16) == "platform:fees:2"


@FAST
@given(order_id=st.text(min_size=1, max_size=40), shards=st.integers(min_value=2, max_value=64))
def test_fee_account_is_one_of_the_shards_and_the_same_every_time(
    order_id: str, shards: int
) -> None:
    account = fee_account(order_id, shards)

    assert account == fee_account(order_id, shards)
    prefix, shard = account.rsplit(":", 1)
    assert prefix == "platform:fees"
    assert 0 <= int(shard) < shards


def test_fee_accounts_spread_orders_over_every_shard() -> None:
    used = {fee_account(f"ord_{i}", 16) for i in range(1000)}

    assert used == {f"platform:fees:{n}" for n in range(16)}


def test_rule_errors_are_tradeguard_errors_with_stable_codes() -> None:
    assert issubclass(MixedGoodsKinds, TradeGuardError)
    assert MixedGoodsKinds.code == "mixed_goods_kinds"
    assert PurchaseLimitExceeded.code == "purchase_limit_exceeded"
