"""Swagger UI from the installed ``fastapi-offline`` package, not a CDN (issue 18, stumble 1):
the portal's ``/docs`` and the reference servers' ``/_ref/docs`` load nothing from the internet.
Swagger UI is told not to call its online validator."""

from __future__ import annotations

from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

#: No online validator (it would call validator.swagger.io), "Try it out" open on every
#: operation, tokens kept across reloads, and the time each call took.
PARAMETERS: dict[str, Any] = {
    "validatorUrl": None,
    "persistAuthorization": True,
    "tryItOutEnabled": True,
    "displayRequestDuration": True,
    "docExpansion": "list",
    "filter": True,
}


def static_dir() -> str:
    """The folder of the installed ``fastapi_offline`` package holding the bundled assets."""
    return str(resources.files("fastapi_offline") / "static")


def root_of(request: Request) -> str:
    root: str = request.scope.get("root_path", "")
    return root.rstrip("/")


def install(app: FastAPI, *, docs_url: str, assets_url: str) -> None:
    """Mount the bundled assets at ``assets_url`` and serve Swagger UI at ``docs_url`` (and its
    OAuth2 redirect page); the app is created with ``docs_url=None``."""
    app.mount(assets_url, StaticFiles(directory=static_dir()), name=assets_url.strip("/"))
    openapi_url = app.openapi_url or "/openapi.json"
    redirect_url = f"{docs_url}/oauth2-redirect"

    @app.get(docs_url, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = root_of(request)
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=root + redirect_url,
            swagger_js_url=f"{root}{assets_url}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{assets_url}/swagger-ui.css",
            swagger_favicon_url=f"{root}{assets_url}/favicon.png",
            swagger_ui_parameters=PARAMETERS,
        )

    @app.get(redirect_url, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
