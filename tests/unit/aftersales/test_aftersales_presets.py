"""DESIGN.md §5 policy presets: taobao, aliexpress and ebay carry every order and after-sales number."""

from __future__ import annotations

import tomllib
from importlib import resources

import pytest

from tradeguard.aftersales.model import REFUND_TRANSITIONS, RefundState
from tradeguard.aftersales.policy import AfterSalesPolicy
from tradeguard.kernel.periods import Period
from tradeguard.orders.policy import OrderPolicy
from tradeguard.policy import PolicyError, load_policy, preset_names


@pytest.mark.parametrize("name", ["taobao", "aliexpress", "ebay"])
def test_each_preset_names_every_order_and_after_sales_number(name: str) -> None:
    # given
    text = resources.files("tradeguard").joinpath("presets", f"{name}.toml").read_text("utf-8")
    data = tomllib.loads(text)
    # then
    assert set(data["orders"]) >= set(OrderPolicy.model_fields) - {
        "fee_account_shards",
        "max_lines_per_order",
    }
    assert set(data["aftersales"]) >= set(AfterSalesPolicy.model_fields) - {
        "freight_insurer",
        "trusted_min_completed_orders",
        "trusted_max_refund_rate_bps",
        "trusted_min_account_age_days",
        "standard_min_completed_orders",
    }
    assert load_policy(preset=name).preset == name


def test_presets_are_selectable_by_name() -> None:
    assert {"taobao", "aliexpress", "ebay"} <= set(preset_names())
    with pytest.raises(PolicyError):
        load_policy(preset="nope")


def test_aliexpress_gives_sellers_5_days_to_answer_and_buyers_10_days_to_ship_a_return() -> None:
    policy = load_policy(preset="aliexpress").aftersales
    assert policy.answer_not_shipped == policy.answer_refund_only == policy.answer_return
    assert policy.answer_return == Period.days(5)
    assert policy.return_shipment == Period.days(10)


def test_ebay_counts_3_business_days_to_answer_and_5_to_ship_a_return() -> None:
    policy = load_policy(preset="ebay")
    assert policy.aftersales.answer_return == Period.working_days(3)
    assert policy.aftersales.return_shipment == Period.working_days(5)
    assert policy.orders.auto_confirm_counts_from == "delivery"


def test_taobao_is_designs_defaults() -> None:
    assert load_policy(preset="taobao").aftersales == AfterSalesPolicy()


def test_a_policy_file_overrides_a_preset(tmp_path) -> None:
    file = tmp_path / "policy.toml"
    file.write_text('[aftersales]\nreturn_shipment = "14d"\n', encoding="utf-8")
    policy = load_policy(file, preset="aliexpress").aftersales
    assert policy.return_shipment == Period.days(14)
    assert policy.answer_return == Period.days(5)


def test_the_refund_machine_has_designs_states_and_ends() -> None:
    assert {s.value for s in RefundState} >= {
        "requested",
        "seller_agreed",
        "awaiting_return",
        "return_shipped",
        "refunded",
        "seller_refused",
        "escalated",
        "closed",
    }
    assert REFUND_TRANSITIONS.final == {
        RefundState.REFUNDED,
        RefundState.EXCHANGED,
        RefundState.CLOSED,
    }
