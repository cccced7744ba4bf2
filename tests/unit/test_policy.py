"""The operator's policy: DESIGN.md §4 defaults, TOML overrides, and refusals naming the key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import ValidationError

from tradeguard.kernel.periods import Period
from tradeguard.policy import Policy, PolicyError, build_policy, load_policy, preset_names

WritePolicy = Callable[..., Path]


@pytest.fixture
def write_policy(tmp_path: Path) -> WritePolicy:
    """Write a TOML policy file in tmp_path and return its path."""

    def write(text: str, name: str = "policy.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


# --- defaults ---------------------------------------------------------------------------------------


def test_default_order_deadlines_equal_design_md_section_4() -> None:
    # when
    orders = load_policy().orders

    # then: the deadline table of DESIGN.md §4, by hand
    assert orders.payment_window == Period.hours(72)
    assert orders.ship_by == Period.hours(72)
    assert orders.auto_confirm_counts_from == "shipment"
    assert orders.auto_confirm_after_shipment == Period.days(10)
    assert orders.auto_confirm_after_delivery == Period.days(3)


def test_default_late_shipment_compensation_is_5_percent_capped_at_30_major_units() -> None:
    orders = load_policy().orders

    assert orders.late_shipment_compensation_bps == 500
    assert orders.late_shipment_compensation_cap_major == 30


def test_default_receipt_extension_is_3_days_once_when_at_most_3_days_remain() -> None:
    orders = load_policy().orders

    assert orders.receipt_extension == Period.days(3)
    assert orders.receipt_extensions_max == 1
    assert orders.receipt_extension_when_remaining == Period.days(3)


def test_default_reminders_are_24_hours_before_ship_by_and_2_days_before_auto_confirm() -> None:
    orders = load_policy().orders

    assert orders.ship_by_reminder_before == Period.hours(24)
    assert orders.auto_confirm_reminder_before == Period.days(2)


def test_the_default_policy_is_the_default_preset_on_the_chinese_calendar() -> None:
    policy = load_policy()

    assert policy == Policy()
    assert policy.preset == "default"
    assert (policy.calendar.country, policy.calendar.timezone) == ("CN", "Asia/Shanghai")
    assert preset_names()[0] == "default"


def test_the_policy_is_immutable() -> None:
    policy = load_policy()

    with pytest.raises(ValidationError):
        policy.orders.platform_fee_bps = 0  # type: ignore[misc]


# --- TOML overrides -------------------------------------------------------------------------------


def test_a_policy_file_overrides_only_the_keys_it_names(write_policy: WritePolicy) -> None:
    # given
    path = write_policy('[orders]\npayment_window = "48h"\nplatform_fee_bps = 300\n')

    # when
    policy = load_policy(path)

    # then
    expected = load_policy().model_dump()
    expected["orders"]["payment_window"] = "48h"
    expected["orders"]["platform_fee_bps"] = 300
    assert policy.model_dump() == expected
    assert policy.orders.payment_window == Period.hours(48)


def test_a_policy_file_overrides_one_key_of_a_section_and_keeps_its_siblings(
    write_policy: WritePolicy,
) -> None:
    # given
    path = write_policy('[calendar]\ntimezone = "Europe/Bucharest"\n')

    # when
    policy = load_policy(str(path))

    # then
    assert policy.calendar.timezone == "Europe/Bucharest"
    assert policy.calendar.country == "CN"
    assert policy.orders == load_policy().orders


def test_an_empty_policy_file_is_the_default_policy(write_policy: WritePolicy) -> None:
    assert load_policy(write_policy("")) == load_policy()


def test_a_policy_file_may_use_working_days_for_deadlines(write_policy: WritePolicy) -> None:
    path = write_policy('[orders]\nship_by = "3wd"\n')

    assert load_policy(path).orders.ship_by == Period.working_days(3)


# --- refusals -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("toml", "key", "why"),
    [
        ('[orders]\nplatform_fee_bps = "300"\n', "orders.platform_fee_bps", "valid integer"),
        ("[orders]\nplatform_fee_bps = 2.5\n", "orders.platform_fee_bps", "valid integer"),
        ("[orders]\nplatform_fee_bps = true\n", "orders.platform_fee_bps", "valid integer"),
        ('[orders]\npayment_window = "3 weeks"\n', "orders.payment_window", "'3 weeks'"),
        ("[orders]\npayment_window = 72\n", "orders.payment_window", "period"),
        (
            "[orders]\nlate_shipment_compensation_bps = -1\n",
            "orders.late_shipment_compensation_bps",
            "greater than or equal to 0",
        ),
        (
            "[orders]\nplatform_fee_bps = 10001\n",
            "orders.platform_fee_bps",
            "less than or equal to 10000",
        ),
        (
            "[orders]\nlate_shipment_compensation_cap_major = -30\n",
            "orders.late_shipment_compensation_cap_major",
            "greater than or equal to 0",
        ),
        (
            '[orders]\nauto_confirm_counts_from = "whenever"\n',
            "orders.auto_confirm_counts_from",
            "'shipment' or 'delivery'",
        ),
        ('[orders]\npayment_windw = "48h"\n', "orders.payment_windw", "unknown key"),
        ('[refunds]\nseller_answer = "24h"\n', "refunds", "unknown key"),
        ('[calendar]\ncountry = "XX"\n', "calendar.country", "'XX'"),
        ('[calendar]\ntimezone = "Mars/Olympus"\n', "calendar.timezone", "IANA time zone"),
        ('orders = "fast"\n', "orders", "valid dictionary"),
    ],
    ids=[
        "bps as string",
        "bps as float",
        "bps as bool",
        "bad period",
        "period as number",
        "negative bps",
        "bps over 100 percent",
        "negative cap",
        "unknown literal",
        "unknown key",
        "unknown section",
        "unknown country",
        "unknown time zone",
        "section not a table",
    ],
)
def test_an_invalid_policy_file_is_refused_naming_the_offending_key(
    write_policy: WritePolicy,
    toml: str,
    key: str,
    why: str,
) -> None:
    # given
    path = write_policy(toml)

    # when
    with pytest.raises(PolicyError) as caught:
        load_policy(path)

    # then
    message = str(caught.value)
    assert message.startswith(f"Invalid policy file {path}: ")
    assert f"{key}: " in message
    assert why in message
    assert caught.value.code == "invalid_policy"


@pytest.mark.parametrize("key", ["fee_account_shards", "max_lines_per_order"])
@pytest.mark.parametrize("value", ["true", '"16"', "16.0"], ids=["bool", "string", "float"])
def test_every_integer_key_refuses_a_value_of_the_wrong_type(
    write_policy: WritePolicy, key: str, value: str
) -> None:
    # given: `fee_account_shards = true` would silently mean one shard
    path = write_policy(f"[orders]\n{key} = {value}\n")

    # when / then
    with pytest.raises(PolicyError, match=rf"orders\.{key}: "):
        load_policy(path)


def test_every_offending_key_is_named_at_once(write_policy: WritePolicy) -> None:
    path = write_policy('[orders]\npayment_window = "soon"\nplatform_fee_bps = -5\ntypo = 1\n')

    with pytest.raises(PolicyError) as caught:
        load_policy(path)

    message = str(caught.value)
    for key in ("orders.payment_window", "orders.platform_fee_bps", "orders.typo"):
        assert key in message


@pytest.mark.parametrize("key", ["ship_by_reminder_before", "auto_confirm_reminder_before"])
def test_reminder_lead_times_refuse_working_days(write_policy: WritePolicy, key: str) -> None:
    # given
    path = write_policy(f'[orders]\n{key} = "2wd"\n')

    # when / then
    with pytest.raises(PolicyError, match=rf"orders\.{key}: .*not working days"):
        load_policy(path)


def test_the_receipt_extension_window_refuses_working_days(write_policy: WritePolicy) -> None:
    path = write_policy('[orders]\nreceipt_extension_when_remaining = "3wd"\n')

    with pytest.raises(PolicyError, match=r"orders\.receipt_extension_when_remaining: "):
        load_policy(path)


def test_a_missing_policy_file_is_a_clear_policy_error(tmp_path: Path) -> None:
    # given
    path = tmp_path / "nowhere.toml"

    # when / then
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert str(caught.value) == f"Policy file {path} does not exist."


def test_a_policy_file_that_is_not_toml_is_a_clear_policy_error(write_policy: WritePolicy) -> None:
    path = write_policy('[orders\npayment_window = "48h"\n')

    with pytest.raises(PolicyError) as caught:
        load_policy(path)

    message = str(caught.value)
    assert message.startswith(f"Policy file {path} is not valid TOML: ")
    assert "line 1" in message


def test_an_unknown_preset_is_refused_listing_the_known_ones() -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy(preset="no-such-preset")

    message = str(caught.value)
    assert "'no-such-preset'" in message
    assert f"choose one of: {', '.join(preset_names())}." in message
    assert "default" in message


def test_the_default_preset_may_be_named() -> None:
    assert load_policy(preset="default") == load_policy()


def test_build_policy_names_its_source_in_the_error() -> None:
    with pytest.raises(PolicyError, match=r"Invalid policy operator settings: orders\.ship_by: "):
        build_policy({"orders": {"ship_by": "tomorrow"}}, source="operator settings")
