"""Every endpoint x every kind of caller: who may call it, and who may see its object.

ONE table, :data:`TABLE`, names every endpoint of the API with its access rule
(DESIGN.md §1 and §15; the check order of STYLE.md §3.7: credentials 401 ->
role or scope 403 -> object visible to the party 404 -> state 409). From a row
and a caller, :func:`expected` derives the outcome, and each endpoint's test
sends the row's request once per caller of :data:`CALLERS`:

* no credentials -> 401;
* an operator key lacking the row's scope (or any key, where operators are not
  admitted) -> 403; a participant or staff role the row does not admit -> 403;
* a buyer or seller the row admits, asking about an object that is not theirs
  -> 404, with nothing of the object in the answer;
* anyone admitted -> neither 401, 403 nor 404 (a 409 or 422 from the object's
  state is fine), and at least one admitted caller gets a 2xx, so a broken
  request body cannot pass for a refusal.

``test_every_route_is_in_the_table`` makes a new endpoint join the table.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, cast

import fastapi.routing
import pytest
from fastapi import FastAPI

from tradeguard.access.model import Scope, StaffRole
from tradeguard.adapters.api.app import create_api
from tradeguard.adapters.api.problems import PROBLEM_JSON
from tradeguard.bootstrap import App
from tradeguard.disputes.model import CaseType, EvidenceKind
from tradeguard.disputes.service import DecisionRequest
from tradeguard.kernel.parties import Actor, Party, buyer, seller
from tradeguard.kernel.parties import Party as MessagingParty
from tradeguard.policy import build_policy

# -- who calls ------------------------------------------------------------------------------------

ANONYMOUS = "anonymous"
OTHER_BUYER, OTHER_SELLER = "other_buyer", "other_seller"  # b2, s2: no part in the object
OWN_BUYER, OWN_SELLER = "own_buyer", "own_seller"  # b1, s1: the object's parties
OPERATOR = "operator"  # an API key with exactly the row's scope
OPERATOR_LACKING = "operator_lacking_scope"  # an API key with every scope but the row's
STAFF_CALLERS: Final = tuple(role.value for role in StaffRole)
CALLERS: Final = (
    ANONYMOUS,
    OTHER_BUYER,
    OTHER_SELLER,
    OWN_BUYER,
    OWN_SELLER,
    OPERATOR,
    OPERATOR_LACKING,
    *STAFF_CALLERS,
)
PARTIES: Final = {
    OTHER_BUYER: "buyer:b2",
    OTHER_SELLER: "seller:s2",
    OWN_BUYER: "buyer:b1",
    OWN_SELLER: "seller:s1",
}

# -- what a row says about participants -----------------------------------------------------------

NO = "no"  #: refused (403)
OWN = "own"  #: admitted for their own object only; anyone else's answers 404
ANY = "any"  #: admitted; the endpoint has no object and shows each party only its own

ALL_STAFF: Final = frozenset(StaffRole)
ADMIN: Final = frozenset({StaffRole.ADMIN})
NO_STAFF: Final[frozenset[StaffRole]] = frozenset()

ALLOWED: Final = 0  #: the expected "status" of an admitted call: anything but 401, 403 and 404
REFUSAL_CODES: Final = {
    401: {"unauthenticated"},
    403: {"forbidden", "missing_scope"},
    404: {"not_found"},
}
#: Every key an RFC 9457 problem document of this API carries.
PROBLEM_FIELDS: Final = frozenset(
    {"type", "title", "status", "detail", "code", "instance", "request_id"}
)


@dataclass(frozen=True)
class Call:
    """The request a row sends: a concrete path and a JSON body."""

    path: str
    json: Any = None


Send = Callable[[Any, str], Call]  # (World, caller) -> Call


@dataclass(frozen=True)
class Rule:
    """One endpoint and who may call it."""

    method: str
    path: str  #: the route's path template
    scope: Scope | None  #: the operator key scope it needs; None: operator keys are refused
    buyer: str  #: NO, OWN or ANY
    seller: str  #: NO, OWN or ANY
    staff: frozenset[StaffRole]  #: the staff roles it admits
    send: Send  #: builds the request, with a valid body, for a caller
    public: bool = False  #: no credentials needed: every caller is admitted

    @property
    def name(self) -> str:
        """``METHOD /path/{template}``."""
        return f"{self.method} {self.path}"


# -- requests: a valid body for each endpoint, against the world's objects ------------------------


def fixed(path: str, json: Any = None) -> Send:
    """The same request for every caller."""
    return lambda world, caller: Call(path, json)


def on_order(attribute: str, action: str = "", json: Any = None) -> Send:
    """A request about one of the world's orders of b1 from s1."""

    def send(world: Any, caller: str) -> Call:
        order_id = getattr(world, attribute)["id"]
        return Call(f"/v1/orders/{order_id}{action}", json)

    return send


def payment(world: Any, caller: str) -> Call:
    group = world.order["payment_group_id"]
    body = {
        "amount_minor": world.order["total_minor"],
        "currency": "CNY",
        "payment_reference": f"psp-{group}",  # the one it was paid with: a harmless repeat
    }
    return Call(f"/v1/payment-groups/{group}/payment", body)


def payout_request(world: Any, caller: str) -> Call:
    assert world.completed_order["state"] == "completed"  # s1 has a balance to pay out
    body: dict[str, Any] = {"amount_minor": 1, "currency": "CNY"}
    if caller not in PARTIES:  # operators (and refused callers) name the seller
        body["seller_id"] = "s1"
    return Call("/v1/payouts", body)


def on_payout(action: str = "", json: Any = None) -> Send:
    return lambda world, caller: Call(f"/v1/payouts/{world.payout['id']}{action}", json)


