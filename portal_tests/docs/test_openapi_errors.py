"""Each operation documents the error codes it can answer, and names the principal it accepts as
one of four security schemes (issue 18, stumble 7; ``portal.docs.errors``, ``portal.docs.spec``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from portal.docs import errors as table
from portal.docs.spec import SECURITY_SCHEMES, api_routes
from portal_tests.conftest import OPERATOR_KEY
from portal_tests.spec import spec

ROOT = Path(__file__).resolve().parents[2]
SPEC = spec()
OPERATIONS = [
    (path, method, op) for path, ops in SPEC["paths"].items() for method, op in ops.items()
]
PUBLIC = {"healthz", "readyz", "login", "signup", "resident_login", "accept_invite"}


def documented(op: dict[str, Any]) -> dict[int, set[str]]:
    """status -> the codes an operation lists under it."""
    out: dict[int, set[str]] = {}
    for status, response in op["responses"].items():
        if 400 <= int(status) < 500:
            examples = response["content"]["application/problem+json"].get("examples", {})
            out[int(status)] = set(examples)
    return out


def readme_codes() -> set[str]:
    readme = (ROOT / "README.md").read_text()
    listed = re.search(r"<!-- error-codes -->(.*?)<!-- /error-codes -->", readme, re.S)
    assert listed is not None
    return set(re.findall(r"^\| `([a-z0-9_]+)` \|", listed.group(1), re.M))


class TestTheTable:
    def test_covers_every_route(self, app: FastAPI) -> None:
        routes = {route.name for route in api_routes(app)}
        assert routes - set(table.OPERATION_ERRORS) == set(), "routes missing from the table"
        assert set(table.OPERATION_ERRORS) - routes == set(), "table entries without a route"

    def test_every_class_code_is_in_the_hierarchy(self) -> None:
        hierarchy = table.hierarchy()
        for op_id, errors in table.OPERATION_ERRORS.items():
            for error in errors:
                if not isinstance(error, table.Adhoc):
                    assert hierarchy.get(error.code) == error.status_code, (op_id, error.code)

    def test_every_adhoc_code_is_raised_or_rendered(self) -> None:
        """An ``Adhoc`` code is spelled where it is raised (``code="..."``), rendered (a
        handler's constant) or reported (a pydantic error type), outside this table."""
        sources = "\n".join(
            path.read_text()
            for path in (ROOT / "portal").rglob("*.py")
            if "docs" not in path.relative_to(ROOT / "portal").parts
        )
        for adhoc in table.ADHOC:
            assert f'"{adhoc.code}"' in sources, adhoc.code

    def test_an_adhoc_code_is_not_a_class_of_another_status(self) -> None:
        hierarchy = table.hierarchy()
        for adhoc in table.ADHOC:
            assert hierarchy.get(adhoc.code, adhoc.status_code) == adhoc.status_code

    def test_each_listed_code_is_a_known_one(self) -> None:
        known = table.hierarchy() | {a.code: a.status_code for a in table.ADHOC}
        for path, method, op in OPERATIONS:
            for status, codes in documented(op).items():
                for code in codes:
                    assert known.get(code) == status, f"{method} {path}: {status} {code}"

    def test_each_listed_code_is_in_the_readme(self) -> None:
        listed = {code for _, _, op in OPERATIONS for c in documented(op).values() for code in c}
        assert listed - readme_codes() == set()


class TestTheDocument:
    def test_every_error_status_lists_its_codes(self) -> None:
        for path, method, op in OPERATIONS:
            for status, codes in documented(op).items():
                assert codes, f"{method.upper()} {path}: {status} lists no code"
                description = op["responses"][str(status)]["description"]
                assert all(f"`{c}`" in description for c in codes)

    def test_not_answered_statuses_are_declared_and_uncoded(self, app: FastAPI) -> None:
        for route in api_routes(app):
            for status in table.NOT_ANSWERED.get(route.name, ()):
                assert status in (route.responses or {}), (route.name, status)
                op = next(o for _, _, o in OPERATIONS if o["operationId"] == route.name)
                assert str(status) not in op["responses"]

    def test_errors_are_problem_json_only(self) -> None:
        for _, _, op in OPERATIONS:
            for status, response in op["responses"].items():
                if 400 <= int(status) < 500:
                    assert set(response["content"]) == {"application/problem+json"}

    def test_problem_schema_has_no_one_example_code(self) -> None:
        code = SPEC["components"]["schemas"]["Problem"]["properties"]["code"]
        assert "examples" not in code

    def test_examples_of_a_response_are_problems_with_its_status(self) -> None:
        for _, _, op in OPERATIONS:
            for status, response in op["responses"].items():
                if not 400 <= int(status) < 500:
                    continue
                for code, example in response["content"]["application/problem+json"][
                    "examples"
                ].items():
                    assert example == {"$ref": f"#/components/examples/{code}"}
                    value = SPEC["components"]["examples"][code]["value"]
                    assert (value["status"], value["code"]) == (int(status), code)
                    assert value["type"].endswith(f"/{code}")

    @pytest.mark.parametrize(
        ("operation_id", "status", "code"),
        [
            ("void_payment", 409, "payment_not_voidable"),
            ("void_payment", 404, "payment_not_found"),
            ("void_payment", 401, "token_expired"),
            ("advance_clock", 409, "clock_backwards"),
            ("advance_clock", 404, "workspace_not_found"),
            ("advance_clock", 401, "invalid_operator_key"),
            ("advance_clock", 415, "unsupported_media_type"),
            ("make_payment", 402, "card_declined"),
            ("make_payment", 409, "daily_payment_limit_reached"),
            ("make_payment", 422, "idempotency_key_reused"),
            ("last_error", 401, "token_revoked"),
            ("list_receipt_batches", 400, "invalid_cursor"),
            ("create_workspace", 409, "workspace_exists"),
            ("login", 401, "invalid_credentials"),
        ],
    )
    def test_known_codes_are_listed(self, operation_id: str, status: int, code: str) -> None:
        op = next(op for _, _, op in OPERATIONS if op["operationId"] == operation_id)
        assert code in documented(op)[status]

    def test_a_route_without_a_body_lists_no_body_codes(self) -> None:
        op = SPEC["paths"]["/v1/payments/{payment_id}"]["get"]
        codes = documented(op)
        assert 415 not in codes
        assert "malformed_json" not in codes.get(400, set())


class TestSecuritySchemes:
    def test_four_schemes_and_no_generic_one(self) -> None:
        assert SPEC["components"]["securitySchemes"] == SECURITY_SCHEMES
        assert set(SECURITY_SCHEMES) == {
            "OperatorKey",
            "LandlordSession",
            "IntegrationToken",
            "ResidentSession",
        }

    def test_each_operation_names_its_principal(self) -> None:
        for path, method, op in OPERATIONS:
            names = [name for requirement in op.get("security", []) for name in requirement]
            if op["operationId"] in PUBLIC:
                assert names == [], path
            elif path.startswith(("/v1/events", "/v1/webhooks")):
                # Events and webhooks: each principal its own (the operator with ?workspace=).
                assert names == ["IntegrationToken", "LandlordSession", "OperatorKey"], path
            elif path.startswith("/v1/sandbox/"):
                assert names == ["OperatorKey"], path
            elif path.startswith("/v1/integration/"):
                assert names == ["IntegrationToken"], path
            elif path.startswith("/v1/resident/"):
                assert names == ["ResidentSession"], path
            else:
                assert names == ["LandlordSession"], f"{method} {path}"

    def test_the_scheme_is_the_one_the_route_takes(self, client: TestClient) -> None:
        """An operator key where a landlord session is named is refused, and the named one
        passes the door (a 404 for a missing workspace is past authentication)."""
        operator = {"Authorization": f"Bearer {OPERATOR_KEY}"}
        assert client.get("/v1/properties", headers=operator).status_code == 401
        assert client.get("/v1/sandbox/workspaces/ws_none", headers=operator).status_code == 404


class TestFormBodies:
    """A body that is not JSON gets 415 ``unsupported_media_type`` saying to send JSON (issue 18,
    stumble 6), not a 422 about dictionaries."""

    @pytest.mark.parametrize(
        "send",
        [
            {"data": {"name": "Demo"}},
            {"files": {"file": ("ws.json", b'{"name": "Demo"}')}},
            {"content": b'{"name": "Demo"}', "headers": {"Content-Type": "text/plain"}},
            {"content": b'{"name": "Demo"}'},
        ],
        ids=["form", "multipart", "text", "no-content-type"],
    )
    def test_a_json_route_refuses_other_media(
        self, client: TestClient, send: dict[str, Any]
    ) -> None:
        headers = {"Authorization": f"Bearer {OPERATOR_KEY}", **send.pop("headers", {})}
        response = client.post("/v1/sandbox/workspaces", headers=headers, **send)
        assert response.status_code == 415
        assert response.headers["content-type"].startswith("application/problem+json")
        body = response.json()
        assert body["code"] == "unsupported_media_type"
        assert "application/json" in body["detail"]

    def test_json_still_works_and_authentication_comes_first(self, client: TestClient) -> None:
        operator = {"Authorization": f"Bearer {OPERATOR_KEY}"}
        assert client.post("/v1/sandbox/workspaces", json={}, headers=operator).status_code == 201
        vendor_json = {**operator, "Content-Type": "application/vnd.api+json"}
        response = client.post("/v1/sandbox/workspaces", content=b"{}", headers=vendor_json)
        assert response.status_code == 201
        assert client.post("/v1/sandbox/workspaces", data={"a": "b"}).status_code == 401

    def test_an_empty_form_body_is_a_missing_body(self, client: TestClient) -> None:
        operator = {
            "Authorization": f"Bearer {OPERATOR_KEY}",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        response = client.post(
            "/v1/sandbox/workspaces/ws_none/clock/advance", content=b"", headers=operator
        )
        assert response.status_code in (404, 422)
