"""``POST /v1/sandbox/workspaces/{ws}/reset`` returns a workspace to the scenario(s) it was
loaded from, with the same IDs and the same integration token; ``?to=empty`` wipes it (issue 18
stumble 3, docs/scenarios-over-http.md)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from portal_tests.factories import OPERATOR, advance, bearer, login, make_world
from portal_tests.sandbox.scenario_docs import (
    SMALL_END,
    SMALL_LANDLORD,
    SMALL_START,
    create,
    load_into,
    small,
)
from portal_tests.sandbox.test_router import assert_problem, get_clock, instant


def reset(client: TestClient, workspace_id: str, **params: str) -> dict[str, Any]:
    response = client.post(
        f"/v1/sandbox/workspaces/{workspace_id}/reset", params=params, headers=OPERATOR
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def landlord(client: TestClient, email: str, password: str) -> dict[str, str]:
    return bearer(login(client, email, password))


def listed(client: TestClient, path: str, auth: dict[str, str]) -> list[str]:
    response = client.get(path, params={"limit": 500}, headers=auth)
    assert response.status_code == 200, response.text
    return sorted(item["id"] for item in response.json()["data"])


def last_error(client: TestClient, token: str) -> int:
    return client.get("/v1/integration/last-error", headers=bearer(token)).status_code


def landlord_users(engine: Engine, workspace_id: str) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT id, email, created_at FROM landlord_user WHERE workspace_id = :ws "
                "ORDER BY email"
            ),
            {"ws": workspace_id},
        )
        return [(row[0], row[1], str(row[2])) for row in rows]


class TestResetToTheScenario:
    def test_the_same_ids_the_same_clock_and_the_same_token(self, client: TestClient) -> None:
        created = create(client, small())
        token = created["tokens"]["l12"]
        auth = landlord(client, SMALL_LANDLORD["email"], SMALL_LANDLORD["password"])
        payments = listed(client, "/v1/payments", auth)
        made = client.post("/v1/integrations", json={"name": "Extra", "kind": "amsi"}, headers=auth)
        assert made.status_code == 201, made.text
        advance(client, "ws_small", by="P10D")

        body = reset(client, "ws_small")

        assert body["to"] == "scenario"
        assert body["scenarios"] == ["small"]
        assert body["keys"] == created["keys"]
        assert body["settings"]["payments_per_resident_per_day"] == 2
        assert instant(body["clock"]["now"]) == instant(SMALL_END)
        assert instant(get_clock(client, "ws_small")["now"]) == instant(SMALL_END)
        assert last_error(client, token) == 200
        auth = landlord(client, SMALL_LANDLORD["email"], SMALL_LANDLORD["password"])
        assert listed(client, "/v1/integrations", auth) == [created["keys"]["l12"]]
        assert listed(client, "/v1/payments", auth) == payments

    def test_a_token_issued_since_is_gone_and_the_scenarios_works_again(
        self, client: TestClient
    ) -> None:
        created = create(client, small())
        auth = landlord(client, SMALL_LANDLORD["email"], SMALL_LANDLORD["password"])
        integration = created["keys"]["l12"]
        newer = client.post(f"/v1/integrations/{integration}/tokens", headers=auth)
        assert newer.status_code == 201, newer.text
        assert last_error(client, created["tokens"]["l12"]) == 401  # replaced

        reset(client, "ws_small")

        assert last_error(client, created["tokens"]["l12"]) == 200
        assert last_error(client, newer.json()["token"]) == 401
        auth = landlord(client, SMALL_LANDLORD["email"], SMALL_LANDLORD["password"])
        tokens = client.get(f"/v1/integrations/{integration}/tokens", headers=auth).json()["data"]
        assert [(t["active"], t["last4"]) for t in tokens] == [
            (True, created["tokens"]["l12"][-4:])
        ]

    def test_loads_into_an_existing_workspace_are_replayed_in_order(
        self, client: TestClient, engine: Engine
    ) -> None:
        # The load moves the clock from 6/30 to the file's 7/2 before it adds its landlord.
        world = make_world(client, seed=42, clock={"now": "2026-06-30T14:00:00Z"})
        first = load_into(client, world.workspace_id, small())
        second_doc = {
            "scenario": "second",
            "workspace": {
                "clock": {"now": "2026-07-08T14:00:00Z"},
                "settings": {"cutoff_time": "18:00"},
            },
            "integrations": [{"key": "mri", "name": "MRI", "kind": "mri", "issue_token": True}],
        }
        second = load_into(client, world.workspace_id, second_doc)
        users = landlord_users(engine, world.workspace_id)
        # The workspace's own and the file's (tagged), each with its own creation instant.
        assert len(users) == 2
        assert len({created for _id, _email, created in users}) == 2

        for _ in range(2):  # a second reset changes nothing either
            body = reset(client, world.workspace_id)

            assert body["scenarios"] == ["small", "second"]
            assert body["keys"] == {**first["keys"], **second["keys"]}
            assert body["settings"]["cutoff_time"] == "18:00:00"
            assert body["settings"]["payments_per_resident_per_day"] == 2
            assert instant(body["clock"]["now"]) == instant("2026-07-08T14:00:00Z")
            assert landlord_users(engine, world.workspace_id) == users
            for loaded in (first, second):
                for token in loaded["tokens"].values():
                    assert last_error(client, token) == 200
            landlord(client, world.email, world.password)
            landlord(client, first["landlord"]["email"], first["landlord"]["password"])

    def test_landlords_made_at_one_instant_keep_their_ids(
        self, client: TestClient, engine: Engine
    ) -> None:
        world = make_world(client, seed=42, clock={"now": SMALL_START})
        load_into(client, world.workspace_id, small())  # its landlord at the same instant
        users = landlord_users(engine, world.workspace_id)
        assert len({created for _id, _email, created in users}) == 1

        for _ in range(3):
            reset(client, world.workspace_id)
            assert landlord_users(engine, world.workspace_id) == users

    def test_settings_return_to_those_before_the_first_load(self, client: TestClient) -> None:
        world = make_world(client, seed=42, clock={"now": SMALL_START})
        load_into(client, world.workspace_id, small())

        body = reset(client, world.workspace_id, to="empty")

        assert body["settings"]["payments_per_resident_per_day"] == 1

    def test_a_workspace_never_loaded_is_emptied_as_before(self, client: TestClient) -> None:
        world = make_world(client)
        made = client.post(
            "/v1/integrations", json={"name": "X", "kind": "amsi"}, headers=world.landlord
        )
        assert made.status_code == 201

        body = reset(client, world.workspace_id)

        assert (body["to"], body["scenarios"], body["keys"]) == ("scenario", [], {})
        auth = landlord(client, world.email, world.password)
        assert listed(client, "/v1/integrations", auth) == []


class TestResetToEmpty:
    def test_empties_the_workspace_and_forgets_the_scenario(self, client: TestClient) -> None:
        created = create(client, small())

        body = reset(client, "ws_small", to="empty")

        assert (body["to"], body["scenarios"], body["keys"]) == ("empty", [], {})
        assert instant(body["clock"]["now"]) == instant(SMALL_START)
        assert last_error(client, created["tokens"]["l12"]) == 401
        auth = landlord(client, SMALL_LANDLORD["email"], SMALL_LANDLORD["password"])
        assert listed(client, "/v1/integrations", auth) == []
        assert listed(client, "/v1/payments", auth) == []
        # Forgotten: a later reset leaves it empty.
        assert reset(client, "ws_small")["scenarios"] == []
        assert listed(client, "/v1/integrations", auth) == []

    def test_an_unknown_target_is_422(self, client: TestClient) -> None:
        create(client, small())
        response = client.post(
            "/v1/sandbox/workspaces/ws_small/reset", params={"to": "yesterday"}, headers=OPERATOR
        )
        assert_problem(response, 422, "validation_failed")
