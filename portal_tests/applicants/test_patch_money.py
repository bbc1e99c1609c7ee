"""Money in every PATCH (issue 15, item 8): an amount sent as ``"4100.00"`` is stored and read
back as ``"4100.00"`` on every money field a PATCH takes. The applicant's ``monthly_income``
was stored as ``41.00``: its PATCH built the changes with ``model_dump()``, which wrote the wire
string ``"4100.00"`` into a cents column, read there as 4,100 cents. ``portal/core/money.py``
now keeps int cents in every Python-mode dump; the string exists only on the wire.

The PATCH routes with money fields: ``/v1/applicants/{id}/people/{pid}`` (monthly_income),
``/v1/work-orders/{id}`` (estimate, cost_limit, total), ``/v1/leases/{id}`` (balance, rent).
``/v1/applicants/{id}``, ``/v1/residents/{id}`` and ``/v1/properties/{id}`` have none; payments
and integrations have no PATCH with money."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from portal.core.money import Amount, Cents
from portal_tests.applicants.test_applicants import apply
from portal_tests.factories import OPERATOR, World, bearer, make_integration, make_token
from portal_tests.payments.helpers import Payer
from portal_tests.reversals.helpers import integrated_payer

AMOUNT = "4100.00"


def _applicant(client: TestClient, world: World, payer: Payer) -> tuple[str, str]:
    app = apply(client, payer)
    person = app["applicants"][1]["id"]  # the Co-Applicant: no income yet
    return f"/v1/applicants/{app['id']}/people/{person}", f"/v1/applicants/{app['id']}"


def _work_order(client: TestClient, world: World, payer: Payer) -> tuple[str, str]:
    created = client.post(
        "/v1/work-orders",
        json={"unit_id": payer.unit_id, "description": "The kitchen tap leaks"},
        headers=world.landlord,
    )
    assert created.status_code == 201, created.text
    path = f"/v1/work-orders/{created.json()['id']}"
    return path, path


def _lease(client: TestClient, world: World, payer: Payer) -> tuple[str, str]:
    path = f"/v1/leases/{payer.lease_id}"
    return path, path


def _applicant_income(body: dict[str, Any]) -> Any:
    people = body.get("applicants")
    if people is None:  # the PATCH answers the applicant itself
        return body["monthly_income"]
    return people[1]["monthly_income"]


Target = Callable[[TestClient, World, Payer], tuple[str, str]]
CASES: list[tuple[Target, str, Callable[[dict[str, Any]], Any]]] = [
    (_applicant, "monthly_income", _applicant_income),
    (_work_order, "estimate", lambda b: b["estimate"]),
    (_work_order, "cost_limit", lambda b: b["cost_limit"]),
    (_work_order, "total", lambda b: b["total"]),
    (_lease, "balance", lambda b: b["balance"]),
    (_lease, "rent", lambda b: b["rent"]),
]


@pytest.mark.parametrize(
    ("target", "field", "read"), CASES, ids=[f"{t.__name__[1:]}.{f}" for t, f, _ in CASES]
)
def test_a_patched_amount_is_stored_as_sent(
    client: TestClient,
    target: Target,
    field: str,
    read: Callable[[dict[str, Any]], Any],
) -> None:
    world, payer = integrated_payer(client)
    patch_path, get_path = target(client, world, payer)

    patched = client.patch(patch_path, json={field: AMOUNT}, headers=world.landlord)

    assert patched.status_code == 200, patched.text
    assert read(patched.json()) == AMOUNT
    got = client.get(get_path, headers=world.landlord)
    assert got.status_code == 200, got.text
    assert read(got.json()) == AMOUNT


def test_the_applicant_feed_gives_the_patched_income(client: TestClient) -> None:
    world, payer = integrated_payer(client)
    integration = make_integration(client, world, features=["applicant_screening"])
    auth = bearer(make_token(client, world, integration["id"])["token"])
    patch_path, app_path = _applicant(client, world, payer)
    client.patch(patch_path, json={"monthly_income": AMOUNT}, headers=world.landlord)
    for verb, body in (("screen", None), ("decision", {"decision": "approve"})):
        acted = client.post(f"{app_path}/{verb}", json=body, headers=world.landlord)
        assert acted.status_code == 200, acted.text

    items = client.get("/v1/integration/applicants", headers=auth).json()["data"]

    assert [i["monthly_income"] for i in items] == ["4200.00", AMOUNT]


def test_a_workspaces_payment_limit_is_echoed_as_set(client: TestClient) -> None:
    # The one route that re-validated a dumped model: the money kept in cents must not be
    # read again as dollars.
    created = client.post(
        "/v1/sandbox/workspaces", json={"settings": {"payment_limit": "500.00"}}, headers=OPERATOR
    )

    assert created.status_code == 201, created.text
    assert created.json()["settings"]["payment_limit"] == "500.00"


class _Wire(BaseModel):
    amount: Amount
    total: Cents


@pytest.mark.smoke
def test_money_is_cents_inside_and_a_string_on_the_wire() -> None:
    m = _Wire.model_validate({"amount": AMOUNT, "total": 410000})

    assert m.model_dump() == {"amount": 410000, "total": 410000}
    assert m.model_dump(mode="json") == {"amount": AMOUNT, "total": AMOUNT}
    assert m.model_dump_json() == '{"amount":"4100.00","total":"4100.00"}'
