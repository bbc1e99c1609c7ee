"""A response cache for the accounting client's polling reads (issue 19, scope 3).

Landlord 12 polls "Check Server for More Batches" and reloads batches far more often than
anything changes, so the same bytes are computed again and again. This ASGI middleware keeps
the last 200 answer of each cacheable read, keyed by the method, path, query and the SHA-256
of the ``Authorization`` header, together with the **database's version** when the answer was
computed; a request whose key and version match gets the stored bytes without the route, the
token check or the database reads running.

The version is the whole database's, so any commit by anyone (another request, another worker
process, the clock, the CLI) invalidates every entry, and nothing has to know which rows an
answer depends on:

- SQLite: ``PRAGMA data_version`` on a connection of its own, which changes whenever another
  connection has committed (sqlite.org/pragma.html#pragma_data_version), across processes.
- PostgreSQL: ``pg_current_snapshot()``: equal snapshots (xmin, xmax, the transactions in
  progress) see exactly the same committed transactions, so the same rows.
- An in-memory SQLite database shares one connection, whose own commits ``data_version`` does
  not see: there is no version, and nothing is cached.

The version is read *before* the route runs and the answer stored under it: a commit that lands
while the route reads makes the stored entry unreachable (the next version differs), never
stale. Only routes whose answer is a function of the database, the path, the query and the
token are registered (``portal.main.CACHED_READS``): not the clock (a workspace's realtime
clock moves without a commit), and never a refusal (each is recorded as the integration's last
error, a write, so every refused call runs the route).

Each entry also keeps the principal the route's dependencies recorded on the scope
(``portal.core.principals``): an answer served from the cache puts it back on the request's
scope, marked cached, for the request journal (issue 20), since no dependency runs for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.core.principals import CACHED, PRINCIPAL

#: Entries kept per process (least recently used out first): a few MB at most.
MAX_ENTRIES = 2048


class ReadCache:
    """The answers kept by one process, and the database version they are valid for, read on a
    connection of the cache's own. Made by the app's lifespan and closed with it: versions read
    on different connections are not comparable, so the entries go with the connection."""

    def __init__(self, connect: Callable[[], Any], sql: str) -> None:
        self._connect = connect
        self._connection = connect()
        self._sql = sql
        self._lock = threading.Lock()
        self._next: asyncio.Future[Any] | None = None
        self.entries: OrderedDict[tuple[bytes, str, bytes], tuple[Any, list[Message], Any]] = (
            OrderedDict()
        )

    @classmethod
    def for_engine(cls, engine: Engine) -> ReadCache | None:
        """None where the database has no version this can read (nothing is cached)."""
        dialect = engine.dialect.name
        if dialect == "sqlite":
            if engine.url.database in (None, "", ":memory:"):
                return None
            sql = "PRAGMA data_version"
        elif dialect == "postgresql":
            sql = "SELECT pg_current_snapshot()::text"
        else:
            return None
        args, kwargs = engine.dialect.create_connect_args(engine.url)

        def connect() -> Any:
            connection = engine.dialect.loaded_dbapi.connect(*args, **kwargs)
            if dialect == "postgresql":
                connection.autocommit = True
            else:
                connection.isolation_level = None
            return connection

        return cls(connect, sql)

    def version(self) -> Any:
        with self._lock:
            try:
                return self._read()
            except Exception:
                # The connection went away (a database restart): a new one, once. Versions of
                # the old connection are not comparable with the new one's, so nothing kept
                # survives; if this fails too, the middleware answers uncached.
                self.entries.clear()
                with contextlib.suppress(Exception):
                    self._connection.close()
                self._connection = self._connect()
                return self._read()

    def _read(self) -> Any:
        cursor = self._connection.cursor()
        try:
            cursor.execute(self._sql)
            return cursor.fetchone()[0]
        finally:
            cursor.close()

    async def current(self) -> Any:
        """The version for a request that has arrived: from a read that starts after it did, so
        the answer reflects every commit its client saw complete. Requests arriving together
        share one read (PostgreSQL: one round trip for many requests, not one each)."""
        loop = asyncio.get_running_loop()
        waiting = self._next
        if waiting is None or waiting.get_loop() is not loop:
            waiting = self._next = loop.create_future()
            loop.call_soon(self._read_for, waiting)
        return await waiting

    def _read_for(self, waiting: asyncio.Future[Any]) -> None:
        # Whoever arrives from now on waits for the next read.
        if self._next is waiting:
            self._next = None
        try:
            waiting.set_result(self.version())
        except Exception as error:  # every waiter gets it; the middleware then skips the cache
            waiting.set_exception(error)

    def get(self, key: tuple[bytes, str, bytes], version: Any) -> list[Message] | None:
        found = self.lookup(key, version)
        return None if found is None else found[0]

    def lookup(
        self, key: tuple[bytes, str, bytes], version: Any
    ) -> tuple[list[Message], Any] | None:
        """The kept messages and the principal recorded when they were computed."""
        entry = self.entries.get(key)
        if entry is None or entry[0] != version:
            return None
        self.entries.move_to_end(key)
        return entry[1], entry[2]

    def put(
        self,
        key: tuple[bytes, str, bytes],
        version: Any,
        messages: list[Message],
        principal: Any = None,
    ) -> None:
        self.entries[key] = (version, messages, principal)
        self.entries.move_to_end(key)
        while len(self.entries) > MAX_ENTRIES:
            self.entries.popitem(last=False)

    def close(self) -> None:
        with self._lock:
            self.entries.clear()
            self._connection.close()


class ReadCacheMiddleware:
    """Serve a registered GET from the cache while the database's version is unchanged."""

    def __init__(self, app: ASGIApp, *, routes: Sequence[re.Pattern[str]]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        # The route first: every other GET passes through without its headers being read.
        if not any(r.match(path) for r in self.routes):
            await self.app(scope, receive, send)
            return
        cache: ReadCache | None = getattr(scope["app"].state, "read_cache", None)
        authorization = _authorization(scope["headers"])
        if cache is None or authorization is None:
            await self.app(scope, receive, send)
            return
        key = (hashlib.sha256(authorization).digest(), path, scope["query_string"])
        try:
            version = await cache.current()
        except Exception:  # no version (the database went away): the route answers, uncached
            await self.app(scope, receive, send)
            return
        kept = cache.lookup(key, version)
        if kept is not None:
            answer, principal = kept
            if principal is not None:
                scope[PRINCIPAL] = principal
            scope[CACHED] = True
            for message in answer:
                await send(message)
            return
        messages: list[Message] = []

        async def keep(message: Message) -> None:
            messages.append(message)
            await send(message)

        await self.app(scope, receive, keep)
        start = messages[0] if messages else {}
        if (
            start.get("type") == "http.response.start"
            and start["status"] == 200
            and not messages[-1].get("more_body", False)
        ):
            cache.put(key, version, messages, scope.get(PRINCIPAL))


def _authorization(headers: list[tuple[bytes, bytes]]) -> bytes | None:
    for name, value in headers:
        if name == b"authorization":
            return value
    return None
