"""The application factory: state, routers, the error envelope and the body-size limit.

``create_app(settings)`` does no work at import (style.md B9); the lifespan opens the engine,
loads (or generates) the server secrets and, for workspaces whose clock runs in ``real`` mode,
starts the background loop that moves them with the wall clock (architecture.md §4).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import re
from collections.abc import AsyncIterator, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal import models  # noqa: F401 - registers every table and job before use
from portal.applicants.router import integration_router as applicants_integration_router
from portal.applicants.router import resident_router as applicants_resident_router
from portal.applicants.router import router as applicants_router
from portal.auth import service as auth_service
from portal.auth.router import integration_router
from portal.auth.router import router as auth_router
from portal.balances.router import router as balances_router
from portal.connectors import worker as connector_worker
from portal.connectors.router import router as connectors_router
from portal.core.clock import Clock, SystemClock
from portal.core.db import WriterGate, loop_writer, make_engine, session_scope
from portal.core.errors import (
    PROBLEM_JSON,
    BadRequest,
    ConcurrentUpdate,
    Conflict,
    Forbidden,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    PaymentRequired,
    PortalError,
    Unauthorized,
    Unprocessable,
    UnsupportedMediaType,
    json_path,
    problem_body,
    problem_responses,
)
from portal.core.health import router as ops_router
from portal.core.idempotency import Replay
from portal.core.inputs import INVALID_ENCODING, InputGuardMiddleware
from portal.core.read_cache import ReadCache, ReadCacheMiddleware
from portal.core.settings import Settings
from portal.docs.pages import install_docs
from portal.docs.spec import install_openapi
from portal.events import service as events_service
from portal.events.router import router as events_router
from portal.journal.middleware import JournalMiddleware, RecorderSlot
from portal.journal.recorder import Recorder
from portal.journal.router import router as journal_router
from portal.outbox.router import router as outbox_router
from portal.payments import merges as payment_merges
from portal.payments.router import resident_router as payments_resident_router
from portal.payments.router import router as payments_router
from portal.properties.router import router as properties_router
from portal.receipts.router import router as receipts_router
from portal.reports.router import router as reports_router
from portal.residents.router import resident_router
from portal.residents.router import router as residents_router
from portal.reversals.router import resident_router as reversals_resident_router
from portal.reversals.router import router as reversals_router
from portal.sandbox import service as sandbox_service
from portal.sandbox.router import router as sandbox_router
from portal.webhooks import service as webhooks_service
from portal.webhooks import worker as webhooks_worker
from portal.webhooks.router import router as webhooks_router
from portal.work_orders.router import integration_router as work_orders_integration_router
from portal.work_orders.router import resident_router as work_orders_resident_router
from portal.work_orders.router import router as work_orders_router

#: Collect young objects less often than the default (700, 10, 10): each request allocates
#: thousands of short-lived objects, and every collection is a pause for all requests.
gc_thresholds = (50_000, 20, 100)

log = logging.getLogger("portal")

#: Routes that import data and accept large bodies (architecture.md §5).
IMPORT_ROUTES = (
    re.compile(r"^/v1/sandbox/workspaces/[^/]+/scenario$"),
    re.compile(r"^/v1/sandbox/scenarios$"),
    re.compile(r"^/v1/integration/balances$"),
)

#: The accounting client's polling reads, answered from ``portal.core.read_cache`` while the
#: database is unchanged (issue 19): their answer depends only on the database, the path, the
#: query and the token (not the clock).
CACHED_READS = (re.compile(r"^/v1/integration/receipt-batches(/[^/]+(/lockbox)?)?$"),)


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    settings = settings or Settings()
    # Process-wide: new password hashes are made at the configured cost (each records its own).
    auth_service.set_password_hash_cost(settings.password_hash_cost)

    # Where the journal's middleware finds the lifespan's recorder (issue 20).
    journal_slot = RecorderSlot()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.engine = engine or make_engine(settings.database_url)
        app.state.writer_gate = WriterGate.for_engine(app.state.engine)
        app.state.read_cache = (
            ReadCache.for_engine(app.state.engine) if settings.read_cache else None
        )
        with session_scope(app.state.engine) as session:
            app.state.operator_key = auth_service.ensure_secret(
                session, "operator_key", settings.operator_key
            )
            app.state.signing_key = auth_service.ensure_secret(
                session, "signing_key", settings.secret_key
            )
        # Everything loaded so far (modules, mappers, the app) lives as long as the process:
        # take it out of the collector's sight, so a full collection under load scans only
        # what requests allocate (measured: p99 of the receipt-batch read, bench/README.md).
        gc.collect()
        gc.freeze()
        gc.set_threshold(*gc_thresholds)
        # The outbox's sender (issue 16): after each commit that queued deliveries, and now
        # for whatever a restart left behind.
        app.state.courier = connector_worker.make_courier(
            app.state.engine, app.state.clock, app.state
        )
        app.state.courier.start()
        # The webhooks' sender (issue 20), likewise.
        app.state.webhook_courier = webhooks_worker.make_courier(
            app.state.engine, app.state.clock, app.state
        )
        app.state.webhook_courier.start()
        # The request journal's writer (issue 20); None when PORTAL_JOURNAL=false.
        app.state.journal = None
        if settings.journal:
            app.state.journal = Recorder(
                app.state.engine,
                app.state.writer_gate,
                app.state.clock,
                settings,
                signing_key=app.state.signing_key,
                known_secrets=(app.state.operator_key,),
            )
            app.state.journal.start()
        journal_slot.recorder = app.state.journal
        task = None
        if settings.real_clock_tick_seconds > 0 and settings.run_real_clocks:
            task = asyncio.create_task(_real_clock_loop(app))
        try:
            yield
        finally:
            await app.state.courier.stop()
            await app.state.webhook_courier.stop()
            journal_slot.recorder = None
            if app.state.journal is not None:
                await app.state.journal.stop()
            if app.state.read_cache is not None:
                app.state.read_cache.close()
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if engine is None:
                app.state.engine.dispose()

    app = FastAPI(
        title="portal — rent-payment portal simulator",
        version="0.1.0",
        description=(
            "A self-hosted sandbox of a rent-payment portal (RentTrack / Inosio side) for "
            "accounting-system integrators. Errors are RFC 9457 problem+json with a stable `code`."
        ),
        lifespan=lifespan,
        generate_unique_id_function=lambda route: route.name,
        # Served by portal.docs.pages from an installed package, not a CDN (issue 18).
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.clock = clock or SystemClock()
    # The links inside objects that events carry (work orders' browse URLs).
    events_service.BASE_URL = settings.base_url
    webhooks_worker.POLICY = webhooks_service.Policy.of(
        settings.webhook_allowed_hosts, settings.webhook_timeout_seconds
    )
    # The features above residents that take part in a resident merge (residents cannot
    # import them; portal.residents.merges.MergeParticipant).
    app.state.merge_participants = (payment_merges.PARTICIPANT,)
    for router in (
        ops_router,
        sandbox_router,
        journal_router,
        auth_router,
        integration_router,
        connectors_router,
        properties_router,
        residents_router,
        resident_router,
        balances_router,
        receipts_router,
        work_orders_integration_router,
        applicants_integration_router,
        payments_router,
        reversals_router,
        reports_router,
        outbox_router,
        events_router,
        webhooks_router,
        payments_resident_router,
        reversals_resident_router,
        work_orders_router,
        work_orders_resident_router,
        applicants_router,
        applicants_resident_router,
    ):
        # Any request can be refused at the door (portal.core.inputs, the size limit): 400 for a
        # body that is not UTF-8 JSON, 413 for one too large, 422 for a bad parameter or a
        # character the databases refuse. Documented so on every route, the 422 as the problem
        # the portal answers, not FastAPI's default shape, which it never sends.
        app.include_router(router, responses=problem_responses(400, 413, 422))
    _install_error_handlers(app)
    install_docs(app)
    install_openapi(app)
    # Innermost: the size limit and the input guard still see every request, cached or not.
    app.add_middleware(ReadCacheMiddleware, routes=CACHED_READS)
    # Inner to the size limit (the last added runs first): only a body within it is read.
    app.add_middleware(InputGuardMiddleware)
    app.add_middleware(
        BodyLimitMiddleware,
        default_limit=settings.max_body_bytes,
        import_limit=settings.max_import_body_bytes,
        import_routes=IMPORT_ROUTES,
    )
    # Outermost (added last): the journal sees every /v1 request, refused at the door or
    # answered from the cache (issue 20).
    if settings.journal:
        app.add_middleware(JournalMiddleware, slot=journal_slot)
    return app


async def _real_clock_loop(app: FastAPI) -> None:
    settings: Settings = app.state.settings
    while True:
        await asyncio.sleep(settings.real_clock_tick_seconds)
        try:
            async with app.state.writer_gate.thread_writer():
                await asyncio.to_thread(
                    sandbox_service.run_real_clocks, app.state.engine, app.state.clock
                )
        except Exception:  # a failing job must not stop the loop for every workspace
            log.exception("real-clock tick failed")


# --- errors -----------------------------------------------------------------------------------


def problem(status: int, title: str, code: str, detail: str, **kw: Any) -> JSONResponse:
    return JSONResponse(
        problem_body(status=status, title=title, code=code, detail=detail, **kw),
        status_code=status,
        media_type=PROBLEM_JSON,
    )


# Pydantic error types that get their own stable code; anything else is validation_failed.
_OWN_CODES = {
    "invalid_duration",
    "invalid_datetime",
    "invalid_time",
    "invalid_amount",
    "exactly_one_required",
    "invalid_routing_number",
    "invalid_account_number",
}
#: The field code of every other pydantic error.
FIELD_INVALID = "invalid"


def _media_type_response(request: Request, exc: RequestValidationError) -> JSONResponse | None:
    """415 ``unsupported_media_type`` for a body that was not sent as JSON (a form, multipart,
    text, or no Content-Type at all: ``curl -d`` sends a form) to a route that takes JSON.
    FastAPI hands such a body to validation as raw bytes, which would fail as a puzzling 422
    "Input should be a valid dictionary" (issue 18, stumble 6)."""
    if not isinstance(exc.body, bytes | bytearray) or not exc.body:
        return None
    if not any(tuple(e.get("loc", ()))[:1] == ("body",) for e in exc.errors()):
        return None
    media = request.headers.get("content-type", "").split(";", 1)[0].strip()
    sent = f"was sent as {media!r}" if media else "has no Content-Type"
    return problem(
        UnsupportedMediaType.status_code,
        UnsupportedMediaType.title,
        UnsupportedMediaType.code,
        f"The request body {sent}; this route takes JSON: send the body as JSON with "
        "'Content-Type: application/json'.",
    )


def _validation_response(exc: RequestValidationError) -> JSONResponse:
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        return problem(
            400, "Malformed JSON", "malformed_json", "The request body is not valid JSON."
        )
    items = []
    for e in errors[:100]:
        code = e["type"] if e.get("type") in _OWN_CODES else FIELD_INVALID
        loc = tuple(e.get("loc", ()))
        item: dict[str, Any] = {"field": json_path(loc), "message": e.get("msg", ""), "code": code}
        # A bad line of a list (a balance row, a scenario entity) says which one it is.
        if len(loc) > 2 and loc[0] == "body" and isinstance(loc[2], int):
            item["row"] = loc[2]
        items.append(item)
    codes = {i["code"] for i in items}
    code = codes.pop() if len(codes) == 1 and FIELD_INVALID not in codes else "validation_failed"
    detail = "; ".join(f"{i['field']}: {i['message']}" for i in items[:5])
    extra = {"errors_total": len(errors)} if len(errors) > len(items) else None
    return problem(422, "Unprocessable request", code, detail, errors=items, extra=extra)


#: The framework's own HTTP errors, in the envelope and with the code of the PortalError of that
#: status; there is no ``http_<status>`` code.
_HTTP_CODES: dict[int, tuple[str, str]] = {
    cls.status_code: (cls.title, cls.code)
    for cls in (
        BadRequest,
        Unauthorized,
        PaymentRequired,
        Forbidden,
        NotFound,
        MethodNotAllowed,
        Conflict,
        PayloadTooLarge,
        UnsupportedMediaType,
        Unprocessable,
    )
}


def _http_problem(exc: StarletteHTTPException) -> JSONResponse:
    cause = exc.__cause__
    if exc.status_code == 400 and cause is not None:
        # FastAPI turns any failure to read a JSON body into a bare 400 "There was an error
        # parsing the body": a body that is not UTF-8 (after portal.core.inputs, only a BOM-less
        # oddity), nesting beyond the parser's stack (RecursionError), or a number too long
        # for Python (more than 4,300 digits).
        if isinstance(cause, UnicodeError):
            return problem(400, "Invalid encoding", INVALID_ENCODING, "The body is not UTF-8.")
        detail = (
            "The JSON body is nested too deeply."
            if isinstance(cause, RecursionError)
            else "The request body could not be parsed as JSON."
        )
        return problem(400, "Malformed JSON", "malformed_json", detail)
    if exc.status_code >= 500:
        return _internal_error(exc.status_code)
    title, code = _HTTP_CODES.get(exc.status_code, _HTTP_CODES[400])
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail else title
    return problem(exc.status_code, title, code, detail)


#: deadlock_detected, serialization_failure, lock_not_available (PostgreSQL error codes).
_RETRYABLE_SQLSTATES = frozenset({"40P01", "40001", "55P03"})


def _internal_error(status: int) -> JSONResponse:
    return problem(
        status, "Internal error", "internal_error", "An internal error occurred; this is a bug."
    )


async def _remember(request: Request, problem: dict[str, Any]) -> None:
    """A refused integration call is kept for ``GET /v1/integration/last-error`` (seed S0/S4
    "Show Last Error"), in its own transaction: the call itself was rolled back."""
    caller: tuple[str, str, str] | None = getattr(request.state, "integration_caller", None)
    if caller is None:
        return
    workspace_id, integration_id, at = caller
    async with loop_writer(request.app.state):
        auth_service.record_last_error(
            request.app.state.engine,
            workspace_id,
            integration_id,
            {
                "at": at,
                "method": request.method,
                "path": request.url.path,
                **{k: problem[k] for k in ("status", "code", "detail")},
                "errors": problem.get("errors", [])[:100],
            },
        )


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(PortalError)
    async def _portal(request: Request, exc: PortalError) -> Response:
        await _remember(request, exc.problem())
        return JSONResponse(
            exc.problem(), status_code=exc.status_code, media_type=PROBLEM_JSON, headers=exc.headers
        )

    @app.exception_handler(Replay)
    async def _replay(_: Request, exc: Replay) -> Response:
        return exc.response

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        response = _media_type_response(request, exc) or _validation_response(exc)
        await _remember(request, json.loads(bytes(response.body)))
        return response

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> Response:
        response = _http_problem(exc)
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> Response:
        log.info("integrity error turned into 409: %s", exc.orig)
        return problem(409, "Conflict", "conflict", "The request conflicts with existing data.")

    @app.exception_handler(OperationalError)
    async def _operational(_: Request, exc: OperationalError) -> Response:
        # PostgreSQL gave up on one of two transactions waiting for each other (a deadlock,
        # a serialization failure, a lock it could not take): the request did nothing and a
        # retry will pass or meet the rule's own refusal. Anything else is still a bug.
        if getattr(exc.orig, "sqlstate", None) not in _RETRYABLE_SQLSTATES:
            log.exception("unhandled database error")
            return _internal_error(500)
        log.info("retryable database conflict turned into 409: %s", exc.orig)
        response = problem(
            409,
            ConcurrentUpdate.title,
            ConcurrentUpdate.code,
            "Another request changed the same data at the same time; nothing was done. "
            "Retry the request.",
        )
        response.headers["Retry-After"] = "1"
        return response

    @app.exception_handler(Exception)
    async def _bug(_: Request, exc: Exception) -> Response:
        log.exception("unhandled error")
        return _internal_error(500)


# --- body size --------------------------------------------------------------------------------


class BodyLimitMiddleware:
    """413 ``payload_too_large`` beyond 1 MiB (64 MiB on import routes), checked on the
    declared Content-Length and again while the body streams in."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        default_limit: int,
        import_limit: int,
        import_routes: Sequence[re.Pattern[str]],
    ) -> None:
        self.app = app
        self.default_limit = default_limit
        self.import_limit = import_limit
        self.import_routes = import_routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        limit = (
            self.import_limit
            if any(r.match(path) for r in self.import_routes)
            else self.default_limit
        )
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._reject(scope, receive, send, limit)
            return
        if declared is not None:
            # uvicorn refuses a body longer than its declared Content-Length.
            await self.app(scope, receive, send)
            return
        # No Content-Length (chunked): read up to the limit here, because FastAPI would turn an
        # error raised while it reads the body into a generic 400.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message], receive), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._reject(scope, receive, send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        await self.app(
            scope,
            _replay([{"type": "http.request", "body": body, "more_body": False}], receive),
            send,
        )

    async def _reject(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = problem(
            413,
            "Payload too large",
            "payload_too_large",
            _too_large(limit),
        )
        await response(scope, receive, send)


def _too_large(limit: int) -> str:
    return f"The request body is larger than this route accepts ({limit} bytes)."


def _replay(messages: list[Message], then: Receive) -> Receive:
    """Hand the app the messages already read, then the connection's own ``receive``."""
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        return await then()

    return receive
