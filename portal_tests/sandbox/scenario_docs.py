"""Small scenario documents for the scenario-route, reset and check tests (issue 18)."""

from __future__ import annotations

import copy
from typing import Any

from fastapi.testclient import TestClient

from portal_tests.factories import OPERATOR

#: Thursday 2026-07-02, 10:00 in New York (``factories.START``).
SMALL_START = "2026-07-02T14:00:00Z"
#: The Monday after: both payments of 7/2 are deposited (7/3 was a banking day).
SMALL_END = "2026-07-06T14:00:00Z"
SMALL_LANDLORD = {"email": "pm@small.example", "password": "small-demo-pass", "name": "Small PM"}

_SMALL: dict[str, Any] = {
    "scenario": "small",
    "workspace": {
        "id": "ws_small",
        "name": "Small",
        "seed": 42,
        "clock": {"mode": "simulated", "now": SMALL_START},
        # Two payments of one resident on one day: refused under the default limit of 1.
        "settings": {"payments_per_resident_per_day": 2},
        "landlord": SMALL_LANDLORD,
    },
    "integrations": [{"key": "l12", "name": "L12", "kind": "landlord12", "issue_token": True}],
    "properties": [
        {
            "key": "elm",
            "name": "Elm Court",
            "address": {"street": "1 Elm Court"},
            "units": [{"key": "elm-1", "name": "Unit 1"}],
        }
    ],
    "deposit_accounts": [
        {
            "key": "rent",
            "type": "rent",
            "account_number": "0020021234",
            "routing_number": "110000000",
            "properties": ["elm"],
        }
    ],
    "residents": [
        {
            "key": "ann",
            "name": "Ann Tenant",
            "email": "ann@example.com",
            "unit": "elm-1",
            "state": "approved",
            "password": "s3cret-pass",
            "lease": {"key": "ann-lease", "rent": "900.00", "start_date": "2026-01-01"},
        }
    ],
    "payment_sources": [
        {
            "key": "ann-bank",
            "resident": "ann",
            "type": "bank_account",
            "routing_number": "110000000",
            "account_number": "000123456789",
        }
    ],
    "payments": [
        {
            "key": "p1",
            "resident": "ann",
            "source": "ann-bank",
            "amount": "500.00",
            "at": "2026-07-02T15:00:00Z",
        },
        {
            "key": "p2",
            "resident": "ann",
            "source": "ann-bank",
            "amount": "400.00",
            "at": "2026-07-02T16:00:00Z",
        },
    ],
    "advance_to": SMALL_END,
}


def small(**workspace: Any) -> dict[str, Any]:
    """A world with one integration (and its token), one resident and two payments of one day
    that the clock deposits; ``workspace`` overrides members of its ``workspace`` section."""
    doc = copy.deepcopy(_SMALL)
    doc["workspace"].update(workspace)
    return doc


def without_workspace(doc: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    out.pop("workspace")
    return out


def create(client: TestClient, doc: dict[str, Any], **params: str) -> dict[str, Any]:
    response = client.post("/v1/sandbox/scenarios", json=doc, params=params, headers=OPERATOR)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def load_into(client: TestClient, workspace_id: str, doc: dict[str, Any]) -> dict[str, Any]:
    response = client.post(
        f"/v1/sandbox/workspaces/{workspace_id}/scenario", json=doc, headers=OPERATOR
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data
