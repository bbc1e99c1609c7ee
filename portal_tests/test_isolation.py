"""Nothing of one workspace is visible from another (architecture.md §6, §11; acceptance 4).

The walk covers every landlord and integration route with a path parameter, so a route added
later is checked without anyone remembering to: a path parameter the walk cannot fill, or a body
it does not know, fails the test until this file learns about it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from portal_tests.factories import (
    OPERATOR,
    World,
    bearer,
    make_integration,
    make_token,
    make_world,
)

PROBLEM_JSON = "application/problem+json"
UNKNOWN_WORKSPACE = "ws_doesnotexist"

#: A body each route would accept, so validation cannot answer before the workspace check.
#: Keyed by (method, path template); a route with a body that is missing here fails the walk.
MINIMAL_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/v1/sandbox/workspaces/{workspace_id}/clock/advance"): {"by": "PT1M"},
    ("POST", "/v1/sandbox/workspaces/{workspace_id}/scenario"): {"scenario": "isolation"},
    ("POST", "/v1/sandbox/workspaces/{workspace_id}/journal/verify"): {},
    ("PATCH", "/v1/integrations/{integration_id}"): {"name": "Walk"},
    ("PATCH", "/v1/webhooks/{endpoint_id}"): {"description": "Walk"},
    ("POST", "/v1/webhooks/{endpoint_id}/resend"): {"failed_since": "2026-01-01T00:00:00Z"},
    ("POST", "/v1/properties/{property_id}/units"): {"name": "Walk"},
    ("PATCH", "/v1/properties/{property_id}"): {"post_reversals": False},
    ("PUT", "/v1/deposit-accounts/{deposit_account_id}/properties"): {"property_ids": []},
    ("PATCH", "/v1/residents/{resident_id}"): {"phone": "555-0199"},
    ("POST", "/v1/residents/{resident_id}/approve"): {"mode": "sync"},
    ("POST", "/v1/residents/{resident_id}/merge"): {"merge_with": "res_walk"},
    ("PATCH", "/v1/leases/{lease_id}"): {"pay_full_balance_only": True},
    ("POST", "/v1/leases/{lease_id}/end"): {},
    ("POST", "/v1/sandbox/workspaces/{workspace_id}/payments/{payment_id}/return"): {"code": "R01"},
    ("POST", "/v1/sandbox/workspaces/{workspace_id}/payments/{payment_id}/chargeback"): {
        "reason_code": "10.4"
    },
    ("POST", "/v1/disputes/{dispute_id}/challenge"): {"evidence": "lease on file"},
    ("PATCH", "/v1/work-orders/{work_order_id}"): {"priority": "High"},
    ("POST", "/v1/applicants/{application_id}/decision"): {"decision": "approve"},
    ("PATCH", "/v1/applicants/{application_id}"): {"desired_move_in": "2026-09-01"},
    ("PATCH", "/v1/applicants/{application_id}/people/{applicant_id}"): {"phone": "555-0100"},
}


def assert_not_found(response: httpx.Response, what: str) -> dict[str, Any]:
    assert response.status_code == 404, f"{what} answered {response.status_code}: {response.text}"
    assert response.headers["content-type"].startswith(PROBLEM_JSON), what
    body: dict[str, Any] = response.json()
    assert body["status"] == 404, what
    assert body["code"].endswith("not_found"), f"{what}: {body}"
    return body


@dataclass(frozen=True)
class Endpoint:
    """One method of one API route, with its full path as the app serves it."""

    method: str
    path: str
    params: tuple[str, ...]
    has_body: bool

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def api_endpoints(app: FastAPI) -> list[Endpoint]:
    """Every (method, route) of ``app.routes``. FastAPI keeps included routers as nested
    entries, so the routes are read through ``iter_route_contexts``, which gives each one with
    the path it is served at."""
    out: list[Endpoint] = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or context.path is None:
            continue
        params = tuple(context.param_convertors)
        out.extend(
            Endpoint(method, context.path, params, route.body_field is not None)
            for method in sorted(context.methods or ())
        )
    return out


def is_workspace_route(path: str) -> bool:
    """Landlord and integration routes: under /v1/, outside the operator and login areas and
    the residents' own routes (whose isolation TestResidentRoutes checks)."""
    return path.startswith("/v1/") and not path.startswith(
        ("/v1/sandbox", "/v1/auth", "/v1/resident/")
    )


