"""Transition tables: validated when built, one row per actor, ``fire`` is the only way to move."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import pytest

from tradeguard.deadlines.model import DEADLINE_TRANSITIONS, DeadlineEvent, DeadlineState
from tradeguard.kernel.errors import TransitionNotAllowed
from tradeguard.kernel.parties import Actor
from tradeguard.kernel.statemachine import InvalidDefinition, Transition, TransitionTable
from tradeguard.orders.model import (
    EVENT_TYPES,
    ORDER_TRANSITIONS,
    PAYOUT_TRANSITIONS,
    OrderEvent,
    OrderState,
    PayoutEvent,
    PayoutState,
)


class Door(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    GONE = "gone"


class DoorEvent(StrEnum):
    OPEN = "open"
    SHUT = "shut"
    REMOVE = "remove"
    KNOCK = "knock"


class DoorEffect(StrEnum):
    CREAK = "creak"
    SLAM = "slam"


class Stuck(StrEnum):
    NEW = "new"
    LOOP_A = "loop_a"
    LOOP_B = "loop_b"
    DONE = "done"


D, DE, DF, A = Door, DoorEvent, DoorEffect, Actor
OS, OE = OrderState, OrderEvent
DS, DV = DeadlineState, DeadlineEvent


def door_table(rows: list[Any]) -> TransitionTable[Door, DoorEvent, DoorEffect]:
    return TransitionTable("door", Door, initial=D.CLOSED, final={D.GONE}, rows=rows)


VALID_DOOR_ROWS = [
    (D.CLOSED, DE.OPEN, (A.BUYER, A.SELLER), D.OPEN, [DF.CREAK]),
    (D.OPEN, DE.SHUT, A.BUYER, D.CLOSED, [DF.SLAM, DF.CREAK]),
    (D.CLOSED, DE.KNOCK, A.SYSTEM, D.CLOSED, []),
    (D.OPEN, DE.REMOVE, A.OPERATOR, D.GONE, [], "only when unhinged"),
    (D.GONE, DE.KNOCK, A.SYSTEM, D.GONE, []),  # a final state may loop on itself
]


@pytest.fixture
def door() -> TransitionTable[Door, DoorEvent, DoorEffect]:
    return door_table(VALID_DOOR_ROWS)


# --- validation at definition time -------------------------------------------------------------


def test_a_well_formed_table_builds(door: TransitionTable[Door, DoorEvent, DoorEffect]) -> None:
    assert door.name == "door"
    assert door.initial == frozenset({D.CLOSED})
    assert door.final == frozenset({D.GONE})


def test_duplicate_rows_for_one_state_event_and_actor_are_refused() -> None:
    # given
    rows = [
        *VALID_DOOR_ROWS,
        (D.CLOSED, DE.OPEN, A.BUYER, D.GONE, []),
    ]

    # when / then
    with pytest.raises(InvalidDefinition, match="duplicate row for closed/open/buyer"):
        door_table(rows)


def test_overlapping_actor_sets_are_duplicate_rows() -> None:
    rows = [
        *VALID_DOOR_ROWS,
        (D.OPEN, DE.SHUT, (A.SELLER, A.BUYER), D.CLOSED, []),
    ]

    with pytest.raises(InvalidDefinition, match="duplicate row for open/shut/buyer"):
        door_table(rows)


def test_the_same_state_and_event_for_different_actors_is_not_a_duplicate() -> None:
    rows = [*VALID_DOOR_ROWS, (D.OPEN, DE.SHUT, A.SELLER, D.OPEN, [])]

    table = door_table(rows)

    assert table.fire(D.OPEN, DE.SHUT, A.SELLER).target == D.OPEN
    assert table.fire(D.OPEN, DE.SHUT, A.BUYER).target == D.CLOSED


def test_unreachable_states_are_refused() -> None:
    # given: nobody ever opens the door, though an open door could be shut or removed
    rows = [
        (D.CLOSED, DE.REMOVE, A.OPERATOR, D.GONE, []),
        (D.OPEN, DE.SHUT, A.BUYER, D.CLOSED, []),
    ]

    # when / then
    with pytest.raises(InvalidDefinition, match=r"door: unreachable states .*'open'"):
        door_table(rows)


def test_a_non_final_state_with_no_exit_is_refused() -> None:
    # given: the door can be opened but never shut or removed
    rows = [
        (D.CLOSED, DE.OPEN, A.BUYER, D.OPEN, []),
        (D.CLOSED, DE.REMOVE, A.OPERATOR, D.GONE, []),
    ]

    with pytest.raises(InvalidDefinition, match="non-final state open has no exit"):
        door_table(rows)


def test_a_self_loop_is_not_an_exit_for_a_non_final_state() -> None:
    rows = [
        (D.CLOSED, DE.OPEN, A.BUYER, D.OPEN, []),
        (D.CLOSED, DE.REMOVE, A.OPERATOR, D.GONE, []),
        (D.OPEN, DE.KNOCK, A.BUYER, D.OPEN, []),
    ]

    with pytest.raises(InvalidDefinition, match="non-final state open has no exit"):
        door_table(rows)


def test_a_final_state_with_an_exit_is_refused() -> None:
    rows = [
        (D.CLOSED, DE.OPEN, A.BUYER, D.OPEN, []),
        (D.OPEN, DE.REMOVE, A.OPERATOR, D.GONE, []),
        (D.GONE, DE.SHUT, A.OPERATOR, D.CLOSED, []),
    ]

    with pytest.raises(InvalidDefinition, match="final state gone has exits"):
        door_table(rows)


def test_a_state_with_no_path_to_a_final_state_is_refused() -> None:
    # given: once in the loop, an order could never end
    rows = [
        (Stuck.NEW, DE.OPEN, A.BUYER, Stuck.LOOP_A, []),
        (Stuck.NEW, DE.REMOVE, A.BUYER, Stuck.DONE, []),
        (Stuck.LOOP_A, DE.OPEN, A.BUYER, Stuck.LOOP_B, []),
        (Stuck.LOOP_B, DE.SHUT, A.BUYER, Stuck.LOOP_A, []),
    ]

    # when / then
    with pytest.raises(
        InvalidDefinition, match=r"stuck: states with no path to a final state .*'loop_a'.*'loop_b'"
    ):
        TransitionTable("stuck", Stuck, initial=Stuck.NEW, final={Stuck.DONE}, rows=rows)


def test_several_initial_states_may_be_given() -> None:
    rows = [
        (D.CLOSED, DE.REMOVE, A.OPERATOR, D.GONE, []),
        (D.OPEN, DE.REMOVE, A.OPERATOR, D.GONE, []),
    ]

    table = TransitionTable("door", Door, initial=[D.CLOSED, D.OPEN], final={D.GONE}, rows=rows)

    assert table.initial == frozenset({D.CLOSED, D.OPEN})


# --- fire, allows, events_for, rows ------------------------------------------------------------


def test_fire_returns_the_matching_row(door: TransitionTable[Door, DoorEvent, DoorEffect]) -> None:
    # when
    row = door.fire(D.OPEN, DE.SHUT, A.BUYER)

    # then
    assert row == Transition(D.OPEN, DE.SHUT, A.BUYER, D.CLOSED, (DF.SLAM, DF.CREAK), None)


def test_fire_keeps_the_guard_of_a_guarded_row(
    door: TransitionTable[Door, DoorEvent, DoorEffect],
) -> None:
    row = door.fire(D.OPEN, DE.REMOVE, A.OPERATOR)

    assert row.target == D.GONE
    assert row.guard == "only when unhinged"


@pytest.mark.parametrize(
    ("state", "event", "actor"),
    [
        (D.OPEN, DE.SHUT, A.SELLER),  # wrong actor
        (D.CLOSED, DE.SHUT, A.BUYER),  # wrong state
        (D.GONE, DE.OPEN, A.BUYER),  # final state
    ],
)
def test_fire_refuses_a_move_with_no_row(
    door: TransitionTable[Door, DoorEvent, DoorEffect],
    state: Door,
    event: DoorEvent,
    actor: Actor,
) -> None:
    # when
    with pytest.raises(TransitionNotAllowed) as caught:
        door.fire(state, event, actor)

    # then
    error = caught.value
    assert (error.machine, error.state, error.event, error.actor) == ("door", state, event, actor)
    message = str(error)
    assert str(event) in message
    assert str(state) in message
    assert str(actor) in message
    assert message == f"Can't {event} a door that is {state} as {actor}."
    assert not door.allows(state, event, actor)


def test_an_actor_set_expands_to_one_row_per_actor(
    door: TransitionTable[Door, DoorEvent, DoorEffect],
) -> None:
    # when
    opening = [r for r in door.rows if r.source == D.CLOSED and r.event == DE.OPEN]

    # then
    assert [r.actor for r in opening] == [A.BUYER, A.SELLER]
    assert all(r.target == D.OPEN and r.effects == (DF.CREAK,) for r in opening)
    assert door.allows(D.CLOSED, DE.OPEN, A.BUYER)
    assert door.allows(D.CLOSED, DE.OPEN, A.SELLER)
    assert not door.allows(D.CLOSED, DE.OPEN, A.OPERATOR)
    assert len(door.rows) == 6


def test_events_for_lists_an_actors_events_in_table_order(
    door: TransitionTable[Door, DoorEvent, DoorEffect],
) -> None:
    assert door.events_for(D.CLOSED, A.BUYER) == [DE.OPEN]
    assert door.events_for(D.CLOSED, A.SYSTEM) == [DE.KNOCK]
    assert door.events_for(D.GONE, A.BUYER) == []


def test_rows_is_a_copy_callers_cannot_corrupt(
    door: TransitionTable[Door, DoorEvent, DoorEffect],
) -> None:
    door.rows.clear()

    assert len(door.rows) == 6


def test_to_markdown_lists_every_row_with_its_actors_joined(
    door: TransitionTable[Door, DoorEvent, DoorEffect],
) -> None:
    assert door.to_markdown().splitlines() == [
        "| source | event | actors | target | effects | guard |",
        "|---|---|---|---|---|---|",
        "| closed | open | buyer, seller | open | creak | — |",
        "| open | shut | buyer | closed | slam, creak | — |",
        "| closed | knock | system | closed | — | — |",
        "| open | remove | operator | gone | — | only when unhinged |",
        "| gone | knock | system | gone | — | — |",
    ]


# --- the real machines ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "table",
    [ORDER_TRANSITIONS, DEADLINE_TRANSITIONS, PAYOUT_TRANSITIONS],
    ids=["order", "deadline", "payout"],
)
def test_the_shipped_transition_tables_pass_validation_when_rebuilt(
    table: TransitionTable[Any, Any, Any],
) -> None:
    # given: every row of the real table, fed back in as specs
    specs = [(r.source, r.event, r.actor, r.target, r.effects, r.guard) for r in table.rows]

    # when
    rebuilt = TransitionTable(table.name, table.states, table.initial, table.final, specs)

    # then
    assert rebuilt.rows == table.rows
    assert rebuilt.to_markdown().count("\n") >= 2


def test_every_order_event_has_an_outbox_event_type() -> None:
    assert set(EVENT_TYPES) == set(OrderEvent)
    assert all(t.startswith("order.") for t in EVENT_TYPES.values())


def test_every_order_event_is_used_by_some_row() -> None:
    assert {r.event for r in ORDER_TRANSITIONS.rows} == set(OrderEvent)


def test_the_order_table_has_design_md_section_4_paths() -> None:
    # given: the main paths, written by hand from DESIGN.md §4
    expected = {
        (OS.AWAITING_PAYMENT, OE.PAY, A.OPERATOR): OS.PAID,
        (OS.AWAITING_PAYMENT, OE.EXPIRE_PAYMENT, A.SYSTEM): OS.CLOSED,
        (OS.AWAITING_PAYMENT, OE.CANCEL, A.BUYER): OS.CLOSED,
        (OS.PAID, OE.SHIP, A.SELLER): OS.SHIPPED,
        (OS.PAID, OE.DELIVER, A.SYSTEM): OS.DELIVERED,  # the automatic delivery record (seed 002)
        (OS.PAID, OE.CLOSE_REFUNDED, A.SYSTEM): OS.CLOSED,
        (OS.SHIPPED, OE.CONFIRM_RECEIPT, A.BUYER): OS.COMPLETED,
        (OS.SHIPPED, OE.AUTO_CONFIRM, A.SYSTEM): OS.COMPLETED,
        (OS.SHIPPED, OE.EXTEND_RECEIPT, A.BUYER): OS.SHIPPED,
        (OS.SHIPPED, OE.CLOSE_REFUNDED, A.SYSTEM): OS.CLOSED,
        (OS.DELIVERED, OE.AUTO_CONFIRM, A.SYSTEM): OS.COMPLETED,
        (OS.DELIVERED, OE.CONFIRM_RECEIPT, A.BUYER): OS.COMPLETED,
    }

    # then
    for (state, event, actor), target in expected.items():
        assert ORDER_TRANSITIONS.fire(state, event, actor).target == target
    assert ORDER_TRANSITIONS.initial == frozenset({OS.AWAITING_PAYMENT})
    assert OS.CLOSED in ORDER_TRANSITIONS.final


@pytest.mark.parametrize(
    ("state", "event", "actor"),
    [
        (OrderState.AWAITING_PAYMENT, OrderEvent.PAY, Actor.BUYER),  # a screenshot is not payment
        (OrderState.PAID, OrderEvent.CONFIRM_RECEIPT, Actor.BUYER),  # nothing shipped yet
        (OrderState.SHIPPED, OrderEvent.CONFIRM_RECEIPT, Actor.SELLER),
        (OrderState.SHIPPED, OrderEvent.REFUND, Actor.BUYER),  # participants never refund
        (OrderState.SHIPPED, OrderEvent.CANCEL, Actor.BUYER),  # no cancel after shipment
    ],
)
def test_the_order_table_refuses_moves_design_md_does_not_allow(
    state: OrderState, event: OrderEvent, actor: Actor
) -> None:
    with pytest.raises(TransitionNotAllowed):
        ORDER_TRANSITIONS.fire(state, event, actor)


def test_a_paused_deadline_resumes_to_pending_and_fired_is_final() -> None:
    assert DEADLINE_TRANSITIONS.fire(DS.PENDING, DV.PAUSE, A.SYSTEM).target == DS.PAUSED
    assert DEADLINE_TRANSITIONS.fire(DS.PAUSED, DV.RESUME, A.SYSTEM).target == DS.PENDING
    assert DEADLINE_TRANSITIONS.final == frozenset({DS.FIRED, DS.OBSOLETE, DS.CANCELLED})
    for event in DV:
        assert not DEADLINE_TRANSITIONS.allows(DS.FIRED, event, A.SYSTEM)


def test_a_payout_can_fail_once() -> None:
    row = PAYOUT_TRANSITIONS.fire(PayoutState.PAID, PayoutEvent.FAIL, Actor.OPERATOR)

    assert row.target == PayoutState.FAILED
    assert not PAYOUT_TRANSITIONS.allows(PayoutState.FAILED, PayoutEvent.FAIL, Actor.OPERATOR)
