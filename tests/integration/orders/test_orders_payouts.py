"""Settlement: a seller withdraws its available balance; a failed payout returns the money."""

import pytest

from tradeguard.kernel.errors import Forbidden, NotFound, TransitionNotAllowed, ValidationFailed
from tradeguard.kernel.parties import OPERATOR, buyer, seller
from tradeguard.ledger.errors import InsufficientFunds
from tradeguard.orders.model import PayoutState


@pytest.fixture
def earned(market):
    """Seller s1 holds 98.00 available from one completed 100.00 sale."""
    market.completed_order(seller_id="s1", price=10_000)
    assert market.balance("seller:s1:available") == 9_800
    return 9_800


@pytest.mark.parametrize("party", [seller("s1"), OPERATOR], ids=["seller", "operator"])
def test_seller_withdraws_from_the_available_balance(market, earned, party) -> None:
    # when
    payout = market.app.payouts.request("s1", 5_000, "CNY", party)
    # then
    assert payout.state == PayoutState.PAID
    assert (payout.seller_id, payout.amount_minor, payout.currency) == ("s1", 5_000, "CNY")
    assert market.balance("seller:s1:available") == earned - 5_000
    assert market.balance("seller:s1:payouts") == 5_000
    assert market.app.payouts.get(payout.id, seller("s1")) == payout
    assert market.app.verify_ledger() == []


def test_seller_may_withdraw_everything_it_holds(market, earned) -> None:
    # when
    market.app.payouts.request("s1", earned, "CNY", seller("s1"))
    # then
    assert market.balance("seller:s1:available") == 0
    assert market.app.verify_ledger() == []


@pytest.mark.parametrize(
    ("amount", "currency"),
    [(9_801, "CNY"), (100, "USD")],
    ids=["one-fen-too-much", "other-currency"],
)
def test_seller_cannot_withdraw_more_than_it_holds(market, earned, amount, currency) -> None:
    # given
    before = market.snapshot()
    # when
    with pytest.raises(InsufficientFunds):
        market.app.payouts.request("s1", amount, currency, seller("s1"))
    # then
    assert market.snapshot() == before
    assert market.app.verify_ledger() == []


def test_money_still_in_escrow_cannot_be_withdrawn(market) -> None:
    # given
    market.shipped_order(seller_id="s1", price=10_000)
    before = market.snapshot()
    # when
    with pytest.raises(InsufficientFunds):
        market.app.payouts.request("s1", 1, "CNY", seller("s1"))
    # then
    assert market.snapshot() == before


def test_seller_cannot_withdraw_for_another_seller(market, earned) -> None:
    # given
    before = market.snapshot()
    # when
    with pytest.raises(NotFound):
        market.app.payouts.request("s1", 1_000, "CNY", seller("s2"))
    # then
    assert market.snapshot() == before


def test_a_buyer_cannot_request_a_payout(market, earned) -> None:
    # given
    before = market.snapshot()
    # when
    with pytest.raises(Forbidden):
        market.app.payouts.request("s1", 1_000, "CNY", buyer("b1"))
    # then
    assert market.snapshot() == before


@pytest.mark.parametrize("amount", [0, -100], ids=["zero", "negative"])
def test_a_payout_is_a_positive_amount(market, earned, amount) -> None:
    # when
    with pytest.raises(ValidationFailed):
        market.app.payouts.request("s1", amount, "CNY", seller("s1"))


def test_a_failed_payout_returns_the_money_to_the_available_balance(market, earned) -> None:
    # given
    payout = market.app.payouts.request("s1", 5_000, "CNY", seller("s1"))
    # when
    failed = market.app.payouts.fail(payout.id, "account closed", OPERATOR)
    # then
    assert failed.state == PayoutState.FAILED
    assert failed.failure_reason == "account closed"
    assert failed.failed_at == market.clock.now()
    assert market.balance("seller:s1:available") == earned
    assert market.balance("seller:s1:payouts") == 0
    assert market.app.payouts.get(payout.id, seller("s1")).state == PayoutState.FAILED
    assert market.app.verify_ledger() == []


def test_the_returned_money_can_be_withdrawn_again(market, earned) -> None:
    # given
    payout = market.app.payouts.request("s1", earned, "CNY", seller("s1"))
    market.app.payouts.fail(payout.id, "wrong account number", OPERATOR)
    # when
    market.app.payouts.request("s1", earned, "CNY", seller("s1"))
    # then
    assert market.balance("seller:s1:available") == 0
    assert market.balance("seller:s1:payouts") == earned
    assert market.app.verify_ledger() == []


def test_a_payout_fails_only_once(market, earned) -> None:
    # given
    payout = market.app.payouts.request("s1", 5_000, "CNY", seller("s1"))
    market.app.payouts.fail(payout.id, "account closed", OPERATOR)
    before = market.snapshot()
    # when
    with pytest.raises(TransitionNotAllowed):
        market.app.payouts.fail(payout.id, "account closed", OPERATOR)
    # then
    assert market.snapshot() == before
    assert market.balance("seller:s1:available") == earned


def test_only_the_operator_reports_a_failed_payout(market, earned) -> None:
    # given
    payout = market.app.payouts.request("s1", 5_000, "CNY", seller("s1"))
    before = market.snapshot()
    # when
    with pytest.raises(TransitionNotAllowed):
        market.app.payouts.fail(payout.id, "I want it back", seller("s1"))
    # then
    assert market.snapshot() == before


def test_another_seller_cannot_see_a_payout(market, earned) -> None:
    # given
    payout = market.app.payouts.request("s1", 5_000, "CNY", seller("s1"))
    # when
    with pytest.raises(NotFound):
        market.app.payouts.get(payout.id, seller("s2"))
    # then
    assert market.app.payouts.find(seller("s2"), "s1") == []
    assert [p.id for p in market.app.payouts.find(seller("s1"), None)] == [payout.id]


def test_another_seller_acting_on_a_payout_gets_not_found(market, earned) -> None:
    # given
    payout = market.app.payouts.request("s1", 5_000, "CNY", seller("s1"))
    before = market.snapshot()
    # when
    with pytest.raises(NotFound):
        market.app.payouts.fail(payout.id, "not mine", seller("s2"))
    # then
    assert market.snapshot() == before
