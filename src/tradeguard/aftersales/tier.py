"""The buyer tier that unlocks instant refunds (DESIGN.md §5 极速退款, §9 buyer tier).

The tier is a pure function of a buyer's history so that it can be tested and
explained; where the history comes from is a port, :class:`BuyerTierSource`, so
that the reputation context can plug in a richer buyer credit score later.
"""

from __future__ import annotations

from typing import Any, Protocol

from tradeguard.aftersales.model import BuyerHistory, BuyerTier
from tradeguard.aftersales.policy import AfterSalesPolicy
from tradeguard.aftersales.ports import AfterSalesUnitOfWork
from tradeguard.kernel.clock import Clock


def buyer_tier(history: BuyerHistory, policy: AfterSalesPolicy) -> BuyerTier:
    """The tier a buyer's history earns.

    Trusted: enough completed orders, an old enough account, a refund rate at or
    under the policy's and no dispute lost. Standard: at least one completed order.

    >>> p = AfterSalesPolicy()
    >>> buyer_tier(BuyerHistory(completed_orders=12, refunds=1, account_age_days=200), p)
    <BuyerTier.TRUSTED: 'trusted'>
    >>> buyer_tier(BuyerHistory(completed_orders=12, refunds=5, account_age_days=200), p)
    <BuyerTier.STANDARD: 'standard'>
    >>> buyer_tier(BuyerHistory(completed_orders=0, refunds=0, account_age_days=0), p)
    <BuyerTier.NEW: 'new'>
    """
    completed = history.completed_orders
    refund_rate_bps = history.refunds * 10_000 // completed if completed else 10_000
    if (
        completed >= policy.trusted_min_completed_orders
        and history.account_age_days >= policy.trusted_min_account_age_days
        and refund_rate_bps <= policy.trusted_max_refund_rate_bps
        and history.disputes_lost == 0
    ):
        return BuyerTier.TRUSTED
    if completed >= policy.standard_min_completed_orders:
        return BuyerTier.STANDARD
    return BuyerTier.NEW


def allows_instant_refund(tier: BuyerTier, policy: AfterSalesPolicy) -> bool:
    """True when the tier is at or above the policy's instant-refund tier.

    >>> allows_instant_refund(BuyerTier.TRUSTED, AfterSalesPolicy())
    True
    >>> allows_instant_refund(BuyerTier.STANDARD, AfterSalesPolicy())
    False
    """
    return tier.rank >= policy.instant_refund_min_tier.rank


class BuyerTierSource(Protocol):
    """Where a buyer's tier comes from (the reputation context will provide a richer one)."""

    # ``uow`` is the caller's unit of work (an AfterSalesUnitOfWork); typed loosely so that
    # another context's source, typed against its own unit of work, still satisfies the port.
    def tier(self, uow: Any, buyer_id: str) -> BuyerTier:
        """The buyer's tier, read within the caller's unit of work."""
        ...


class HistoryTierSource:
    """The default tier source: the buyer's orders and refund requests, judged by :func:`buyer_tier`."""

    def __init__(self, policy: AfterSalesPolicy, clock: Clock) -> None:
        self._policy = policy
        self._clock = clock

    def tier(self, uow: AfterSalesUnitOfWork, buyer_id: str) -> BuyerTier:
        """The buyer's tier from its history."""
        history = uow.aftersales.buyer_history(buyer_id, self._clock.now())
        return buyer_tier(history, self._policy)
