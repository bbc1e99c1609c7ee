"""The reference AMSI eSite as an ASGI app (issue 16; connectors.md §1, §3.1, §3.2):
``…/leasing.asmx`` and ``…/ledger.asmx`` (any prefix, e.g. ``/amsiweb/edexweb/esite``, so
the eSite URL of the fixture works as is), each with ``?WSDL``, and the admin API under
``/_ref/…``. Started by ``portal reference amsi``; docs/reference-amsi.md is the manual.

A SOAP call goes: downtime? → parse the envelope (a Fault if it cannot) → latency → the fault
switch it draws → the operation (committing unless the fault says otherwise) → the fault's
answer → the call journal → (timeout) the hang.
"""

from __future__ import annotations

import asyncio
import json
import os
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse

from portal.core import swagger
from portal.reference.amsi import admin, operations, seeding, soap
from portal.reference.amsi.state import REJECTED, AmsiError, ErrorCode, World
from portal.reference.harness import (
    DEFAULT_HANG_SECONDS,
    AdminError,
    Fault,
    FaultKind,
    Harness,
    admin_router,
    install_error_handlers,
)

#: A SOAP request larger than this is refused (RT's are a few hundred bytes).
MAX_SOAP_BYTES = 10 * 1024 * 1024
SERVICE_PATHS = {"leasing.asmx": "Leasing", "ledger.asmx": "Ledger"}


#: The seed file ``create_app`` loads at start, if set.
SEED_ENV = "PORTAL_REFERENCE_SEED"


def create_app() -> FastAPI:
    app = FastAPI(
        title="Reference AMSI eSite",
        description="SOAP Leasing and Ledger services and the /_ref admin API "
        "(docs/reference-amsi.md).",
        docs_url=None,
        openapi_url="/_ref/openapi.json",
        redoc_url=None,
    )
    app.state.world = World()
    # ``portal reference amsi --seed FILE`` (the factory takes no arguments under uvicorn).
    seed = os.environ.get(SEED_ENV)
    if seed:
        path = Path(seed)
        seeding.apply(app.state.world, json.loads(path.read_text()), base=path.parent)
    # Swagger UI from the installed package: it loads with no internet (issue 18).
    swagger.install(app, docs_url="/_ref/docs", assets_url="/_ref/docs-assets")
    app.state.harness = Harness(soap.OPERATIONS)
    app.include_router(admin_router())
    app.include_router(admin.router)
    install_error_handlers(app)
    app.add_api_route(
        "/{path:path}", soap_endpoint, methods=["GET", "POST"], include_in_schema=False
    )
    return app


def _service(path: str) -> str | None:
    # IIS paths are case-insensitive.
    return SERVICE_PATHS.get(path.rsplit("/", 1)[-1].lower())


async def soap_endpoint(request: Request, path: str) -> Response:
    service = _service(path)
    if service is None:
        raise AdminError(status=404, code="not_found", detail=f"no service at /{path}")
    harness: Harness = request.app.state.harness
    world: World = request.app.state.world
    now = harness.clock.now()
    if harness.faults.down(now) is not None:
        harness.calls.record(
            at=now,
            service=service,
            operation=None,
            protocol=None,
            payload={},
            verdict="down",
            http_status=503,
            response="Service Unavailable",
        )
        return Response("Service Unavailable", status_code=503, media_type="text/plain")
    if request.method == "GET":
        return _describe(request, service)
    body = await request.body()
    if len(body) > MAX_SOAP_BYTES:
        return Response("Request too large", status_code=413, media_type="text/plain")
    content_type = request.headers.get("content-type", "")
    try:
        call = soap.read_request(
            body, soap.soap_action_of(content_type, request.headers.get("soapaction"))
        )
        if call.version not in world.switches.soap_versions:
            raise soap.SoapError(
                f"SOAP {call.version} is switched off on this server", call.version
            )
        if soap.OPERATIONS.get(call.operation) != service:
            raise soap.SoapError(f"{service} has no operation {call.operation}", call.version)
    except soap.SoapError as exc:
        answer = soap.fault(exc.version, exc.message, client=True)
        harness.calls.record(
            at=now,
            service=service,
            operation=None,
            protocol=f"SOAP {exc.version}",
            payload={"error": exc.message},
            verdict="fault",
            http_status=500,
            response=answer.decode(),
        )
        return Response(answer, status_code=500, media_type=soap.CONTENT_TYPES[exc.version])
    return await _serve(harness, world, service, call, now)


async def _serve(
    harness: Harness, world: World, service: str, call: soap.SoapRequest, now: datetime
) -> Response:
    latency = harness.faults.latency(call.operation)
    fault = harness.faults.draw(call.operation)
    if latency:
        await asyncio.sleep(latency)
    outcome = operations.run(world, call, now, commit=fault is None or fault.commits)
    kind = fault.spec.kind if fault is not None else None
    result, verdict, codes = outcome.result, outcome.verdict, outcome.error_codes
    if fault is not None and kind is FaultKind.REJECT:
        forced = AmsiError(_rejection_code(fault))
        rejected = operations.run(world, call, now, commit=False, forced=forced)
        result, verdict, codes = rejected.result, "rejected", rejected.error_codes
    double = world.switches.double_escape_results or (
        kind is FaultKind.MALFORMED and fault is not None and fault.spec.form == "double_escaped"
    )
    body = soap.answer(call.version, call.operation, result, double_escape=double)
    status, media = 200, soap.CONTENT_TYPES[call.version]
    if fault is not None and kind is FaultKind.SOAP_FAULT:
        message = fault.spec.message or "Server was unable to process request."
        body, status, verdict = soap.fault(call.version, message, client=False), 500, "fault"
    elif fault is not None and kind is FaultKind.HTTP_ERROR:
        body, status, verdict = (
            b"HTTP error (reference fault switch)",
            fault.spec.status,
            "http_error",
        )
        media = "text/plain"
    elif fault is not None and kind is FaultKind.MALFORMED and fault.spec.form == "truncated":
        body = body[: len(body) // 2]
    harness.calls.record(
        at=now,
        service=service,
        operation=call.operation,
        protocol=f"SOAP {call.version}",
        payload=outcome.payload,
        verdict=verdict,
        http_status=status,
        error_codes=codes,
        fault=None if fault is None else {"id": fault.id, "kind": str(kind)},
        committed=outcome.committed,
        notes=outcome.notes,
        result=result,
        response=body.decode(errors="replace"),
    )
    if fault is not None and kind is FaultKind.TIMEOUT:
        # Committed and journaled; now hang past the client's timeout (§3.1 timeout_next).
        await asyncio.sleep(
            fault.spec.seconds if fault.spec.seconds is not None else DEFAULT_HANG_SECONDS
        )
    return Response(body, status_code=status, media_type=media)


def _rejection_code(fault: Fault) -> ErrorCode:
    return ErrorCode(fault.spec.code or REJECTED.number, fault.spec.message or REJECTED.text)


def _describe(request: Request, service: str) -> Response:
    if any(key.lower() == "wsdl" for key in request.query_params):
        location = str(request.url.replace(query=""))
        return Response(soap.wsdl(service, location), media_type="text/xml; charset=utf-8")
    items = "".join(f"<li>{op}</li>" for op in soap.SERVICES[service])
    return HTMLResponse(
        f"<html><body><h1>{service}</h1><p>Reference AMSI eSite. "
        f'<a href="?WSDL">Service description</a></p><ul>{items}</ul></body></html>'
    )