def walked(app: FastAPI, *, operator: bool) -> list[Endpoint]:
    """The endpoints of one area (operator or workspace) that take a path parameter."""
    return [
        e
        for e in api_endpoints(app)
        if e.params
        and (e.path.startswith("/v1/sandbox/") if operator else is_workspace_route(e.path))
    ]


def fill(endpoint: Endpoint, ids: dict[str, str]) -> str:
    unknown = [name for name in endpoint.params if name not in ids]
    if unknown:
        pytest.fail(
            f"{endpoint} has path parameter(s) {unknown} the isolation walk cannot fill; "
            "teach portal_tests/test_isolation.py which ID of world B to use."
        )
    return endpoint.path.format(**{name: ids[name] for name in endpoint.params})


def body_for(endpoint: Endpoint) -> dict[str, Any] | None:
    if not endpoint.has_body:
        return None
    key = (endpoint.method, endpoint.path)
    if key not in MINIMAL_BODIES:
        pytest.fail(f"{endpoint} takes a body; add a minimal one to MINIMAL_BODIES.")
    return MINIMAL_BODIES[key]


@dataclass
class Credentials:
    """What a workspace's clients hold: the landlord session and an integration token."""

    world: World
    integration_token: str | None

    def headers_for(self, path: str) -> dict[str, str]:
        if path.startswith("/v1/integration/"):
            assert self.integration_token is not None, "this world has no integration token"
            return bearer(self.integration_token)
        if path.startswith("/v1/resident/"):
            pytest.fail(f"{path}: the isolation walk has no resident credentials yet; add them.")
        return self.world.landlord


@dataclass
class Owned:
    """IDs of the resources one world owns, by path-parameter name, and what they are called."""

    ids: dict[str, str]
    names: list[str]
    integration_token: str
    account_number: str = ""


