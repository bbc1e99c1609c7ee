"""Builders for the payments tests, over HTTP: a property with deposit accounts, a resident who
accepted an invitation (so can pay), and their payment sources."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from fastapi.testclient import TestClient

from portal_tests.factories import OPERATOR, World, bearer, login
from portal_tests.residents.helpers import invite, mailbox, make_unit

ROUTING = "110000000"


@dataclass
class Payer:
    resident_id: str
    lease_id: str
    token: str
    unit_id: str
    property_id: str

    @property
    def auth(self) -> dict[str, str]:
        return bearer(self.token)


def add_account(
    client: TestClient,
    world: World,
    property_id: str,
    type: str = "rent",
    number: str = "9876543210",
) -> dict[str, Any]:
    response = client.post(
        "/v1/deposit-accounts",
        json={
            "type": type,
            "account_number": number,
            "routing_number": ROUTING,
            "property_ids": [property_id],
        },
        headers=world.landlord,
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def make_payer(
    client: TestClient,
    world: World,
    *,
    unit: dict[str, Any] | None = None,
    accounts: tuple[str, ...] = ("rent",),
    email: str = "anthony@example.com",
    **lease: Any,
) -> Payer:
    """A resident who accepted their invitation, on a unit whose property has ``accounts``."""
    if unit is None:
        unit = make_unit(client, world)
        for n, type in enumerate(accounts):
            add_account(client, world, unit["property_id"], type, number=f"98765432{n}0")
    invited = invite(client, world, unit["id"], email=email, **lease)
    [mail] = [m for m in mailbox(client, world, kind="invitation") if m["to"] == email]
    accepted = client.post(
        f"/v1/resident/invites/{mail['data']['invite_code']}/accept",
        json={"password": "s3cret-pass"},
    )
    assert accepted.status_code == 200, accepted.text
    return Payer(
        resident_id=invited["id"],
        lease_id=invited["lease_ids"][0],
        token=accepted.json()["access_token"],
        unit_id=unit["id"],
        property_id=unit["property_id"],
    )


def add_bank(
    client: TestClient, payer: Payer, account_number: str = "000123456789"
) -> dict[str, Any]:
    response = client.post(
        "/v1/resident/payment-sources",
        json={"type": "bank_account", "routing_number": ROUTING, "account_number": account_number},
        headers=payer.auth,
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def add_card(
    client: TestClient, payer: Payer, number: str = "4242424242424242", **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "card", "number": number, "exp_month": 12, "exp_year": 2030}
    body.update(extra)
    response = client.post("/v1/resident/payment-sources", json=body, headers=payer.auth)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def post_payment(
    client: TestClient,
    payer: Payer,
    source_id: str,
    amount: str = "980.00",
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> httpx.Response:
    body: dict[str, Any] = {
        "lease_id": payer.lease_id,
        "payment_source_id": source_id,
        "amount": amount,
        "type": "rent",
    }
    body.update(extra)
    return client.post(
        "/v1/resident/payments", json=body, headers={**payer.auth, **(headers or {})}
    )


def pay(
    client: TestClient, payer: Payer, source_id: str, amount: str = "980.00", **extra: Any
) -> dict[str, Any]:
    response = post_payment(client, payer, source_id, amount, **extra)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def set_clock(client: TestClient, world: World, to: str) -> dict[str, Any]:
    """Advance the workspace clock to ``to`` and log the landlord in again (sessions expire on
    the workspace clock)."""
    response = client.post(
        f"/v1/sandbox/workspaces/{world.workspace_id}/clock/advance",
        json={"to": to},
        headers=OPERATOR,
    )
    assert response.status_code == 200, response.text
    world.landlord_token = login(client, world.email, world.password)
    data: dict[str, Any] = response.json()
    return data


def batch(client: TestClient, world: World, batch_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/deposit-batches/{batch_id}", headers=world.landlord)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data
