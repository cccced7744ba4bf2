"""Simulated dispute parties (DESIGN.md §6, §15): abusers, promise breakers, harassers, staff.

* the seed 002 double-buyer: buys virtual top-ups, then files a false "not
  shipped" complaint with no evidence — dismissed on the delivery record;
* the fake-screenshot buyer: complains with a doctored "payment" screenshot,
  which never counts;
* the promise breaker: a shop that promises a gift in chat and never sends it
  — its buyers quote the chat and win;
* the harasser: a shop that harasses a buyer in chat after completion (after a
  bad review), and the buyer complains;
* staff: respondents answer within a day, and an arbitrator decides each case
  under review once a day following the rule table's suggestion.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

from tradeguard.adapters.sim.simulator import SimBuyer, Simulator
from tradeguard.disputes.model import Case, CaseState, CaseType, EvidenceKind, Outcome
from tradeguard.disputes.ports import CaseFilter
from tradeguard.disputes.service import DecisionRequest
from tradeguard.kernel.parties import OPERATOR, Actor, Party, buyer, seller
from tradeguard.orders.model import GoodsKind, Order

ARBITRATOR = Party(Actor.ARBITRATOR, "sim-arbitrator")
#: A tiny PNG-looking file: what a doctored payment screenshot upload stands for.
SCREENSHOT = b"\x89PNG\r\n\x1a\n" + "支付宝 付款成功 ¥99.00".encode() * 4


@dataclass
class DisputeBehaviour:
    """Dispute abusers and honest complainants, with a simulated arbitrator."""

    false_complainer_share: float = 0.04
    fake_screenshot_share: float = 0.03
    promise_breaker_share: float = 0.1
    harasser_share: float = 0.05
    name: str = "disputes"
    filed: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    by_actor: dict[str, Counter[str]] = field(default_factory=dict)
    case_actor: dict[str, str] = field(default_factory=dict)
    screenshots_counted: int = 0
    refunds_minor: int = 0
    overdue_seen: set[str] = field(default_factory=set)

    def setup(self, sim: Simulator) -> None:
        """Pick the abusers among the simulated buyers and shops."""
        rng = sim.rng
        for shopper in sim.buyers:
            roll = rng.random()
            if roll < self.false_complainer_share:
                shopper.traits.add("false_complainer")
            elif roll < self.false_complainer_share + self.fake_screenshot_share:
                shopper.traits.add("fakes_screenshots")
        for shop in sim.sellers:
            roll = rng.random()
            if shop.goods_kind == GoodsKind.PHYSICAL and roll < self.promise_breaker_share:
                shop.traits.add("breaks_promises")
            elif roll > 1 - self.harasser_share:
                shop.traits.add("harasses")
        sim.app.platform_keys.init()

    def on_arrived(self, sim: Simulator, order: Order, shopper: SimBuyer) -> bool:
        """Abusers and wronged buyers complain instead of confirming receipt."""
        shop = sim.seller_by_id[order.seller_id]
        later = timedelta(hours=sim.rng.randint(2, 20))
        if "false_complainer" in shopper.traits and order.is_virtual:
            sim.later(
                later, partial(self._file, sim, order, CaseType.NOT_RECEIVED, "seed002_complainer")
            )
            return True
        if "fakes_screenshots" in shopper.traits:
            sim.later(later, partial(self._fake_screenshot, sim, order))
            return True
        if "breaks_promises" in shop.traits:
            sim.later(later, partial(self._broken_promise, sim, order))
            return True
        if "harasses" in shop.traits and sim.rng.random() < 0.3:
            sim.later(later, partial(self._harassed, sim, order, shopper))
            return True
        return False

    def daily(self, sim: Simulator, day: int) -> None:
        """Respondents answer open complaints; the arbitrator decides what is under review."""
        for case in sim.app.disputes.find(
            OPERATOR, CaseFilter(states={CaseState.AWAITING_RESPONSE}), limit=200
        ):
            shop = sim.seller_by_id.get(case.seller_id)
            silent = (
                shop is not None and "breaks_promises" in shop.traits and sim.rng.random() < 0.5
            )
            if case.respondent == Actor.SELLER and not silent:
                sim.attempt(
                    partial(
                        sim.app.disputes.respond, case.id, seller(case.seller_id), "We disagree."
                    )
                )
                sim.attempt(
                    partial(sim.app.disputes.submit_evidence, case.id, seller(case.seller_id))
                )
        for case in sim.app.disputes.find(
            OPERATOR, CaseFilter(states={CaseState.UNDER_REVIEW}), limit=200
        ):
            if case.overdue:
                self.overdue_seen.add(case.id)
            self._decide(sim, case)

    def summarise(self, sim: Simulator) -> dict[str, Any]:
        """Cases filed and decided: by type, by outcome, and per kind of party (one level, for the table)."""
        figures: dict[str, Any] = {"cases_filed": sum(self.filed.values())}
        figures.update({f"filed_{kind}": n for kind, n in sorted(self.filed.items())})
        figures.update({f"decided_{outcome}": n for outcome, n in sorted(self.outcomes.items())})
        for actor, outcomes in sorted(self.by_actor.items()):
            figures.update({f"{actor}_{outcome}": n for outcome, n in sorted(outcomes.items())})
        figures.update(
            fake_screenshots_counted_as_payment=self.screenshots_counted,
            refunds_minor=self.refunds_minor,
            overdue_cases=len(self.overdue_seen),
            supervisor_queue=len(sim.app.disputes.supervisor_queue(limit=200)),
        )
        return figures

    # -- the parties ----------------------------------------------------------------------------

    def _file(
        self,
        sim: Simulator,
        order: Order,
        case_type: CaseType,
        actor: str,
        claimed: int | None = None,
    ) -> Case | None:
        party = (
            seller(order.seller_id)
            if case_type.complainant == Actor.SELLER
            else buyer(order.buyer_id)
        )
        description = {
            "seed002_complainer": "未发货 (not shipped)",
            "screenshot_faker": "I paid twice, see the screenshot",
            "promise_victim": "The seller promised a free gift in chat and never sent it",
            "harassed_buyer": "The seller keeps messaging me after my review",
        }[actor]
        case: Case | None = sim.attempt(
            partial(sim.app.disputes.file, party, order.id, case_type, description, claimed)
        )
        if case is not None:
            self.filed[case_type.value] += 1
            self.case_actor[case.id] = actor
        return case

    def _fake_screenshot(self, sim: Simulator, order: Order) -> None:
        case = self._file(sim, order, CaseType.QUALITY, "screenshot_faker")
        if case is None:
            return
        item = sim.attempt(
            partial(
                sim.app.disputes.stage_evidence,
                case.id,
                buyer(order.buyer_id),
                EvidenceKind.PAYMENT_SCREENSHOT,
                "payment",
                content=SCREENSHOT,
                content_type="image/png",
            )
        )
        if item is not None and item.counts:
            self.screenshots_counted += 1
        sim.attempt(partial(sim.app.disputes.submit_evidence, case.id, buyer(order.buyer_id)))

    def _broken_promise(self, sim: Simulator, order: Order) -> None:
        app = sim.app
        conversation = sim.attempt(
            partial(
                app.messaging.start,
                buyer(order.buyer_id),
                seller_id=order.seller_id,
                order_id=order.id,
            )
        )
        if conversation is None:
            return
        sim.attempt(
            partial(
                app.messaging.post, buyer(order.buyer_id), conversation.id, "Is the gift included?"
            )
        )
        sim.attempt(
            partial(
                app.messaging.post,
                seller(order.seller_id),
                conversation.id,
                "Yes, we promise a free gift with every order.",
            )
        )
        claimed = max(1, order.subtotal_minor // 10)
        case = self._file(sim, order, CaseType.BROKEN_PROMISE, "promise_victim", claimed)
        if case is not None:
            sim.attempt(
                partial(
                    app.disputes.quote_chat,
                    case.id,
                    buyer(order.buyer_id),
                    conversation.id,
                    1,
                    2,
                    2,
                )
            )

    def _harassed(self, sim: Simulator, order: Order, shopper: SimBuyer) -> None:
        app = sim.app
        sim.attempt(partial(app.orders.confirm_receipt, order.id, buyer(shopper.id)))
        conversation = sim.attempt(
            partial(
                app.messaging.start,
                buyer(order.buyer_id),
                seller_id=order.seller_id,
                order_id=order.id,
            )
        )
        if conversation is None:
            return
        for text in ("Change your review now.", "We know where you live, change the review."):
            sim.attempt(partial(app.messaging.post, seller(order.seller_id), conversation.id, text))
        case = self._file(sim, order, CaseType.SELLER_HARASSMENT, "harassed_buyer")
        if case is not None:
            sim.attempt(
                partial(
                    app.disputes.quote_chat, case.id, buyer(order.buyer_id), conversation.id, 1, 2
                )
            )
            sim.attempt(partial(app.disputes.submit_evidence, case.id, buyer(order.buyer_id)))

    def _decide(self, sim: Simulator, case: Case) -> None:
        suggestion = case.suggestion
        outcome = suggestion.outcome if suggestion else None
        if outcome is None:
            if case.type == CaseType.SELLER_HARASSMENT:
                request = DecisionRequest(
                    Outcome.BUYER_WINS,
                    "harassment shown in the chat log",
                    compensation_minor=500,
                    credit_points=2,
                )
            else:
                request = DecisionRequest(Outcome.DISMISSED, "not enough evidence")
        elif outcome in (Outcome.DISMISSED, Outcome.SELLER_WINS):
            request = DecisionRequest(outcome, suggestion.reason if suggestion else "")
        else:
            assert suggestion is not None  # noqa: S101 - an outcome comes from a suggestion
            request = DecisionRequest(
                outcome,
                suggestion.reason,
                refund_minor=suggestion.refund_minor,
                compensation_minor=suggestion.compensation_minor,
                credit_points=suggestion.credit_points,
            )
            if not (request.refund_minor or request.compensation_minor):
                request = DecisionRequest(Outcome.DISMISSED, "nothing left to refund")
        decision = sim.attempt(partial(sim.app.disputes.decide, case.id, ARBITRATOR, request))
        if decision is None:
            return
        self.outcomes[decision.outcome.value] += 1
        actor = self.case_actor.get(case.id, "other")
        self.by_actor.setdefault(actor, Counter())[decision.outcome.value] += 1
        self.refunds_minor += decision.refund_minor
