"""Engine, column types and the one-transaction-per-request session (architecture.md §3).

- SQLite (the embedded default) runs in WAL mode with foreign keys on and a busy timeout, and
  every transaction that may write starts with ``BEGIN IMMEDIATE``: writers then queue on the
  lock instead of failing with SQLITE_BUSY when two workers upgrade a read to a write at once.
  Read-only requests (GET, HEAD) begin deferred (``read_only``): they never wait for a writer.
- Heavy routes (``heavy_route``) run their whole request in a worker thread; on SQLite the
  ``WriterGate`` makes the event loop's writers wait for such a thread without blocking the loop.
- PostgreSQL is reached through the same URL setting (``postgresql+psycopg://...``).
- Services flush, never commit; the request dependency commits before the response is sent.
- Instants are stored as naive UTC (SQLite keeps no offset) and always read back UTC-aware.
"""

from __future__ import annotations

import asyncio
import re
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from datetime import date as date_type
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.routing import APIRoute
from sqlalchemy import DateTime, Engine, String, TypeDecorator, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm.util import identity_key
from sqlalchemy.pool import NullPool
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlmodel import Session, SQLModel
from starlette.datastructures import State
from starlette.types import Message, Receive, Scope, Send

from portal.core.clock import as_aware

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
        # 16 MiB of page cache (the default is 2 MiB): a bulk write (an intake, a scenario)
        # updates indexes keyed by random IDs all over the file, and with a small cache the same
        # pages are spilled and rewritten many times (50,000-resident intake: ~7 s to ~5.5 s,
        # issue 19). Grown only as a connection uses it; within the 500 MB budget, measured.
        cur.execute("PRAGMA cache_size=-16384")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        deferred = conn.get_execution_options().get(_READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")


_READ_ONLY = "portal_read_only"
_READ_STATEMENT = re.compile(r"\s*(SELECT|WITH|BEGIN|COMMIT|ROLLBACK|PRAGMA)\b", re.IGNORECASE)


class WriteInReadOnlyTransaction(RuntimeWarning):
    """A GET (or HEAD) request wrote. The suite turns warnings into errors, so a test fails."""


def read_only(engine: Engine) -> Engine:
    """The same engine (pool, events) for transactions that only read. On SQLite they begin
    deferred, so in WAL mode they read the last commit and never wait for the write lock; a
    write in one would have to take the lock mid-transaction (and could fail with SQLITE_BUSY,
    or wait on the event loop), so only requests that never write use it, and a write warns.
    On PostgreSQL only the warning differs."""
    cached: Engine | None = engine.__dict__.get("_portal_read_only")
    if cached is None:
        cached = engine.execution_options(**{_READ_ONLY: True})
        event.listen(cached, "before_cursor_execute", _reads_only)
        engine.__dict__["_portal_read_only"] = cached
    return cached


def _reads_only(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    if not _READ_STATEMENT.match(statement):
        warnings.warn(f"a read-only request wrote: {statement[:80]}", WriteInReadOnlyTransaction, 2)


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


#: Methods whose requests never write (a write in one warns: ``read_only``).
READ_METHODS = frozenset({"GET", "HEAD"})


async def _request_session(request: Request) -> AsyncIterator[Session]:
    # Runs on the event loop, like the routes: no thread-pool hop per request
    # (perf-baseline.md §3-4; the decision is recorded in docs/decisions.md). Except in a
    # heavy route, which runs on a worker thread's own loop (``heavy_route``).
    engine = get_engine(request)
    if request.method in READ_METHODS:
        with session_scope(read_only(engine)) as session:
            yield session
        return
    async with loop_writer(request.app.state):
        with session_scope(engine) as session:
            yield session
    after_commit(request.app.state, session)


#: ``session.info`` key: the workspaces whose outbox got deliveries in this transaction
#: (``portal.outbox``); once it commits, they are sent (``portal.core.couriers``).
PENDING_DELIVERIES = "outbox_workspaces"


#: ``session.info`` key: the workspaces that got webhook deliveries in this transaction
#: (``portal.webhooks``); once it commits, they are sent (``portal.webhooks.worker``).
PENDING_WEBHOOKS = "webhook_workspaces"


def after_commit(state: State, session: Session) -> None:
    """What a committed unit of work owes: the deliveries it queued go out now, not before
    (issue 16: "sent after commit"; issue 20, webhooks). The couriers are absent outside a
    server."""
    for key, name in ((PENDING_DELIVERIES, "courier"), (PENDING_WEBHOOKS, "webhook_courier")):
        pending: set[str] | None = session.info.pop(key, None)
        courier = getattr(state, name, None)
        if pending and courier is not None:
            courier.kick(pending)


# scope="function": the commit happens before the response is sent (style.md C1).
SessionDep = Annotated[Session, Depends(_request_session, scope="function")]
EngineDep = Annotated[Engine, Depends(get_engine)]


# --- heavy routes off the event loop -----------------------------------------------------------

#: True in the worker thread of a heavy route: its writes already hold the writer gate.
_IN_WORKER: ContextVar[bool] = ContextVar("portal_in_worker", default=False)

#: Heavy requests in worker threads at once on PostgreSQL (each holds a pooled connection,
#: which the event loop's requests need too: 5 + 10 overflow by default).
MAX_WORKER_REQUESTS = 4


class WriterGate:
    """The process's writers in turn, without blocking the event loop (one per app).

    SQLite has one write lock per database. A writer in a worker thread (a heavy route, the
    real-clock tick) holds it for as long as its work takes; a request on the event loop that
    then began a write would wait for it inside SQLite's busy timeout, with the whole loop, and
    every other request, stopped. So a thread writer takes the gate (one at a time, once no loop
    writer is inside its transaction) and loop writers wait for the gate asynchronously before
    they begin (``loop_writer``). Readers never wait: they begin deferred (``read_only``).
    PostgreSQL locks rows, not the database: its thread writers only share a few slots."""

    def __init__(self, *, exclusive: bool) -> None:
        self.exclusive = exclusive
        self._slots = asyncio.Semaphore(1 if exclusive else MAX_WORKER_REQUESTS)
        self._open = asyncio.Event()  # no thread writer holds the gate or waits for it
        self._open.set()
        self._loop_writers = 0
        self._drained = asyncio.Event()  # no loop writer is inside its transaction
        self._drained.set()

    @classmethod
    def for_engine(cls, engine: Engine) -> WriterGate:
        return cls(exclusive=engine.dialect.name == "sqlite")

    @asynccontextmanager
    async def thread_writer(self) -> AsyncIterator[None]:
        async with self._slots:
            if not self.exclusive:
                yield
                return
            self._open.clear()
            try:
                await self._drained.wait()
                yield
            finally:
                self._open.set()

    @asynccontextmanager
    async def loop_writer(self) -> AsyncIterator[None]:
        if not self.exclusive or _IN_WORKER.get():
            yield
            return
        while not self._open.is_set():
            await self._open.wait()
        self._loop_writers += 1
        self._drained.clear()
        try:
            yield
        finally:
            self._loop_writers -= 1
            if not self._loop_writers:
                self._drained.set()


@asynccontextmanager
async def loop_writer(state: State) -> AsyncIterator[None]:
    """Around a write transaction run on the event loop: waits (without blocking the loop) while
    a thread writer holds the SQLite write lock (``WriterGate``)."""
    gate: WriterGate | None = getattr(state, "writer_gate", None)
    if gate is None:
        yield
        return
    async with gate.loop_writer():
        yield


class WorkerThreadRoute(APIRoute):
    """A route whose whole request runs in a worker thread, on an event loop of its own: its
    dependencies (authentication, the session, the idempotency key), the service, the commit,
    the response and the error handlers. For heavy work (a 50,000-resident intake, a scenario, a
    month of clock): on the server's loop it would stop every other request until done (issue
    14). The body is read first, on the server's loop; the response is sent through it."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.methods and scope["method"] not in self.methods:
            await super().handle(scope, receive, send)  # the 405, at once
            return
        loop = asyncio.get_running_loop()
        pending = [await _whole_body(receive)]

        def on_loop(make: Callable[[], Awaitable[Any]]) -> Awaitable[Any]:
            return asyncio.wrap_future(asyncio.run_coroutine_threadsafe(_call(make), loop))

        async def worker_receive() -> Message:
            if pending:
                return pending.pop()
            message: Message = await on_loop(receive)
            return message

        async def worker_send(message: Message) -> None:
            await on_loop(lambda: send(message))

        def run() -> None:
            _IN_WORKER.set(True)
            asyncio.run(APIRoute.handle(self, scope, worker_receive, worker_send))

        gate: WriterGate | None = getattr(scope["app"].state, "writer_gate", None)
        if gate is None:
            await anyio.to_thread.run_sync(run)
            return
        async with gate.thread_writer():
            await anyio.to_thread.run_sync(run)


async def _call(make: Callable[[], Awaitable[Any]]) -> Any:
    return await make()


async def _whole_body(receive: Receive) -> Message:
    """The request body as one message (or the disconnect that cut it short)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return message
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}


def heavy_route(router: APIRouter, path: str, **options: Any) -> Callable[[Any], Any]:
    """``@router.api_route(path, ...)`` for a route whose work can take seconds: its request
    runs in a worker thread (``WorkerThreadRoute``). Ordinary routes stay on the event loop
    (no thread hop: perf-baseline.md §3-4)."""

    def register(endpoint: Any) -> Any:
        router.add_api_route(path, endpoint, route_class_override=WorkerThreadRoute, **options)
        return endpoint

    return register


def expire_loaded(
    session: Session, model: type[SQLModel], workspace_id: str, ids: Iterable[str]
) -> None:
    """After a Core statement changed these rows behind the ORM's back (an ``executemany`` is
    far cheaper than per-object flushes), make the objects this session holds read again."""
    for object_id in ids:
        loaded = session.identity_map.get(identity_key(model, (workspace_id, object_id)))
        if loaded is not None:
            session.expire(loaded)


class Unindexed(ColumnElement[Any]):
    """A column SQLite must not pick an index for (``unindexed``)."""

    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]  # noqa: RUF012

    def __init__(self, column: ColumnElement[Any]) -> None:
        self.column = column
        self.type = column.type


