"""Operator API keys, staff accounts, participant tokens, demo credentials."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.table import Table

from tradeguard.adapters.cli.common import (
    DbOption,
    PolicyOption,
    cli,
    err,
    guarded,
    keys_cli,
    open_app,
    out,
    staff_cli,
    tokens_cli,
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
        app = open_app(db, None)
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

    guarded(run)


@keys_cli.command("list")
def keys_list(db: DbOption = None) -> None:
    """List API keys (never their secrets)."""

    def run() -> None:
        app = open_app(db, None)
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

    guarded(run)


@keys_cli.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key id (key_...).")], db: DbOption = None
) -> None:
    """Revoke an API key."""

    def run() -> None:
        app = open_app(db, None)
        try:
            app.access.revoke_api_key(key_id)
        finally:
            app.close()
        out.print(f"revoked {key_id}")

    guarded(run)


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
        app = open_app(db, None)
        try:
            account = app.access.create_staff(email, role, secret)
        finally:
            app.close()
        out.print(f"created {account.role} {account.email} ({account.id})")

    guarded(run)


@staff_cli.command("list")
def staff_list(db: DbOption = None) -> None:
    """List staff accounts."""

    def run() -> None:
        app = open_app(db, None)
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

    guarded(run)


@staff_cli.command("disable")
def staff_disable(
    staff_id: Annotated[str, typer.Argument(help="The account id (stf_...).")], db: DbOption = None
) -> None:
    """Disable a staff account."""

    def run() -> None:
        app = open_app(db, None)
        try:
            app.access.disable_staff(staff_id)
        finally:
            app.close()
        out.print(f"disabled {staff_id}")

    guarded(run)


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
        app = open_app(db, policy)
        try:
            auth = Authenticator(
                app.access, app.policy.access, app.access.server_secret("jwt-hs256")
            )
            token, expires_at = auth.mint_participant(party, ttl)
        finally:
            app.close()
        err.print(f"token for {party}, expires {expires_at.isoformat()}")
        typer.echo(token)

    guarded(run)


@cli.command("demo-credentials")
def demo_credentials(db: DbOption = None) -> None:
    """Create a demo operator key and mint a day-long buyer and seller token from the simulated marketplace."""
    from tradeguard.adapters.api.auth import Authenticator
    from tradeguard.kernel.parties import OPERATOR
    from tradeguard.orders.ports import OrderFilter

    def run() -> None:
        app = open_app(db, None)
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

    guarded(run)
