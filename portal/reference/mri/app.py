"""The reference MRI as an ASGI app (issue 17; connectors.md §2, §3.1, §3.3): ``…/api.asp``
(any prefix, e.g. ``/mriapiservices/api.asp``, so MRI's URL works as is) and the admin API
under ``/_ref/…``. Started by ``portal reference mri``; docs/reference-mri.md is the manual.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from fastapi import FastAPI

from portal.core import swagger
from portal.reference.harness import (
    Harness,
    admin_router,
    install_error_handlers,
)
from portal.reference.mri import admin, api, seeding
from portal.reference.mri.state import World

#: The seed file ``create_app`` loads at start, if set (``portal reference mri --seed``).
SEED_ENV = "PORTAL_REFERENCE_MRI_SEED"


def create_app() -> FastAPI:
    app = FastAPI(
        title="Reference MRI",
        description="MRI's api.asp (lease details, rent roll, pending move-ins, payments) and "
        "the /_ref admin API (docs/reference-mri.md).",
        docs_url=None,
        openapi_url="/_ref/openapi.json",
        redoc_url=None,
    )
    # Swagger UI from the installed package: it loads with no internet (issue 18).
    swagger.install(app, docs_url="/_ref/docs", assets_url="/_ref/docs-assets")
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
    install_error_handlers(app)
    app.add_api_route(
        "/{path:path}", api.api_endpoint, methods=["GET", "POST"], include_in_schema=False
    )
    return app
