"""``tradeguard``: run, check and simulate TradeGuard from the shell.

Every command takes ``--db URL`` (default: ``TRADEGUARD_DATABASE_URL``, else a
SQLite file ``tradeguard.db``) and ``--policy FILE`` (default:
``TRADEGUARD_POLICY``). A refusal prints ``error: <what went wrong>`` on stderr
and exits non-zero; nothing is half-done.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.exc import OperationalError

from tradeguard.adapters.storage import migrations
from tradeguard.adapters.storage.engine import database_url, is_sqlite, make_engine
from tradeguard.bootstrap import App, build_app
from tradeguard.kernel.clock import FakeClock
from tradeguard.kernel.errors import TradeGuardError
from tradeguard.kernel.ids import IdFactory
from tradeguard.kernel.money import Money
from tradeguard.policy import Policy, load_policy

T = TypeVar("T")

cli = typer.Typer(
    name="tradeguard",
    help="TradeGuard: escrowed transactions, after-sales, disputes and reputation for marketplaces.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
ledger_cli = typer.Typer(help="The ledger: balances and invariants.", no_args_is_help=True)
policy_cli = typer.Typer(help="The policy in force.", no_args_is_help=True)
keys_cli = typer.Typer(help="Operator API keys.", no_args_is_help=True)
staff_cli = typer.Typer(
    help="Staff accounts for the console and the staff API.", no_args_is_help=True
)
tokens_cli = typer.Typer(help="Participant tokens for buyers and sellers.", no_args_is_help=True)
cli.add_typer(ledger_cli, name="ledger")
cli.add_typer(policy_cli, name="policy")
cli.add_typer(keys_cli, name="keys")
cli.add_typer(staff_cli, name="staff")
cli.add_typer(tokens_cli, name="tokens")

out = Console()
err = Console(stderr=True)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (default: TRADEGUARD_DATABASE_URL, else sqlite:///tradeguard.db).",
    ),
]
PolicyOption = Annotated[
    Path | None,
    typer.Option("--policy", help="Policy TOML file (default: TRADEGUARD_POLICY).", dir_okay=False),
]
PresetOption = Annotated[
    str | None,
    typer.Option(
        "--policy-preset",
        help="Named policy preset (default: TRADEGUARD_POLICY_PRESET, else default).",
    ),
]


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _guard(action: Callable[[], T]) -> T:
    """Run a command body; refusals become one line on stderr and a non-zero exit."""
    try:
        return action()
    except TradeGuardError as exc:
        raise _fail(exc.message) from None
    except OperationalError as exc:
        raise _fail(f"cannot use the database: {str(exc.orig).strip().splitlines()[0]}") from None


def _policy(policy_file: Path | None, preset: str | None = None) -> Policy:
    file = policy_file or (
        Path(os.environ["TRADEGUARD_POLICY"]) if os.environ.get("TRADEGUARD_POLICY") else None
    )
    return load_policy(file, preset or os.environ.get("TRADEGUARD_POLICY_PRESET"))


def _app(db: str | None, policy_file: Path | None, preset: str | None = None, **kwargs: Any) -> App:
    return build_app(db, policy=_policy(policy_file, preset), **kwargs)


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

    _guard(run)


@ledger_cli.command("verify")
def ledger_verify(db: DbOption = None, policy: PolicyOption = None) -> None:
    """Check every ledger invariant of DESIGN.md §3; exit 1 naming each one that is broken."""

    def run() -> None:
        app = _app(db, policy)
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
        raise _fail(f"{len(violations)} violation(s) of: {', '.join(broken)}")

    _guard(run)


@ledger_cli.command("balances")
def ledger_balances(
    prefix: Annotated[
        str | None, typer.Argument(help="Only accounts whose address starts with this.")
    ] = None,
    db: DbOption = None,
) -> None:
    """List cached account balances."""

    def run() -> None:
        app = _app(db, None)
        try:
            table = Table("account", "currency", "balance")
            for b in app.balances(prefix):
                table.add_row(b.address, b.currency, Money(b.balance_minor, b.currency).format())
            out.print(table)
        finally:
            app.close()

    _guard(run)


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
    """Fire due deadlines (payment windows, ship-by, auto-confirm, reminders).

    On PostgreSQL several workers may run at once: each claims rows with
    FOR UPDATE SKIP LOCKED. On SQLite run exactly one.
    """

    def run() -> None:
        app = _app(db, policy)
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

    _guard(run)


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
    from tradeguard.adapters.sim.simulator import SimulationConfig, Simulator

    def run() -> None:
        clock = FakeClock()
        app = _app(db, policy, preset, clock=clock, ids=IdFactory.seeded(seed))
        try:
            simulator = Simulator(
                app, clock, SimulationConfig(days=days, buyers=buyers, sellers=sellers, seed=seed)
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
            raise _fail(
                f"ledger verification failed: {len(summary.ledger_violations)} violation(s)"
            )

    _guard(run)


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
    out.print(table)
    if s["ledger_ok"]:
        out.print("[green]ledger verification: ok[/] - every invariant of DESIGN.md §3 holds")
    else:
        for v in s["ledger_violations"]:
            err.print(f"[red]violated[/] {v}", highlight=False)


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    workers: Annotated[
        int, typer.Option(help="API processes (PostgreSQL only above 1).", min=1, max=64)
    ] = 1,
    no_worker: Annotated[
        bool,
        typer.Option(
            "--no-worker", help="Do not run the deadline worker and webhook dispatcher in-process."
        ),
    ] = False,
    dev: Annotated[
        bool, typer.Option("--dev", help="Development mode: webhooks may target localhost.")
    ] = False,
    db: DbOption = None,
    policy: PolicyOption = None,
    preset: PresetOption = None,
) -> None:
    """Serve the HTTP API (FastAPI on uvicorn), with the deadline worker and webhook dispatcher.

    Each API process runs its own worker and dispatcher unless --no-worker; on
    PostgreSQL they share the work safely (FOR UPDATE SKIP LOCKED).
    """
    import uvicorn

    url = database_url(db)

    def check() -> None:
        _policy(policy, preset)  # refuse a bad policy before starting processes
        if is_sqlite(url) and workers > 1:
            raise _fail("SQLite has a single writer; use PostgreSQL (--db) for --workers above 1")
        engine = make_engine(url)
        migrations.upgrade(engine)
        engine.dispose()

    _guard(check)
    os.environ["TRADEGUARD_DATABASE_URL"] = url
    if policy is not None:
        os.environ["TRADEGUARD_POLICY"] = str(policy)
    if preset is not None:
        os.environ["TRADEGUARD_POLICY_PRESET"] = preset
    os.environ["TRADEGUARD_BACKGROUND"] = "0" if no_worker else "1"
    os.environ["TRADEGUARD_DEV"] = "1" if dev else "0"
    err.print(
        f"serving TradeGuard on http://{host}:{port} (docs at /docs, OpenAPI at /openapi.json)"
    )
    uvicorn.run(
        "tradeguard.adapters.api.server:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
    )


@keys_cli.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="What the key is for.")],
    scopes: Annotated[
        str, typer.Option(help="Comma-separated: orders,payments,tokens,webhooks,admin.")
    ],
    db: DbOption = None,
) -> None:
    """Create an operator API key; the key is printed once, alone on the last line."""

    def run() -> None:
        app = _app(db, None)
        try:
            key, plaintext = app.access.create_api_key(
                name, [s.strip() for s in scopes.split(",") if s.strip()]
            )
        finally:
            app.close()
        err.print(
            f"created API key {key.id} ({', '.join(sorted(key.scopes))}); store it now, it is not shown again"
        )
        typer.echo(plaintext)

    _guard(run)


@keys_cli.command("list")
def keys_list(db: DbOption = None) -> None:
    """List API keys (never their secrets)."""

    def run() -> None:
        app = _app(db, None)
        try:
            table = Table("id", "name", "scopes", "created", "revoked")
            for key in app.access.api_keys():
                table.add_row(
                    key.id,
                    key.name,
                    ",".join(sorted(key.scopes)),
                    key.created_at.isoformat(timespec="seconds"),
                    key.revoked_at.isoformat(timespec="seconds") if key.revoked_at else "",
                )
            out.print(table)
        finally:
            app.close()

    _guard(run)


@keys_cli.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key id (key_...).")], db: DbOption = None
) -> None:
    """Revoke an API key."""

    def run() -> None:
        app = _app(db, None)
        try:
            app.access.revoke_api_key(key_id)
        finally:
            app.close()
        out.print(f"revoked {key_id}")

    _guard(run)


@staff_cli.command("create")
def staff_create(
    email: Annotated[str, typer.Option(help="Login email.")],
    role: Annotated[str, typer.Option(help="support, arbitrator, risk_analyst or admin.")],
    password: Annotated[
        str | None,
        typer.Option(
            help="Password (at least 10 characters); default: read TRADEGUARD_STAFF_PASSWORD or prompt."
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Create a staff account (argon2-hashed password)."""
    secret = password or os.environ.get("TRADEGUARD_STAFF_PASSWORD")
    if secret is None:
        secret = typer.prompt("password", hide_input=True, confirmation_prompt=True)

    def run() -> None:
        app = _app(db, None)
        try:
            account = app.access.create_staff(email, role, secret)
        finally:
            app.close()
        out.print(f"created {account.role} {account.email} ({account.id})")

    _guard(run)


