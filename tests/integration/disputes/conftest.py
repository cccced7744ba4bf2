"""Fixtures for the dispute tests: a marketplace with orders in every state, and a case helper.

The platform key is the signing context's Ed25519 key; every decision in these
tests is signed and verifiable, and uploads go to the test's own blob directory.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tradeguard.bootstrap import App
from tradeguard.deadlines.model import WorkerReport
from tradeguard.disputes.model import Case, CaseType
from tradeguard.disputes.service import CaseDetails, DecisionRequest
from tradeguard.kernel.clock import FakeClock
from tradeguard.kernel.parties import OPERATOR, Actor, Party, buyer, seller
from tradeguard.orders.model import GoodsKind, Order
from tradeguard.orders.rules import CartLine

CNY = "CNY"
ARBITRATOR = Party(Actor.ARBITRATOR, "stf_arbitrator")
SUPPORT = Party(Actor.SUPPORT, "stf_support")


class Disputes:
    """Orders and cases on one App, driven through the public services."""

    def __init__(self, app: App, clock: FakeClock) -> None:
        self.app = app
        self.clock = clock
        self._listings: set[str] = set()

    # -- orders ---------------------------------------------------------------------------------

    def order(
        self,
        *,
        kind: GoodsKind = GoodsKind.PHYSICAL,
        price: int = 10_000,
        buyer_id: str = "b1",
        seller_id: str = "s1",
    ) -> str:
        listing = f"{seller_id}-{kind.value}"
        if listing not in self._listings:
            self.app.orders.register_listing(listing, seller_id, f"{kind.value} goods", kind)
            self._listings.add(listing)
        checkout = self.app.orders.create_checkout(buyer_id, CNY, [CartLine(listing, 1, price)])
        return checkout.orders[0].id

    def pay(self, order_id: str) -> None:
        order = self.get_order(order_id)
        self.app.orders.confirm_payment(
            order.payment_group_id, order.total_minor, CNY, f"psp-{order_id}", OPERATOR
        )

    def paid(self, **kwargs: Any) -> str:
        order_id = self.order(**kwargs)
        self.pay(order_id)
        return order_id

    def shipped(self, **kwargs: Any) -> str:
        order_id = self.paid(**kwargs)
        order = self.get_order(order_id)
        self.app.orders.ship(
            order_id, seller(order.seller_id), carrier="SF", tracking_number=f"SF{order_id[-8:]}"
        )
        return order_id

    def delivered_virtual(self, **kwargs: Any) -> str:
        order_id = self.paid(kind=GoodsKind.VIRTUAL, **kwargs)
        order = self.get_order(order_id)
        self.app.orders.deliver(
            order_id, seller(order.seller_id), detail="top-up of 100 credited to account 138****"
        )
        return order_id

    def completed(self, **kwargs: Any) -> str:
        order_id = self.shipped(**kwargs)
        self.app.orders.confirm_receipt(order_id, buyer(self.get_order(order_id).buyer_id))
        return order_id

    def get_order(self, order_id: str) -> Order:
        return self.app.orders.get(order_id, OPERATOR).order

    # -- cases ----------------------------------------------------------------------------------

    def file(
        self,
        order_id: str,
        case_type: CaseType = CaseType.NOT_RECEIVED,
        *,
        by: Party | None = None,
        claimed: int | None = None,
    ) -> Case:
        order = self.get_order(order_id)
        party = by or (
            seller(order.seller_id)
            if case_type == CaseType.MALICIOUS_REVIEW
            else buyer(order.buyer_id)
        )
        return self.app.disputes.file(party, order_id, case_type, "I never got it", claimed)

    def case(self, case_id: str) -> Case:
        return self.details(case_id).case

    def details(self, case_id: str, party: Party = OPERATOR) -> CaseDetails:
        return self.app.disputes.get(case_id, party)

    def to_review(self, case_id: str) -> Case:
        """Respondent answers, neither party submits more, the evidence phase ends."""
        case = self.case(case_id)
        self.app.disputes.respond(
            case_id,
            seller(case.seller_id) if case.respondent == Actor.SELLER else buyer(case.buyer_id),
            "We disagree.",
        )
        self.advance(self.app.policy.disputes.evidence_window.as_timedelta())
        return self.case(case_id)

    def decide(self, case_id: str, **kwargs: Any) -> Any:
        kwargs.setdefault("reason", "decided on the evidence")
        return self.app.disputes.decide(case_id, ARBITRATOR, DecisionRequest(**kwargs))

    def advance(self, delta: timedelta) -> WorkerReport:
        self.clock.advance(delta)
        return self.app.run_deadlines()

    def balance(self, address: str) -> int:
        return next(
            (b.balance_minor for b in self.app.balances(address) if b.address == address), 0
        )

    def event_types(self, order_id: str) -> list[str]:
        return [
            e.type
            for e in self.app.units.run(lambda uow: uow.outbox.for_order(order_id, limit=1000))
        ]


@pytest.fixture(autouse=True)
def _blobs_in_a_scratch_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Uploads go to this test's own directory, never the working directory."""
    monkeypatch.setenv("TRADEGUARD_BLOB_DIR", str(tmp_path / "blobs"))


@pytest.fixture
def disputes(app: App, clock: FakeClock) -> Disputes:
    """The default-policy app with its platform key created (decisions are signed with it)."""
    app.platform_keys.init()
    return Disputes(app, clock)


@pytest.fixture(autouse=True)
def _ledger_verifies_after_every_test(app: App) -> Iterator[None]:
    """DESIGN.md §3: whatever a test did or was refused, the ledger's invariants hold after it."""
    yield
    assert app.verify_ledger() == []
