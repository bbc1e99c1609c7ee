"""``/docs`` and ``/redoc`` render in headless Chromium with the network cut off (issue 18,
stumble 1): every request the pages make goes to the portal itself, and the operation list
appears. Skipped, saying why, where Debian's ``chromium`` is not installed (``.ci/run``
installs it)."""

from __future__ import annotations

import contextlib
import json
import shutil
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

from portal.reference.amsi.app import create_app as amsi_app
from portal.reference.mri.app import create_app as mri_app
from portal_tests.conftest import OPERATOR_KEY
from portal_tests.live import free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
#: The flags that work on these machines (no sandbox as root; no background connections).
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

#: Requests a page may try without needing them: ReDoc's "API docs by Redocly" logo, which the
#: bundle hides when it cannot load (``onError``); nothing else may leave the machine.
OPTIONAL = {"https://cdn.redoc.ly/redoc/logo-mini.svg"}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        shutil.which("chromium") is None,
        reason="Debian's chromium is not installed (apt-get install -y chromium; .ci/run does)",
    ),
]
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')"
)


@pytest.fixture
def server(app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port, in a thread of this process."""
    with serving(app) as base:
        yield base


@contextlib.contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="none")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    uv.should_exit = True
    thread.join(timeout=30)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module (Debian's, with the flags these machines need)."""
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def offline_page(server: str, browser: Any) -> Iterator[tuple[Any, list[str]]]:
    """A page whose every request off the portal is aborted, and recorded unless optional."""
    with offline(server, browser) as page_and_blocked:
        yield page_and_blocked


@contextlib.contextmanager
def offline(server: str, browser: Any) -> Iterator[tuple[Any, list[str]]]:
    blocked: list[str] = []

    def only_the_portal(route: Any) -> None:
        if route.request.url.startswith(server):
            route.continue_()
        else:
            if route.request.url not in OPTIONAL:
                blocked.append(route.request.url)
            route.abort("internetdisconnected")

    context = browser.new_context()
    try:
        context.route("**/*", only_the_portal)
        yield context.new_page(), blocked
    finally:
        context.close()


#: Swagger UI's block of one operation (``operations-<tag>-<operationId>``).
CREATE_WORKSPACE = '[id^="operations-"][id$="-create_workspace"]'


def operation_ids(server: str, page: Any) -> list[str]:
    spec = json.loads(page.request.get(f"{server}/openapi.json").text())
    return [op["operationId"] for ops in spec["paths"].values() for op in ops.values()]


class TestOfflineDocs:
    def test_swagger_ui_lists_every_operation_and_tries_one(
        self, server: str, offline_page: Any
    ) -> None:
        """From the index to Swagger UI: every operation is listed, and the create_workspace
        example, sent with "Try it out" and the operator key, is 201."""
        page, blocked = offline_page
        page.goto(f"{server}/")
        page.get_by_role("link", name="Swagger UI").click()
        page.wait_for_selector(".opblock", timeout=60_000)
        assert page.url == f"{server}/docs"
        assert page.locator(".opblock").count() == len(operation_ids(server, page))
        assert page.locator(".auth-wrapper .authorize").count() == 1

        page.evaluate(
            """key => ui.authActions.authorize({OperatorKey: {name: "OperatorKey",
                schema: {type: "http", scheme: "bearer"}, value: key}})""",
            OPERATOR_KEY,
        )
        operation = page.locator(CREATE_WORKSPACE)
        operation.locator(".opblock-summary").click()
        assert '"ws_demo"' in operation.locator("textarea.body-param__text").input_value()
        operation.locator("button.execute").click()
        status = operation.locator(".live-responses-table .response .response-col_status").first
        status.wait_for(timeout=30_000)
        assert status.inner_text().strip() == "201"
        assert blocked == [], f"the page needed the network: {blocked}"

    def test_redoc_renders_the_operations(self, server: str, offline_page: Any) -> None:
        page, blocked = offline_page
        page.goto(f"{server}/redoc")
        page.wait_for_selector('[data-section-id="operation/create_workspace"]', timeout=60_000)
        rendered = page.locator('[data-section-id^="operation/"]').count()
        assert rendered == len(operation_ids(server, page))
        assert blocked == [], f"the page needed the network: {blocked}"


@pytest.mark.parametrize("factory", [amsi_app, mri_app], ids=["amsi", "mri"])
def test_a_reference_servers_docs_load_offline(factory: Any, browser: Any) -> None:
    """``portal reference amsi|mri``'s ``/_ref/docs`` (Swagger UI of its admin API) needs no
    internet either."""
    with serving(factory()) as base, offline(base, browser) as (page, blocked):
        page.goto(f"{base}/_ref/docs")
        page.wait_for_selector(".opblock", timeout=60_000)
        spec = json.loads(page.request.get(f"{base}/_ref/openapi.json").text())
        operations = [op for ops in spec["paths"].values() for op in ops.values()]
        assert page.locator(".opblock").count() == len(operations)
        assert blocked == [], f"the page needed the network: {blocked}"
