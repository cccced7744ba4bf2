"""Balances, payouts, payout holds and the compensation fund (DESIGN.md §3, §5)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, status

from tradeguard.adapters.api.deps import (
    COMMON,
    AppDep,
    FundReader,
    MoneyReader,
    OperatorPayments,
    PayoutReader,
    PayoutRequester,
    RequestKey,
    page_of,
)
from tradeguard.adapters.api.routing import api_router
from tradeguard.adapters.api.schemas import (
    BalanceList,
    BalancePublic,
    FundStatusPublic,
    FundTopUp,
    PayoutCreate,
    PayoutFailure,
    PayoutHoldList,
    PayoutHoldPublic,
    PayoutPage,
    PayoutPublic,
)
from tradeguard.kernel.errors import ValidationFailed

router = api_router(prefix="/v1", responses=COMMON)

PayoutId = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_]+$")]


@router.get("/accounts", tags=["money"], summary="Account balances")
def balances(
    app: AppDep,
    principal: MoneyReader,
    prefix: Annotated[
        str | None,
        Query(
            max_length=200,
            description="Only accounts whose address starts with this (operators and staff).",
        ),
    ] = None,
) -> BalanceList:
    """Cached ledger balances: a seller's or buyer's own accounts, or any account for operators (`payments`) and staff."""
    if principal.kind in ("seller", "buyer"):
        own = f"{principal.kind}:{principal.id}:"
        if prefix is not None and not prefix.startswith(own):
            raise ValidationFailed(f"You may only list accounts under {own}", field="prefix")
        prefix = prefix or own
    return BalanceList(data=[BalancePublic.of(b) for b in app.balances(prefix)])


@router.post(
    "/payouts",
    tags=["money"],
    status_code=status.HTTP_201_CREATED,
    summary="Pay out a seller's balance",
)
def create_payout(
    body: PayoutCreate, app: AppDep, principal: PayoutRequester, key: RequestKey
) -> PayoutPublic:
    """Withdraw from the seller's available balance to its bank (the seller itself, or an operator with `payments`).

    With an Idempotency-Key a retry returns the payout already made instead of paying twice.
    """
    if principal.kind == "seller":
        seller_id = principal.id
        if body.seller_id not in (None, seller_id):
            raise ValidationFailed("A seller pays out only its own balance.", field="seller_id")
    elif body.seller_id is None:
        raise ValidationFailed("Operators name the seller to pay out.", field="seller_id")
    else:
        seller_id = body.seller_id
    payout = app.payouts.request(
        seller_id, body.amount_minor, body.currency, principal.party, request_key=key
    )
    return PayoutPublic.of(payout)


@router.get("/payouts", tags=["money"], summary="List payouts")
def list_payouts(
    app: AppDep,
    principal: PayoutReader,
    seller_id: Annotated[str | None, Query(max_length=64)] = None,
    cursor: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> PayoutPage:
    """Payouts newest first; a seller sees only its own."""
    page, next_cursor = page_of(
        app.payouts.find(principal.party, seller_id, before_id=cursor, limit=limit + 1), limit
    )
    return PayoutPage(data=[PayoutPublic.of(p) for p in page], next_cursor=next_cursor)


@router.get("/payouts/{payout_id}", tags=["money"], summary="Get a payout")
def get_payout(payout_id: PayoutId, app: AppDep, principal: PayoutReader) -> PayoutPublic:
    """A payout; a seller sees only its own."""
    return PayoutPublic.of(app.payouts.get(payout_id, principal.party))


@router.post("/payouts/{payout_id}/failure", tags=["money"], summary="Report a failed payout")
def fail_payout(
    payout_id: PayoutId, body: PayoutFailure, app: AppDep, principal: OperatorPayments
) -> PayoutPublic:
    """The bank refused the payout: the money returns to the seller's available balance (operator, `payments`)."""
    return PayoutPublic.of(app.payouts.fail(payout_id, body.reason, principal.party))


@router.get("/compensation-fund", tags=["money"], summary="The compensation fund")
def fund_status(
    app: AppDep,
    _: FundReader,
    currency: Annotated[
        str, Query(pattern=r"^[A-Z]{3}$", description="ISO 4217 currency.")
    ] = "CNY",
) -> FundStatusPublic:
    """The fund that backs the platform's advances (先行赔付), what sellers owe for them, and the headroom."""
    return FundStatusPublic.of(app.settlement.fund_status(currency))


@router.post(
    "/compensation-fund/top-ups",
    tags=["money"],
    status_code=status.HTTP_201_CREATED,
    summary="Top up the fund",
)
def top_up_fund(body: FundTopUp, app: AppDep, _: OperatorPayments) -> FundStatusPublic:
    """Move the platform's own money into the compensation fund (operator, `payments`); the reference makes it idempotent."""
    return FundStatusPublic.of(
        app.settlement.top_up_fund(body.amount_minor, body.currency, body.reference)
    )


@router.get("/payout-holds", tags=["money"], summary="Why a seller's payouts wait")
def payout_holds(
    app: AppDep,
    principal: PayoutReader,
    seller_id: Annotated[
        str | None, Query(max_length=64, description="Required for operators and staff.")
    ] = None,
) -> PayoutHoldList:
    """Open refund requests and other holds on a seller's payouts; a seller sees its own."""
    if principal.kind == "seller":
        seller_id = principal.id
    elif seller_id is None:
        raise ValidationFailed("Name the seller.", field="seller_id")
    holds = app.settlement.holds(seller_id, principal.party)
    # Read the currencies before opening the unit of work: nesting units deadlocks on SQLite.
    currencies = _currencies(app, seller_id)
    owed = app.units.run(
        lambda uow: {c: app.settlement.owed(uow, seller_id, c) for c in currencies}
    )
    return PayoutHoldList(
        seller_id=seller_id,
        owed_minor={c: v for c, v in owed.items() if v},
        data=[
            PayoutHoldPublic(subject=h.subject, reason=h.reason, placed_at=h.placed_at)
            for h in holds
        ],
    )


def _currencies(app: AppDep, seller_id: str) -> list[str]:
    return sorted({b.currency for b in app.balances(f"platform:receivable:seller:{seller_id}")})
