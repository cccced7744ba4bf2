"""Accounts watched while posting: locked if they exist, never created, known without a read.

A release locks the seller's receivable with the accounts it moves, because
settlement reads it right after (DESIGN.md §3-4). Every test runs on SQLite and
PostgreSQL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradeguard.adapters.storage.uow import SqlUnitOfWork
from tradeguard.bootstrap import App
from tradeguard.kernel.money import Money
from tradeguard.ledger.model import AccountKey, TransferReason, TransferRequest
from tradeguard.ledger.service import post_transfers

if TYPE_CHECKING:
    from tests.conftest import Database

CNY = "CNY"
RECEIVABLE = AccountKey("platform:receivable:seller:s1", CNY)


def _transfer(source: str, destination: str, amount_minor: int, key: str) -> TransferRequest:
    return TransferRequest(
        source, destination, Money(amount_minor, CNY), key, "test:ref", TransferReason.ESCROW_HOLD
    )


def _addresses(app: App) -> set[str]:
    return {b.address for b in app.balances()}


def test_a_watched_account_that_does_not_exist_is_not_created(app: App) -> None:
    def work(uow: SqlUnitOfWork) -> int:
        post_transfers(
            uow.ledger,
            [_transfer("buyer:b1:funding", "escrow:order:o1", 500, "k1")],
            app.clock.now(),
            watch=[RECEIVABLE],
        )
        return uow.ledger.balance(RECEIVABLE)

    assert app.units.run(work) == 0
    assert RECEIVABLE.address not in _addresses(app)


def test_a_watched_account_that_exists_is_known_with_its_balance(app: App) -> None:
    # the platform advanced 300 to the seller: the receivable holds -300
    app.units.run(
        lambda uow: post_transfers(
            uow.ledger,
            [_transfer(RECEIVABLE.address, "seller:s1:available", 300, "advance")],
            app.clock.now(),
        )
    )

    def work(uow: SqlUnitOfWork) -> int:
        post_transfers(
            uow.ledger,
            [
                _transfer("buyer:b1:funding", "escrow:order:o1", 200, "k1"),
                _transfer("escrow:order:o1", "seller:s1:available", 200, "k2"),
            ],
            app.clock.now(),
            watch=[RECEIVABLE],
        )
        return uow.ledger.balance(RECEIVABLE)

    assert app.units.run(work) == -300


def test_the_balance_of_a_locked_account_includes_what_the_unit_moved(app: App) -> None:
    def work(uow: SqlUnitOfWork) -> tuple[int, int]:
        post_transfers(
            uow.ledger,
            [_transfer("buyer:b1:funding", "escrow:order:o1", 500, "k1")],
            app.clock.now(),
        )
        first = uow.ledger.balance(AccountKey("escrow:order:o1", CNY))
        post_transfers(
            uow.ledger,
            [_transfer("escrow:order:o1", "seller:s1:available", 200, "k2")],
            app.clock.now(),
        )
        return first, uow.ledger.balance(AccountKey("escrow:order:o1", CNY))

    assert app.units.run(work) == (500, 300)


def test_the_balance_of_an_account_the_unit_never_touched_is_read(
    app: App, database: Database
) -> None:
    app.units.run(
        lambda uow: post_transfers(
            uow.ledger,
            [_transfer("buyer:b1:funding", "escrow:order:o1", 500, "k1")],
            app.clock.now(),
        )
    )
    assert app.units.run(lambda uow: uow.ledger.balance(AccountKey("escrow:order:o1", CNY))) == 500
    assert app.units.run(lambda uow: uow.ledger.balance(AccountKey("escrow:order:o9", CNY))) == 0
    assert app.units.run(lambda uow: uow.ledger.balance(AccountKey("escrow:order:o1", "USD"))) == 0
