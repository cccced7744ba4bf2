"""Refunds from escrow ride on transfer idempotency keys: a retry must not count twice."""

from __future__ import annotations

import pytest

from tradeguard.adapters.storage.uow import SqlUnitOfWork
from tradeguard.bootstrap import App
from tradeguard.kernel.parties import OPERATOR
from tradeguard.ledger.errors import IdempotencyKeyReused
from tradeguard.orders.model import GoodsKind, Order, OrderState
from tradeguard.orders.rules import CartLine


def _paid_order(app: App, price_minor: int = 10_000) -> str:
    app.orders.register_listing("l1", "s1", "Kettle", GoodsKind.PHYSICAL)
    checkout = app.orders.create_checkout("b1", "CNY", [CartLine("l1", 1, price_minor)])
    app.orders.confirm_payment(checkout.payment_group_id, price_minor, "CNY", "psp-1", OPERATOR)
    return checkout.orders[0].id


def _refund(app: App, order_id: str, amount_minor: int, reference: str) -> Order:
    def work(uow: SqlUnitOfWork) -> Order:
        return app.orders.refund_from_escrow(uow, order_id, amount_minor, reference, "price drop")

    return app.units.run(work)


def _balances(app: App) -> dict[str, int]:
    return {b.address: b.balance_minor for b in app.balances()}


def test_a_refund_retried_with_the_same_reference_is_counted_once(app: App) -> None:
    # given
    order_id = _paid_order(app)
    _refund(app, order_id, 1_000, "refund:r1")
    # when: the after-sales caller retries after a lost response
    order = _refund(app, order_id, 1_000, "refund:r1")
    # then
    assert order.refunded_minor == 1_000
    assert _balances(app)[f"escrow:order:{order_id}"] == 9_000
    assert app.verify_ledger() == []


def test_a_refund_reference_reused_for_another_amount_is_refused(app: App) -> None:
    # given
    order_id = _paid_order(app)
    _refund(app, order_id, 1_000, "refund:r1")
    before = _balances(app)
    # when / then
    with pytest.raises(IdempotencyKeyReused):
        _refund(app, order_id, 2_000, "refund:r1")
    order = app.orders.get(order_id, OPERATOR).order
    assert order.refunded_minor == 1_000
    assert order.state == OrderState.PAID
    assert _balances(app) == before
    assert app.verify_ledger() == []


def test_refunding_the_whole_escrow_closes_the_order_and_returns_everything(app: App) -> None:
    # given
    order_id = _paid_order(app)
    _refund(app, order_id, 4_000, "refund:r1")
    # when
    order = _refund(app, order_id, 6_000, "refund:r2")
    # then
    assert order.state == OrderState.CLOSED
    assert order.escrow_minor == 0
    balances = _balances(app)
    assert balances["buyer:b1:funding"] == 0
    assert balances[f"escrow:order:{order_id}"] == 0
    assert app.verify_ledger() == []
