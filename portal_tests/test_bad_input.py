"""Bad input is never a 500 (issue 14, scope 5; architecture.md §5).

A NUL or an unpaired UTF-16 surrogate anywhere in a request is 422 ``invalid_character`` naming
the field, on SQLite and PostgreSQL alike (PostgreSQL refuses NUL in text; no driver can encode
a lone surrogate); a JSON body that is not UTF-8 is 400 ``invalid_encoding``; JSON the parser
cannot take (nested too deep, a number too long) is 400 ``malformed_json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from portal.core.inputs import has_bad_escape, is_json_utf8
from portal_tests.factories import (
    OPERATOR,
    START,
    World,
    bearer,
    make_integration,
    make_token,
    make_workspace,
    make_world,
)

JSON = {"content-type": "application/json"}
PROBLEM = "application/problem+json"
BANK = {"account_number": "00037029011"}


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert body["status"] == status
    return body


def refused(response: httpx.Response, *fields: str) -> dict[str, Any]:
    """422 ``invalid_character`` whose field errors name exactly ``fields``, in order."""
    body = problem(response, 422, "invalid_character")
    assert [e["field"] for e in body["errors"]] == list(fields), body
    for error in body["errors"]:
        assert error["code"] == "invalid_character"
        assert error["message"]
    return body


def create_workspace(client: TestClient, raw: bytes) -> httpx.Response:
    return client.post("/v1/sandbox/workspaces", content=raw, headers={**OPERATOR, **JSON})


def workspace_count(client: TestClient) -> int:
    return len(client.get("/v1/sandbox/workspaces", headers=OPERATOR).json()["data"])


@dataclass
class Integration:
    world: World
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


@pytest.fixture
def integration(client: TestClient) -> Integration:
    world = make_world(client)
    created = make_integration(client, world)
    return Integration(world, make_token(client, world, created["id"])["token"])


def row(resident_id: str, name: str = "Philip Rivers") -> str:
    """One balance-intake row as JSON text, with ``name`` written as it stands (escapes kept)."""
    return (
        f'{{"resident_id": "{resident_id}", "property_id": "CHAP2234", '
        f'"property_address": "2234 Chapala St", "unit_id": "CHAP2234-{resident_id}", '
        f'"unit": "#1", "name": "{name}", "rent": "750.00", "balance": "0.00", '
        f'"lease_start": "2026-06-01"}}'
    )


def balances(*rows: str, extra: str = "") -> bytes:
    return (
        f'{{"bank_account": {json.dumps(BANK)}, "residents": [{", ".join(rows)}]{extra}}}'
    ).encode()


def send_balances(client: TestClient, c: Integration, raw: bytes) -> httpx.Response:
    return client.post("/v1/integration/balances", content=raw, headers={**c.headers, **JSON})


class TestNulInBody:
    @pytest.mark.smoke
    def test_a_string_field_is_422_naming_it(self, client: TestClient) -> None:
        response = create_workspace(client, b'{"name": "Oak\\u0000Street"}')

        body = refused(response, "$.name")
        assert "NUL" in body["errors"][0]["message"]
        assert workspace_count(client) == 0

    def test_a_balance_row_names_its_path_and_row(
        self, client: TestClient, integration: Integration
    ) -> None:
        raw = balances(row("t0001"), row("t0002", "Edward\\u0000Guro"), row("t0003"))

        body = refused(send_balances(client, integration, raw), "$.residents[1].name")
        assert body["errors"][0]["row"] == 1

    def test_every_bad_field_is_named(self, client: TestClient, integration: Integration) -> None:
        raw = balances(row("t0001", "A\\u0000"), row("t0002"), row("t\\u0000003", "C\\u0000"))

        refused(
            send_balances(client, integration, raw),
            "$.residents[0].name",
            "$.residents[2].resident_id",
            "$.residents[2].unit_id",
            "$.residents[2].name",
        )

    def test_a_member_name_is_named_with_the_character_escaped(
        self, client: TestClient, integration: Integration
    ) -> None:
        raw = balances(row("t0001"), extra=', "no\\u0000te": 1')

        body = refused(send_balances(client, integration, raw), "$.no\\u0000te")
        assert "member name" in body["errors"][0]["message"]

    def test_an_escaped_backslash_before_u0000_is_text(self, client: TestClient) -> None:
        response = create_workspace(
            client, b'{"name": "C:\\\\u0000", "clock": {"now": "2026-07-02T14:00:00Z"}}'
        )

        assert response.status_code == 201, response.text
        assert response.json()["name"] == "C:\\u0000"

    def test_a_raw_nul_byte_is_malformed_json(self, client: TestClient) -> None:
        # A control character is not allowed inside a JSON string (RFC 8259 §7).
        problem(create_workspace(client, b'{"name": "a\x00b"}'), 400, "malformed_json")


class TestSurrogates:
    @pytest.mark.parametrize(
        "escaped",
        [
            "\\ud800",  # a lone high surrogate
            "\\uDFFF",  # a lone low surrogate, upper-case hex
            "\\udbff\\ud800",  # two highs
            "\\ude00\\ud83d",  # a pair in the wrong order
            "x\\ud83d",  # a high surrogate at the end of the string
        ],
    )
    def test_an_unpaired_surrogate_is_422(self, client: TestClient, escaped: str) -> None:
        body = refused(create_workspace(client, f'{{"name": "{escaped}"}}'.encode()), "$.name")
        assert "surrogate" in body["errors"][0]["message"]
        assert workspace_count(client) == 0

    @pytest.mark.parametrize(
        "raw",
        [
            b'"Smile \\ud83d\\ude00"',
            b'"Smile \\uD83D\\uDE00"',
            '"Smile \U0001f600"'.encode(),
        ],
        ids=["escaped", "escaped-upper", "utf-8"],
    )
    def test_an_emoji_is_accepted(self, client: TestClient, raw: bytes) -> None:
        response = create_workspace(
            client,
            b'{"clock": {"now": "%s"}, "name": %s}'
            % (
                START.encode(),
                raw,
            ),
        )

        assert response.status_code == 201, response.text
        assert response.json()["name"] == "Smile \U0001f600"

    def test_an_emoji_in_a_balance_row_is_stored(
        self, client: TestClient, integration: Integration
    ) -> None:
        raw = balances(row("t0001", "Ren\\u00e9e \\ud83c\\udfe0"))

        response = send_balances(client, integration, raw)

        assert response.status_code == 200, response.text
        roster = client.get("/v1/integration/residents", headers=integration.headers).json()
        assert [line["name"] for line in roster["data"]] == ["Ren\u00e9e \U0001f3e0"]


class TestParameters:
    def test_a_query_parameter_is_named(self, client: TestClient) -> None:
        ws = make_workspace(client)

        response = client.get(
            f"/v1/sandbox/workspaces/{ws['id']}/mailbox", params={"to": "a\x00b"}, headers=OPERATOR
        )

        refused(response, "query.to")

    def test_a_query_parameter_name_is_named_escaped(self, client: TestClient) -> None:
        response = client.get("/v1/sandbox/workspaces?li%00mit=5", headers=OPERATOR)

        refused(response, "query.li\\u0000mit")

    def test_a_path_parameter_is_named(self, client: TestClient) -> None:
        response = client.get("/v1/sandbox/workspaces/ws_%00x", headers=OPERATOR)

        refused(response, "path.workspace_id")

    def test_a_path_parameter_of_a_money_route_is_named(self, client: TestClient) -> None:
        world = make_world(client)

        response = client.post(
            "/v1/payments/pay%00/refund", json={"amount": "1.00"}, headers=world.landlord
        )

        refused(response, "path.payment_id")

    def test_a_path_parameter_of_the_fast_read_route_is_named(
        self, client: TestClient, integration: Integration
    ) -> None:
        response = client.get(
            "/v1/integration/receipt-batches/12%0034", headers=integration.headers
        )

        refused(response, "path.batch_id")

    def test_an_idempotency_key_is_named(
        self, client: TestClient, integration: Integration
    ) -> None:
        response = client.post(
            "/v1/integration/balances",
            content=balances(row("t0001")),
            headers={**integration.headers, **JSON, "Idempotency-Key": "key\x00one"},
        )

        refused(response, "header.idempotency-key")

    def test_an_unknown_route_stays_404(self, client: TestClient) -> None:
        response = client.get("/v1/no%00such", headers=OPERATOR)

        problem(response, 404, "not_found")

    def test_path_query_and_body_are_named_together(self, client: TestClient) -> None:
        response = client.post(
            "/v1/sandbox/workspaces/ws_%00x/clock/advance?x=%00",
            content=b'{"by": "P1D\\u0000"}',
            headers={**OPERATOR, **JSON},
        )

        refused(response, "path.workspace_id", "query.x", "$.by")


class TestEncoding:
    @pytest.mark.parametrize(
        "raw",
        [
            '{"name": "Caf\u00e9"}'.encode("latin-1"),
            '{"name": "x"}'.encode("utf-16"),
            '{"name": "x"}'.encode("utf-16-le"),
            '{"name": "x"}'.encode("utf-32"),
            b'{"name": "a\xed\xa0\x80b"}',  # a surrogate encoded as if it were a character
            b'{"name": "a\xe2\x82"}',  # a truncated sequence
        ],
        ids=["latin-1", "utf-16", "utf-16-le", "utf-32", "encoded-surrogate", "truncated"],
    )
    def test_a_body_that_is_not_utf8_is_400(self, client: TestClient, raw: bytes) -> None:
        body = problem(create_workspace(client, raw), 400, "invalid_encoding")
        assert body["errors"] == []
        assert workspace_count(client) == 0

    def test_a_utf8_body_with_non_ascii_text_is_accepted(self, client: TestClient) -> None:
        raw = json.dumps({"name": "Caf\u00e9 \u00fcber", "clock": {"now": START}}).encode()

        response = create_workspace(
            client, json.dumps(json.loads(raw), ensure_ascii=False).encode()
        )

        assert response.status_code == 201, response.text
        assert response.json()["name"] == "Caf\u00e9 \u00fcber"

    def test_on_an_integration_route(self, client: TestClient, integration: Integration) -> None:
        raw = balances(row("t0001", "Ren\u00e9e")).decode().encode("latin-1")

        problem(send_balances(client, integration, raw), 400, "invalid_encoding")


DEEP = {
    "arrays": b"[" * 100_000,
    "objects": b'{"a":' * 100_000,
    "under-a-field": b'{"name": ' + b"[" * 100_000,
    "closed": b'{"name": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
}


class TestUnparseableJson:
    @pytest.mark.parametrize("raw", DEEP.values(), ids=DEEP.keys())
    def test_deep_nesting_is_malformed_json(self, client: TestClient, raw: bytes) -> None:
        body = problem(create_workspace(client, raw), 400, "malformed_json")
        assert body["errors"] == []

    def test_deep_nesting_on_every_kind_of_route(
        self, client: TestClient, integration: Integration
    ) -> None:
        deep = {**JSON}
        world = integration.world
        calls = [
            ("/v1/auth/login", {}),
            ("/v1/integration/balances", integration.headers),
            (f"/v1/sandbox/workspaces/{world.workspace_id}/scenario", OPERATOR),
            ("/v1/properties", world.landlord),
            ("/v1/resident/signup", {}),
        ]
        for path, headers in calls:
            response = client.post(path, content=b"[" * 100_000, headers={**headers, **deep})
            problem(response, 400, "malformed_json")

    def test_moderate_nesting_is_a_validation_error(self, client: TestClient) -> None:
        raw = b'{"name": ' + b"[" * 200 + b"]" * 200 + b"}"

        body = problem(create_workspace(client, raw), 422, "validation_failed")
        assert [e["field"] for e in body["errors"]] == ["$.name"]

    def test_a_number_too_long_for_python_is_malformed_json(self, client: TestClient) -> None:
        problem(create_workspace(client, b'{"seed": ' + b"7" * 5000 + b"}"), 400, "malformed_json")


class TestPrecheck:
    """The byte-level checks that keep the common case cheap (no parse unless needed)."""

    @pytest.mark.parametrize(
        ("raw", "bad"),
        [
            (b'{"a": "plain"}', False),
            (b'{"a": "\\u00e9\\u0041"}', False),
            (b'{"a": "\\ud83d\\ude00"}', False),
            (b'{"a": "\\uD83D\\uDE00\\uD83C\\uDFE0"}', False),
            (b'{"a": "\\\\u0000"}', False),  # an escaped backslash, then text
            (b'{"a": "\\\\ud800"}', False),
            (b'{"a": "\\u0000"}', True),
            (b'{"a": "\\\\\\u0000"}', True),  # an escaped backslash, then a real escape
            (b'{"a": "\\ud800"}', True),
            (b'{"a": "\\uDC00"}', True),
            (b'{"a": "\\\\uD83D\\uDE00"}', True),  # the "pair" is text, the low half is real
            (b'{"a": "\\ud83d\\ud83d\\ude00"}', True),
            (b'{"a": "\\ud83d"}', True),
        ],
    )
    def test_bad_escapes_are_found(self, raw: bytes, bad: bool) -> None:
        assert has_bad_escape(raw) is bad
        document = json.loads(raw)
        assert any(c == "\x00" or 0xD800 <= ord(c) <= 0xDFFF for c in document["a"]) is bad

    @pytest.mark.parametrize(
        ("raw", "ok"),
        [
            (b"{}", True),
            ('{"a": "\u00e9\U0001f600"}'.encode(), True),
            (b'\xef\xbb\xbf{"a": 1}', True),  # a UTF-8 byte-order mark; json takes it
            ("{}".encode("utf-16"), False),
            (b'{"a": "\xff"}', False),
            (b'{"a": "\xed\xbf\xbf"}', False),
        ],
    )
    def test_utf8_is_checked_strictly(self, raw: bytes, ok: bool) -> None:
        assert is_json_utf8(raw) is ok