def staff_login(world: Any, caller: str) -> Call:
    support = world.api.staff(StaffRole.SUPPORT)
    return Call("/v1/staff/sessions", {"email": support.email, "password": support.password})


def new_staff(world: Any, caller: str) -> Call:
    email = f"new-{world.api.number()}@tradeguard.test"
    return Call("/v1/staff", {"email": email, "role": "support", "password": "long enough pw"})


def disable_fresh_staff(world: Any, caller: str) -> Call:
    victim = world.api.app.access.create_staff(
        f"victim-{world.api.number()}@tradeguard.test", StaffRole.SUPPORT, "long enough pw"
    )
    return Call(f"/v1/staff/{victim.id}")


def revoke_fresh_key(world: Any, caller: str) -> Call:
    key_id, _ = world.api.new_key(Scope.ORDERS)
    return Call(f"/v1/api-keys/{key_id}")


def disable_fresh_endpoint(world: Any, caller: str) -> Call:
    endpoint = world.api.app.webhooks.register("http://127.0.0.1:9/victim", ["*"])
    return Call(f"/v1/webhook-endpoints/{endpoint.id}")


def on_endpoint(world: Any, caller: str) -> Call:
    return Call(f"/v1/webhook-endpoints/{world.endpoint['id']}")


def on_delivery(action: str = "") -> Send:
    return lambda world, caller: Call(f"/v1/webhook-deliveries/{world.delivery['id']}{action}")


# -- messaging (issue 5, part A): a conversation of b1 and s1 about the world's order ------------

ATTACHMENT_PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
ATTACHMENT = {"content_type": "image/png", "data_b64": base64.b64encode(ATTACHMENT_PNG).decode()}


def conversation(world: Any) -> dict[str, Any]:
    """The conversation of b1 and s1 about the world's order, with one message and one attachment."""
    if "conversation" not in vars(world):
        app = world.api.app
        chat = app.messaging.start(
            MessagingParty(Actor.OPERATOR),
            buyer_id="b1",
            seller_id="s1",
            order_id=world.order["id"],
        )
        ref = app.blobs.put(ATTACHMENT_PNG, "image/png")
        app.messaging.post(
            MessagingParty(Actor.BUYER, "b1"), chat.id, "photo of the box", attachments=[ref.sha256]
        )
        vars(world)["conversation"] = {"id": chat.id, "attachment": ref.sha256}
    found: dict[str, Any] = vars(world)["conversation"]
    return found


def on_conversation(action: str = "", json: Any = None) -> Send:
    """A request about the world's conversation."""
    return lambda world, caller: Call(
        f"/v1/conversations/{conversation(world)['id']}{action}", json
    )


def on_attachment(world: Any, caller: str) -> Call:
    chat = conversation(world)
    return Call(f"/v1/conversations/{chat['id']}/attachments/{chat['attachment']}")


def start_conversation(world: Any, caller: str) -> Call:
    """Buyers name the seller, sellers the buyer, the operator both."""
    body = {"buyer_id": "b1", "seller_id": "s1"}
    if caller in PARTIES:
        kind = PARTIES[caller].split(":")[0]
        body.pop(f"{kind}_id")
    return Call("/v1/conversations", body)


def post_message(world: Any, caller: str) -> Call:
    """Participants post human messages; the operator a system notice."""
    body: dict[str, Any] = {"text": "已发货,请注意查收"}
    if caller == OPERATOR:
        body["kind"] = "system"
    return Call(f"/v1/conversations/{conversation(world)['id']}/messages", body)


LISTING = {"seller_id": "s1", "title": "Phone case", "goods_kind": "physical"}
CHECKOUT = {
    "buyer_id": "b1",
    "currency": "CNY",
    "lines": [{"listing_id": "phys-s1", "quantity": 1, "unit_price_minor": 500}],
}
SHIPMENT = {"carrier": "SF", "tracking_number": "SF1234567890"}
TOP_UP = {"amount_minor": 100_000, "currency": "CNY", "reference": "bank-20260105-1"}
SCAN = {"status": "in_transit", "occurred_at": "2026-01-05T12:00:00Z", "location": "Hangzhou"}
WEBHOOK = {"url": "http://127.0.0.1:9/hooks", "event_types": ["order.*"]}

# -- after-sales (issue 4): world-building helpers ------------------------------------------------


def _after_sales_request(world: Any, state: str) -> str:
    """A refund request of b1 from s1 in ``state``, on a fresh shipped order (made once per world)."""
    from tradeguard.aftersales.model import RefundKind, RefundReason
    from tradeguard.kernel.parties import buyer, seller

    made: dict[str, str] = vars(world).setdefault("after_sales_requests", {})
    if state in made:
        return made[state]
    service, b1, s1 = world.api.app.aftersales, buyer("b1"), seller("s1")
    order = world.api.shipped_order("b1", "phys-s1")
    kind = RefundKind.EXCHANGE if "exchange" in state else RefundKind.RETURN_AND_REFUND
    request = service.request(
        order["id"], b1, kind=kind, reason=RefundReason.QUALITY_PROBLEM, amount_minor=1_000
    )
    if state == "refused":
        service.refuse(request.id, s1, "the item works")
    if state in ("awaiting_return", "return_shipped", "exchange_returned", "exchange_replaced"):
        service.agree(request.id, s1)
    if state in ("return_shipped", "exchange_returned", "exchange_replaced"):
        service.ship_return(request.id, b1, carrier="YTO", tracking_number="YT1")
    if state == "exchange_replaced":
        service.ship_replacement(request.id, s1, carrier="SF", tracking_number="SF2")
    made[state] = request.id
    return request.id


