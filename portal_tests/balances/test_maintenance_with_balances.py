"""The processing option "Send Maintenance Information with Balances" (seed 004 "Processing
Options"; issue 15 item 5): while it is on, balance intake keeps each line's maintenance
information (the tenant's Notification of seed 004 §E's work-order screen) and a work order for
that tenant starts with it; while it is off, the information is ignored, never refused."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from portal_tests.balances.test_router import Client12, accept, connect, line, problem, send, sent
from portal_tests.factories import OPERATOR, bearer
from portal_tests.residents.helpers import mailbox

OSCAR = "Notify Oscar The Grouch at 11234567898"
ON = {"send_maintenance_with_balances": True}


def with_notification(resident_id: str, notification: str | None = OSCAR) -> dict[str, Any]:
    return line(resident_id, maintenance={"notification": notification})


def resident_of(client: TestClient, c12: Client12, name: str) -> dict[str, Any]:
    response = client.get("/v1/residents", params={"limit": 200}, headers=c12.world.landlord)
    assert response.status_code == 200, response.text
    [found] = [r for r in response.json()["data"] if r["name"] == name]
    return found


def landlord_work_order(client: TestClient, c12: Client12, resident_id: str, **body: Any) -> Any:
    """A landlord enters a work order on the tenant's unit, naming the tenant."""
    person = resident_of(client, c12, f"Resident {resident_id}")
    response = client.post(
        "/v1/work-orders",
        json={
            "unit_id": person["unit_id"],
            "resident_id": person["id"],
            "description": "The furnace is out",
            **body,
        },
        headers=c12.world.landlord,
    )
    assert response.status_code == 201, response.text
    return response.json()


def notification_of(client: TestClient, c12: Client12, resident_id: str) -> str | None:
    notification: str | None = landlord_work_order(client, c12, resident_id)["notification"]
    return notification


class TestOptionOn:
    def test_a_tenants_work_order_starts_with_the_notification_sent(
        self, client: TestClient
    ) -> None:
        c12 = connect(client, processing_options=ON)
        sent(client, c12, [with_notification("t0001"), line("t0002")])

        assert notification_of(client, c12, "t0001") == OSCAR
        assert notification_of(client, c12, "t0002") is None

    def test_the_resident_reporting_it_gets_it_too(self, client: TestClient) -> None:
        c12 = connect(client, processing_options=ON)
        sent(client, c12, [with_notification("t0001")])
        [invitation] = mailbox(client, c12.world, kind="invitation")
        token = accept(client, invitation["data"]["invite_code"])["access_token"]

        response = client.post(
            "/v1/resident/work-orders",
            json={"description": "The kitchen tap leaks"},
            headers=bearer(token),
        )

        assert response.status_code == 201, response.text
        assert response.json()["notification"] == OSCAR

    def test_a_notification_the_landlord_gives_wins(self, client: TestClient) -> None:
        c12 = connect(client, processing_options=ON)
        sent(client, c12, [with_notification("t0001")])

        wo = landlord_work_order(client, c12, "t0001", notification="Call the office first")

        assert wo["notification"] == "Call the office first"

    def test_each_call_replaces_it_and_absent_residents_keep_theirs(
        self, client: TestClient
    ) -> None:
        c12 = connect(client, processing_options=ON)
        sent(client, c12, [with_notification("t0001"), with_notification("t0002")])

        # t0001 now without maintenance information, t0003 with a new one, t0002 not sent.
        sent(client, c12, [line("t0001"), with_notification("t0003", "Notify Big Bird")])

        assert notification_of(client, c12, "t0001") is None
        assert notification_of(client, c12, "t0002") == OSCAR
        assert notification_of(client, c12, "t0003") == "Notify Big Bird"

    def test_a_changed_notification_replaces_the_old_one(self, client: TestClient) -> None:
        c12 = connect(client, processing_options=ON)
        sent(client, c12, [with_notification("t0001")])

        sent(client, c12, [with_notification("t0001", "  Notify Elmo at 5550100  ")])

        assert notification_of(client, c12, "t0001") == "Notify Elmo at 5550100"

    def test_an_empty_notification_is_none(self, client: TestClient) -> None:
        c12 = connect(client, processing_options=ON)

        sent(client, c12, [with_notification("t0001", "   ")])

        assert notification_of(client, c12, "t0001") is None

    def test_a_notification_over_500_characters_is_refused_with_its_field(
        self, client: TestClient
    ) -> None:
        c12 = connect(client, processing_options=ON)

        response = send(client, c12, [line("t0001"), with_notification("t0002", "x" * 501)])

        body = problem(response, 422, "validation_failed")
        fields = [e["field"] for e in body["errors"]]
        assert fields == ["$.residents[1].maintenance.notification"]


class TestOptionOff:
    def test_the_information_is_ignored_and_the_balances_taken(self, client: TestClient) -> None:
        c12 = connect(client)

        result = sent(client, c12, [with_notification("t0001")])

        assert result["created"] == 1
        assert notification_of(client, c12, "t0001") is None

    def test_turning_it_off_keeps_what_was_received(self, client: TestClient) -> None:
        c12 = connect(client, processing_options=ON)
        sent(client, c12, [with_notification("t0001")])
        off = client.patch(
            f"/v1/integrations/{c12.integration['id']}",
            json={"processing_options": {"send_maintenance_with_balances": False}},
            headers=c12.world.landlord,
        )
        assert off.status_code == 200, off.text

        # While off the client sends none; what it sent before still stands.
        sent(client, c12, [line("t0001")])

        assert notification_of(client, c12, "t0001") == OSCAR

    def test_turning_it_on_with_a_patch_takes_the_next_call(self, client: TestClient) -> None:
        c12 = connect(client)
        sent(client, c12, [with_notification("t0001")])
        on = client.patch(
            f"/v1/integrations/{c12.integration['id']}",
            json={"processing_options": ON},
            headers=c12.world.landlord,
        )
        assert on.status_code == 200, on.text

        sent(client, c12, [with_notification("t0001")])

        assert notification_of(client, c12, "t0001") == OSCAR


class TestScenarioPath:
    def test_a_scenarios_balances_call_keeps_it_as_the_api_does(self, client: TestClient) -> None:
        c12 = connect(client)
        loaded = client.post(
            f"/v1/sandbox/workspaces/{c12.world.workspace_id}/scenario",
            json={
                "scenario": "maintenance with balances",
                "integrations": [
                    {
                        "key": "l12",
                        "name": "Landlord 12",
                        "kind": "landlord12",
                        "processing_options": ON,
                    },
                    {"key": "off", "name": "Without the option", "kind": "landlord12"},
                ],
                "balances": [
                    {
                        "integration": "l12",
                        "bank_account": {"account_number": "00037029011"},
                        "residents": [with_notification("t0001")],
                    },
                    {
                        "integration": "off",
                        "bank_account": {"account_number": "00037029011"},
                        "residents": [with_notification("t0002")],
                    },
                ],
            },
            headers=OPERATOR,
        )
        assert loaded.status_code == 200, loaded.text

        assert notification_of(client, c12, "t0001") == OSCAR
        assert notification_of(client, c12, "t0002") is None
