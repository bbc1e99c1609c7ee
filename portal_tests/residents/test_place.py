"""A pending resident's property and unit, corrected by the landlord before approval (seed S3:
"Review the property information and make sure the correct address and unit are specified";
domain.md §2.3; issue 15 item 3)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from portal_tests.factories import World, make_world
from portal_tests.residents.helpers import invite, make_unit, signup
from portal_tests.residents.test_lifecycle import problem

MANUAL = {"mode": "manual", "rent": "900.00", "lease_start": "2026-08-01"}


def patch(client: TestClient, world: World, resident_id: str, **body: Any) -> Any:
    return client.patch(f"/v1/residents/{resident_id}", json=body, headers=world.landlord)


def second_unit(client: TestClient, world: World, property_id: str, name: str) -> dict[str, Any]:
    response = client.post(
        f"/v1/properties/{property_id}/units", json={"name": name}, headers=world.landlord
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


class TestCompleteTheUnit:
    def test_a_sign_up_without_a_unit_is_completed_then_approved(self, client: TestClient) -> None:
        world = make_world(client)
        unit = make_unit(client, world)
        rid = signup(client, unit["property_id"], None)["resident_id"]

        stuck = problem(
            client.post(f"/v1/residents/{rid}/approve", json=MANUAL, headers=world.landlord),
            409,
            "unit_missing",
        )
        assert stuck["fix"] == {
            "method": "PATCH",
            "path": f"/v1/residents/{rid}",
            "body": {"unit_id": "<unit ID>"},
        }
        assert f"PATCH /v1/residents/{rid}" in stuck["detail"]
        assert stuck["units"] == f"/v1/properties/{unit['property_id']}/units"

        patched = patch(client, world, rid, unit_id=unit["id"])
        assert patched.status_code == 200, patched.text
        assert (patched.json()["property_id"], patched.json()["unit_id"]) == (
            unit["property_id"],
            unit["id"],
        )
        approved = client.post(f"/v1/residents/{rid}/approve", json=MANUAL, headers=world.landlord)
        assert approved.status_code == 200, approved.text
        lease_id = approved.json()["lease_ids"][0]
        lease = client.get(f"/v1/leases/{lease_id}", headers=world.landlord).json()
        assert lease["unit_id"] == unit["id"]

    def test_the_property_and_unit_are_corrected_together(self, client: TestClient) -> None:
        world = make_world(client)
        unit = make_unit(client, world)
        other = make_unit(client, world, prop_external="ELM", unit_external="7", unit_name="7")
        rid = signup(client, unit["property_id"], unit["id"])["resident_id"]
        patched = patch(client, world, rid, property_id=other["property_id"], unit_id=other["id"])
        assert patched.status_code == 200, patched.text
        assert (patched.json()["property_id"], patched.json()["unit_id"]) == (
            other["property_id"],
            other["id"],
        )
        # Only the property: the unit of the old property cannot stay.
        moved = patch(client, world, rid, property_id=unit["property_id"])
        assert (moved.json()["property_id"], moved.json()["unit_id"]) == (
            unit["property_id"],
            None,
        )


class TestValidation:
    def test_the_unit_must_belong_to_the_property(self, client: TestClient) -> None:
        world = make_world(client)
        unit = make_unit(client, world)
        other = make_unit(client, world, prop_external="ELM", unit_external="7", unit_name="7")
        rid = signup(client, unit["property_id"], None)["resident_id"]
        body = problem(
            patch(client, world, rid, property_id=unit["property_id"], unit_id=other["id"]),
            404,
            "unit_not_found",
        )
        assert unit["property_id"] in body["detail"]

    def test_both_must_exist_in_the_workspace(self, client: TestClient) -> None:
        world = make_world(client)
        unit = make_unit(client, world)
        elsewhere = make_world(client, seed=99)
        foreign = make_unit(client, elsewhere, prop_external="FAR", unit_external="1")
        rid = signup(client, unit["property_id"], None)["resident_id"]
        problem(patch(client, world, rid, unit_id=foreign["id"]), 404, "unit_not_found")
        problem(patch(client, world, rid, property_id="prop_nope"), 404, "property_not_found")
        still = client.get(f"/v1/residents/{rid}", headers=world.landlord).json()
        assert (still["property_id"], still["unit_id"]) == (unit["property_id"], None)

    def test_only_before_approval(self, client: TestClient) -> None:
        world = make_world(client)
        unit = make_unit(client, world)
        rid = signup(client, unit["property_id"], unit["id"])["resident_id"]
        approved = client.post(f"/v1/residents/{rid}/approve", json=MANUAL, headers=world.landlord)
        assert approved.status_code == 200
        other = second_unit(client, world, unit["property_id"], "2120")
        body = problem(patch(client, world, rid, unit_id=other["id"]), 409, "address_not_editable")
        assert "approved" in body["detail"]


class TestWaiting:
    def test_a_waiting_resident_moves_with_their_lease(self, client: TestClient) -> None:
        world = make_world(client)
        unit = make_unit(client, world)
        waiting = invite(client, world, unit["id"], email=None)
        other = second_unit(client, world, unit["property_id"], "2120")
        patched = patch(client, world, waiting["id"], unit_id=other["id"])
        assert patched.status_code == 200, patched.text
        assert patched.json()["unit_id"] == other["id"]
        lease = client.get(f"/v1/leases/{waiting['lease_ids'][0]}", headers=world.landlord).json()
        assert lease["unit_id"] == other["id"]
        assert lease["history"][-1]["data"]["unit_id"] == {"from": unit["id"], "to": other["id"]}
