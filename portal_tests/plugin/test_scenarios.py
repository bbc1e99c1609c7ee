"""``load_scenario`` on a server without ``POST /v1/sandbox/scenarios`` (one older than issue 18,
reached with ``--portal-url``): the workspace is created with the file's seed, clock, settings
and landlord, then the scenario is loaded into it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from portal.testing import PortalServer

ROOT = Path(__file__).resolve().parents[2]
OAK_STREET = ROOT / "seed_data" / "oak-street-landlord12.json"


class WithoutScenariosRoute(httpx.BaseTransport):
    """HTTP to the real server, except ``/v1/sandbox/scenarios``, which is not found."""

    def __init__(self) -> None:
        self.real = httpx.HTTPTransport()
        self.asked: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.asked.append(f"{request.method} {request.url.path}")
        if request.url.path == "/v1/sandbox/scenarios":
            return httpx.Response(404, json={"status": 404, "code": "not_found", "detail": "-"})
        return self.real.handle_request(request)

    def close(self) -> None:
        """Shared by every client of the server: closed with the server, not with a client."""


class OlderServer(PortalServer):
    def __init__(self, url: str, operator_key: str) -> None:
        super().__init__(url, operator_key)
        self.transport = WithoutScenariosRoute()

    def client(self, token: str | None = None, **kwargs: Any) -> httpx.Client:
        return super().client(token, transport=self.transport, **kwargs)

    def close(self) -> None:
        super().close()
        self.transport.real.close()


def test_without_the_scenarios_route_the_workspace_is_made_then_loaded(
    portal_server: PortalServer,
) -> None:
    with OlderServer(portal_server.url, portal_server.operator_key) as older:
        workspace = older.load_scenario(OAK_STREET)
        try:
            created = [ask for ask in older.transport.asked if ask.startswith("POST")]
            assert created == [
                "POST /v1/sandbox/scenarios",
                "POST /v1/sandbox/workspaces",
                f"POST /v1/sandbox/workspaces/{workspace.id}/scenario",
            ]
            # The file's seed and clock: the IDs and batches the CLI gives, the clock where
            # the file's advance_to left it.
            assert workspace.read()["seed"] == 20220223
            assert workspace.clock.now() == datetime(2022, 2, 25, 13, tzinfo=UTC)
            assert workspace.landlord_login.password == "oak-street-demo"
            assert workspace.landlord.get("/v1/integrations").status_code == 200
            client = workspace.client(workspace.tokens["landlord12"])
            batches = client.get("/v1/integration/receipt-batches?state=unprocessed").json()
            assert len(batches["data"]) == 8
        finally:
            workspace.close()
