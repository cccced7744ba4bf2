"""Structured request logs (issue 3 item 9): one JSON object per line, per request."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
import structlog

from tradeguard.adapters.api.app import configure_logging


@pytest.fixture
def request_log() -> Iterator[io.BytesIO]:
    """The request log, written where `serve` would write it (here: memory).

    `serve` lets loggers keep their configuration once used; here they must not, or the
    gateway's logger would keep writing to this test's stream after it.
    """
    written = io.BytesIO()
    configure_logging(stream=written)
    structlog.configure(cache_logger_on_first_use=False)
    yield written
    structlog.reset_defaults()


def test_each_request_writes_one_json_line_naming_its_route_caller_and_outcome(
    world, request_log: io.BytesIO
) -> None:
    # given
    start = request_log.tell()
    # when
    response = world.api.get(f"/v1/orders/{world.order['id']}/timeline")
    refused = world.api.get("/v1/orders/ord_nope", auth=world.api.NOBODY)
    # then
    lines = [json.loads(line) for line in request_log.getvalue()[start:].splitlines()]
    requests = [line for line in lines if line["event"] == "request"]
    assert [r["status"] for r in requests] == [200, 401]
    ok, stranger = requests
    assert ok["route"] == "/v1/orders/{order_id}/timeline"
    assert ok["path"] == f"/v1/orders/{world.order['id']}/timeline"
    assert ok["request_id"] == response.headers["x-request-id"]
    assert ok["principal"].startswith("operator:")
    assert ok["level"] == "info"
    assert ok["timestamp"].endswith("Z")
    assert ok["duration_ms"] >= 0
    assert stranger["principal"] is None
    assert stranger["route"] == "unmatched"
    assert stranger["request_id"] == refused.headers["x-request-id"]
