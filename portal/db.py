"""Engine, column types and the one-transaction-per-request session (architecture.md §3).

- SQLite (the embedded default) runs in WAL mode with foreign keys on and a busy timeout, and
  every transaction starts with ``BEGIN IMMEDIATE``: writers then queue on the lock instead of
  failing with SQLITE_BUSY when two workers upgrade a read to a write at once.
- PostgreSQL is reached through the same URL setting (``postgresql+psycopg://...``).
- Services flush, never commit; the request dependency commits before the response is sent.
- Instants are stored as naive UTC (SQLite keeps no offset) and always read back UTC-aware.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import contextmanager
from datetime import date as date_type
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy import DateTime, Engine, String, TypeDecorator, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm.util import identity_key
from sqlalchemy.pool import NullPool
from sqlmodel import Session, SQLModel

from portal.clock import as_aware

# Stable constraint names so migrations can drop them (style.md B11).
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

E = TypeVar("E", bound=StrEnum)


class UTCDateTime(TypeDecorator[datetime]):
    """A UTC instant: stored without offset, returned aware. Refuses naive input."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return as_aware(value).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_aware(value)


class StrEnumType(TypeDecorator[Any]):
    """Stores a StrEnum's value in a plain string column (style.md B7.6)."""

    impl = String(32)
    cache_ok = True

    def __init__(self, enum_cls: type[StrEnum], length: int = 32) -> None:
        super().__init__(length)
        self.enum_cls = enum_cls

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else self.enum_cls(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else self.enum_cls(value)


def make_engine(url: str, *, pool: bool = True) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            **({} if pool else {"poolclass": NullPool}),
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **({} if pool else {"poolclass": NullPool}))


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A unit of work outside a request (CLI, background clock, tests): commit or roll back."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


async def _request_session(request: Request) -> AsyncIterator[Session]:
    # Runs on the event loop, like the routes: no thread-pool hop per request
    # (perf-baseline.md §3-4; the decision is recorded in docs/decisions.md).
    with Session(get_engine(request), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


# scope="function": the commit happens before the response is sent (style.md C1).
SessionDep = Annotated[Session, Depends(_request_session, scope="function")]
EngineDep = Annotated[Engine, Depends(get_engine)]


def expire_loaded(
    session: Session, model: type[SQLModel], workspace_id: str, ids: Iterable[str]
) -> None:
    """After a Core statement changed these rows behind the ORM's back (an ``executemany`` is
    far cheaper than per-object flushes), make the objects this session holds read again."""
    for object_id in ids:
        loaded = session.identity_map.get(identity_key(model, (workspace_id, object_id)))
        if loaded is not None:
            session.expire(loaded)


def bulk_insert(session: Session, model: type[SQLModel], rows: list[dict[str, Any]]) -> None:
    """Insert many rows with one Core ``executemany`` on the session's connection, in its
    transaction. Not the ORM bulk path: that builds per-row state and costs several times more
    (perf-baseline.md §8)."""
    if rows:
        table = model.__table__  # type: ignore[attr-defined]
        session.connection().execute(table.insert(), rows)


class RawReader:
    """Plain DBAPI reads for the hottest read paths (the receipt-batch API): the ORM and Core
    statement building cost several times the query itself (perf-baseline.md §7: SQLite
    ``Session.get`` ~160 µs, Core ~60 µs, the driver alone ~8 µs). SQL is written once with
    ``:name`` parameters and portable SQL; values come back as the driver gives them, and
    ``date`` / ``instant`` read SQLite's text forms."""

    def __init__(self, dbapi_connection: Any, dialect: str) -> None:
        self.conn = dbapi_connection
        self.dialect = dialect

    def rows(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        cursor = self.conn.cursor()
        try:
            cursor.execute(_paramstyle(sql, self.dialect), params)
            return list(cursor.fetchall())
        finally:
            cursor.close()

    @staticmethod
    def date(value: Any) -> date_type:
        return value if isinstance(value, date_type) else date_type.fromisoformat(value)

    @staticmethod
    def instant(value: Any) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            value = datetime.fromisoformat(value)
        return as_aware(value)


_PARAM = re.compile(r"(?<![:\w]):(\w+)")


@lru_cache(maxsize=256)
def _paramstyle(sql: str, dialect: str) -> str:
    """``:name`` for sqlite3, ``%(name)s`` for psycopg."""
    return sql if dialect == "sqlite" else _PARAM.sub(r"%(\1)s", sql)


@contextmanager
def raw_read(engine: Engine) -> Iterator[RawReader]:
    """A pooled connection for reads only, in one transaction that takes no write lock
    (SQLite: a deferred ``BEGIN``, so readers in several workers never queue behind each other
    or a writer in WAL mode), rolled back at the end."""
    conn = engine.raw_connection()
    dialect = engine.dialect.name
    try:
        if dialect == "sqlite":
            conn.driver_connection.execute("BEGIN")  # type: ignore[union-attr]
        yield RawReader(conn, dialect)
    finally:
        conn.rollback()
        conn.close()


def raw_of(session: Session) -> RawReader:
    """The session's own connection, in its transaction (the same rows the ORM would see)."""
    connection = session.connection()
    return RawReader(connection.connection, connection.dialect.name)


M = TypeVar("M", bound=SQLModel)


def get_row(session: Session, model: type[M], key: Any, *, for_update: bool = False) -> M | None:
    """``session.get``, and with ``for_update`` the row locked and read afresh first
    (PostgreSQL ``SELECT ... FOR UPDATE``; SQLite renders no lock because its transactions
    already hold the write lock). Every status change loads its row this way before checking
    its rule, so two concurrent requests never both pass it (issue 14)."""
    return session.get(
        model, key, with_for_update=True if for_update else None, populate_existing=for_update
    )