@compiles(Unindexed)
def _unindexed_default(element: Unindexed, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.column, **kw))


@compiles(Unindexed, "sqlite")
def _unindexed_sqlite(element: Unindexed, compiler: Any, **kw: Any) -> str:
    return "+" + str(compiler.process(element.column, **kw))


def unindexed(column: Any) -> ColumnElement[Any]:
    """``column`` as a filter only: on SQLite, ``+column`` (sqlite.org/optoverview.html,
    "disqualifying WHERE clause terms"), so an index on it is not chosen over the primary key.
    For bulk updates by ``id IN (...)`` that also check a status: without statistics SQLite
    took the ``(workspace_id, status)`` index and scanned every resident of that status once
    per chunk of 500 IDs (1.6 s of a 50,000-lease month; issue 19)."""
    return Unindexed(column)


def bulk_insert(session: Session, model: type[SQLModel], rows: list[dict[str, Any]]) -> None:
    """Insert many rows with one ``executemany`` on the session's connection, in its
    transaction. Not the ORM bulk path: that builds per-row state and costs several times more
    (perf-baseline.md §8).

    On SQLite the rows go to the driver directly: each column's values converted by the
    column type's own bind processor, in one pass per column, then zipped into tuples. Core's
    ``executemany`` does the same conversion one parameter at a time, with a dict per row, and
    that was half of a 50,000-resident intake's time (issue 19, py-spy). Every row must have
    the first row's keys (as Core requires); a column left out gets its scalar default.
    PostgreSQL keeps Core, whose "insertmanyvalues" batches rows into multi-row INSERTs."""
    if not rows:
        return
    table = model.__table__  # type: ignore[attr-defined]
    connection = session.connection()
    plan = (
        _insert_plan(table, connection.dialect, tuple(rows[0]))
        if connection.dialect.name == "sqlite"
        else None
    )
    if plan is None:
        connection.execute(table.insert(), rows)
        return
    _execute_plan(connection, plan, len(rows), lambda key: [row[key] for row in rows])


