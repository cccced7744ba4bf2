"""DESIGN.md §3 and §12 under concurrency: nothing is escrowed, released or fired twice."""

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from tradeguard.kernel.errors import TransitionNotAllowed
from tradeguard.kernel.parties import OPERATOR, buyer
from tradeguard.orders.model import OrderState


def _race(*calls: Callable[[], Any]) -> list[Any]:
    """Start every call at the same moment; return each one's result or the exception it raised."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(n: int, call: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[n] = call()
        except Exception as exc:  # the test inspects what each racer got
            results[n] = exc

    threads = [threading.Thread(target=run, args=(n, c)) for n, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_buyer_confirming_while_auto_confirm_fires_releases_escrow_once(market) -> None:
    # given
    order_id = market.shipped_order(price=10_000)
    market.clock.advance(timedelta(days=10))
    # when
    worker, confirmation = _race(
        market.app.run_deadlines, lambda: market.app.orders.confirm_receipt(order_id, buyer("b1"))
    )
    # then
    assert isinstance(confirmation, TransitionNotAllowed) or confirmation.id == order_id
    order = market.get(order_id)
    assert order.state == OrderState.COMPLETED
    assert order.completed_by == ("buyer" if worker.fired == 0 else "auto_confirm")
    assert market.balance("seller:s1:available") == 9_800
    assert market.fees() == 200
    assert market.app.verify_ledger() == []


def test_two_workers_complete_each_due_order_once(market) -> None:
    # given
    order_ids = [market.shipped_order(buyer_id=f"b{n}", price=10_000) for n in range(6)]
    market.clock.advance(timedelta(days=10))
    # when
    reports = _race(market.app.run_deadlines, market.app.run_deadlines)
    # then
    assert sum(r.fired for r in reports) == 6
    assert sum(r.failed for r in reports) == 0
    assert {market.get(o).state for o in order_ids} == {OrderState.COMPLETED}
    assert market.balance("seller:s1:available") == 6 * 9_800
    assert market.app.verify_ledger() == []


def test_a_payment_notification_delivered_twice_at_once_escrows_once(market) -> None:
    # given
    order_id = market.order(price=10_000)
    group_id = market.get(order_id).payment_group_id

    def notify() -> Any:
        return market.app.orders.confirm_payment(group_id, 10_000, "CNY", "psp-1", OPERATOR)

    # when
    results = _race(notify, notify, notify)
    # then
    assert not [r for r in results if isinstance(r, Exception)]
    assert market.escrow(order_id) == 10_000
    assert market.balance("buyer:b1:funding") == -10_000
    assert market.event_types(order_id).count("order.paid") == 1
    assert market.app.verify_ledger() == []


def test_late_compensation_claimed_twice_at_once_is_paid_once(market) -> None:
    # given
    order_id = market.late_order(price=10_000)

    def claim() -> Any:
        return market.app.orders.claim_late_compensation(order_id, buyer("b1"))

    # when
    results = _race(claim, claim)
    # then
    assert sum(isinstance(r, TransitionNotAllowed) for r in results) == 1
    assert market.balance("buyer:b1:funding") == -10_000 + 500
    assert market.app.verify_ledger() == []
