"""DESIGN.md §5, where the money comes from: seller balance, platform advances, recovery, payout holds."""

from datetime import timedelta

import pytest

from tradeguard.kernel.money import Money
from tradeguard.kernel.parties import OPERATOR, buyer, seller
from tradeguard.ledger.model import TransferReason, TransferRequest
from tradeguard.ledger.service import post_transfers
from tradeguard.orders.settlement import FundExhausted, PayoutHeld, Source


def _pay(market, amount: int, key: str = "k1") -> Source:
    return market.app.units.run(
        lambda uow: market.app.settlement.pay_buyer(
            uow,
            seller_id="s1",
            buyer_id="b1",
            amount=Money(amount, "CNY"),
            key=key,
            reference="refund:r1",
            reason=TransferReason.REFUND,
        )
    )


def test_a_payment_the_seller_can_afford_comes_from_its_available_balance(market) -> None:
    # given
    market.completed_order(buyer_id="b0", price=10_000)
    available = market.balance("seller:s1:available")
    # when
    source = _pay(market, 3_000)
    # then
    assert source == Source.SELLER_AVAILABLE
    assert market.balance("seller:s1:available") == available - 3_000
    assert market.balance("platform:receivable:seller:s1") == 0


def test_a_payment_the_seller_cannot_afford_is_advanced_against_a_receivable(market) -> None:
    # given
    market.app.settlement.top_up_fund(50_000, "CNY", "bank-1")
    # when
    source = _pay(market, 3_000)
    # then
    assert source == Source.ADVANCE
    assert market.balance("buyer:b1:funding") == 3_000
    assert market.balance("platform:receivable:seller:s1") == -3_000
    status = market.app.settlement.fund_status("CNY")
    assert (status.balance_minor, status.receivables_outstanding_minor, status.headroom_minor) == (
        50_000,
        3_000,
        47_000,
    )
    feed = market.app.units.run(lambda uow: uow.outbox.after(0, 1000, include_unsettled=True))
    assert [e.type for e in feed if e.type.startswith("settlement.")] == ["settlement.advanced"]


def test_an_advance_beyond_what_the_fund_can_back_is_refused_and_changes_nothing(market) -> None:
    # given
    market.app.settlement.top_up_fund(2_000, "CNY", "bank-1")
    before = market.snapshot()
    # when / then
    with pytest.raises(FundExhausted):
        _pay(market, 3_000)
    assert market.snapshot() == before


def test_the_same_payment_key_pays_once(market) -> None:
    # given
    market.app.settlement.top_up_fund(50_000, "CNY", "bank-1")
    _pay(market, 3_000, key="refund:r1:pay")
    # when
    market.app.units.run(
        lambda uow: post_transfers(
            uow.ledger,
            [
                TransferRequest(
                    "platform:receivable:seller:s1",
                    "buyer:b1:funding",
                    Money(3_000, "CNY"),
                    "refund:r1:pay",
                    "refund:r1",
                    TransferReason.ADVANCE,
                )
            ],
            market.clock.now(),
        )
    )
    # then
    assert market.balance("buyer:b1:funding") == 3_000


def test_an_advance_is_recovered_first_from_the_sellers_next_release(market) -> None:
    # given: the seller owes 3 000
    market.app.settlement.top_up_fund(50_000, "CNY", "bank-1")
    _pay(market, 3_000)
    # when: it completes a 10 000 sale (fee 200)
    market.completed_order(buyer_id="b2", price=10_000)
    # then
    assert market.balance("platform:receivable:seller:s1") == 0
    assert market.balance("seller:s1:available") == 10_000 - 200 - 3_000
    assert market.app.settlement.fund_status("CNY").receivables_outstanding_minor == 0


def test_what_later_sales_do_not_repay_is_taken_from_the_deposit_after_the_grace_period(
    market,
) -> None:
    # given: a seller with a 5 000 deposit owes 3 000
    market.app.units.run(
        lambda uow: post_transfers(
            uow.ledger,
            [
                TransferRequest(
                    "platform:capital",
                    "seller:s1:deposit",
                    Money(5_000, "CNY"),
                    "dep-1",
                    "deposit",
                    TransferReason.DEPOSIT,
                )
            ],
            market.clock.now(),
        )
    )
    market.app.settlement.top_up_fund(50_000, "CNY", "bank-1")
    _pay(market, 3_000)
    # when: nothing is sold for three days
    market.advance(timedelta(days=3))
    # then
    assert market.balance("platform:receivable:seller:s1") == 0
    assert market.balance("seller:s1:deposit") == 2_000


def test_payouts_are_held_while_the_seller_owes_the_platform(market) -> None:
    # given
    market.completed_order(buyer_id="b0", price=10_000)
    market.app.payouts.request("s1", market.balance("seller:s1:available"), "CNY", seller("s1"))
    market.app.settlement.top_up_fund(50_000, "CNY", "bank-1")
    _pay(market, 3_000)
    before = market.snapshot()
    # when / then
    with pytest.raises(PayoutHeld, match="owes the platform"):
        market.app.payouts.request("s1", 1, "CNY", OPERATOR)
    assert market.snapshot() == before


def test_payouts_are_held_while_a_hold_stands_and_resume_when_it_is_lifted(market) -> None:
    # given
    market.completed_order(buyer_id="b0", price=10_000)
    market.app.units.run(
        lambda uow: market.app.settlement.place_hold(uow, "s1", "refund:r9", "open refund request")
    )
    # when / then
    with pytest.raises(PayoutHeld, match="open refund request"):
        market.app.payouts.request("s1", 100, "CNY", seller("s1"))
    assert [h.subject for h in market.app.settlement.holds("s1", seller("s1"))] == ["refund:r9"]
    assert market.app.settlement.holds("s1", seller("s2")) == []
    market.app.units.run(lambda uow: market.app.settlement.release_hold(uow, "refund:r9"))
    assert market.app.payouts.request("s1", 100, "CNY", seller("s1")).amount_minor == 100


def test_a_buyer_cannot_see_payout_holds(market) -> None:
    market.app.units.run(
        lambda uow: market.app.settlement.place_hold(uow, "s1", "refund:r9", "open refund request")
    )
    assert market.app.settlement.holds("s1", buyer("b1")) == []
