"""After-sales parties of the simulation (DESIGN.md §5, issue 4).

No-reason returners send things back within the seven-day window; some parcels
arrive damaged and become carrier claims; swap-returners send back a different
item (seed 001's serial-number swaps) and sellers reject them; some sellers never
answer, so requests are agreed and refunded by the deadlines; one seller
vanishes after a few days, so refunds on its completed orders are advanced by
the platform; high-tier buyers (with a long history before the simulation) get
instant refunds as soon as their return has a tracking number.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from tradeguard.aftersales.model import BuyerTier, RefundKind, RefundReason, RefundState
from tradeguard.aftersales.ports import AfterSalesUnitOfWork
from tradeguard.kernel.parties import OPERATOR, buyer, seller
from tradeguard.orders.model import GoodsKind, Order, OrderState

if TYPE_CHECKING:
    from tradeguard.adapters.sim.simulator import SimBuyer, Simulator

#: Trait names this behaviour gives to simulated parties.
NO_REASON_RETURNER, SWAP_RETURNER, HIGH_TIER = "no_reason_returner", "swap_returner", "high_tier"
SILENT, VANISHES = "silent_in_after_sales", "vanishes"


class _SimulatedTiers:
    """Buyers marked high-tier had a long, clean history before the simulation started."""

    def __init__(self, trusted: set[str]) -> None:
        self.trusted = trusted

    def tier(self, uow: AfterSalesUnitOfWork, buyer_id: str) -> BuyerTier:
        return BuyerTier.TRUSTED if buyer_id in self.trusted else BuyerTier.NEW


class AfterSalesBehaviour:
    """Returners, damaged parcels, swappers, silent and vanishing sellers, instant refunds."""

    name = "aftersales"

    def __init__(self) -> None:
        self.requests: dict[str, str] = {}  #: request id -> buyer id
        self.handled: set[tuple[str, str]] = set()  #: (request id, state) already acted on
        self.vanished_on_day = 7

    def setup(self, sim: Simulator) -> None:
        """Give traits, fund the compensation fund and plug in the simulated buyer tiers."""
        rng = sim.rng
        for shopper in sim.buyers:
            roll = rng.random()
            if roll < 0.08:
                shopper.traits.add(NO_REASON_RETURNER)
            elif roll < 0.11:
                shopper.traits.add(SWAP_RETURNER)
            elif roll < 0.16:
                shopper.traits.add(HIGH_TIER)
        physical = [s for s in sim.sellers if s.goods_kind == GoodsKind.PHYSICAL]
        for shop in physical:
            if rng.random() < 0.15:
                shop.traits.add(SILENT)
        if physical:
            physical[-1].traits.update({VANISHES, SILENT})
        sim.app.aftersales.tier_source = _SimulatedTiers(
            {b.id for b in sim.buyers if HIGH_TIER in b.traits}
        )
        sim.app.settlement.top_up_fund(10**8, "CNY", "sim-opening-fund")

    def on_arrived(self, sim: Simulator, order: Order, shopper: SimBuyer) -> bool:
        """Some buyers start after-sales instead of confirming receipt."""
        if order.goods_kind != GoodsKind.PHYSICAL:
            return False
        rng = sim.rng
        ask: tuple[RefundKind, RefundReason] | None = None
        if SWAP_RETURNER in shopper.traits and rng.random() < 0.5:
            ask = (RefundKind.RETURN_AND_REFUND, RefundReason.QUALITY_PROBLEM)
        elif NO_REASON_RETURNER in shopper.traits and rng.random() < 0.6:
            ask = (RefundKind.RETURN_AND_REFUND, RefundReason.NO_REASON)
        elif HIGH_TIER in shopper.traits and rng.random() < 0.3:
            ask = (RefundKind.RETURN_AND_REFUND, RefundReason.NOT_AS_DESCRIBED)
        elif rng.random() < 0.03:
            ask = (RefundKind.REFUND_ONLY, RefundReason.DAMAGED_IN_TRANSIT)
        if ask is None:
            return False
        sim.later(timedelta(hours=rng.randint(2, 96)), partial(self._ask, sim, order, shopper, ask))
        return True

    def _ask(
        self,
        sim: Simulator,
        order: Order,
        shopper: SimBuyer,
        ask: tuple[RefundKind, RefundReason],
    ) -> None:
        kind, reason = ask
        amount = order.subtotal_minor if reason == RefundReason.NO_REASON else order.total_minor
        request = sim.attempt(
            lambda: sim.app.aftersales.request(
                order.id,
                buyer(shopper.id),
                kind=kind,
                reason=reason,
                amount_minor=amount,
                freight_insured=sim.rng.random() < 0.5,
            )
        )
        if request is None:
            # Refused (e.g. the no-reason window closed): the buyer keeps the goods after all.
            sim.later(timedelta(hours=1), partial(sim.confirm, order.id, shopper))
            return
        self.requests[request.id] = shopper.id
        self._seller_answers(sim, request.id, request.seller_id)

    def _seller_answers(self, sim: Simulator, request_id: str, seller_id: str) -> None:
        if SILENT in sim.seller_by_id[seller_id].traits:
            return  # the deadline agrees for them
        action = partial(
            sim.attempt, lambda: sim.app.aftersales.agree(request_id, seller(seller_id))
        )
        sim.later(timedelta(hours=sim.rng.randint(1, 20)), action)

    def daily(self, sim: Simulator, day: int) -> None:
        """Buyers ship agreed returns, sellers look at returned parcels; one seller vanishes."""
        if day == self.vanished_on_day:
            self._vanish(sim)
        for request_id, buyer_id in list(self.requests.items()):
            request = sim.app.aftersales.get(request_id, OPERATOR)
            if (request_id, request.state.value) in self.handled:
                continue
            self.handled.add((request_id, request.state.value))
            shopper = sim.buyer_by_id[buyer_id]
            if request.state == RefundState.AWAITING_RETURN:
                sim.later(
                    timedelta(hours=sim.rng.randint(1, 60)),
                    partial(self._ship_return, sim, request_id, shopper),
                )
            elif request.state == RefundState.RETURN_SHIPPED:
                shop = sim.seller_by_id[request.seller_id]
                if SILENT in shop.traits:
                    continue  # the seller-confirm deadline refunds (unless the serials differ)
                if request.serial_mismatch:
                    command = partial(
                        sim.app.aftersales.reject_return,
                        request_id,
                        seller(shop.id),
                        "the serial number is not the one we shipped",
                    )
                else:
                    command = partial(
                        sim.app.aftersales.confirm_return, request_id, seller(shop.id)
                    )
                sim.later(timedelta(hours=sim.rng.randint(1, 48)), partial(sim.attempt, command))

    def _ship_return(self, sim: Simulator, request_id: str, shopper: SimBuyer) -> None:
        request = sim.app.aftersales.get(request_id, OPERATOR)
        details = sim.app.orders.get(request.order_id, OPERATOR)
        shipped = [s for s in details.shipments if s.direction == "outbound"]
        serials = list(shipped[-1].serial_numbers) if shipped else []
        if SWAP_RETURNER in shopper.traits:
            serials = [f"FAKE-{sim.rng.randint(10**5, 10**6 - 1)}"]
        sim.attempt(
            lambda: sim.app.aftersales.ship_return(
                request_id,
                buyer(shopper.id),
                carrier="YTO",
                tracking_number=f"R{sim.rng.randint(10**9, 10**10 - 1)}",
                serial_numbers=serials,
                shipping_minor=sim.rng.choice((800, 1200, 1500)),
            )
        )

    def _vanish(self, sim: Simulator) -> None:
        """The vanishing seller's buyers find faults after completion; nobody answers them."""
        gone = [s for s in sim.sellers if VANISHES in s.traits]
        if not gone:
            return
        shop = gone[0]
        # The seller empties its balance on the way out (before anyone complains).
        for balance in sim.app.balances(f"seller:{shop.id}:available"):
            if balance.balance_minor > 0:
                sim.attempt(
                    partial(
                        sim.app.payouts.request,
                        shop.id,
                        balance.balance_minor,
                        balance.currency,
                        seller(shop.id),
                    )
                )
        for order_id in sim.order_ids:
            order = sim.app.orders.get(order_id, OPERATOR).order
            if order.seller_id != shop.id or order.state != OrderState.COMPLETED:
                continue
            shopper = sim.buyer_by_id[order.buyer_id]
            if sim.rng.random() < 0.5:
                request = sim.attempt(
                    partial(
                        sim.app.aftersales.request,
                        order.id,
                        buyer(shopper.id),
                        kind=RefundKind.REFUND_ONLY,
                        reason=RefundReason.QUALITY_PROBLEM,
                        amount_minor=order.total_minor,
                    )
                )
                if request is not None:
                    self.requests[request.id] = shopper.id

    def summarise(self, sim: Simulator) -> dict[str, Any]:
        """Refund counts by outcome and kind, money refunded, advanced and recovered."""
        outcomes: Counter[str] = Counter()
        kinds: Counter[str] = Counter()
        refunded = instant = swaps = carrier_claims = reimbursed = 0
        for request_id in self.requests:
            request = sim.app.aftersales.get(request_id, OPERATOR)
            outcomes[request.state.value] += 1
            kinds[request.kind.value] += 1
            refunded += request.refunded_minor
            instant += int(request.instant_refunded_minor > 0)
            swaps += int(request.serial_mismatch)
            carrier_claims += request.carrier_claim_minor
            reimbursed += request.return_shipping_reimbursed_minor
        events = sim.app.units.run(lambda uow: uow.outbox.after(0, 10**7, include_unsettled=True))
        advanced = sum(e.data["amount_minor"] for e in events if e.type == "settlement.advanced")
        recovered = sum(e.data["amount_minor"] for e in events if e.type == "settlement.recovered")
        return {
            "refund_requests": len(self.requests),
            "refunds_by_outcome": dict(sorted(outcomes.items())),
            "refunds_by_kind": dict(sorted(kinds.items())),
            "refunded_minor": refunded,
            "instant_refunds": instant,
            "swapped_returns_flagged": swaps,
            "carrier_claims_minor": carrier_claims,
            "return_shipping_reimbursed_minor": reimbursed,
            "advanced_minor": advanced,
            "recovered_minor": recovered,
        }
