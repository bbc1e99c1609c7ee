"""The import review over the API (issue 16): Sync Now for the landlord and the operator, the
runs' list and each run; erred rows with their reasons; a run that could not read the eSite is
``failed``, applies nothing and is the integration's last error (connectors.md §1.4, §3.2)."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi.testclient import TestClient

from portal_tests.connectors.conftest import Amsi, connection
from portal_tests.connectors.test_amsi_import import BASE, counts, get, portal_leases, sync
from portal_tests.factories import OPERATOR, make_integration, make_world
from portal_tests.reference.server import ThreadedReferenceServer
from portal_tests.residents.helpers import mailbox


def sync_response(
    client: TestClient, amsi: Amsi, integration_id: str | None = None
) -> httpx.Response:
    return client.post(
        f"/v1/integrations/{integration_id or amsi.id}/sync", headers=amsi.world.landlord
    )


def set_connection(
    client: TestClient, amsi: Amsi, esite: ThreadedReferenceServer, **changes: Any
) -> None:
    body = connection(esite, **changes)
    response = client.patch(
        f"/v1/integrations/{amsi.id}", json={"connection": body}, headers=amsi.world.landlord
    )
    assert response.status_code == 200, response.text


def nothing_imported(client: TestClient, amsi: Amsi) -> None:
    assert get(client, amsi, "/v1/properties")["data"] == []
    assert get(client, amsi, "/v1/residents")["data"] == []
    assert mailbox(client, amsi.world) == []


class TestErredRows:
    def test_a_lease_without_its_unit_errs_and_the_others_are_imported(
        self, client: TestClient, amsi: Amsi, ref: httpx.Client
    ) -> None:
        units = ref.get(f"{BASE}/units").json()["data"]
        kept = [u["attributes"] for u in units if u["unit_id"] != "202"]
        assert ref.put(f"{BASE}/units", json={"units": kept}).status_code == 200

        run = sync(client, amsi)

        assert run["status"] == "completed"
        assert counts(run) == (3, 0, 0, 1)
        [error] = run["errors"]
        assert {k: error[k] for k in ("property_id", "bldg_id", "unit_id", "resi_id")} == {
            "property_id": "001",
            "bldg_id": "02",
            "unit_id": "202",
            "resi_id": "13",
        }
        assert error["reason"] == (
            "PropertyId 001, BldgID 02, UnitID 202, ResiID 13: the unit is not in the "
            "GetPropertyUnits answer; the lease is skipped"
        )
        assert ("001|02|202", "13") not in portal_leases(client, amsi)
        assert "robin@example.com" not in {m["to"] for m in mailbox(client, amsi.world)}
        # Erred every time, never imported by accident: the review says so again.
        again = sync(client, amsi)
        assert counts(again) == (0, 0, 3, 1)
        assert again["errors"] == run["errors"]

    def test_bad_rows_err_each_with_its_reason(
        self, client: TestClient, amsi: Amsi, ref: httpx.Client
    ) -> None:
        good = {"OccuFirstName": "Good", "OccuLastName": "Row", "ResponsibleFlag": "Responsible"}

        def lease(
            unit: str, resi: str, occupants: list[dict[str, str]], **attrs: str
        ) -> dict[str, Any]:
            return {"BldgID": "01", "UnitID": unit, "ResiID": resi, "occupants": occupants, **attrs}

        leases = [
            lease("101", "1", [good]),
            lease("101", "2", []),
            lease("101", "001-01-101-3", [good]),
            lease("102", "4", [good], leasebegindate="2015-10-01"),
            lease("102", "5", [good], ActualMoveOutDate="2026-06-30T00:00:00"),
            lease("102", "6", [{"OccuFirstName": "Bad", "Email": "bad@"}]),
        ]
        assert ref.put(f"{BASE}/residents", json={"leases": leases}).status_code == 200

        run = sync(client, amsi)

        assert counts(run) == (1, 0, 0, 5)
        reasons = {e["resi_id"]: e["reason"].split(": ", 1)[1] for e in run["errors"]}
        assert reasons == {
            "2": "the lease has no Occupant (each occupant is a resident, §1.9)",
            "001-01-101-3": (
                "'001-01-101-3' looks like AMSI's full Property-Building-Unit-ResiID string; "
                "send only the trailing ResiID segment ('3')."
            ),
            "4": "Lease[4]@leasebegindate '2015-10-01' is not a m/d/Y date",
            "5": "moved out on 2026-06-30 (ActualMoveOutDate)",
            "6": "Occupant[1]@Email 'bad@' is not an e-mail address",
        }
        assert list(portal_leases(client, amsi)) == [("001|01|101", "1")]


class TestFailedRun:
    def test_esite_down_fails_the_run_applies_nothing_and_is_the_last_error(
        self, client: TestClient, amsi: Amsi, ref: httpx.Client
    ) -> None:
        assert ref.post("/_ref/faults", json={"kind": "downtime"}).status_code == 201

        run = sync(client, amsi)

        assert run["status"] == "failed"
        assert counts(run) == (0, 0, 0, 0)
        [error] = run["errors"]
        assert error["property_id"] == "001"
        assert error["resi_id"] is None
        assert "503" in error["reason"]
        nothing_imported(client, amsi)
        last = get(client, amsi, f"/v1/integrations/{amsi.id}")["last_error"]
        assert last["code"] == "amsi_import_failed"
        assert last["import_run_id"] == run["id"]
        assert last["errors"] == run["errors"]
        # Back up: the next run imports, the failed one stays in the review.
        assert ref.delete("/_ref/faults").status_code == 204
        assert counts(sync(client, amsi)) == (4, 0, 0, 0)
        runs = get(client, amsi, f"/v1/integrations/{amsi.id}/imports")["data"]
        assert [r["status"] for r in runs] == ["completed", "failed"]

    def test_an_esite_nobody_answers_at_fails_the_run(
        self, client: TestClient, amsi: Amsi, esite: ThreadedReferenceServer
    ) -> None:
        set_connection(client, amsi, esite, url="http://127.0.0.1:9/esite")

        run = sync(client, amsi)

        assert run["status"] == "failed"
        assert "could not be read" in run["errors"][0]["reason"]
        nothing_imported(client, amsi)

    def test_a_refused_property_fails_the_whole_run(
        self, client: TestClient, amsi: Amsi, esite: ThreadedReferenceServer
    ) -> None:
        set_connection(client, amsi, esite, property_ids=["001", "999"])

        run = sync(client, amsi)

        # Property 001 was read, but a run applies all or nothing.
        assert run["status"] == "failed"
        assert run["errors"] == [
            {
                "property_id": "999",
                "bldg_id": None,
                "unit_id": None,
                "resi_id": None,
                "reason": (
                    "GetPropertyUnits: eSite refused the call: 10 Unit not found: no property '999'"
                ),
            }
        ]
        assert run["properties"] == [{"property_id": "001", "units": 6, "leases": 4}]
        nothing_imported(client, amsi)

    def test_a_wrong_password_fails_the_run(
        self, client: TestClient, amsi: Amsi, esite: ThreadedReferenceServer
    ) -> None:
        set_connection(client, amsi, esite, password="wrong")

        run = sync(client, amsi)

        assert run["status"] == "failed"
        assert (
            run["errors"][0]["reason"]
            == "GetPropertyUnits: eSite refused the call: 1 Invalid login"
        )

    def test_no_leases_is_an_empty_property_not_a_failure(
        self, client: TestClient, amsi: Amsi, ref: httpx.Client
    ) -> None:
        assert ref.put(f"{BASE}/residents", json={"leases": []}).status_code == 200

        run = sync(client, amsi)

        # eSite's "No data" is an empty list (§1.4).
        assert run["status"] == "completed"
        assert counts(run) == (0, 0, 0, 0)
        assert run["properties"] == [{"property_id": "001", "units": 6, "leases": 0}]
        nothing_imported(client, amsi)


class TestSyncRoutes:
    def test_another_workspaces_integration_is_404(self, client: TestClient, amsi: Amsi) -> None:
        other = make_world(client)

        response = client.post(f"/v1/integrations/{amsi.id}/sync", headers=other.landlord)

        assert response.status_code == 404
        assert response.json()["code"] == "integration_not_found"
        assert sync_response(client, amsi, "int_nope").status_code == 404

    def test_an_integration_that_calls_in_is_not_synced(
        self, client: TestClient, amsi: Amsi
    ) -> None:
        landlord12 = make_integration(client, amsi.world)

        response = sync_response(client, amsi, landlord12["id"])

        assert response.status_code == 409
        assert response.json()["code"] == "integration_not_importable"

    def test_an_amsi_integration_without_a_connection_is_not_synced(
        self, client: TestClient, amsi: Amsi
    ) -> None:
        bare = make_integration(client, amsi.world, name="eSite 2", kind="amsi")

        response = sync_response(client, amsi, bare["id"])

        assert response.status_code == 409
        body = response.json()
        assert body["code"] == "integration_not_connected"
        assert body["missing"] == ["connection", "password", "property_ids"]

    def test_the_operator_syncs_a_workspaces_integration(
        self, client: TestClient, amsi: Amsi
    ) -> None:
        path = f"/v1/sandbox/workspaces/{amsi.world.workspace_id}/integrations/{amsi.id}/sync"

        assert client.post(path).status_code == 401
        response = client.post(path, headers=OPERATOR)

        assert response.status_code == 200, response.text
        assert counts(response.json()) == (4, 0, 0, 0)
        other = make_world(client)
        elsewhere = f"/v1/sandbox/workspaces/{other.workspace_id}/integrations/{amsi.id}/sync"
        assert client.post(elsewhere, headers=OPERATOR).status_code == 404

    def test_an_idempotency_key_replays_the_run(self, client: TestClient, amsi: Amsi) -> None:
        first = sync(client, amsi, **{"Idempotency-Key": "sync-1"})
        replay = client.post(
            f"/v1/integrations/{amsi.id}/sync",
            headers={**amsi.world.landlord, "Idempotency-Key": "sync-1"},
        )

        assert replay.status_code == 200
        assert replay.headers["Idempotent-Replayed"] == "true"
        assert replay.json() == first
        assert len(get(client, amsi, f"/v1/integrations/{amsi.id}/imports")["data"]) == 1


class TestImportReview:
    def test_runs_are_listed_newest_first_a_page_at_a_time(
        self, client: TestClient, amsi: Amsi
    ) -> None:
        first, second = sync(client, amsi), sync(client, amsi)
        path = f"/v1/integrations/{amsi.id}/imports"

        page = get(client, amsi, path, limit="1")
        rest = get(client, amsi, path, limit="1", cursor=page["next_cursor"])

        assert [r["id"] for r in page["data"]] == [second["id"]]
        assert rest["data"] == [first]
        assert rest["next_cursor"] is None
        assert get(client, amsi, f"{path}/{first['id']}") == first

    def test_a_run_is_found_only_under_its_integration(
        self, client: TestClient, amsi: Amsi
    ) -> None:
        run = sync(client, amsi)
        other = make_integration(client, amsi.world, name="eSite 2", kind="amsi")

        for path in (
            f"/v1/integrations/{other['id']}/imports/{run['id']}",
            f"/v1/integrations/{amsi.id}/imports/imp_nope",
        ):
            response = client.get(path, headers=amsi.world.landlord)
            assert response.status_code == 404, path
            assert response.json()["code"] == "import_run_not_found"
        assert get(client, amsi, f"/v1/integrations/{other['id']}/imports")["data"] == []
        stranger = make_world(client)
        response = client.get(f"/v1/integrations/{amsi.id}/imports", headers=stranger.landlord)
        assert response.status_code == 404