def on_refund(state: str, action: str = "", json: Any = None) -> Send:
    """A request about a refund request of b1 from s1 in ``state``."""
    return lambda world, caller: Call(
        f"/v1/refunds/{_after_sales_request(world, state)}{action}", json
    )


def new_refund(world: Any, caller: str) -> Call:
    """Ask for a partial refund on a fresh shipped order of b1 from s1."""
    made = vars(world)
    if "refundable_order" not in made:
        made["refundable_order"] = world.api.shipped_order("b1", "phys-s1")
    order = made["refundable_order"]
    body = {"kind": "partial_refund", "reason": "quality_problem", "amount_minor": 100}
    return Call(f"/v1/orders/{order['id']}/refunds", body)


REFUSAL = {"reason": "the item works"}
RETURN = {"carrier": "YTO", "tracking_number": "YT77", "serial_numbers": []}
# -- disputes (issue 5, part B): cases of b1 against s1 in each state, made on first use --------

ARBITRATOR_ONLY: Final = frozenset({StaffRole.ARBITRATOR})
CASE_STAFF: Final = frozenset({StaffRole.SUPPORT, StaffRole.ARBITRATOR})
DISPUTE_PNG: Final = b"\x89PNG\r\n\x1a\n photo of an empty parcel"


@pytest.fixture(autouse=True)
def _blobs_in_a_scratch_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Uploads go to this test's own directory, never the working directory."""
    monkeypatch.setenv("TRADEGUARD_BLOB_DIR", str(tmp_path / "blobs"))


def dispute_case(world: Any, state: str) -> dict[str, Any]:
    """A not-received case of b1 against s1 about a fresh shipped order, brought to ``state``."""
    cache = vars(world).setdefault("dispute_cases", {})
    if state in cache:
        return cast(dict[str, Any], cache[state])
    app = world.api.app
    order = world.api.shipped_order("b1", "phys-s1")
    case = app.disputes.file(buyer("b1"), order["id"], CaseType.NOT_RECEIVED, "never came")
    if state == "with_upload":
        item = app.disputes.stage_evidence(
            case.id,
            buyer("b1"),
            EvidenceKind.PHOTO,
            "parcel",
            content=DISPUTE_PNG,
            content_type="image/png",
        )
        app.disputes.submit_evidence(case.id, buyer("b1"))
        cache[state] = {"id": case.id, "sha256": item.blob_sha256}
        return cast(dict[str, Any], cache[state])
    if state != "awaiting":
        app.disputes.respond(case.id, seller("s1"), "shipped")
        app.disputes.submit_evidence(case.id, buyer("b1"))
        app.disputes.submit_evidence(case.id, seller("s1"))
    if state in ("decided", "appealed"):
        arbitrator = Party(Actor.ARBITRATOR, "stf_matrix")
        app.disputes.decide(case.id, arbitrator, DecisionRequest("dismissed", "no evidence"))
    if state == "appealed":
        app.disputes.appeal(case.id, buyer("b1"), "new facts")
    cache[state] = {"id": case.id, "order_id": order["id"]}
    return cast(dict[str, Any], cache[state])


def on_case(state: str, action: str = "", json: Any = None) -> Send:
    """A request about one of b1's cases against s1 in ``state``."""
    return lambda world, caller: Call(
        f"/v1/disputes/{dispute_case(world, state)['id']}{action}", json
    )


def file_dispute(world: Any, caller: str) -> Call:
    order = world.api.paid_order("b1", "phys-s1")
    if caller in (OWN_SELLER, OTHER_SELLER):
        body = {"order_id": order["id"], "type": "malicious_review", "description": "extortion"}
    else:
        body = {"order_id": order["id"], "type": "not_received", "description": "never came"}
    return Call("/v1/disputes", body)


def chat_quote(world: Any, caller: str) -> Call:
    case = dispute_case(world, "awaiting")
    if "dispute_chat" not in vars(world):
        app = world.api.app
        conversation = app.messaging.start(buyer("b1"), seller_id="s1", order_id=case["order_id"])
        app.messaging.post(buyer("b1"), conversation.id, "where is my parcel?")
        world.dispute_chat = conversation.id
    body = {"conversation_id": world.dispute_chat, "from_seq": 1, "to_seq": 1}
    return Call(f"/v1/disputes/{case['id']}/chat-quotes", body)


def case_attachment(world: Any, caller: str) -> Call:
    case = dispute_case(world, "with_upload")
    return Call(f"/v1/disputes/{case['id']}/attachments/{case['sha256']}")


# -- reviews, reputation and merchants (issue 6): world-building helpers -------------------------

HELD_TEXT = "idiot courier"  # an insult: moderation holds the review for staff
USCC = "91350100M000100Y43"  # a valid unified social credit code (GB 32100-2015)
DOC_SHA = "d" * 64


def _cached(world: Any, name: str, build: Callable[[], Any]) -> Any:
    """A world object made the first time a row asks for it."""
    if name not in vars(world):
        vars(world)[name] = build()
    return vars(world)[name]


def _completed(world: Any) -> dict[str, Any]:
    return _cached(world, "rep_completed", lambda: world.api.completed_order("b1", "phys-s1"))


def _reviewed(world: Any, text: str = "slow but fine") -> Any:
    """A 2-star review of b1's completed order from s1; s1 rated b1, so both see both."""

    def build() -> Any:
        from tradeguard.kernel.parties import buyer, seller
        from tradeguard.reviews.model import Polarity

        order_id = _completed(world)["id"]
        app = world.api.app
        review = app.reviews.post(order_id, buyer("b1"), stars=2, text=text, reason="slow")
        app.reviews.rate_buyer(order_id, seller("s1"), Polarity.POSITIVE)
        return review

    return _cached(world, f"rep_review_{text}", build)


