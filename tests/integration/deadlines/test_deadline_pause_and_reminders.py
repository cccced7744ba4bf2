"""Pausing keeps a timer's remaining time; reminders fire once and re-arm (DESIGN.md §4, §12)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from tradeguard.adapters.storage.tables.events import outbox_events
from tradeguard.adapters.storage.uow import SqlUnitOfWork
from tradeguard.bootstrap import App
from tradeguard.deadlines import service as deadlines
from tradeguard.deadlines.model import Deadline, DeadlineState, NewDeadline, Outcome, WorkerReport
from tradeguard.kernel.clock import FakeClock
from tradeguard.kernel.errors import Conflict
from tradeguard.kernel.parties import OPERATOR, buyer, seller
from tradeguard.orders.model import DeadlineKind, GoodsKind, OrderState
from tradeguard.orders.rules import CartLine

if TYPE_CHECKING:
    from tests.conftest import Database

KIND = "test.timer"
SUBJECT = "thing:t1"
DAY = timedelta(days=1)


def _fired_subjects() -> tuple[list[str], dict[str, deadlines.Handler[SqlUnitOfWork]]]:
    fired: list[str] = []

    def handle(uow: SqlUnitOfWork, deadline: Deadline, now: datetime) -> Outcome:
        fired.append(deadline.subject)
        return Outcome.FIRED

    return fired, {KIND: handle}


def _remaining(app: App, subject: str = SUBJECT, kind: str = KIND) -> timedelta | None:
    return app.units.run(
        lambda uow: deadlines.remaining(uow.deadlines, subject, kind, app.clock.now())
    )


def _timer(app: App, subject: str = SUBJECT) -> Deadline:
    (timer,) = app.units.run(lambda uow: uow.deadlines.active(subject))
    return timer


def _pause(app: App) -> int:
    return app.units.run(
        lambda uow: deadlines.pause(uow.deadlines, SUBJECT, [KIND], app.clock.now())
    )


def _resume(app: App) -> int:
    return app.units.run(
        lambda uow: deadlines.resume(uow.deadlines, SUBJECT, [KIND], app.clock.now())
    )


def _shipped_order(app: App) -> str:
    app.orders.register_listing("l1", "s1", "Tea set", GoodsKind.PHYSICAL)
    checkout = app.orders.create_checkout("b1", "CNY", [CartLine("l1", 1, 20_000)])
    app.orders.confirm_payment(checkout.payment_group_id, 20_000, "CNY", "psp-1", OPERATOR)
    order_id = checkout.orders[0].id
    app.orders.ship(order_id, seller("s1"), carrier="SF", tracking_number="SF1")
    return order_id


def _events(database: Database, event_type: str) -> int:
    with database.engine.connect() as conn:
        return conn.execute(
            select(func.count())
            .select_from(outbox_events)
            .where(outbox_events.c.type == event_type)
        ).scalar_one()


def test_pause_keeps_the_remaining_time_and_resume_counts_it_from_the_resume(
    app: App, clock: FakeClock
) -> None:
    # given: a timer due in 10 days, 4 of which have passed
    fired, handlers = _fired_subjects()
    start = clock.now()
    app.units.run(
        lambda uow: deadlines.schedule(
            uow.deadlines, [NewDeadline(KIND, SUBJECT, start + 10 * DAY)], start
        )
    )
    clock.advance(4 * DAY)
    # when
    paused = _pause(app)
    # then
    assert paused == 1
    assert _timer(app).state == DeadlineState.PAUSED
    assert _remaining(app) == 6 * DAY
    # when: time passes well beyond the original due time
    clock.advance(30 * DAY)
    report = deadlines.run_due(app.worker_units, handlers, clock)
    # then: a paused timer neither fires nor loses time
    assert report == WorkerReport()
    assert fired == []
    assert _remaining(app) == 6 * DAY
    # when
    resumed = _resume(app)
    # then
    assert resumed == 1
    timer = _timer(app)
    assert timer.state == DeadlineState.PENDING
    assert timer.due_at == clock.now() + 6 * DAY
    assert timer.remaining_on_pause_ms is None
    assert _remaining(app) == 6 * DAY
    # when: just before and at the new due time
    clock.advance(6 * DAY - timedelta(seconds=1))
    before_due = deadlines.run_due(app.worker_units, handlers, clock)
    clock.advance(timedelta(seconds=1))
    at_due = deadlines.run_due(app.worker_units, handlers, clock)
    # then
    assert before_due == WorkerReport()
    assert at_due == WorkerReport(fired=1)
    assert fired == [SUBJECT]
    assert _remaining(app) is None


def test_pausing_twice_or_resuming_a_running_timer_changes_nothing(
    app: App, clock: FakeClock
) -> None:
    # given
    start = clock.now()
    app.units.run(
        lambda uow: deadlines.schedule(
            uow.deadlines, [NewDeadline(KIND, SUBJECT, start + 2 * DAY)], start
        )
    )
    # when / then
    assert _resume(app) == 0
    assert _timer(app).due_at == start + 2 * DAY
    clock.advance(DAY)
    assert _pause(app) == 1
    clock.advance(DAY)
    assert _pause(app) == 0
    assert _remaining(app) == DAY


def test_a_timer_paused_after_its_due_time_resumes_with_nothing_left(
    app: App, clock: FakeClock
) -> None:
    # given: due, but no worker ran yet
    fired, handlers = _fired_subjects()
    start = clock.now()
    app.units.run(
        lambda uow: deadlines.schedule(
            uow.deadlines, [NewDeadline(KIND, SUBJECT, start + DAY)], start
        )
    )
    clock.advance(2 * DAY)
    # when
    _pause(app)
    clock.advance(5 * DAY)
    _resume(app)
    report = deadlines.run_due(app.worker_units, handlers, clock)
    # then
    assert report == WorkerReport(fired=1)
    assert fired == [SUBJECT]


def test_an_order_paused_by_a_dispute_keeps_its_auto_confirm_time(
    app: App, clock: FakeClock
) -> None:
    # given: shipped 3 days ago; auto-confirm is 10 days after shipment
    order_id = _shipped_order(app)
    clock.advance(3 * DAY)
    # when
    app.orders.pause(order_id, "refund requested")
    clock.advance(20 * DAY)
    app.run_deadlines()
    # then
    details = app.orders.get(order_id, OPERATOR)
    assert details.order.state == OrderState.SHIPPED
    assert details.auto_confirm_paused
    assert details.auto_confirm_at is None
    assert _remaining(app, f"order:{order_id}", DeadlineKind.AUTO_CONFIRM) == 7 * DAY
    # when
    app.orders.resume(order_id, "refund withdrawn")
    # then
    details = app.orders.get(order_id, OPERATOR)
    assert not details.auto_confirm_paused
    assert details.auto_confirm_at == clock.now() + 7 * DAY
    # when
    clock.advance(7 * DAY - timedelta(minutes=1))
    app.run_deadlines()
    # then
    assert app.orders.get(order_id, OPERATOR).order.state == OrderState.SHIPPED
    # when
    clock.advance(timedelta(minutes=1))
    app.run_deadlines()
    # then
    order = app.orders.get(order_id, OPERATOR).order
    assert order.state == OrderState.COMPLETED
    assert order.completed_by == "auto_confirm"
    assert app.verify_ledger() == []


def test_auto_confirm_resumes_only_when_every_hold_is_released(app: App, clock: FakeClock) -> None:
    # given: a refund and a dispute both hold the order
    order_id = _shipped_order(app)
    clock.advance(DAY)
    app.orders.pause(order_id, "refund requested")
    clock.advance(DAY)
    app.orders.pause(order_id, "dispute opened")
    # when: the refund ends
    clock.advance(DAY)
    app.orders.resume(order_id, "refund withdrawn")
    # then
    details = app.orders.get(order_id, OPERATOR)
    assert details.auto_confirm_paused
    assert details.order.auto_confirm_holds == 1
    assert _remaining(app, f"order:{order_id}", DeadlineKind.AUTO_CONFIRM) == 9 * DAY
    # when: the dispute ends too
    clock.advance(DAY)
    app.orders.resume(order_id, "dispute closed")
    # then
    assert app.orders.get(order_id, OPERATOR).auto_confirm_at == clock.now() + 9 * DAY
    # when / then: a resume without a hold is refused
    with pytest.raises(Conflict):
        app.orders.resume(order_id, "nothing to resume")


def test_a_reminder_fires_once_before_the_deadline_and_re_arms_when_extended(
    app: App, database: Database, clock: FakeClock
) -> None:
    # given: shipped; auto-confirm in 10 days, its reminder 2 days before
    order_id = _shipped_order(app)
    reminder = "order.auto_confirm_reminder"
    # when
    clock.advance(8 * DAY - timedelta(minutes=1))
    too_early = app.run_deadlines()
    clock.advance(timedelta(minutes=1))
    on_time = app.run_deadlines()
    clock.advance(timedelta(hours=1))
    again = app.run_deadlines()
    # then
    assert too_early == WorkerReport()
    assert on_time == WorkerReport(reminded=1)
    assert again == WorkerReport()
    assert _events(database, reminder) == 1
    assert _timer(app, f"order:{order_id}").reminded_at == clock.now() - timedelta(hours=1)
    # when: with under 3 days left the buyer extends receipt by 3 days
    app.orders.extend_receipt(order_id, buyer("b1"))
    # then: the deadline moved and its reminder is armed again
    timer = _timer(app, f"order:{order_id}")
    shipped_at = app.orders.get(order_id, OPERATOR).order.shipped_at
    assert shipped_at is not None
    assert timer.due_at == shipped_at + 13 * DAY
    assert timer.reminded_at is None
    # when: the original due time passes, then the new reminder time
    clock.set(shipped_at + 10 * DAY)
    at_old_due = app.run_deadlines()
    clock.set(shipped_at + 11 * DAY)
    second_reminder = app.run_deadlines()
    clock.set(shipped_at + 13 * DAY)
    at_new_due = app.run_deadlines()
    # then
    assert at_old_due == WorkerReport()
    assert second_reminder == WorkerReport(reminded=1)
    assert at_new_due == WorkerReport(fired=1)
    assert _events(database, reminder) == 2
    assert app.orders.get(order_id, OPERATOR).order.state == OrderState.COMPLETED


def test_a_reminder_is_skipped_when_the_worker_comes_after_the_deadline(
    app: App, database: Database, clock: FakeClock
) -> None:
    # given: nobody ran the worker during the reminder window
    order_id = _shipped_order(app)
    clock.advance(10 * DAY)
    # when
    report = app.run_deadlines()
    # then
    assert report == WorkerReport(fired=1)
    assert _events(database, "order.auto_confirm_reminder") == 0
    assert app.orders.get(order_id, OPERATOR).order.state == OrderState.COMPLETED


def test_a_ship_by_reminder_goes_out_a_day_before_ship_by(
    app: App, database: Database, clock: FakeClock
) -> None:
    # given: paid, not shipped; ship-by is 72 h after payment
    app.orders.register_listing("l1", "s1", "Tea set", GoodsKind.PHYSICAL)
    checkout = app.orders.create_checkout("b1", "CNY", [CartLine("l1", 1, 20_000)])
    app.orders.confirm_payment(checkout.payment_group_id, 20_000, "CNY", "psp-1", OPERATOR)
    # when
    clock.advance(timedelta(hours=48))
    reminded = app.run_deadlines()
    clock.advance(timedelta(hours=24))
    late = app.run_deadlines()
    # then
    assert reminded == WorkerReport(reminded=1)
    assert late == WorkerReport(fired=1)
    assert _events(database, "order.ship_by_reminder") == 1
    assert app.orders.get(checkout.orders[0].id, OPERATOR).order.is_late
