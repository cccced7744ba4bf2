"""The examples in the after-sales modules' docstrings still run as written."""

from __future__ import annotations

import doctest
import importlib

import pytest


@pytest.mark.parametrize("name", ["tradeguard.aftersales.rules", "tradeguard.aftersales.tier"])
def test_after_sales_doctests_pass(name: str) -> None:
    result = doctest.testmod(
        importlib.import_module(name), optionflags=doctest.NORMALIZE_WHITESPACE
    )
    assert result.attempted > 0, f"{name} lost its doctests"
    assert result.failed == 0
