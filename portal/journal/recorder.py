"""The journal's buffer and its writer (one ``Recorder`` per app, made by the lifespan).

The middleware appends one tuple per request to ``buffer``, a bounded deque: when the database
falls behind, the oldest entries go and ``dropped`` counts them, so memory stays flat. A task on
the event loop writes the buffer every ``journal_flush_seconds`` (or as soon as it holds
``FLUSH_AT`` entries): the tuples are turned into rows (redaction, the problem code, who the
request belongs to) in a worker thread, then written in one transaction in a worker thread
holding the writer gate, as the real-clock loop's writes are (``WriterGate.thread_writer``).
Retention is part of each write.

A journal read or verification in this process writes the buffer first (``flush``), so a
client that got its last response sees its request in the journal. Other worker processes'
entries appear within their flush interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import anyio
from sqlalchemy import Engine
from sqlmodel import Session

from portal.auth import service as auth_service
from portal.core.clock import Clock
from portal.core.db import WriterGate, session_scope
from portal.core.settings import Settings
from portal.journal import service
from portal.journal.redaction import Body, Redactor, claims_of

log = logging.getLogger("portal.journal")

#: Entries that start a write before the interval is up.
FLUSH_AT = 2_000
#: How often workspaces that received no request are swept for entries past the age limit.
SWEEP_SECONDS = 60.0
_OPERATOR_PATH = "/v1/sandbox/workspaces/"


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
        self.body_limit = settings.journal_body_bytes
        self.interval = settings.journal_flush_seconds
        self.retention = service.Retention(
            max_entries=settings.journal_max_entries,
            max_age=timedelta(hours=settings.journal_max_age_hours),
        )
        self.redactor = Redactor(limit=self.body_limit, known_secrets=(signing_key, *known_secrets))
        self._tokens: dict[bytes, dict[str, Any] | None] = {}
        self.buffer: deque[tuple[Any, ...]] = deque(maxlen=settings.journal_buffer_entries)
        self.flush_at = min(FLUSH_AT, settings.journal_buffer_entries // 2)
        #: Entries lost: pushed out of a full buffer, or in a write that failed.
        self.dropped = 0
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    # --- the request path ----------------------------------------------------------------------

    def add(self, entry: tuple[Any, ...]) -> None:
        buffer = self.buffer
        if len(buffer) == buffer.maxlen:
            self.dropped += 1
        buffer.append(entry)
        if len(buffer) == self.flush_at:
            self._wake.set()

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
            batch = self._take()
            if not batch and then is None:
                return None
            pending = await anyio.to_thread.run_sync(self._prepare, batch) if batch else []
            async with self.gate.thread_writer():
                try:
                    return await anyio.to_thread.run_sync(self._write, pending, then)
                except Exception:
                    self.dropped += len(pending)
                    raise

    def _take(self) -> list[tuple[Any, ...]]:
        batch = list(self.buffer)
        self.buffer.clear()
        return batch

    def _write(self, pending: list[service.Pending], then: Callable[[Session], Any] | None) -> Any:
        with session_scope(self.engine) as session:
            if pending:
                service.write_entries(
                    session, pending, now=self.clock.now(), retention=self.retention
                )
            return then(session) if then is not None else None

    # --- from tuples to rows (a worker thread, off the request path) ---------------------------

    def _prepare(self, batch: list[tuple[Any, ...]]) -> list[service.Pending]:
        """Each buffered tuple as an entry to write. A polling client's requests repeat: each
        distinct request (same line, headers that matter, caller, status and bodies) is redacted
        and attributed once per batch, and its repeats only looked up."""
        memo: dict[tuple[Any, ...], tuple[str | None, service.Shape, Any, Any]] = {}
        out = []
        for (
            at,
            elapsed,
            method,
            path,
            query_string,
            headers,
            request_raw,
            request_size,
            status,
            response_headers,
            response_raw,
            response_size,
            principal,
            cached,
        ) in batch:
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
            response_type = None
            for name, value in response_headers:
                if name == b"content-type":
                    response_type = value
                    break
            key = (
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
            known = memo.get(key)
            if known is None:
                known = memo[key] = self._shape(*key)
            workspace_id, shape, request_body, response_body = known
            out.append(
                service.Pending(
                    workspace_id,
                    shape,
                    (request_body, response_body),
                    principal.now if principal is not None else None,
                    at,
                    round(elapsed * 1_000_000),
                )
            )
        return out

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
