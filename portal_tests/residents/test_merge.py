"""The merge of seed S3 ("If this is the same user, then click on Yes to merge the lease details
from your accounting system to the resident you are approving"; domain.md §2.4, issue 15 item 1):
the conflict names the holder of the resident ID and offers the exact request that merges, the
merge retires the holder whatever its state, payments stay on the lease, and the offer and the
merge always agree."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from portal.core.errors import InvalidTransition
from portal.residents import service
from portal.residents.models import RESIDENT_MERGE_RETIREMENT, Resident, ResidentStatus
from portal_tests.factories import World, make_world
from portal_tests.payments.helpers import Payer, add_bank, make_payer, pay, set_clock
from portal_tests.residents.helpers import invite, load, mailbox, make_unit, signup
from portal_tests.residents.test_lifecycle import problem

HOLDER_EMAIL = "anthony@example.com"
NEWCOMER_EMAIL = "tony@example.com"
MANUAL = {"mode": "manual", "rent": "980.00", "lease_start": "2026-08-01"}


def approve(client: TestClient, world: World, resident_id: str, **body: Any) -> Any:
    return client.post(f"/v1/residents/{resident_id}/approve", json=body, headers=world.landlord)


def send(client: TestClient, world: World, offer: dict[str, Any]) -> Any:
    """Send the request a conflict offered, exactly as offered."""
    return client.request(
        offer["method"], offer["path"], json=offer["body"], headers=world.landlord
    )


def newcomer(client: TestClient, unit: dict[str, Any]) -> str:
    """The person the accounting system knows signs up on their own (seed S3: "This often
    happens if a roommate or significant other joins RentTrack instead")."""
    session = signup(
        client, unit["property_id"], unit["id"], name="Tony Kmetz", email=NEWCOMER_EMAIL
    )
    resident_id: str = session["resident_id"]
    return resident_id


def holder_in(client: TestClient, world: World, status: str) -> tuple[dict[str, Any], str]:
    """A resident holding lease ID t0001 in ``status``; returns (unit, holder ID)."""
    if status in ("approved", "current"):
        payer = make_payer(client, world, external_resident_id="t0001")
        if status == "current":
            pay(client, payer, add_bank(client, payer)["id"])
        unit = {"id": payer.unit_id, "property_id": payer.property_id}
        return unit, payer.resident_id
    unit = make_unit(client, world)
    email = HOLDER_EMAIL if status == "invite" else None
    held = invite(client, world, unit["id"], external_resident_id="t0001", email=email)
    assert held["status"] == status
    return unit, held["id"]


class TestConflictAndMerge:
    @pytest.mark.parametrize("status", ["waiting", "invite", "approved"])
    def test_manual_approval_names_the_holder_and_the_offered_merge_succeeds(
        self, client: TestClient, status: str
    ) -> None:
        world = make_world(client)
        unit, holder_id = holder_in(client, world, status)
        lease_id = client.get(f"/v1/residents/{holder_id}", headers=world.landlord).json()[
            "lease_ids"
        ][0]
        rid = newcomer(client, unit)

        conflict = approve(client, world, rid, **MANUAL, external_resident_id="t0001")

        body = problem(conflict, 409, "resident_id_taken")
        [named] = body["other_residents"]
        assert named["id"] == holder_id
        assert named["name"] == "Anthony Kmetz"
        assert named["status"] == status
        assert holder_id in body["detail"]
        assert body["merge"] == {
            "method": "POST",
            "path": f"/v1/residents/{rid}/approve",
            "body": {"mode": "merge", "merge_with": holder_id},
        }
        assert body["merge_refused"] is None
        merged = send(client, world, body["merge"])
        assert merged.status_code == 200, merged.text
        assert merged.json()["status"] == "approved"
        assert merged.json()["lease_ids"] == [lease_id]
        gone = problem(
            client.get(f"/v1/residents/{holder_id}", headers=world.landlord),
            404,
            "resident_not_found",
        )
        assert gone["merged_into"] == rid
        lease = client.get(f"/v1/leases/{lease_id}", headers=world.landlord).json()
        assert lease["resident_ids"] == [rid]
        assert lease["external_resident_id"] == "t0001"
        assert lease["history"][-1]["kind"] == "merged"
        assert lease["history"][-1]["data"]["from_resident"] == holder_id

    def test_mailbox_shows_what_each_person_was_told(self, client: TestClient) -> None:
        world = make_world(client)
        unit, holder_id = holder_in(client, world, "approved")
        rid = newcomer(client, unit)
        merged = approve(client, world, rid, mode="merge", merge_with=holder_id)
        assert merged.status_code == 200, merged.text
        [approved] = mailbox(client, world, to=NEWCOMER_EMAIL, kind="approved")
        assert "t0001" in approved["body"]
        assert approved["data"]["lease_ids"] == merged.json()["lease_ids"]
        [told] = mailbox(client, world, to=HOLDER_EMAIL, kind="merged")
        assert told["data"] == {
            "resident_id": holder_id,
            "merged_into": rid,
            "lease_ids": merged.json()["lease_ids"],
        }
        assert "login for this record no longer works" in told["body"]
        assert NEWCOMER_EMAIL in told["body"]
        # The retired holder can no longer log in.
        login = client.post(
            "/v1/resident/login",
            json={"email": HOLDER_EMAIL, "password": "s3cret-pass"},
        )
        assert login.status_code == 401

    @pytest.mark.smoke
    def test_sync_approval_offers_the_merge_of_an_approved_holder(self, client: TestClient) -> None:
        world = make_world(client)
        unit, holder_id = holder_in(client, world, "approved")
        load(
            client,
            world,
            {
                "accounting_records": [
                    {
                        "resident_id": "t0001",
                        "property_id": "OAK",
                        "unit_id": "2118",
                        "name": "Tony Kmetz",
                        "email": NEWCOMER_EMAIL,
                        "rent": "980.00",
                        "balance": "0.00",
                        "lease_start": "2026-01-01",
                        "payment_accepted": "allowed",
                    }
                ]
            },
        )
        rid = newcomer(client, unit)
        body = problem(approve(client, world, rid, mode="sync"), 409, "resident_id_taken")
        assert body["other_residents"][0]["status"] == "approved"
        assert body["merge"]["body"] == {"mode": "merge", "merge_with": holder_id}
        merged = send(client, world, body["merge"])
        assert merged.status_code == 200, merged.text
        assert merged.json()["status"] == "approved"


class TestAfterManualApproval:
    def test_mapping_a_taken_id_offers_a_merge_that_is_not_refused(
        self, client: TestClient
    ) -> None:
        # Seed S3 notes: approve manually, then "click 'edit' to add their resident ID"; it is
        # taken, "click on Yes to merge". Approving again would be resident_not_pending.
        world = make_world(client)
        unit, holder_id = holder_in(client, world, "invite")
        rid = newcomer(client, unit)
        approved = approve(client, world, rid, **MANUAL)
        assert approved.status_code == 200, approved.text
        own_lease = approved.json()["lease_ids"][0]

        conflict = client.patch(
            f"/v1/leases/{own_lease}",
            json={"external_resident_id": "t0001"},
            headers=world.landlord,
        )

        body = problem(conflict, 409, "resident_id_taken")
        assert body["merge"] == {
            "method": "POST",
            "path": f"/v1/residents/{rid}/merge",
            "body": {"merge_with": holder_id},
        }
        merged = send(client, world, body["merge"])
        assert merged.status_code == 200, merged.text
        assert merged.json()["status"] == "approved"
        holder_lease = body["other_lease_id"]
        assert sorted(merged.json()["lease_ids"]) == sorted([own_lease, holder_lease])
        [told] = mailbox(client, world, to=NEWCOMER_EMAIL, kind="lease_merged")
        assert "t0001" in told["body"]
        [retired] = mailbox(client, world, to=HOLDER_EMAIL, kind="merged")
        assert "invitation sent for this record no longer works" in retired["body"]


class TestPaymentsOfTheHolder:
    def setup_paid_holder(self, client: TestClient) -> tuple[World, Payer, dict[str, Any]]:
        world = make_world(client)
        payer = make_payer(client, world, external_resident_id="t0001")
        payment = pay(client, payer, add_bank(client, payer)["id"])
        return world, payer, payment

    def test_a_completed_payment_stays_on_the_lease_and_the_new_resident_sees_it(
        self, client: TestClient
    ) -> None:
        world, payer, payment = self.setup_paid_holder(client)
        set_clock(client, world, f"{payment['deposit_date']}T16:00:00Z")
        assert (
            client.get(f"/v1/payments/{payment['id']}", headers=world.landlord).json()["status"]
            == "completed"
        )
        unit = {"id": payer.unit_id, "property_id": payer.property_id}
        session = signup(client, unit["property_id"], unit["id"], email=NEWCOMER_EMAIL)
        rid = session["resident_id"]
        body = problem(
            approve(client, world, rid, **MANUAL, external_resident_id="t0001"),
            409,
            "resident_id_taken",
        )
        assert body["other_residents"][0]["status"] == "current"
        merged = send(client, world, body["merge"])
        assert merged.status_code == 200, merged.text
        # The lease is paid through the portal already (domain.md §2.2 CURRENT).
        assert merged.json()["status"] == "current"
        lease = client.get(f"/v1/leases/{payer.lease_id}", headers=world.landlord).json()
        [repointed] = lease["history"][-1]["data"]["payments_repointed"]
        assert repointed["payment_id"] == payment["id"]
        assert (repointed["from_payer"], repointed["to_payer"]) == (payer.resident_id, rid)
        listed = client.get(
            "/v1/payments", params={"lease_id": payer.lease_id}, headers=world.landlord
        ).json()["data"]
        assert [(p["id"], p["amount"], p["status"]) for p in listed] == [
            (payment["id"], "980.00", "completed")
        ]
        login = client.post(
            "/v1/resident/login", json={"email": NEWCOMER_EMAIL, "password": "jamie-password"}
        )
        mine = client.get(
            "/v1/resident/payments",
            headers={"Authorization": f"Bearer {login.json()['access_token']}"},
        )
        assert [p["id"] for p in mine.json()["data"]] == [payment["id"]]

    def test_a_payment_in_flight_is_refused_alike_in_the_offer_and_the_merge(
        self, client: TestClient
    ) -> None:
        world, payer, payment = self.setup_paid_holder(client)
        rid = signup(client, payer.property_id, payer.unit_id, email=NEWCOMER_EMAIL)["resident_id"]
        body = problem(
            approve(client, world, rid, **MANUAL, external_resident_id="t0001"),
            409,
            "resident_id_taken",
        )
        assert body["merge"] is None
        assert payment["transaction_id"] in body["merge_refused"]
        assert "still processing" in body["merge_refused"]
        assert f"/v1/payments/{payment['id']}/void" in body["merge_refused"]
        refused = problem(
            approve(client, world, rid, mode="merge", merge_with=payer.resident_id),
            409,
            "merge_not_possible",
        )
        assert refused["detail"] == body["merge_refused"]
        assert client.get(f"/v1/residents/{payer.resident_id}", headers=world.landlord).json()[
            "status"
        ] in ("approved", "current")

    def test_an_active_autopay_is_refused_with_what_to_do(self, client: TestClient) -> None:
        world = make_world(client)
        payer = make_payer(client, world, external_resident_id="t0001")
        source = add_bank(client, payer)
        schedule = client.post(
            "/v1/resident/recurring-payments",
            json={
                "lease_id": payer.lease_id,
                "payment_source_id": source["id"],
                "amount": "980.00",
                "type": "rent",
                "day_of_month": 5,
            },
            headers=payer.auth,
        )
        assert schedule.status_code == 201, schedule.text
        rid = signup(client, payer.property_id, payer.unit_id, email=NEWCOMER_EMAIL)["resident_id"]
        refused = problem(
            approve(client, world, rid, mode="merge", merge_with=payer.resident_id),
            409,
            "merge_not_possible",
        )
        assert schedule.json()["id"] in refused["detail"]
        assert "ask Anthony Kmetz to stop it" in refused["detail"]


class TestRetirementPath:
    NOW = datetime(2026, 7, 2, 14, 0, tzinfo=UTC)

    @pytest.mark.parametrize("status", list(ResidentStatus))
    def test_a_merge_retires_from_every_live_status_but_pending_and_finished(
        self, status: ResidentStatus
    ) -> None:
        resident = Resident(
            workspace_id="ws",
            id="res_x",
            name="X",
            status=status,
            status_changed_at=self.NOW,
            created_at=self.NOW,
        )
        if status in RESIDENT_MERGE_RETIREMENT:
            service.set_status(resident, ResidentStatus.DELETED, self.NOW, merged_into="res_y")
            assert (resident.status, resident.merged_into) == (ResidentStatus.DELETED, "res_y")
        else:
            with pytest.raises(InvalidTransition):
                service.set_status(resident, ResidentStatus.DELETED, self.NOW, merged_into="res_y")
            assert resident.merged_into is None

    def test_the_red_x_still_cannot_delete_an_approved_resident(self) -> None:
        resident = Resident(
            workspace_id="ws",
            id="res_x",
            name="X",
            status=ResidentStatus.APPROVED,
            status_changed_at=self.NOW,
            created_at=self.NOW,
        )
        with pytest.raises(InvalidTransition):
            service.set_status(resident, ResidentStatus.DELETED, self.NOW)
