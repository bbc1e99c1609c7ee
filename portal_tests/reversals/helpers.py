"""Builders for the reversals tests, over HTTP: a payer whose lease the accounting system knows
(so completions and reversals move its balance), their payments on a clock the test moves, and
the operator's return and chargeback calls."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from portal.payments import check as ledger
from portal_tests.factories import OPERATOR, World, make_world
from portal_tests.payments.helpers import Payer, add_account, make_payer, set_clock
from portal_tests.residents.helpers import make_unit

NY = ZoneInfo("America/New_York")
#: Monday 2026-07-06, 10:00 New York: a plain banking week (Friday 07-03 was a banking day,
#: Saturday 07-04 the holiday).
MONDAY = "2026-07-06"
EMAIL = "anthony@example.com"


def et(day: str, wall: str = "12:00:00") -> str:
    """The UTC instant (RFC 3339, Z) at which New York shows ``wall`` on ``day``."""
    local = datetime.fromisoformat(f"{day}T{wall}").replace(tzinfo=NY)
    return local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def relogin(client: TestClient, world: World, payer: Payer, email: str = EMAIL) -> None:
    """Resident sessions expire on the workspace clock: log in again after an advance."""
    response = client.post(
        "/v1/resident/login",
        json={"email": email, "password": "s3cret-pass", "workspace_id": world.workspace_id},
    )
    assert response.status_code == 200, response.text
    payer.token = response.json()["access_token"]


def move(client: TestClient, world: World, payer: Payer | None, to: str) -> dict[str, Any]:
    """Advance the clock; the landlord and (if given) the payer log in again."""
    advanced = set_clock(client, world, to)
    if payer is not None:
        relogin(client, world, payer)
    return advanced


def integrated_payer(
    client: TestClient,
    *,
    settings: dict[str, Any] | None = None,
    start: str = et(MONDAY, "10:00:00"),
    balance: str = "980.00",
    accounts: tuple[str, ...] = ("rent",),
    external_resident_id: str | None = "t0005",
) -> tuple[World, Payer]:
    """A world whose clock starts at ``start`` and a payer on a lease with accounting resident
    ID ``t0005`` (None: a landlord-managed lease) and ``balance`` owed."""
    world = make_world(client, clock={"now": start}, settings=settings or {})
    unit = make_unit(client, world)
    for n, type in enumerate(accounts):
        add_account(client, world, unit["property_id"], type, number=f"98765432{n}0")
    lease: dict[str, Any] = {"start_date": MONDAY}
    if external_resident_id is not None:
        lease["external_resident_id"] = external_resident_id
    payer = make_payer(client, world, unit=unit, email=EMAIL, **lease)
    patched = client.patch(
        f"/v1/leases/{payer.lease_id}", json={"balance": balance}, headers=world.landlord
    )
    assert patched.status_code == 200, patched.text
    return world, payer


def lease_balance(client: TestClient, world: World, payer: Payer) -> str:
    response = client.get(f"/v1/leases/{payer.lease_id}", headers=world.landlord)
    assert response.status_code == 200, response.text
    balance: str = response.json()["balance"]
    return balance


def payment(client: TestClient, world: World, payment_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/payments/{payment_id}", headers=world.landlord)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def batches(client: TestClient, world: World, **query: str) -> list[dict[str, Any]]:
    response = client.get(
        "/v1/deposit-batches", params={"limit": "500", **query}, headers=world.landlord
    )
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def operator_return(
    client: TestClient, world: World, payment_id: str, code: str, **headers: str
) -> httpx.Response:
    return client.post(
        f"/v1/sandbox/workspaces/{world.workspace_id}/payments/{payment_id}/return",
        json={"code": code},
        headers={**OPERATOR, **headers},
    )


def operator_chargeback(
    client: TestClient, world: World, payment_id: str, reason_code: str = "10.4", **body: Any
) -> httpx.Response:
    return client.post(
        f"/v1/sandbox/workspaces/{world.workspace_id}/payments/{payment_id}/chargeback",
        json={"reason_code": reason_code, **body},
        headers=OPERATOR,
    )


def check(engine: Engine, world: World) -> list[dict[str, Any]]:
    """The ledger invariants of this workspace, through the same service ``portal check``
    runs; the violations as plain dicts."""
    with Session(engine) as session:
        report = ledger.run(session, world.workspace_id)
    return [{"rule": v.rule, "subject": v.subject, "detail": v.detail} for v in report.violations]
