"""Core commands: migrate, ledger, worker, simulate, policy."""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tradeguard.adapters.cli.common import (
    DbOption,
    PolicyOption,
    PresetOption,
    cli,
    cli_policy,
    err,
    fail,
    fund_cli,
    guarded,
    ledger_cli,
    open_app,
    out,
    policy_cli,
)
from tradeguard.adapters.storage import migrations
from tradeguard.adapters.storage.engine import database_url, make_engine
from tradeguard.kernel.clock import FakeClock
from tradeguard.kernel.ids import IdFactory
from tradeguard.kernel.money import Money


@cli.command()
def migrate(db: DbOption = None) -> None:
    """Create or upgrade the database schema to the newest revision."""

    def run() -> None:
        engine = make_engine(db)
        before = migrations.current_revision(engine)
        migrations.upgrade(engine)
        after = migrations.current_revision(engine)
        engine.dispose()
        if before == after:
            out.print(f"database already at revision {after}")
        else:
            out.print(f"migrated {before or 'empty database'} -> {after}")

    guarded(run)


@ledger_cli.command("verify")
def ledger_verify(db: DbOption = None, policy: PolicyOption = None) -> None:
    """Check every ledger invariant of DESIGN.md §3; exit 1 naming each one that is broken."""

    def run() -> None:
        app = open_app(db, policy)
        try:
            violations = app.verify_ledger()
        finally:
            app.close()
        if not violations:
            out.print("[green]ledger ok[/]: every invariant of DESIGN.md §3 holds")
            return
        broken = sorted({v.invariant.value for v in violations})
        for violation in violations:
            err.print(f"[red]violated[/] {violation}", highlight=False, soft_wrap=True)
        raise fail(f"{len(violations)} violation(s) of: {', '.join(broken)}")

    guarded(run)


@ledger_cli.command("balances")
def ledger_balances(
    prefix: Annotated[
        str | None, typer.Argument(help="Only accounts whose address starts with this.")
    ] = None,
    db: DbOption = None,
) -> None:
    """List cached account balances."""

    def run() -> None:
        app = open_app(db, None)
        try:
            table = Table("account", "currency", "balance")
            for b in app.balances(prefix):
                table.add_row(b.address, b.currency, Money(b.balance_minor, b.currency).format())
            out.print(table)
        finally:
            app.close()

    guarded(run)


@cli.command()
def worker(
    once: Annotated[
        bool, typer.Option("--once", help="Fire everything due now, then exit.")
    ] = False,
    interval: Annotated[
        float, typer.Option(help="Seconds between passes when looping.", min=0.05)
    ] = 1.0,
    batch: Annotated[
        int, typer.Option(help="Deadlines claimed per transaction.", min=1, max=10_000)
    ] = 200,
    db: DbOption = None,
    policy: PolicyOption = None,
) -> None:
    """Fire due deadlines (orders, refunds, disputes, review windows) and reminders.

    On PostgreSQL several workers may run at once: each claims rows with
    FOR UPDATE SKIP LOCKED. On SQLite run exactly one.
    """

    def run() -> None:
        app = open_app(db, policy)
        try:
            if once:
                report = app.run_deadlines(batch_size=batch)
                out.print(
                    f"fired {report.fired}, obsolete {report.obsolete}, reminders {report.reminded}, "
                    f"failed {report.failed}"
                )
                return
            out.print(f"worker running every {interval}s on {database_url(db)}; Ctrl-C stops it")
            while True:
                report = app.run_deadlines(batch_size=batch)
                if report.handled or report.failed:
                    out.print(
                        f"fired {report.fired}, obsolete {report.obsolete}, reminders {report.reminded}, "
                        f"failed {report.failed}"
                    )
                time.sleep(interval)
        except KeyboardInterrupt:
            out.print("worker stopped")
        finally:
            app.close()

    guarded(run)


