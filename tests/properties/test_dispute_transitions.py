"""Property: the dispute transition table agrees with an independent reference model (DESIGN.md §6).

The reference is written the other way round from the table — per actor, which
events each state accepts — so a typo in either shows up as a disagreement on
some random walk.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tradeguard.disputes.model import CASE_TRANSITIONS, CaseEvent, CaseState
from tradeguard.kernel.errors import TransitionNotAllowed
from tradeguard.kernel.parties import Actor

S, E, A = CaseState, CaseEvent, Actor
PARTIES = {A.BUYER, A.SELLER}


def reference(state: CaseState, event: CaseEvent, actor: Actor) -> CaseState | None:
    """Where the case goes, or None when the move is not allowed (guards aside)."""
    if actor in PARTIES:
        if event == E.WITHDRAW and state in (
            S.OPEN,
            S.AWAITING_RESPONSE,
            S.EVIDENCE,
            S.UNDER_REVIEW,
        ):
            return S.CLOSED
        if event == E.STAGE_EVIDENCE and state in (S.OPEN, S.AWAITING_RESPONSE, S.EVIDENCE):
            return state
        if event == E.SUBMIT_EVIDENCE and state in (S.AWAITING_RESPONSE, S.EVIDENCE):
            return state
        if event == E.RESPOND and state == S.AWAITING_RESPONSE:
            return S.EVIDENCE
        if event == E.APPEAL and state == S.DECIDED:
            return S.APPEALED
        return None
    if actor == A.SYSTEM:
        return {
            (S.OPEN, E.REQUEST_RESPONSE): S.AWAITING_RESPONSE,
            (S.AWAITING_RESPONSE, E.RESPONSE_OVERDUE): S.UNDER_REVIEW,
            (S.EVIDENCE, E.CLOSE_EVIDENCE): S.UNDER_REVIEW,
            (S.UNDER_REVIEW, E.ESCALATE_OVERDUE): S.UNDER_REVIEW,
            (S.APPEALED, E.ESCALATE_OVERDUE): S.APPEALED,
            (S.DECIDED, E.FINALISE): S.CLOSED,
        }.get((state, event))
    if actor == A.ARBITRATOR:
        if (state, event) == (S.UNDER_REVIEW, E.DECIDE):
            return S.DECIDED
        if (state, event) == (S.APPEALED, E.TAKE_UP_APPEAL):
            return S.UNDER_REVIEW
        return None
    if actor == A.SUPPORT and (state, event) == (S.APPEALED, E.TAKE_UP_APPEAL):
        return S.UNDER_REVIEW
    return None  # operators, risk analysts and admins never move a case


steps = st.lists(
    st.tuples(st.sampled_from(list(CaseEvent)), st.sampled_from(list(Actor))), max_size=60
)


@settings(max_examples=400, deadline=None)
@given(steps)
def test_the_dispute_table_matches_the_reference_model_on_any_walk(
    walk: list[tuple[CaseEvent, Actor]],
) -> None:
    state = S.OPEN
    for event, actor in walk:
        expected = reference(state, event, actor)
        try:
            row = CASE_TRANSITIONS.fire(state, event, actor)
        except TransitionNotAllowed:
            assert expected is None, (
                f"{state}/{event}/{actor}: table refuses, reference allows {expected}"
            )
            continue
        assert row.target == expected, (
            f"{state}/{event}/{actor}: table {row.target}, reference {expected}"
        )
        state = row.target


def test_every_state_and_move_of_the_table_is_in_the_reference() -> None:
    for state in CaseState:
        for event in CaseEvent:
            for actor in Actor:
                allowed = CASE_TRANSITIONS.allows(state, event, actor)
                assert allowed == (reference(state, event, actor) is not None), (
                    state,
                    event,
                    actor,
                )


def test_only_an_arbitrator_decides_and_closed_is_final() -> None:
    deciders = {r.actor for r in CASE_TRANSITIONS.rows if r.event == E.DECIDE}
    assert deciders == {A.ARBITRATOR}
    assert not [r for r in CASE_TRANSITIONS.rows if r.source == S.CLOSED]
