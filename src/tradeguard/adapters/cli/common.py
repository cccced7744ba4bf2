"""Shared pieces of the ``tradeguard`` command line: the Typer app, options, error handling.

Every command takes ``--db URL`` (default: ``TRADEGUARD_DATABASE_URL``, else a
SQLite file ``tradeguard.db``) and ``--policy FILE`` (default:
``TRADEGUARD_POLICY``). A refusal prints ``error: <what went wrong>`` on stderr
and exits non-zero; nothing is half-done.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from tradeguard.bootstrap import App, build_app
from tradeguard.kernel.errors import TradeGuardError
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
    help="Staff accounts (support, arbitrator, risk analyst, admin) for the staff API.",
    no_args_is_help=True,
)
fund_cli = typer.Typer(
    help="The compensation fund that backs platform advances.", no_args_is_help=True
)
tokens_cli = typer.Typer(help="Participant tokens for buyers and sellers.", no_args_is_help=True)
cli.add_typer(ledger_cli, name="ledger")
cli.add_typer(policy_cli, name="policy")
cli.add_typer(keys_cli, name="keys")
cli.add_typer(staff_cli, name="staff")
cli.add_typer(tokens_cli, name="tokens")
cli.add_typer(fund_cli, name="fund")

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


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``error: message`` on stderr and return the Exit to raise."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def guarded(action: Callable[[], T]) -> T:
    """Run a command body; refusals become one line on stderr and a non-zero exit."""
    try:
        return action()
    except TradeGuardError as exc:
        raise fail(exc.message) from None
    except OperationalError as exc:
        raise fail(f"cannot use the database: {str(exc.orig).strip().splitlines()[0]}") from None
    except (ArgumentError, NoSuchModuleError) as exc:
        raise fail(f"not a usable database URL: {exc}") from None
    except ModuleNotFoundError as exc:
        raise fail(f"no driver for this database: {exc.name} is not installed") from None
    except OSError as exc:
        raise fail(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc)) from None


def cli_policy(policy_file: Path | None, preset: str | None = None) -> Policy:
    """The policy from --policy / --policy-preset, else TRADEGUARD_POLICY / TRADEGUARD_POLICY_PRESET."""
    file = policy_file or (
        Path(os.environ["TRADEGUARD_POLICY"]) if os.environ.get("TRADEGUARD_POLICY") else None
    )
    return load_policy(file, preset or os.environ.get("TRADEGUARD_POLICY_PRESET"))


def open_app(
    db: str | None, policy_file: Path | None, preset: str | None = None, **kwargs: Any
) -> App:
    """Wire TradeGuard to the database and policy the command was given."""
    return build_app(db, policy=cli_policy(policy_file, preset), **kwargs)
