"""``--database-url``: the CLI works on a portal database directly, in-process.

Only on one that exists (a SQLite file that is there, a PostgreSQL database that accepts a
connection, either holding the portal's tables): a data command never creates an empty
database and then reports on it. ``portal serve`` and ``portal migrate`` do create one
(``engine_for``). A URL that cannot be parsed, names an unknown driver or points at a host that
does not answer is one line.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, inspect, make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from portal.cli.output import UNREACHABLE, USAGE, CliError, Problem

EXAMPLE_URLS = "sqlite:///path/to/portal.db or postgresql+psycopg://user@host:5432/db"


def _url(url: str, label: str = "--database-url") -> URL:
    try:
        return make_url(url)
    except ArgumentError:
        raise CliError(
            f"{label} {url!r} is not a database URL (expected {EXAMPLE_URLS})", USAGE
        ) from None


def shown(url: str) -> str:
    """The URL with its password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _webhook_policy() -> None:
    """A clock advance from the command line sends webhooks as the server would: to the
    hosts the settings allow (issue 20)."""
    from portal.core.settings import Settings
    from portal.webhooks import service, worker

    settings = Settings()
    worker.POLICY = service.Policy.of(
        settings.webhook_allowed_hosts, settings.webhook_timeout_seconds
    )


def engine_for(url: str, label: str = "--database-url") -> Engine:
    """An engine on ``url``, connected once: every way the URL can be wrong is a ``CliError``.
    (PostgreSQL is given 10 s to answer, not the operating system's minutes.)"""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from portal.core.db import make_engine

    parsed = _url(url, label)
    _webhook_policy()
    try:
        engine = make_engine(url)
    except NoSuchModuleError:
        raise CliError(
            f"{label} {shown(url)}: unknown database driver {parsed.drivername!r} "
            f"(expected {EXAMPLE_URLS})",
            USAGE,
        ) from None
    except ImportError as exc:
        raise CliError(
            f"{label} {shown(url)}: the driver for {parsed.drivername!r} is not "
            f"installed ({exc.name or exc})",
            USAGE,
        ) from None
    probe = engine
    if parsed.get_backend_name() == "postgresql":
        probe = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 10})
    try:
        with probe.connect():
            pass
    except DBAPIError as exc:
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise CliError(f"cannot open the database {shown(url)}: {reason}", UNREACHABLE) from None
    finally:
        if probe is not engine:
            probe.dispose()
    return engine


def _not_portal(url: str) -> CliError:
    return CliError(
        f"{shown(url)} is not a portal database (it has no portal tables): `portal migrate "
        "--database-url …` prepares it",
        UNREACHABLE,
    )


def _sqlite_is_portal(path: Path) -> bool:
    """Whether the file holds the portal's tables, read without writing a byte to it."""
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            found = db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
            ).fetchone()
    except sqlite3.DatabaseError:
        return False
    return found is not None


def existing_engine(url: str) -> Engine:
    """An engine on a portal database that already exists, at the newest migration."""
    from portal.core.migrate import upgrade

    parsed = _url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or database.startswith("file:"):
            raise CliError(
                f"--database-url {url}: name a database file (an in-memory database is empty)",
                USAGE,
            )
        path = Path(database)
        if not path.is_file():
            raise CliError(
                f"no database at {path.resolve()} (--database-url {url}); nothing was created. "
                "`portal serve --database-url …` or `portal migrate --database-url …` makes "
                "one, or leave --database-url out to use the server at --url",
                UNREACHABLE,
            )
        if not _sqlite_is_portal(path):
            raise _not_portal(url)
    engine = engine_for(url)
    if not inspect(engine).has_table("alembic_version"):
        engine.dispose()
        raise _not_portal(url)
    upgrade(engine)
    return engine


def _problem(exc: Any, where: str) -> Problem:
    return Problem(
        exc.status_code,
        exc.code,
        exc.detail,
        errors=[e.as_dict() for e in exc.errors],
        where=where,
    )


class DatabaseBackend:
    """The same operations as ``HttpBackend``, through the services, on an existing database."""

    def __init__(self, url: str) -> None:
        from portal import models  # noqa: F401  (every table mapped)

        self.where = f"database {shown(url)}"
        self.engine = existing_engine(url)

    def close(self) -> None:
        self.engine.dispose()

    def _run(self, work: Any) -> Any:
        from portal.core.db import session_scope
        from portal.core.errors import PortalError

        try:
            with session_scope(self.engine) as session:
                return work(session)
        except PortalError as exc:
            raise _problem(exc, self.where) from None

    def clock_now(self, workspace_id: str) -> datetime:
        from portal.core.clock import SystemClock
        from portal.workspaces import service as workspaces_service

        def now(session: Any) -> datetime:
            ws = workspaces_service.get_workspace(session, workspace_id)
            return workspaces_service.now_of(ws, SystemClock())

        result: datetime = self._run(now)
        return result

    def advance(self, workspace_id: str, body: dict[str, Any]) -> dict[str, Any]:
        from portal.core.clock import SystemClock
        from portal.sandbox import service as sandbox_service
        from portal.workspaces.schemas import ClockAdvance

        def advance(session: Any) -> dict[str, Any]:
            result = sandbox_service.advance(
                session,
                workspace_id,
                ClockAdvance.model_validate(body),
                system=SystemClock(),
                checkpoint=session.commit,
            )
            return result.model_dump(mode="json")

        done: dict[str, Any] = self._run(advance)
        return done

    def workspace_ids(self) -> list[str]:
        from sqlmodel import col, select

        from portal.workspaces.models import Workspace

        ids: list[str] = self._run(
            lambda session: list(
                session.scalars(select(col(Workspace.id)).order_by(col(Workspace.id)))
            )
        )
        return ids

    def check(self, workspace_id: str) -> dict[str, Any]:
        from portal.sandbox import checks

        result: dict[str, Any] = self._run(
            lambda session: checks.report_read(checks.run(session, workspace_id)).model_dump(
                mode="json"
            )
        )
        return result

    def seed(self, text: bytes, document: dict[str, Any], *, replace: bool) -> dict[str, Any]:
        from portal.auth import service as auth_service
        from portal.core.clock import SystemClock
        from portal.core.settings import Settings
        from portal.sandbox import scenarios

        settings = Settings()
        auth_service.set_password_hash_cost(settings.password_hash_cost)

        def seed(session: Any) -> dict[str, Any]:
            scenario = scenarios.parse(text)
            key = auth_service.ensure_secret(session, "signing_key", settings.secret_key)
            clock = SystemClock()
            result = scenarios.create_from(
                session,
                scenario,
                signing_key=key,
                system_now=clock.now(),
                system_clock=clock,
                replace=replace,
            )
            return result.model_dump(mode="json")

        loaded: dict[str, Any] = self._run(seed)
        return loaded
