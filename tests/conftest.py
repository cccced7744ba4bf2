"""Test fixtures: every storage test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``TRADEGUARD_TEST_POSTGRES_URL``. Each pytest process
(xdist worker) creates its own scratch database on that server, migrates it
once and truncates it between tests, so parallel runs never share rows. Without
the variable the PostgreSQL half is skipped, except under ``CI=true``, where a
missing or unreachable PostgreSQL fails the run.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from tradeguard.adapters.storage import migrations
from tradeguard.adapters.storage.engine import make_engine, normalize_url
from tradeguard.adapters.storage.tables import metadata
from tradeguard.bootstrap import App, build_app
from tradeguard.kernel.clock import FakeClock
from tradeguard.kernel.ids import IdFactory
from tradeguard.policy import Policy, load_policy

BACKENDS = ("sqlite", "postgresql")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@dataclass
class Database:
    """A migrated, empty database of one backend; ``reset`` empties it again."""

    backend: str
    url: str
    engine: Engine
    reset: Callable[[], None]


class _Postgres:
    """One scratch database per test process on the server of TRADEGUARD_TEST_POSTGRES_URL."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = normalize_url(admin_url)
        self.name = f"tg_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        admin.dispose()
        self.url = (
            make_url(self.admin_url).set(database=self.name).render_as_string(hide_password=False)
        )
        self.engine = make_engine(self.url, pool_size=20)
        migrations.upgrade(self.engine)
        # DELETE is ~250x faster than TRUNCATE on a few tiny tables; replica mode skips the
        # triggers (ledger transfers refuse DELETE) and the foreign-key checks.
        deletes = " ".join(f'DELETE FROM "{t.name}";' for t in reversed(metadata.sorted_tables))
        self._empty = f"SET LOCAL session_replication_role = replica; {deletes}"

    def reset(self) -> None:
        with self.engine.begin() as conn:
            conn.exec_driver_sql(self._empty)

    def drop(self) -> None:
        self.engine.dispose()
        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[_Postgres | None]:
    """The per-process PostgreSQL scratch database, or None when PostgreSQL is not configured."""
    admin_url = os.environ.get("TRADEGUARD_TEST_POSTGRES_URL")
    if not admin_url:
        if IN_CI:
            pytest.fail("CI=true but TRADEGUARD_TEST_POSTGRES_URL is not set", pytrace=False)
        yield None
        return
    try:
        server = _Postgres(admin_url)
    except Exception as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL at {admin_url} is unreachable: {exc}", pytrace=False)
        yield None
        return
    yield server
    server.drop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies instead of migrating again."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrations.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(params=BACKENDS)
def database(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: Path,
    postgres_server: _Postgres | None,
) -> Iterator[Database]:
    """An empty, migrated database; the test runs once per backend."""
    if request.param == "sqlite":
        path = tmp_path / "tradeguard.db"
        url = f"sqlite:///{path}"

        def reset() -> None:
            engine.dispose()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(sqlite_template, path)

        shutil.copyfile(sqlite_template, path)
        engine = make_engine(url)
        yield Database("sqlite", url, engine, reset)
        engine.dispose()
        return
    if postgres_server is None:
        pytest.skip("PostgreSQL not configured (set TRADEGUARD_TEST_POSTGRES_URL)")
    postgres_server.reset()
    yield Database("postgresql", postgres_server.url, postgres_server.engine, postgres_server.reset)


@pytest.fixture
def clock() -> FakeClock:
    """A clock the test moves; starts on Monday 2026-01-05 09:00 UTC."""
    return FakeClock()


@pytest.fixture
def policy() -> Policy:
    """DESIGN.md's default policy."""
    return load_policy()


AppFactory = Callable[..., App]


@pytest.fixture
def make_app(database: Database, clock: FakeClock, policy: Policy) -> AppFactory:
    """Build an App on the test database; pass ``policy=`` or ``clock=`` to override."""
    built: list[App] = []

    def factory(**overrides: object) -> App:
        app = build_app(
            engine=database.engine,
            policy=overrides.get("policy", policy),  # type: ignore[arg-type]
            clock=overrides.get("clock", clock),  # type: ignore[arg-type]
            ids=IdFactory.seeded(len(built) + 1),
            migrate=False,
        )
        built.append(app)
        return app

    return factory


@pytest.fixture
def app(make_app: AppFactory) -> App:
    """TradeGuard on the test database with the default policy and the fake clock."""
    return make_app()


@pytest.fixture(autouse=True, scope="session")
def _blob_directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Uploads made by any test's App go to a temporary directory, never the working tree."""
    previous = os.environ.get("TRADEGUARD_BLOB_DIR")
    os.environ["TRADEGUARD_BLOB_DIR"] = str(tmp_path_factory.mktemp("blobs"))
    yield
    if previous is None:
        os.environ.pop("TRADEGUARD_BLOB_DIR", None)
    else:
        os.environ["TRADEGUARD_BLOB_DIR"] = previous
