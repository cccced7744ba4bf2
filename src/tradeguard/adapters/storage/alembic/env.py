"""Alembic environment: migrations run on a connection handed in by ``migrations.upgrade``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from tradeguard.adapters.storage.engine import make_engine
from tradeguard.adapters.storage.tables import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()