def on_review(action: str = "", json: Any = None, text: str = "slow but fine") -> Send:
    return lambda world, caller: Call(f"/v1/reviews/{_reviewed(world, text).id}{action}", json)


def on_completed(action: str, json: Any = None) -> Send:
    return lambda world, caller: Call(f"/v1/orders/{_completed(world)['id']}{action}", json)


def on_reviewed_order(world: Any, caller: str) -> Call:
    return Call(f"/v1/orders/{_reviewed(world).order_id}/review")


def _merchant(world: Any, state: str = "submitted") -> str:
    def build() -> str:
        from tradeguard.kernel.parties import Actor, Party

        app = world.api.app
        app.merchants.submit("s1", "Fuzhou Example Trading Co., Ltd.", "CN", USCC, "phones")
        if state == "verified":
            app.merchants.decide("s1", Party(Actor.ADMIN, "setup"), verify=True)
        return "s1"

    return str(_cached(world, f"rep_merchant_{state}", build))


def on_merchant(action: str = "", json: Any = None, state: str = "submitted") -> Send:
    return lambda world, caller: Call(f"/v1/merchants/{_merchant(world, state)}{action}", json)


REVIEW = {
    "stars": 5,
    "text": "fast, as described",
    "detailed": {"item_as_described": 5, "communication": 5, "shipping_speed": 4},
}
MERCHANT = {
    "legal_name": "Fuzhou Example Trading Co., Ltd.",
    "country": "CN",
    "registration_number": USCC,
}
DOCUMENT = {
    "kind": "business_licence",
    "sha256": DOC_SHA,
    "content_type": "application/pdf",
    "size_bytes": 1000,
}
DEPOSIT = {"amount_minor": 100_000, "currency": "CNY", "reference": "bank-deposit-1"}
# -- end of issue 6 helpers -----------------------------------------------------------------------

# -- THE TABLE ------------------------------------------------------------------------------------

ORDERS, PAYMENTS, TOKENS, WEBHOOKS = Scope.ORDERS, Scope.PAYMENTS, Scope.TOKENS, Scope.WEBHOOKS
ADMIN_SCOPE = Scope.ADMIN

