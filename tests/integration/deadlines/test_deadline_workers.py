"""Workers fire due deadlines exactly once, and a failing handler changes nothing (DESIGN.md §12)."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from tradeguard.adapters.cli.main import cli
from tradeguard.adapters.storage.tables.deadlines import deadlines as deadlines_table
from tradeguard.adapters.storage.tables.events import outbox_events
from tradeguard.adapters.storage.uow import SqlUnitOfWork
from tradeguard.bootstrap import App
from tradeguard.deadlines import service as deadlines
from tradeguard.deadlines.model import (
    Deadline,
    DeadlineState,
    NewDeadline,
    Outcome,
    WorkerReport,
)
from tradeguard.events.model import DomainEvent
from tradeguard.events.service import record
from tradeguard.kernel.clock import FakeClock
from tradeguard.kernel.parties import OPERATOR
from tradeguard.orders.model import DeadlineKind, GoodsKind, OrderState
from tradeguard.orders.rules import CartLine
from tradeguard.policy import build_policy

if TYPE_CHECKING:
    from tests.conftest import AppFactory, Database


def _unpaid_orders(app: App, count: int, buyer_id: str = "b1") -> list[str]:
    """``count`` orders awaiting payment, one per seller, from as few checkouts as allowed."""
    for n in range(count):
        app.orders.register_listing(f"l{n}", f"s{n}", f"Item {n}", GoodsKind.PHYSICAL)
    limit = app.orders.policy.max_lines_per_order
    order_ids: list[str] = []
    for first in range(0, count, limit):
        lines = [CartLine(f"l{n}", 1, 1_000 + n) for n in range(first, min(count, first + limit))]
        checkout = app.orders.create_checkout(buyer_id, "CNY", lines)
        order_ids.extend(o.id for o in checkout.orders)
    return order_ids


def _closed_events_per_order(database: Database) -> Counter[str]:
    with database.engine.connect() as conn:
        rows = conn.execute(
            select(outbox_events.c.order_id, func.count())
            .where(outbox_events.c.type == "order.closed")
            .group_by(outbox_events.c.order_id)
        ).all()
    return Counter(dict(rows))  # type: ignore[arg-type]


def _deadline_states(database: Database, kind: str) -> Counter[str]:
    with database.engine.connect() as conn:
        rows = conn.execute(
            select(deadlines_table.c.state, func.count())
            .where(deadlines_table.c.kind == kind)
            .group_by(deadlines_table.c.state)
        ).all()
    return Counter(dict(rows))  # type: ignore[arg-type]


def _active(app: App, subject: str) -> list[Deadline]:
    return app.units.run(lambda uow: uow.deadlines.active(subject))


def _run_due(app: App, handlers: dict[str, deadlines.Handler[SqlUnitOfWork]]) -> WorkerReport:
    return deadlines.run_due(app.worker_units, handlers, app.clock)


def test_two_workers_racing_never_fire_a_timer_twice(
    make_app: AppFactory, database: Database, clock: FakeClock
) -> None:
    if database.backend != "postgresql":
        pytest.skip("several workers need FOR UPDATE SKIP LOCKED; SQLite runs exactly one")
    # given: 300 orders whose payment window has run out
    policy = build_policy({"orders": {"max_lines_per_order": 300}})
    setup = make_app(policy=policy)
    order_ids = _unpaid_orders(setup, 300)
    clock.advance(timedelta(hours=72, seconds=1))
    workers = [make_app(policy=policy), make_app(policy=policy)]
    start = threading.Barrier(len(workers))

    def work(app: App) -> WorkerReport:
        total = WorkerReport()
        start.wait()
        while True:
            report = deadlines.run_due(
                app.worker_units,
                app.deadline_handlers(),
                app.clock,
                reminders=app.reminder_handlers(),
                batch_size=7,
            )
            total += report
            if report.handled == 0 and report.failed == 0:
                return total

    # when
    with ThreadPoolExecutor(len(workers)) as pool:
        reports = list(pool.map(work, workers))
    # then
    assert all(r.fired > 0 for r in reports), reports  # both really took part
    assert sum(r.fired for r in reports) == 300
    assert sum(r.obsolete + r.failed + r.reminded for r in reports) == 0
    assert _closed_events_per_order(database) == Counter(dict.fromkeys(order_ids, 1))
    states = _deadline_states(database, DeadlineKind.PAYMENT_WINDOW)
    assert sum(states.values()) == 300
    assert states[DeadlineState.PENDING] == states[DeadlineState.PAUSED] == 0
    orders = setup.orders
    assert {orders.get(i, OPERATOR).order.state for i in order_ids} == {OrderState.CLOSED}
    assert setup.run_deadlines() == WorkerReport()
    assert setup.verify_ledger() == []


@pytest.mark.parametrize("kind", [DeadlineKind.PAYMENT_WINDOW, DeadlineKind.AUTO_CONFIRM])
def test_a_fired_timer_is_recorded_as_fired(
    app: App, database: Database, clock: FakeClock, kind: DeadlineKind
) -> None:
    # given
    (order_id,) = _unpaid_orders(app, 1)
    if kind == DeadlineKind.AUTO_CONFIRM:
        order = app.orders.get(order_id, OPERATOR).order
        app.orders.confirm_payment(
            order.payment_group_id, order.total_minor, "CNY", "psp-1", OPERATOR
        )
        app.orders.ship(order_id, OPERATOR, carrier="SF", tracking_number="SF1")
    clock.advance(timedelta(days=11))
    # when
    report = app.run_deadlines()
    # then
    assert report.fired == 1
    assert _deadline_states(database, kind) == Counter({DeadlineState.FIRED.value: 1})


def test_a_failing_handler_leaves_its_timer_pending_and_its_subject_untouched(
    app: App, database: Database, clock: FakeClock
) -> None:
    # given: three expired payment windows, one of whose handler breaks half-way
    good_1, bad, good_2 = _unpaid_orders(app, 3)
    clock.advance(timedelta(hours=73))
    real = app.deadline_handlers()[DeadlineKind.PAYMENT_WINDOW]

    def breaks_on_bad(uow: SqlUnitOfWork, deadline: Deadline, now: datetime) -> Outcome:
        if deadline.subject_id != bad:
            return real(uow, deadline, now)
        order = uow.orders.get(bad, lock=True)
        assert order is not None
        order.state = OrderState.CLOSED
        order.close_reason = "half-done"
        uow.orders.update(order)
        record(
            uow.outbox, [DomainEvent("order.closed", order.subject, {}, bad)], app.runtime.ids, now
        )
        raise RuntimeError("payment provider unreachable")

    handlers = {DeadlineKind.PAYMENT_WINDOW.value: breaks_on_bad}
    # when
    report = _run_due(app, handlers)
    # then: the others fired in the same batch
    assert report == WorkerReport(fired=2, failed=1)
    for order_id in (good_1, good_2):
        assert app.orders.get(order_id, OPERATOR).order.state == OrderState.CLOSED
    # then: what the handler did before raising was rolled back
    order = app.orders.get(bad, OPERATOR).order
    assert order.state == OrderState.AWAITING_PAYMENT
    assert order.close_reason is None
    assert _closed_events_per_order(database) == Counter({good_1: 1, good_2: 1})
    # then: the timer waits for a retry, with the error on record
    (timer,) = _active(app, f"order:{bad}")
    assert timer.state == DeadlineState.PENDING
    assert timer.attempts == 1
    assert timer.last_error == "RuntimeError: payment provider unreachable"
    assert timer.next_at == clock.now() + timedelta(minutes=1)
    assert timer.due_at < clock.now()
    assert app.verify_ledger() == []


def test_a_failed_timer_is_retried_with_backoff_and_then_fires(app: App, clock: FakeClock) -> None:
    # given
    (order_id,) = _unpaid_orders(app, 1)
    clock.advance(timedelta(hours=73))

    def broken(uow: SqlUnitOfWork, deadline: Deadline, now: datetime) -> Outcome:
        raise LookupError("not today")

    _run_due(app, {DeadlineKind.PAYMENT_WINDOW.value: broken})
    # when: nothing happens before the retry time, then the retry fails again
    early = _run_due(app, {DeadlineKind.PAYMENT_WINDOW.value: broken})
    clock.advance(timedelta(minutes=1))
    second = _run_due(app, {DeadlineKind.PAYMENT_WINDOW.value: broken})
    # then
    assert early == WorkerReport()
    assert second == WorkerReport(failed=1)
    (timer,) = _active(app, f"order:{order_id}")
    assert timer.attempts == 2
    assert timer.next_at == clock.now() + timedelta(minutes=2)
    # when: the handler is healthy again
    clock.advance(timedelta(minutes=2))
    report = app.run_deadlines()
    # then
    assert report.fired == 1
    assert app.orders.get(order_id, OPERATOR).order.state == OrderState.CLOSED
    assert _active(app, f"order:{order_id}") == []


def test_a_timer_without_a_handler_fails_and_stays_pending(app: App, clock: FakeClock) -> None:
    # given
    app.units.run(
        lambda uow: deadlines.schedule(
            uow.deadlines,
            [NewDeadline("nobody.handles", "thing:1", clock.now() + timedelta(hours=1))],
            clock.now(),
        )
    )
    clock.advance(timedelta(hours=2))
    # when
    report = app.run_deadlines()
    # then
    assert report == WorkerReport(failed=1)
    (timer,) = _active(app, "thing:1")
    assert timer.state == DeadlineState.PENDING
    assert "nobody.handles" in (timer.last_error or "")


def test_a_timer_whose_subject_moved_on_is_marked_obsolete(
    app: App, database: Database, clock: FakeClock
) -> None:
    # given: a paid order, and a stale payment-window timer left behind for it
    (order_id,) = _unpaid_orders(app, 1)
    checkout_total = app.orders.get(order_id, OPERATOR).order.total_minor
    group = app.orders.get(order_id, OPERATOR).order.payment_group_id
    app.orders.confirm_payment(group, checkout_total, "CNY", "psp-1", OPERATOR)
    stale = NewDeadline(DeadlineKind.PAYMENT_WINDOW, f"order:{order_id}", clock.now())
    app.units.run(lambda uow: deadlines.schedule(uow.deadlines, [stale], clock.now()))
    clock.advance(timedelta(hours=1))
    # when
    report = app.run_deadlines()
    # then
    assert report == WorkerReport(obsolete=1)
    assert _deadline_states(database, DeadlineKind.PAYMENT_WINDOW)[DeadlineState.OBSOLETE] == 1
    order = app.orders.get(order_id, OPERATOR).order
    assert order.state == OrderState.PAID
    assert order.escrow_minor == checkout_total
    assert _closed_events_per_order(database) == Counter()
    assert app.verify_ledger() == []


def test_a_timer_handled_twice_changes_its_subject_once(
    app: App, database: Database, clock: FakeClock
) -> None:
    # given: the deadline as a worker saw it, before it fired
    (order_id,) = _unpaid_orders(app, 1)
    (seen,) = _active(app, f"order:{order_id}")
    clock.advance(timedelta(hours=73))
    assert app.run_deadlines().fired == 1
    handler = app.deadline_handlers()[DeadlineKind.PAYMENT_WINDOW]
    # when: a second, late worker runs the handler with the same snapshot
    outcome = app.worker_units.run(lambda uow: handler(uow, seen, clock.now()))
    # then
    assert outcome == Outcome.OBSOLETE
    assert _closed_events_per_order(database) == Counter({order_id: 1})
    assert app.orders.get(order_id, OPERATOR).order.state == OrderState.CLOSED


def test_a_timer_fired_late_does_what_it_would_have_done_on_time(
    app: App, clock: FakeClock
) -> None:
    # given: nobody ran the worker for weeks
    (order_id,) = _unpaid_orders(app, 1)
    clock.advance(timedelta(days=40))
    # when
    report = app.run_deadlines()
    # then
    assert report == WorkerReport(fired=1)
    order = app.orders.get(order_id, OPERATOR).order
    assert order.state == OrderState.CLOSED
    assert order.close_reason == "payment_expired"


def test_worker_once_fires_what_is_due_and_prints_counts(
    make_app: AppFactory, database: Database
) -> None:
    # given: orders made long ago, so the worker's system clock finds their timers due
    app = make_app(clock=FakeClock(datetime(2020, 1, 6, 9, 0, tzinfo=UTC)))
    app.orders.register_listing("l1", "s1", "Mug", GoodsKind.PHYSICAL)
    unpaid = [
        app.orders.create_checkout(b, "CNY", [CartLine("l1", 1, 900)]).orders[0].id
        for b in ("b1", "b2")
    ]
    checkout = app.orders.create_checkout("b3", "CNY", [CartLine("l1", 1, 900)])
    app.orders.confirm_payment(checkout.payment_group_id, 900, "CNY", "psp-1", OPERATOR)
    paid = checkout.orders[0].id
    # when
    first = CliRunner().invoke(cli, ["worker", "--once", "--db", database.url])
    again = CliRunner().invoke(cli, ["worker", "--once", "--db", database.url])
    # then: two payment windows closed their orders, the ship-by marked the paid one late
    assert first.exit_code == 0, first.output
    assert first.stdout.strip() == "fired 3, obsolete 0, reminders 0, failed 0"
    assert again.exit_code == 0, again.output
    assert again.stdout.strip() == "fired 0, obsolete 0, reminders 0, failed 0"
    for order_id in unpaid:
        assert app.orders.get(order_id, OPERATOR).order.state == OrderState.CLOSED
    order = app.orders.get(paid, OPERATOR).order
    assert order.state == OrderState.PAID
    assert order.is_late
    assert app.verify_ledger() == []
