"""The documentation pages: ``/`` (a short index), ``/docs`` (Swagger UI) and ``/redoc``.

Their scripts and styles come from the ``fastapi-offline`` package's bundled copies of Swagger UI
and ReDoc, served under ``/docs-assets``: the pages need nothing from the internet, so a tester
on a closed network (or a CI machine) sees the operations (issue 18, stumble 1). ReDoc is told
not to load Google Fonts, and Swagger UI not to call its online validator.
"""

from __future__ import annotations

import html
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html
from fastapi.responses import HTMLResponse

from portal.core import swagger

DOCS = "/docs"
REDOC = "/redoc"
ASSETS = "/docs-assets"

#: The flows a new tester meets first (README "Walkthrough"), by operationId.
KEY_FLOWS: tuple[tuple[str, str], ...] = (
    (
        "create_workspace",
        "Create a sandbox workspace (operator key); it answers its landlord login",
    ),
    ("load_scenario", "Load a shipped scenario (a file of seed_data/) into a workspace"),
    ("login", "Log in as the workspace's landlord (landlord session)"),
    ("create_integration", "Create an integration for an accounting client"),
    ("create_token", "Mint its integration token (shown once)"),
    ("advance_clock", "Move the workspace clock; every job that falls due runs"),
    ("resident_login", "Log in as a resident (resident session)"),
    ("make_payment", "Pay rent as a resident"),
    ("send_balances", "Send balances, as the accounting client does"),
    ("list_receipt_batches", "Check the server for receipt batches, as the accounting client does"),
    ("get_mailbox", "Read every e-mail the portal sent"),
)

#: The reference servers started by ``portal reference …`` and their own docs.
REFERENCE_SERVERS: tuple[tuple[str, str, str], ...] = (
    ("AMSI eSite", "portal reference amsi", "http://127.0.0.1:8100/_ref/docs"),
    ("MRI api.asp", "portal reference mri", "http://127.0.0.1:8200/_ref/docs"),
)


def install_docs(app: FastAPI) -> None:
    """Mount the assets and add ``/``, ``/docs``, ``/docs/oauth2-redirect`` and ``/redoc``
    (the app is created with ``docs_url=None, redoc_url=None``)."""
    swagger.install(app, docs_url=DOCS, assets_url=ASSETS)
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/", include_in_schema=False)
    async def index(request: Request) -> HTMLResponse:
        return HTMLResponse(index_html(app, _root(request) + openapi_url, _root(request)))

    @app.get(REDOC, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = _root(request)
        return get_redoc_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS}/favicon.png",
            with_google_fonts=False,
        )


_root = swagger.root_of


def _operation_links(spec: dict[str, Any], root: str) -> dict[str, tuple[str, str, str]]:
    """operationId -> (method, path, Swagger UI deep link)."""
    links: dict[str, tuple[str, str, str]] = {}
    for path, operations in spec.get("paths", {}).items():
        for method, op in operations.items():
            tag = (op.get("tags") or ["default"])[0]
            anchor = f"{root}{DOCS}#/{tag}/{op['operationId']}"
            links[op["operationId"]] = (method.upper(), path, anchor)
    return links


def index_html(app: FastAPI, openapi_url: str, root: str = "") -> str:
    """A short page that leads somewhere: the docs, the spec, the first flows, the principals."""
    e = html.escape
    links = _operation_links(app.openapi(), root)
    flows = []
    for operation_id, what in KEY_FLOWS:
        if operation_id not in links:
            continue
        method, path, anchor = links[operation_id]
        flows.append(
            f'<li><a href="{e(anchor)}"><code>{method} {e(path)}</code></a> — {e(what)}</li>'
        )
    references = "".join(
        f'<li>{e(name)}: <code>{e(command)}</code>, then <a href="{e(url)}">{e(url)}</a></li>'
        for name, command, url in REFERENCE_SERVERS
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="icon" href="{root}{ASSETS}/favicon.png">
<title>{e(app.title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.5; color: #222; }}
code {{ background: #f3f3f3; padding: 0 .25rem; border-radius: 3px; }}
h1 {{ font-size: 1.5rem; }} h2 {{ font-size: 1.15rem; margin-top: 1.5rem; }}
</style>
</head>
<body>
<h1>{e(app.title)}</h1>
<p>{e(app.description or "")}</p>
<h2>API documentation</h2>
<ul>
<li><a href="{root}{DOCS}">Swagger UI</a> — every operation, with examples you can send
("Authorize" takes the operator key, a landlord session, an integration token or a resident
session)</li>
<li><a href="{root}{REDOC}">ReDoc</a> — the same document, for reading</li>
<li><a href="{e(openapi_url)}">OpenAPI document</a> (JSON; also <code>openapi/openapi.json</code>
in the repository)</li>
</ul>
<h2>First steps</h2>
<ol>
{"".join(flows)}
</ol>
<p>The operator key is printed by <code>portal serve</code> (or set with
<code>PORTAL_OPERATOR_KEY</code>). The README's walkthrough shows the same flow with curl.
Errors are <code>application/problem+json</code> with a stable <code>code</code>; each
operation lists the codes it can answer.</p>
<h2>Reference servers</h2>
<p>The accounting systems the portal talks to, run beside it:</p>
<ul>
{references}
</ul>
<p>Health: <a href="{root}/healthz"><code>/healthz</code></a>,
<a href="{root}/readyz"><code>/readyz</code></a>.</p>
</body>
</html>
"""
