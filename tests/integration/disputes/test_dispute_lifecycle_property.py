"""Property: any sequence of party, staff and clock actions leaves a case where a reference model says.

The reference below is a plain re-statement of DESIGN.md §6 (who may do what
in which state, and which deadline moves the case on); hypothesis drives the
real service, storage and deadline worker with random walks and compares the
case's state after every step. A refused action must change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradeguard.disputes.model import CaseType
from tradeguard.disputes.service import DecisionRequest
from tradeguard.kernel.errors import TradeGuardError
from tradeguard.kernel.parties import Actor, Party, buyer, seller

ARBITRATOR = Party(Actor.ARBITRATOR, "stf_prop")
SUPPORT = Party(Actor.SUPPORT, "stf_prop_support")
DAY = timedelta(days=1)


@dataclass
class Reference:
    """The case as DESIGN.md §6 says it should be."""

    now: datetime
    state: str = "awaiting_response"
    due: datetime | None = None  #: the one running deadline that moves the state
    submitted: frozenset[str] = frozenset()
    appealed: bool = False

    def __post_init__(self) -> None:
        self.due = self.now + 3 * DAY  # the response deadline

    def act(self, action: str, who: str) -> bool:
        """Apply an action; False when DESIGN.md refuses it."""
        s = self.state
        if action == "respond" and s == "awaiting_response" and who == "seller":
            self.state, self.due = "evidence", self.now + 3 * DAY
        elif (
            action == "submit"
            and who not in self.submitted
            and ((s == "awaiting_response" and who == "buyer") or s == "evidence")
        ):
            self.submitted |= {who}
            if s == "evidence" and self.submitted == {"buyer", "seller"}:
                self.state, self.due = "under_review", None
        elif (
            action == "withdraw"
            and who == "buyer"
            and s in ("awaiting_response", "evidence", "under_review")
        ):
            self.state, self.due = "closed", None
        elif action == "decide" and s == "under_review":
            if self.appealed:
                self.state, self.due = "closed", None
            else:
                self.state, self.due = "decided", self.now + 7 * DAY
        elif action == "appeal" and s == "decided" and not self.appealed:
            self.state, self.due, self.appealed = "appealed", None, True
        elif action == "take_up" and s == "appealed":
            self.state = "under_review"
        else:
            return False
        return True

    def elapse(self, delta: timedelta) -> None:
        """Time passes; the running deadline fires if it comes due."""
        self.now += delta
        if self.due is not None and self.due <= self.now:
            self.state = {
                "awaiting_response": "under_review",
                "evidence": "under_review",
                "decided": "closed",
            }[self.state]
            self.due = None


ACTIONS = st.lists(
    st.one_of(
        st.tuples(
            st.sampled_from(["respond", "submit", "withdraw", "appeal"]),
            st.sampled_from(["buyer", "seller"]),
        ),
        st.tuples(st.sampled_from(["decide", "take_up"]), st.just("staff")),
        st.tuples(st.just("elapse"), st.sampled_from(["1", "2", "4"])),
    ),
    max_size=14,
)


def perform(service: Any, case_id: str, action: str, party: Party) -> None:
    """Send one action to the service as ``party`` (staff actions ignore it)."""
    if action == "respond":
        service.respond(case_id, party, "answer")
    elif action == "submit":
        service.submit_evidence(case_id, party)
    elif action == "withdraw":
        service.withdraw(case_id, party, "done")
    elif action == "appeal":
        service.appeal(case_id, party, "again")
    elif action == "decide":
        service.decide(case_id, ARBITRATOR, DecisionRequest("dismissed", "no evidence"))
    else:
        service.take_up_appeal(case_id, SUPPORT)


def test_random_walks_agree_with_the_reference_model(disputes) -> None:
    service = disputes.app.disputes

    @settings(
        max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    @given(ACTIONS)
    def walk(steps: list[tuple[str, str]]) -> None:
        order_id = disputes.shipped()
        case = disputes.file(order_id, CaseType.NOT_RECEIVED)
        model = Reference(disputes.clock.now())
        for action, who in steps:
            if action == "elapse":
                delta = int(who) * DAY
                disputes.advance(delta)
                model.elapse(delta)
            else:
                party = buyer("b1") if who == "buyer" else seller("s1")
                before = disputes.case(case.id)
                expected = model.act(action, who)
                try:
                    perform(service, case.id, action, party)
                    done = True
                except TradeGuardError:
                    done = False
                    assert disputes.case(case.id) == before, f"a refused {action} changed the case"
                assert done == expected, (
                    f"{action} by {who} in {before.state}: service {done}, model {expected}"
                )
            assert disputes.case(case.id).state.value == model.state, (action, who)

    walk()
