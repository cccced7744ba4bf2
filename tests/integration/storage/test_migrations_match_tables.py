"""The Alembic migrations build exactly the schema the table definitions describe.

A table changed in ``adapters/storage/tables`` without a migration (or the reverse)
would work in tests that create tables from metadata and fail on a real upgrade.
"""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from tradeguard.adapters.storage.tables import metadata


def test_migrated_database_matches_the_table_definitions(database: Any) -> None:
    # given: the test database, built by running every migration
    with database.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": False}
        )
        # when
        differences = compare_metadata(context, metadata)
    # then
    assert differences == []