# fmt: off
TABLE: Final[list[Rule]] = [
    # method    path                                                scope        buyer seller staff     request
    Rule("PUT",    "/v1/listings/{listing_id}",                        ORDERS,      NO,  NO,  NO_STAFF,  fixed("/v1/listings/phys-s1", LISTING)),
    Rule("GET",    "/v1/listings/{listing_id}",                        ORDERS,      NO,  NO,  NO_STAFF,  fixed("/v1/listings/phys-s1")),
    Rule("POST",   "/v1/checkouts",                                    ORDERS,      NO,  NO,  NO_STAFF,  fixed("/v1/checkouts", CHECKOUT)),
    Rule("POST",   "/v1/payment-groups/{payment_group_id}/payment",    PAYMENTS,    NO,  NO,  NO_STAFF,  payment),
    Rule("GET",    "/v1/orders",                                       ORDERS,      ANY, ANY, ALL_STAFF, fixed("/v1/orders")),
    Rule("GET",    "/v1/orders/{order_id}",                            ORDERS,      OWN, OWN, ALL_STAFF, on_order("order")),
    Rule("GET",    "/v1/orders/{order_id}/timeline",                   ORDERS,      OWN, OWN, ALL_STAFF, on_order("order", "/timeline")),
    Rule("POST",   "/v1/orders/{order_id}/ship",                       ORDERS,      NO,  OWN, NO_STAFF,  on_order("order", "/ship", SHIPMENT)),
    Rule("POST",   "/v1/orders/{order_id}/deliveries",                 ORDERS,      NO,  OWN, NO_STAFF,  on_order("virtual_order", "/deliveries", {"detail": "code AB-12 sent"})),
    Rule("POST",   "/v1/orders/{order_id}/tracking-events",            ORDERS,      NO,  NO,  NO_STAFF,  on_order("shipped_order", "/tracking-events", SCAN)),
    Rule("POST",   "/v1/orders/{order_id}/confirm-receipt",            None,        OWN, NO,  NO_STAFF,  on_order("shipped_order", "/confirm-receipt")),
    Rule("POST",   "/v1/orders/{order_id}/extend-receipt",             None,        OWN, NO,  NO_STAFF,  on_order("order_near_auto_confirm", "/extend-receipt")),
    Rule("POST",   "/v1/orders/{order_id}/cancel",                     ORDERS,      OWN, OWN, NO_STAFF,  on_order("order", "/cancel", {"reason": "out of stock"})),
    Rule("POST",   "/v1/orders/{order_id}/late-compensation",          None,        OWN, NO,  NO_STAFF,  on_order("late_order", "/late-compensation")),
    Rule("GET",    "/v1/accounts",                                     PAYMENTS,    ANY, ANY, ALL_STAFF, fixed("/v1/accounts")),
    Rule("POST",   "/v1/payouts",                                      PAYMENTS,    NO,  ANY, NO_STAFF,  payout_request),
    Rule("GET",    "/v1/payouts",                                      PAYMENTS,    NO,  ANY, ALL_STAFF, fixed("/v1/payouts")),
    Rule("GET",    "/v1/payouts/{payout_id}",                          PAYMENTS,    NO,  OWN, ALL_STAFF, on_payout()),
    Rule("POST",   "/v1/payouts/{payout_id}/failure",                  PAYMENTS,    NO,  NO,  NO_STAFF,  on_payout("/failure", {"reason": "account closed"})),
    Rule("GET",    "/v1/payout-holds",                                 PAYMENTS,    NO,  ANY, ALL_STAFF, fixed("/v1/payout-holds?seller_id=s1")),
    Rule("GET",    "/v1/compensation-fund",                            PAYMENTS,    NO,  NO,  ALL_STAFF, fixed("/v1/compensation-fund")),
    Rule("POST",   "/v1/compensation-fund/top-ups",                    PAYMENTS,    NO,  NO,  NO_STAFF,  fixed("/v1/compensation-fund/top-ups", TOP_UP)),
    Rule("POST",   "/v1/tokens",                                       TOKENS,      NO,  NO,  NO_STAFF,  fixed("/v1/tokens", {"party": "buyer:b1"})),
    Rule("POST",   "/v1/staff/sessions",                               None,        ANY, ANY, ALL_STAFF, staff_login, public=True),
    Rule("GET",    "/v1/staff/me",                                     None,        NO,  NO,  ALL_STAFF, fixed("/v1/staff/me")),
    Rule("GET",    "/v1/staff",                                        ADMIN_SCOPE, NO,  NO,  ADMIN,     fixed("/v1/staff")),
    Rule("POST",   "/v1/staff",                                        ADMIN_SCOPE, NO,  NO,  ADMIN,     new_staff),
    Rule("DELETE", "/v1/staff/{staff_id}",                             ADMIN_SCOPE, NO,  NO,  ADMIN,     disable_fresh_staff),
    Rule("GET",    "/v1/api-keys",                                     ADMIN_SCOPE, NO,  NO,  ADMIN,     fixed("/v1/api-keys")),
    Rule("POST",   "/v1/api-keys",                                     ADMIN_SCOPE, NO,  NO,  ADMIN,     fixed("/v1/api-keys", {"name": "reporting", "scopes": ["orders"]})),
    Rule("DELETE", "/v1/api-keys/{key_id}",                            ADMIN_SCOPE, NO,  NO,  ADMIN,     revoke_fresh_key),
    Rule("POST",   "/v1/webhook-endpoints",                            WEBHOOKS,    NO,  NO,  NO_STAFF,  fixed("/v1/webhook-endpoints", WEBHOOK)),
    Rule("GET",    "/v1/webhook-endpoints",                            WEBHOOKS,    NO,  NO,  NO_STAFF,  fixed("/v1/webhook-endpoints")),
    Rule("GET",    "/v1/webhook-endpoints/{endpoint_id}",              WEBHOOKS,    NO,  NO,  NO_STAFF,  on_endpoint),
    Rule("DELETE", "/v1/webhook-endpoints/{endpoint_id}",              WEBHOOKS,    NO,  NO,  NO_STAFF,  disable_fresh_endpoint),
    Rule("GET",    "/v1/webhook-deliveries",                           WEBHOOKS,    NO,  NO,  NO_STAFF,  fixed("/v1/webhook-deliveries")),
    Rule("GET",    "/v1/webhook-deliveries/{delivery_id}",             WEBHOOKS,    NO,  NO,  NO_STAFF,  on_delivery()),
    Rule("POST",   "/v1/webhook-deliveries/{delivery_id}/replay",      WEBHOOKS,    NO,  NO,  NO_STAFF,  on_delivery("/replay")),
    Rule("GET",    "/v1/events",                                       WEBHOOKS,    NO,  NO,  NO_STAFF,  fixed("/v1/events")),
    Rule("GET",    "/healthz",                                         None,        ANY, ANY, ALL_STAFF, fixed("/healthz"), public=True),
    Rule("GET",    "/readyz",                                          None,        ANY, ANY, ALL_STAFF, fixed("/readyz"), public=True),
    Rule("GET",    "/metrics",                                         None,        ANY, ANY, ALL_STAFF, fixed("/metrics"), public=True),
    Rule("GET",    "/problems/{code}",                                 None,        ANY, ANY, ALL_STAFF, fixed("/problems/purchase_limit_exceeded"), public=True),
    # -- after-sales (issue 4) --
    Rule("POST",   "/v1/orders/{order_id}/refunds",                    ORDERS,      OWN, NO,  NO_STAFF,  new_refund),
    Rule("GET",    "/v1/refunds",                                      ORDERS,      ANY, ANY, ALL_STAFF, fixed("/v1/refunds")),
    Rule("GET",    "/v1/refunds/{refund_id}",                          ORDERS,      OWN, OWN, ALL_STAFF, on_refund("requested")),
    Rule("POST",   "/v1/refunds/{refund_id}/agree",                    None,        NO,  OWN, NO_STAFF,  on_refund("requested", "/agree", {})),
    Rule("POST",   "/v1/refunds/{refund_id}/refuse",                   None,        NO,  OWN, NO_STAFF,  on_refund("requested", "/refuse", REFUSAL)),
    Rule("POST",   "/v1/refunds/{refund_id}/amend",                    None,        OWN, NO,  NO_STAFF,  on_refund("refused", "/amend", {"amount_minor": 500})),
    Rule("POST",   "/v1/refunds/{refund_id}/escalate",                 None,        OWN, NO,  NO_STAFF,  on_refund("refused", "/escalate")),
    Rule("POST",   "/v1/refunds/{refund_id}/withdraw",                 ORDERS,      OWN, NO,  NO_STAFF,  on_refund("requested", "/withdraw")),
    Rule("POST",   "/v1/refunds/{refund_id}/return-shipment",          None,        OWN, NO,  NO_STAFF,  on_refund("awaiting_return", "/return-shipment", RETURN)),
    Rule("POST",   "/v1/refunds/{refund_id}/confirm-return",           None,        NO,  OWN, NO_STAFF,  on_refund("return_shipped", "/confirm-return")),
    Rule("POST",   "/v1/refunds/{refund_id}/reject-return",            None,        NO,  OWN, NO_STAFF,  on_refund("return_shipped", "/reject-return", REFUSAL)),
    Rule("POST",   "/v1/refunds/{refund_id}/replacement-shipment",     None,        NO,  OWN, NO_STAFF,  on_refund("exchange_returned", "/replacement-shipment", SHIPMENT)),
    Rule("POST",   "/v1/refunds/{refund_id}/confirm-replacement",      None,        OWN, NO,  NO_STAFF,  on_refund("exchange_replaced", "/confirm-replacement")),
    # -- messaging (issue 5, part A) --
    Rule("POST",   "/v1/conversations",                                ORDERS,      ANY, ANY, NO_STAFF,  start_conversation),
    Rule("GET",    "/v1/conversations",                                ORDERS,      ANY, ANY, ALL_STAFF, fixed("/v1/conversations")),
    Rule("GET",    "/v1/conversations/{conversation_id}",              ORDERS,      OWN, OWN, ALL_STAFF, on_conversation()),
    Rule("POST",   "/v1/conversations/{conversation_id}/messages",     ORDERS,      OWN, OWN, NO_STAFF,  post_message),
    Rule("GET",    "/v1/conversations/{conversation_id}/messages",     ORDERS,      OWN, OWN, ALL_STAFF, on_conversation("/messages")),
    Rule("POST",   "/v1/conversations/{conversation_id}/attachments",  ORDERS,      OWN, OWN, NO_STAFF,  on_conversation("/attachments", ATTACHMENT)),
    Rule("GET",    "/v1/conversations/{conversation_id}/attachments/{sha256}", ORDERS, OWN, OWN, ALL_STAFF, on_attachment),
    Rule("GET",    "/v1/conversations/{conversation_id}/chain-proof",  ORDERS,      OWN, OWN, ALL_STAFF, on_conversation("/chain-proof")),
    Rule("GET",    "/v1/public/platform-keys",                         None,        ANY, ANY, ALL_STAFF, fixed("/v1/public/platform-keys"), public=True),
    # -- disputes (issue 5, part B) --
    Rule("POST",   "/v1/disputes",                                     None,        OWN, OWN, NO_STAFF,  file_dispute),
    Rule("GET",    "/v1/disputes",                                     ORDERS,      ANY, ANY, ALL_STAFF, fixed("/v1/disputes")),
    Rule("GET",    "/v1/dispute-queue",                                None,        NO,  NO,  ALL_STAFF, fixed("/v1/dispute-queue")),
    Rule("GET",    "/v1/disputes/{case_id}",                           ORDERS,      OWN, OWN, ALL_STAFF, on_case("awaiting")),
    Rule("POST",   "/v1/disputes/{case_id}/response",                  None,        OWN, OWN, NO_STAFF,  on_case("awaiting", "/response", {"statement": "Shipped on time."})),
    Rule("POST",   "/v1/disputes/{case_id}/evidence",                  None,        OWN, OWN, NO_STAFF,  on_case("awaiting", "/evidence", {"kind": "statement", "title": "what happened"})),
    Rule("POST",   "/v1/disputes/{case_id}/evidence/submit",           None,        OWN, OWN, NO_STAFF,  on_case("awaiting", "/evidence/submit")),
    Rule("POST",   "/v1/disputes/{case_id}/chat-quotes",               None,        OWN, OWN, NO_STAFF,  chat_quote),
    Rule("GET",    "/v1/disputes/{case_id}/attachments/{sha256}",      ORDERS,      OWN, OWN, ALL_STAFF, case_attachment),
    Rule("POST",   "/v1/disputes/{case_id}/decision",                  None,        NO,  NO,  ARBITRATOR_ONLY, on_case("under_review", "/decision", {"outcome": "dismissed", "reason": "no evidence"})),
    Rule("POST",   "/v1/disputes/{case_id}/appeal",                    None,        OWN, OWN, NO_STAFF,  on_case("decided", "/appeal", {"reason": "new facts"})),
    Rule("POST",   "/v1/disputes/{case_id}/appeal/take-up",            None,        NO,  NO,  CASE_STAFF, on_case("appealed", "/appeal/take-up")),
    Rule("POST",   "/v1/disputes/{case_id}/withdraw",                  None,        OWN, OWN, NO_STAFF,  on_case("awaiting", "/withdraw", {"reason": "solved"})),
    Rule("GET",    "/v1/disputes/{case_id}/bundle",                    ORDERS,      OWN, OWN, ALL_STAFF, on_case("decided", "/bundle")),
    # -- end disputes --
    # -- reviews, reputation and merchants (issue 6) --
    Rule("POST",   "/v1/orders/{order_id}/review",                     None,        OWN, NO,  NO_STAFF,  on_completed("/review", REVIEW)),
    Rule("GET",    "/v1/orders/{order_id}/review",                     ORDERS,      OWN, OWN, ALL_STAFF, on_reviewed_order),
    Rule("POST",   "/v1/orders/{order_id}/buyer-rating",               None,        NO,  OWN, NO_STAFF,  on_completed("/buyer-rating", {"rating": "positive", "text": "paid fast"})),
    Rule("GET",    "/v1/reviews",                                      ORDERS,      ANY, ANY, ALL_STAFF, fixed("/v1/reviews")),
    Rule("GET",    "/v1/reviews/{review_id}",                          ORDERS,      OWN, OWN, ALL_STAFF, on_review()),
    Rule("POST",   "/v1/reviews/{review_id}/follow-up",                None,        OWN, NO,  NO_STAFF,  on_review("/follow-up", {"text": "still fine"})),
    Rule("POST",   "/v1/reviews/{review_id}/revision",                 None,        OWN, NO,  NO_STAFF,  on_review("/revision", {"stars": 5})),
    Rule("POST",   "/v1/reviews/{review_id}/explanation",              None,        NO,  OWN, NO_STAFF,  on_review("/explanation", {"text": "courier strike"})),
    Rule("POST",   "/v1/reviews/{review_id}/decision",                 None,        NO,  NO,  ALL_STAFF, on_review("/decision", {"approve": True}, HELD_TEXT)),
    Rule("GET",    "/v1/reviews/{review_id}/decisions",                None,        NO,  NO,  ALL_STAFF, on_review("/decisions", None, HELD_TEXT)),
    Rule("POST",   "/v1/reviews/{review_id}/exclusion",                None,        NO,  NO,  frozenset({StaffRole.ARBITRATOR, StaffRole.RISK_ANALYST, StaffRole.ADMIN}), on_review("/exclusion", {"reason": "extortion"})),
    Rule("GET",    "/v1/buyers/{buyer_id}/credit",                     ORDERS,      OWN, NO,  ALL_STAFF, fixed("/v1/buyers/b1/credit")),
    Rule("POST",   "/v1/reputation/recomputation",                     ADMIN_SCOPE, NO,  NO,  ADMIN,     fixed("/v1/reputation/recomputation")),
    Rule("PUT",    "/v1/merchants/{seller_id}",                        ORDERS,      NO,  NO,  NO_STAFF,  fixed("/v1/merchants/s1", MERCHANT)),
    Rule("GET",    "/v1/merchants",                                    ORDERS,      NO,  NO,  ALL_STAFF, fixed("/v1/merchants")),
    Rule("GET",    "/v1/merchants/{seller_id}",                        ORDERS,      NO,  OWN, ALL_STAFF, on_merchant()),
    Rule("POST",   "/v1/merchants/{seller_id}/documents",              ORDERS,      NO,  OWN, NO_STAFF,  on_merchant("/documents", DOCUMENT)),
    Rule("POST",   "/v1/merchants/{seller_id}/decision",               None,        NO,  NO,  frozenset({StaffRole.SUPPORT, StaffRole.ADMIN}), on_merchant("/decision", {"verify": True})),
    Rule("POST",   "/v1/merchants/{seller_id}/revocation",             None,        NO,  NO,  frozenset({StaffRole.SUPPORT, StaffRole.ADMIN}), on_merchant("/revocation", {"reason": "licence cancelled"}, "verified")),
    Rule("PUT",    "/v1/merchants/{seller_id}/guarantee",              ORDERS,      NO,  NO,  NO_STAFF,  on_merchant("/guarantee", {"enrolled": True}, "verified")),
    Rule("POST",   "/v1/merchants/{seller_id}/deposits",               PAYMENTS,    NO,  NO,  NO_STAFF,  on_merchant("/deposits", DEPOSIT)),
    Rule("GET",    "/v1/public/sellers/{seller_id}/reputation",        None,        ANY, ANY, ALL_STAFF, fixed("/v1/public/sellers/s1/reputation"), public=True),
    Rule("GET",    "/v1/public/sellers/{seller_id}/reviews",           None,        ANY, ANY, ALL_STAFF, fixed("/v1/public/sellers/s1/reviews"), public=True),
    Rule("GET",    "/v1/public/sellers/{seller_id}/badge.svg",         None,        ANY, ANY, ALL_STAFF, fixed("/v1/public/sellers/s1/badge.svg?lang=zh"), public=True),
    # -- end of issue 6 --
]
# fmt: on

