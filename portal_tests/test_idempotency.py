"""``Idempotency-Key`` (architecture.md §5, ``portal/core/idempotency.py``), over the operator's
workspace-creation route (outside any workspace) and the scenario route (inside one).

A replay is the first response byte for byte, except that secrets shown once (the landlord
password, integration tokens) read ``"[redacted]"``: the stored copy never holds them
(architecture.md §6, §11: only digests of tokens are stored).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from portal.core.clock import FixedClock
from portal.core.idempotency import IN_FLIGHT, IdempotencyRecord, fingerprint
from portal_tests.conftest import SYSTEM_NOW
from portal_tests.factories import OPERATOR, START, World, advance, bearer, login, make_world

REPLAYED = "idempotent-replayed"
REDACTED = b'"[redacted]"'
JSON = {"content-type": "application/json"}


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


def create(client: TestClient, body: dict[str, Any], key: str | None = None) -> httpx.Response:
    headers = {**OPERATOR, **({"Idempotency-Key": key} if key is not None else {})}
    return client.post("/v1/sandbox/workspaces", json=body, headers=headers)


def load(client: TestClient, workspace_id: str, body: dict[str, Any], key: str) -> httpx.Response:
    return client.post(
        f"/v1/sandbox/workspaces/{workspace_id}/scenario",
        json=body,
        headers={**OPERATOR, "Idempotency-Key": key},
    )


def workspace_ids(client: TestClient) -> list[str]:
    response = client.get("/v1/sandbox/workspaces", headers=OPERATOR)
    assert response.status_code == 200
    return [ws["id"] for ws in response.json()["data"]]


def integration_names(client: TestClient, world: World) -> list[str]:
    # A fresh session: landlord sessions expire on the workspace clock, which tests advance.
    token = login(client, world.email, world.password)
    response = client.get("/v1/integrations", headers=bearer(token))
    assert response.status_code == 200, response.text
    return sorted(i["name"] for i in response.json()["data"])


def redacted(content: bytes, *secrets: str) -> bytes:
    """``content`` with each secret's JSON string replaced by ``"[redacted]"``."""
    for secret in secrets:
        encoded = json.dumps(secret).encode()
        assert encoded in content
        content = content.replace(encoded, REDACTED)
    return content


def scenario(*names: str) -> dict[str, Any]:
    return {
        "scenario": "idem",
        "integrations": [
            {"key": name.lower(), "name": name, "kind": "landlord12", "issue_token": True}
            for name in names
        ],
    }


WORKSPACE = {"name": "Idempotent", "seed": 3, "clock": {"now": START}}


class TestReplay:
    @pytest.mark.smoke
    def test_same_key_and_body_replays_the_first_response(self, client: TestClient) -> None:
        first = create(client, WORKSPACE, key="create-1")
        second = create(client, WORKSPACE, key="create-1")

        assert first.status_code == 201, first.text
        assert REPLAYED not in first.headers
        assert second.status_code == 201
        assert second.headers[REPLAYED] == "true"
        assert second.headers["content-type"].startswith("application/json")
        password = first.json()["landlord"]["password"]
        assert second.content == redacted(first.content, password)
        assert password not in second.text
        assert workspace_ids(client) == [first.json()["id"]]

    def test_replay_keeps_non_ascii_text_byte_for_byte(self, client: TestClient) -> None:
        body = {**WORKSPACE, "name": "Café Résidences ☕"}
        first = create(client, body, key="create-1")
        second = create(client, body, key="create-1")

        assert second.headers[REPLAYED] == "true"
        assert second.json()["name"] == "Café Résidences ☕"
        password = first.json()["landlord"]["password"]
        assert second.content == redacted(first.content, password)

    def test_without_a_key_the_same_body_runs_twice(self, client: TestClient) -> None:
        first = create(client, WORKSPACE)
        second = create(client, WORKSPACE)
        assert first.status_code == second.status_code == 201
        assert REPLAYED not in second.headers
        assert first.json()["id"] != second.json()["id"]
        assert len(workspace_ids(client)) == 2

    def test_scenario_replay_creates_nothing_more(self, client: TestClient) -> None:
        world = make_world(client)

        first = load(client, world.workspace_id, scenario("A"), key="scn-1")
        second = load(client, world.workspace_id, scenario("A"), key="scn-1")

        assert first.status_code == 200, first.text
        assert REPLAYED not in first.headers
        assert second.status_code == 200
        assert second.headers[REPLAYED] == "true"
        token = first.json()["tokens"]["a"]
        assert second.content == redacted(first.content, token)
        assert second.json()["keys"] == first.json()["keys"]
        assert integration_names(client, world) == ["A"]


