"""Builders for the residents tests, over HTTP."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from portal_tests.factories import OPERATOR, World


def make_unit(
    client: TestClient,
    world: World,
    *,
    prop_external: str | None = "OAK",
    unit_external: str | None = "2118",
    unit_name: str = "2118",
) -> dict[str, Any]:
    prop = client.post(
        "/v1/properties",
        json={
            "name": "Oak Street",
            "external_id": prop_external,
            "address": {"street": "2118 Oak Street", "city": "Springfield", "state": "IL"},
        },
        headers=world.landlord,
    )
    assert prop.status_code == 201, prop.text
    unit = client.post(
        f"/v1/properties/{prop.json()['id']}/units",
        json={"name": unit_name, "external_id": unit_external},
        headers=world.landlord,
    )
    assert unit.status_code == 201, unit.text
    data: dict[str, Any] = unit.json()
    return data


def invite(client: TestClient, world: World, unit_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Anthony Kmetz",
        "email": "anthony@example.com",
        "unit_id": unit_id,
        "rent": "980.00",
        "start_date": "2026-08-01",
    }
    body.update(overrides)
    response = client.post("/v1/residents/invite", json=body, headers=world.landlord)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def mailbox(client: TestClient, world: World, **query: str) -> list[dict[str, Any]]:
    response = client.get(
        f"/v1/sandbox/workspaces/{world.workspace_id}/mailbox",
        params={"limit": "500", **query},
        headers=OPERATOR,
    )
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def signup(
    client: TestClient, prop_id: str, unit_id: str | None, **overrides: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "email": "jamie@example.com",
        "password": "jamie-password",
        "name": "Jamie Roommate",
        "property_id": prop_id,
        "unit_id": unit_id,
    }
    body.update(overrides)
    response = client.post("/v1/resident/signup", json=body)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def resident(client: TestClient, world: World, resident_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/residents/{resident_id}", headers=world.landlord)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def load(client: TestClient, world: World, doc: dict[str, Any]) -> dict[str, Any]:
    response = client.post(
        f"/v1/sandbox/workspaces/{world.workspace_id}/scenario",
        json={"scenario": "t", **doc},
        headers=OPERATOR,
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data
