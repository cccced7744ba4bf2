"""Posting transfers through the ledger service on real storage (DESIGN.md §3).

Every test runs once on SQLite and once on PostgreSQL (the ``app`` fixture).
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from tradeguard.adapters.storage.tables.ledger import ledger_accounts, ledger_transfers
from tradeguard.adapters.storage.uow import SqlUnitOfWork
from tradeguard.bootstrap import App
from tradeguard.kernel.money import Money
from tradeguard.ledger.errors import IdempotencyKeyReused, InsufficientFunds
from tradeguard.ledger.model import Transfer, TransferReason, TransferRequest
from tradeguard.ledger.service import post_transfers

if TYPE_CHECKING:
    from tests.conftest import AppFactory, Database

CNY = "CNY"


def _request(
    source: str,
    destination: str,
    amount_minor: int,
    key: str,
    *,
    reference: str = "test:ref",
    reason: TransferReason = TransferReason.ESCROW_HOLD,
    currency: str = CNY,
) -> TransferRequest:
    return TransferRequest(
        source, destination, Money(amount_minor, currency), key, reference, reason
    )


def _post(app: App, *requests: TransferRequest) -> list[Transfer]:
    def work(uow: SqlUnitOfWork) -> list[Transfer]:
        return post_transfers(uow.ledger, list(requests), app.clock.now())

    return app.units.run(work)


def _balances(app: App) -> dict[str, int]:
    return {b.address: b.balance_minor for b in app.balances()}


def _transfer_count(database: Database) -> int:
    with database.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(ledger_transfers)).scalar_one()


def _account_count(database: Database) -> int:
    with database.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(ledger_accounts)).scalar_one()


def test_posting_moves_balances_and_every_transfer_is_balanced(app: App) -> None:
    # given
    hold = _request("buyer:b1:funding", "escrow:order:o1", 10_000, "o1:hold", reference="order:o1")
    release = _request(
        "escrow:order:o1",
        "seller:s1:available",
        9_800,
        "o1:release",
        reference="order:o1",
        reason=TransferReason.ESCROW_RELEASE,
    )
    fee = _request(
        "escrow:order:o1",
        "platform:fees",
        200,
        "o1:fee",
        reference="order:o1",
        reason=TransferReason.PLATFORM_FEE,
    )
    # when
    posted = [*_post(app, hold), *_post(app, release, fee)]
    # then
    assert _balances(app) == {
        "buyer:b1:funding": -10_000,
        "escrow:order:o1": 0,
        "platform:fees": 200,
        "seller:s1:available": 9_800,
    }
    assert sum(_balances(app).values()) == 0
    assert [t.idempotency_key for t in posted] == ["o1:hold", "o1:release", "o1:fee"]
    assert all(t.id > 0 and t.created_at == app.clock.now() for t in posted)
    stored = app.units.run(lambda uow: uow.ledger.transfers_by_reference("order:o1"))
    assert [(t.source, t.destination, t.amount) for t in stored] == [
        (t.source, t.destination, t.amount) for t in posted
    ]
    assert app.verify_ledger() == []


def test_a_batch_nets_its_movements_per_account(app: App) -> None:
    # given
    _post(app, _request("platform:capital", "seller:s1:available", 500, "fund"))
    # when: the batch draws the account down below its starting balance only in between
    _post(
        app,
        _request("seller:s1:available", "seller:s1:payouts", 400, "out-1"),
        _request("platform:capital", "seller:s1:available", 300, "in-1"),
        _request("seller:s1:available", "seller:s1:payouts", 400, "out-2"),
    )
    # then
    balances = _balances(app)
    assert balances["seller:s1:available"] == 0
    assert balances["seller:s1:payouts"] == 800
    assert app.verify_ledger() == []


def test_replaying_an_idempotency_key_with_the_same_movement_returns_the_stored_transfer(
    app: App, database: Database
) -> None:
    # given
    request = _request("buyer:b1:funding", "escrow:order:o1", 2_500, "pay:o1")
    (first,) = _post(app, request)
    before = _balances(app)
    # when
    (again,) = _post(app, request)
    # then
    assert again == first
    assert again.id == first.id
    assert _balances(app) == before
    assert _transfer_count(database) == 1
    assert app.verify_ledger() == []


def test_replaying_a_batch_moves_nothing_even_when_the_money_has_left(app: App) -> None:
    # given: the escrow was emptied by the batch being replayed
    _post(app, _request("buyer:b1:funding", "escrow:order:o1", 1_000, "hold"))
    batch = [
        _request(
            "escrow:order:o1",
            "seller:s1:available",
            980,
            "release",
            reason=TransferReason.ESCROW_RELEASE,
        ),
        _request("escrow:order:o1", "platform:fees", 20, "fee", reason=TransferReason.PLATFORM_FEE),
    ]
    first = _post(app, *batch)
    before = _balances(app)
    # when: a retry would overdraw the escrow if it were not recognised as a replay
    again = _post(app, *batch)
    # then
    assert again == first
    assert _balances(app) == before
    assert app.verify_ledger() == []


# Each case changes one thing about the movement; one database serves them all, since a
# refusal must leave it exactly as it was.
DIFFERENT_MONEY = {
    "amount": {"amount_minor": 2_501},
    "destination": {"destination": "escrow:order:o2"},
    "source": {"source": "buyer:b2:funding"},
    "reason": {"reason": TransferReason.REFUND},
    "reference": {"reference": "order:other"},
    "currency": {"currency": "USD"},
}


def test_reusing_an_idempotency_key_for_different_money_is_refused(
    app: App, database: Database
) -> None:
    # given
    original: dict[str, Any] = {
        "source": "buyer:b1:funding",
        "destination": "escrow:order:o1",
        "amount_minor": 2_500,
        "reference": "order:o1",
        "reason": TransferReason.ESCROW_HOLD,
        "currency": CNY,
    }
    _post(app, _request(key="pay:o1", **original))
    before = _balances(app)
    for case, changed in DIFFERENT_MONEY.items():
        # when / then
        with pytest.raises(IdempotencyKeyReused) as refused:
            _post(app, _request(key="pay:o1", **{**original, **changed}))
        assert refused.value.details == {"key": "pay:o1"}, case
        assert _balances(app) == before, case
        assert _transfer_count(database) == 1, case
    assert app.verify_ledger() == []


def test_a_batch_mixing_a_new_key_with_a_reused_one_is_refused_whole(
    app: App, database: Database
) -> None:
    # given
    _post(app, _request("buyer:b1:funding", "escrow:order:o1", 100, "k1"))
    before = _balances(app)
    # when / then
    with pytest.raises(IdempotencyKeyReused):
        _post(
            app,
            _request("buyer:b1:funding", "escrow:order:o2", 300, "k2"),
            _request("buyer:b1:funding", "escrow:order:o1", 999, "k1"),
        )
    assert _balances(app) == before
    assert _transfer_count(database) == 1


NEVER_NEGATIVE = (
    "escrow:order:o1",
    "seller:s1:available",
    "seller:s1:deposit",
    "platform:fees",
    "platform:fees:7",
    "platform:compensation_fund",
)


def test_a_never_negative_account_refuses_to_go_below_zero(app: App, database: Database) -> None:
    # given
    _post(app, *(_request("platform:capital", a, 500, f"fund:{a}") for a in NEVER_NEGATIVE))
    transfers, accounts, before = (
        _transfer_count(database),
        _account_count(database),
        _balances(app),
    )
    for address in NEVER_NEGATIVE:
        # when / then: the overdraft comes in a batch whose other transfer is fine on its own
        with pytest.raises(InsufficientFunds) as refused:
            _post(
                app,
                _request("platform:capital", "seller:new:available", 50, f"unrelated:{address}"),
                _request(address, "buyer:b1:funding", 501, f"overdraw:{address}"),
            )
        assert refused.value.details == {
            "account": address,
            "currency": CNY,
            "balance_minor": 500,
            "needed_minor": 501,
        }
        # then: nothing was written, not even the account the batch would have created
        assert _transfer_count(database) == transfers, address
        assert _account_count(database) == accounts, address
        assert _balances(app) == before, address
    assert app.verify_ledger() == []


def test_a_never_negative_account_may_be_emptied_exactly(app: App) -> None:
    # given
    _post(app, _request("platform:capital", "seller:s1:deposit", 500, "fund"))
    # when
    _post(app, _request("seller:s1:deposit", "seller:s1:available", 500, "release-deposit"))
    # then
    assert _balances(app)["seller:s1:deposit"] == 0
    assert app.verify_ledger() == []


def test_a_never_negative_account_is_refused_in_its_own_currency_only(app: App) -> None:
    # given: CNY in the escrow, nothing in USD
    _post(app, _request("buyer:b1:funding", "escrow:order:o1", 500, "cny"))
    # when / then
    with pytest.raises(InsufficientFunds):
        _post(
            app,
            _request("escrow:order:o1", "buyer:b1:funding", 1, "usd", currency="USD"),
        )
    assert app.verify_ledger() == []


MAY_GO_NEGATIVE = (
    "buyer:b1:funding",
    "platform:capital",
    "seller:s1:payouts",
    "platform:receivable:seller:s1",
    "insurer:freight",
    "carrier:sf:claims",
)


def test_outside_money_and_claims_may_go_negative(app: App) -> None:
    # given: nothing was ever put into these accounts
    # when
    _post(
        app,
        *(
            _request(a, f"escrow:order:{n}", 12_345, f"hold:{n}")
            for n, a in enumerate(MAY_GO_NEGATIVE)
        ),
    )
    # then
    balances = _balances(app)
    assert {a: balances[a] for a in MAY_GO_NEGATIVE} == dict.fromkeys(MAY_GO_NEGATIVE, -12_345)
    assert app.verify_ledger() == []


def test_transfer_idempotency_keys_are_unique_in_the_database(app: App, database: Database) -> None:
    # given
    (posted,) = _post(app, _request("buyer:b1:funding", "escrow:order:o1", 100, "once"))
    with database.engine.connect() as conn:
        row = dict(
            conn.execute(select(ledger_transfers).where(ledger_transfers.c.id == posted.id))
            .mappings()
            .one()
        )
    row.pop("id")
    row["amount_minor"] = 1
    # when / then: a writer that skips the service still cannot take the key twice
    with pytest.raises(IntegrityError), database.engine.begin() as conn:
        conn.execute(insert(ledger_transfers).values(row))
    assert _transfer_count(database) == 1


REWRITES = (
    "UPDATE ledger_transfers SET amount_minor = amount_minor + 1",
    "UPDATE ledger_transfers SET reference = 'rewritten'",
    "UPDATE ledger_transfers SET idempotency_key = idempotency_key || '-x'",
    "DELETE FROM ledger_transfers",
)


def test_transfers_are_immutable_in_the_database(app: App, database: Database) -> None:
    # given
    _post(app, _request("buyer:b1:funding", "escrow:order:o1", 700, "hold"))
    with database.engine.connect() as conn:
        before = conn.execute(select(ledger_transfers)).all()
    for statement in REWRITES:
        # when / then: whoever writes, the database refuses
        with pytest.raises(DBAPIError, match="immutable"), database.engine.begin() as conn:
            conn.execute(text(statement))
        with database.engine.connect() as conn:
            assert conn.execute(select(ledger_transfers)).all() == before, statement
    assert app.verify_ledger() == []


def test_concurrent_transfers_never_overdraw_a_shared_account(
    make_app: AppFactory, database: Database
) -> None:
    if database.backend != "postgresql":
        pytest.skip("SQLite has one writer at a time; row locking is PostgreSQL's business")
    # given: one funded never-negative account that 8 workers drain at once
    app = make_app()
    threads, per_thread, amount, funded = 8, 60, 10, 4_000
    _post(app, _request("platform:capital", "seller:pool:available", funded, "fund"))
    destinations = [f"seller:d{i}:available" for i in range(4)]
    start = threading.Barrier(threads)

    def drain(worker: int) -> Counter[str]:
        rng = random.Random(worker)
        outcome: Counter[str] = Counter()
        start.wait()
        for n in range(per_thread):
            request = _request(
                "seller:pool:available",
                rng.choice(destinations),
                amount,
                f"w{worker}:{n}",
                reason=TransferReason.PAYOUT,
            )
            try:
                _post(app, request)
            except InsufficientFunds:
                outcome["refused"] += 1
            else:
                outcome["posted"] += 1
        return outcome

    # when
    with ThreadPoolExecutor(threads) as pool:
        outcomes = list(pool.map(drain, range(threads)))
    # then
    total = sum(outcomes, Counter())
    assert total["posted"] + total["refused"] == threads * per_thread
    assert total["posted"] * amount == funded
    balances = _balances(app)
    assert balances["seller:pool:available"] == 0
    assert sum(balances[d] for d in destinations) == funded
    assert _transfer_count(database) == 1 + total["posted"]
    assert app.verify_ledger() == []
