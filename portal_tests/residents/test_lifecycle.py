"""The resident lifecycle of seed S3 end to end over HTTP (domain.md §2; issue 3 acceptance)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from portal_tests.factories import (
    World,
    advance,
    bearer,
    login,
    make_integration,
    make_world,
)
from portal_tests.residents.helpers import (
    invite,
    load,
    mailbox,
    make_unit,
    resident,
    signup,
)

PROBLEM = "application/problem+json"


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


class TestInviteAndAccept:
    @pytest.mark.smoke
    def test_invite_accept_approved_and_the_resident_sees_the_lease(
        self, client: TestClient
    ) -> None:
        world = make_world(client)
        unit = make_unit(client, world)
        invited = invite(client, world, unit["id"], phone="555-0100")
        assert invited["status"] == "invite"
        assert len(invited["lease_ids"]) == 1
        [mail] = mailbox(client, world, kind="invitation")
        assert mail["to"] == "anthony@example.com"
        assert mail["subject"] == "Your property manager is inviting you to pay online"
        code = mail["data"]["invite_code"]
        accepted = client.post(
            f"/v1/resident/invites/{code}/accept", json={"password": "s3cret-pass"}
        )
        assert accepted.status_code == 200, accepted.text
        session = accepted.json()
        assert session["resident_id"] == invited["id"]
        assert session["status"] == "approved"
        assert resident(client, world, invited["id"])["status"] == "approved"
        leases = client.get("/v1/resident/leases", headers=bearer(session["access_token"]))
        assert leases.status_code == 200
        [lease] = leases.json()["data"]
        assert lease["id"] == invited["lease_ids"][0]
        assert lease["rent"] == "980.00"
        assert lease["unit_id"] == unit["id"]
        again = client.post(f"/v1/resident/invites/{code}/accept", json={"password": "s3cret-pass"})
        problem(again, 409, "invite_already_accepted")
        login = client.post(
            "/v1/resident/login", json={"email": "Anthony@Example.com", "password": "s3cret-pass"}
        )
        assert login.status_code == 200
        assert login.json()["resident_id"] == invited["id"]

    def test_unknown_invite_code_is_404(self, client: TestClient) -> None:
        response = client.post("/v1/resident/invites/nope/accept", json={"password": "12345678"})
        problem(response, 404, "invite_not_found")

    def test_waiting_resident_is_invited_when_an_email_is_added(self, client: TestClient) -> None:
        world = make_world(client)
        unit = make_unit(client, world)
        waiting = invite(client, world, unit["id"], email=None)
        assert waiting["status"] == "waiting"
        assert mailbox(client, world) == []
        patched = client.patch(
            f"/v1/residents/{waiting['id']}",
            json={"email": "late@example.com"},
            headers=world.landlord,
        )
        assert patched.status_code == 200, patched.text
        assert patched.json()["status"] == "invite"
        [mail] = mailbox(client, world, kind="invitation")
        assert mail["to"] == "late@example.com"
        assert mail["data"]["resident_id"] == waiting["id"]
        assert mail["data"]["invite_code"]

    def test_resident_session_expires_on_the_workspace_clock(self, client: TestClient) -> None:
        world = make_world(client)
        unit = make_unit(client, world)
        invite(client, world, unit["id"])
        code = mailbox(client, world, kind="invitation")[0]["data"]["invite_code"]
        token = client.post(
            f"/v1/resident/invites/{code}/accept", json={"password": "s3cret-pass"}
        ).json()["access_token"]
        assert client.get("/v1/resident/leases", headers=bearer(token)).status_code == 200
        problem(client.get("/v1/integrations", headers=bearer(token)), 401, "token_invalid")
        advance(client, world.workspace_id, by="PT2H")
        problem(client.get("/v1/resident/leases", headers=bearer(token)), 401, "token_expired")


class TestSignupAndApproval:
    def setup_world(self, client: TestClient) -> tuple[World, dict[str, Any]]:
        world = make_world(client)
        unit = make_unit(client, world)
        return world, unit

    @pytest.mark.smoke
    def test_signup_is_pending_and_the_landlord_is_notified(self, client: TestClient) -> None:
        world, unit = self.setup_world(client)
        session = signup(client, unit["property_id"], unit["id"])
        assert session["status"] == "pending"
        [notice] = mailbox(client, world, kind="pending_approval")
        assert notice["to"] == world.email
        assert notice["data"]["resident_id"] == session["resident_id"]
        pending = client.get("/v1/residents", params={"status": "pending"}, headers=world.landlord)
        assert [r["id"] for r in pending.json()["data"]] == [session["resident_id"]]

    @pytest.mark.smoke
    def test_approve_manually_creates_the_lease_and_tells_the_resident(
        self, client: TestClient
    ) -> None:
        world, unit = self.setup_world(client)
        pending = signup(client, unit["property_id"], unit["id"])
        response = client.post(
            f"/v1/residents/{pending['resident_id']}/approve",
            json={
                "mode": "manual",
                "rent": "1200.00",
                "lease_start": "2026-08-01",
                "external_resident_id": "t0042",
            },
            headers=world.landlord,
        )
        assert response.status_code == 200, response.text
        approved = response.json()
        assert approved["status"] == "approved"
        lease = client.get(f"/v1/leases/{approved['lease_ids'][0]}", headers=world.landlord).json()
        assert lease["rent"] == "1200.00"
        assert lease["external_resident_id"] == "t0042"
        assert lease["end_date"] is None  # month-to-month
        [mail] = mailbox(client, world, kind="approved")
        assert mail["to"] == "jamie@example.com"
        again = client.post(
            f"/v1/residents/{pending['resident_id']}/approve",
            json={"mode": "manual", "rent": "1200.00", "lease_start": "2026-08-01"},
            headers=world.landlord,
        )
        problem(again, 409, "resident_not_pending")

    def test_signup_matching_an_invited_resident_is_approved_at_once(
        self, client: TestClient
    ) -> None:
        world, unit = self.setup_world(client)
        invited = invite(client, world, unit["id"], email="jamie@example.com")
        session = signup(client, unit["property_id"], unit["id"], email="JAMIE@example.com")
        assert session["resident_id"] == invited["id"]
        assert session["status"] == "approved"
        assert mailbox(client, world, kind="pending_approval") == []

    def test_approve_by_merge_keeps_one_resident_with_the_accounting_lease(
        self, client: TestClient
    ) -> None:
        world, unit = self.setup_world(client)
        # The accounting system knows Anthony (t0001); his roommate signs up instead.
        known = invite(
            client,
            world,
            unit["id"],
            external_resident_id="t0001",
            email=None,
            name="Anthony Kmetz",
        )
        pending = signup(
            client, unit["property_id"], unit["id"], name="Anthony K.", email="tony@example.com"
        )
        rid = pending["resident_id"]
        # Mapping the same resident ID is refused, naming the other resident, offering a merge.
        manual = client.post(
            f"/v1/residents/{rid}/approve",
            json={
                "mode": "manual",
                "rent": "980.00",
                "lease_start": "2026-08-01",
                "external_resident_id": "t0001",
            },
            headers=world.landlord,
        )
        body = problem(manual, 409, "resident_id_taken")
        assert "Anthony Kmetz" in body["detail"]
        assert body["merge_with"] == known["id"]
        merged = client.post(
            f"/v1/residents/{rid}/approve",
            json={"mode": "merge", "merge_with": body["merge_with"]},
            headers=world.landlord,
        )
        assert merged.status_code == 200, merged.text
        assert merged.json()["status"] == "approved"
        assert merged.json()["lease_ids"] == known["lease_ids"]
        gone = client.get(f"/v1/residents/{known['id']}", headers=world.landlord)
        gone_body = problem(gone, 404, "resident_not_found")
        assert rid in gone_body["detail"]
        assert gone_body["merged_into"] == rid
        lease = client.get(f"/v1/leases/{known['lease_ids'][0]}", headers=world.landlord).json()
        assert lease["resident_ids"] == [rid]
        assert lease["external_resident_id"] == "t0001"
        assert [e["kind"] for e in lease["history"]] == ["created", "merged"]
        listed = client.get("/v1/residents", headers=world.landlord).json()["data"]
        assert [r["id"] for r in listed] == [rid]

    def test_approve_by_sync_uses_the_accounting_record(self, client: TestClient) -> None:
        world, unit = self.setup_world(client)
        load(
            client,
            world,
            {
                "accounting_records": [
                    {
                        "resident_id": "t0077",
                        "property_id": "OAK",
                        "unit_id": "2118",
                        "name": "Jamie Roommate",
                        "email": "jamie@example.com",
                        "rent": "1100.00",
                        "balance": "250.00",
                        "lease_start": "2026-01-01",
                        "payment_accepted": "cash_equivalent",
                    }
                ]
            },
        )
        pending = signup(client, unit["property_id"], unit["id"])
        synced = client.post(
            f"/v1/residents/{pending['resident_id']}/approve",
            json={"mode": "sync"},
            headers=world.landlord,
        )
        assert synced.status_code == 200, synced.text
        lease = client.get(
            f"/v1/leases/{synced.json()['lease_ids'][0]}", headers=world.landlord
        ).json()
        assert lease["external_resident_id"] == "t0077"
        assert lease["rent"] == "1100.00"
        assert lease["balance"] == "250.00"
        assert lease["payments"] == "allowed"
        assert lease["accounting_payments"] == "cash_equivalent"
        assert lease["effective_payments"] == "cash_equivalent"

    def test_sync_without_a_matching_record_is_409(self, client: TestClient) -> None:
        world, unit = self.setup_world(client)
        pending = signup(client, unit["property_id"], unit["id"])
        response = client.post(
            f"/v1/residents/{pending['resident_id']}/approve",
            json={"mode": "sync"},
            headers=world.landlord,
        )
        problem(response, 409, "no_accounting_match")
        assert resident(client, world, pending["resident_id"])["status"] == "pending"

    def test_missing_unit_blocks_approval(self, client: TestClient) -> None:
        world, unit = self.setup_world(client)
        pending = signup(client, unit["property_id"], None)
        response = client.post(
            f"/v1/residents/{pending['resident_id']}/approve",
            json={"mode": "manual", "rent": "900.00", "lease_start": "2026-08-01"},
            headers=world.landlord,
        )
        body = problem(response, 409, "unit_missing")
        assert "unit" in body["detail"]


class TestDeleteAndEnd:
    def test_delete_pending_stops_reminders(self, client: TestClient) -> None:
        world = make_world(client)
        unit = make_unit(client, world)
        pending = signup(client, unit["property_id"], unit["id"])
        assert (
            client.delete(
                f"/v1/residents/{pending['resident_id']}", headers=world.landlord
            ).status_code
            == 204
        )
        problem(
            client.get(f"/v1/residents/{pending['resident_id']}", headers=world.landlord),
            404,
            "resident_not_found",
        )
        advance(client, world.workspace_id, banking_days=3)
        assert mailbox(client, world, kind="pending_reminder") == []
        assert [m["kind"] for m in mailbox(client, world, to="jamie@example.com")] == ["deleted"]

    def test_approved_resident_cannot_be_deleted(self, client: TestClient) -> None:
        world = make_world(client)
        unit = make_unit(client, world)
        invited = invite(client, world, unit["id"])
        code = mailbox(client, world, kind="invitation")[0]["data"]["invite_code"]
        client.post(f"/v1/resident/invites/{code}/accept", json={"password": "s3cret-pass"})
        response = client.delete(f"/v1/residents/{invited['id']}", headers=world.landlord)
        body = problem(response, 409, "resident_not_deletable")
        assert "End their lease" in body["detail"]

    def test_end_lease_finishes_and_cannot_be_reopened(self, client: TestClient) -> None:
        world = make_world(client)
        unit = make_unit(client, world)
        invited = invite(client, world, unit["id"])
        lease_id = invited["lease_ids"][0]
        ended = client.post(
            f"/v1/leases/{lease_id}/end",
            json={"uncollected_balance": "150.00"},
            headers=world.landlord,
        )
        assert ended.status_code == 200, ended.text
        assert ended.json()["status"] == "finished"
        assert ended.json()["uncollected_balance"] == "150.00"
        assert resident(client, world, invited["id"])["status"] == "finished"
        problem(
            client.post(f"/v1/leases/{lease_id}/end", headers=world.landlord), 409, "lease_finished"
        )
        problem(
            client.patch(
                f"/v1/leases/{lease_id}", json={"payments": "allowed"}, headers=world.landlord
            ),
            409,
            "lease_finished",
        )


class TestReminders:
    def test_one_reminder_each_banking_day_until_approved(self, client: TestClient) -> None:
        # Thu 2026-07-02 10:00 ET; reminders at 09:00 ET on banking days.
        world = make_world(client)
        unit = make_unit(client, world)
        pending = signup(client, unit["property_id"], unit["id"])
        run = advance(client, world.workspace_id, to="2026-07-07T14:00:00Z")  # Tue 10:00 ET
        reminders = mailbox(client, world, kind="pending_reminder")
        # Fri 07-03 and Mon 07-06 and Tue 07-07 (Sat 07-04 holiday and Sun are not banking days).
        assert [m["sent_at"] for m in reminders] == [
            "2026-07-03T13:00:00Z",
            "2026-07-06T13:00:00Z",
            "2026-07-07T13:00:00Z",
        ]
        assert all(m["to"] == world.email for m in reminders)
        assert [j["name"] for j in run["jobs"]].count("residents.pending_reminders") == 3
        world.landlord_token = login(client, world.email, world.password)  # session expired
        approved = client.post(
            f"/v1/residents/{pending['resident_id']}/approve",
            json={"mode": "manual", "rent": "900.00", "lease_start": "2026-08-01"},
            headers=world.landlord,
        )
        assert approved.status_code == 200, approved.text
        advance(client, world.workspace_id, banking_days=2)
        assert len(mailbox(client, world, kind="pending_reminder")) == 3


class TestResidentIdMapping:
    def test_conflict_names_the_other_resident(self, client: TestClient) -> None:
        world = make_world(client)
        unit = make_unit(client, world)
        invite(client, world, unit["id"], external_resident_id="t0001")
        other_unit = client.post(
            f"/v1/properties/{unit['property_id']}/units",
            json={"name": "2120"},
            headers=world.landlord,
        ).json()
        second = invite(client, world, other_unit["id"], name="Bea Lee", email="bea@example.com")
        response = client.patch(
            f"/v1/leases/{second['lease_ids'][0]}",
            json={"external_resident_id": "t0001"},
            headers=world.landlord,
        )
        body = problem(response, 409, "resident_id_taken")
        assert "Anthony Kmetz" in body["detail"]
        assert "anthony@example.com" in body["detail"]

    def test_amsi_full_id_is_refused_with_the_part_to_send(self, client: TestClient) -> None:
        world = make_world(client)
        make_integration(client, world, kind="amsi", name="AMSI eSite")
        unit = make_unit(client, world)
        invited = invite(client, world, unit["id"])
        response = client.patch(
            f"/v1/leases/{invited['lease_ids'][0]}",
            json={"external_resident_id": "001-A-101-4431"},
            headers=world.landlord,
        )
        body = problem(response, 422, "invalid_external_resident_id")
        assert "'4431'" in body["detail"]
        ok = client.patch(
            f"/v1/leases/{invited['lease_ids'][0]}",
            json={"external_resident_id": "4431"},
            headers=world.landlord,
        )
        assert ok.status_code == 200
        assert ok.json()["external_resident_id"] == "4431"

    def test_lease_edits_are_kept_in_history(self, client: TestClient) -> None:
        world = make_world(client)
        unit = make_unit(client, world)
        invited = invite(client, world, unit["id"])
        lease_id = invited["lease_ids"][0]
        response = client.patch(
            f"/v1/leases/{lease_id}",
            json={"balance": "45.50", "payments": "blocked", "pay_full_balance_only": True},
            headers=world.landlord,
        )
        lease = response.json()
        assert lease["balance"] == "45.50"
        assert lease["effective_payments"] == "blocked"
        changed = lease["history"][-1]
        assert changed["kind"] == "changed"
        assert changed["data"]["balance_cents"] == {"from": 0, "to": 4550}
        assert changed["data"]["payments"] == {"from": "allowed", "to": "blocked"}
