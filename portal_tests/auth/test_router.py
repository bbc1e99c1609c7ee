"""The HTTP contract of login, integrations and integration tokens (architecture.md §5-§7, §11)."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from jose import jwt
from sqlalchemy import Engine, select
from sqlmodel import SQLModel

from portal_tests.conftest import OPERATOR_KEY, SECRET_KEY
from portal_tests.factories import (
    OPERATOR,
    World,
    advance,
    bearer,
    make_integration,
    make_token,
    make_world,
)

PROBLEM_JSON = "application/problem+json"
LANDLORD_ROUTE = "/v1/integrations"
INTEGRATION_ROUTE = "/v1/integration/last-error"
ALL_OPTIONS_OFF = {
    "sync_daily": False,
    "send_in_background": False,
    "send_after_deposit_slip": False,
    "send_after_scheduled_receivables": False,
    "send_balances_automatically": False,
    "send_maintenance_with_balances": False,
}


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code, body
    return body


def assert_unauthorized(response: httpx.Response, code: str) -> None:
    assert_problem(response, 401, code)
    assert response.headers["www-authenticate"] == "Bearer"


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_json(value: Any) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def segment_json(segment: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    return data


def claims_of(token: str) -> dict[str, Any]:
    return segment_json(token.split(".")[1])


def integration_token(client: TestClient, world: World) -> str:
    integration = make_integration(client, world)
    token: str = make_token(client, world, integration["id"])["token"]
    return token


# --- login ------------------------------------------------------------------------------------


class TestLogin:
    @pytest.mark.smoke
    def test_success_returns_a_bearer_token_expiring_60_minutes_later_on_the_workspace_clock(
        self, client: TestClient
    ) -> None:
        world = make_world(client)

        response = client.post(
            "/v1/auth/login", json={"email": world.email, "password": world.password}
        )

        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"access_token", "token_type", "expires_at"}
        assert body["token_type"] == "bearer"
        assert instant(body["expires_at"]) == datetime(2026, 7, 2, 15, 0, tzinfo=UTC)
        assert client.get(LANDLORD_ROUTE, headers=bearer(body["access_token"])).status_code == 200

    def test_expiry_follows_the_workspace_clock_after_it_moved(self, client: TestClient) -> None:
        world = make_world(client)
        advance(client, world.workspace_id, by="PT2H")

        response = client.post(
            "/v1/auth/login", json={"email": world.email, "password": world.password}
        )

        assert response.status_code == 200
        assert instant(response.json()["expires_at"]) == datetime(2026, 7, 2, 17, 0, tzinfo=UTC)

    def test_wrong_password_is_invalid_credentials(self, client: TestClient) -> None:
        world = make_world(client)

        response = client.post(
            "/v1/auth/login", json={"email": world.email, "password": world.password + "x"}
        )

        assert_unauthorized(response, "invalid_credentials")

    def test_unknown_email_answers_exactly_like_a_wrong_password(self, client: TestClient) -> None:
        world = make_world(client)

        wrong_password = client.post(
            "/v1/auth/login", json={"email": world.email, "password": "not-the-password"}
        )
        unknown_email = client.post(
            "/v1/auth/login",
            json={"email": "nobody@portal.test", "password": "not-the-password"},
        )

        assert_unauthorized(unknown_email, "invalid_credentials")
        assert unknown_email.status_code == wrong_password.status_code
        assert unknown_email.json() == wrong_password.json()

    def test_email_is_case_insensitive(self, client: TestClient) -> None:
        world = make_world(client)

        response = client.post(
            "/v1/auth/login", json={"email": world.email.upper(), "password": world.password}
        )

        assert response.status_code == 200, response.text
        token = response.json()["access_token"]
        assert client.get(LANDLORD_ROUTE, headers=bearer(token)).status_code == 200


# --- integrations -----------------------------------------------------------------------------


class TestCreateIntegration:
    @pytest.mark.smoke
    @pytest.mark.parametrize("kind", ["landlord12", "amsi", "mri"])
    def test_each_kind_is_created(self, client: TestClient, kind: str) -> None:
        world = make_world(client)

        response = client.post(
            "/v1/integrations", json={"name": f"My {kind}", "kind": kind}, headers=world.landlord
        )

        assert response.status_code == 201, response.text
        body = response.json()
        assert body["kind"] == kind
        assert body["name"] == f"My {kind}"
        assert body["features"] == []
        assert body["active_token"] is None
        assert instant(body["created_at"]) == datetime(2026, 7, 2, 14, 0, tzinfo=UTC)

    def test_features_are_deduplicated_and_sorted(self, client: TestClient) -> None:
        world = make_world(client)

        body = make_integration(
            client,
            world,
            features=[
                "maintenance_coordination",
                "applicant_screening",
                "maintenance_coordination",
                "document_portal",
                "applicant_screening",
            ],
        )

        assert body["features"] == [
            "applicant_screening",
            "document_portal",
            "maintenance_coordination",
        ]
        again = client.get(f"/v1/integrations/{body['id']}", headers=world.landlord)
        assert again.json()["features"] == body["features"]

    def test_unknown_feature_is_refused(self, client: TestClient) -> None:
        world = make_world(client)

        response = client.post(
            "/v1/integrations",
            json={"name": "L12", "kind": "landlord12", "features": ["teleportation"]},
            headers=world.landlord,
        )

        body = assert_problem(response, 422, "validation_failed")
        assert [e["field"] for e in body["errors"]] == ["$.features[0]"]

    def test_unknown_kind_is_refused(self, client: TestClient) -> None:
        world = make_world(client)

        response = client.post(
            "/v1/integrations", json={"name": "Yardi", "kind": "yardi"}, headers=world.landlord
        )

        body = assert_problem(response, 422, "validation_failed")
        assert [e["field"] for e in body["errors"]] == ["$.kind"]

    def test_missing_name_names_the_field(self, client: TestClient) -> None:
        world = make_world(client)

        response = client.post(
            "/v1/integrations", json={"kind": "landlord12"}, headers=world.landlord
        )

        body = assert_problem(response, 422, "validation_failed")
        assert [e["field"] for e in body["errors"]] == ["$.name"]
        assert all(e["message"] for e in body["errors"])

    def test_unknown_field_is_refused(self, client: TestClient) -> None:
        world = make_world(client)

        response = client.post(
            "/v1/integrations",
            json={"name": "L12", "kind": "landlord12", "colour": "blue"},
            headers=world.landlord,
        )

        body = assert_problem(response, 422, "validation_failed")
        assert [e["field"] for e in body["errors"]] == ["$.colour"]

    def test_nothing_is_created_when_refused(self, client: TestClient) -> None:
        world = make_world(client)

        client.post("/v1/integrations", json={"kind": "landlord12"}, headers=world.landlord)

        assert client.get(LANDLORD_ROUTE, headers=world.landlord).json()["data"] == []

    def test_needs_a_landlord(self, client: TestClient) -> None:
        response = client.post("/v1/integrations", json={"name": "L12", "kind": "landlord12"})

        assert_unauthorized(response, "unauthorized")


class TestProcessingOptions:
    def test_default_to_all_off(self, client: TestClient) -> None:
        world = make_world(client)

        body = make_integration(client, world)

        assert body["processing_options"] == ALL_OPTIONS_OFF

    def test_round_trip(self, client: TestClient) -> None:
        world = make_world(client)
        options = {**ALL_OPTIONS_OFF, "sync_daily": True, "send_maintenance_with_balances": True}

        created = make_integration(client, world, processing_options=options)
        fetched = client.get(f"/v1/integrations/{created['id']}", headers=world.landlord).json()
        listed = client.get(LANDLORD_ROUTE, headers=world.landlord).json()["data"]

        assert created["processing_options"] == options
        assert fetched["processing_options"] == options
        assert [i["processing_options"] for i in listed] == [options]

    def test_partial_options_fill_the_rest_with_defaults(self, client: TestClient) -> None:
        world = make_world(client)

        body = make_integration(client, world, processing_options={"send_in_background": True})

        assert body["processing_options"] == {**ALL_OPTIONS_OFF, "send_in_background": True}

    def test_unknown_option_is_refused(self, client: TestClient) -> None:
        world = make_world(client)

        response = client.post(
            "/v1/integrations",
            json={"name": "L12", "kind": "landlord12", "processing_options": {"turbo": True}},
            headers=world.landlord,
        )

        body = assert_problem(response, 422, "validation_failed")
        assert [e["field"] for e in body["errors"]] == ["$.processing_options.turbo"]


class TestListIntegrations:
    def test_pages_follow_next_cursor_without_repeats_or_skips(self, client: TestClient) -> None:
        world = make_world(client)
        created = [make_integration(client, world, name=f"Integration {n}")["id"] for n in range(3)]

        seen: list[str] = []
        cursor: str | None = None
        pages = 0
        while True:
            params: dict[str, str | int] = {"limit": 1}
            if cursor is not None:
                params["cursor"] = cursor
            response = client.get(LANDLORD_ROUTE, params=params, headers=world.landlord)
            assert response.status_code == 200, response.text
            page = response.json()
            assert len(page["data"]) <= 1
            seen.extend(item["id"] for item in page["data"])
            pages += 1
            cursor = page["next_cursor"]
            if cursor is None:
                break
            assert pages < 10, "pagination does not terminate"

        assert len(seen) == len(set(seen)) == 3
        assert set(seen) == set(created)
        assert pages == 3

    def test_one_page_holds_everything_by_default(self, client: TestClient) -> None:
        world = make_world(client)
        created = {make_integration(client, world, name=f"Integration {n}")["id"] for n in range(3)}

        page = client.get(LANDLORD_ROUTE, headers=world.landlord).json()

        assert {item["id"] for item in page["data"]} == created
        assert page["next_cursor"] is None

    @pytest.mark.parametrize("cursor", ["not-a-cursor", "@@@", "e30"])
    def test_garbage_cursor_is_invalid_cursor(self, client: TestClient, cursor: str) -> None:
        world = make_world(client)

        response = client.get(LANDLORD_ROUTE, params={"cursor": cursor}, headers=world.landlord)

        assert_problem(response, 400, "invalid_cursor")

    @pytest.mark.parametrize("key", [{}, [1], 5], ids=["object", "array", "number"])
    def test_well_formed_cursor_this_server_never_issued_is_invalid_cursor(
        self, client: TestClient, key: Any
    ) -> None:
        world = make_world(client)
        make_integration(client, world)
        cursor = base64.urlsafe_b64encode(json.dumps(key).encode()).decode()

        response = client.get(LANDLORD_ROUTE, params={"cursor": cursor}, headers=world.landlord)

        assert_problem(response, 400, "invalid_cursor")


class TestGetIntegration:
    def test_returns_what_was_created(self, client: TestClient) -> None:
        world = make_world(client)
        created = make_integration(client, world, kind="mri", features=["document_portal"])

        response = client.get(f"/v1/integrations/{created['id']}", headers=world.landlord)

        assert response.status_code == 200
        assert response.json() == created

    def test_unknown_id_is_integration_not_found(self, client: TestClient) -> None:
        world = make_world(client)

        response = client.get("/v1/integrations/int_doesnotexist", headers=world.landlord)

        assert_problem(response, 404, "integration_not_found")

    def test_active_token_shows_metadata_never_the_token(self, client: TestClient) -> None:
        world = make_world(client)
        integration = make_integration(client, world)
        issued = make_token(client, world, integration["id"])

        response = client.get(f"/v1/integrations/{integration['id']}", headers=world.landlord)

        active = response.json()["active_token"]
        assert active == {
            "id": issued["id"],
            "last4": issued["token"][-4:],
            "active": True,
            "created_at": issued["created_at"],
            "revoked_at": None,
        }
        assert "token" not in active
        assert issued["token"] not in response.text

    def test_active_token_follows_the_newest_token(self, client: TestClient) -> None:
        world = make_world(client)
        integration = make_integration(client, world)
        make_token(client, world, integration["id"])
        second = make_token(client, world, integration["id"])

        one = client.get(f"/v1/integrations/{integration['id']}", headers=world.landlord).json()
        listed = client.get(LANDLORD_ROUTE, headers=world.landlord).json()["data"]

        assert one["active_token"]["id"] == second["id"]
        assert [i["active_token"]["id"] for i in listed] == [second["id"]]

    def test_active_token_is_null_after_revocation(self, client: TestClient) -> None:
        world = make_world(client)
        integration = make_integration(client, world)
        issued = make_token(client, world, integration["id"])
        client.delete(
            f"/v1/integrations/{integration['id']}/tokens/{issued['id']}", headers=world.landlord
        )

        response = client.get(f"/v1/integrations/{integration['id']}", headers=world.landlord)

        assert response.json()["active_token"] is None


# --- tokens (acceptance 2) --------------------------------------------------------------------


class TestIssueToken:
    def test_new_token_works_on_last_error(self, client: TestClient) -> None:
        world = make_world(client)
        integration = make_integration(client, world)

        response = client.post(
            f"/v1/integrations/{integration['id']}/tokens", headers=world.landlord
        )

        assert response.status_code == 201
        issued = response.json()
        assert set(issued) == {"id", "token", "created_at"}
        last_error = client.get(INTEGRATION_ROUTE, headers=bearer(issued["token"]))
        assert last_error.status_code == 200
        assert last_error.json() == {"error": None}

    def test_second_token_revokes_the_first(self, client: TestClient) -> None:
        world = make_world(client)
        integration = make_integration(client, world)
        first = make_token(client, world, integration["id"])
        second = make_token(client, world, integration["id"])

        assert first["token"] != second["token"]
        assert_unauthorized(
            client.get(INTEGRATION_ROUTE, headers=bearer(first["token"])), "token_revoked"
        )
        assert client.get(INTEGRATION_ROUTE, headers=bearer(second["token"])).status_code == 200

    def test_token_of_one_integration_leaves_the_others_alone(self, client: TestClient) -> None:
        world = make_world(client)
        one = make_integration(client, world, name="One")
        other = make_integration(client, world, name="Other")
        token_one = make_token(client, world, one["id"])

        make_token(client, world, other["id"])

        assert client.get(INTEGRATION_ROUTE, headers=bearer(token_one["token"])).status_code == 200

    def test_unknown_integration_is_integration_not_found(self, client: TestClient) -> None:
        world = make_world(client)

        response = client.post("/v1/integrations/int_doesnotexist/tokens", headers=world.landlord)

        assert_problem(response, 404, "integration_not_found")


class TestRevokeToken:
    def test_revoked_token_is_token_revoked(self, client: TestClient) -> None:
        world = make_world(client)
        integration = make_integration(client, world)
        issued = make_token(client, world, integration["id"])

        response = client.delete(
            f"/v1/integrations/{integration['id']}/tokens/{issued['id']}", headers=world.landlord
        )

        assert response.status_code == 204
        assert response.content == b""
        assert_unauthorized(
            client.get(INTEGRATION_ROUTE, headers=bearer(issued["token"])), "token_revoked"
        )

    def test_revoking_twice_is_204_and_keeps_the_first_revocation_time(
        self, client: TestClient
    ) -> None:
        world = make_world(client)
        integration = make_integration(client, world)
        issued = make_token(client, world, integration["id"])
        path = f"/v1/integrations/{integration['id']}/tokens/{issued['id']}"
        client.delete(path, headers=world.landlord)
        first = client.get(f"/v1/integrations/{integration['id']}/tokens", headers=world.landlord)
        advance(client, world.workspace_id, by="PT5M")

        response = client.delete(path, headers=world.landlord)

        assert response.status_code == 204
        again = client.get(f"/v1/integrations/{integration['id']}/tokens", headers=world.landlord)
        assert again.json() == first.json()
        assert_unauthorized(
            client.get(INTEGRATION_ROUTE, headers=bearer(issued["token"])), "token_revoked"
        )

    def test_unknown_token_is_token_not_found(self, client: TestClient) -> None:
        world = make_world(client)
        integration = make_integration(client, world)

        response = client.delete(
            f"/v1/integrations/{integration['id']}/tokens/tok_doesnotexist",
            headers=world.landlord,
        )

        assert_problem(response, 404, "token_not_found")

    def test_token_of_another_integration_is_token_not_found(self, client: TestClient) -> None:
        world = make_world(client)
        one = make_integration(client, world, name="One")
        other = make_integration(client, world, name="Other")
        issued = make_token(client, world, one["id"])

        response = client.delete(
            f"/v1/integrations/{other['id']}/tokens/{issued['id']}", headers=world.landlord
        )

        assert_problem(response, 404, "token_not_found")
        assert client.get(INTEGRATION_ROUTE, headers=bearer(issued["token"])).status_code == 200

    def test_revoking_the_superseded_token_leaves_the_new_one_working(
        self, client: TestClient
    ) -> None:
        world = make_world(client)
        integration = make_integration(client, world)
        first = make_token(client, world, integration["id"])
        second = make_token(client, world, integration["id"])

        response = client.delete(
            f"/v1/integrations/{integration['id']}/tokens/{first['id']}", headers=world.landlord
        )

        assert response.status_code == 204
        assert client.get(INTEGRATION_ROUTE, headers=bearer(second["token"])).status_code == 200


class TestListTokens:
    def test_lists_metadata_oldest_first(self, client: TestClient) -> None:
        world = make_world(client)
        integration = make_integration(client, world)
        first = make_token(client, world, integration["id"])
        advance(client, world.workspace_id, by="PT10M")
        second = make_token(client, world, integration["id"])

        response = client.get(
            f"/v1/integrations/{integration['id']}/tokens", headers=world.landlord
        )

        assert response.status_code == 200
        body = response.json()
        assert body["next_cursor"] is None
        assert body["data"] == [
            {
                "id": first["id"],
                "last4": first["token"][-4:],
                "active": False,
                "created_at": "2026-07-02T14:00:00Z",
                "revoked_at": "2026-07-02T14:10:00Z",
            },
            {
                "id": second["id"],
                "last4": second["token"][-4:],
                "active": True,
                "created_at": "2026-07-02T14:10:00Z",
                "revoked_at": None,
            },
        ]

    def test_never_contains_an_issued_token(self, client: TestClient) -> None:
        world = make_world(client)
        integration = make_integration(client, world)
        tokens = [make_token(client, world, integration["id"])["token"] for _ in range(3)]

        response = client.get(
            f"/v1/integrations/{integration['id']}/tokens", headers=world.landlord
        )

        assert len(response.json()["data"]) == 3
        for token in tokens:
            assert token not in response.text
            assert token.rsplit(".", 1)[1] not in response.text
        for item in response.json()["data"]:
            assert set(item) == {"id", "last4", "active", "created_at", "revoked_at"}

    def test_unknown_integration_is_integration_not_found(self, client: TestClient) -> None:
        world = make_world(client)

        response = client.get("/v1/integrations/int_doesnotexist/tokens", headers=world.landlord)

        assert_problem(response, 404, "integration_not_found")


def _cells(engine: Engine) -> list[str]:
    """Every cell of every table, as text."""
    cells: list[str] = []
    with engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            for row in connection.execute(select(table)):
                for value in row:
                    if isinstance(value, dict | list):
                        cells.append(json.dumps(value))
                    elif isinstance(value, bytes):
                        cells.append(value.decode("latin-1"))
                    else:
                        cells.append(str(value))
    return cells


class TestTokenStorage:
    def test_only_the_sha256_of_a_token_is_stored(self, client: TestClient, engine: Engine) -> None:
        world = make_world(client)
        integration = make_integration(client, world)
        tokens = [make_token(client, world, integration["id"])["token"] for _ in range(2)]

        cells = _cells(engine)

        for token in tokens:
            signature = token.rsplit(".", 1)[1]
            assert not [c for c in cells if token in c]
            assert not [c for c in cells if signature in c]
            assert hashlib.sha256(token.encode()).hexdigest() in cells

    def test_landlord_password_is_not_stored(self, client: TestClient, engine: Engine) -> None:
        world = make_world(client)

        cells = _cells(engine)

        assert not [c for c in cells if world.password in c]

    def test_tokens_of_a_scenario_loaded_with_an_idempotency_key_are_not_stored(
        self, client: TestClient, engine: Engine
    ) -> None:
        world = make_world(client)
        scenario = {
            "scenario": "tokens",
            "integrations": [
                {"key": "l12", "name": "Landlord 12", "kind": "landlord12", "issue_token": True}
            ],
        }
        response = client.post(
            f"/v1/sandbox/workspaces/{world.workspace_id}/scenario",
            json=scenario,
            headers={**OPERATOR, "Idempotency-Key": "load-tokens-1"},
        )
        assert response.status_code == 200, response.text
        token = response.json()["tokens"]["l12"]

        cells = _cells(engine)

        assert not [c for c in cells if token in c]
        assert not [c for c in cells if token.rsplit(".", 1)[1] in c]
        assert hashlib.sha256(token.encode()).hexdigest() in cells


# --- forged and misused credentials (acceptance 3) --------------------------------------------


@dataclass(frozen=True)
class Target:
    """A real token and a route it opens."""

    name: str
    token: str
    path: str


@pytest.fixture(params=["landlord", "integration"])
def target(request: pytest.FixtureRequest, client: TestClient) -> Target:
    world = make_world(client)
    if request.param == "landlord":
        result = Target("landlord", world.landlord_token, LANDLORD_ROUTE)
    else:
        result = Target("integration", integration_token(client, world), INTEGRATION_ROUTE)
    # The genuine token opens the route, so each refusal below is due to the forgery alone.
    assert client.get(result.path, headers=bearer(result.token)).status_code == 200
    return result


class TestForgedTokens:
    @pytest.mark.parametrize("alg", ["none", "None", "NONE"])
    def test_alg_none_is_refused(self, client: TestClient, target: Target, alg: str) -> None:
        header = b64url_json({"alg": alg, "typ": "JWT"})
        forged = f"{header}.{target.token.split('.')[1]}."

        response = client.get(target.path, headers=bearer(forged))

        assert_unauthorized(response, "token_invalid")

    def test_signed_with_another_key_is_refused(self, client: TestClient, target: Target) -> None:
        forged = jwt.encode(claims_of(target.token), "another-key", algorithm="HS256")

        response = client.get(target.path, headers=bearer(forged))

        assert_unauthorized(response, "token_invalid")

    @pytest.mark.parametrize("claim", ["sub", "ws"])
    def test_tampered_payload_is_refused(
        self, client: TestClient, target: Target, claim: str
    ) -> None:
        header, _payload, signature = target.token.split(".")
        claims = claims_of(target.token)
        claims[claim] = claims[claim] + "x"
        forged = f"{header}.{b64url_json(claims)}.{signature}"

        response = client.get(target.path, headers=bearer(forged))

        assert_unauthorized(response, "token_invalid")

    def test_landlord_token_moved_to_a_twin_workspace_is_refused(self, client: TestClient) -> None:
        mine = make_world(client, seed=7)
        twin = make_world(client, seed=7)
        claims = claims_of(mine.landlord_token)
        # Same seed: the twin's landlord user has the same ID, so only the signature stands
        # between this token and the twin workspace.
        assert claims["sub"] == claims_of(twin.landlord_token)["sub"]
        header, _payload, signature = mine.landlord_token.split(".")
        forged = f"{header}.{b64url_json({**claims, 'ws': twin.workspace_id})}.{signature}"

        response = client.get(LANDLORD_ROUTE, headers=bearer(forged))

        assert_unauthorized(response, "token_invalid")

    @pytest.mark.parametrize("alg", ["HS384", "HS512"])
    def test_other_hmac_algorithm_with_the_right_key_is_refused(
        self, client: TestClient, target: Target, alg: str
    ) -> None:
        forged = jwt.encode(claims_of(target.token), SECRET_KEY, algorithm=alg)

        response = client.get(target.path, headers=bearer(forged))

        assert_unauthorized(response, "token_invalid")

    def test_truncated_signature_is_refused(self, client: TestClient, target: Target) -> None:
        response = client.get(target.path, headers=bearer(target.token[:-2]))

        assert_unauthorized(response, "token_invalid")

    @pytest.mark.parametrize(
        "garbage",
        ["garbage", "a.b.c", "...", "eyJhbGciOiJIUzI1NiJ9..", "e30.e30.e30", "x" * 5000],
        ids=["word", "three-dots-words", "dots", "header-only", "empty-objects", "long"],
    )
    @pytest.mark.parametrize("path", [LANDLORD_ROUTE, INTEGRATION_ROUTE])
    def test_garbage_is_refused(self, client: TestClient, garbage: str, path: str) -> None:
        make_world(client)

        response = client.get(path, headers=bearer(garbage))

        assert_unauthorized(response, "token_invalid")

    @pytest.mark.parametrize("path", [LANDLORD_ROUTE, INTEGRATION_ROUTE])
    @pytest.mark.parametrize(
        "headers",
        [{}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer"}],
        ids=["missing", "basic", "empty-bearer"],
    )
    def test_missing_bearer_is_unauthorized(
        self, client: TestClient, path: str, headers: dict[str, str]
    ) -> None:
        response = client.get(path, headers=headers)

        assert_unauthorized(response, "unauthorized")


class TestTokenKinds:
    def test_landlord_token_is_not_an_integration_token(self, client: TestClient) -> None:
        world = make_world(client)

        response = client.get(INTEGRATION_ROUTE, headers=world.landlord)

        assert_unauthorized(response, "token_invalid")

    def test_integration_token_is_not_a_landlord_token(self, client: TestClient) -> None:
        world = make_world(client)
        token = integration_token(client, world)

        for response in (
            client.get(LANDLORD_ROUTE, headers=bearer(token)),
            client.post(
                "/v1/integrations", json={"name": "X", "kind": "mri"}, headers=bearer(token)
            ),
        ):
            assert_unauthorized(response, "token_invalid")


class TestLandlordSessionExpiry:
    def test_expires_after_60_minutes_of_workspace_time(self, client: TestClient) -> None:
        world = make_world(client)

        advance(client, world.workspace_id, by="PT61M")

        assert_unauthorized(client.get(LANDLORD_ROUTE, headers=world.landlord), "token_expired")

    def test_still_valid_before_60_minutes(self, client: TestClient) -> None:
        world = make_world(client)

        advance(client, world.workspace_id, by="PT59M")

        assert client.get(LANDLORD_ROUTE, headers=world.landlord).status_code == 200

    def test_logging_in_again_gives_a_working_session(self, client: TestClient) -> None:
        world = make_world(client)
        advance(client, world.workspace_id, by="PT61M")

        response = client.post(
            "/v1/auth/login", json={"email": world.email, "password": world.password}
        )

        assert (
            client.get(LANDLORD_ROUTE, headers=bearer(response.json()["access_token"])).status_code
            == 200
        )

    def test_integration_tokens_outlive_the_landlord_session(self, client: TestClient) -> None:
        world = make_world(client)
        token = integration_token(client, world)

        advance(client, world.workspace_id, by="P30D")

        assert client.get(INTEGRATION_ROUTE, headers=bearer(token)).status_code == 200


# --- the operator key -------------------------------------------------------------------------


class TestOperatorKey:
    def test_right_key_is_accepted(self, client: TestClient) -> None:
        response = client.get("/v1/sandbox/workspaces", headers=bearer(OPERATOR_KEY))

        assert response.status_code == 200

    def test_wrong_key_is_invalid_operator_key(self, client: TestClient) -> None:
        for response in (
            client.get("/v1/sandbox/workspaces", headers=bearer(OPERATOR_KEY + "x")),
            client.post("/v1/sandbox/workspaces", json={"name": "x"}, headers=bearer("wrong-key")),
        ):
            assert_unauthorized(response, "invalid_operator_key")
        listed = client.get("/v1/sandbox/workspaces", headers=OPERATOR).json()
        assert listed["data"] == []

    def test_missing_key_is_unauthorized(self, client: TestClient) -> None:
        assert_unauthorized(client.get("/v1/sandbox/workspaces"), "unauthorized")

    def test_landlord_token_is_refused_on_operator_routes(self, client: TestClient) -> None:
        world = make_world(client)

        for response in (
            client.get("/v1/sandbox/workspaces", headers=world.landlord),
            client.get(f"/v1/sandbox/workspaces/{world.workspace_id}", headers=world.landlord),
            client.post(
                f"/v1/sandbox/workspaces/{world.workspace_id}/clock/advance",
                json={"by": "PT1H"},
                headers=world.landlord,
            ),
        ):
            assert_unauthorized(response, "invalid_operator_key")

    def test_integration_token_is_refused_on_operator_routes(self, client: TestClient) -> None:
        world = make_world(client)
        token = integration_token(client, world)

        response = client.get(f"/v1/sandbox/workspaces/{world.workspace_id}", headers=bearer(token))

        assert_unauthorized(response, "invalid_operator_key")
