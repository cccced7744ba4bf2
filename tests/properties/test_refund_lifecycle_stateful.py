"""Any sequence of orders, refund requests, answers, returns, clock moves and worker runs.

The reference is written by hand from DESIGN.md §5 (STYLE.md §3.8): a table of
(state, event, actor) -> next state for refund requests, the guards the design
states in words (only the seller accepts a returned parcel; exchanges ship a
replacement; a swapped return is never refunded automatically) and what each
deadline may do on expiry. Nothing is imported from ``tradeguard.aftersales.model``
to build the expectation.

After every step, on the real database: ``verify_ledger()`` is clean, no escrow is
negative, no buyer got back more than paid plus compensation (return postage), no
refund was paid twice, and an order's auto-confirm is paused exactly while one of
its requests is open. It runs once per backend.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import text

from tradeguard.aftersales.model import BuyerTier
from tradeguard.aftersales.service import AfterSalesService
from tradeguard.bootstrap import App, build_app
from tradeguard.kernel.clock import FakeClock
from tradeguard.kernel.errors import TradeGuardError
from tradeguard.kernel.ids import IdFactory
from tradeguard.kernel.parties import OPERATOR, Party, buyer, seller
from tradeguard.orders.model import GoodsKind
from tradeguard.orders.rules import CartLine
from tradeguard.policy import load_policy

if TYPE_CHECKING:
    from tests.conftest import Database

SETTINGS = settings(
    max_examples=30,
    stateful_step_count=50,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)

# -- the reference, by hand from DESIGN.md §5 --------------------------------------------------

REQ, AGREED, REFUSED, AWAIT, RSHIP, REPL, ESC, REFUNDED, EXCHANGED, CLOSED = (
    "requested",
    "seller_agreed",
    "seller_refused",
    "awaiting_return",
    "return_shipped",
    "replacement_shipped",
    "escalated",
    "refunded",
    "exchanged",
    "closed",
)
OPEN = {REQ, AGREED, REFUSED, AWAIT, RSHIP, REPL, ESC}
RETURN_KINDS = {"return_and_refund", "exchange"}

#: (state, event, actor) -> next state; "agree" lands on refunded or awaiting_return by kind.
EXPECTED: dict[tuple[str, str, str], str] = {
    (REQ, "agree", "seller"): AGREED,
    (REQ, "refuse", "seller"): REFUSED,
    (REQ, "withdraw", "buyer"): CLOSED,
    (REQ, "withdraw", "operator"): CLOSED,
    (REFUSED, "amend", "buyer"): REQ,
    (REFUSED, "escalate", "buyer"): ESC,
    (REFUSED, "withdraw", "buyer"): CLOSED,
    (REFUSED, "withdraw", "operator"): CLOSED,
    (AWAIT, "ship_return", "buyer"): RSHIP,
    (AWAIT, "withdraw", "buyer"): CLOSED,
    (AWAIT, "withdraw", "operator"): CLOSED,
    (RSHIP, "confirm_return", "seller"): REFUNDED,  # not for exchanges
    (RSHIP, "reject_return", "seller"): REFUSED,
    (RSHIP, "ship_replacement", "seller"): REPL,  # exchanges only
    (REPL, "confirm_replacement", "buyer"): EXCHANGED,
}

#: What a deadline may do to a request in each state (DESIGN.md §5 deadline table).
ON_EXPIRY: dict[str, set[str]] = {
    REQ: {REFUNDED, AWAIT},  # auto-agree: refund-only pays, a return is awaited
    REFUSED: {CLOSED},
    AWAIT: {CLOSED},
    RSHIP: {REFUNDED},  # auto-refund, unless the serials differ
    REPL: {EXCHANGED},
}

BUYERS = ("b1", "b2")
ACTORS = ("buyer", "seller", "operator")
#: Kind and reason pairs buyers ask for; which one an order's state allows is the service's call.
ASKS = (
    ("refund_only", "not_shipped"),
    ("refund_only", "not_received"),
    ("refund_only", "damaged_in_transit"),
    ("return_and_refund", "no_reason"),
    ("return_and_refund", "quality_problem"),
    ("return_and_refund", "damaged_in_transit"),
    ("exchange", "quality_problem"),
    ("partial_refund", "price_difference"),
    ("partial_refund", "no_reason"),  # never allowed: a no-reason request is a return
)


@dataclass
class ModelRequest:
    """What the reference knows of one refund request."""

    id: str
    order_id: str
    buyer: str
    kind: str
    state: str
    swapped: bool = False


class TrustB1:
    """A tier source (the port of DESIGN.md §9's buyer tier) that trusts b1 only."""

    def tier(self, uow: Any, buyer_id: str) -> BuyerTier:
        return BuyerTier.TRUSTED if buyer_id == "b1" else BuyerTier.NEW


def _party(actor: str, buyer_id: str) -> Party:
    if actor == "buyer":
        return buyer(buyer_id)
    if actor == "seller":
        return seller("s1")
    return OPERATOR


def _machine_for(database: Database) -> type[RuleBasedStateMachine]:
    class RefundLifecycle(RuleBasedStateMachine):
        """The service agrees with EXPECTED and the money stays sound after every step."""

        orders = Bundle("orders")
        requests = Bundle("requests")

        def __init__(self) -> None:
            super().__init__()
            database.reset()
            self.clock = FakeClock()
            self.app: App = build_app(
                engine=database.engine,
                policy=load_policy(),
                clock=self.clock,
                ids=IdFactory.seeded(11),
                migrate=False,
            )
            # b1 is a trusted buyer (instant refunds), b2 a new one: both refund paths run.
            self.app.aftersales = AfterSalesService(
                self.app.units,
                self.app.runtime,
                self.app.policy.aftersales,
                self.app.orders,
                self.app.settlement,
                tier_source=TrustB1(),
            )
            self.app.orders.register_listing("l-s1", "s1", "item", GoodsKind.PHYSICAL)
            self.app.settlement.top_up_fund(10**9, "CNY", "opening-balance")
            self.model: dict[str, ModelRequest] = {}
            self.order_buyer: dict[str, str] = {}

        # -- helpers ------------------------------------------------------------------------

        def attempt(self, allowed: bool | None, action: Any, what: str) -> bool:
            refusal: TradeGuardError | None = None
            try:
                action()
            except TradeGuardError as exc:
                refusal = exc
            if allowed is True:
                assert refusal is None, f"{what} was refused, the design allows it: {refusal!r}"
            elif allowed is False:
                assert refusal is not None, f"{what} was accepted, the design refuses it"
            return refusal is None

        def sync(self, request: ModelRequest) -> str:
            return self.app.aftersales.get(request.id, OPERATOR).state.value

        def command(self, request: ModelRequest, event: str, actor: str, action: Any) -> None:
            target = EXPECTED.get((request.state, event, actor))
            if event == "confirm_return" and request.kind == "exchange":
                target = None
            if event == "ship_replacement" and request.kind != "exchange":
                target = None
            if target == AGREED:
                target = AWAIT if request.kind in RETURN_KINDS else REFUNDED
            done = self.attempt(
                None if target is None else True,
                action,
                f"{event} as {actor} on a {request.kind} request in {request.state}",
            )
            if target is None:
                # Refused by the design... unless the service refused for a money reason (e.g. an
                # amount over what is left): either way the state must not have moved.
                assert not done or self.sync(request) == request.state, (event, actor)
                return
            request.state = self.sync(request)
            assert request.state == target, (event, actor, request.state, target)

        # -- orders -------------------------------------------------------------------------

        @rule(
            target=orders,
            buyer_id=st.sampled_from(BUYERS),
            price=st.integers(100, 50_000),
            shipping=st.sampled_from([0, 0, 800]),
            stage=st.sampled_from(["paid", "shipped", "shipped", "shipped", "completed"]),
            serials=st.booleans(),
        )
        def new_order(
            self, buyer_id: str, price: int, shipping: int, stage: str, serials: bool
        ) -> str:
            return self._order(buyer_id, price, shipping, stage, serials)

        @initialize(
            target=requests,
            start=st.sampled_from(
                [("paid", ASKS[0])]
                + [(stage, ask) for stage in ("shipped", "completed") for ask in ASKS[1:8]]
            ),
            serials=st.booleans(),
        )
        def first_request(self, start: tuple[str, tuple[str, str]], serials: bool) -> Any:
            """Every run starts with a request, so the interesting rules have something to act on."""
            stage, ask = start
            order_id = self._order("b1", 10_000, 0, stage, serials)
            return self.ask(order_id, ask, 100, False)

        def _order(
            self, buyer_id: str, price: int, shipping: int, stage: str, serials: bool
        ) -> str:
            checkout = self.app.orders.create_checkout(
                buyer_id,
                "CNY",
                [CartLine("l-s1", 1, price)],
                {"s1": shipping} if shipping else None,
            )
            order = checkout.orders[0]
            self.app.orders.confirm_payment(
                checkout.payment_group_id, order.total_minor, "CNY", f"psp-{order.id}", OPERATOR
            )
            if stage != "paid":
                self.app.orders.ship(
                    order.id,
                    seller("s1"),
                    carrier="SF",
                    tracking_number=f"SF-{order.id}",
                    serial_numbers=("SN-" + order.id,) if serials else (),
                )
            if stage == "completed":
                self.app.orders.confirm_receipt(order.id, buyer(buyer_id))
            self.order_buyer[order.id] = buyer_id
            return order.id

        @rule(order_id=orders)
        def buyer_confirms_receipt(self, order_id: str) -> None:
            self.attempt(
                None,
                lambda: self.app.orders.confirm_receipt(
                    order_id, buyer(self.order_buyer[order_id])
                ),
                "confirm receipt",
            )

        # -- requests -----------------------------------------------------------------------

        @rule(
            target=requests,
            order_id=orders,
            ask=st.sampled_from(ASKS),
            share=st.integers(1, 100),
            insured=st.booleans(),
        )
        def ask(self, order_id: str, ask: tuple[str, str], share: int, insured: bool) -> Any:
            kind, reason = ask
            order = self.app.orders.get(order_id, OPERATOR).order
            if kind == "partial_refund":
                share = min(share, 90)
            amount = max(1, order.subtotal_minor * share // 100)
            created: list[Any] = []

            def act() -> None:
                created.append(
                    self.app.aftersales.request(
                        order_id,
                        buyer(order.buyer_id),
                        kind=kind,  # type: ignore[arg-type]
                        reason=reason,  # type: ignore[arg-type]
                        amount_minor=amount,
                        freight_insured=insured,
                    )
                )

            if not self.attempt(None, act, f"ask for {kind} ({reason})"):
                return multiple()
            request = ModelRequest(created[0].id, order_id, order.buyer_id, kind, REQ)
            assert created[0].state.value == REQ
            self.model[request.id] = request
            return request.id

        def _request(self, request_id: str | None) -> ModelRequest | None:
            return self.model.get(request_id) if request_id else None

        @rule(
            request_id=requests, actor=st.sampled_from(ACTORS), outbound=st.sampled_from([0, 500])
        )
        def agree(self, request_id: str | None, actor: str, outbound: int) -> None:
            r = self._request(request_id)
            if r is not None:
                party = _party(actor, r.buyer)
                self.command(
                    r,
                    "agree",
                    actor,
                    lambda: self.app.aftersales.agree(
                        r.id, party, outbound_shipping_minor=outbound
                    ),
                )

        @rule(request_id=requests, actor=st.sampled_from(ACTORS))
        def refuse(self, request_id: str | None, actor: str) -> None:
            r = self._request(request_id)
            if r is not None:
                party = _party(actor, r.buyer)
                self.command(
                    r, "refuse", actor, lambda: self.app.aftersales.refuse(r.id, party, "no")
                )

        @rule(request_id=requests, actor=st.sampled_from(ACTORS), share=st.integers(1, 99))
        def amend(self, request_id: str | None, actor: str, share: int) -> None:
            r = self._request(request_id)
            if r is None:
                return
            party = _party(actor, r.buyer)
            target = EXPECTED.get((r.state, "amend", actor))
            done = self.attempt(
                None,
                lambda: self.app.aftersales.amend(r.id, party, amount_minor=share),
                f"amend as {actor} in {r.state}",
            )
            assert not done or target is not None, f"amend as {actor} in {r.state} was accepted"
            r.state = self.sync(r)
            if done:
                assert r.state == target

        @rule(request_id=requests, actor=st.sampled_from(ACTORS))
        def escalate(self, request_id: str | None, actor: str) -> None:
            r = self._request(request_id)
            if r is not None:
                party = _party(actor, r.buyer)
                self.command(
                    r, "escalate", actor, lambda: self.app.aftersales.escalate(r.id, party)
                )

        @rule(request_id=requests, actor=st.sampled_from(ACTORS))
        def withdraw(self, request_id: str | None, actor: str) -> None:
            r = self._request(request_id)
            if r is not None:
                party = _party(actor, r.buyer)
                self.command(
                    r, "withdraw", actor, lambda: self.app.aftersales.withdraw(r.id, party)
                )

        @rule(
            request_id=requests,
            actor=st.sampled_from(ACTORS),
            swapped=st.booleans(),
            postage=st.sampled_from([0, 1_000, 5_000]),
        )
        def ship_return(
            self, request_id: str | None, actor: str, swapped: bool, postage: int
        ) -> None:
            r = self._request(request_id)
            if r is None:
                return
            party = _party(actor, r.buyer)
            before = r.state
            serials = ("SWAPPED",) if swapped else ("SN-" + r.order_id,)
            shipped = [
                s
                for s in self.app.orders.get(r.order_id, OPERATOR).shipments
                if s.direction == "outbound"
            ]
            self.command(
                r,
                "ship_return",
                actor,
                lambda: self.app.aftersales.ship_return(
                    r.id,
                    party,
                    carrier="YTO",
                    tracking_number="YT",
                    serial_numbers=serials,
                    shipping_minor=postage,
                ),
            )
            if before == AWAIT and r.state == RSHIP:
                r.swapped = bool(shipped and shipped[0].serial_numbers) and swapped
                assert self.app.aftersales.get(r.id, OPERATOR).serial_mismatch == r.swapped

        @rule(request_id=requests, actor=st.sampled_from(ACTORS))
        def confirm_return(self, request_id: str | None, actor: str) -> None:
            r = self._request(request_id)
            if r is not None:
                party = _party(actor, r.buyer)
                self.command(
                    r,
                    "confirm_return",
                    actor,
                    lambda: self.app.aftersales.confirm_return(r.id, party),
                )

        @rule(request_id=requests, actor=st.sampled_from(ACTORS))
        def reject_return(self, request_id: str | None, actor: str) -> None:
            r = self._request(request_id)
            if r is not None:
                party = _party(actor, r.buyer)
                self.command(
                    r,
                    "reject_return",
                    actor,
                    lambda: self.app.aftersales.reject_return(r.id, party, "wrong item"),
                )

        @rule(request_id=requests, actor=st.sampled_from(ACTORS))
        def ship_replacement(self, request_id: str | None, actor: str) -> None:
            r = self._request(request_id)
            if r is not None:
                party = _party(actor, r.buyer)
                self.command(
                    r,
                    "ship_replacement",
                    actor,
                    lambda: self.app.aftersales.ship_replacement(
                        r.id, party, carrier="SF", tracking_number="SF-R"
                    ),
                )

        @rule(request_id=requests, actor=st.sampled_from(ACTORS))
        def confirm_replacement(self, request_id: str | None, actor: str) -> None:
            r = self._request(request_id)
            if r is not None:
                party = _party(actor, r.buyer)
                self.command(
                    r,
                    "confirm_replacement",
                    actor,
                    lambda: self.app.aftersales.confirm_replacement(r.id, party),
                )

        @rule(
            request_id=requests,
            outcome=st.sampled_from(["buyer_wins", "seller_wins", "split"]),
            share=st.integers(1, 100),
        )
        def dispute_decides(self, request_id: str | None, outcome: str, share: int) -> None:
            r = self._request(request_id)
            if r is None:
                return
            amount = self.app.aftersales.get(r.id, OPERATOR).requested_minor * share // 100
            done = self.attempt(
                r.state == ESC,
                lambda: self.app.units.run(
                    lambda uow: self.app.aftersales.settle_escalated(
                        uow, r.id, outcome, amount, "d"
                    )
                ),
                f"settle {outcome} in {r.state}",
            )
            if done:
                r.state = self.sync(r)
                want = CLOSED if outcome == "seller_wins" or amount == 0 else REFUNDED
                assert r.state == want

        # -- time ---------------------------------------------------------------------------

        @rule(hours=st.sampled_from([1, 12, 24, 36, 72, 24 * 5, 24 * 7, 24 * 10]))
        def time_passes(self, hours: int) -> None:
            self.clock.advance(timedelta(hours=hours))
            self.app.run_deadlines()
            for r in self.model.values():
                before, after = r.state, self.sync(r)
                if after != before:
                    assert after in ON_EXPIRY.get(before, set()), (before, after)
                    assert not (before == RSHIP and r.swapped), "a swapped return was auto-refunded"
                r.state = after

        # -- invariants ---------------------------------------------------------------------

        @invariant()
        def ledger_verifies(self) -> None:
            assert self.app.verify_ledger() == []

        @invariant()
        def escrow_never_negative(self) -> None:
            escrows = [b for b in self.app.balances("escrow:") if b.balance_minor < 0]
            assert escrows == []

        @invariant()
        def buyers_never_get_back_more_than_paid_plus_compensation(self) -> None:
            postage: dict[str, int] = {}
            for r in self.model.values():
                got = self.app.aftersales.get(r.id, OPERATOR)
                postage[r.buyer] = postage.get(r.buyer, 0) + got.return_shipping_reimbursed_minor
            for b in self.app.balances("buyer:"):
                buyer_id = b.address.split(":")[1]
                # funding = refunds + compensation - payments: never above the compensation
                assert b.balance_minor <= postage.get(buyer_id, 0), (b.address, b.balance_minor)

        @invariant()
        def no_refund_is_paid_twice(self) -> None:
            with database.engine.connect() as conn:
                twice = conn.execute(
                    text(
                        "SELECT reference, reason, source_account_id, destination_account_id, COUNT(*) "
                        "FROM ledger_transfers "
                        "WHERE reason IN ('refund', 'advance', 'return_shipping', "
                        "'insurance_reimbursement', 'carrier_claim') "
                        "GROUP BY reference, reason, source_account_id, destination_account_id "
                        "HAVING COUNT(*) > 1"
                    )
                ).all()
            assert twice == []

        @invariant()
        def auto_confirm_is_paused_while_a_request_is_open(self) -> None:
            for order_id in self.order_buyer:
                details = self.app.orders.get(order_id, OPERATOR)
                if details.order.state.value not in ("shipped", "delivered"):
                    continue
                open_requests = [
                    r for r in self.model.values() if r.order_id == order_id and r.state in OPEN
                ]
                assert details.auto_confirm_paused == bool(open_requests), order_id

    return RefundLifecycle


def test_orders_and_refunds_keep_the_money_sound(database: Database) -> None:
    # given: a machine bound to this backend's database, reset for every example
    machine = _machine_for(database)
    # when / then
    run_state_machine_as_test(machine, settings=SETTINGS)
