"""A scratch PostgreSQL database for one benchmark run, beside the one given, dropped after.

Benchmarks never touch the database they are pointed at: each run migrates a fresh
database of its own, so runs of different checkouts (an A/B across commits, say) do
not trip over each other's schema.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tradeguard.adapters.storage.engine import normalize_url


def _admin(url: str, statement: str) -> None:
    admin = create_engine(normalize_url(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(statement))
    admin.dispose()


@contextmanager
def scratch_database(url: str, purpose: str) -> Iterator[str]:
    """Create an empty database on ``url``'s server, yield its URL, drop it afterwards."""
    name = f"tg_bench_{purpose}_{uuid.uuid4().hex[:8]}"
    _admin(url, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(normalize_url(url)).set(database=name).render_as_string(hide_password=False)
    finally:
        _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
