"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import Engine, MetaData, create_engine, inspect, make_url, text
from sqlmodel import Session, SQLModel

from portal.core.db import make_engine
from portal.core.migrate import current_revision, head_revision, revisions, upgrade
from portal.residents import invitations
from portal.residents import service as residents_service
from portal.residents.models import ResidentStatus

#: The revision that turns stored invite codes into their digests.
INVITE_DIGESTS = "aa060b1d1ab6"


class TestMigrations:
    @pytest.mark.smoke
    def test_upgrade_head_on_an_empty_database_matches_the_models(self, tmp_path: Path) -> None:
        engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
        upgrade(engine)
        with engine.connect() as connection:
            assert current_revision(connection) == head_revision()
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, SQLModel.metadata) == []
        engine.dispose()

    def test_the_suite_database_matches_the_models(self, engine: Engine) -> None:
        # On CI this is PostgreSQL: the same migrations must fit both dialects.
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, SQLModel.metadata) == []
            assert current_revision(connection) == head_revision()

    def test_upgrade_twice_is_harmless(self, tmp_path: Path) -> None:
        engine = make_engine(f"sqlite:///{tmp_path / 'twice.db'}")
        upgrade(engine)
        upgrade(engine)
        assert "workspace" in inspect(engine).get_table_names()
        engine.dispose()

    def test_sqlite_file_runs_in_wal_mode(self, tmp_path: Path) -> None:
        engine = make_engine(f"sqlite:///{tmp_path / 'wal.db'}")
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        engine.dispose()


class TestReadiness:
    @pytest.mark.smoke
    def test_ready_when_at_head(self, client: TestClient) -> None:
        response = client.get("/readyz")
        assert response.status_code == 200
        assert response.json()["migration"] == head_revision()

    def test_not_ready_when_migrations_are_pending(
        self, client: TestClient, engine: Engine
    ) -> None:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = 'older'"))
        try:
            response = client.get("/readyz")
            assert response.status_code == 503
            assert response.json()["status"] == "migrations_pending"
        finally:
            with engine.begin() as connection:
                connection.execute(
                    text("UPDATE alembic_version SET version_num = :v"), {"v": head_revision()}
                )

    def test_healthz(self, client: TestClient) -> None:
        assert client.get("/healthz").json() == {"status": "ok"}


def _one_row_everywhere(
    engine: Engine, overrides: dict[str, dict[str, object]] | None = None
) -> int:
    """Put one row in every table of the schema as it stands (any revision), with every
    foreign key satisfied: each table's ``id`` is ``"x"`` (the workspace's ``"ws"``) and so is
    every column that points at one; ``overrides`` sets chosen columns of a table's row.
    Returns how many tables got a row."""
    import datetime as dt

    from sqlalchemy import JSON, BigInteger, Boolean, Date, DateTime, Integer, MetaData, Text

    meta = MetaData()
    meta.reflect(engine)
    filled = 0
    with engine.begin() as conn:
        for table in meta.sorted_tables:
            if table.name == "alembic_version":
                continue
            row: dict[str, object] = {}
            for column in table.columns:
                name, kind = column.name, column.type
                if name == "workspace_id" or (table.name == "workspace" and name == "id"):
                    row[name] = "ws"
                elif isinstance(kind, Boolean):
                    row[name] = False
                elif isinstance(kind, Integer | BigInteger):
                    row[name] = 0
                elif isinstance(kind, DateTime):
                    row[name] = dt.datetime(2026, 7, 6, 14, tzinfo=dt.UTC)
                elif isinstance(kind, Date):
                    row[name] = dt.date(2026, 7, 6)
                elif isinstance(kind, JSON):
                    row[name] = {}
                elif isinstance(kind, Text) or getattr(kind, "length", None) is None:
                    row[name] = "x"
                else:
                    row[name] = "x"[: kind.length]  # type: ignore[attr-defined]
            row.update((overrides or {}).get(table.name, {}))
            conn.execute(table.insert().values(**row))
            filled += 1
    return filled


class TestUpgradingAPopulatedDatabase:
    """A portal.db with data in it upgrades to head from every earlier revision. On SQLite a
    batch-mode rebuild of a table other rows point at fails while foreign keys are enforced;
    an empty database never shows it."""

    @pytest.mark.parametrize("revision", revisions()[:-1])
    def test_from_each_revision_with_a_row_in_every_table(
        self, tmp_path: Path, revision: str
    ) -> None:
        engine = make_engine(f"sqlite:///{tmp_path / 'populated.db'}")
        upgrade(engine, to=revision)
        assert _one_row_everywhere(engine) > 3

        upgrade(engine)

        with engine.connect() as connection:
            assert current_revision(connection) == head_revision()
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        engine.dispose()


@pytest.fixture
def scratch_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the suite's kind: a SQLite file, or on PostgreSQL a database of
    its own on the suite's server (dropped afterwards), so data migrations run on both."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        yield f"sqlite:///{tmp_path / 'scratch.db'}"
        return
    name = f"{url.database}_scratch"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


class TestInviteCodesBecomeDigests:
    """Invite codes stored in plaintext before ``INVITE_DIGESTS`` are stored as their SHA-256
    after it, and the code the resident was e-mailed is still accepted."""

    def test_a_code_mailed_before_the_upgrade_is_accepted_after_it(self, scratch_url: str) -> None:
        code = "Plain-Old-Code16"
        engine = make_engine(scratch_url)
        upgrade(engine, to=revisions()[revisions().index(INVITE_DIGESTS) - 1])
        resident = {"status": "invite", "password_hash": None, "invite_code": code}
        _one_row_everywhere(engine, {"resident": resident})
        meta = MetaData()
        meta.reflect(engine, only=["resident"])
        table = meta.tables["resident"]
        with engine.begin() as connection:
            [row] = connection.execute(table.select()).mappings().all()
            # A waiting resident (no code) and one more invited resident.
            connection.execute(table.insert().values({**row, "id": "y", "invite_code": None}))
            connection.execute(table.insert().values({**row, "id": "z", "invite_code": "other"}))

        upgrade(engine)

        with engine.connect() as connection:
            stored = dict(connection.execute(text("SELECT id, invite_code FROM resident")).all())
        assert stored == {
            "x": hashlib.sha256(code.encode()).hexdigest(),
            "y": None,
            "z": hashlib.sha256(b"other").hexdigest(),
        }
        with Session(engine) as session:
            accepted = invitations.accept_invite(
                session,
                code=code,
                password="s3cret-pass",
                now_of=lambda _ws: datetime(2026, 12, 4, 12, tzinfo=UTC),
            )
            assert (accepted.id, accepted.status) == ("x", ResidentStatus.APPROVED)
            with pytest.raises(residents_service.InviteNotFound):
                invitations.accept_invite(
                    session, code=stored["x"], password="s3cret-pass", now_of=lambda _ws: None
                )
            session.rollback()
        engine.dispose()