class TestKeyReusedForAnotherRequest:
    def test_different_body_is_422(self, client: TestClient) -> None:
        first = create(client, WORKSPACE, key="create-1")

        response = create(client, {**WORKSPACE, "name": "Another"}, key="create-1")

        assert_problem(response, 422, "idempotency_key_reused")
        assert workspace_ids(client) == [first.json()["id"]]

    def test_different_scenario_is_422_and_creates_nothing(self, client: TestClient) -> None:
        world = make_world(client)
        load(client, world.workspace_id, scenario("A"), key="scn-1")

        response = load(client, world.workspace_id, scenario("B"), key="scn-1")

        assert_problem(response, 422, "idempotency_key_reused")
        assert integration_names(client, world) == ["A"]


class TestKeyInFlight:
    def test_is_409_and_runs_nothing(self, client: TestClient, session: Session) -> None:
        raw = b'{"name": "In flight", "seed": 3}'
        session.add(
            IdempotencyRecord(
                workspace_id="",
                principal="operator",
                key="flight-1",
                fingerprint=fingerprint("POST", "/v1/sandbox/workspaces", "", raw),
                state=IN_FLIGHT,
                created_at=SYSTEM_NOW,
                expires_at=SYSTEM_NOW + timedelta(hours=24),
            )
        )
        session.commit()

        response = client.post(
            "/v1/sandbox/workspaces",
            content=raw,
            headers={**OPERATOR, **JSON, "Idempotency-Key": "flight-1"},
        )

        assert_problem(response, 409, "idempotency_key_in_flight")
        assert workspace_ids(client) == []
        # Retrying while the first request is still running gives the same answer.
        again = client.post(
            "/v1/sandbox/workspaces",
            content=raw,
            headers={**OPERATOR, **JSON, "Idempotency-Key": "flight-1"},
        )
        assert_problem(again, 409, "idempotency_key_in_flight")


class TestFailedRequestStoresNothing:
    def test_invalid_scenario_then_corrected_body_with_the_same_key(
        self, client: TestClient
    ) -> None:
        world = make_world(client)
        bad = scenario("A", "B")
        bad["integrations"][1]["kind"] = "quickbooks"

        failed = load(client, world.workspace_id, bad, key="scn-1")
        fixed = load(client, world.workspace_id, scenario("A", "B"), key="scn-1")

        assert_problem(failed, 422, "validation_failed")
        assert fixed.status_code == 200, fixed.text
        assert REPLAYED not in fixed.headers
        assert integration_names(client, world) == ["A", "B"]

    def test_conflict_then_corrected_body_with_the_same_key(self, client: TestClient) -> None:
        taken = {"email": "pm@example.com", "password": "password-1"}
        create(client, {**WORKSPACE, "landlord": taken})

        failed = create(client, {**WORKSPACE, "landlord": taken}, key="create-1")
        failed_again = create(client, {**WORKSPACE, "landlord": taken}, key="create-1")
        fixed = create(
            client,
            {**WORKSPACE, "landlord": {"email": "other@example.com", "password": "password-2"}},
            key="create-1",
        )

        assert_problem(failed, 409, "email_taken")
        # The failure was not stored, so it is not replayed either: the request runs again.
        assert_problem(failed_again, 409, "email_taken")
        assert REPLAYED not in failed_again.headers
        assert fixed.status_code == 201, fixed.text
        assert REPLAYED not in fixed.headers
        assert len(workspace_ids(client)) == 2


