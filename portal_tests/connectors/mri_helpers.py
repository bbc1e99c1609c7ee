"""Readers and controls for the MRI import tests (issue 17): Sync Now over the portal's API, the
portal's leases as the landlord reads them, the reference MRI's admin side (a property manager
working in MRI), and a resident of an imported lease who can pay."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi.testclient import TestClient

from portal_tests.connectors.conftest import MriIntegration, mri_connection
from portal_tests.payments.helpers import Payer, add_account
from portal_tests.reference_mri.conftest import LEASE_DETAILS, PROPERTY
from portal_tests.reference_mri.server import ThreadedMriServer
from portal_tests.residents.helpers import mailbox

BASE = f"/_ref/properties/{PROPERTY}"


# --- the portal -------------------------------------------------------------------------------


def sync_response(
    client: TestClient, mri: MriIntegration, integration_id: str | None = None, **headers: str
) -> httpx.Response:
    return client.post(
        f"/v1/integrations/{integration_id or mri.id}/sync",
        headers={**mri.world.landlord, **headers},
    )


def sync(client: TestClient, mri: MriIntegration, **headers: str) -> dict[str, Any]:
    """Sync Now, as the landlord presses it: the run's review."""
    response = sync_response(client, mri, **headers)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def counts(run: dict[str, Any]) -> tuple[int, int, int, int]:
    c = run["counts"]
    return c["new"], c["updated"], c["unchanged"], c["erred"]


def get(client: TestClient, mri: MriIntegration, path: str, **params: str) -> Any:
    response = client.get(path, params=params, headers=mri.world.landlord)
    assert response.status_code == 200, response.text
    return response.json()


def portal_leases(client: TestClient, mri: MriIntegration) -> dict[tuple[str, str], dict[str, Any]]:
    """The portal's leases by (unit external ID, lease's external resident ID), each with its
    residents."""
    units = {
        u["id"]: u["external_id"]
        for p in get(client, mri, "/v1/properties", limit="500")["data"]
        for u in p["units"]
    }
    residents = get(client, mri, "/v1/residents", limit="500")["data"]
    lease_ids = sorted({lid for r in residents for lid in r["lease_ids"]})
    out = {}
    for lease_id in lease_ids:
        lease = get(client, mri, f"/v1/leases/{lease_id}")
        lease["residents"] = [r for r in residents if lease_id in r["lease_ids"]]
        out[(units[lease["unit_id"]], lease["external_resident_id"])] = lease
    return out


def names(lease: dict[str, Any]) -> list[str]:
    return sorted(r["name"] for r in lease["residents"])


def invitations(client: TestClient, mri: MriIntegration) -> list[str]:
    return sorted(m["to"] for m in mailbox(client, mri.world, kind="invitation"))


def runs(client: TestClient, mri: MriIntegration) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = get(client, mri, f"/v1/integrations/{mri.id}/imports")["data"]
    return data


def set_connection(
    client: TestClient, mri: MriIntegration, server: ThreadedMriServer, **changes: Any
) -> None:
    response = client.patch(
        f"/v1/integrations/{mri.id}",
        json={"connection": mri_connection(server, **changes)},
        headers=mri.world.landlord,
    )
    assert response.status_code == 200, response.text


def resident_payer(
    client: TestClient, mri: MriIntegration, email: str, lease: dict[str, Any]
) -> Payer:
    """The imported resident invited at ``email``, signed in, on ``lease``, whose property has
    a rent account."""
    [prop] = get(client, mri, "/v1/properties")["data"]
    add_account(client, mri.world, prop["id"])
    [mail] = [m for m in mailbox(client, mri.world, kind="invitation") if m["to"] == email]
    accepted = client.post(
        f"/v1/resident/invites/{mail['data']['invite_code']}/accept",
        json={"password": "s3cret-pass"},
    )
    assert accepted.status_code == 200, accepted.text
    return Payer(
        resident_id=mail["data"]["resident_id"],
        lease_id=lease["id"],
        token=accepted.json()["access_token"],
        unit_id=lease["unit_id"],
        property_id=prop["id"],
    )


# --- the reference MRI (the property manager's side) -------------------------------------------


def patch_lease(ref: httpx.Client, bldg: str, unit: str, lease: str, **body: Any) -> None:
    response = ref.patch(f"{BASE}/leases/{bldg}/{unit}/{lease}", json=body)
    assert response.status_code == 200, response.text


def patch_resident(ref: httpx.Client, name_id: str, **body: Any) -> None:
    response = ref.patch(f"{BASE}/residents/{name_id}", json=body)
    assert response.status_code == 200, response.text


def add_pending_move_in(ref: httpx.Client, **body: Any) -> None:
    response = ref.post(f"{BASE}/pending-move-ins", json=body)
    assert response.status_code == 201, response.text


def page_size(ref: httpx.Client, rows: int) -> None:
    response = ref.patch("/_ref/settings", json={"page_size": rows})
    assert response.status_code == 200, response.text


def lease_detail_calls(ref: httpx.Client) -> list[dict[str, Any]]:
    """The journal's ``ResidentLeaseDetailsByPropertyID`` calls, oldest first."""
    response = ref.get("/_ref/calls", params={"operation": LEASE_DETAILS})
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def ref_balance(ref: httpx.Client, bldg: str, unit: str) -> str:
    response = ref.get(f"{BASE}/leases")
    assert response.status_code == 200, response.text
    [lease] = [
        x
        for x in response.json()["data"]
        if (x["building_id"], x["unit_id"]) == (bldg, unit) and x["residents"]
        and any(r["is_current"] == "Y" for r in x["residents"])
    ]  # fmt: skip
    balance: str = lease["balance"]
    return balance
