"""Shared fixtures: one database per test session, emptied after every test.

The database is a temporary SQLite file (WAL, as in production) unless
``PORTAL_TEST_DATABASE_URL`` names another one (CI sets a fresh PostgreSQL database). The schema
is built by the Alembic migrations, not ``create_all``, so every test also exercises them.
The process clock is a ``FixedClock``; workspace clocks live in the database as in production.
Any 500 answered during a test fails that test: a 500 is always a bug.

Passwords are hashed at a low scrypt cost (``TEST_PASSWORD_HASH_COST``): at the production cost
each landlord or resident password took ~70 ms to hash and again to check at every login, about
a quarter of the suite's CPU. Hashes record their cost, so every check still runs; the full cost
itself is tested in ``auth/test_password_cost.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, delete, make_url
from sqlmodel import Session, SQLModel

import portal.models  # noqa: F401
from portal.auth import service as auth_service
from portal.core.clock import FixedClock
from portal.core.db import make_engine
from portal.core.migrate import upgrade
from portal.core.settings import Settings
from portal.main import create_app

OPERATOR_KEY = "test-operator-key"
SECRET_KEY = "test-signing-key-for-the-suite-only"
SYSTEM_NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
#: scrypt ``n`` of the passwords the suite creates (production: 2**14).
TEST_PASSWORD_HASH_COST = 16
#: The suite's journal flush interval (portal_tests/test_journal*.py test the timer itself).
JOURNAL_FLUSH_SECONDS = 3600.0


#: Test modules whose every test is marked ``fuzz`` (module-level ``pytestmark``), and no test
#: of which carries another mark a ``-m`` expression could select (``smoke``): importing
#: test_schemathesis.py draws schemathesis's coverage cases, ~4 s in each process.
_FUZZ_ONLY_MODULES = frozenset({"test_schemathesis.py"})


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Do not import a fuzz-only module when ``-m`` deselects ``fuzz`` anyway (``-m smoke``,
    ``-m "not fuzz"``): the same tests run, the run starts sooner."""
    expression = config.option.markexpr
    if collection_path.name not in _FUZZ_ONLY_MODULES or not expression:
        return None
    try:
        from _pytest.mark import MarkMatcher
        from _pytest.mark.expression import Expression

        fuzz = MarkMatcher.from_markers([pytest.mark.fuzz.mark])
        selected = Expression.compile(expression).evaluate(fuzz)
    except Exception:  # pytest's expression API is internal: when it moves, just collect
        return None
    return True if not selected else None


def pytest_configure(config: pytest.Config) -> None:
    # Every process the suite starts (``portal serve`` under test, the CLI in-process with a
    # default ``Settings()``, the plugin's servers) hashes at the cheap cost too; the tests of
    # the production cost clear it (auth/test_password_cost.py).
    os.environ.setdefault("PORTAL_PASSWORD_HASH_COST", str(TEST_PASSWORD_HASH_COST))


@pytest.fixture(autouse=True)
def _cheap_password_hashing() -> None:
    # Before every test, not once: a test that builds its own app from a default ``Settings()``
    # may have set the production cost again.
    auth_service.set_password_hash_cost(TEST_PASSWORD_HASH_COST)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("PORTAL_TEST_DATABASE_URL")
    if not url:
        # tmp_path_factory is per xdist worker already: each worker has its own file.
        path: Path = tmp_path_factory.mktemp("db") / "portal-test.db"
        yield f"sqlite:///{path}"
        return
    # Read from the environment rather than xdist's ``worker_id`` fixture, so the suite also
    # runs with ``-p no:xdist``.
    worker_id = os.environ.get("PYTEST_XDIST_WORKER")
    if worker_id is None:
        yield url
        return
    # Under pytest-xdist every worker gets a database of its own on the same server, named
    # after the one CI created (``portal_ci_…_gw0``), so tests that empty the database after
    # themselves never empty another worker's. Dropped when the worker ends.
    parsed = make_url(url)
    name = f"{parsed.database}_{worker_id}"
    admin = create_engine(parsed, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def wipe(engine: Engine) -> None:
    with Session(engine) as session:
        for table in reversed(SQLModel.metadata.sorted_tables):
            session.execute(delete(table))
        session.commit()


@pytest.fixture(autouse=True)
def _clean_database(request: pytest.FixtureRequest) -> Iterator[None]:
    # Any test that reached the database (through the app, a session or the CLI) leaves it
    # empty for the next one.
    uses_db = {"engine", "database_url"} & set(request.fixturenames)
    engine: Engine | None = request.getfixturevalue("engine") if uses_db else None
    yield
    if engine is not None:
        wipe(engine)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session
        session.rollback()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(SYSTEM_NOW)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        operator_key=OPERATOR_KEY,
        secret_key=SECRET_KEY,
        run_real_clocks=False,
        password_hash_cost=TEST_PASSWORD_HASH_COST,
        # The request journal writes when read, when its buffer fills and at shutdown, not on a
        # timer: a write lands between two reads of a test only when the test asks for it (a
        # write moves the read cache's version: test_read_cache.py).
        journal_flush_seconds=JOURNAL_FLUSH_SECONDS,
    )