def bulk_insert_columns(
    session: Session, model: type[SQLModel], count: int, columns: dict[str, Any]
) -> None:
    """``bulk_insert`` of ``count`` rows given column by column: each value a list of
    ``count`` values, or a 1-tuple ``(value,)`` for one value every row shares. The same rows
    as ``bulk_insert``, without a dict per row (a 50,000-resident intake built 200,000; issue
    19)."""
    if count == 0:
        return
    for name, value in columns.items():
        if not (isinstance(value, list) and len(value) == count) and not (
            isinstance(value, tuple) and len(value) == 1
        ):
            raise ValueError(f"column {name!r}: a list of {count} values or a 1-tuple")
    table = model.__table__  # type: ignore[attr-defined]
    connection = session.connection()

    def column(key: str) -> list[Any]:
        value = columns[key]
        return value if isinstance(value, list) else [value[0]] * count

    plan = (
        _insert_plan(table, connection.dialect, tuple(columns))
        if connection.dialect.name == "sqlite"
        else None
    )
    if plan is None:
        names = list(columns)
        rows = [
            dict(zip(names, values, strict=True))
            for values in zip(*map(column, names), strict=True)
        ]
        connection.execute(table.insert(), rows)
        return
    _execute_plan(connection, plan, count, column)


def _execute_plan(
    connection: Any,
    plan: tuple[str, list[tuple[str | None, Callable[[Any], Any] | None, Any]]],
    count: int,
    column: Callable[[str], list[Any]],
) -> None:
    sql, columns = plan
    values: list[list[Any]] = []
    for key, process, constant in columns:
        if key is None:
            values.append([constant] * count)
            continue
        raw = column(key)
        values.append(raw if process is None else _processed(process, raw))
    connection.exec_driver_sql(sql, list(zip(*values, strict=True)))


