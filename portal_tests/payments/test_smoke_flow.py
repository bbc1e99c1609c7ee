"""The money path end to end: pay, batch, cut-off, settlement."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from portal_tests.factories import make_world
from portal_tests.payments.helpers import add_bank, batch, make_payer, pay, set_clock


@pytest.mark.smoke
def test_monday_payment_is_deposited_tuesday(client: TestClient) -> None:
    # Monday 2026-07-06, 14:00 New York.
    world = make_world(client, clock={"now": "2026-07-06T18:00:00Z"})
    payer = make_payer(client, world)
    source = add_bank(client, payer)

    payment = pay(client, payer, source["id"])

    assert payment["status"] == "processing"
    assert payment["business_date"] == "2026-07-06"
    assert payment["deposit_date"] == "2026-07-07"
    assert len(payment["transaction_id"]) == 12
    opened = batch(client, world, payment["deposit_batch_id"])
    assert (opened["status"], opened["total"], opened["item_count"]) == ("open", "980.00", 1)
    assert len(opened["id"]) == 16
    assert opened["id"].isdigit()

    ran = set_clock(client, world, "2026-07-07T12:00:00Z")

    names = [j["name"] for j in ran["jobs"]]
    assert names.index("payments.cutoff") < names.index("payments.settlement")
    deposited = batch(client, world, payment["deposit_batch_id"])
    assert deposited["status"] == "deposited"
    assert [i["status"] for i in deposited["items"]] == ["completed"]
