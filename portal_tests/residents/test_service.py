"""Residents rules checked at the service level, and the workspace disambiguation of the
residents' public routes."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from portal.core.errors import InvalidTransition
from portal.residents import service
from portal.residents.models import RESIDENT_TRANSITIONS, Resident, ResidentStatus
from portal_tests.factories import make_world
from portal_tests.residents.helpers import invite, mailbox, make_unit, signup

NOW = datetime(2026, 7, 2, 14, 0, tzinfo=UTC)


def resident_in(status: ResidentStatus) -> Resident:
    return Resident(
        workspace_id="ws",
        id="res_x",
        name="X",
        status=status,
        status_changed_at=NOW,
        created_at=NOW,
    )


class TestTransitions:
    def test_every_status_has_a_row(self) -> None:
        assert set(RESIDENT_TRANSITIONS) == set(ResidentStatus)

    @pytest.mark.parametrize("current", list(ResidentStatus))
    @pytest.mark.parametrize("target", list(ResidentStatus))
    def test_only_listed_transitions_happen(
        self, current: ResidentStatus, target: ResidentStatus
    ) -> None:
        resident = resident_in(current)
        if target in RESIDENT_TRANSITIONS[current]:
            service.set_status(resident, target, NOW)
            assert resident.status is target
        else:
            with pytest.raises(InvalidTransition):
                service.set_status(resident, target, NOW)
            assert resident.status is current

    def test_finished_and_deleted_are_terminal(self) -> None:
        assert RESIDENT_TRANSITIONS[ResidentStatus.FINISHED] == frozenset()
        assert RESIDENT_TRANSITIONS[ResidentStatus.DELETED] == frozenset()


class TestDeleteAfterPayment:
    def test_a_resident_who_paid_cannot_be_deleted(
        self, client: TestClient, session: Session
    ) -> None:
        world = make_world(client)
        unit = make_unit(client, world)
        invited = invite(client, world, unit["id"])
        row = session.get(Resident, (world.workspace_id, invited["id"]))
        assert row is not None
        row.has_paid = True  # what the payments feature records on a first payment
        session.add(row)
        session.commit()
        response = client.delete(f"/v1/residents/{invited['id']}", headers=world.landlord)
        assert response.status_code == 409
        assert response.json()["code"] == "resident_not_deletable"
        assert "has paid" in response.json()["detail"]


class TestPublicRoutesAcrossWorkspaces:
    """Two workspaces with one seed share property IDs and may share a resident's login."""

    def test_signup_and_login_ask_for_the_workspace_when_ambiguous(
        self, client: TestClient
    ) -> None:
        a = make_world(client, seed=11)
        b = make_world(client, seed=11)
        unit_a = make_unit(client, a)
        unit_b = make_unit(client, b)
        assert unit_a["id"] == unit_b["id"]
        body = {
            "email": "sam@example.com",
            "password": "sam-password",
            "name": "Sam",
            "property_id": unit_a["property_id"],
            "unit_id": unit_a["id"],
        }
        ambiguous = client.post("/v1/resident/signup", json=body)
        assert ambiguous.status_code == 422
        assert ambiguous.json()["code"] == "workspace_required"
        in_a = signup(
            client,
            unit_a["property_id"],
            unit_a["id"],
            email="sam@example.com",
            password="sam-password",
            workspace_id=a.workspace_id,
        )
        in_b = signup(
            client,
            unit_b["property_id"],
            unit_b["id"],
            email="sam@example.com",
            password="sam-password",
            workspace_id=b.workspace_id,
        )
        assert in_a["workspace_id"] == a.workspace_id
        assert in_b["workspace_id"] == b.workspace_id
        login = {"email": "sam@example.com", "password": "sam-password"}
        both = client.post("/v1/resident/login", json=login)
        assert both.status_code == 422
        assert both.json()["code"] == "workspace_required"
        only_b = client.post("/v1/resident/login", json={**login, "workspace_id": b.workspace_id})
        assert only_b.status_code == 200
        assert only_b.json()["workspace_id"] == b.workspace_id
        # Each landlord was told about their own pending resident only.
        assert len(mailbox(client, a, kind="pending_approval")) == 1
        assert len(mailbox(client, b, kind="pending_approval")) == 1

    def test_wrong_password_and_unknown_email_look_the_same(self, client: TestClient) -> None:
        world = make_world(client)
        unit = make_unit(client, world)
        signup(client, unit["property_id"], unit["id"])
        wrong = client.post(
            "/v1/resident/login", json={"email": "jamie@example.com", "password": "nope-nope"}
        )
        unknown = client.post(
            "/v1/resident/login", json={"email": "nobody@example.com", "password": "nope-nope"}
        )
        assert wrong.status_code == unknown.status_code == 401
        assert wrong.json() == unknown.json()

    def test_a_second_signup_with_the_same_email_is_409(self, client: TestClient) -> None:
        world = make_world(client)
        unit = make_unit(client, world)
        signup(client, unit["property_id"], unit["id"])
        again = client.post(
            "/v1/resident/signup",
            json={
                "email": "jamie@example.com",
                "password": "another-pass",
                "name": "J",
                "property_id": unit["property_id"],
                "unit_id": unit["id"],
            },
        )
        assert again.status_code == 409
        assert again.json()["code"] == "email_taken"


