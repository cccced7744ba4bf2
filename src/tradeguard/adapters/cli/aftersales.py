"""``tradeguard refunds ...``: refund requests as the operator sees them (DESIGN.md §5)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from tradeguard.adapters.cli.common import DbOption, cli, guarded, open_app, out
from tradeguard.aftersales.model import RefundFilter, RefundRequest, RefundState
from tradeguard.kernel.money import Money
from tradeguard.kernel.parties import OPERATOR

refunds_cli = typer.Typer(help="After-sales refund requests.", no_args_is_help=True)
cli.add_typer(refunds_cli, name="refunds")


@refunds_cli.command("list")
def refunds_list(
    order: Annotated[str | None, typer.Option("--order", help="Only this order's.")] = None,
    state: Annotated[
        list[RefundState] | None, typer.Option("--state", help="Only in these states.")
    ] = None,
    limit: Annotated[
        int, typer.Option(help="At most this many, newest first.", min=1, max=200)
    ] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON array.")] = False,
    db: DbOption = None,
) -> None:
    """Refund requests, newest first."""

    def run() -> None:
        app = open_app(db, None)
        try:
            found = app.aftersales.find(
                OPERATOR, RefundFilter(order_id=order, states=frozenset(state or ())), limit=limit
            )
        finally:
            app.close()
        if as_json:
            out.print_json(json.dumps([_as_data(r) for r in found], default=str))
            return
        table = Table()
        for column in ("id", "order", "kind", "reason", "state", "asked", "refunded", "source"):
            table.add_column(column, overflow="fold")
        for r in found:
            table.add_row(
                r.id,
                r.order_id,
                r.kind.value,
                r.reason.value,
                r.state.value,
                Money(r.requested_minor, r.currency).format(),
                Money(r.refunded_minor, r.currency).format(),
                r.refund_source or "-",
            )
        out.print(table)

    guarded(run)


@refunds_cli.command("show")
def refunds_show(
    refund_id: Annotated[str, typer.Argument(help="The request id (rf_...).")],
    db: DbOption = None,
) -> None:
    """One refund request as JSON."""

    def run() -> None:
        app = open_app(db, None)
        try:
            request = app.aftersales.get(refund_id, OPERATOR)
        finally:
            app.close()
        out.print_json(json.dumps(_as_data(request), default=str))

    guarded(run)


def _as_data(request: RefundRequest) -> dict[str, Any]:
    return {name: getattr(request, name) for name in request.__dataclass_fields__}
