"""The error contract (architecture.md §5, acceptance 5): every error is RFC 9457
``application/problem+json`` with a stable ``code``; a request the service cannot understand is
a 4xx, never a 500; bodies over 1 MiB are refused with 413 except on import routes."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient

import portal
import portal.main
from portal.core.errors import PortalError
from portal_tests.factories import OPERATOR, START, make_workspace, make_world

MIB = 1024 * 1024
JSON = {"content-type": "application/json"}
PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "errors"}


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert body["status"] == status
    return body


def chunks(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    """A generator body: httpx sends it with chunked encoding and no Content-Length."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


def workspace_ids(client: TestClient) -> list[str]:
    response = client.get("/v1/sandbox/workspaces", headers=OPERATOR)
    assert response.status_code == 200
    return [ws["id"] for ws in response.json()["data"]]


class TestMalformedJson:
    @pytest.mark.parametrize("raw", [b'{"name": ', b"{bad", b"{'name': 'x'}", b'{"a":1}}'])
    def test_operator_route_is_400(self, client: TestClient, raw: bytes) -> None:
        response = client.post("/v1/sandbox/workspaces", content=raw, headers={**OPERATOR, **JSON})
        body = assert_problem(response, 400, "malformed_json")
        assert body["errors"] == []
        assert workspace_ids(client) == []

    def test_unauthenticated_route_is_400(self, client: TestClient) -> None:
        response = client.post("/v1/auth/login", content=b'{"email": "a@b', headers=JSON)
        assert_problem(response, 400, "malformed_json")


class TestWrongTopLevelType:
    @pytest.mark.parametrize("raw", [b"[]", b'"x"', b"1", b"true"])
    def test_is_422(self, client: TestClient, raw: bytes) -> None:
        response = client.post("/v1/sandbox/workspaces", content=raw, headers={**OPERATOR, **JSON})
        body = assert_problem(response, 422, "validation_failed")
        assert [e["field"] for e in body["errors"]] == ["$"]
        assert workspace_ids(client) == []


class TestFieldValidation:
    def test_wrong_field_types_list_every_field(self, client: TestClient) -> None:
        response = client.post(
            "/v1/sandbox/workspaces",
            json={"name": 5, "seed": "abc", "clock": {"mode": "sundial"}},
            headers=OPERATOR,
        )

        body = assert_problem(response, 422, "validation_failed")
        fields = {e["field"] for e in body["errors"]}
        assert fields == {"$.name", "$.seed", "$.clock.mode"}
        for error in body["errors"]:
            assert isinstance(error["message"], str)
            assert error["message"]
        assert workspace_ids(client) == []

    def test_missing_fields_are_named(self, client: TestClient) -> None:
        response = client.post("/v1/auth/login", json={})

        body = assert_problem(response, 422, "validation_failed")
        assert {e["field"] for e in body["errors"]} == {"$.email", "$.password"}
        assert all(isinstance(e["message"], str) and e["message"] for e in body["errors"])

    def test_missing_field_inside_a_list_names_its_index(self, client: TestClient) -> None:
        world = make_world(client)
        response = client.post(
            f"/v1/sandbox/workspaces/{world.workspace_id}/scenario",
            json={"scenario": "t", "integrations": [{"key": "a", "kind": "landlord12"}]},
            headers=OPERATOR,
        )
        body = assert_problem(response, 422, "validation_failed")
        assert [e["field"] for e in body["errors"]] == ["$.integrations[0].name"]

    @pytest.mark.smoke
    def test_missing_body_is_422(self, client: TestClient) -> None:
        response = client.post("/v1/auth/login")
        body = assert_problem(response, 422, "validation_failed")
        assert body["errors"]


