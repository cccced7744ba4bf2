"""The examples in the domain modules' docstrings still run as written."""

from __future__ import annotations

import doctest
import importlib

import pytest

# kernel.ids carries no doctests; every module listed here does.
MODULES_WITH_DOCTESTS = [
    "tradeguard.kernel.money",
    "tradeguard.kernel.periods",
    "tradeguard.deadlines.model",
    "tradeguard.deadlines.service",
    "tradeguard.ledger.model",
    "tradeguard.orders.rules",
]


@pytest.mark.parametrize("name", MODULES_WITH_DOCTESTS)
def test_module_doctests_pass(name: str) -> None:
    # given
    module = importlib.import_module(name)

    # when
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)

    # then
    assert result.attempted > 0, f"{name} lost its doctests"
    assert result.failed == 0