def landlord_post(
    client: TestClient, world: World, path: str, body: dict[str, Any]
) -> dict[str, Any]:
    response = client.post(path, json=body, headers=world.landlord)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def populate(client: TestClient, world: World, *, label: str, count: int = 1) -> Owned:
    """``count`` integrations with a token each, and as many properties with a unit and a rent
    account; the IDs of the last of each fill the walk."""
    names: list[str] = []
    integration: dict[str, Any] = {}
    token: dict[str, Any] = {}
    prop: dict[str, Any] = {}
    unit: dict[str, Any] = {}
    account: dict[str, Any] = {}
    resident: dict[str, Any] = {}
    # A distinctive 17-digit number per world, which must never show outside it.
    account_number = f"{ord(label[0]):03d}98765432101234"
    for n in range(count):
        name = f"{label} integration {n}"
        # An AMSI integration with a connection (to a port nobody listens on), so the world
        # also owns an import run and a delivery (issue 16).
        integration = make_integration(
            client,
            world,
            name=name,
            kind="amsi",
            features=["applicant_screening", "maintenance_coordination"],
            connection={
                "url": "http://127.0.0.1:9/esite",
                "portfolio": label,
                "user_id": "u",
                "password": "p",
                "timeout_seconds": 1,
                "property_ids": [f"X{n}"],
            },
        )
        token = make_token(client, world, integration["id"])
        synced = client.post(
            f"/v1/integrations/{integration['id']}/sync",
            headers={**world.landlord, "Idempotency-Key": f"sync-{label}-{n}"},
        )
        assert synced.status_code == 200, synced.text
        prop_name, unit_name = f"{label} property {n}", f"{label} unit {n}"
        prop = landlord_post(
            client,
            world,
            "/v1/properties",
            {"name": prop_name, "external_id": f"X{n}", "address": {"street": "1 Elm"}},
        )
        claimed = client.patch(
            f"/v1/properties/{prop['id']}",
            json={"integration_id": integration["id"]},
            headers=world.landlord,
        )
        assert claimed.status_code == 200, claimed.text
        unit = landlord_post(
            client, world, f"/v1/properties/{prop['id']}/units", {"name": unit_name}
        )
        account = landlord_post(
            client,
            world,
            "/v1/deposit-accounts",
            {
                "type": "rent",
                "account_number": account_number,
                "routing_number": "110000000",
                "property_ids": [prop["id"]],
            },
        )
        resident_name = f"{label} resident {n}"
        resident = landlord_post(
            client,
            world,
            "/v1/residents/invite",
            {
                "name": resident_name,
                "email": f"{label.lower()}-resident{n}@example.com",
                "unit_id": unit["id"],
                "rent": "900.00",
                "start_date": "2026-08-01",
            },
        )
        payment = pay_as_resident(
            client, world, resident, email=f"{label.lower()}-resident{n}@example.com"
        )
        charged = client.post(
            f"/v1/sandbox/workspaces/{world.workspace_id}/payments/{payment['id']}/chargeback",
            json={"reason_code": "10.4"},
            headers=OPERATOR,
        )
        assert charged.status_code == 201, charged.text
        work_order = landlord_post(
            client,
            world,
            "/v1/work-orders",
            {"unit_id": unit["id"], "description": f"{label} leaking tap {n}"},
        )
        applied = client.post(
            "/v1/resident/applications",
            json={
                "unit_id": unit["id"],
                "desired_move_in": "2026-09-01",
                "applicants": [{"name": f"{label} applicant {n}", "email": f"{label}{n}@ap.test"}],
            },
            headers=resident_auth(client, world, f"{label.lower()}-resident{n}@example.com"),
        )
        assert applied.status_code == 201, applied.text
        delivered = client.get(
            f"/v1/integrations/{integration['id']}/deliveries", headers=world.landlord
        )
        assert delivered.status_code == 200, delivered.text
        delivery = delivered.json()["data"][0]
        hook = landlord_post(
            client,
            world,
            "/v1/webhooks",
            {"url": f"http://127.0.0.1:9/{label}", "event_types": ["connector.import_completed"]},
        )
        names.append(resident_name)
        names.extend([name, prop_name, unit_name, f"{label} leaking tap {n}"])
    return Owned(
        ids={
            "integration_id": integration["id"],
            "token_id": token["id"],
            "property_id": prop["id"],
            "unit_id": unit["id"],
            "deposit_account_id": account["id"],
            "resident_id": resident["id"],
            "lease_id": resident["lease_ids"][0],
            "payment_id": payment["id"],
            "batch_id": payment["deposit_batch_id"],
            "reversal_id": charged.json()["id"],
            "dispute_id": charged.json()["dispute"]["id"],
            "work_order_id": work_order["id"],
            "application_id": applied.json()["id"],
            "applicant_id": applied.json()["applicants"][0]["id"],
            "delivery_id": delivery["id"],
            "run_id": synced.json()["id"],
            "endpoint_id": hook["id"],
        },
        names=names,
        integration_token=token["token"],
        account_number=account_number,
    )


def resident_auth(client: TestClient, world: World, email: str) -> dict[str, str]:
    response = client.post(
        "/v1/resident/login",
        json={"email": email, "password": "s3cret-pass", "workspace_id": world.workspace_id},
    )
    assert response.status_code == 200, response.text
    return bearer(response.json()["access_token"])


def pay_as_resident(
    client: TestClient, world: World, resident: dict[str, Any], *, email: str
) -> dict[str, Any]:
    """The invited resident accepts, adds a card and pays the rent (the card is charged back,
    so the world has a reversal and a dispute to walk)."""
    mail = client.get(
        f"/v1/sandbox/workspaces/{world.workspace_id}/mailbox",
        params={"kind": "invitation", "limit": "500"},
        headers=OPERATOR,
    ).json()["data"]
    [code] = [m["data"]["invite_code"] for m in mail if m["to"] == email]
    accepted = client.post(f"/v1/resident/invites/{code}/accept", json={"password": "s3cret-pass"})
    assert accepted.status_code == 200, accepted.text
    auth = bearer(accepted.json()["access_token"])
    source = client.post(
        "/v1/resident/payment-sources",
        json={"type": "card", "number": "4242424242424242", "exp_month": 12, "exp_year": 2099},
        headers=auth,
    )
    assert source.status_code == 201, source.text
    payment = client.post(
        "/v1/resident/payments",
        json={
            "lease_id": resident["lease_ids"][0],
            "payment_source_id": source.json()["id"],
            "amount": "900.00",
        },
        headers=auth,
    )
    assert payment.status_code == 201, payment.text
    data: dict[str, Any] = payment.json()
    return data