class TestBodyLimit:
    def big_workspace_body(self) -> bytes:
        return json.dumps({"name": "x" * int(1.1 * MIB)}).encode()

    def test_declared_content_length_over_1_mib_is_413(self, client: TestClient) -> None:
        data = self.big_workspace_body()

        response = client.post("/v1/sandbox/workspaces", content=data, headers={**OPERATOR, **JSON})

        assert response.request.headers["content-length"] == str(len(data))
        body = assert_problem(response, 413, "payload_too_large")
        assert body["errors"] == []
        assert workspace_ids(client) == []

    def test_streamed_body_over_1_mib_is_413(self, client: TestClient) -> None:
        response = client.post(
            "/v1/sandbox/workspaces",
            content=chunks(self.big_workspace_body()),
            headers={**OPERATOR, **JSON},
        )

        assert "content-length" not in response.request.headers
        assert response.request.headers["transfer-encoding"] == "chunked"
        assert_problem(response, 413, "payload_too_large")
        assert workspace_ids(client) == []

    def test_streamed_body_under_the_limit_is_read(self, client: TestClient) -> None:
        data = json.dumps({"name": "Streamed", "clock": {"now": START}}).encode()

        response = client.post(
            "/v1/sandbox/workspaces", content=chunks(data, 8), headers={**OPERATOR, **JSON}
        )

        assert response.status_code == 201, response.text
        assert response.json()["name"] == "Streamed"

    def test_body_just_under_1_mib_is_not_refused_for_size(self, client: TestClient) -> None:
        # Under the limit the request is read and validated: the name is too long -> 422.
        data = json.dumps({"name": "x" * (MIB - 100)}).encode()
        assert len(data) < MIB

        response = client.post("/v1/sandbox/workspaces", content=data, headers={**OPERATOR, **JSON})

        body = assert_problem(response, 422, "validation_failed")
        assert [e["field"] for e in body["errors"]] == ["$.name"]

    def test_scenario_route_accepts_2_mib_of_padding(self, client: TestClient) -> None:
        world = make_world(client)
        data = (
            b'{"scenario": "big",'
            + b" " * (2 * MIB)
            + b'"integrations": [{"key": "l12", "name": "L12", "kind": "landlord12"}]}'
        )

        response = client.post(
            f"/v1/sandbox/workspaces/{world.workspace_id}/scenario",
            content=data,
            headers={**OPERATOR, **JSON},
        )

        assert response.status_code == 200, response.text[:500]
        assert set(response.json()["keys"]) == {"l12"}

    def test_scenario_route_accepts_a_long_description(self, client: TestClient) -> None:
        world = make_world(client)

        response = client.post(
            f"/v1/sandbox/workspaces/{world.workspace_id}/scenario",
            json={"scenario": "big", "description": "d" * (2 * MIB)},
            headers=OPERATOR,
        )

        assert response.status_code == 200, response.text[:500]
        assert response.json()["scenario"] == "big"

    def test_scenario_route_accepts_a_streamed_body_over_1_mib(self, client: TestClient) -> None:
        world = make_world(client)
        data = json.dumps({"scenario": "big", "description": "d" * (2 * MIB)}).encode()

        response = client.post(
            f"/v1/sandbox/workspaces/{world.workspace_id}/scenario",
            content=chunks(data),
            headers={**OPERATOR, **JSON},
        )

        assert response.status_code == 200, response.text[:500]


class TestUnknownRoutes:
    @pytest.mark.parametrize("path", ["/v1/nope", "/nope", "/v1/sandbox/nope", "/v1/"])
    def test_unknown_route_is_404(self, client: TestClient, path: str) -> None:
        assert_problem(client.get(path, headers=OPERATOR), 404, "not_found")

    def test_wrong_method_is_405_with_allow(self, client: TestClient) -> None:
        response = client.put("/v1/sandbox/workspaces", json={}, headers=OPERATOR)

        assert_problem(response, 405, "method_not_allowed")
        # RFC 9110 §15.5.6: a 405 response carries Allow, naming methods the path accepts.
        allowed = {m.strip() for m in response.headers.get("allow", "").split(",")}
        assert "POST" in allowed
        assert allowed <= {"GET", "HEAD", "POST"}

    def test_wrong_method_on_login_is_405(self, client: TestClient) -> None:
        assert_problem(client.get("/v1/auth/login"), 405, "method_not_allowed")