def _processed(process: Callable[[Any], Any], column: list[Any]) -> list[Any]:
    """The column's values through its bind processor, each distinct value once: a bulk write
    stamps most rows with the same instant and date, and formatting a datetime for SQLite is the
    costly part. Unhashable values (JSON) go through once per object: a column a 1-tuple gave,
    or one emit's events, repeat one dict (serializing it again for each of a month's 10,000
    events was ~3 % of the month; issue 20)."""
    try:
        distinct = set(column)
    except TypeError:
        done: dict[int, Any] = {}  # by identity: the list holds every object, so ids are unique
        for value in column:
            if id(value) not in done:
                done[id(value)] = process(value)
        return [done[id(value)] for value in column]
    if len(distinct) * 2 > len(column):
        return list(map(process, column))
    done = {value: process(value) for value in distinct}
    return [done[value] for value in column]


@lru_cache(maxsize=512)
def _insert_plan(
    table: Any, dialect: Dialect, keys: tuple[str, ...]
) -> tuple[str, list[tuple[str | None, Callable[[Any], Any] | None, Any]]] | None:
    """The positional INSERT for these keys and, per parameter, the row key it reads (None: the
    column's scalar default), the bind processor and the default. None when a column left out
    has a default Core would compute (a callable): such inserts keep Core's path."""
    names = set(keys)
    defaults: dict[str, Any] = {}
    for column in table.columns:
        if column.name in names or column.default is None:
            continue
        if not column.default.is_scalar:
            return None
        defaults[column.name] = column.default.arg
    compiled = table.insert().compile(dialect=dialect, column_keys=[*keys, *defaults])
    processors = compiled._bind_processors
    columns: list[tuple[str | None, Callable[[Any], Any] | None, Any]] = []
    for name in compiled.positiontup or ():
        process = processors.get(name)
        if name in defaults:
            value = defaults[name]
            columns.append((None, None, process(value) if process is not None else value))
        else:
            columns.append((name, process, None))
    return compiled.string, columns


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
    except BaseException:
        conn.rollback()
        raise
    else:
        # The transaction only read, so COMMIT ends it as ROLLBACK would; but psycopg forgets
        # the connection's prepared statements on a ROLLBACK, and PostgreSQL then plans the
        # receipts query again on every read (~8 ms; issue 19, measured with strace).
        conn.commit()
    finally:
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
