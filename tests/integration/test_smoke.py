from tradeguard.bootstrap import App
from tradeguard.kernel.parties import OPERATOR, buyer, seller
from tradeguard.orders.model import GoodsKind, OrderState
from tradeguard.orders.rules import CartLine


def test_a_full_lifecycle_releases_escrow_to_the_seller(app: App) -> None:
    # given
    app.orders.register_listing("l1", "s1", "Phone case", GoodsKind.PHYSICAL)
    checkout = app.orders.create_checkout("b1", "CNY", [CartLine("l1", 2, 1500)], {"s1": 800})
    order_id = checkout.orders[0].id
    # when
    app.orders.confirm_payment(checkout.payment_group_id, 3800, "CNY", "psp-1", OPERATOR)
    app.orders.ship(order_id, seller("s1"), carrier="SF", tracking_number="SF1")
    app.orders.confirm_receipt(order_id, buyer("b1"))
    # then
    order = app.orders.get(order_id, buyer("b1")).order
    assert order.state == OrderState.COMPLETED
    assert order.escrow_minor == 0
    balances = {b.address: b.balance_minor for b in app.balances()}
    assert balances["seller:s1:available"] == 3800 - 76
    assert app.verify_ledger() == []