def _error_cases() -> dict[str, Callable[[TestClient], httpx.Response]]:
    def clock_backwards(client: TestClient) -> httpx.Response:
        ws = make_workspace(client)
        return client.post(
            f"/v1/sandbox/workspaces/{ws['id']}/clock/advance",
            json={"to": "2000-01-01T00:00:00Z"},
            headers=OPERATOR,
        )

    def email_taken(client: TestClient) -> httpx.Response:
        landlord = {"email": "pm@example.com", "password": "password-1"}
        make_workspace(client, landlord=landlord)
        return client.post("/v1/sandbox/workspaces", json={"landlord": landlord}, headers=OPERATOR)

    return {
        "malformed_json": lambda c: c.post(
            "/v1/sandbox/workspaces", content=b"{", headers={**OPERATOR, **JSON}
        ),
        "invalid_cursor": lambda c: c.get(
            "/v1/sandbox/workspaces", params={"cursor": "!!"}, headers=OPERATOR
        ),
        "unauthorized": lambda c: c.get("/v1/sandbox/workspaces"),
        "invalid_credentials": lambda c: c.post(
            "/v1/auth/login", json={"email": "who@example.com", "password": "nope"}
        ),
        "token_invalid": lambda c: c.get(
            "/v1/integrations", headers={"Authorization": "Bearer not.a.jwt"}
        ),
        "not_found": lambda c: c.get("/v1/nope"),
        "workspace_not_found": lambda c: c.get("/v1/sandbox/workspaces/ws_x", headers=OPERATOR),
        "method_not_allowed": lambda c: c.delete("/v1/auth/login"),
        "clock_backwards": clock_backwards,
        "email_taken": email_taken,
        "payload_too_large": lambda c: c.post(
            "/v1/sandbox/workspaces",
            content=b'"' + b"x" * (2 * MIB) + b'"',
            headers={**OPERATOR, **JSON},
        ),
        "validation_failed": lambda c: c.post(
            "/v1/sandbox/workspaces", json={"seed": -1}, headers=OPERATOR
        ),
        "invalid_duration": lambda c: c.post(
            f"/v1/sandbox/workspaces/{make_workspace(c)['id']}/clock/advance",
            json={"by": "1D"},
            headers=OPERATOR,
        ),
        "invalid_idempotency_key": lambda c: c.post(
            "/v1/sandbox/workspaces", json={}, headers={**OPERATOR, "Idempotency-Key": "k" * 256}
        ),
        "invalid_character": lambda c: c.post(
            "/v1/sandbox/workspaces", content=b'{"name": "\\u0000"}', headers={**OPERATOR, **JSON}
        ),
        "invalid_encoding": lambda c: c.post(
            "/v1/sandbox/workspaces", content=b'{"name": "\xe9"}', headers={**OPERATOR, **JSON}
        ),
    }


ERROR_CASES = _error_cases()


class TestProblemEnvelope:
    @pytest.mark.parametrize("code", sorted(ERROR_CASES))
    def test_every_error_is_a_problem_without_internals(
        self, client: TestClient, code: str
    ) -> None:
        response = ERROR_CASES[code](client)

        assert 400 <= response.status_code < 500, response.text[:500]
        body = assert_problem(response, response.status_code, code)
        assert set(body) >= PROBLEM_KEYS
        assert isinstance(body["type"], str)
        assert body["type"]
        assert isinstance(body["title"], str)
        assert body["title"]
        assert isinstance(body["detail"], str)
        assert body["detail"]
        assert isinstance(body["errors"], list)
        for error in body["errors"]:
            assert {"field", "message"} <= set(error)
        for leak in ("Traceback", "SELECT", "INSERT", "sqlalchemy", "sqlite", 'File "', ".py"):
            assert leak not in response.text, leak


class TestFrameworkErrors:
    """An HTTPException raised by FastAPI or Starlette themselves gets a documented code, never
    ``http_<status>``."""

    @pytest.mark.parametrize(
        ("status", "code"),
        [(400, "bad_request"), (401, "unauthorized"), (403, "forbidden"), (418, "bad_request")],
    )
    def test_gets_the_code_of_its_status(
        self, app: FastAPI, client: TestClient, status: int, code: str
    ) -> None:
        async def fail() -> None:
            raise HTTPException(status_code=status)

        app.add_api_route("/test-only/fail", fail)

        body = assert_problem(client.get("/test-only/fail"), status, code)
        assert body["detail"]


