"""The daily sync (issue 16 "a daily scheduled sync on the workspace clock"; connectors.md §0.1:
RT's balance sync ran at 04:15): advancing the clock past 04:15 imports, and a connection with
``daily_sync`` off is left alone."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi.testclient import TestClient

from portal_tests.connectors.conftest import Amsi
from portal_tests.factories import OPERATOR, login


def _runs(client: TestClient, amsi: Amsi) -> list[dict[str, Any]]:
    response = client.get(f"/v1/integrations/{amsi.id}/imports", headers=amsi.world.landlord)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def _advance(client: TestClient, amsi: Amsi, to: str) -> dict[str, Any]:
    response = client.post(
        f"/v1/sandbox/workspaces/{amsi.world.workspace_id}/clock/advance",
        json={"to": to},
        headers=OPERATOR,
    )
    assert response.status_code == 200, response.text
    amsi.world.landlord_token = login(client, amsi.world.email, amsi.world.password)
    data: dict[str, Any] = response.json()
    return data


def _daily_sync(client: TestClient, amsi: Amsi, on: bool) -> None:
    read = client.get(f"/v1/integrations/{amsi.id}", headers=amsi.world.landlord).json()
    body = {k: v for k, v in read["connection"].items() if k != "password_set"}
    patched = client.patch(
        f"/v1/integrations/{amsi.id}",
        json={"connection": body | {"daily_sync": on}},
        headers=amsi.world.landlord,
    )
    assert patched.status_code == 200, patched.text


def test_the_clock_passing_0415_imports_and_the_run_is_in_the_review(
    client: TestClient, amsi: Amsi, ref: httpx.Client
) -> None:
    _daily_sync(client, amsi, True)
    assert _runs(client, amsi) == []
    advanced = _advance(client, amsi, "2026-07-03T09:00:00Z")  # 05:00 New York
    [job] = [j for j in advanced["jobs"] if j["name"] == "connectors.daily_sync"]
    assert job["due_at"].startswith("2026-07-03T08:15:00")  # 04:15 EDT
    [run] = _runs(client, amsi)
    assert (run["trigger"], run["status"]) == ("schedule", "completed")
    assert run["counts"]["new"] > 0
    assert job["result"]["imports"][amsi.id]["run"] == run["id"]
    # The next day's run finds nothing new.
    _advance(client, amsi, "2026-07-04T09:00:00Z")
    latest = _runs(client, amsi)[0]
    assert (latest["counts"]["new"], latest["counts"]["updated"]) == (0, 0)


def test_a_connection_with_daily_sync_off_is_not_imported(
    client: TestClient, amsi: Amsi, ref: httpx.Client
) -> None:
    _advance(client, amsi, "2026-07-04T09:00:00Z")
    assert _runs(client, amsi) == []
