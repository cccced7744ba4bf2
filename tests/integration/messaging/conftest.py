"""Fixtures for the messaging integration tests: an App whose blob store lives in the test's tmp dir."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tradeguard.bootstrap import App
from tradeguard.kernel.parties import OPERATOR
from tradeguard.messaging.model import Conversation
from tradeguard.orders.model import GoodsKind
from tradeguard.orders.rules import CartLine
from tradeguard.policy import Policy

AppFactory = Callable[..., App]


@pytest.fixture
def blob_dir(tmp_path: Path) -> Path:
    """Where this test's uploads go."""
    return tmp_path / "blobs"


@pytest.fixture
def policy(policy: Policy, blob_dir: Path) -> Policy:
    """The default policy with the blob store in the test's temporary directory."""
    return policy.model_copy(
        update={"blobs": policy.blobs.model_copy(update={"directory": str(blob_dir)})}
    )


@pytest.fixture
def with_checkpoints_every(make_app: AppFactory, policy: Policy) -> Callable[[int], App]:
    """An App whose conversations are checkpointed every ``n`` messages."""

    def build(n: int) -> App:
        messaging = policy.messaging.model_copy(update={"checkpoint_every": n})
        return make_app(policy=policy.model_copy(update={"messaging": messaging}))

    return build


@pytest.fixture
def conversation(app: App) -> Conversation:
    """A conversation between buyer b1 and seller s1, not tied to an order."""
    return app.messaging.start(OPERATOR, buyer_id="b1", seller_id="s1")


@pytest.fixture
def order_id(app: App) -> str:
    """An order of buyer b1 from seller s1, awaiting payment."""
    app.orders.register_listing("s1-item", "s1", "a phone case", GoodsKind.PHYSICAL)
    checkout = app.orders.create_checkout("b1", "CNY", [CartLine("s1-item", 1, 3_900)])
    return checkout.orders[0].id
