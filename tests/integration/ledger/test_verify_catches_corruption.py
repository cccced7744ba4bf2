"""``tradeguard ledger verify`` catches each invariant of DESIGN.md §3.

A small healthy ledger is built through the real services; then, one case at a
time, rows are corrupted with plain SQL (as a bug or a hand edit would) and the
check must name the broken invariant, in the API and on the command line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Connection, select, text
from typer.testing import CliRunner

from tradeguard.adapters.cli.main import cli
from tradeguard.adapters.storage.tables.ledger import ledger_accounts, ledger_transfers
from tradeguard.bootstrap import App
from tradeguard.kernel.parties import OPERATOR, buyer, seller
from tradeguard.ledger.model import Invariant, TransferReason
from tradeguard.orders.model import GoodsKind, OrderState
from tradeguard.orders.rules import CartLine

if TYPE_CHECKING:
    from tests.conftest import Database


@dataclass(frozen=True)
class Healthy:
    """The orders of the healthy ledger, by what happened to them."""

    completed: str  # physical, shipped and confirmed by the buyer
    completed_virtual: str  # virtual, delivered and confirmed
    paid: str  # paid, waiting for shipment: its escrow holds money
    refunded: str  # paid, then cancelled by the seller: escrow went back to the buyer
    unpaid: str


def _build_healthy_ledger(app: App) -> Healthy:
    orders = app.orders
    orders.register_listing("case", "s1", "Phone case", GoodsKind.PHYSICAL)
    orders.register_listing("lamp", "s2", "Desk lamp", GoodsKind.PHYSICAL)
    orders.register_listing("topup", "s3", "Game top-up", GoodsKind.VIRTUAL)
    cart = orders.create_checkout(
        "b1", "CNY", [CartLine("case", 2, 1_550), CartLine("lamp", 1, 8_999)], {"s1": 800}
    )
    completed, paid = (o.id for o in cart.orders)
    orders.confirm_payment(cart.payment_group_id, cart.total_minor, "CNY", "psp-1", OPERATOR)
    orders.ship(completed, seller("s1"), carrier="SF", tracking_number="SF100")
    orders.confirm_receipt(completed, buyer("b1"))

    virtual = orders.create_checkout("b2", "CNY", [CartLine("topup", 1, 5_000)])
    completed_virtual = virtual.orders[0].id
    orders.confirm_payment(virtual.payment_group_id, 5_000, "CNY", "psp-2", OPERATOR)
    orders.deliver(completed_virtual, seller("s3"), detail="credited account 42")
    orders.confirm_receipt(completed_virtual, buyer("b2"))

    cancelled = orders.create_checkout("b3", "CNY", [CartLine("case", 1, 1_550)], {"s1": 500})
    refunded = cancelled.orders[0].id
    orders.confirm_payment(cancelled.payment_group_id, 2_050, "CNY", "psp-3", OPERATOR)
    orders.cancel(refunded, seller("s1"), reason="out of stock")

    unpaid = orders.create_checkout("b1", "CNY", [CartLine("lamp", 1, 8_999)]).orders[0].id

    states = {
        order_id: orders.get(order_id, OPERATOR).order.state
        for order_id in (completed, completed_virtual, paid, refunded, unpaid)
    }
    assert states == {
        completed: OrderState.COMPLETED,
        completed_virtual: OrderState.COMPLETED,
        paid: OrderState.PAID,
        refunded: OrderState.CLOSED,
        unpaid: OrderState.AWAITING_PAYMENT,
    }
    return Healthy(completed, completed_virtual, paid, refunded, unpaid)


def _account_id(conn: Connection, address: str) -> int:
    return conn.execute(
        select(ledger_accounts.c.id).where(ledger_accounts.c.address == address)
    ).scalar_one()


# -- corruptions: each takes an open transaction on the test database --------------------------

Corruption = Callable[[Connection, Healthy], None]


def _bump_cached_balance(conn: Connection, orders: Healthy) -> None:
    conn.execute(
        text(
            "UPDATE ledger_accounts SET balance_minor = balance_minor + 1 "
            "WHERE address = 'seller:s1:available'"
        )
    )


def _make_escrow_negative(conn: Connection, orders: Healthy) -> None:
    # The CHECK constraint is the last line of defence; a hand edit must get past it first.
    if conn.dialect.name == "postgresql":
        conn.execute(
            text("ALTER TABLE ledger_accounts DROP CONSTRAINT ck_ledger_accounts_non_negative")
        )
    else:
        conn.execute(text("PRAGMA ignore_check_constraints = ON"))
    conn.execute(
        text("UPDATE ledger_accounts SET balance_minor = -1 WHERE address = :address"),
        {"address": f"escrow:order:{orders.paid}"},
    )
    if conn.dialect.name == "sqlite":
        conn.execute(text("PRAGMA ignore_check_constraints = OFF"))


def _corrupt_account_kind(conn: Connection, orders: Healthy) -> None:
    # An escrow recorded as buyer money would escape the CHECK constraint from then on.
    conn.execute(
        text("UPDATE ledger_accounts SET kind = 'buyer_funding' WHERE address = :address"),
        {"address": f"escrow:order:{orders.paid}"},
    )


def _change_transfer_currency(conn: Connection, orders: Healthy) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(
            text("ALTER TABLE ledger_transfers DISABLE TRIGGER ledger_transfers_immutable")
        )
    else:
        conn.execute(text("DROP TRIGGER ledger_transfers_no_update"))
    conn.execute(
        text("UPDATE ledger_transfers SET currency = 'USD' WHERE idempotency_key = :key"),
        {"key": f"order:{orders.paid}:escrow_hold"},
    )


def _edit_released_amount(conn: Connection, orders: Healthy) -> None:
    conn.execute(
        text("UPDATE orders SET released_minor = released_minor - 100 WHERE id = :id"),
        {"id": orders.completed},
    )


def _release_twice(conn: Connection, orders: Healthy) -> None:
    escrow = _account_id(conn, f"escrow:order:{orders.completed}")
    conn.execute(
        ledger_transfers.insert().values(
            idempotency_key=f"order:{orders.completed}:escrow_release:again",
            source_account_id=escrow,
            destination_account_id=_account_id(conn, "seller:s1:available"),
            currency="CNY",
            amount_minor=1,
            reference=f"order:{orders.completed}",
            reason=TransferReason.ESCROW_RELEASE.value,
            created_at=conn.execute(
                select(ledger_transfers.c.created_at).order_by(ledger_transfers.c.id.desc())
            )
            .scalars()
            .first(),
        )
    )


CASES: list[tuple[Invariant, Corruption]] = [
    (Invariant.BALANCES_SUM_TO_ZERO, _bump_cached_balance),
    (Invariant.CACHED_BALANCE_MATCHES_TRANSFERS, _bump_cached_balance),
    (Invariant.NON_NEGATIVE_ACCOUNTS, _make_escrow_negative),
    (Invariant.NON_NEGATIVE_ACCOUNTS, _corrupt_account_kind),
    (Invariant.TRANSFERS_WELL_FORMED, _change_transfer_currency),
    (Invariant.ESCROW_MATCHES_ORDER, _edit_released_amount),
    (Invariant.NOTHING_RELEASED_OR_REFUNDED_TWICE, _release_twice),
]


@pytest.fixture
def restore_schema(database: Database) -> Iterator[None]:
    """Put back the CHECK constraint and the trigger a case removed (PostgreSQL keeps its schema)."""
    definition = None
    if database.backend == "postgresql":
        with database.engine.connect() as conn:
            definition = conn.execute(
                text(
                    "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conname = 'ck_ledger_accounts_non_negative'"
                )
            ).scalar_one()
    yield
    if database.backend != "postgresql":
        return  # every SQLite test starts from a fresh copy of the migrated template
    with database.engine.begin() as conn:
        present = conn.execute(
            text("SELECT 1 FROM pg_constraint WHERE conname = 'ck_ledger_accounts_non_negative'")
        ).first()
        if present is None:
            # The corrupted rows go with the next test's reset; only the constraint must come back.
            conn.execute(
                text("UPDATE ledger_accounts SET balance_minor = 0 WHERE balance_minor < 0")
            )
            conn.execute(
                text(
                    "ALTER TABLE ledger_accounts ADD CONSTRAINT "
                    f"ck_ledger_accounts_non_negative {definition}"
                )
            )
        conn.execute(text("ALTER TABLE ledger_transfers ENABLE TRIGGER ledger_transfers_immutable"))


def test_every_invariant_has_a_corruption_case() -> None:
    # given
    covered = {invariant for invariant, _ in CASES}
    # when / then
    assert covered == set(Invariant)


def test_a_healthy_ledger_verifies_in_the_api_and_the_cli(app: App, database: Database) -> None:
    # given
    _build_healthy_ledger(app)
    # when
    result = CliRunner().invoke(cli, ["ledger", "verify", "--db", database.url])
    # then
    assert app.verify_ledger() == []
    assert result.exit_code == 0, result.output
    assert "ledger ok" in result.stdout


@pytest.mark.usefixtures("restore_schema")
@pytest.mark.parametrize(
    ("invariant", "corrupt"),
    CASES,
    ids=[f"{invariant.value}-{corrupt.__name__.lstrip('_')}" for invariant, corrupt in CASES],
)
def test_verify_names_the_broken_invariant(
    app: App, database: Database, invariant: Invariant, corrupt: Corruption
) -> None:
    # given
    orders = _build_healthy_ledger(app)
    assert app.verify_ledger() == []
    # when
    with database.engine.begin() as conn:
        corrupt(conn, orders)
    violations = app.verify_ledger()
    result = CliRunner().invoke(cli, ["ledger", "verify", "--db", database.url])
    # then
    assert invariant in {v.invariant for v in violations}, violations
    assert result.exit_code == 1, result.output
    assert invariant.value in result.stderr
    assert f"violated {invariant.value}:" in result.stderr
    assert "Traceback" not in result.output