@staff_cli.command("list")
def staff_list(db: DbOption = None) -> None:
    """List staff accounts."""

    def run() -> None:
        app = _app(db, None)
        try:
            table = Table("id", "email", "role", "disabled")
            for account in app.access.staff_accounts():
                table.add_row(
                    account.id,
                    account.email,
                    account.role,
                    account.disabled_at.isoformat(timespec="seconds")
                    if account.disabled_at
                    else "",
                )
            out.print(table)
        finally:
            app.close()

    _guard(run)


@staff_cli.command("disable")
def staff_disable(
    staff_id: Annotated[str, typer.Argument(help="The account id (stf_...).")], db: DbOption = None
) -> None:
    """Disable a staff account."""

    def run() -> None:
        app = _app(db, None)
        try:
            app.access.disable_staff(staff_id)
        finally:
            app.close()
        out.print(f"disabled {staff_id}")

    _guard(run)


@tokens_cli.command("mint")
def tokens_mint(
    party: Annotated[str, typer.Option(help="buyer:ID or seller:ID.")],
    ttl: Annotated[
        int | None, typer.Option(help="Lifetime in seconds (default from the policy: 900).")
    ] = None,
    db: DbOption = None,
    policy: PolicyOption = None,
) -> None:
    """Mint a participant token (as POST /v1/tokens does); printed alone on the last line."""
    from tradeguard.adapters.api.auth import Authenticator

    def run() -> None:
        app = _app(db, policy)
        try:
            auth = Authenticator(
                app.access, app.policy.access, app.access.server_secret("jwt-hs256")
            )
            token, expires_at = auth.mint_participant(party, ttl)
        finally:
            app.close()
        err.print(f"token for {party}, expires {expires_at.isoformat()}")
        typer.echo(token)

    _guard(run)


