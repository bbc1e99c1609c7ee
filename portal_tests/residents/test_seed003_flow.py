"""Seed 003 ("Approving a pending resident") driven over HTTP as a landlord would, on a fresh
workspace (issue 15, acceptance 2): a resident signs up without a unit, the landlord sets the
unit, approval finds the lease ID held by an approved resident, the conflict names them, the
merge succeeds, and the approved resident sees the lease and pays it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from portal_tests.factories import bearer, make_world
from portal_tests.payments.helpers import ROUTING, make_payer
from portal_tests.residents.helpers import mailbox
from portal_tests.residents.test_lifecycle import problem


def test_seed_003_sign_up_set_unit_approve_merge_and_pay(client: TestClient) -> None:
    world = make_world(client)
    # The accounting system's resident (lease ID t0001) accepted an invitation: approved.
    known = make_payer(client, world, external_resident_id="t0001", rent="980.00")
    assert (
        client.get(f"/v1/residents/{known.resident_id}", headers=world.landlord).json()["status"]
        == "approved"
    )

    # Their partner signs up through the payment portal, picking the property but no unit.
    signed_up = client.post(
        "/v1/resident/signup",
        json={
            "email": "jamie@example.com",
            "password": "jamie-password",
            "name": "Jamie Kmetz",
            "property_id": known.property_id,
            "unit_id": None,
        },
    )
    assert signed_up.status_code == 201, signed_up.text
    rid = signed_up.json()["resident_id"]
    [notice] = mailbox(client, world, kind="pending_approval")
    assert notice["data"]["resident_id"] == rid

    # "Pending your review": the landlord opens the pending list and approves.
    pending = client.get("/v1/residents", params={"status": "pending"}, headers=world.landlord)
    assert [r["id"] for r in pending.json()["data"]] == [rid]
    approval = {
        "mode": "manual",
        "rent": "980.00",
        "lease_start": "2026-08-01",
        "external_resident_id": "t0001",
    }
    stuck = problem(
        client.post(f"/v1/residents/{rid}/approve", json=approval, headers=world.landlord),
        409,
        "unit_missing",
    )

    # "Make sure the correct address and unit are specified": the PATCH the refusal names.
    fix = stuck["fix"]
    fixed = client.request(
        fix["method"], fix["path"], json={"unit_id": known.unit_id}, headers=world.landlord
    )
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["unit_id"] == known.unit_id

    # The lease ID is already held: the message names the other user and offers the merge.
    taken = problem(
        client.post(f"/v1/residents/{rid}/approve", json=approval, headers=world.landlord),
        409,
        "resident_id_taken",
    )
    assert "Anthony Kmetz" in taken["detail"]
    assert taken["other_residents"] == [
        {
            "id": known.resident_id,
            "name": "Anthony Kmetz",
            "email": "anthony@example.com",
            "status": "approved",
        }
    ]
    offer = taken["merge"]
    assert offer["body"] == {"mode": "merge", "merge_with": known.resident_id}

    # "Yes": merge and approve.
    merged = client.request(
        offer["method"], offer["path"], json=offer["body"], headers=world.landlord
    )
    assert merged.status_code == 200, merged.text
    assert merged.json()["status"] == "approved"
    assert merged.json()["lease_ids"] == [known.lease_id]
    retired = problem(
        client.get(f"/v1/residents/{known.resident_id}", headers=world.landlord),
        404,
        "resident_not_found",
    )
    assert retired["merged_into"] == rid
    assert [m["kind"] for m in mailbox(client, world, to="jamie@example.com")] == ["approved"]
    assert [m["kind"] for m in mailbox(client, world, to="anthony@example.com")] == [
        "invitation",
        "merged",
    ]

    # The approved resident logs in, sees the accounting lease and pays it once.
    login = client.post(
        "/v1/resident/login", json={"email": "jamie@example.com", "password": "jamie-password"}
    )
    assert login.status_code == 200, login.text
    auth = bearer(login.json()["access_token"])
    [lease] = client.get("/v1/resident/leases", headers=auth).json()["data"]
    assert (lease["id"], lease["external_resident_id"], lease["rent"]) == (
        known.lease_id,
        "t0001",
        "980.00",
    )
    source = client.post(
        "/v1/resident/payment-sources",
        json={"type": "bank_account", "routing_number": ROUTING, "account_number": "000123456789"},
        headers=auth,
    )
    assert source.status_code == 201, source.text
    paid = client.post(
        "/v1/resident/payments",
        json={
            "lease_id": known.lease_id,
            "payment_source_id": source.json()["id"],
            "amount": "980.00",
            "type": "rent",
        },
        headers=auth,
    )
    assert paid.status_code == 201, paid.text
    assert paid.json()["status"] == "processing"
    assert paid.json()["lease_id"] == known.lease_id
    assert [p["id"] for p in client.get("/v1/resident/payments", headers=auth).json()["data"]] == [
        paid.json()["id"]
    ]
    [receipt] = mailbox(client, world, to="jamie@example.com", kind="payment_receipt")
    assert receipt["data"]["payment_id"] == paid.json()["id"]
