"""Alembic environment: the URL comes from the caller (``portal.core.migrate``) or from Settings."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy import Connection
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

import portal.models  # noqa: F401 - every table, for autogenerate
from portal.core.db import StrEnumType, UTCDateTime, make_engine
from portal.core.settings import Settings

config = context.config
target_metadata = SQLModel.metadata


def _render_item(type_: str, obj: Any, _ctx: Any) -> str | Literal[False]:
    # Migrations stay static (style.md B11): app column types are written as plain SQL types.
    if type_ != "type":
        return False
    if isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    if isinstance(obj, StrEnumType | AutoString):
        return f"sa.String(length={obj.length if isinstance(obj, AutoString) else obj.impl.length})"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or Settings().database_url
    engine = make_engine(url, pool=False)
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run against a database")
run_migrations_online()
