"""Pure after-sales computations: who may ask for what, how much, and by when (DESIGN.md §5)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from tradeguard.aftersales.errors import NoReasonWindowPassed, RefundAmountInvalid, RefundNotAllowed
from tradeguard.aftersales.model import RefundKind, RefundReason, RefundRequest, ReturnShippingPayer
from tradeguard.aftersales.policy import AfterSalesPolicy
from tradeguard.kernel.money import major_units
from tradeguard.kernel.periods import Period, WorkingCalendar
from tradeguard.orders.model import GoodsKind, Order, OrderState

K, R, OS = RefundKind, RefundReason, OrderState

#: Orders still holding the buyer's money in escrow: a refund comes out of escrow.
ESCROW_STATES = frozenset({OS.PAID, OS.SHIPPED, OS.DELIVERED})

#: Which reasons each kind accepts, per order state (DESIGN.md §5 kinds and reasons).
_SHIPPED_REASONS = frozenset(set(R) - {R.NOT_SHIPPED})
_RETURN_REASONS = frozenset(set(R) - {R.NOT_SHIPPED, R.NOT_RECEIVED, R.LOST_IN_TRANSIT})
ALLOWED: dict[tuple[RefundKind, OrderState], frozenset[RefundReason]] = {
    (K.REFUND_ONLY, OS.PAID): frozenset({R.NOT_SHIPPED}),
    (K.REFUND_ONLY, OS.SHIPPED): _SHIPPED_REASONS - {R.NO_REASON},
    (K.REFUND_ONLY, OS.DELIVERED): _SHIPPED_REASONS - {R.NO_REASON, R.LOST_IN_TRANSIT},
    (K.REFUND_ONLY, OS.COMPLETED): _SHIPPED_REASONS - {R.NO_REASON},
    (K.RETURN_AND_REFUND, OS.SHIPPED): _RETURN_REASONS,
    (K.RETURN_AND_REFUND, OS.COMPLETED): _RETURN_REASONS,
    (K.EXCHANGE, OS.SHIPPED): _RETURN_REASONS,
    (K.EXCHANGE, OS.COMPLETED): _RETURN_REASONS,
    (K.PARTIAL_REFUND, OS.SHIPPED): _SHIPPED_REASONS - {R.NO_REASON},
    (K.PARTIAL_REFUND, OS.DELIVERED): _SHIPPED_REASONS - {R.NO_REASON},
    (K.PARTIAL_REFUND, OS.COMPLETED): _SHIPPED_REASONS - {R.NO_REASON},
}


def check_kind_and_reason(order: Order, kind: RefundKind, reason: RefundReason) -> None:
    """Refuse a kind or reason the order's state does not allow.

    Returns need physical goods; an unshipped order can only be refunded for not
    being shipped; a no-reason request is a return.
    """
    allowed = ALLOWED.get((kind, order.state))
    if allowed is None:
        raise RefundNotAllowed(
            f"A {kind} request is not possible on a {order.state} order.",
            order_id=order.id,
            order_state=order.state.value,
        )
    if kind.needs_return and order.goods_kind != GoodsKind.PHYSICAL:
        raise RefundNotAllowed("Only physical goods can be returned or exchanged.")
    if reason not in allowed:
        raise RefundNotAllowed(
            f"A {kind} request on a {order.state} order cannot give the reason {reason}.",
            reasons=sorted(r.value for r in allowed),
        )


def received_at(order: Order) -> datetime | None:
    """When the buyer received the goods: the delivery scan or record, else the receipt confirmation."""
    return order.delivered_at or order.completed_at


def check_no_reason_window(
    order: Order, now: datetime, policy: AfterSalesPolicy, calendar: WorkingCalendar
) -> None:
    """DESIGN.md §5: a no-reason return is refused once the window after receipt has passed.

    Goods not yet received are still inside the window.
    """
    receipt = received_at(order)
    if receipt is None:
        return
    closes_at = calendar.add(receipt, policy.no_reason_window)
    if now > closes_at:
        raise NoReasonWindowPassed(
            f"The no-reason return window of {policy.no_reason_window} after receipt closed at {closes_at.isoformat()}.",
            closed_at=closes_at.isoformat(),
        )


def answer_period(kind: RefundKind, order_state: OrderState, policy: AfterSalesPolicy) -> Period:
    """How long the seller has to answer (DESIGN.md §5: 24 h unshipped, 36 h refund only, 5 days return).

    >>> p = AfterSalesPolicy()
    >>> str(answer_period(RefundKind.REFUND_ONLY, OrderState.PAID, p))
    '24h'
    >>> str(answer_period(RefundKind.REFUND_ONLY, OrderState.SHIPPED, p))
    '36h'
    >>> str(answer_period(RefundKind.RETURN_AND_REFUND, OrderState.COMPLETED, p))
    '5d'
    """
    if order_state == OrderState.PAID:
        return policy.answer_not_shipped
    if kind.needs_return:
        return policy.answer_return
    return policy.answer_refund_only


def return_shipping_payer(reason: RefundReason) -> ReturnShippingPayer:
    """DESIGN.md §5: no-reason returns are shipped back at the buyer's cost, the rest at the seller's.

    >>> return_shipping_payer(RefundReason.NO_REASON), return_shipping_payer(RefundReason.QUALITY_PROBLEM)
    (<ReturnShippingPayer.BUYER: 'buyer'>, <ReturnShippingPayer.SELLER: 'seller'>)
    """
    if reason.seller_pays_return_shipping:
        return ReturnShippingPayer.SELLER
    return ReturnShippingPayer.BUYER


def refund_ceiling(order: Order, reason: RefundReason, earlier: Sequence[RefundRequest]) -> int:
    """The most the buyer can get back on this order for ``reason``, given earlier refunds.

    Before completion that is what escrow still holds; after completion, what the
    buyer paid minus what already went back. A no-reason return gives back the
    goods, not the outbound shipping the buyer paid for (DESIGN.md §5).
    """
    already = sum(r.refunded_minor for r in earlier)
    # An instant refund the platform never got back (the return was rejected) is money the
    # buyer already holds: escrow still has it, but it must not be refunded a second time.
    unrecovered = sum(r.refunded_minor for r in earlier if r.refund_source == "compensation_fund")
    if order.state in ESCROW_STATES:
        ceiling = order.escrow_minor - unrecovered
    else:
        # Escrow refunds are in ``order.refunded_minor``; refunds paid by the seller are not.
        from_seller = sum(
            r.refunded_minor for r in earlier if r.refund_source in ("seller_available", "advance")
        )
        ceiling = order.paid_minor - order.refunded_minor - from_seller - unrecovered
    if reason == RefundReason.NO_REASON:
        ceiling = min(ceiling, order.subtotal_minor - already)
    return max(0, ceiling)


def check_amount(amount_minor: int, kind: RefundKind, ceiling: int) -> None:
    """A request asks for 1 to ``ceiling`` minor units; a partial refund for less than all of it."""
    if type(amount_minor) is not int or amount_minor <= 0 or amount_minor > ceiling:
        raise RefundAmountInvalid(
            f"A refund on this order is between 1 and {ceiling} minor units.",
            max_refund_minor=ceiling,
        )
    if kind == RefundKind.PARTIAL_REFUND and amount_minor == ceiling:
        raise RefundAmountInvalid(
            "A partial refund asks for less than the whole refundable amount; ask for a refund instead.",
            max_refund_minor=ceiling,
        )


def outbound_deduction(
    order: Order, reason: RefundReason, stated_minor: int, policy: AfterSalesPolicy
) -> int:
    """What a no-reason refund of a free-shipping order deducts for the seller's outbound postage.

    The seller states its postage when agreeing; the deduction is capped by the
    policy and applies only to free-shipping orders returned for no reason.
    """
    if reason != RefundReason.NO_REASON or order.shipping_fee_minor > 0 or stated_minor <= 0:
        return 0
    cap = major_units(policy.outbound_shipping_deduction_cap_major, order.currency).amount_minor
    return min(stated_minor, cap)


def return_shipping_reimbursement(
    request: RefundRequest, policy: AfterSalesPolicy
) -> tuple[str | None, int]:
    """Who reimburses the buyer's return postage, and how much (DESIGN.md §5).

    The seller when at fault (capped); the freight insurer for a buyer-paid
    return that was insured (capped); else nobody.
    """
    postage = request.return_shipping_minor
    if postage <= 0:
        return None, 0
    if request.return_shipping_payer == ReturnShippingPayer.SELLER:
        cap = major_units(policy.return_shipping_cap_major, request.currency).amount_minor
        return "seller", min(postage, cap)
    if request.freight_insured:
        cap = major_units(policy.freight_insurance_cap_major, request.currency).amount_minor
        return "insurer", min(postage, cap)
    return None, 0


def serials_match(shipped: Sequence[str], returned: Sequence[str]) -> bool:
    """True when a return carries exactly the serial numbers that were shipped (seed 001's swap ring).

    Nothing to compare when none were recorded at shipment.

    >>> serials_match(["SN1", "SN2"], ["SN2", "SN1"]), serials_match(["SN1"], ["SN9"]), serials_match([], [])
    (True, False, True)
    """
    if not shipped:
        return True
    return sorted(shipped) == sorted(returned)