#: FastAPI's own documentation routes, which are not endpoints of TradeGuard.
DOCUMENTATION_ROUTES: Final = frozenset(
    {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
)


def expected(rule: Rule, caller: str) -> int:
    """The status a caller must get from an endpoint, or ALLOWED (anything but 401/403/404)."""
    if rule.public:
        return ALLOWED
    if caller == ANONYMOUS:
        return 401
    if caller == OPERATOR:
        return ALLOWED if rule.scope is not None else 403
    if caller == OPERATOR_LACKING:
        return 403
    if caller in STAFF_CALLERS:
        return ALLOWED if StaffRole(caller) in rule.staff else 403
    admitted = rule.buyer if PARTIES[caller].startswith("buyer:") else rule.seller
    if admitted == NO:
        return 403
    if admitted == ANY or caller in (OWN_BUYER, OWN_SELLER):
        return ALLOWED
    return 404


# -- the tests ------------------------------------------------------------------------------------


@pytest.fixture
def matrix_world(make_api: Any, make_world: Any) -> Any:
    """The world on an app whose policy lets webhook endpoints live on localhost."""
    api = make_api(policy=build_policy({"webhooks": {"allow_localhost": True}}))
    return make_world(api)


def credential(world: Any, rule: Rule, caller: str) -> str | None:
    """The Authorization credential a caller sends, or None for no header."""
    api = world.api
    if caller == ANONYMOUS:
        return None
    if caller in PARTIES:
        return str(api.token(PARTIES[caller]))
    if caller in STAFF_CALLERS:
        return str(api.staff(StaffRole(caller)).token)
    if caller == OPERATOR:
        return str(api.key(rule.scope) if rule.scope else api.operator_key)
    lacking = set(Scope) - {rule.scope} if rule.scope else {Scope.ORDERS}
    return str(api.key(*lacking))


#: Strings that name the world's own parties' money and objects; "other" callers never see them.
def own_markers(world: Any) -> list[str]:
    markers = [world.order["id"], "buyer:b1:", "seller:s1:"]
    if "payout" in vars(world):
        markers.append(world.payout["id"])
    return markers


def check(world: Any, rule: Rule, caller: str) -> tuple[int, str | None]:
    """Send the row's request as the caller: its status, and why it broke the rule (or None)."""
    call = rule.send(world, caller)
    auth = credential(world, rule, caller)
    headers = {"Authorization": f"Bearer {auth}"} if auth else {}
    response = world.api.client.request(rule.method, call.path, json=call.json, headers=headers)
    status, want = response.status_code, expected(rule, caller)
    if status >= 500:
        return status, f"server error: {response.text[:200]}"
    if want == ALLOWED:
        if status in (401, 403, 404):
            return status, f"refused an admitted caller: {response.text[:200]}"
        if caller in (OTHER_BUYER, OTHER_SELLER):
            leaked = [m for m in own_markers(world) if m in response.text]
            if leaked:
                return status, f"showed another party's data {leaked}"
        return status, None
    if status != want:
        return status, f"expected {want}: {response.text[:200]}"
    if response.headers.get("content-type") != PROBLEM_JSON:
        return status, "refusal is not application/problem+json"
    body = response.json()
    if body.get("code") not in REFUSAL_CODES[want]:
        return status, f"unexpected problem code {body.get('code')!r}"
    if want == 401 and "www-authenticate" not in response.headers:
        return status, "401 without a WWW-Authenticate challenge"
    if caller == OPERATOR_LACKING and rule.scope is not None and body["code"] != "missing_scope":
        return status, "a key lacking the scope should be told missing_scope"
    if want == 404:
        extra = set(body) - PROBLEM_FIELDS - {"details"}
        details = set(body.get("details") or {}) - {"object", "id"}
        leaked = [
            m for m in ("buyer:b1", "seller:s1", "total_minor", '"state"') if m in response.text
        ]
        if extra or details or leaked:
            return status, f"a hidden object's 404 carries data: {body}"
    return status, None


#: Rows whose test fails because of a bug in src/ (kept, marked, reported).
KNOWN_BUGS: Final[dict[str, str]] = {}


@pytest.mark.parametrize(
    "rule",
    [
        pytest.param(
            rule,
            id=rule.name,
            marks=[pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[rule.name])]
            if rule.name in KNOWN_BUGS
            else [],
        )
        for rule in TABLE
    ],
)
def test_endpoint_admits_exactly_the_callers_of_its_row(rule: Rule, matrix_world: Any) -> None:
    # given: the world, and the row's request for each caller
    statuses: dict[str, int] = {}
    failures: dict[str, tuple[int, str]] = {}
    # when: every kind of caller sends it
    for caller in CALLERS:
        status, failure = check(matrix_world, rule, caller)
        statuses[caller] = status
        if failure is not None:
            failures[caller] = (status, failure)
    # then: each got what the row says
    assert failures == {}, f"{rule.name}: {failures}"
    # and: the request itself is valid, so some admitted caller succeeded
    admitted = {c: s for c, s in statuses.items() if expected(rule, c) == ALLOWED}
    assert any(200 <= s < 300 for s in admitted.values()), f"{rule.name}: no 2xx in {admitted}"


