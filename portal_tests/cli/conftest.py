"""The CLI's tests: typer's ``CliRunner`` for arguments and output, and the worker's live
``portal serve`` (``live_server``: on the suite's database, emptied after every test) for the
commands that talk to a server by URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import Result
from typer.testing import CliRunner

from portal.cli import app as cli
from portal.core import http
from portal_tests.live import OPERATOR_KEY, LiveServer

ROOT = Path(__file__).resolve().parents[2]
SEED_DATA = ROOT / "seed_data"


@pytest.fixture
def server(live_server: LiveServer) -> LiveServer:
    """The worker's live ``portal serve`` (``portal_tests/conftest.py``)."""
    return live_server


def portal(*args: str, env: dict[str, str] | None = None) -> Result:
    """``portal ARGS`` in-process; stdout and stderr apart and together (``output``)."""
    return CliRunner().invoke(cli, list(args), env=env)


def at(server: LiveServer, *args: str) -> Result:
    """``portal ARGS --url <the live server> --operator-key <its key>``."""
    return portal(*args, "--url", server.base, "--operator-key", OPERATOR_KEY)


def operator_get(server: LiveServer, path: str) -> httpx.Response:
    return http.get(f"{server.base}{path}", headers=server.operator, timeout=60)


def operator_post(server: LiveServer, path: str, body: Any) -> httpx.Response:
    return httpx.post(f"{server.base}{path}", json=body, headers=server.operator, timeout=120)


def require_route(server: LiveServer, method: str, path: str) -> None:
    """Skip while the server has no such route (a plain 404 from the router)."""
    response = httpx.request(method, f"{server.base}{path}", headers=server.operator, timeout=60)
    body = response.json() if response.headers.get("content-type", "").endswith("json") else {}
    if response.status_code == 404 and body.get("detail") == "Not Found":
        pytest.skip(f"the server has no {method} {path.split('?')[0]} yet")


def new_workspace(server: LiveServer, **body: Any) -> dict[str, Any]:
    payload = {"name": "cli", "seed": 7, "clock": {"now": "2026-07-02T14:00:00Z"}, **body}
    created = operator_post(server, "/v1/sandbox/workspaces", payload)
    assert created.status_code == 201, created.text
    workspace: dict[str, Any] = created.json()
    return workspace
