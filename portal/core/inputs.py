"""Characters the portal cannot store are refused at the door (issue 14, scope 5).

PostgreSQL text refuses NUL (U+0000), and neither database driver can encode an unpaired UTF-16
surrogate (U+D800-U+DFFF) as UTF-8, so such a character anywhere in a request (a JSON string or
member name, a query parameter, a path parameter, a header) is answered here with 422
``invalid_character`` naming the field, on every database, before any route runs. A JSON body
must be UTF-8 (RFC 8259 §8.1); anything else is 400 ``invalid_encoding``.

Cost: requests without a JSON body pay a few byte searches. A JSON body is checked on its raw
bytes (an ASCII test, a UTF-8 check only when it is not ASCII, one search for ``\\u0000`` and
surrogate escapes); it is parsed here, to name the field, only when a bad escape is really
there. A surrogate pair (``\\ud83d\\ude00``) is one valid character and passes.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import fastapi.routing
from starlette.convertors import Convertor
from starlette.responses import JSONResponse
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.core.errors import PROBLEM_JSON, json_path, problem_body

INVALID_CHARACTER = "invalid_character"
INVALID_ENCODING = "invalid_encoding"

#: At most this many fields are named, as for validation errors.
MAX_ERRORS = 100

#: A ``\u`` escape of NUL or of a UTF-16 surrogate, in raw JSON bytes (hex digits in any case).
_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
_LOW_ESCAPE = re.compile(rb"\\u[dD][c-fC-F][0-9a-fA-F]{2}")
#: What a decoded string must not hold: NUL, or a surrogate (json pairs valid ones up).
_BAD_CHAR = re.compile("[\x00\ud800-\udfff]")
_BACKSLASH = 0x5C
_UTF8_CHUNK = 1 << 20


def _json_content(headers: list[tuple[bytes, bytes]]) -> bool:
    """FastAPI parses a body as JSON only for ``application/json`` or ``application/*+json``."""
    for name, value in headers:
        if name == b"content-type":
            media = value.split(b";", 1)[0].strip().lower()
            return media == b"application/json" or (
                media.startswith(b"application/") and media.endswith(b"+json")
            )
    return False


def is_json_utf8(body: bytes) -> bool:
    """Strict UTF-8 (so no encoded surrogates), checked in chunks to keep memory flat. Python's
    ``json.loads`` would also take UTF-16 and UTF-32 (and let encoded surrogates through)."""
    if json.detect_encoding(body[:4]) not in ("utf-8", "utf-8-sig"):
        return False
    if body.isascii():
        return True
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    view = memoryview(body)
    try:
        for start in range(0, len(body), _UTF8_CHUNK):
            decoder.decode(view[start : start + _UTF8_CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def has_bad_escape(body: bytes) -> bool:
    """Whether raw JSON holds a real ``\\u0000`` or an unpaired surrogate escape.

    An escape preceded by an odd run of backslashes is text (``"\\\\u0000"``), not an escape;
    a high surrogate escape directly followed by a low one is a pair."""
    paired_low = -1
    for match in _ESCAPE.finditer(body):
        start = match.start()
        if start == paired_low:
            continue
        run = 0
        while start - run - 1 >= 0 and body[start - run - 1] == _BACKSLASH:
            run += 1
        if run % 2:
            continue
        unit = int(body[start + 2 : start + 6], 16)
        if 0xD800 <= unit <= 0xDBFF and _LOW_ESCAPE.match(body, match.end()):
            paired_low = match.end()
            continue
        return True
    return False


def _describe(text: str) -> str:
    char = _BAD_CHAR.search(text)
    if char is None or char.group() == "\x00":
        return "contains a NUL character (U+0000), which the portal cannot store"
    return (
        f"contains an unpaired UTF-16 surrogate (U+{ord(char.group()):04X}), "
        "which is not a character and cannot be stored"
    )


def _visible(text: str) -> str:
    """A name with its bad characters written as escapes, so the answer itself encodes."""
    return _BAD_CHAR.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def bad_json_fields(document: Any) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """(location, message) of each string or member name holding a bad character, in document
    order. Iterative, so a deep document cannot exhaust the stack."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), document)]
    while stack:
        loc, value = stack.pop()
        if isinstance(value, str):
            if _BAD_CHAR.search(value):
                yield loc, _describe(value)
        elif isinstance(value, dict):
            children: list[tuple[tuple[str | int, ...], Any]] = []
            for key, item in value.items():
                if _BAD_CHAR.search(key):
                    yield (*loc, _visible(key)), f"its member name {_describe(key)}"
                else:
                    children.append(((*loc, key), item))
            stack.extend(reversed(children))
        elif isinstance(value, list):
            stack.extend(((*loc, i), item) for i, item in reversed(list(enumerate(value))))


def _body_errors(body: bytes) -> list[dict[str, Any]]:
    if not has_bad_escape(body):
        return []
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return []  # not JSON after all: the route answers malformed_json
    errors: list[dict[str, Any]] = []
    for loc, message in bad_json_fields(document):
        item: dict[str, Any] = {
            "field": json_path(("body", *loc)),
            "message": message,
            "code": INVALID_CHARACTER,
        }
        # A bad line of a list (a balance row, a scenario entity) says which one it is, as
        # validation errors do.
        if len(loc) > 1 and isinstance(loc[1], int):
            item["row"] = loc[1]
        errors.append(item)
        if len(errors) == MAX_ERRORS:
            break
    return errors


def _field(where: str, name: str, message: str) -> dict[str, Any]:
    return {"field": f"{where}.{_visible(name)}", "message": message, "code": INVALID_CHARACTER}


#: A route as the guard matches it: path regex, parameter convertors, methods.
_Route = tuple["re.Pattern[str]", dict[str, Convertor[Any]], frozenset[str]]


def _route_table(app: Any) -> list[_Route]:
    """Every route's full path, compiled as Starlette compiles it. FastAPI 0.16x nests included
    routers (``iter_route_contexts`` flattens them); older versions list routes flat."""
    flatten = getattr(fastapi.routing, "iter_route_contexts", iter)
    table: list[_Route] = []
    for route in flatten(getattr(app, "routes", ())):
        path, methods = getattr(route, "path", None), getattr(route, "methods", None)
        if isinstance(path, str):
            regex, _, convertors = compile_path(path)
            table.append((regex, convertors, frozenset(methods or ())))
    return table


def _route_params(table: list[_Route], scope: Scope) -> dict[str, Any] | None:
    """The path parameters of the route that takes this request; ``None`` when none does (the
    router then answers 404 or 405 as usual, and nothing here applies)."""
    for regex, convertors, methods in table:
        match = regex.match(scope["path"])
        if match and (not methods or scope["method"] in methods):
            return {k: convertors[k].convert(v) for k, v in match.groupdict().items()}
    return None


def _path_errors(params: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        _field("path", name, _describe(value))
        for name, value in params.items()
        if isinstance(value, str) and "\x00" in value
    ]


def _query_errors(query: bytes) -> list[dict[str, Any]]:
    if b"%00" not in query and b"\x00" not in query:
        return []
    errors = []
    # Parsed as Starlette parses it, so the names are the ones the routes see.
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name:
            errors.append(_field("query", name, f"its name {_describe(name)}"))
        elif "\x00" in value:
            errors.append(_field("query", name, _describe(value)))
    return errors


def _header_errors(headers: list[tuple[bytes, bytes]]) -> list[dict[str, Any]]:
    # Header bytes are read as Latin-1, so NUL is the only character a header can carry that a
    # database refuses (RFC 9110 §5.5 forbids it in a field value anyway).
    return [
        _field("header", name.decode("latin-1"), _describe("\x00"))
        for name, value in headers
        if b"\x00" in value or b"\x00" in name
    ]


def _response(status: int, title: str, code: str, detail: str, **kw: Any) -> JSONResponse:
    return JSONResponse(
        problem_body(status=status, title=title, code=code, detail=detail, **kw),
        status_code=status,
        media_type=PROBLEM_JSON,
    )


def encoding_problem() -> JSONResponse:
    return _response(
        400,
        "Invalid encoding",
        INVALID_ENCODING,
        "The request body is not UTF-8; JSON bodies must be UTF-8 (RFC 8259 §8.1).",
    )


def character_problem(errors: list[dict[str, Any]]) -> JSONResponse:
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return _response(422, "Unprocessable request", INVALID_CHARACTER, detail, errors=errors)


class InputGuardMiddleware:
    """422 ``invalid_character`` / 400 ``invalid_encoding`` before any route runs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._routes: list[_Route] | None = None

    def _params(self, scope: Scope) -> dict[str, Any] | None:
        if self._routes is None:  # built on the first suspect request, when every route exists
            self._routes = _route_table(scope.get("app"))
        return _route_params(self._routes, scope)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        errors = _header_errors(headers) + _query_errors(scope["query_string"])
        suspect = bool(errors) or "\x00" in scope["path"]
        encoding_ok = True
        if _json_content(headers):
            body, messages = await _read_body(receive)
            receive = _replay(messages, receive)
            if body:
                encoding_ok = is_json_utf8(body)
                if encoding_ok:
                    errors += _body_errors(body)
                suspect = suspect or bool(errors) or not encoding_ok
        if suspect and (params := self._params(scope)) is not None:
            if not encoding_ok:
                await encoding_problem()(scope, receive, send)
                return
            errors = _path_errors(params) + errors
            if errors:
                await character_problem(errors[:MAX_ERRORS])(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def _read_body(receive: Receive) -> tuple[bytes, list[Message]]:
    """The whole body (the body-size limit sits in front of this middleware) and the messages
    to hand on; no body when the client went away first."""
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return b"", messages
        if not message.get("more_body", False):
            break
    if len(messages) == 1:
        return messages[0].get("body", b""), messages
    body = b"".join(m.get("body", b"") for m in messages)
    return body, [{"type": "http.request", "body": body, "more_body": False}]


def _replay(messages: list[Message], then: Receive) -> Receive:
    """Hand the app the messages already read, then the connection's own ``receive``."""
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        return await then()

    return receive
