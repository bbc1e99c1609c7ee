"""The world the API fuzzing (``test_schemathesis.py``) runs in: one workspace where every kind of
resource exists, so generated requests reach the rules behind the 404s.

Built over HTTP by the operator (a workspace, then one scenario load), then the landlord and a
resident log in. A fixed workspace ID, seed and simulated clock give the same IDs every time;
only the secrets (the token, invite codes) are new on each build.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from portal_tests.conftest import OPERATOR_KEY

WORKSPACE_ID = "ws_fuzz"
LANDLORD = {"email": "manager@fuzz.example", "password": "fuzz-landlord-pass", "name": "Fuzz"}
RESIDENT = {"email": "ann@fuzz.example", "password": "ann-fuzz-pass"}
ROUTING = "110000000"

# Monday 2026-04-06, 08:00 New York. Payments on Monday deposit on Tuesday; the load ends on
# Thursday 10:00, before that day's cut-off, so Thursday's payments are still voidable.
START = "2026-04-06T12:00:00Z"
END = "2026-04-09T14:00:00Z"


def _resident(key: str, unit: str, state: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "key": key,
        "name": f"{key.title()} Fuzz",
        "email": f"{key}@fuzz.example",
        "unit": unit,
        "state": state,
        "lease": {
            "key": f"{key}-lease",
            "rent": "1200.00",
            "start_date": "2025-09-01",
            "end_date": "2026-08-31",
            "balance": "2400.00",
            "external_resident_id": f"F-{key}",
        },
    }
    body.update(extra)
    return body


def _payment(key: str, source: str, at: str, amount: str = "100.00") -> dict[str, Any]:
    return {"key": key, "resident": "ann", "source": source, "amount": amount, "at": at}


SCENARIO: dict[str, Any] = {
    "scenario": "api-fuzzing",
    "description": "Every kind of resource, for test_schemathesis.py.",
    "integrations": [
        {
            "key": "client",
            "name": "Landlord 12 - Fuzz",
            "kind": "landlord12",
            "features": ["applicant_screening", "document_portal", "maintenance_coordination"],
            "issue_token": True,
        }
    ],
    "properties": [
        {
            "key": "oak",
            "name": "Oak Street",
            "external_id": "OAK",
            "address": {"street": "1 Oak Street", "city": "Albany", "state": "NY"},
            "units": [
                {"key": "oak-1", "name": "Unit 1", "external_id": "1"},
                {"key": "oak-2", "name": "Unit 2", "external_id": "2"},
                {"key": "oak-3", "name": "Unit 3", "external_id": "3"},
            ],
        }
    ],
    "deposit_accounts": [
        {
            "key": "rent-account",
            "type": "rent",
            "account_number": "0040041234",
            "routing_number": ROUTING,
            "properties": ["oak"],
        },
        {
            "key": "deposit-account",
            "type": "security_deposit",
            "account_number": "0040045678",
            "routing_number": ROUTING,
            "properties": ["oak"],
        },
    ],
    "residents": [
        _resident("ann", "oak-1", "approved", password=RESIDENT["password"]),
        _resident("bob", "oak-2", "invited"),
    ],
    "pending_residents": [
        {
            "key": "cid",
            "name": "Cid Pending",
            "email": "cid@fuzz.example",
            "password": "cid-fuzz-pass",
            "property": "oak",
            "unit": "oak-3",
        }
    ],
    "accounting_records": [
        {
            "resident_id": "F-cid",
            "property_id": "OAK",
            "unit_id": "3",
            "name": "Cid Pending",
            "email": "cid@fuzz.example",
            "rent": "900.00",
            "balance": "900.00",
        }
    ],
    "payment_sources": [
        {
            "key": "ann-checking",
            "resident": "ann",
            "type": "bank_account",
            "routing_number": ROUTING,
            "account_number": "000111222301",
        },
        {
            "key": "ann-card",
            "resident": "ann",
            "type": "card",
            "number": "4242424242424242",
            "exp_month": 12,
            "exp_year": 2030,
        },
    ],
    "recurring_payments": [
        {
            "key": "ann-autopay",
            "resident": "ann",
            "source": "ann-checking",
            "amount": "50.00",
            "day_of_month": 1,
        }
    ],
    "payments": [
        # deposited on Tuesday: refundable, returnable
        _payment("settled", "ann-checking", "2026-04-06T13:00:00Z"),
        _payment("returned", "ann-checking", "2026-04-06T13:10:00Z"),
        _payment("charged-back", "ann-card", "2026-04-06T13:20:00Z"),
        # Thursday, before the cut-off: voidable, cancellable
        _payment("processing", "ann-checking", "2026-04-09T13:00:00Z"),
    ],
    "reversals": [
        {
            "key": "r01",
            "payment": "returned",
            "action": "return",
            "code": "R01",
            "at": "2026-04-08T13:00:00Z",
        },
        {
            "key": "cb",
            "payment": "charged-back",
            "action": "chargeback",
            "reason_code": "13.1",
            "at": "2026-04-08T14:00:00Z",
        },
    ],
    "work_orders": [
        {
            "key": "leak",
            "unit": "oak-1",
            "tenant": "ann",
            "description": "The sink leaks.",
            "external_id": "101022",
        },
        {
            "key": "lawn",
            "property": "oak",
            "description": "Mow the lawn.",
            "status": "invoiced",
            "vendor": "Lawn Doctor",
            "total": "85.00",
        },
    ],
    "applications": [
        {
            "key": "open-application",
            "resident": "cid",
            "unit": "oak-2",
            "desired_move_in": "2026-05-01",
            "applicants": [
                {"name": "Cid Pending", "email": "cid@fuzz.example", "monthly_income": "4000.00"},
                {"name": "Dee Pending", "email": "dee@fuzz.example", "type": "Co-Applicant"},
            ],
        },
        {
            "key": "approved-application",
            "resident": "cid",
            "unit": "oak-3",
            "desired_move_in": "2026-05-15",
            "applicants": [{"name": "Cid Pending", "email": "cid@fuzz.example"}],
            "decision": "approve",
        },
    ],
    "advance_to": END,
}


class Client(Protocol):
    """The part of a requests-style session the builder uses (schemathesis's ASGI client)."""

    def request(self, method: str, url: str, **kwargs: Any) -> Any: ...


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


OPERATOR = bearer(OPERATOR_KEY)


@dataclass
class FuzzWorld:
    """The credentials of each principal and the IDs that exist, by path-parameter name."""

    landlord: dict[str, str]
    integration: dict[str, str]
    resident: dict[str, str]
    ids: dict[str, list[str]] = field(default_factory=dict)

    operator = OPERATOR


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    return response.json()


def build(client: Client) -> FuzzWorld:
    """Create the workspace, load the scenario, log in, and collect the IDs that exist."""

    def call(method: str, url: str, headers: dict[str, str], status: int = 200, **kw: Any) -> Any:
        return _ok(client.request(method, url, headers=headers, **kw), status)

    workspace = {
        "id": WORKSPACE_ID,
        "name": "API fuzzing",
        "seed": 20260406,
        "clock": {"now": START},
        # Several payments by one resident on one day (the scenario's Monday).
        "settings": {"payments_per_resident_per_day": 5},
        "landlord": LANDLORD,
    }
    call("POST", "/v1/sandbox/workspaces", OPERATOR, 201, json=workspace)
    loaded = call(
        "POST", f"/v1/sandbox/workspaces/{WORKSPACE_ID}/scenario", OPERATOR, json=SCENARIO
    )
    keys: dict[str, str] = loaded["keys"]
    landlord = bearer(
        call("POST", "/v1/auth/login", {}, json={k: LANDLORD[k] for k in ("email", "password")})[
            "access_token"
        ]
    )
    resident = bearer(call("POST", "/v1/resident/login", {}, json=RESIDENT)["access_token"])
    world = FuzzWorld(landlord, bearer(loaded["tokens"]["client"]), resident)

    def collect(name: str, url: str, headers: dict[str, str], pick: Callable[[Any], Any]) -> None:
        page = call("GET", url, headers, params={"limit": 500})
        values = [str(pick(item)) for item in page["data"]]
        world.ids.setdefault(name, [])
        world.ids[name] += [v for v in values if v not in world.ids[name]]

    def ident(item: Any) -> Any:
        return item["id"]

    integration_id = keys["client"]
    ll, ws = landlord, f"/v1/sandbox/workspaces/{WORKSPACE_ID}"
    world.ids["workspace_id"] = [WORKSPACE_ID]
    world.ids["integration_id"] = [integration_id]
    collect("token_id", f"/v1/integrations/{integration_id}/tokens", ll, ident)
    collect("property_id", "/v1/properties", ll, ident)
    collect("unit_id", f"/v1/properties/{keys['oak']}/units", ll, ident)
    collect("deposit_account_id", "/v1/deposit-accounts", ll, ident)
    collect("resident_id", "/v1/residents", ll, ident)
    collect("lease_id", "/v1/resident/leases", resident, ident)
    world.ids["lease_id"] += [keys[k] for k in ("bob-lease",) if k in keys]
    collect("payment_id", "/v1/payments", ll, ident)
    collect("batch_id", "/v1/deposit-batches", ll, ident)
    collect("batch_id", "/v1/integration/receipt-batches", world.integration, ident)
    collect("reversal_id", "/v1/reversals", ll, ident)
    collect("dispute_id", "/v1/disputes", ll, ident)
    collect("recurring_id", "/v1/resident/recurring-payments", resident, ident)
    collect("payment_source_id", "/v1/resident/payment-sources", resident, ident)
    collect("work_order_id", "/v1/work-orders", ll, ident)
    collect("application_id", "/v1/applicants", ll, ident)
    collect("email_id", f"{ws}/mailbox", OPERATOR, ident)
    collect("code", f"{ws}/mailbox?kind=invitation", OPERATOR, lambda m: m["data"]["invite_code"])
    applications = call("GET", "/v1/applicants", ll, params={"limit": 500})["data"]
    world.ids["applicant_id"] = [p["id"] for a in applications for p in a["applicants"]]
    world.ids["n"] = ["0", "1"]
    return world
