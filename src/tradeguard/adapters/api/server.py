"""Building the API from the environment, for `tradeguard serve` (and uvicorn's worker processes).

uvicorn starts each worker process by importing :func:`app_from_environment`;
``serve`` passes its options down in ``TRADEGUARD_*`` variables so every
process wires itself the same way.
"""

from __future__ import annotations

import os

from tradeguard.adapters.api.app import configure_logging, create_api
from tradeguard.adapters.api.gateway import Gateway
from tradeguard.bootstrap import build_app
from tradeguard.policy import Policy, load_policy


def dev_policy(policy: Policy) -> Policy:
    """The policy with development conveniences: webhooks may target localhost."""
    return policy.model_copy(
        update={"webhooks": policy.webhooks.model_copy(update={"allow_localhost": True})}
    )


def app_from_environment() -> Gateway:
    """The ASGI app configured from TRADEGUARD_* variables (see `tradeguard serve --help`)."""
    configure_logging()
    policy = load_policy(
        os.environ.get("TRADEGUARD_POLICY") or None,
        os.environ.get("TRADEGUARD_POLICY_PRESET") or None,
    )
    if os.environ.get("TRADEGUARD_DEV") == "1":
        policy = dev_policy(policy)
    pool = int(os.environ.get("TRADEGUARD_POOL_SIZE", "20"))
    app = build_app(
        os.environ.get("TRADEGUARD_DATABASE_URL") or None, policy=policy, pool_size=pool
    )
    return create_api(
        app,
        background=os.environ.get("TRADEGUARD_BACKGROUND", "1") == "1",
        inline=os.environ.get("TRADEGUARD_INLINE") == "1",
    )