def walk_as(
    client: TestClient, app: FastAPI, caller: Credentials, ids: dict[str, str], secrets: list[str]
) -> list[str]:
    """Call every workspace route with ``ids`` as ``caller``; each must be 404. Returns what
    was called."""
    called: list[str] = []
    for endpoint in walked(app, operator=False):
        path = fill(endpoint, ids)
        what = f"{endpoint.method} {path}"
        response = client.request(
            endpoint.method, path, headers=caller.headers_for(path), json=body_for(endpoint)
        )
        assert_not_found(response, what)
        for secret in secrets:
            assert secret not in response.text, f"{what} leaked {secret!r}"
        called.append(str(endpoint))
    return called


KNOWN_ROUTES = {
    "GET /v1/integrations/{integration_id}",
    "PATCH /v1/integrations/{integration_id}",
    "GET /v1/integrations/{integration_id}/tokens",
    "POST /v1/integrations/{integration_id}/tokens",
    "DELETE /v1/integrations/{integration_id}/tokens/{token_id}",
    "GET /v1/properties/{property_id}",
    "PATCH /v1/properties/{property_id}",
    "GET /v1/properties/{property_id}/units",
    "POST /v1/properties/{property_id}/units",
    "GET /v1/units/{unit_id}",
    "GET /v1/deposit-accounts/{deposit_account_id}",
    "PUT /v1/deposit-accounts/{deposit_account_id}/properties",
    "GET /v1/residents/{resident_id}",
    "PATCH /v1/residents/{resident_id}",
    "DELETE /v1/residents/{resident_id}",
    "POST /v1/residents/{resident_id}/approve",
    "POST /v1/residents/{resident_id}/merge",
    "GET /v1/leases/{lease_id}",
    "PATCH /v1/leases/{lease_id}",
    "POST /v1/leases/{lease_id}/end",
    "GET /v1/payments/{payment_id}",
    "POST /v1/payments/{payment_id}/void",
    "POST /v1/payments/{payment_id}/refund",
    "GET /v1/deposit-batches/{batch_id}",
    "GET /v1/reversals/{reversal_id}",
    "GET /v1/disputes/{dispute_id}",
    "POST /v1/disputes/{dispute_id}/accept",
    "POST /v1/disputes/{dispute_id}/challenge",
    "GET /v1/work-orders/{work_order_id}",
    "PATCH /v1/work-orders/{work_order_id}",
    "GET /v1/applicants/{application_id}",
    "POST /v1/applicants/{application_id}/screen",
    "POST /v1/applicants/{application_id}/decision",
    "PATCH /v1/applicants/{application_id}/people/{applicant_id}",
    "POST /v1/integration/applicants/{applicant_id}/accepted",
    "GET /v1/integrations/{integration_id}/deliveries",
    "GET /v1/integrations/{integration_id}/deliveries/{delivery_id}",
    "POST /v1/integrations/{integration_id}/deliveries/{delivery_id}/retry",
    "POST /v1/integrations/{integration_id}/sync",
    "GET /v1/integrations/{integration_id}/imports",
    "GET /v1/integrations/{integration_id}/imports/{run_id}",
}


def assert_untouched(client: TestClient, world: World, owned: Owned) -> None:
    """World B's integration is as it was: its token works and is the only one."""
    last_error = client.get("/v1/integration/last-error", headers=bearer(owned.integration_token))
    assert last_error.status_code == 200, last_error.text
    tokens = client.get(
        f"/v1/integrations/{owned.ids['integration_id']}/tokens", headers=world.landlord
    )
    assert [(t["id"], t["active"]) for t in tokens.json()["data"]] == [
        (owned.ids["token_id"], True)
    ]
    account = client.get(
        f"/v1/deposit-accounts/{owned.ids['deposit_account_id']}", headers=world.landlord
    )
    assert account.json()["property_ids"] == [owned.ids["property_id"]]
    units = client.get(f"/v1/properties/{owned.ids['property_id']}/units", headers=world.landlord)
    assert [u["id"] for u in units.json()["data"]] == [owned.ids["unit_id"]]
    resident = client.get(f"/v1/residents/{owned.ids['resident_id']}", headers=world.landlord)
    assert resident.json()["status"] == "current"
    assert resident.json()["phone"] is None
    lease = client.get(f"/v1/leases/{owned.ids['lease_id']}", headers=world.landlord)
    assert lease.json()["status"] == "active"
    assert lease.json()["pay_full_balance_only"] is False