@cli.command("demo-credentials")
def demo_credentials(db: DbOption = None) -> None:
    """Create a demo operator key and mint a day-long buyer and seller token from the simulated marketplace."""
    from tradeguard.adapters.api.auth import Authenticator
    from tradeguard.kernel.parties import OPERATOR
    from tradeguard.orders.ports import OrderFilter

    def run() -> None:
        app = _app(db, None)
        try:
            _, key = app.access.create_api_key(
                "demo", ["orders", "payments", "tokens", "webhooks", "admin"]
            )
            recent = app.orders.find(OPERATOR, OrderFilter(), limit=1)
            buyer_id = recent[0].buyer_id if recent else "sim-b0"
            seller_id = recent[0].seller_id if recent else "sim-s0"
            auth = Authenticator(
                app.access, app.policy.access, app.access.server_secret("jwt-hs256")
            )
            buyer_token, _ = auth.mint_participant(f"buyer:{buyer_id}", 86_400)
            seller_token, _ = auth.mint_participant(f"seller:{seller_id}", 86_400)
        finally:
            app.close()
        out.print("[bold]demo credentials[/] (for http://127.0.0.1:8000, docs at /docs)")
        out.print(f"operator API key (all scopes):\n  {key}", soft_wrap=True)
        out.print(f"buyer token for buyer:{buyer_id} (24 h):\n  {buyer_token}", soft_wrap=True)
        out.print(f"seller token for seller:{seller_id} (24 h):\n  {seller_token}", soft_wrap=True)
        out.print(
            f'try: curl -s -H "Authorization: Bearer {key}" http://127.0.0.1:8000/v1/orders?limit=3',
            soft_wrap=True,
        )

    _guard(run)


@policy_cli.command("show")
def policy_show(policy: PolicyOption = None, preset: PresetOption = None) -> None:
    """Print the policy in force (defaults, preset and file merged) as JSON."""
    loaded = _guard(lambda: _policy(policy, preset))
    out.print_json(json.dumps(loaded.model_dump(mode="json")))


def main() -> None:
    """Console-script entry point."""
    try:
        cli()
    except BrokenPipeError:  # e.g. piped into `head`
        sys.exit(0)
