"""Any sequence of reviews, moderation, revisions, exclusions and deductions: the seller figures
kept incrementally (O(1) rows per review) equal a from-scratch SQL recomputation (DESIGN.md §9).

The machine drives the real services on the real database (once per backend);
after every step it snapshots the aggregate rows, recomputes them from the
reviews in SQL, and requires the two to be identical. Time moves in steps of
days, so the monthly cap, the 14-day repeat window and month boundaries are all
crossed.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from tradeguard.bootstrap import build_app
from tradeguard.kernel.clock import FakeClock
from tradeguard.kernel.errors import TransitionNotAllowed
from tradeguard.kernel.ids import IdFactory
from tradeguard.kernel.parties import OPERATOR, Actor, Party, buyer, seller
from tradeguard.orders.model import GoodsKind
from tradeguard.orders.rules import CartLine
from tradeguard.policy import build_policy
from tradeguard.reviews.model import DetailedRatings, ReviewState

if TYPE_CHECKING:
    from tests.conftest import Database

SETTINGS = settings(
    max_examples=15,
    stateful_step_count=30,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)
SELLERS = ("s1", "s2")
BUYERS = ("b1", "b2")
SUPPORT = Party(Actor.SUPPORT, "cs1")


def _machine_for(database: Database) -> type[RuleBasedStateMachine]:
    class ReputationIncremental(RuleBasedStateMachine):
        reviews = Bundle("reviews")

        def __init__(self) -> None:
            super().__init__()
            database.reset()
            self.clock = FakeClock()
            self.app = build_app(
                engine=database.engine,
                # A cap of 1 lets short runs cross it often; the rule is the same as with 6.
                policy=build_policy({"reputation": {"points_cap_per_buyer_month": 1}}),
                clock=self.clock,
                ids=IdFactory.seeded(7),
                migrate=False,
            )
            for s in SELLERS:
                for n in range(2):
                    self.app.orders.register_listing(f"{s}-{n}", s, "goods", GoodsKind.PHYSICAL)
            self.n = 0

        def _completed(self, buyer_id: str, seller_id: str, listing: int) -> str:
            self.n += 1
            checkout = self.app.orders.create_checkout(
                buyer_id, "CNY", [CartLine(f"{seller_id}-{listing}", 1, 1_000)], None
            )
            order = checkout.orders[0]
            self.app.orders.confirm_payment(
                order.payment_group_id, order.total_minor, "CNY", f"psp-{self.n}", OPERATOR
            )
            self.app.orders.ship(
                order.id, seller(seller_id), carrier="SF", tracking_number=f"T{self.n}"
            )
            self.app.orders.confirm_receipt(order.id, buyer(buyer_id))
            return order.id

        @rule(
            target=reviews,
            batch=st.lists(
                st.tuples(
                    st.sampled_from(BUYERS),
                    st.sampled_from(SELLERS),
                    st.integers(0, 1),
                    st.integers(1, 5),
                    st.one_of(st.none(), st.tuples(*[st.integers(1, 5)] * 3)),
                    st.booleans(),
                ),
                min_size=1,
                max_size=4,
            ),
        )
        def post(self, batch: list[tuple[Any, ...]]) -> Any:
            ids = []
            for buyer_id, seller_id, listing, stars, dsr, held in batch:
                order_id = self._completed(buyer_id, seller_id, listing)
                review = self.app.reviews.post(
                    order_id,
                    buyer(buyer_id),
                    stars=stars,
                    detailed=DetailedRatings(*dsr) if dsr else None,
                    text="idiot courier" if held else "fine",
                    reason=None if stars >= 4 else "slow",
                )
                ids.append(review.id)
            return multiple(*ids)

        @rule(review_id=reviews, approve=st.booleans())
        def moderate(self, review_id: str, approve: bool) -> None:
            view = self.app.reviews.get(review_id, OPERATOR)
            if view.review.state == ReviewState.PENDING:
                self.app.reviews.decide(review_id, SUPPORT, approve=approve)

        @rule(review_id=reviews, stars=st.integers(1, 5))
        def revise(self, review_id: str, stars: int) -> None:
            view = self.app.reviews.get(review_id, OPERATOR)
            with contextlib.suppress(TransitionNotAllowed):
                self.app.reviews.revise(
                    review_id, buyer(view.review.buyer_id), stars, reason="ok now"
                )

        @rule(review_id=reviews)
        def exclude(self, review_id: str) -> None:
            view = self.app.reviews.get(review_id, OPERATOR)
            self.app.units.run(
                lambda uow: self.app.reputation.exclude_reviews(uow, view.review.order_id, "ring")
            )

        @rule(seller_id=st.sampled_from(SELLERS), points=st.integers(1, 12), ref=st.integers(0, 3))
        def deduct(self, seller_id: str, points: int, ref: int) -> None:
            self.app.units.run(
                lambda uow: self.app.reputation.deduct_points(
                    uow, seller_id, points, "penalty", f"d{ref}"
                )
            )

        @rule(days=st.integers(0, 20))
        def advance(self, days: int) -> None:
            self.clock.advance(timedelta(days=days, hours=5))

        @invariant()
        def incremental_equals_recomputed(self) -> None:
            def snapshot() -> Any:
                return self.app.units.run(lambda uow: uow.reputation.snapshot())

            before = snapshot()
            self.app.reputation.recompute(sellers_per_unit=1)  # one range per seller
            after = snapshot()
            strip = lambda totals: [  # noqa: E731
                (
                    t.seller_id,
                    t.review_points,
                    t.deducted_points,
                    t.positive,
                    t.neutral,
                    t.negative,
                    t.star_weight_sum,
                    t.weight_sum,
                )
                for t in totals
            ]
            assert strip(before[0]) == strip(after[0])
            assert before[1] == after[1]
            assert before[2] == after[2]

    return ReputationIncremental


def test_incremental_reputation_equals_a_recomputation(database: Database) -> None:
    # given: a machine bound to this backend's database, reset for every example
    machine = _machine_for(database)
    # when / then
    run_state_machine_as_test(machine, settings=SETTINGS)