def listed_names(client: TestClient, world: World) -> list[str]:
    response = client.get("/v1/integrations", headers=world.landlord)
    assert response.status_code == 200
    return [item["name"] for item in response.json()["data"]]


# --- the walk ---------------------------------------------------------------------------------


class TestWalkRoutes:
    def test_the_walk_covers_the_known_routes(self, app: FastAPI) -> None:
        covered = {str(e) for e in walked(app, operator=False)}

        assert covered >= KNOWN_ROUTES

    def test_every_path_parameter_is_known_to_the_walk(self, app: FastAPI) -> None:
        known = {
            "integration_id",
            "token_id",
            "property_id",
            "unit_id",
            "deposit_account_id",
            "resident_id",
            "lease_id",
            "payment_id",
            "batch_id",
            "reversal_id",
            "dispute_id",
            "work_order_id",
            "application_id",
            "applicant_id",
            "delivery_id",
            "run_id",
            "endpoint_id",
        }
        params = {name for e in walked(app, operator=False) for name in e.params}

        assert params <= known, f"teach the walk about {params - known}"

    def test_different_seeds_another_workspaces_ids_are_404(
        self, client: TestClient, app: FastAPI
    ) -> None:
        a = make_world(client, seed=1)
        b = make_world(client, seed=2)
        mine = populate(client, a, label="A")
        theirs = populate(client, b, label="B")
        assert mine.ids != theirs.ids
        # The IDs are real: world B reaches them.
        assert (
            client.get(
                f"/v1/integrations/{theirs.ids['integration_id']}", headers=b.landlord
            ).status_code
            == 200
        )

        called = walk_as(
            client,
            app,
            Credentials(a, mine.integration_token),
            theirs.ids,
            [theirs.integration_token, theirs.account_number, *theirs.names],
        )

        assert set(called) >= KNOWN_ROUTES
        assert_untouched(client, b, theirs)

    def test_same_seed_ids_that_exist_only_in_the_other_workspace_are_404(
        self, client: TestClient, app: FastAPI
    ) -> None:
        a = make_world(client, seed=7)
        b = make_world(client, seed=7)
        # With one seed both workspaces mint the same ID sequence. B owns the second
        # integration and the second token; A owns only the first of each (it needs an
        # integration token for the /v1/integration routes), so B's walked IDs are strings
        # that exist in B alone.
        mine = populate(client, a, label="A", count=1)
        theirs = populate(client, b, label="B", count=2)
        first_of_b = client.get("/v1/integrations", headers=b.landlord).json()["data"]
        assert mine.ids["integration_id"] in {i["id"] for i in first_of_b}
        assert mine.ids["integration_id"] != theirs.ids["integration_id"]
        assert mine.ids["token_id"] != theirs.ids["token_id"]

        called = walk_as(
            client,
            app,
            Credentials(a, mine.integration_token),
            theirs.ids,
            [theirs.integration_token, theirs.account_number, *theirs.names],
        )

        assert set(called) >= KNOWN_ROUTES
        tokens = client.get(
            f"/v1/integrations/{theirs.ids['integration_id']}/tokens", headers=b.landlord
        )
        assert [(t["id"], t["active"]) for t in tokens.json()["data"]] == [
            (theirs.ids["token_id"], True)
        ]
        assert (
            client.get(
                "/v1/integration/last-error", headers=bearer(theirs.integration_token)
            ).status_code
            == 200
        )

    def test_same_seed_landlord_without_anything_gets_404_for_the_other_workspaces_ids(
        self, client: TestClient, app: FastAPI
    ) -> None:
        a = make_world(client, seed=7)
        b = make_world(client, seed=7)
        theirs = populate(client, b, label="B")

        for endpoint in walked(app, operator=False):
            path = fill(endpoint, theirs.ids)
            if path.startswith("/v1/integration/"):
                continue  # A has no integration token: that is the point of this variant
            response = client.request(
                endpoint.method, path, headers=a.landlord, json=body_for(endpoint)
            )
            assert_not_found(response, f"{endpoint.method} {path}")

        assert_untouched(client, b, theirs)
        assert listed_names(client, a) == []


# --- the same ID in both workspaces -----------------------------------------------------------


