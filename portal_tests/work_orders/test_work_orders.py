"""Work orders (issue 8; seed 004 §E; domain.md §8.4): residents report them, landlords move
them through the transition table, the accounting client retrieves them read-only with
``maintenance_coordination``, and paging never skips or repeats a change."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from portal_tests.factories import World, bearer, make_integration, make_token
from portal_tests.payments.helpers import Payer
from portal_tests.residents.helpers import mailbox
from portal_tests.reversals.helpers import EMAIL, et, integrated_payer, move


def report(client: TestClient, payer: Payer, **body: Any) -> dict[str, Any]:
    response = client.post(
        "/v1/resident/work-orders",
        json={"description": "The kitchen tap leaks", "priority": "High", **body},
        headers=payer.auth,
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def patch(client: TestClient, world: World, wo_id: str, **body: Any) -> Any:
    return client.patch(f"/v1/work-orders/{wo_id}", json=body, headers=world.landlord)


def feed(client: TestClient, auth: dict[str, str], **params: Any) -> Any:
    response = client.get("/v1/integration/work-orders", params=params, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def setup(client: TestClient) -> tuple[World, Payer, dict[str, str]]:
    world, payer = integrated_payer(client)
    integration = make_integration(client, world, features=["maintenance_coordination"])
    return world, payer, bearer(make_token(client, world, integration["id"])["token"])


class TestReporting:
    @pytest.mark.smoke
    def test_a_resident_reports_for_their_unit_and_the_landlord_is_told(
        self, client: TestClient, setup: tuple[World, Payer, dict[str, str]]
    ) -> None:
        world, payer, _auth = setup

        wo = report(client, payer)

        assert (wo["status"], wo["status_label"], wo["priority"]) == (
            "unassigned",
            "Unassigned",
            "High",
        )
        assert (wo["unit_id"], wo["resident_id"], wo["created_by"]) == (
            payer.unit_id,
            payer.resident_id,
            "resident",
        )
        assert wo["external_id"] == "101001"
        assert wo["browse_url"].endswith(f"/v1/work-orders/{wo['id']}")
        assert wo["reported_by"] == "Anthony Kmetz"
        [mail] = mailbox(client, world, kind="work_order_created")
        assert mail["to"] == world.email
        mine = client.get("/v1/resident/work-orders", headers=payer.auth).json()["data"]
        assert [w["id"] for w in mine] == [wo["id"]]

    @pytest.mark.smoke
    def test_a_landlord_creates_one_with_its_details(
        self, client: TestClient, setup: tuple[World, Payer, dict[str, str]]
    ) -> None:
        world, payer, _auth = setup

        response = client.post(
            "/v1/work-orders",
            json={
                "unit_id": payer.unit_id,
                "description": "Carpet has reached its age and is ripping.",
                "priority": "Low",
                "resident_id": payer.resident_id,
                "notification": "Notify Oscar The Grouch at 11234567898",
                "vendor": "Victor Garcia",
                "estimate": "120.50",
            },
            headers=world.landlord,
        )

        assert response.status_code == 201, response.text
        wo = response.json()
        assert (wo["priority"], wo["vendor"], wo["estimate"], wo["lease_id"]) == (
            "Low",
            "Victor Garcia",
            "120.50",
            payer.lease_id,
        )

    def test_unknown_priority_and_missing_place_are_422(
        self, client: TestClient, setup: tuple[World, Payer, dict[str, str]]
    ) -> None:
        world, payer, _auth = setup
        bad = client.post(
            "/v1/resident/work-orders",
            json={"description": "x", "priority": "Urgent"},
            headers=payer.auth,
        )
        assert bad.status_code == 422
        nowhere = client.post("/v1/work-orders", json={"description": "x"}, headers=world.landlord)
        assert nowhere.status_code == 422


class TestLifecycle:
    @pytest.mark.smoke
    def test_each_change_stamps_last_modified_and_the_history(
        self, client: TestClient, setup: tuple[World, Payer, dict[str, str]]
    ) -> None:
        world, payer, _auth = setup
        wo = report(client, payer)
        move(client, world, payer, et("2026-07-07", "09:00:00"))

        for status in ("vendor_notified", "in_progress", "completed", "invoiced"):
            response = patch(client, world, wo["id"], status=status)
            assert response.status_code == 200, response.text
        done = response.json()

        assert done["status_label"] == "Invoiced"
        assert done["last_modified"] == et("2026-07-07", "09:00:00")
        assert (done["vendor_notified_on"], done["work_started_on"], done["work_completed_on"]) == (
            "2026-07-07",
            "2026-07-07",
            "2026-07-07",
        )
        assert [h["kind"] for h in done["history"]] == ["created"] + ["changed"] * 4
        assert done["history"][-1]["changes"] == {"status": {"from": "completed", "to": "invoiced"}}
        assert len(mailbox(client, world, kind="work_order_status")) == 4
        assert {m["to"] for m in mailbox(client, world, kind="work_order_status")} == {EMAIL}

    @pytest.mark.parametrize(
        ("path", "refused"),
        [
            ([], "invoiced"),
            (["in_progress", "completed", "invoiced"], "in_progress"),
            (["cancelled"], "unassigned"),
        ],
    )
    def test_moves_outside_the_table_are_409(
        self,
        client: TestClient,
        setup: tuple[World, Payer, dict[str, str]],
        path: list[str],
        refused: str,
    ) -> None:
        world, payer, _auth = setup
        wo = report(client, payer)
        for status in path:
            assert patch(client, world, wo["id"], status=status).status_code == 200

        response = patch(client, world, wo["id"], status=refused)

        assert response.status_code == 409
        assert response.json()["code"] == "invalid_transition"

    @pytest.mark.parametrize("field", ["status", "priority", "description"])
    def test_a_null_keeps_what_every_work_order_has(
        self, client: TestClient, setup: tuple[World, Payer, dict[str, str]], field: str
    ) -> None:
        # Was a 409 `conflict` from the database's NOT NULL (found by test_schemathesis.py).
        world, payer, _auth = setup
        wo = report(client, payer)

        response = patch(client, world, wo["id"], **{field: None, "vendor": "Lawn Doctor"})

        assert response.status_code == 200, response.text
        assert response.json()[field] == wo[field]
        assert response.json()["vendor"] == "Lawn Doctor"

    def test_on_hold_and_back(
        self, client: TestClient, setup: tuple[World, Payer, dict[str, str]]
    ) -> None:
        world, payer, _auth = setup
        wo = report(client, payer)

        assert patch(client, world, wo["id"], status="on_hold").json()["status_label"] == "On Hold"
        assert patch(client, world, wo["id"], status="vendor_notified").status_code == 200

    def test_an_unchanged_patch_records_nothing(
        self, client: TestClient, setup: tuple[World, Payer, dict[str, str]]
    ) -> None:
        world, payer, _auth = setup
        wo = report(client, payer)

        same = patch(client, world, wo["id"], priority="High").json()

        assert len(same["history"]) == 1
        assert same["last_modified"] == wo["last_modified"]


class TestTheFeed:
    def test_retrieve_then_re_retrieve_with_modified_since(
        self, client: TestClient, setup: tuple[World, Payer, dict[str, str]]
    ) -> None:
        world, payer, auth = setup
        first = report(client, payer)
        other = report(client, payer, description="The porch light is out", priority="Low")

        retrieved = feed(client, auth)["data"]
        assert [w["id"] for w in retrieved] == [first["id"], other["id"]]
        item = retrieved[0]
        assert (item["external_status"], item["site"]["id"], item["site"]["name"]) == (
            "Unassigned",
            "2118",
            "2118 Oak Street",
        )
        assert item["tenant"] == {
            "id": "t0005",
            "name": "Anthony Kmetz",
            "resident_id": payer.resident_id,
        }
        last_seen = max(w["last_modified"] for w in retrieved)

        move(client, world, payer, et("2026-07-07", "09:00:00"))
        for status in ("in_progress", "completed"):
            patch(client, world, first["id"], status=status)

        again = feed(client, auth, modified_since=last_seen)["data"]
        assert [(w["id"], w["status"], w["external_status"]) for w in again] == [
            (first["id"], "completed", "Completed")
        ]
        assert again[0]["last_modified"] > last_seen

    @pytest.mark.parametrize(
        "since",
        # No offset (was a 500: a naive instant reached the UTC column), and a number
        # (was read as a Unix timestamp).
        ["2026-07-01T00:00:00", "0.5"],
    )
    def test_modified_since_must_be_an_rfc_3339_instant(
        self, client: TestClient, setup: tuple[World, Payer, dict[str, str]], since: str
    ) -> None:
        _world, _payer, auth = setup

        response = client.get(
            "/v1/integration/work-orders", params={"modified_since": since}, headers=auth
        )

        assert response.status_code == 422, response.text
        assert response.json()["code"] == "invalid_datetime"
        assert response.json()["errors"][0]["field"] == "query.modified_since"

    def test_without_the_feature_it_is_403(
        self, client: TestClient, setup: tuple[World, Payer, dict[str, str]]
    ) -> None:
        world, _payer, _auth = setup
        plain = make_integration(client, world, name="no features")
        auth = bearer(make_token(client, world, plain["id"])["token"])

        response = client.get("/v1/integration/work-orders", headers=auth)

        assert response.status_code == 403
        assert response.json()["code"] == "feature_not_enabled"

    @pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
    def test_the_feed_is_read_only(
        self, client: TestClient, setup: tuple[World, Payer, dict[str, str]], method: str
    ) -> None:
        _world, payer, auth = setup
        wo = report(client, payer)

        for path in ("/v1/integration/work-orders", f"/v1/integration/work-orders/{wo['id']}"):
            response = client.request(method, path, json={"status": "completed"}, headers=auth)
            assert response.status_code in (404, 405), (method, path)
        assert (
            client.request(method, "/v1/integration/work-orders", headers=auth).status_code == 405
        )
        # The landlord routes do not take an integration token either.
        assert (
            patch(client, World("", "", "", "", {}), wo["id"], status="completed").status_code
            == 401
        )
        refused = client.patch(
            f"/v1/work-orders/{wo['id']}", json={"status": "completed"}, headers=auth
        )
        assert refused.status_code == 401

    def test_paging_while_work_orders_change_sees_each_change_once(
        self, client: TestClient, setup: tuple[World, Payer, dict[str, str]]
    ) -> None:
        world, payer, auth = setup
        ids = [report(client, payer, description=f"Problem {n}")["id"] for n in range(6)]
        seen: list[tuple[str, str]] = []
        cursor = None
        changed = 0
        while True:
            page = feed(client, auth, limit=2, **({"cursor": cursor} if cursor else {}))
            seen += [(w["id"], w["status"]) for w in page["data"]]
            cursor = page["next_cursor"]
            if changed < 2:
                # Between pages: one not yet seen and one already seen change.
                patch(client, world, ids[4 + changed], status="vendor_notified")
                patch(client, world, ids[changed], status="on_hold")
                changed += 1
            if cursor is None:
                break

        # Each work order once per change: 6 creations and 4 changes.
        assert len(seen) == len(set(seen)) == 10 - 2
        assert seen.count((ids[4], "unassigned")) == 0
        assert (ids[4], "vendor_notified") in seen
        assert (ids[0], "unassigned") in seen
        assert (ids[0], "on_hold") in seen
        assert [i for i, _ in seen].count(ids[2]) == 1

    def test_another_workspaces_work_orders_never_show(
        self, client: TestClient, setup: tuple[World, Payer, dict[str, str]]
    ) -> None:
        _world, payer, _auth = setup
        wo = report(client, payer)
        other, _ = integrated_payer(client)
        integration = make_integration(client, other, features=["maintenance_coordination"])
        auth = bearer(make_token(client, other, integration["id"])["token"])

        assert feed(client, auth)["data"] == []
        assert client.get(f"/v1/work-orders/{wo['id']}", headers=other.landlord).status_code == 404
