"""The examples in the messaging, signing and blob modules' docstrings still run as written."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES_WITH_DOCTESTS = [
    "tradeguard.messaging.model",
    "tradeguard.messaging.scan",
    "tradeguard.signing.model",
    "tradeguard.blobs.model",
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