#: What each test's lifespan (or the test's own clock) sets on ``app.state`` anew.
_PER_TEST_STATE = frozenset(
    {
        "clock",
        "engine",
        "writer_gate",
        "read_cache",
        "operator_key",
        "signing_key",
        "courier",
        "webhook_courier",
        "journal",
    }
)


@pytest.fixture(scope="session")
def _apps() -> dict[str, FastAPI]:
    """The worker's apps, one per distinct ``Settings``. An app is built once: FastAPI builds
    each included route's handler (dependencies, pydantic models) on the first request that
    scans it, which a new app per test paid again and again, about a fifth of the suite's CPU.
    Each test still runs the lifespan afresh (its ``TestClient``) on the emptied database."""
    return {}


@pytest.fixture
def app(
    settings: Settings, engine: Engine, clock: FixedClock, _apps: dict[str, FastAPI]
) -> Iterator[FastAPI]:
    key = settings.model_dump_json()
    app = _apps.get(key)
    if app is None:
        app = _apps[key] = create_app(settings, engine=engine, clock=clock)
    app.state.clock = clock
    routes = list(app.router.routes)
    state = {name: id(value) for name, value in app.state._state.items()}
    yield app
    # A test that changed the app (added a route, overrode a dependency, set other state)
    # leaves it behind: the next test gets a new one.
    changed_state = {
        name
        for name in state.keys() | app.state._state.keys()
        if state.get(name) != id(app.state._state.get(name, None))
    }
    if (
        list(app.router.routes) != routes
        or app.dependency_overrides
        or changed_state - _PER_TEST_STATE
    ):
        del _apps[key]


def _no_server_errors(response: httpx.Response) -> None:
    # 503 is readyz's honest "not ready"; any other 5xx is a bug.
    assert response.status_code < 500 or response.status_code == 503, (
        f"{response.request.method} {response.request.url} answered "
        f"{response.status_code}: {response.read()!r}"
    )


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        client.event_hooks = {"request": [], "response": [_no_server_errors]}
        yield client


@pytest.fixture
def operator() -> dict[str, str]:
    return {"Authorization": f"Bearer {OPERATOR_KEY}"}


@pytest.fixture(scope="session")
def live_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One live ``portal serve`` per test worker, on the suite's database (emptied after every
    test, as for in-process tests), for the tests that need a real server: the CLI's URL mode,
    the reference client. A server start costs ~2 s of CPU, so they share it."""
    from portal_tests.live import LiveServer

    log = tmp_path_factory.mktemp("live-serve") / "serve.log"
    env = {
        "PORTAL_SECRET_KEY": "live-test-signing-key-for-the-suite-only",
        # It shares the database with in-process tests: its real-clock loop (every second, on
        # the system clock) would advance their `real`-mode workspaces under them (a PostgreSQL
        # CI run saw TestRealClock's workspace moved to a 22:30 job mid-test).
        "PORTAL_RUN_REAL_CLOCKS": "false",
        # Nor does its journal write on a timer (only when read, and at its end).
        "PORTAL_JOURNAL_FLUSH_SECONDS": str(JOURNAL_FLUSH_SECONDS),
    }
    with LiveServer(database_url, log, env=env) as live:
        yield live
