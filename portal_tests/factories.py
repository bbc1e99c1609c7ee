"""Deterministic builders that go through the HTTP API, as a client would."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from portal_tests.conftest import OPERATOR_KEY

OPERATOR = {"Authorization": f"Bearer {OPERATOR_KEY}"}
START = "2026-07-02T14:00:00Z"  # a Thursday, 10:00 in New York


@dataclass
class World:
    """A workspace with a logged-in landlord."""

    workspace_id: str
    email: str
    password: str
    landlord_token: str
    body: dict[str, Any]

    @property
    def landlord(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.landlord_token}"}


def make_workspace(client: TestClient, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "Test workspace", "seed": 7, "clock": {"now": START}}
    body.update(overrides)
    response = client.post("/v1/sandbox/workspaces", json=body, headers=OPERATOR)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def login(client: TestClient, email: str, password: str) -> str:
    response = client.post("/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def make_world(client: TestClient, **overrides: Any) -> World:
    data = make_workspace(client, **overrides)
    email, password = data["landlord"]["email"], data["landlord"]["password"]
    return World(data["id"], email, password, login(client, email, password), data)


def make_integration(client: TestClient, world: World, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "Landlord 12", "kind": "landlord12"}
    body.update(overrides)
    response = client.post("/v1/integrations", json=body, headers=world.landlord)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def make_token(client: TestClient, world: World, integration_id: str) -> dict[str, Any]:
    response = client.post(f"/v1/integrations/{integration_id}/tokens", headers=world.landlord)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def advance(client: TestClient, workspace_id: str, **body: Any) -> dict[str, Any]:
    response = client.post(
        f"/v1/sandbox/workspaces/{workspace_id}/clock/advance", json=body, headers=OPERATOR
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


OAK_STREET = Path(__file__).resolve().parents[1] / "seed_data" / "oak-street-landlord12.json"


def load_oak_street(client: TestClient) -> tuple[dict[str, Any], dict[str, str]]:
    """The shipped Inosio world (seed 004's eight batches), loaded into a workspace made with the
    file's own seed, clock and settings, as ``portal seed`` does; the workspace and the
    Landlord 12 token's header."""
    doc = json.loads(OAK_STREET.read_text())
    section = doc["workspace"]
    ws = make_workspace(
        client, seed=section["seed"], clock=section["clock"], settings=section["settings"]
    )
    loaded = client.post(f"/v1/sandbox/workspaces/{ws['id']}/scenario", json=doc, headers=OPERATOR)
    assert loaded.status_code == 200, loaded.text
    return ws, bearer(loaded.json()["tokens"]["landlord12"])
