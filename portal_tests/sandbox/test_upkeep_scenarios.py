"""Scenarios with work orders and applications (issue 8): the shipped Inosio world reproduces
seed 004's Work Order History rows, its work order 101022 completed in the portal, and an
approved and a denied application; references and refusals are checked like the rest of the
format."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from portal_tests.factories import OPERATOR, bearer, make_workspace

WORLD = Path(__file__).resolve().parents[2] / "seed_data" / "work-orders-inosio.json"


def load(client: TestClient, doc: dict[str, Any]) -> Any:
    section = doc["workspace"]
    ws = make_workspace(client, seed=section["seed"], clock=section["clock"])
    return client.post(f"/v1/sandbox/workspaces/{ws['id']}/scenario", json=doc, headers=OPERATOR)


@pytest.fixture
def loaded(client: TestClient) -> dict[str, Any]:
    response = load(client, json.loads(WORLD.read_text()))
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def work_orders(client: TestClient, token: str) -> list[dict[str, Any]]:
    response = client.get(
        "/v1/integration/work-orders", params={"limit": 500}, headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


class TestTheShippedWorld:
    def test_retrieve_work_orders_gives_the_seeds_history_rows(
        self, client: TestClient, loaded: dict[str, Any]
    ) -> None:
        rows = work_orders(client, loaded["tokens"]["inosio"])

        by_date = sorted(
            (
                w["reported_on"],
                w["external_status"],
                w["priority"],
                w["name"] or "",
                w["site"]["name"],
                w["vendor"] or "",
                w["maintenance_type"] or "",
            )
            for w in rows
        )
        assert by_date == [
            (
                "2019-08-03",
                "Vendor Notified",
                "Normal",
                "212 Main - Tree",
                "212 Main Street",
                "Lawn Doctor",
                "",
            ),
            (
                "2019-08-10",
                "Invoiced",
                "Normal",
                "436 Fairway - Plumbing",
                "436 Fairway Drive",
                "Victor Garcia",
                "Plumbing",
            ),
            (
                "2019-08-15",
                "Unassigned",
                "Normal",
                "124 Walnut Road furnace",
                "124 Walnut Road",
                "Hero Electric",
                "",
            ),
            (
                "2019-09-30",
                "Unassigned",
                "Normal",
                "WB201",
                "Willow Brooke 201",
                "Victor Garcia",
                "",
            ),
            ("2023-05-30", "Completed", "Low", "", "Willow Brooke 201", "", ""),
            ("2023-05-30", "Unassigned", "Emergency", "", "Willow Brooke 201", "", ""),
            ("2023-05-30", "Unassigned", "High", "", "Willow Brooke 201", "", ""),
            ("2023-05-31", "Unassigned", "Normal", "", "Willow Brooke 201", "", ""),
        ]

    def test_work_order_101022_is_completed_as_of_6_23_2023(
        self, client: TestClient, loaded: dict[str, Any]
    ) -> None:
        [carpet] = [
            w
            for w in work_orders(client, loaded["tokens"]["inosio"])
            if w["external_id"] == "101022"
        ]

        assert carpet["description"].startswith("Carpet has reached its age and is ripping.")
        assert carpet["notification"] == "Notify Oscar The Grouch at 11234567898"
        assert (carpet["status"], carpet["external_status"]) == ("completed", "Completed")
        assert carpet["last_modified"] == "2023-06-23T15:30:00Z"
        assert (carpet["work_started_on"], carpet["work_completed_on"]) == (
            "2023-06-21",
            "2023-06-23",
        )
        [wb201] = [
            w for w in work_orders(client, loaded["tokens"]["inosio"]) if w["name"] == "WB201"
        ]
        assert wb201["tenant"]["name"] == "Thomas J. Stieffel"
        assert wb201["tenant"]["id"] == "STIEFFEL"
        assert wb201["site"]["id"] == "WB201"

    def test_retrieve_applicants_gives_the_approved_application_only(
        self, client: TestClient, loaded: dict[str, Any]
    ) -> None:
        response = client.get(
            "/v1/integration/applicants", headers=bearer(loaded["tokens"]["inosio"])
        )

        assert response.status_code == 200, response.text
        assert [(a["type"], a["name"]) for a in response.json()["data"]] == [
            ("Applicant", "Oscar Grouch"),
            ("Co-Applicant", "Grundgetta Grouch"),
        ]
        assert {a["application_id"] for a in response.json()["data"]} == {
            loaded["keys"]["grouch-application"]
        }


class TestTheFormat:
    def test_a_work_order_needs_a_known_unit_or_property(self, client: TestClient) -> None:
        doc = json.loads(WORLD.read_text())
        broken = copy.deepcopy(doc)
        broken["work_orders"][0]["unit"] = "nowhere"

        response = load(client, broken)

        assert response.status_code == 422
        assert "work_orders[0].unit" in response.text

    def test_a_refused_update_fails_the_load_naming_it(self, client: TestClient) -> None:
        doc = json.loads(WORLD.read_text())
        # Invoiced is final: reopening it is outside the transition table.
        doc["work_orders"][1]["updates"] = [{"at": "2023-06-01T14:00:00Z", "status": "in_progress"}]

        response = load(client, doc)

        assert response.status_code == 422, response.text
        body = response.json()
        assert body["code"] == "scenario_refused"
        assert body["errors"][0]["field"].startswith("$.work_orders[1].updates[0]")

    def test_a_denial_without_reasons_is_refused(self, client: TestClient) -> None:
        doc = json.loads(WORLD.read_text())
        doc["applications"][1]["reasons"] = []

        response = load(client, doc)

        assert response.status_code == 422
        assert response.json()["code"] == "scenario_refused"
        assert "$.applications" in response.text

    @pytest.mark.parametrize("section", ["work_orders", "applications"])
    def test_keys_follow_the_one_scenario_key_pattern(
        self, client: TestClient, section: str
    ) -> None:
        # "_" may open a key anywhere in the format (leases, residents...), so here too.
        doc = json.loads(WORLD.read_text())
        doc[section][0]["key"] = "_first"
        assert load(client, doc).status_code == 200

        doc = json.loads(WORLD.read_text())
        doc[section][0]["key"] = "has space"
        response = load(client, doc)
        assert response.status_code == 422
        assert f"{section}[0].key" in response.text
