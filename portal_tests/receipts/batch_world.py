"""One world whose batches hold every kind of item (issue 15: a batch's items have one read
model), built over HTTP on a clock the test moves:

- Monday 2026-07-06 14:00 New York: Anthony (t0005) pays 980.00 and 100.00 by bank, Jerry
  (t0006) 500.00 by bank and 250.00 by card; the 100.00 is voided at once (it leaves its batch,
  domain.md §6.2);
- Monday 21:00, after the cut-off and before the deposit: Jerry's card payment is charged back
  (a negative item of the payment's own batch, domain.md §6.1);
- Tuesday: the batch is deposited (and the 07:00 Batch Deposit Report sent);
- Wednesday 10:00: Anthony's 980.00 is refunded (the property posts reversals: a reversal
  batch of Wednesday, deposited Thursday); then the property's ``post_reversals`` setting is
  turned off (seed 002) and Jerry's 500.00 comes back R01: a note on its receipt, in no batch;
- Thursday 08:00: the reversal batch is deposited and reported.

Three integrations see it: Landlord 12 over the API (RentTrack and Inosio flavours) and two
file-based clients (Promas, Boston Post), whose lockbox files come with the report e-mails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient

from portal_tests.factories import World, bearer, make_integration, make_token
from portal_tests.payments.helpers import Payer, add_bank, add_card, make_payer, pay
from portal_tests.reversals.helpers import (
    EMAIL,
    MONDAY,
    et,
    integrated_payer,
    move,
    operator_chargeback,
    operator_return,
    relogin,
)

TUESDAY, WEDNESDAY, THURSDAY = "2026-07-07", "2026-07-08", "2026-07-09"
JERRY = "jerry@example.com"


@dataclass
class BatchWorld:
    world: World
    anthony: Payer
    jerry: Payer
    #: Bearer headers of the API integrations, by flavour.
    api: dict[str, dict[str, str]]
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    reversals: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def deposit_batch(self) -> str:
        batch_id: str = self.payments["anthony_rent"]["deposit_batch_id"]
        return batch_id

    @property
    def reversal_batch(self) -> str:
        batch_id: str = self.reversals["refund"]["deposit_batch_id"]
        return batch_id


def build(client: TestClient) -> BatchWorld:
    world, anthony = integrated_payer(client, settings={"payments_per_resident_per_day": 3})
    unit = client.post(
        f"/v1/properties/{anthony.property_id}/units",
        json={"name": "2120", "external_id": "2120"},
        headers=world.landlord,
    )
    assert unit.status_code == 201, unit.text
    jerry = make_payer(
        client,
        world,
        unit=unit.json(),
        email=JERRY,
        name="Jerry Mander",
        start_date=MONDAY,
        external_resident_id="t0006",
    )
    api = {}
    for flavor in ("renttrack", "inosio"):
        integration = make_integration(client, world, name=f"Landlord 12 {flavor}", flavor=flavor)
        api[flavor] = bearer(make_token(client, world, integration["id"])["token"])
    make_integration(client, world, name="Promas", lockbox_format="promas")
    make_integration(client, world, name="MRI file", kind="mri", lockbox_format="bostonpost")
    w = BatchWorld(world, anthony, jerry, api)

    move(client, world, anthony, et(MONDAY, "14:00:00"))
    relogin(client, world, jerry, JERRY)
    anthony_bank = add_bank(client, anthony)["id"]
    jerry_bank = add_bank(client, jerry, "000555444333")["id"]
    jerry_card = add_card(client, jerry)["id"]
    w.payments["anthony_rent"] = pay(client, anthony, anthony_bank)
    w.payments["jerry_rent"] = pay(client, jerry, jerry_bank, "500.00")
    w.payments["jerry_card"] = pay(client, jerry, jerry_card, "250.00")
    w.payments["anthony_voided"] = pay(client, anthony, anthony_bank, "100.00")
    voided = client.post(
        f"/v1/payments/{w.payments['anthony_voided']['id']}/void", headers=world.landlord
    )
    assert voided.status_code == 200, voided.text
    [w.reversals["void"]] = voided.json()["reversals"]

    move(client, world, None, et(MONDAY, "21:00:00"))
    charged = operator_chargeback(client, world, w.payments["jerry_card"]["id"])
    assert charged.status_code == 201, charged.text
    w.reversals["chargeback"] = charged.json()

    move(client, world, None, et(WEDNESDAY, "10:00:00"))
    refund = client.post(
        f"/v1/payments/{w.payments['anthony_rent']['id']}/refund", headers=world.landlord
    )
    assert refund.status_code == 201, refund.text
    w.reversals["refund"] = refund.json()
    off = client.patch(
        f"/v1/properties/{anthony.property_id}",
        json={"post_reversals": False},
        headers=world.landlord,
    )
    assert off.status_code == 200, off.text
    returned = operator_return(client, world, w.payments["jerry_rent"]["id"], "R01")
    assert returned.status_code == 201, returned.text
    w.reversals["return"] = returned.json()

    move(client, world, None, et(THURSDAY, "08:00:00"))
    relogin(client, world, anthony, EMAIL)
    return w