class TestMailbox:
    def test_filters_and_pages_in_sending_order(self, client: TestClient) -> None:
        world = make_world(client)
        unit = make_unit(client, world)
        for n in range(3):
            invite(client, world, unit["id"], email=f"r{n}@example.com", name=f"R{n}")
        everything = mailbox(client, world)
        assert [m["to"] for m in everything] == [f"r{n}@example.com" for n in range(3)]
        assert [m["to"] for m in mailbox(client, world, to="R1@example.com")] == ["r1@example.com"]
        first = client.get(
            f"/v1/sandbox/workspaces/{world.workspace_id}/mailbox",
            params={"limit": "2"},
            headers={"Authorization": "Bearer test-operator-key"},
        ).json()
        rest = client.get(
            f"/v1/sandbox/workspaces/{world.workspace_id}/mailbox",
            params={"limit": "2", "cursor": first["next_cursor"]},
            headers={"Authorization": "Bearer test-operator-key"},
        ).json()
        assert [m["id"] for m in first["data"] + rest["data"]] == [m["id"] for m in everything]
        assert rest["next_cursor"] is None

    @pytest.mark.parametrize(
        # Digits this server never issued: beyond the 32-bit column (an overflow on PostgreSQL
        # from 2**31, on SQLite from 2**63), more than int() reads (4,300) and a Unicode digit
        # int() refuses; each was a 500.
        "seq",
        [str(2**31), str(2**63), "9" * 5000, "\u00b2"],
    )
    def test_a_cursor_past_any_sequence_is_invalid_cursor(
        self, client: TestClient, seq: str
    ) -> None:
        world = make_world(client)
        cursor = base64.urlsafe_b64encode(json.dumps(seq).encode()).decode()

        response = client.get(
            f"/v1/sandbox/workspaces/{world.workspace_id}/mailbox",
            params={"cursor": cursor},
            headers={"Authorization": "Bearer test-operator-key"},
        )

        assert response.status_code == 400, response.text
        assert response.json()["code"] == "invalid_cursor"

    @pytest.mark.parametrize("n", [0, -1, 2**31, 2**63])
    def test_an_attachment_number_out_of_range_is_422(self, client: TestClient, n: int) -> None:
        # Beyond the stored number's 32 bits it was a 500 (an overflow binding the parameter).
        world = make_world(client)
        unit = make_unit(client, world)
        invite(client, world, unit["id"])
        [mail] = mailbox(client, world)

        response = client.get(
            f"/v1/sandbox/workspaces/{world.workspace_id}/mailbox/{mail['id']}/attachments/{n}",
            headers={"Authorization": "Bearer test-operator-key"},
        )

        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "path.n"
