"""The reference MRI as an ASGI app (issue 17; connectors.md §2, §3.1, §3.3): ``…/api.asp``
(any prefix, e.g. ``/mriapiservices/api.asp``, so MRI's URL works as is) and the admin API
under ``/_ref/…``. Started by ``portal reference mri``; docs/reference-mri.md is the manual.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from portal.core.errors import json_path
from portal.reference.harness import AdminError, Harness, admin_router, problem_response
from portal.reference.mri import admin, api, seeding
from portal.reference.mri.state import World

#: The seed file ``create_app`` loads at start, if set (``portal reference mri --seed``).
SEED_ENV = "PORTAL_REFERENCE_MRI_SEED"


def create_app() -> FastAPI:
    app = FastAPI(
        title="Reference MRI",
        description="MRI's api.asp (lease details, rent roll, pending move-ins, payments) and "
        "the /_ref admin API (docs/reference-mri.md).",
        docs_url="/_ref/docs",
        openapi_url="/_ref/openapi.json",
        redoc_url=None,
    )
    app.state.harness = Harness(api.OPERATIONS)
    app.state.world = World()
    # The factory takes no arguments under uvicorn: the CLI passes the seed in the environment.
    seed = os.environ.get(SEED_ENV)
    if seed:
        path = Path(seed)
        seeding.apply(
            app.state.world,
            json.loads(path.read_text()),
            now=app.state.harness.clock.now(),
            base=path.parent,
        )
    app.include_router(admin_router())
    app.include_router(admin.router)
    app.add_exception_handler(AdminError, _admin_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_api_route(
        "/{path:path}", api.api_endpoint, methods=["GET", "POST"], include_in_schema=False
    )
    return app


async def _admin_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AdminError)
    return problem_response(exc.status, exc.code, exc.detail)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": json_path(e["loc"]), "message": e["msg"], "code": "invalid"} for e in exc.errors()
    ]
    return problem_response(422, "validation_failed", "the request breaks the schema", errors)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "bad_request")
    return problem_response(exc.status_code, code, str(exc.detail))
