"""The journal's ASGI middleware: the request path's whole share of the journal.

Outermost of the app's middlewares, so it also sees requests the body limit or the input guard
refuse and answers the read cache gives without the route. For each ``/v1/...`` request it
keeps references to what passed through (the scope's request line and headers, the body
chunks up to the size setting, the response status, headers and chunks) and, just before the
response's last chunk goes out, appends one tuple to the recorder's buffer: no copy, no
parsing, no redaction, no database (issue 20: ~7 µs a request is the whole budget). The
recorder does the rest in batches (``portal.journal.recorder``).

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


class JournalMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"] if scope["type"] == "http" else ""
        recorder: Recorder | None = (
            getattr(scope["app"].state, "journal", None) if path.startswith("/v1/") else None
        )
        if recorder is None or (
            path.startswith("/v1/sandbox/") and _JOURNAL_ROUTES.match(path) is not None
        ):
            await self.app(scope, receive, send)
            return
        at = recorder.clock.now()
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
        response: list[bytes] = []
        response_size = 0
        recorded = False

        def journalled_send(message: Message) -> Awaitable[None]:
            # Not a coroutine: it returns the server's, sparing a frame per message.
            nonlocal start, response_size, recorded
            if message["type"] == "http.response.body":
                chunk = message.get("body")
                if chunk:
                    room = limit - response_size
                    response_size += len(chunk)
                    if room > 0:
                        response.append(chunk if len(chunk) <= room else chunk[:room])
                if not message.get("more_body") and not recorded:
                    # Before the last chunk: a client that saw it can read the entry.
                    recorded = True
                    recorder.add(
                        _entry(
                            at,
                            started,
                            scope,
                            request,
                            request_size,
                            start,
                            response,
                            response_size,
                            CACHED in scope,
                        )
                    )
            elif message["type"] == "http.response.start":
                start = message
            return send(message)

        try:
            await self.app(scope, receive, journalled_send)
        except BaseException:
            # An error no handler answered: the server's outermost handler sends the 500.
            if not recorded:
                recorded = True
                recorder.add(
                    _entry(
                        at,
                        started,
                        scope,
                        request,
                        request_size,
                        start,
                        response,
                        response_size,
                        False,
                    )
                )
            raise


def _entry(
    at: Any,
    started: float,
    scope: Scope,
    request: list[bytes] | None,
    request_size: int,
    start: Message | None,
    response: list[bytes],
    response_size: int,
    cached: bool,
) -> tuple[Any, ...]:
    """The buffered entry: the few values the writer needs, not the scope or the messages
    themselves. Holding those (dicts and lists the collector tracks, the app's state among them)
    for the writer's interval made every collection scan a thousand requests' worth of objects;
    a tuple of strings, bytes and numbers leaves the collector's sight at its first pass."""
    return (
        at,
        perf_counter() - started,
        scope["method"],
        scope["path"],
        scope["query_string"],
        tuple(scope["headers"]),
        (request[0] if len(request) == 1 else b"".join(request)) if request else b"",
        request_size,
        start["status"] if start is not None else 500,
        tuple(start.get("headers", ())) if start is not None else (),
        response[0] if len(response) == 1 else b"".join(response),
        response_size,
        scope.get(PRINCIPAL),
        cached,
    )