class TestSameIdInTwoWorkspaces:
    """One seed, one ID, two resources: each workspace sees only its own."""

    def test_get_returns_the_callers_own_integration(self, client: TestClient) -> None:
        a = make_world(client, seed=7)
        b = make_world(client, seed=7)
        mine = make_integration(client, a, name="A's")
        theirs = make_integration(client, b, name="B's")
        assert mine["id"] == theirs["id"]

        response = client.get(f"/v1/integrations/{mine['id']}", headers=a.landlord)

        assert response.json()["name"] == "A's"

    def test_token_list_shows_only_the_callers_tokens(self, client: TestClient) -> None:
        a = make_world(client, seed=7)
        b = make_world(client, seed=7)
        mine = make_integration(client, a)
        theirs = make_integration(client, b)
        for _ in range(2):
            make_token(client, b, theirs["id"])

        response = client.get(f"/v1/integrations/{mine['id']}/tokens", headers=a.landlord)

        assert response.json()["data"] == []
        assert (
            client.get(f"/v1/integrations/{mine['id']}", headers=a.landlord).json()["active_token"]
            is None
        )

    def test_issuing_a_token_leaves_the_other_workspaces_token_working(
        self, client: TestClient
    ) -> None:
        a = make_world(client, seed=7)
        b = make_world(client, seed=7)
        mine = make_integration(client, a)
        theirs = make_integration(client, b)
        their_token = make_token(client, b, theirs["id"])

        my_token = make_token(client, a, mine["id"])

        assert my_token["id"] == their_token["id"]
        for token in (their_token["token"], my_token["token"]):
            assert (
                client.get("/v1/integration/last-error", headers=bearer(token)).status_code == 200
            )

    def test_revoking_a_token_leaves_the_other_workspaces_token_working(
        self, client: TestClient
    ) -> None:
        a = make_world(client, seed=7)
        b = make_world(client, seed=7)
        mine = make_integration(client, a)
        theirs = make_integration(client, b)
        their_token = make_token(client, b, theirs["id"])
        my_token = make_token(client, a, mine["id"])

        response = client.delete(
            f"/v1/integrations/{mine['id']}/tokens/{my_token['id']}", headers=a.landlord
        )

        assert response.status_code == 204
        last_error = client.get("/v1/integration/last-error", headers=bearer(their_token["token"]))
        assert last_error.status_code == 200
        mine_now = client.get("/v1/integration/last-error", headers=bearer(my_token["token"]))
        assert mine_now.status_code == 401


# --- listings ---------------------------------------------------------------------------------


class TestListings:
    @pytest.mark.parametrize("seeds", [(1, 2), (7, 7)], ids=["different-seeds", "same-seed"])
    def test_integrations_of_another_workspace_never_show(
        self, client: TestClient, seeds: tuple[int, int]
    ) -> None:
        a = make_world(client, seed=seeds[0])
        b = make_world(client, seed=seeds[1])
        populate(client, b, label="B", count=3)
        populate(client, a, label="A", count=2)

        names: list[str] = []
        cursor: str | None = None
        for _ in range(10):
            params: dict[str, str | int] = {"limit": 1}
            if cursor is not None:
                params["cursor"] = cursor
            page = client.get("/v1/integrations", params=params, headers=a.landlord).json()
            names.extend(item["name"] for item in page["data"])
            cursor = page["next_cursor"]
            if cursor is None:
                break

        assert sorted(names) == ["A integration 0", "A integration 1"]
        assert sorted(listed_names(client, b)) == [f"B integration {n}" for n in range(3)]

    @pytest.mark.parametrize("seeds", [(1, 2), (7, 7)], ids=["different-seeds", "same-seed"])
    def test_properties_and_deposit_accounts_of_another_workspace_never_show(
        self, client: TestClient, seeds: tuple[int, int]
    ) -> None:
        a = make_world(client, seed=seeds[0])
        b = make_world(client, seed=seeds[1])
        theirs = populate(client, b, label="B", count=3)
        mine = populate(client, a, label="A", count=2)

        props = client.get("/v1/properties", headers=a.landlord)
        accounts = client.get("/v1/deposit-accounts", headers=a.landlord)
        by_external = client.get("/v1/properties", params={"external_id": "B"}, headers=a.landlord)

        assert sorted(p["name"] for p in props.json()["data"]) == ["A property 0", "A property 1"]
        assert len(accounts.json()["data"]) == 2
        assert by_external.json()["data"] == []
        for response in (props, accounts):
            assert "B property" not in response.text
            assert "B unit" not in response.text
            assert theirs.account_number not in response.text
            assert mine.account_number not in response.text

    def test_cursor_of_another_workspace_does_not_reveal_its_items(
        self, client: TestClient
    ) -> None:
        a = make_world(client, seed=1)
        b = make_world(client, seed=2)
        populate(client, a, label="A", count=1)
        populate(client, b, label="B", count=3)
        cursor = client.get("/v1/integrations", params={"limit": 1}, headers=b.landlord).json()[
            "next_cursor"
        ]
        assert cursor is not None

        response = client.get("/v1/integrations", params={"cursor": cursor}, headers=a.landlord)

        assert response.status_code in (200, 400)
        assert "B integration" not in response.text


