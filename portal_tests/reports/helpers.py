"""A small portfolio for the report tests, built over HTTP: two properties with their own
deposit accounts, three residents paying rent, a security deposit and an application fee on
Monday 2026-07-06 (deposit date Tuesday 2026-07-07), and one rent payment after the cut-off
(deposit date Wednesday 2026-07-08)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient

from portal_tests.factories import OPERATOR, World, make_world
from portal_tests.payments.helpers import (
    Payer,
    add_account,
    add_bank,
    add_card,
    make_payer,
    pay,
    set_clock,
)

MONDAY_1400 = "2026-07-06T18:00:00Z"  # 14:00 New York (EDT)
TUESDAY = "2026-07-07"
WEDNESDAY = "2026-07-08"
TUESDAY_0700 = "2026-07-07T11:00:00Z"

#: Deposit accounts: (property, type) -> full account number (only its last 4 may leave).
ACCOUNTS = {
    ("oak", "rent"): "4400001111",
    ("oak", "security_deposit"): "4400002222",
    ("maple", "rent"): "5500003333",
    ("maple", "application_fee"): "5500004444",
}


@dataclass
class Portfolio:
    world: World
    property_ids: dict[str, str]
    units: dict[str, dict[str, Any]]
    payers: dict[str, Payer]
    #: Each resident's bank source ID.
    banks: dict[str, str] = field(default_factory=dict)
    #: The payments as POST /v1/resident/payments answered them, by a short name.
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    seed: int = 7

    def relogin(self, client: TestClient, name: str) -> Payer:
        """Log a resident in again (sessions expire on the workspace clock)."""
        response = client.post(
            "/v1/resident/login",
            json={"email": f"{name}{self.seed}@example.com", "password": "s3cret-pass"},
        )
        assert response.status_code == 200, response.text
        payer = self.payers[name]
        payer.token = response.json()["access_token"]
        return payer


def make_property(
    client: TestClient, world: World, name: str, external: str, units: list[str]
) -> tuple[str, dict[str, dict[str, Any]]]:
    prop = client.post(
        "/v1/properties",
        json={"name": name, "external_id": external, "address": {"street": f"1 {name}"}},
        headers=world.landlord,
    )
    assert prop.status_code == 201, prop.text
    out = {}
    for unit_name in units:
        unit = client.post(
            f"/v1/properties/{prop.json()['id']}/units",
            json={"name": unit_name, "external_id": f"{external}-{unit_name}"},
            headers=world.landlord,
        )
        assert unit.status_code == 201, unit.text
        out[unit_name] = unit.json()
    return prop.json()["id"], out


def build(client: TestClient, *, seed: int = 7, amounts_scale: int = 1) -> Portfolio:
    """The portfolio with its Monday payments made (clock: Monday 14:20 New York)."""
    world = make_world(
        client,
        seed=seed,
        clock={"now": MONDAY_1400},
        settings={"payments_per_resident_per_day": 2},
    )
    oak, oak_units = make_property(client, world, "Oak Street", f"OAK{seed}", ["2118"])
    maple, maple_units = make_property(client, world, "Maple Court", f"MPL{seed}", ["5B", "6C"])
    props = {"oak": oak, "maple": maple}
    for (prop, type), number in ACCOUNTS.items():
        add_account(client, world, props[prop], type, number=number)
    units = {"2118": oak_units["2118"], **maple_units}
    payers = {
        "anthony": make_payer(
            client,
            world,
            unit=units["2118"],
            email=f"anthony{seed}@example.com",
            name="Anthony Kmetz",
        ),
        "jerry": make_payer(
            client,
            world,
            unit=units["5B"],
            email=f"jerry{seed}@example.com",
            name="Jerry Rodriguez",
        ),
        "karyl": make_payer(
            client,
            world,
            unit=units["6C"],
            email=f"karyl{seed}@example.com",
            name="Karyl Rodriguez",
        ),
    }
    bank = {name: add_bank(client, payer)["id"] for name, payer in payers.items()}
    p = Portfolio(world, props, units, payers, banks=bank, seed=seed)
    card = add_card(client, payers["anthony"])["id"]
    karyl_card = add_card(client, payers["karyl"])["id"]
    plan = [
        ("14:00", "anthony_rent", "anthony", bank["anthony"], "1200.00", "rent"),
        ("14:05", "anthony_deposit", "anthony", card, "500.00", "security_deposit"),
        ("14:10", "jerry_rent", "jerry", bank["jerry"], "950.00", "rent"),
        ("14:15", "karyl_rent", "karyl", karyl_card, "700.25", "rent"),
        ("14:20", "jerry_fee", "jerry", bank["jerry"], "50.00", "application_fee"),
    ]
    for at, key, who, source, amount, type in plan:
        hour, minute = at.split(":")
        set_clock(client, world, f"2026-07-06T{int(hour) + 4:02d}:{minute}:00Z")
        scaled = f"{int(amount.split('.')[0]) * amounts_scale}.{amount.split('.')[1]}"
        p.payments[key] = pay(client, payers[who], source, scaled, type=type)
    return p


def pay_after_cutoff(client: TestClient, p: Portfolio) -> dict[str, Any]:
    """Karyl pays 100.00 rent at 19:50 Monday: Tuesday's business date, deposited Wednesday."""
    set_clock(client, p.world, "2026-07-06T23:50:00Z")
    payment = pay(client, p.relogin(client, "karyl"), p.banks["karyl"], "100.00")
    p.payments["karyl_late"] = payment
    return payment


def report(client: TestClient, world: World, day: str, **headers: str) -> Any:
    response = client.get(
        "/v1/reports/batch-deposits", params={"date": day}, headers={**world.landlord, **headers}
    )
    assert response.status_code == 200, response.text
    return response.json() if not headers else response


def external(client: TestClient, world: World, month: str) -> dict[str, Any]:
    response = client.get(
        "/v1/reports/external-deposits", params={"month": month}, headers=world.landlord
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def parse_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def report_mails(client: TestClient, world: World) -> list[dict[str, Any]]:
    response = client.get(
        f"/v1/sandbox/workspaces/{world.workspace_id}/mailbox",
        params={"kind": "batch_deposit_report", "limit": "500"},
        headers=OPERATOR,
    )
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data
