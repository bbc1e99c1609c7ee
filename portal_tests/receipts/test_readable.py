"""Which batches a client may read, and how its receipts name the place (issue 18 item 9:
mutating the receipts' SQL status filter and a branch of the place label survived the suite).

- Only a batch whose cut-off has passed is a receipt batch: ``closed`` and ``deposited`` are
  listed and load; an ``open`` batch (still filling) is on no list and every read of it is 404,
  on the fast reads and on the marks alike (``receipts.service._POSTABLE``).
- A receipt's description is ``<resident> for <place>``, the place as ``place_label`` words it:
  the street with the unit, the street once when the unit names it or is named by it.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from portal_tests.factories import World, bearer, make_integration, make_token
from portal_tests.payments.helpers import ROUTING, Payer, add_bank, make_payer, pay
from portal_tests.reversals.helpers import MONDAY, et, integrated_payer, move, relogin

BATCHES = "/v1/integration/receipt-batches"
TUESDAY = "2026-07-07"


def _auth(client: TestClient, world: World) -> dict[str, str]:
    integration = make_integration(client, world)
    return bearer(make_token(client, world, integration["id"])["token"])


def _status(client: TestClient, world: World, batch_id: str) -> str:
    response = client.get(f"/v1/deposit-batches/{batch_id}", headers=world.landlord)
    assert response.status_code == 200, response.text
    status: str = response.json()["status"]
    return status


class TestOnlyBatchesPastTheirCutOffAreRead:
    @pytest.mark.smoke
    def test_closed_and_deposited_are_read_open_is_not(self, client: TestClient) -> None:
        world, payer = integrated_payer(client, settings={"payments_per_resident_per_day": 9})
        auth = _auth(client, world)
        source = add_bank(client, payer)["id"]
        # Monday's batch: deposited on Tuesday. Tuesday's: closed at 19:45, deposited on
        # Wednesday. A payment after Tuesday's cut-off: Wednesday's batch, open.
        move(client, world, payer, et(MONDAY, "14:00:00"))
        monday = pay(client, payer, source)["deposit_batch_id"]
        move(client, world, payer, et(TUESDAY, "14:00:00"))
        tuesday = pay(client, payer, source, "500.00")["deposit_batch_id"]
        move(client, world, payer, et(TUESDAY, "20:00:00"))
        wednesday = pay(client, payer, source, "250.00")["deposit_batch_id"]
        statuses = {b: _status(client, world, b) for b in (monday, tuesday, wednesday)}
        assert statuses == {monday: "deposited", tuesday: "closed", wednesday: "open"}

        listed = client.get(BATCHES, headers=auth)
        assert listed.status_code == 200, listed.text
        assert [b["id"] for b in listed.json()["data"]] == [monday, tuesday]
        for batch_id in (monday, tuesday):
            for path in ("", "/lockbox"):
                read = client.get(f"{BATCHES}/{batch_id}{path}", headers=auth)
                assert read.status_code == 200, (batch_id, path, read.text)
        for path, send in (
            ("", client.get),
            ("/lockbox", client.get),
            ("/processed", client.post),
            ("/unprocessed", client.post),
        ):
            refused = send(f"{BATCHES}/{wednesday}{path}", headers=auth)
            assert refused.status_code == 404, (path, refused.text)
            assert refused.json()["code"] == "receipt_batch_not_found"
        history = client.get(BATCHES, params={"state": "processed"}, headers=auth)
        assert history.json()["data"] == []


STREET = "2118 Oak Street"
#: A unit's name -> the place its receipt names.
UNITS = {
    "#8": "2118 Oak Street #8",  # neither names the other: the street, then the unit
    "2118": "2118 Oak Street",  # the street names the unit: the street once
    "2118 oak street  Apt 3": "2118 oak street  Apt 3",  # the unit names the street: the unit
    "1": "2118 Oak Street 1",  # named as a whole word only: "2118" does not name unit 1
    "Apt 1": "2118 Oak Street Apt 1",
}


class TestTheReceiptNamesThePlace:
    def _unit(self, client: TestClient, world: World, prop_id: str, name: str) -> dict[str, Any]:
        response = client.post(
            f"/v1/properties/{prop_id}/units", json={"name": name}, headers=world.landlord
        )
        assert response.status_code == 201, response.text
        unit: dict[str, Any] = response.json()
        return unit

    def test_each_branch_of_the_place_label(self, client: TestClient) -> None:
        world, first = integrated_payer(client, settings={"payments_per_resident_per_day": 9})
        auth = _auth(client, world)
        prop = client.post(
            "/v1/properties",
            json={"name": "Oak by hand", "address": {"street": STREET}},
            headers=world.landlord,
        )
        assert prop.status_code == 201, prop.text
        prop_id = prop.json()["id"]
        account = client.post(
            "/v1/deposit-accounts",
            json={
                "type": "rent",
                "account_number": "5556667770",
                "routing_number": ROUTING,
                "property_ids": [prop_id],
            },
            headers=world.landlord,
        )
        assert account.status_code == 201, account.text
        payers: dict[str, tuple[str, Payer]] = {}
        for n, unit_name in enumerate(UNITS):
            unit = self._unit(client, world, prop_id, unit_name)
            name = f"Resident {n}"
            email = f"r{n}@example.com"
            payers[email] = (
                unit_name,
                make_payer(client, world, unit=unit, email=email, name=name),
            )
        move(client, world, first, et(MONDAY, "14:00:00"))
        for email, (_, payer) in payers.items():
            relogin(client, world, payer, email)
            pay(client, payer, add_bank(client, payer)["id"])
        move(client, world, first, et(MONDAY, "20:00:00"))

        [batch] = [
            b
            for b in client.get(BATCHES, headers=auth).json()["data"]
            if b["item_count"] == len(UNITS)
        ]
        receipts = client.get(f"{BATCHES}/{batch['id']}", headers=auth).json()["receipts"]

        assert sorted(r["description"] for r in receipts) == sorted(
            f"Resident {n} for {place}" for n, place in enumerate(UNITS.values())
        )