@cli.command()
def simulate(
    days: Annotated[int, typer.Option(help="Simulated days.", min=1, max=3650)] = 30,
    buyers: Annotated[int, typer.Option(help="Simulated buyers.", min=1, max=1_000_000)] = 200,
    sellers: Annotated[int, typer.Option(help="Simulated sellers.", min=1, max=100_000)] = 20,
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed gives the same summary.")
    ] = 1,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as one JSON object.")
    ] = False,
    db: DbOption = None,
    policy: PolicyOption = None,
    preset: PresetOption = None,
) -> None:
    """Run a marketplace on an accelerated clock through the real services and worker."""
    from tradeguard.adapters.sim.simulator import SimulationConfig, Simulator, default_behaviours

    def run() -> None:
        clock = FakeClock()
        app = open_app(db, policy, preset, clock=clock, ids=IdFactory.seeded(seed))
        try:
            simulator = Simulator(
                app,
                clock,
                SimulationConfig(days=days, buyers=buyers, sellers=sellers, seed=seed),
                default_behaviours(),
            )
            progress = Progress(
                TextColumn("simulating"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("days"),
                TimeElapsedColumn(),
                console=err,
                transient=as_json,
            )
            with progress:
                task = progress.add_task("days", total=days)
                summary = simulator.run(on_day=lambda day: progress.update(task, completed=day))
        finally:
            app.close()
        if as_json:
            out.print_json(json.dumps(summary.as_dict()))
        else:
            _print_summary(summary.as_dict())
        if summary.ledger_violations:
            raise fail(f"ledger verification failed: {len(summary.ledger_violations)} violation(s)")

    guarded(run)


def _print_summary(s: dict[str, Any]) -> None:
    cur = s["currency"]
    table = Table(
        title=f"{s['days']}-day simulation · {s['buyers']} buyers · {s['sellers']} sellers · seed {s['seed']}"
    )
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("checkouts", str(s["checkouts"]))
    for state, count in s["orders_by_state"].items():
        table.add_row(f"orders {state}", str(count))
    table.add_row("GMV (paid)", Money(s["gmv_minor"], cur).format())
    table.add_row("escrow held", Money(s["escrow_held_minor"], cur).format())
    table.add_row("platform fees", Money(s["fees_minor"], cur).format())
    table.add_row("late shipments", str(s["late_shipments"]))
    table.add_row(
        "late-shipment compensation paid", Money(s["late_compensation_paid_minor"], cur).format()
    )
    table.add_row("confirmed by buyer", str(s["confirmed_by_buyer"]))
    table.add_row("auto-confirmed", str(s["auto_confirmed"]))
    table.add_row("closed unpaid", str(s["closed_unpaid"]))
    table.add_row("paid out to sellers", Money(s["payouts_minor"], cur).format())
    table.add_row("deadlines fired", str(s["deadlines_fired"]))
    table.add_row("reminders sent", str(s["reminders_sent"]))
    table.add_row("commands refused (too late, closed ...)", str(s["refused_commands"]))
    # Each context's behaviour adds its own figures under its name (e.g. "aftersales").
    for name, figures in s.items():
        if isinstance(figures, dict) and name != "orders_by_state":
            for key, value in figures.items():
                label = f"{name}: {key.removesuffix('_minor').replace('_', ' ')}"
                if key.endswith("_minor") and isinstance(value, int):
                    table.add_row(label, Money(value, cur).format())
                elif isinstance(value, dict):
                    table.add_row(label, ", ".join(f"{k} {v}" for k, v in value.items()))
                else:
                    table.add_row(label, str(value))
    out.print(table)
    if s["ledger_ok"]:
        out.print("[green]ledger verification: ok[/] - every invariant of DESIGN.md §3 holds")
    else:
        for v in s["ledger_violations"]:
            err.print(f"[red]violated[/] {v}", highlight=False)


@policy_cli.command("show")
def policy_show(policy: PolicyOption = None, preset: PresetOption = None) -> None:
    """Print the policy in force (defaults, preset and file merged) as JSON."""
    loaded = guarded(lambda: cli_policy(policy, preset))
    out.print_json(json.dumps(loaded.model_dump(mode="json")))


@fund_cli.command("top-up")
def fund_top_up(
    amount_minor: Annotated[
        int, typer.Option("--amount-minor", help="Amount in minor units.", min=1)
    ],
    reference: Annotated[str, typer.Option(help="The bank transfer's reference (tops up once).")],
    currency: Annotated[str, typer.Option(help="ISO 4217 currency.")] = "CNY",
    db: DbOption = None,
) -> None:
    """Move platform money into the compensation fund."""

    def run() -> None:
        app = open_app(db, None)
        try:
            status = app.settlement.top_up_fund(amount_minor, currency, reference)
        finally:
            app.close()
        out.print(
            f"fund {Money(status.balance_minor, currency).format()}, backing "
            f"{Money(status.receivables_outstanding_minor, currency).format()} of advances"
        )

    guarded(run)


@fund_cli.command("status")
def fund_status(
    currency: Annotated[str, typer.Option(help="ISO 4217 currency.")] = "CNY", db: DbOption = None
) -> None:
    """The fund's balance, the advances it backs, and its headroom."""

    def run() -> None:
        app = open_app(db, None)
        try:
            status = app.settlement.fund_status(currency)
        finally:
            app.close()
        table = Table("fund", "advances outstanding", "headroom")
        table.add_row(
            Money(status.balance_minor, currency).format(),
            Money(status.receivables_outstanding_minor, currency).format(),
            Money(status.headroom_minor, currency).format(),
        )
        out.print(table)

    guarded(run)
