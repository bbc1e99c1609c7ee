"""Alembic, driven from code: ``portal serve`` upgrades to head at start (architecture.md §3).

The scripts live in ``portal/migrations`` (a package resource, so an installed wheel carries
them); no ``alembic.ini`` is needed. Developers create a revision with
``alembic revision --autogenerate -m "..."`` (settings in ``[tool.alembic]`` of pyproject.toml).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent.parent / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, to: str = "head") -> None:
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite changes a table's constraints by rebuilding it (copy, drop, rename); with
            # foreign keys on, dropping a table others point at fails. They are switched off
            # for the migration (a pragma ignored inside a transaction, so before it begins)
            # and every reference is checked before the commit (Alembic's batch-mode advice).
            _pragma(connection, "PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                cfg.attributes["connection"] = connection
                command.upgrade(cfg, to)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                _pragma(connection, "PRAGMA foreign_keys=ON")


def _pragma(connection: Connection, sql: str) -> None:
    """A pragma on the driver's connection, outside any transaction SQLAlchemy would begin."""
    raw = connection.connection.dbapi_connection
    assert raw is not None
    raw.execute(sql)


def revisions() -> list[str]:
    """Every revision, oldest first."""
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return [r.revision for r in reversed(list(scripts.walk_revisions()))]


@lru_cache(maxsize=1)
def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def revision(message: str, url: str = "sqlite:///./.migration-scratch.db") -> None:
    """Autogenerate a revision from the models against a scratch database at head."""
    from portal.core.db import make_engine

    engine = make_engine(url)
    upgrade(engine)
    cfg = alembic_config(url)
    cfg.set_main_option(
        "file_template",
        "%%(year)d-%%(month).2d-%%(day).2d_%%(hour).2d%%(minute).2d_%%(slug)s",
    )
    command.revision(cfg, message=message, autogenerate=True)
    engine.dispose()


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 3 or sys.argv[1] != "revision":
        raise SystemExit('usage: python -m portal.core.migrate revision "what changed"')
    revision(sys.argv[2])
