"""The journal's ASGI middleware: the request path's whole share of the journal.

Outermost of the app's middlewares, so it also sees requests the body limit or the input guard
refuse and answers the read cache gives without the route. For each ``/v1/...`` request it
keeps references to what passed through (the scope's request line and headers, the body
chunks up to the size setting, the response status, headers and chunks) and, just before the
response's last chunk goes out, hands them to the recorder's buffer as one tuple: no copy, no
parsing, no redaction, no database (issue 20: 15 % of the cached read, ~8 µs a request, is
the whole budget, writer included). The recorder does the rest in batches
(``portal.journal.recorder``).

The journal's own routes are not journalled (as WireMock's ``/__admin`` requests are not): a
verification would otherwise count itself.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable
from time import perf_counter
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.core.principals import CACHED, PRINCIPAL

if TYPE_CHECKING:
    from portal.journal.recorder import Recorder

_JOURNAL_ROUTES = re.compile(r"^/v1/sandbox/(?:workspaces/[^/]+/)?journal(?:/verify)?/?$")
#: Methods whose body no route reads: their ``receive`` is left alone.
_NO_BODY = frozenset({"GET", "HEAD", "OPTIONS"})


class RecorderSlot:
    """Where the middleware finds the app's recorder: set by the lifespan, None while the app
    is not serving or the journal is off (one attribute read a request, not ``app.state``'s
    lookup)."""

    __slots__ = ("recorder",)

    def __init__(self) -> None:
        self.recorder: Recorder | None = None


class JournalMiddleware:
    def __init__(self, app: ASGIApp, *, slot: RecorderSlot) -> None:
        self.app = app
        self.slot = slot

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        recorder = self.slot.recorder
        path: str = scope["path"] if scope["type"] == "http" else ""
        if (
            recorder is None
            or not path.startswith("/v1/")
            or (path.startswith("/v1/sandbox/") and _JOURNAL_ROUTES.match(path) is not None)
        ):
            await self.app(scope, receive, send)
            return
        at = recorder.timestamp()
        started = perf_counter()
        limit = recorder.body_limit
        request: list[bytes] | None = None
        request_size = 0
        if scope["method"] not in _NO_BODY:
            request = []
            outer_receive = receive

            async def receive() -> Message:
                nonlocal request_size
                message = await outer_receive()
                chunk = message.get("body")
                if chunk:
                    room = limit - request_size
                    request_size += len(chunk)
                    if room > 0:
                        request.append(chunk if len(chunk) <= room else chunk[:room])
                return message

        start: Message | None = None  # http.response.start: status and headers, read later
        response: list[bytes] = []  # a streamed body's chunks but its last, cut to the limit
        streamed = 0  # their size, uncut
        recorded = False
        add = recorder.add

        def journalled_send(message: Message) -> Awaitable[None]:
            # Not a coroutine: it returns the server's, sparing a frame per message.
            nonlocal start, streamed, recorded
            if message["type"] == "http.response.start":
                start = message
            elif message.get("more_body"):
                chunk = message.get("body", b"")
                if streamed < limit and chunk:
                    response.append(chunk[: limit - streamed])
                streamed += len(chunk)
            elif not recorded:
                # Before the last chunk goes out: a client that saw it can read the entry.
                recorded = True
                add(
                    at,
                    perf_counter() - started,
                    _request(
                        scope,
                        request,
                        request_size,
                        start,
                        response,
                        streamed,
                        message.get("body"),
                        limit,
                    ),
                )
            return send(message)

        try:
            await self.app(scope, receive, journalled_send)
        except BaseException:
            # An error no handler answered: the server's outermost handler sends the 500.
            if not recorded:
                recorded = True
                add(
                    at,
                    perf_counter() - started,
                    _request(scope, request, request_size, start, response, streamed, None, limit),
                )
            raise


def _request(
    scope: Scope,
    request: list[bytes] | None,
    request_size: int,
    start: Message | None,
    response: list[bytes],
    streamed: int,
    last: bytes | None,
    limit: int,
) -> tuple[Any, ...]:
    """What the writer needs of a request but its time and latency: a few values, not the
    scope or the messages themselves. Holding those (dicts and lists the collector tracks, the
    app's state among them) made every collection scan a thousand requests' worth of objects;
    a tuple of strings, bytes and numbers leaves the collector's sight at its first pass.
    Hashable: two equal requests are one to the recorder (``Recorder.add``). ``response`` and
    ``streamed``: the chunks before ``last``, the body's last one (None: the app failed)."""
    if not last:
        last = b""
    # Streamed: what fits of the last chunk too. Else the chunk itself when it fits.
    body = b"".join(response) + last[: max(limit - streamed, 0)] if response else last[:limit]
    status, response_type = 500, None
    if start is not None:
        status = start["status"]
        for name, value in start.get("headers", ()):
            if name == b"content-type":
                response_type = value
                break
    return (
        scope["method"],
        scope["path"],
        scope["query_string"],
        tuple(scope["headers"]),
        (request[0] if len(request) == 1 else b"".join(request)) if request else b"",
        request_size,
        status,
        response_type,
        body,
        streamed + len(last),
        CACHED in scope,
        scope.get(PRINCIPAL),
    )
