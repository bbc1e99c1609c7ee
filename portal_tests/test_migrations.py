"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import Engine, inspect, text
from sqlmodel import SQLModel

from portal.db import make_engine
from portal.migrate import current_revision, head_revision, revisions, upgrade


class TestMigrations:
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


def _one_row_everywhere(engine: Engine) -> int:
    """Put one row in every table of the schema as it stands (any revision), with every
    foreign key satisfied: each table's ``id`` is ``"x"`` (the workspace's ``"ws"``) and so is
    every column that points at one. Returns how many tables got a row."""
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
