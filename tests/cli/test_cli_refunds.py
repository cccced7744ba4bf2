"""``tradeguard refunds list/show``: refund requests from the shell, refusals in one line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tradeguard.adapters.cli.main import cli
from tradeguard.bootstrap import build_app
from tradeguard.kernel.parties import OPERATOR, buyer, seller
from tradeguard.orders.model import GoodsKind
from tradeguard.orders.rules import CartLine


def _db_with_a_refund(path: Path) -> tuple[str, str]:
    app = build_app(f"sqlite:///{path}")
    app.orders.register_listing("l1", "s1", "item", GoodsKind.PHYSICAL)
    checkout = app.orders.create_checkout("b1", "CNY", [CartLine("l1", 1, 5_000)])
    order = checkout.orders[0]
    app.orders.confirm_payment(checkout.payment_group_id, 5_000, "CNY", "psp-1", OPERATOR)
    app.orders.ship(order.id, seller("s1"), carrier="SF", tracking_number="SF1")
    request = app.aftersales.request(
        order.id, buyer("b1"), kind="partial_refund", reason="price_difference", amount_minor=800
    )
    app.close()
    return order.id, request.id


def test_refunds_show_prints_the_request_as_json(tmp_path: Path) -> None:
    db = tmp_path / "tg.db"
    order_id, request_id = _db_with_a_refund(db)
    result = CliRunner().invoke(cli, ["refunds", "show", request_id, "--db", f"sqlite:///{db}"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["order_id"] == order_id
    assert shown["requested_minor"] == 800
    assert shown["state"] == "requested"


def test_refunds_list_lists_an_orders_requests(tmp_path: Path) -> None:
    db = tmp_path / "tg.db"
    order_id, _ = _db_with_a_refund(db)
    result = CliRunner().invoke(
        cli, ["refunds", "list", "--order", order_id, "--json", "--db", f"sqlite:///{db}"]
    )
    assert result.exit_code == 0, result.output
    [listed] = json.loads(result.stdout)
    assert (listed["order_id"], listed["kind"]) == (order_id, "partial_refund")


def test_refunds_show_of_an_unknown_request_is_one_error_line(tmp_path: Path) -> None:
    db = tmp_path / "tg.db"
    _db_with_a_refund(db)
    result = CliRunner().invoke(cli, ["refunds", "show", "rf_nope", "--db", f"sqlite:///{db}"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == ["error: No refund request 'rf_nope'."]
