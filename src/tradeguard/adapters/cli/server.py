"""`tradeguard serve`: the HTTP API on uvicorn."""

from __future__ import annotations

import os
from typing import Annotated

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
)
from tradeguard.adapters.storage import migrations
from tradeguard.adapters.storage.engine import database_url, is_sqlite, make_engine


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
    inline: Annotated[
        bool,
        typer.Option(
            "--inline",
            help=(
                "Run each request's database work on its process's event loop, not in a"
                " thread: one request at a time per process and no thread hand-offs. Faster"
                " on PostgreSQL with about two --workers per core; a slow request holds up"
                " the others of its process."
            ),
        ),
    ] = False,
    db: DbOption = None,
    policy: PolicyOption = None,
    preset: PresetOption = None,
) -> None:
    """Serve the HTTP API (FastAPI on uvicorn), with the deadline worker and webhook dispatcher.

    Each API process runs its own worker and dispatcher unless --no-worker; on
    PostgreSQL they share the work safely (FOR UPDATE SKIP LOCKED). By default each
    process serves many requests at once from a thread pool; with --inline it serves
    one at a time without threads, and it takes several processes per core to keep
    the cores busy while requests wait on the database (e.g. --inline --workers 4 on
    two cores).
    """
    import uvicorn

    url = database_url(db)

    def check() -> None:
        cli_policy(policy, preset)  # refuse a bad policy before starting processes
        if is_sqlite(url) and workers > 1:
            raise fail("SQLite has a single writer; use PostgreSQL (--db) for --workers above 1")
        engine = make_engine(url)
        migrations.upgrade(engine)
        engine.dispose()

    guarded(check)
    os.environ["TRADEGUARD_DATABASE_URL"] = url
    if policy is not None:
        os.environ["TRADEGUARD_POLICY"] = str(policy)
    if preset is not None:
        os.environ["TRADEGUARD_POLICY_PRESET"] = preset
    os.environ["TRADEGUARD_BACKGROUND"] = "0" if no_worker else "1"
    os.environ["TRADEGUARD_DEV"] = "1" if dev else "0"
    os.environ["TRADEGUARD_INLINE"] = "1" if inline else "0"
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
