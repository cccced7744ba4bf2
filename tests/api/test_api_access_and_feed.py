"""Access management retries, problem documentation and the event feed over HTTP."""

from __future__ import annotations

import time
from typing import Any

from tradeguard.access.model import Scope, StaffRole


def test_revoking_a_key_twice_answers_with_the_revoked_key_both_times(api) -> None:
    # given
    key_id, plaintext = api.new_key(Scope.ORDERS)
    # when
    first = api.ok(api.delete(f"/v1/api-keys/{key_id}"))
    again = api.ok(api.delete(f"/v1/api-keys/{key_id}"))
    # then: the retry changes nothing, and the key stays refused
    assert first["revoked_at"] is not None
    assert again == first
    api.problem(api.get("/v1/orders", auth=plaintext), 401, "invalid_credentials")


def test_revoking_an_unknown_key_is_not_found(api) -> None:
    api.problem(api.delete("/v1/api-keys/key_nope"), 404, "not_found")


def test_disabling_a_staff_account_twice_is_not_an_error(api) -> None:
    # given
    staff = api.new_staff(StaffRole.SUPPORT)
    # when
    first = api.ok(api.delete(f"/v1/staff/{staff.id}"))
    again = api.ok(api.delete(f"/v1/staff/{staff.id}"))
    # then
    assert first["disabled_at"] is not None
    assert again == first
    refused = api.problem(api.get("/v1/staff/me", auth=staff.token), 401, "invalid_credentials")
    assert "disabled" in refused["detail"]


def test_a_domain_problem_page_gives_its_status(api) -> None:
    # when
    page = api.ok(api.get("/problems/transition_not_allowed", auth=api.NOBODY))
    # then
    assert page["status"] == 409
    assert page["code"] == "transition_not_allowed"


def test_health_and_documentation_ignore_a_stale_authorization_header(api) -> None:
    stale = {"Authorization": "Bearer not-a-token"}
    assert api.get("/healthz", auth=api.NOBODY, headers=stale).status_code == 200
    assert api.get("/openapi.json", auth=api.NOBODY, headers=stale).status_code == 200
    assert api.get("/problems/not_found", auth=api.NOBODY, headers=stale).status_code == 200


def test_the_event_feed_names_each_events_order_and_where_to_continue(api) -> None:
    # given: a paid checkout (order.created, order.paid)
    api.listing("case-s1", "s1")
    checkout = api.checkout("b1", [("case-s1", 1, 1500)], {})
    order_id = api.pay(checkout)["orders"][0]["id"]
    # when: polling as a client would (on PostgreSQL an event shows once every transaction
    # that started before it has ended, anywhere on the server)
    page = poll(api, after=0, limit=1)
    rest = poll(api, after=page["next_after"], limit=100)
    end = api.ok(api.get("/v1/events", params={"after": rest["next_after"]}))
    # then
    events = page["data"] + rest["data"]
    assert [e["type"] for e in events] == ["order.created", "order.paid"]
    assert {e["order_id"] for e in events} == {order_id}
    assert events[0]["subject"] == f"order:{order_id}"
    assert page["next_after"] == events[0]["sequence"]
    assert end == {"data": [], "next_after": rest["next_after"]}


def poll(api: Any, *, after: int, limit: int) -> dict[str, Any]:
    """The first non-empty page of the feed after ``after`` (waiting up to 10 s)."""
    give_up = time.monotonic() + 10
    while True:
        page: dict[str, Any] = api.ok(
            api.get("/v1/events", params={"after": after, "limit": limit})
        )
        if page["data"] or time.monotonic() > give_up:
            return page
        time.sleep(0.01)
