"""The journal's buffer and its writer (one ``Recorder`` per app, made by the lifespan).

The middleware hands each request to ``add``: its real time and latency go into two arrays of
doubles, and the rest, as a tuple, is looked up among the distinct requests seen lately (a
polling client sends the same request again and again), so the buffer holds one shared
``_Request`` per repeat. The buffer is bounded: when the database falls behind, the oldest
entries go and ``dropped`` counts them, so memory stays flat.

A task on the event loop writes the buffer every ``journal_flush_seconds`` (or as soon as it
holds ``FLUSH_AT`` entries): each distinct request is turned into a shape (redaction, the
problem code, who the request belongs to) in a worker thread, then everything is written in one
transaction in a worker thread holding the writer gate, as the real-clock loop's writes are
(``WriterGate.thread_writer``). Retention is part of each write. No step does Python work per
entry but a dictionary lookup: the journal's whole cost is paid on the request path's CPU
(bench/README.md, "The request journal").

A journal read or verification in this process writes the buffer first (``flush``), so a
client that got its last response sees its request in the journal. Other worker processes'
entries appear within their flush interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from array import array
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import anyio
from sqlalchemy import Engine
from sqlmodel import Session

from portal.auth import service as auth_service
from portal.core.clock import Clock, timestamp_of
from portal.core.db import WriterGate, session_scope
from portal.core.settings import Settings
from portal.journal import service
from portal.journal.redaction import Body, Redactor, claims_of

log = logging.getLogger("portal.journal")

#: Entries that start a write before the interval is up (at most half the buffer): fewer,
#: larger writes cost the request path less (bench/README.md, "The request journal").
FLUSH_AT = 5_000
#: Distinct requests remembered (``Recorder.add``); then forgotten all at once. Each holds its
#: bodies, cut to ``journal_body_bytes``.
MEMO_REQUESTS = 512
#: How often workspaces that received no request are swept for entries past the age limit.
SWEEP_SECONDS = 60.0
_OPERATOR_PATH = "/v1/sandbox/workspaces/"


class _Request:
    """One distinct request as buffered: hashed by identity, so the writer's lookups never
    read the request again."""

    __slots__ = ("key",)

    def __init__(self, key: tuple[Any, ...]) -> None:
        self.key = key


#: Buffered entries: real times (POSIX seconds), latencies (seconds), requests; in arrival order.
Taken = tuple["array[float]", "array[float]", list[_Request]]


class Recorder:
    def __init__(
        self,
        engine: Engine,
        gate: WriterGate,
        clock: Clock,
        settings: Settings,
        *,
        signing_key: str,
        known_secrets: tuple[str, ...] = (),
    ) -> None:
        self.engine = engine
        self.signing_key = signing_key
        self.gate = gate
        self.clock = clock
        #: The clock's time as POSIX seconds, the cheapest way it has (the middleware's).
        self.timestamp = timestamp_of(clock)
        self.body_limit = settings.journal_body_bytes
        self.interval = settings.journal_flush_seconds
        self.retention = service.Retention(
            max_entries=settings.journal_max_entries,
            max_age=timedelta(hours=settings.journal_max_age_hours),
        )
        self.redactor = Redactor(limit=self.body_limit, known_secrets=(signing_key, *known_secrets))
        self._tokens: dict[bytes, dict[str, Any] | None] = {}
        self._requests: dict[tuple[Any, ...], _Request] = {}
        self._last: _Request | None = None
        self.capacity = settings.journal_buffer_entries
        self.flush_at = min(FLUSH_AT, self.capacity // 2)
        # The buffer: three columns; entries before ``_head`` were dropped (the oldest go).
        self._at: array[float] = array("d")
        self._latency: array[float] = array("d")
        self._entries: list[_Request] = []
        self._head = 0
        #: Entries lost: pushed out of a full buffer, or in a write that failed.
        self.dropped = 0
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    # --- the request path ----------------------------------------------------------------------

    def add(self, at: float, elapsed: float, request: tuple[Any, ...]) -> None:
        """Buffer one request: its real time, latency and ``request`` (``middleware._request``:
        all the rest). Equal requests share one ``_Request``, found while the request's objects
        are fresh in the processor's cache; the writer then tells a polling client's repeats
        apart by identity."""
        known = self._last
        # Most often the one before again (a polling client): compared, not hashed (its strings
        # and bytes are new objects, whose hashes Python has yet to compute).
        if known is None or request != known.key:
            try:
                known = self._requests.get(request)
            except TypeError:  # a server whose headers are lists (ASGI allows it)
                known = _Request(request)
            if known is None:
                if len(self._requests) >= MEMO_REQUESTS:
                    self._requests.clear()
                known = self._requests[request] = _Request(request)
            self._last = known
        self._at.append(at)
        self._latency.append(elapsed)
        entries = self._entries
        entries.append(known)
        size = len(entries) - self._head
        if size > self.capacity:
            self._drop_oldest()
        elif size == self.flush_at:
            self._wake.set()

    def _drop_oldest(self) -> None:
        self._head += 1
        self.dropped += 1
        if self._head >= self.capacity:  # compacted now and then, not on every drop
            head, self._head = self._head, 0
            del self._at[:head], self._latency[:head], self._entries[:head]

    def _take(self) -> Taken:
        head = self._head
        taken = (self._at[head:], self._latency[head:], self._entries[head:])
        self._at, self._latency, self._entries, self._head = array("d"), array("d"), [], 0
        return taken

    # --- the writer ------------------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Stop the task, then write what is left (a server stopping loses nothing buffered)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:
            await self.flush()
        except Exception:  # stopping goes on; the entries are lost (and counted)
            log.exception("journal write at shutdown failed")

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_sweep = loop.time() + SWEEP_SECONDS
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
            self._wake.clear()
            sweep = loop.time() >= next_sweep
            if sweep:
                next_sweep = loop.time() + SWEEP_SECONDS
            try:
                await self.flush(then=self._sweep if sweep else None)
            except Exception:  # a failed write must not stop the journal
                log.exception("journal write failed")

    def _sweep(self, session: Session) -> None:
        service.sweep(session, now=self.clock.now(), retention=self.retention)

    async def flush(self, then: Callable[[Session], Any] | None = None) -> Any:
        """Write the buffered entries now; then, in the same transaction, ``then(session)``
        (a journal reset: entries buffered before it go with it). Writes run one at a time,
        in the order they were asked for. Returns what ``then`` returned."""
        async with self._lock:
            taken = self._take()
            count = len(taken[2])
            if not count and then is None:
                return None
            groups = await anyio.to_thread.run_sync(self._prepare, taken) if count else []
            async with self.gate.thread_writer():
                try:
                    return await anyio.to_thread.run_sync(self._write, groups, then)
                except Exception:
                    self.dropped += count
                    raise

    def _write(self, groups: list[service.Group], then: Callable[[Session], Any] | None) -> Any:
        with session_scope(self.engine) as session:
            if groups:
                service.write_entries(
                    session, groups, now=self.clock.now(), retention=self.retention
                )
            return then(session) if then is not None else None

    # --- from entries to groups (a worker thread, off the request path) ------------------------

    def _prepare(self, taken: Taken) -> list[service.Group]:
        """The entries as a group per workspace. Each distinct request is shaped (redacted,
        attributed) once per write; its repeats cost a dictionary lookup."""
        at, latency, entries = taken
        shapes: dict[tuple[Any, ...], tuple[service.Group, int]] = {}
        groups: dict[str | None, service.Group] = {}
        found = {
            request: self._variant(request.key, shapes, groups)
            for request in dict.fromkeys(entries)  # in the order first seen
        }
        if len(groups) == 1:
            [group] = groups.values()
            group.at, group.latency = at, latency
            group.variant = [found[request][1] for request in entries]
        else:
            for request, t, e in zip(entries, at, latency, strict=True):
                group, variant = found[request]
                group.at.append(t)
                group.latency.append(e)
                group.variant.append(variant)
        return list(groups.values())

    def _variant(
        self,
        key: tuple[Any, ...],
        shapes: dict[tuple[Any, ...], tuple[service.Group, int]],
        groups: dict[str | None, service.Group],
    ) -> tuple[service.Group, int]:
        """Where the entries of one distinct request go: a group and a variant in it. Its shape
        is found once per write, however many instants its principal read (a real clock's
        requests each read their own)."""
        (
            method,
            path,
            query_string,
            headers,
            request_raw,
            request_size,
            status,
            response_type,
            response_raw,
            response_size,
            cached,
            principal,
        ) = key
        request_type = idempotency_key = authorization = None
        for name, value in headers:
            if name == b"content-type":
                request_type = value
            elif name == b"idempotency-key":
                idempotency_key = value
            elif name == b"authorization":
                authorization = value
            elif name == b"content-length" and not request_size and value.isdigit():
                request_size = int(value)  # a body refused unread (the size limit)
        shape_key = (
            method,
            path,
            query_string,
            request_type,
            idempotency_key,
            authorization,
            request_raw,
            request_size,
            principal[:3] if principal is not None else None,
            cached,
            status,
            response_type,
            response_raw,
            response_size,
        )
        known = shapes.get(shape_key)
        if known is None:
            workspace_id, shape, request_body, response_body = self._shape(*shape_key)
            group = groups.get(workspace_id)
            if group is None:
                group = groups[workspace_id] = service.Group(workspace_id)
            known = shapes[shape_key] = (group, len(group.shapes))
            group.shapes.append((shape, (request_body, response_body)))
        group, shape_index = known
        group.variants.append((shape_index, principal.now if principal is not None else None))
        return group, len(group.variants) - 1

    def _shape(
        self,
        method: str,
        path: str,
        query_string: bytes,
        request_type: bytes | None,
        idempotency_key: bytes | None,
        authorization: bytes | None,
        request_raw: bytes,
        request_size: int,
        principal: tuple[str, str | None, str | None] | None,
        cached: bool,
        status: int,
        response_type: bytes | None,
        response_raw: bytes,
        response_size: int,
    ) -> tuple[str | None, service.Shape, Body | None, Body | None]:
        redactor = self.redactor
        req_type = request_type.decode("latin-1")[:100] if request_type is not None else None
        resp_type = response_type.decode("latin-1")[:100] if response_type is not None else None
        request_body = self._body(request_raw, request_size, req_type)
        response_body = self._body(response_raw, response_size, resp_type)
        workspace_id, kind, who = _attribution(path, principal, response_body, status)
        if workspace_id is None and authorization is not None:
            # Refused before authentication ran (the body limit, malformed JSON): a token the
            # portal signed still says whose request it was.
            claims = self._bearer_claims(authorization)
            if claims is not None:
                workspace_id, kind, who = claims["ws"], claims["typ"], claims["sub"]
        shape: service.Shape = (
            kind if who is None else f"{kind}:{who}",
            str(method)[:16],
            redactor.path(path),
            redactor.query(query_string),
            status,
            response_body.code if response_body is not None and status >= 400 else None,
            idempotency_key.decode("latin-1")[:255] if idempotency_key is not None else None,
            cached,
            req_type,
            request_size,
            request_body.digest if request_body is not None else None,
            resp_type,
            response_size,
            response_body.digest if response_body is not None else None,
        )
        return workspace_id, shape, request_body, response_body

    def _bearer_claims(self, authorization: bytes) -> dict[str, Any] | None:
        """The claims of a bearer JWT this server signed (any kind; expired or revoked too),
        else None. Remembered per token."""
        if authorization in self._tokens:
            return self._tokens[authorization]
        if len(self._tokens) >= Redactor.MEMO:
            self._tokens.clear()
        claims = None
        scheme, _, token = authorization.decode("latin-1").partition(" ")
        if scheme.lower() == "bearer" and token.count(".") == 2:
            typ = (claims_of(token.strip()) or {}).get("typ")
            if isinstance(typ, str):
                try:
                    claims = auth_service.decode_token(token.strip(), self.signing_key, typ)
                except auth_service.TokenInvalid:
                    claims = None
        if claims is not None and not isinstance(claims.get("sub"), str):
            claims = None
        self._tokens[authorization] = claims
        return claims

    def _body(self, raw: bytes, size: int, media: str | None) -> Body | None:
        if not raw:
            return None
        return self.redactor.body(raw, truncated=size > self.body_limit, media=media or "")


def _attribution(
    path: str,
    principal: tuple[str, str | None, str | None] | None,
    response: Body | None,
    status: int,
) -> tuple[str | None, str, str | None]:
    """(workspace, principal kind, principal id): the principal's workspace; else the workspace
    an operator path names; else the workspace of a session the response issued (a login, a
    sign-up, an accepted invitation); else none (the operator-wide journal). The writer checks
    that the workspace exists."""
    if principal is not None and principal[2] is not None:
        return principal[2], principal[0], principal[1]
    kind = principal[0] if principal is not None else "anonymous"
    if path.startswith(_OPERATOR_PATH):
        workspace_id = path[len(_OPERATOR_PATH) :].split("/", 1)[0]
        return workspace_id or None, kind, None
    claims = response.claims if response is not None and status < 300 else None
    if claims is not None and isinstance(claims.get("ws"), str):
        who = claims.get("sub") if isinstance(claims.get("sub"), str) else None
        typ = claims.get("typ")
        return claims["ws"], typ if isinstance(typ, str) else "anonymous", who
    return None, kind, None