class TestKeyScope:
    def test_same_key_on_two_workspaces_runs_both(self, client: TestClient) -> None:
        first = make_world(client, seed=1)
        second = make_world(client, seed=2)

        one = load(client, first.workspace_id, scenario("A"), key="shared")
        two = load(client, second.workspace_id, scenario("A"), key="shared")

        assert one.status_code == 200, one.text
        assert two.status_code == 200, two.text
        assert REPLAYED not in two.headers
        assert two.json()["workspace_id"] == second.workspace_id
        assert integration_names(client, first) == ["A"]
        assert integration_names(client, second) == ["A"]


class TestExpiry:
    def test_replays_within_24_hours_of_workspace_time(self, client: TestClient) -> None:
        world = make_world(client)
        first = load(client, world.workspace_id, scenario("A"), key="scn-1")
        advance(client, world.workspace_id, by="PT23H")

        replay = load(client, world.workspace_id, scenario("A"), key="scn-1")
        reused = load(client, world.workspace_id, scenario("B"), key="scn-1")

        assert replay.status_code == 200
        assert replay.headers[REPLAYED] == "true"
        assert replay.content == redacted(first.content, first.json()["tokens"]["a"])
        assert_problem(reused, 422, "idempotency_key_reused")
        assert integration_names(client, world) == ["A"]

    def test_key_is_free_after_24_hours_of_workspace_time(self, client: TestClient) -> None:
        world = make_world(client)
        load(client, world.workspace_id, scenario("A"), key="scn-1")
        advance(client, world.workspace_id, by="PT23H")
        load(client, world.workspace_id, scenario("A"), key="scn-1")  # still a replay
        advance(client, world.workspace_id, by="PT2H")

        fresh = load(client, world.workspace_id, scenario("B"), key="scn-1")

        assert fresh.status_code == 200, fresh.text
        assert REPLAYED not in fresh.headers
        assert integration_names(client, world) == ["A", "B"]

    def test_nightly_purge_drops_expired_keys(self, client: TestClient) -> None:
        world = make_world(client)  # Thu 2026-07-02 10:00 New York
        load(client, world.workspace_id, scenario("A"), key="scn-1")

        body = advance(client, world.workspace_id, to="2026-07-04T05:00:00Z")

        # Midnight Jul 3 (key 14 h old): kept; midnight Jul 4 (38 h old): purged.
        assert [(j["due_at"], j["result"]) for j in body["jobs"]] == [
            ("2026-07-03T04:00:00Z", {"purged": 0}),
            ("2026-07-04T04:00:00Z", {"purged": 1}),
        ]

    def test_process_time_alone_does_not_expire_a_key(
        self, client: TestClient, clock: FixedClock
    ) -> None:
        world = make_world(client)
        first = load(client, world.workspace_id, scenario("A"), key="scn-1")
        clock.advance(timedelta(hours=25))  # the workspace clock (simulated) stays put

        replay = load(client, world.workspace_id, scenario("A"), key="scn-1")

        assert replay.status_code == 200
        assert replay.headers.get(REPLAYED) == "true"
        assert replay.content == redacted(first.content, first.json()["tokens"]["a"])
        assert integration_names(client, world) == ["A"]


class TestKeyFormat:
    @pytest.mark.parametrize("key", ["k" * 256, ""])
    def test_key_outside_1_to_255_characters_is_422(self, client: TestClient, key: str) -> None:
        response = create(client, WORKSPACE, key=key)
        assert_problem(response, 422, "invalid_idempotency_key")
        assert workspace_ids(client) == []

    def test_key_of_255_characters_is_accepted(self, client: TestClient) -> None:
        key = "k" * 255
        first = create(client, WORKSPACE, key=key)
        second = create(client, WORKSPACE, key=key)
        assert first.status_code == 201, first.text
        assert second.headers[REPLAYED] == "true"
