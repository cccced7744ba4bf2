"""Platform signing keys, the scam scan in batch, and conversation log checks."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from tradeguard.adapters.cli.common import (
    DbOption,
    PolicyOption,
    PresetOption,
    cli,
    cli_policy,
    err,
    fail,
    guarded,
    keys_cli,
    open_app,
)
from tradeguard.messaging.scan import ScamScanner

messages_cli = typer.Typer(
    help="Buyer–seller messages: the scam scan and the hash-chained log.", no_args_is_help=True
)
cli.add_typer(messages_cli, name="messages")


@keys_cli.command("platform-init")
def platform_init(db: DbOption = None) -> None:
    """Create the platform's Ed25519 signing key (stored in the database); harmless if it exists."""

    def run() -> None:
        app = open_app(db, None)
        try:
            existed = bool(app.platform_keys.generations())
            key = app.platform_keys.init()
        finally:
            app.close()
        verb = "already had" if existed else "created"
        err.print(f"{verb} platform key {key.key_id} (generation {key.generation})")
        typer.echo(json.dumps({"key_id": key.key_id, "public_key_b64": key.public_key_b64}))

    guarded(run)


@keys_cli.command("platform-rotate")
def platform_rotate(db: DbOption = None) -> None:
    """Make a new platform key current; older public keys stay published for verification."""

    def run() -> None:
        app = open_app(db, None)
        try:
            key = app.platform_keys.rotate()
        finally:
            app.close()
        err.print(f"platform key {key.key_id} (generation {key.generation}) is now current")
        typer.echo(json.dumps({"key_id": key.key_id, "public_key_b64": key.public_key_b64}))

    guarded(run)


@keys_cli.command("platform-public")
def platform_public(db: DbOption = None) -> None:
    """Print every platform public key (key id -> base64), as verifiers need them."""

    def run() -> None:
        app = open_app(db, None)
        try:
            typer.echo(json.dumps(app.platform_keys.public_keys(), sort_keys=True))
        finally:
            app.close()

    guarded(run)


@messages_cli.command("scan")
def messages_scan(
    file: Annotated[
        Path | None,
        typer.Argument(help="JSON lines of {text, sender_role?}; standard input when omitted."),
    ] = None,
    policy: PolicyOption = None,
    preset: PresetOption = None,
) -> None:
    """Scan messages in batch: one JSON object per line in, one verdict ({flagged, reasons}) out.

    Uses the policy's allowlist; needs no database. A line that is not a JSON
    object with a string ``text`` stops the run with its line number.
    """

    def run() -> None:
        scanner = ScamScanner(cli_policy(policy, preset).messaging.scan)
        if file is None:
            _scan_lines(scanner, sys.stdin)
            return
        with file.open(encoding="utf-8") as handle:
            _scan_lines(scanner, handle)

    guarded(run)


def _scan_lines(scanner: ScamScanner, lines: TextIO) -> None:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item: Any = json.loads(line)
        except json.JSONDecodeError as exc:
            raise fail(f"line {number}: not JSON ({exc.msg})") from None
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise fail(f'line {number}: expected an object with a string "text"')
        role = item.get("sender_role")
        if role is not None and not isinstance(role, str):
            raise fail(f'line {number}: "sender_role" must be a string')
        verdict = scanner.scan(item["text"], role)
        sys.stdout.write(json.dumps(verdict.to_dict(), ensure_ascii=False) + "\n")


@messages_cli.command("verify")
def messages_verify(
    conversation_id: Annotated[str, typer.Argument(help="The conversation id (cnv_...).")],
    db: DbOption = None,
) -> None:
    """Recompute a stored conversation's hash chain and check its signed checkpoints."""

    def run() -> None:
        app = open_app(db, None)
        try:
            problems = app.messaging.verify(conversation_id)
        finally:
            app.close()
        for problem in problems:
            typer.echo(problem)
        if problems:
            raise fail(f"{len(problems)} problem(s) in conversation {conversation_id}")
        err.print(f"conversation {conversation_id}: chain and checkpoints intact")

    guarded(run)