def served_endpoints(api: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path template) the FastAPI app routes, its own documentation aside."""
    # FastAPI 0.16x keeps included routers as lazy entries of app.routes; this walks into them.
    walk = getattr(fastapi.routing, "iter_route_contexts", lambda routes: routes)
    endpoints = set()
    for route in walk(api.routes):
        assert route.path is not None, f"a route without a path: {route!r}"
        if route.path in DOCUMENTATION_ROUTES:
            continue
        for method in route.methods or {"(any)"}:
            endpoints.add((method, route.path))
    return endpoints


def test_every_route_is_in_the_table(app: App) -> None:
    # given
    api = create_api(app).app
    # when
    served = served_endpoints(api)
    # then
    table = [(rule.method, rule.path) for rule in TABLE]
    assert len(table) == len(set(table)), "a row appears twice"
    assert served - set(table) == set(), "endpoints missing from TABLE"
    assert set(table) - served == set(), "TABLE rows with no endpoint"


def test_expected_outcomes_follow_the_check_order() -> None:
    # given: a row that admits the order's own parties and every staff role
    rule = next(r for r in TABLE if r.name == "GET /v1/orders/{order_id}")
    # then
    assert [expected(rule, c) for c in CALLERS] == [
        401,  # no credentials
        404,  # another buyer
        404,  # another seller
        ALLOWED,
        ALLOWED,
        ALLOWED,  # the orders scope
        403,  # every scope but orders
        ALLOWED,
        ALLOWED,
        ALLOWED,
        ALLOWED,
    ]


def test_a_participant_sees_only_the_accounts_of_its_exact_id(
    world: Any, database: Any, request: pytest.FixtureRequest
) -> None:
    # given: b1 paid for orders and s1 earned from one
    api = world.api
    assert world.completed_order["state"] == "completed"
    assert api.balance("buyer:b1:funding") < 0
    assert api.balance("seller:s1:available") > 0
    # when: parties whose ids differ from b1's only by case, or match it as a LIKE pattern, look
    seen = {
        party: api.ok(api.get("/v1/accounts", auth=api.token(party)))["data"]
        for party in ("buyer:b_", "buyer:B1", "seller:S1")
    }
    # then: nobody sees b1's or s1's money
    assert seen == {party: [] for party in seen}
