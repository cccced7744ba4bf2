"""``tradeguard evidence``: export a case as a signed bundle, and verify a bundle offline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from tradeguard.adapters.cli.common import (
    DbOption,
    PolicyOption,
    cli,
    err,
    fail,
    guarded,
    open_app,
    out,
)
from tradeguard.disputes.bundle import ed25519_check, verify_bundle
from tradeguard.kernel.errors import ValidationFailed
from tradeguard.kernel.parties import OPERATOR
from tradeguard.messaging.chain import verify_chain_proof

evidence_cli = typer.Typer(
    help="Evidence bundles of disputes: export and offline verification.", no_args_is_help=True
)
cli.add_typer(evidence_cli, name="evidence")


@evidence_cli.command("export")
def evidence_export(
    case_id: Annotated[str | None, typer.Argument(help="The case (dsp_...) to export.")] = None,
    out_path: Annotated[
        Path, typer.Option("--out", help="The bundle file (with --all: a directory).")
    ] = Path("bundle.json"),
    every: Annotated[
        bool, typer.Option("--all", help="Export every decided case into --out DIR.")
    ] = False,
    db: DbOption = None,
    policy: PolicyOption = None,
) -> None:
    """Write a case's evidence bundle: JSON, attachments, chain proofs, signed decisions, signed as a whole."""

    def run() -> None:
        if every == (case_id is not None):
            raise ValidationFailed("Name one CASE_ID, or pass --all (not both).")
        app = open_app(db, policy)
        try:
            if case_id is not None:
                _write(out_path, app.disputes.export_bundle(case_id, OPERATOR))
                out.print(f"exported {case_id} to {out_path}", highlight=False)
                return
            out_path.mkdir(parents=True, exist_ok=True)
            ids = app.disputes.decided_case_ids()
            for decided in ids:
                _write(out_path / f"{decided}.json", app.disputes.export_bundle(decided, OPERATOR))
            out.print(f"exported {len(ids)} decided case(s) to {out_path}", highlight=False)
        finally:
            app.close()

    guarded(run)


@evidence_cli.command("verify")
def evidence_verify(
    bundle_file: Annotated[Path, typer.Argument(help="The bundle to check.", dir_okay=False)],
    public_keys: Annotated[
        Path | None,
        typer.Option(
            "--public-keys",
            help="JSON file of the platform public keys ({key_id: base64}, as GET /v1/public/platform-keys gives). "
            "Without it, the keys are read from --db.",
            dir_okay=False,
        ),
    ] = None,
    db: DbOption = None,
    policy: PolicyOption = None,
) -> None:
    """Check a bundle with the platform's public keys only; exit 1 naming every part that fails."""

    def run() -> None:
        bundle = _read_json(bundle_file, "bundle")
        keys = _keys(public_keys, db, policy)
        failures = verify_bundle(bundle, keys, ed25519_check, verify_chain_proof)
        if not failures:
            evidence = len(bundle.get("evidence", []))
            out.print(
                f"[green]bundle ok[/]: {evidence} evidence item(s), signatures and hashes verified",
                highlight=False,
            )
            return
        for failure in failures:
            err.print(f"[red]failed[/] {failure}", highlight=False, soft_wrap=True)
        raise fail(f"{len(failures)} check(s) failed")

    guarded(run)


def _keys(path: Path | None, db: str | None, policy: Path | None) -> dict[str, str]:
    if path is not None:
        data = _read_json(path, "public keys file")
        keys = data.get("keys", data) if isinstance(data, dict) else None
        if isinstance(keys, list):
            keys = {k["key_id"]: k["public_key_b64"] for k in keys if isinstance(k, dict)}
        if not isinstance(keys, dict) or not all(isinstance(v, str) for v in keys.values()):
            raise ValidationFailed(f"{path} is not a JSON object of key_id -> base64 public key.")
        return dict(keys)
    app = open_app(db, policy)
    try:
        if app.disputes.signer is None:
            raise ValidationFailed("No platform keys: pass --public-keys FILE.")
        return app.disputes.signer.public_keys()
    finally:
        app.close()


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValidationFailed(
            f"The {what} {path} is not JSON: {exc.msg} (line {exc.lineno})."
        ) from None
    except UnicodeDecodeError:
        raise ValidationFailed(f"The {what} {path} is not UTF-8 text.") from None


def _write(path: Path, bundle: dict[str, Any]) -> None:
    path.write_text(
        json.dumps(bundle, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8"
    )
