"""The passwords a scenario file gives are hashed at ``SCENARIO_PASSWORD_HASH_COST`` (issue 19,
scope 1; ``docs/decisions.md``, "Scenario passwords"): their plain text is in the file, so the
full scrypt cost protected nothing and cost 3 minutes for 5,000 residents. They still log in,
and a password a person sets afterwards gets the configured cost.

The suite runs at a low configured cost; each test here raises it to ``CONFIGURED`` first so the
two costs differ (the conftest fixture lowers it again for the next test).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlmodel import Session, col

from portal.auth import service as auth_service
from portal.auth.models import LandlordUser
from portal.residents.models import Resident
from portal_tests.factories import OPERATOR, login

OAK_STREET = Path(__file__).resolve().parents[2] / "seed_data" / "oak-street-landlord12.json"
CONFIGURED = 1024


def cost_of(stored: str) -> int:
    return int(stored.split("$")[1])


def costs(engine: Engine, workspace_id: str) -> tuple[set[int], set[int]]:
    """The costs of the workspace's landlord and resident password hashes."""
    with Session(engine) as session:
        landlords = session.scalars(
            select(col(LandlordUser.password_hash)).where(
                col(LandlordUser.workspace_id) == workspace_id
            )
        ).all()
        residents = session.scalars(
            select(col(Resident.password_hash)).where(
                col(Resident.workspace_id) == workspace_id,
                col(Resident.password_hash).is_not(None),
            )
        ).all()
    return {cost_of(h) for h in landlords}, {cost_of(h) for h in residents if h}


@pytest.fixture(autouse=True)
def _configured_cost(client: TestClient) -> None:
    # After ``client``: building the app applies the suite's own cost.
    auth_service.set_password_hash_cost(CONFIGURED)


def load_oak_street(client: TestClient) -> dict[str, object]:
    loaded = client.post(
        "/v1/sandbox/scenarios", json=json.loads(OAK_STREET.read_text()), headers=OPERATOR
    )
    assert loaded.status_code == 201, loaded.text
    body: dict[str, object] = loaded.json()
    return body


def test_a_scenarios_passwords_are_hashed_at_the_scenario_cost_and_log_in(
    client: TestClient, engine: Engine
) -> None:
    load_oak_street(client)

    landlords, residents = costs(engine, "ws_oak_street")
    assert landlords == {auth_service.SCENARIO_PASSWORD_HASH_COST}
    assert residents == {auth_service.SCENARIO_PASSWORD_HASH_COST}
    login(client, "manager@oakstreet.example", "oak-street-demo")
    resident = client.post(
        "/v1/resident/login",
        json={"email": "anthony.kmetz@example.com", "password": "kmetz-demo-pass"},
    )
    assert resident.status_code == 200, resident.text
    # The load's cost stays inside the load: the next hash of this thread is at the full one.
    assert cost_of(auth_service.hash_password("after")) == CONFIGURED


def test_into_a_workspace_and_reset_use_the_scenario_cost(
    client: TestClient, engine: Engine
) -> None:
    doc = json.loads(OAK_STREET.read_text())
    section = doc["workspace"]
    created = client.post(
        "/v1/sandbox/workspaces",
        json={"name": "into", "seed": section["seed"], "clock": section["clock"]},
        headers=OPERATOR,
    )
    assert created.status_code == 201, created.text
    ws = created.json()["id"]
    # The operator's own workspace landlord is no scenario's: the configured cost.
    assert costs(engine, ws) == ({CONFIGURED}, set())

    loaded = client.post(f"/v1/sandbox/workspaces/{ws}/scenario", json=doc, headers=OPERATOR)
    assert loaded.status_code == 200, loaded.text
    assert costs(engine, ws)[1] == {auth_service.SCENARIO_PASSWORD_HASH_COST}

    reset = client.post(f"/v1/sandbox/workspaces/{ws}/reset", headers=OPERATOR)
    assert reset.status_code == 200, reset.text
    assert costs(engine, ws)[1] == {auth_service.SCENARIO_PASSWORD_HASH_COST}


def test_a_password_a_person_sets_after_the_load_gets_the_configured_cost(
    client: TestClient, engine: Engine
) -> None:
    load_oak_street(client)
    mailbox = client.get(
        "/v1/sandbox/workspaces/ws_oak_street/mailbox?kind=invitation&to=edward.guro@example.com",
        headers=OPERATOR,
    )
    [invitation] = mailbox.json()["data"]

    accepted = client.post(
        f"/v1/resident/invites/{invitation['data']['invite_code']}/accept",
        json={"password": "guro-chose-this"},
    )

    assert accepted.status_code in (200, 201), accepted.text
    with Session(engine) as session:
        stored = session.scalars(
            select(col(Resident.password_hash)).where(
                col(Resident.workspace_id) == "ws_oak_street",
                col(Resident.email) == "edward.guro@example.com",
            )
        ).one()
    assert stored is not None
    assert cost_of(stored) == CONFIGURED


def test_a_configured_cost_below_the_scenario_cost_wins() -> None:
    auth_service.set_password_hash_cost(4)

    with auth_service.scenario_passwords():
        assert cost_of(auth_service.hash_password("pw")) == 4


class TestUnitsInOneStatement:
    """A property's units are written in one statement (issue 19): the same IDs as one by one
    (``test_golden_ids.py``), and the same refusals, for the first unit that breaks a rule."""

    def test_a_name_twice_in_a_property_is_refused(self, client: TestClient) -> None:
        doc = json.loads(OAK_STREET.read_text())
        units = doc["properties"][0]["units"]
        units.append({"key": "again", "name": units[1]["name"], "external_id": "2199"})

        response = client.post("/v1/sandbox/scenarios", json=doc, headers=OPERATOR)

        assert response.status_code == 409, response.text
        body = response.json()
        assert body["code"] == "unit_name_taken"
        assert f"already has a unit named {units[1]['name']!r}" in body["detail"]
        assert (
            client.get("/v1/sandbox/workspaces/ws_oak_street", headers=OPERATOR).status_code == 404
        )

    def test_an_external_id_twice_in_the_workspace_is_refused(self, client: TestClient) -> None:
        doc = json.loads(OAK_STREET.read_text())
        first = doc["properties"][0]["units"][0]
        doc["properties"][1]["units"].append(
            {"key": "clash", "name": "Clash", "external_id": first["external_id"]}
        )

        response = client.post("/v1/sandbox/scenarios", json=doc, headers=OPERATOR)

        assert response.status_code == 409, response.text
        body = response.json()
        assert body["code"] == "unit_external_id_taken"
        assert f"External ID {first['external_id']!r} already belongs to unit" in body["detail"]
        assert f"({first['name']!r} of property" in body["detail"]
