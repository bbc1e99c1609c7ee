"""Builders for the balance-intake tests, over HTTP: send a call, turn an invited intake
resident into a payer, move the clock with everyone logged in again."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from portal_tests.balances.test_router import BANK, Client12
from portal_tests.payments.helpers import Payer, set_clock
from portal_tests.residents.helpers import mailbox

PASSWORD = "s3cret-pass"


def send(client: TestClient, c: Client12, rows: list[dict[str, Any]], **extra: Any) -> Any:
    """One Send Balances call with the seed's bank account; the raw response."""
    body: dict[str, Any] = {"bank_account": BANK, "residents": rows, **extra}
    return client.post("/v1/integration/balances", json=body, headers=c.headers())


def sent(client: TestClient, c: Client12, rows: list[dict[str, Any]], **extra: Any) -> Any:
    response = send(client, c, rows, **extra)
    assert response.status_code == 200, response.text
    return response.json()


def roster(client: TestClient, c: Client12) -> dict[str, dict[str, Any]]:
    """The client's grid, by resident ID."""
    response = client.get("/v1/integration/residents", headers=c.headers())
    assert response.status_code == 200, response.text
    return {line["resident_id"]: line for line in response.json()["data"]}


def accept(client: TestClient, c: Client12, email: str) -> Payer:
    """The intake resident invited at ``email`` accepts the invitation: a payer."""
    [mail] = [m for m in mailbox(client, c.world, kind="invitation") if m["to"] == email]
    accepted = client.post(
        f"/v1/resident/invites/{mail['data']['invite_code']}/accept", json={"password": PASSWORD}
    )
    assert accepted.status_code == 200, accepted.text
    return Payer(
        resident_id=mail["data"]["resident_id"],
        lease_id=mail["data"]["lease_id"],
        token=accepted.json()["access_token"],
        unit_id="",
        property_id="",
    )


def move(client: TestClient, c: Client12, to: str, payers: dict[str, Payer]) -> None:
    """Advance the workspace clock to ``to``; the landlord and each payer (by e-mail) log in
    again (sessions expire on the workspace clock)."""
    set_clock(client, c.world, to)
    for email, payer in payers.items():
        response = client.post(
            "/v1/resident/login",
            json={"email": email, "password": PASSWORD, "workspace_id": c.world.workspace_id},
        )
        assert response.status_code == 200, response.text
        payer.token = response.json()["access_token"]
