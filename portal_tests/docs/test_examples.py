"""Swagger UI's "Try it out" works (issue 18, stumble 7): every request body of the OpenAPI
document has an example, each example is valid against its body's model and the document's
schema, and the walkthrough the examples make (``portal.docs.examples``) succeeds when its
examples are sent exactly as they are, in order."""

from __future__ import annotations

import json
from typing import Any

import jsonschema_rs
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from portal.docs import examples as ex
from portal.docs.examples import EXAMPLES
from portal.docs.spec import api_routes
from portal_tests.conftest import OPERATOR_KEY
from portal_tests.spec import spec

SPEC = spec()
#: (operationId, example name, body schema, example value) of every example in the document.
CASES = [
    (op["operationId"], name, body["schema"], example["value"])
    for ops in SPEC["paths"].values()
    for op in ops.values()
    if (body := op.get("requestBody", {}).get("content", {}).get("application/json"))
    for name, example in body.get("examples", {}).items()
]


def with_bodies() -> list[str]:
    return [
        op["operationId"]
        for ops in SPEC["paths"].values()
        for op in ops.values()
        if "requestBody" in op
    ]


class TestEveryBodyHasExamples:
    def test_each_operation_with_a_body_has_an_example(self) -> None:
        missing = [op_id for op_id in with_bodies() if not any(case[0] == op_id for case in CASES)]
        assert missing == [], f"request bodies without an example: {missing}"

    def test_no_example_names_an_operation_without_a_body(self) -> None:
        assert set(EXAMPLES) <= set(with_bodies())

    def test_every_body_is_json_only(self) -> None:
        for ops in SPEC["paths"].values():
            for op in ops.values():
                if "requestBody" in op:
                    assert set(op["requestBody"]["content"]) == {"application/json"}


@pytest.mark.parametrize(("operation_id", "name", "schema", "value"), CASES)
class TestExampleIsValid:
    def test_against_the_documents_schema(
        self, operation_id: str, name: str, schema: dict[str, Any], value: Any
    ) -> None:
        validator = jsonschema_rs.Draft202012Validator({**schema, "components": SPEC["components"]})
        errors = [f"{e.instance_path}: {e.message}" for e in validator.iter_errors(value)]
        assert errors == [], f"{operation_id} example {name!r}"

    def test_against_the_routes_model(
        self, app: FastAPI, operation_id: str, name: str, schema: dict[str, Any], value: Any
    ) -> None:
        route = next(r for r in api_routes(app) if r.name == operation_id)
        assert route.body_field is not None
        _, errors = route.body_field.validate(value, {}, loc=("body",))
        assert not errors, f"{operation_id} example {name!r}: {errors}"


def first(operation_id: str) -> Any:
    """The example Swagger UI fills in."""
    return next(iter(EXAMPLES[operation_id].values())).value


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class TestWalkthroughAsIs:
    """The first examples, sent unchanged in the walkthrough's order, each answer 2xx and mint
    the IDs the later examples name."""

    def send(
        self, client: TestClient, method: str, path: str, operation_id: str, token: str
    ) -> Any:
        response = client.request(method, path, json=first(operation_id), headers=bearer(token))
        assert response.is_success, f"{operation_id}: {response.status_code} {response.text}"
        return response.json()

    def test_the_walkthrough(self, client: TestClient) -> None:
        op = OPERATOR_KEY
        ws = self.send(client, "POST", "/v1/sandbox/workspaces", "create_workspace", op)
        assert ws["id"] == ex.WORKSPACE_ID
        landlord = self.send(client, "POST", "/v1/auth/login", "login", "")["access_token"]

        integration = self.send(client, "POST", "/v1/integrations", "create_integration", landlord)
        self.send(
            client, "PATCH", f"/v1/integrations/{integration['id']}", "update_integration", landlord
        )
        token = client.post(
            f"/v1/integrations/{integration['id']}/tokens", headers=bearer(landlord)
        ).json()["token"]

        prop = self.send(client, "POST", "/v1/properties", "create_property", landlord)
        assert prop["id"] == ex.PROPERTY_ID
        unit = self.send(
            client, "POST", f"/v1/properties/{ex.PROPERTY_ID}/units", "create_unit", landlord
        )
        assert unit["id"] == ex.UNIT_ID
        self.send(client, "POST", "/v1/deposit-accounts", "create_deposit_account", landlord)

        resident = self.send(client, "POST", "/v1/resident/signup", "signup", "")
        assert resident["resident_id"] == ex.RESIDENT_ID
        approved = self.send(
            client, "POST", f"/v1/residents/{ex.RESIDENT_ID}/approve", "approve_resident", landlord
        )
        assert ex.LEASE_ID in json.dumps(approved)
        self.send(client, "PATCH", f"/v1/residents/{ex.RESIDENT_ID}", "update_resident", landlord)

        me = self.send(client, "POST", "/v1/resident/login", "resident_login", "")["access_token"]
        source = self.send(client, "POST", "/v1/resident/payment-sources", "add_payment_source", me)
        assert source["id"] == ex.SOURCE_ID
        self.send(client, "POST", "/v1/resident/payments", "make_payment", me)
        self.send(client, "POST", "/v1/resident/recurring-payments", "add_recurring_payment", me)
        self.send(client, "POST", "/v1/resident/work-orders", "report_work_order", me)
        self.send(client, "POST", "/v1/resident/applications", "apply", me)

        self.send(client, "POST", "/v1/work-orders", "create_work_order", landlord)
        self.send(client, "PATCH", f"/v1/properties/{ex.PROPERTY_ID}", "update_property", landlord)
        self.send(client, "PATCH", f"/v1/leases/{ex.LEASE_ID}", "update_lease", landlord)
        self.send(client, "POST", "/v1/integration/balances", "send_balances", token)

        clock = f"/v1/sandbox/workspaces/{ex.WORKSPACE_ID}/clock/advance"
        self.send(client, "POST", clock, "advance_clock", op)
        scenario = f"/v1/sandbox/workspaces/{ex.WORKSPACE_ID}/scenario"
        self.send(client, "POST", scenario, "load_scenario", op)