# --- every code is documented -----------------------------------------------------------------

ROOT = Path(portal.__file__).parent
README = ROOT.parent / "README.md"
#: Calls whose third positional argument (or ``code=``) is a problem code.
PROBLEM_HELPERS = {"problem", "_response", "problem_body"}


def documented_codes() -> dict[str, set[int]]:
    """The README's code table (between the ``error-codes`` markers): code -> statuses."""
    text = README.read_text()
    section = text.split("<!-- error-codes -->", 1)[1].split("<!-- /error-codes -->", 1)[0]
    table: dict[str, set[int]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        match = re.fullmatch(r"`([a-z0-9_]+)`", cells[0]) if len(cells) == 3 else None
        if match:
            assert match[1] not in table, f"{match[1]} is listed twice"
            table[match[1]] = {int(s) for s in re.findall(r"\d{3}", cells[1])}
    return table


def _subclasses(cls: type[PortalError]) -> Iterator[type[PortalError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _constant(node: ast.expr | None, names: dict[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return names.get(node.id)
    return None


def _codes_in_source(path: Path) -> set[str]:
    """Codes written in a module: ``code = "..."`` in a class, ``code="..."`` in a call, the
    code argument of the problem helpers and of ``FieldError``; module-level string constants
    given by name are resolved."""
    tree = ast.parse(path.read_text())
    names = {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    found: set[str | None] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for stmt in node.body:
                if isinstance(stmt, ast.Assign | ast.AnnAssign):
                    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                    if any(isinstance(t, ast.Name) and t.id == "code" for t in targets):
                        found.add(_constant(stmt.value, names))
        elif isinstance(node, ast.Call):
            func = node.func
            callee = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            found.update(_constant(k.value, names) for k in node.keywords if k.arg == "code")
            if callee in PROBLEM_HELPERS | {"FieldError"} and len(node.args) > 2:
                found.add(_constant(node.args[2], names))
    return {code for code in found if code is not None}


def emitted_codes() -> dict[str, set[int]]:
    """Every code the code base can put in a problem: code -> the statuses known for it."""
    codes: dict[str, set[int]] = {}
    for cls in _subclasses(PortalError):
        codes.setdefault(cls.code, set()).add(cls.status_code)
    for path in ROOT.rglob("*.py"):
        if "migrations" not in path.parts:
            for code in _codes_in_source(path):
                codes.setdefault(code, set())
    for code in portal.main._OWN_CODES | {portal.main.FIELD_INVALID}:
        codes.setdefault(code, set())
    return codes


class TestEveryCodeIsDocumented:
    def test_the_readme_lists_every_code_the_server_can_emit(self) -> None:
        missing = sorted(set(emitted_codes()) - set(documented_codes()))
        assert not missing, f"add these codes to README.md's error-codes table: {missing}"

    def test_the_readme_lists_no_code_that_does_not_exist(self) -> None:
        stale = sorted(set(documented_codes()) - set(emitted_codes()))
        assert not stale, f"README.md's error-codes table lists codes nothing emits: {stale}"

    def test_each_error_class_is_listed_with_its_status(self) -> None:
        documented = documented_codes()
        wrong = {
            code: (statuses, documented[code])
            for code, statuses in emitted_codes().items()
            if code in documented and not statuses <= documented[code]
        }
        assert not wrong, f"code: (status in code, status in README): {wrong}"

    def test_the_collector_sees_codes_of_every_kind(self) -> None:
        codes = emitted_codes()
        # A class attribute, a keyword argument, a problem() helper in main, a named constant
        # in portal.core.inputs, a pydantic error of our own, a field-only code.
        for code in (
            "token_revoked",
            "invalid_cursor",
            "malformed_json",
            "invalid_character",
            "invalid_encoding",
            "invalid_duration",
            "outside_clock",
            "internal_error",
        ):
            assert code in codes, code
        assert not any(code.startswith("http_") for code in codes)
