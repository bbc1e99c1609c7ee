"""``api.asp`` (connectors.md §2.1-§2.3, §3.3): one endpoint, the API named by ``$api``, the
format by ``$format`` (``%24api`` and a literal ``$api`` are the same once decoded, §2.1).

A call goes: downtime? (503) → Basic auth with the four-part user name (401, table row 1) →
``$api``, ``$format`` and the method (400 / 405, row 2) → latency and the fault switch it draws
→ the API (a GET's page may wait on ``slow_page``; a POST commits unless the fault says
otherwise) → the fault's answer → the call journal → (timeout) the hang. Vendor-level errors
are HTTP 200 with ``Error/Message`` in the API's own shape (rows 3-15).

The two POST APIs — the payment (``posting``) and this simulator's own ``CloseBatch``
(``closing``, §4.6) — share one path: parse the records, draw the fault, commit or not, answer
one record per record, journal.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from fastapi import Request, Response

from portal.reference.harness import DEFAULT_HANG_SECONDS, AdminError, Fault, FaultKind, Harness
from portal.reference.mri import documents, reads
from portal.reference.mri.closing import close_batch
from portal.reference.mri.documents import Fields
from portal.reference.mri.posting import post_payment
from portal.reference.mri.state import INVALID_PAYLOAD, REJECTED, ErrorKind, MriError, World

METHODS = {
    documents.LEASE_DETAILS: "GET",
    documents.RENT_ROLL: "GET",
    documents.PENDING_MOVE_INS: "GET",
    documents.PAYMENT_DETAILS: "POST",
    documents.CLOSE_BATCH: "POST",
}
#: The fault switches' operations: the API names.
OPERATIONS = tuple(METHODS)
#: ``$api`` is matched case-insensitively (INFERENCE, §2.1).
APIS = {name.lower(): name for name in METHODS}
FORMATS = ("xml", "json")
MEDIA = {"xml": "application/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
#: A POST larger than this is refused (RT's are under a kilobyte).
MAX_BODY_BYTES = 1024 * 1024


class Outcome(Protocol):
    """What one POST record came to (``posting.Posting``, ``closing.Closing``)."""

    @property
    def answer(self) -> Mapping[str, str | datetime | None]: ...

    @property
    def committed(self) -> bool: ...

    @property
    def notes(self) -> list[str]: ...


class PostHandler(Protocol):
    def __call__(
        self, world: World, record: Mapping[str, str | None], now: datetime, *, commit: bool
    ) -> Outcome: ...


#: The POST APIs: one record of the body -> its outcome (or an ``MriError``).
POST_HANDLERS: dict[str, PostHandler] = {
    documents.PAYMENT_DETAILS: post_payment,
    documents.CLOSE_BATCH: close_batch,
}


class HttpProblem(Exception):
    """An answer outside the API: 400, 401, 405, 413 (rows 1-2)."""

    def __init__(self, status: int, verdict: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.verdict = verdict
        self.message = message


@dataclass
class Served:
    body: bytes
    verdict: str
    payload: dict[str, Any]
    error_codes: list[int] = field(default_factory=list)
    committed: bool = False
    notes: list[str] = field(default_factory=list)


def problem_body(fmt: str, status: int, message: str) -> bytes:
    """What a 4xx says (MRI's is GAP, §4.10): ``{"error", "message"}`` — the keys MH reads —
    or ``<Error><Code/><Message/></Error>``."""
    title = {400: "Bad Request", 401: "Unauthorized", 405: "Method Not Allowed"}.get(
        status, "Request Entity Too Large"
    )
    if fmt == "json":
        return json.dumps({"error": title, "message": message}).encode()
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f"<Error><Code>{status}</Code><Message>{_escape(f'{title}: {message}')}</Message></Error>"
    ).encode()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def credentials_of(header: str | None) -> tuple[str, str, str]:
    """(user name, password, the user name as the journal shows it) from Basic auth; the user
    name must be ``ClientID/Database/User/PartnerKey`` (§2.2)."""
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        raise HttpProblem(401, "unauthorized", "Basic authentication is required")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise HttpProblem(401, "unauthorized", "the Authorization header is not Basic") from None
    username, _, password = decoded.partition(":")
    parts = username.split("/")
    if len(parts) != 4 or not all(parts):
        raise HttpProblem(
            401, "unauthorized", "the user name must be ClientID/Database/User/PartnerKey"
        )
    return username, password, "/".join([*parts[:3], "***"])


async def api_endpoint(request: Request, path: str) -> Response:
    if not path.lower().endswith("api.asp"):
        raise AdminError(status=404, code="not_found", detail=f"no endpoint at /{path}")
    harness: Harness = request.app.state.harness
    world: World = request.app.state.world
    now = harness.clock.now()
    world.tick(now)
    params = reads.Params(request.query_params)
    fmt = (params.get("$format") or "").lower()
    answer_fmt = fmt if fmt in FORMATS else "json"
    payload: dict[str, Any] = {"method": request.method, "query": params.as_dict()}
    if harness.faults.down(now) is not None:
        _record(harness, now, None, payload, "down", 503, "Service Unavailable")
        return Response("Service Unavailable", status_code=503, media_type="text/plain")
    try:
        username, password, shown = credentials_of(request.headers.get("authorization"))
        payload["user"] = shown
        if world.login(username, password) is None:
            raise HttpProblem(401, "unauthorized", "invalid credentials")
        api = _api(params, fmt, request.method)
        base = str(request.url.replace(query=""))
        if request.method == "GET":
            return await _serve_get(harness, world, api, params, fmt, base, now, payload)
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            raise HttpProblem(413, "bad_request", "the body is over 1 MiB")
        return await _serve_post(harness, world, api, request, body, fmt, base, now, payload)
    except HttpProblem as exc:
        body = problem_body(answer_fmt, exc.status, exc.message)
        operation = APIS.get((params.get("$api") or "").lower())
        _record(harness, now, operation, payload, exc.verdict, exc.status, body.decode())
        headers = {"WWW-Authenticate": 'Basic realm="MRI"'} if exc.status == 401 else None
        return Response(body, exc.status, headers=headers, media_type=MEDIA[answer_fmt])


def _api(params: reads.Params, fmt: str, method: str) -> str:
    given = params.get("$api")
    api = APIS.get((given or "").lower())
    if api is None:
        raise HttpProblem(
            400, "bad_request", f"unknown $api {given!r}" if given else "$api is missing"
        )
    if fmt not in FORMATS:
        raise HttpProblem(400, "bad_request", "$format must be xml or json")
    if METHODS[api] != method:
        raise HttpProblem(405, "bad_request", f"{api} takes {METHODS[api]}")
    return api


async def _serve_get(
    harness: Harness,
    world: World,
    api: str,
    params: reads.Params,
    fmt: str,
    base: str,
    now: datetime,
    payload: dict[str, Any],
) -> Response:
    try:
        top, start = reads.page_size(world, params)
        rows = reads.select(world, api, params)
    except reads.QueryError as exc:
        raise HttpProblem(400, "bad_request", str(exc)) from None
    except MriError as exc:
        rows, top, start = [], 1, 0
        error: MriError | None = exc
    else:
        error = None
    page = reads.paginate(rows, params, top=top, start=start, api=api, fmt=fmt, base=base)
    delay = harness.faults.latency(api)
    fault = harness.faults.draw(api)
    if error is None:
        delay += harness.faults.page_delay(api, page.number)
    if delay:
        await asyncio.sleep(delay)
    error = _forced(fault) or error
    if error is not None:
        body = documents.render(api, fmt, [_error(error)], base=base)
        served = Served(body, "rejected", payload, [error.kind.number])
    else:
        body = documents.render(api, fmt, page.records, base=base, next_link=page.next_link)
        notes = [f"page {page.number}: {len(page.records)} of {page.rows} rows"]
        served = Served(body, "accepted", payload, notes=notes)
    return await _answer(harness, api, fmt, fault, served, now)


async def _serve_post(
    harness: Harness,
    world: World,
    api: str,
    request: Request,
    body: bytes,
    fmt: str,
    base: str,
    now: datetime,
    payload: dict[str, Any],
) -> Response:
    handler = POST_HANDLERS[api]
    latency = harness.faults.latency(api)
    fault = harness.faults.draw(api)
    if latency:
        await asyncio.sleep(latency)
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    as_json = media.endswith("json") if media.endswith(("json", "xml")) else fmt == "json"
    records: list[Fields] = []
    served = Served(b"", "accepted", payload)
    try:
        received = documents.post_records(body, as_json, api)
    except documents.DocumentError as exc:
        payload["body"] = {"error": str(exc), "raw": body[:2000].decode(errors="replace")}
        received = []
        records.append(_error(MriError(INVALID_PAYLOAD, str(exc))))
        served.error_codes.append(INVALID_PAYLOAD.number)
    else:
        payload["body"] = {"format": "json" if as_json else "xml", "records": received}
    forced = _forced(fault)
    commit = forced is None and (fault is None or fault.commits)
    for record in received:
        try:
            if forced is not None:
                raise forced
            outcome = handler(world, record, now, commit=commit)
        except MriError as exc:
            records.append(_error(exc))
            served.error_codes.append(exc.kind.number)
            continue
        records.append(documents.answer_record(outcome.answer))
        served.committed = served.committed or outcome.committed
        served.notes.extend(outcome.notes)
    if served.error_codes:
        served.verdict = "rejected"
    elif not commit:
        # Checked and answered, nothing committed (the fault said so).
        served.verdict = "validated"
    served.body = documents.render(api, fmt, records, base=base)
    return await _answer(harness, api, fmt, fault, served, now)


def _error(exc: MriError) -> Fields:
    original = exc.original
    extra: Fields = []
    if original is not None:
        # A duplicate names what the first call posted, so a retrying client can record it.
        extra = [("TransactionID", original.transaction_id), ("BatchId", original.batch_id)]
    return documents.error_record(exc.message, extra)


def _forced(fault: Fault | None) -> MriError | None:
    """The ``reject`` switch's error: its ``message`` (default: the text of 99) and ``code``
    (the journal's error code, default 99)."""
    if fault is None or fault.spec.kind is not FaultKind.REJECT:
        return None
    return MriError(
        ErrorKind(fault.spec.code or REJECTED.number, fault.spec.message or REJECTED.text)
    )


async def _answer(
    harness: Harness, api: str, fmt: str, fault: Fault | None, served: Served, now: datetime
) -> Response:
    kind = fault.spec.kind if fault is not None else None
    body, status, media, verdict = served.body, 200, MEDIA[fmt], served.verdict
    if fault is not None and kind in (FaultKind.HTTP_ERROR, FaultKind.SOAP_FAULT):
        # MRI has no SOAP: a soap_fault switch answers as an HTTP 500.
        status = fault.spec.status if kind is FaultKind.HTTP_ERROR else 500
        body, media, verdict = b"HTTP error (reference fault switch)", "text/plain", "http_error"
    elif kind is FaultKind.MALFORMED:
        body = body[: len(body) // 2]
    harness.calls.record(
        at=now,
        service="api.asp",
        operation=api,
        protocol=fmt,
        payload=served.payload,
        verdict=verdict,
        http_status=status,
        error_codes=served.error_codes,
        fault=None if fault is None else {"id": fault.id, "kind": str(kind)},
        committed=served.committed,
        notes=served.notes,
        response=body.decode(errors="replace"),
    )
    if fault is not None and kind is FaultKind.TIMEOUT:
        # Committed and journaled; now hang past the client's timeout (§3.1 timeout_next).
        await asyncio.sleep(
            fault.spec.seconds if fault.spec.seconds is not None else DEFAULT_HANG_SECONDS
        )
    return Response(body, status_code=status, media_type=media)


def _record(
    harness: Harness,
    now: datetime,
    operation: str | None,
    payload: dict[str, Any],
    verdict: str,
    status: int,
    response: str,
) -> None:
    harness.calls.record(
        at=now,
        service="api.asp",
        operation=operation,
        protocol=None,
        payload=payload,
        verdict=verdict,
        http_status=status,
        response=response,
    )
