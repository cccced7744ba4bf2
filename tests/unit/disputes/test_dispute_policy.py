"""DESIGN.md §6: every dispute number is policy, overridable per case type from TOML."""

from __future__ import annotations

import pytest

from tradeguard.disputes.model import CaseType
from tradeguard.kernel.periods import Period
from tradeguard.policy import PolicyError, build_policy, load_policy


def test_defaults_follow_design() -> None:
    disputes = load_policy().disputes
    assert disputes.for_type(CaseType.NOT_RECEIVED).staff_sla == Period.working_days(7)
    assert disputes.for_type(CaseType.BROKEN_PROMISE).staff_sla == Period.working_days(5)
    assert disputes.for_type(CaseType.QUALITY).filing_window_after_completion == Period.days(15)
    assert disputes.response_window == Period.days(3)


def test_one_type_can_be_overridden_and_the_others_keep_their_defaults() -> None:
    policy = build_policy(
        {"disputes": {"types": {"quality": {"staff_sla": "3wd"}}, "appeal_window": "10d"}}
    )
    assert policy.disputes.for_type(CaseType.QUALITY).staff_sla == Period.working_days(3)
    assert policy.disputes.for_type(CaseType.BROKEN_PROMISE).staff_sla == Period.working_days(5)
    assert policy.disputes.appeal_window == Period.days(10)


def test_an_unknown_key_or_type_is_refused_by_name() -> None:
    with pytest.raises(PolicyError, match=r"disputes\.respons_window"):
        build_policy({"disputes": {"respons_window": "3d"}})
    with pytest.raises(PolicyError, match=r"disputes\.types"):
        build_policy({"disputes": {"types": {"fraud": {"staff_sla": "3wd"}}}})
