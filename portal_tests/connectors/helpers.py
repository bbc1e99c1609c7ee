"""Builders for the connector tests: a payer on a unit the reference eSite knows (property
001, building 01, unit 102, ResiID 4 of the vendor fixture), and readers of both sides."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi.testclient import TestClient

from portal_tests.connectors.conftest import Amsi
from portal_tests.payments.helpers import Payer, add_account, make_payer
from portal_tests.reference.conftest import PORTFOLIO, PROPERTY
from portal_tests.residents.helpers import make_unit


def drained(client: TestClient) -> None:
    """Wait until the server's courier has sent everything queued so far."""
    client.portal.call(client.app.state.courier.idle)  # type: ignore[attr-defined,union-attr]


def esite_payer(
    client: TestClient,
    amsi: Amsi,
    *,
    bldg: str = "01",
    unit: str = "102",
    resi: str | None = "4",
    email: str = "pat@example.com",
) -> Payer:
    """A resident who can pay, on a portal unit mapped to the eSite's ``001|bldg|unit`` and a
    lease whose ID is the eSite's ResiID; the property belongs to the AMSI integration."""
    made = make_unit(
        client,
        amsi.world,
        prop_external=PROPERTY,
        unit_external=f"{PROPERTY}|{bldg}|{unit}",
        unit_name=unit,
    )
    claimed = client.patch(
        f"/v1/properties/{made['property_id']}",
        json={"integration_id": amsi.id},
        headers=amsi.world.landlord,
    )
    assert claimed.status_code == 200, claimed.text
    add_account(client, amsi.world, made["property_id"])
    lease = {"external_resident_id": resi} if resi is not None else {}
    return make_payer(client, amsi.world, unit=made, email=email, **lease)


def deliveries(client: TestClient, amsi: Amsi, **query: Any) -> list[dict[str, Any]]:
    response = client.get(
        f"/v1/integrations/{amsi.id}/deliveries",
        params={"limit": "500", **query},
        headers=amsi.world.landlord,
    )
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def journals(ref: httpx.Client) -> dict[str, dict[str, Any]]:
    response = ref.get(f"/_ref/portfolios/{PORTFOLIO}/journals")
    assert response.status_code == 200, response.text
    return {j["client_jnl_no"]: j for j in response.json()["data"]}


def ref_calls(ref: httpx.Client, operation: str) -> list[dict[str, Any]]:
    response = ref.get("/_ref/calls", params={"operation": operation})
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def ref_lease(ref: httpx.Client, bldg: str = "01", unit: str = "102", resi: str = "4") -> Any:
    response = ref.get(f"/_ref/portfolios/{PORTFOLIO}/properties/{PROPERTY}/leases")
    assert response.status_code == 200, response.text
    [lease] = [
        x
        for x in response.json()["data"]
        if (x["bldg_id"], x["unit_id"], x["resi_id"]) == (bldg, unit, resi)
    ]
    return lease