# --- operator routes --------------------------------------------------------------------------


class TestOperatorRoutes:
    def test_unknown_workspace_is_workspace_not_found_everywhere(
        self, client: TestClient, app: FastAPI
    ) -> None:
        make_world(client)  # a workspace exists, just not the one asked for
        routes = walked(app, operator=True)
        assert routes, "no operator route with a path parameter was found"

        for endpoint in routes:
            path = fill(
                endpoint,
                {
                    "workspace_id": UNKNOWN_WORKSPACE,
                    "payment_id": "pay_x",
                    "integration_id": "int_x",
                    "email_id": "msg_x",
                    "n": "1",
                },
            )
            response = client.request(
                endpoint.method, path, headers=OPERATOR, json=body_for(endpoint)
            )
            body = assert_not_found(response, f"{endpoint.method} {path}")
            assert body["code"] == "workspace_not_found", f"{endpoint.method} {path}: {body}"

    def test_the_walk_covers_the_known_operator_routes(self, app: FastAPI) -> None:
        covered = {str(e) for e in walked(app, operator=True)}

        assert covered >= {
            "GET /v1/sandbox/workspaces/{workspace_id}",
            "DELETE /v1/sandbox/workspaces/{workspace_id}",
            "POST /v1/sandbox/workspaces/{workspace_id}/reset",
            "GET /v1/sandbox/workspaces/{workspace_id}/clock",
            "POST /v1/sandbox/workspaces/{workspace_id}/clock/advance",
            "POST /v1/sandbox/workspaces/{workspace_id}/scenario",
            "GET /v1/sandbox/workspaces/{workspace_id}/check",
        }

    def test_deleted_workspace_is_workspace_not_found(self, client: TestClient) -> None:
        world = make_world(client)
        deleted = client.delete(f"/v1/sandbox/workspaces/{world.workspace_id}", headers=OPERATOR)
        assert deleted.status_code == 204

        response = client.get(f"/v1/sandbox/workspaces/{world.workspace_id}", headers=OPERATOR)

        assert assert_not_found(response, "GET deleted workspace")["code"] == "workspace_not_found"


class TestResidentRoutes:
    def test_a_resident_sees_only_their_own_leases(self, client: TestClient) -> None:
        a = make_world(client, seed=7)
        b = make_world(client, seed=7)
        populate(client, a, label="A")
        theirs = populate(client, b, label="B")
        login = client.post(
            "/v1/resident/login",
            json={
                "email": "a-resident0@example.com",
                "password": "s3cret-pass",
                "workspace_id": a.workspace_id,
            },
        )
        assert login.status_code == 200, login.text
        auth = bearer(login.json()["access_token"])
        leases = client.get("/v1/resident/leases", headers=auth).json()["data"]
        # Same seed: A's lease has the same ID string as B's, but it is A's lease.
        assert [lease["id"] for lease in leases] == [theirs.ids["lease_id"]]
        assert leases[0]["rent"] == "900.00"
        payments = client.get("/v1/resident/payments", headers=auth).json()["data"]
        assert [p["id"] for p in payments] == [theirs.ids["payment_id"]]
        b_payment = client.get(f"/v1/payments/{theirs.ids['payment_id']}", headers=b.landlord)
        assert b_payment.json()["resident_id"] == theirs.ids["resident_id"]
        # A resident's own routes never reach another resident's payment or source.
        other = client.get(f"/v1/resident/payments/{theirs.ids['payment_id']}x", headers=auth)
        assert_not_found(other, "another payment")
