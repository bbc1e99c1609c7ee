"""The operator API (``/v1/sandbox``) over HTTP: workspaces, reset, the clock, scenarios.

Workspace clocks start at explicit instants (``factories.START`` is Thursday 2026-07-02 10:00
in New York); the process clock is the ``clock`` fixture (2026-11-22T12:00Z).
"""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from portal.core.clock import FixedClock
from portal_tests.factories import (
    OPERATOR,
    START,
    advance,
    bearer,
    login,
    make_integration,
    make_workspace,
    make_world,
)

PURGE = "idempotency_keys.purge"


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert body["status"] == status
    return body


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def get_clock(client: TestClient, workspace_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/sandbox/workspaces/{workspace_id}/clock", headers=OPERATOR)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def post_advance(client: TestClient, workspace_id: str, body: Any) -> httpx.Response:
    return client.post(
        f"/v1/sandbox/workspaces/{workspace_id}/clock/advance", json=body, headers=OPERATOR
    )


def list_ids(client: TestClient, **params: Any) -> list[str]:
    response = client.get("/v1/sandbox/workspaces", params=params, headers=OPERATOR)
    assert response.status_code == 200, response.text
    return [ws["id"] for ws in response.json()["data"]]


def integration_ids(client: TestClient, landlord_token: str) -> list[str]:
    response = client.get("/v1/integrations", headers=bearer(landlord_token))
    assert response.status_code == 200, response.text
    return [i["id"] for i in response.json()["data"]]


def load_scenario(
    client: TestClient, workspace_id: str, body: dict[str, Any], **headers: str
) -> httpx.Response:
    return client.post(
        f"/v1/sandbox/workspaces/{workspace_id}/scenario",
        json=body,
        headers={**OPERATOR, **headers},
    )


# --- authentication -----------------------------------------------------------------------------


class TestOperatorAuthentication:
    def test_no_bearer_token_is_401(self, client: TestClient) -> None:
        response = client.get("/v1/sandbox/workspaces")
        assert_problem(response, 401, "unauthorized")
        assert response.headers["www-authenticate"] == "Bearer"

    def test_wrong_operator_key_is_401(self, client: TestClient) -> None:
        response = client.post(
            "/v1/sandbox/workspaces", json={}, headers=bearer("not-the-operator-key")
        )
        assert_problem(response, 401, "invalid_operator_key")
        assert list_ids(client) == []


# --- create -------------------------------------------------------------------------------------


class TestCreateWorkspace:
    @pytest.mark.smoke
    def test_returns_the_workspace_with_its_landlord_login(self, client: TestClient) -> None:
        response = client.post(
            "/v1/sandbox/workspaces",
            json={"name": "Acme", "seed": 7, "clock": {"now": START}},
            headers=OPERATOR,
        )

        assert response.status_code == 201, response.text
        assert response.headers["content-type"].startswith("application/json")
        body = response.json()
        assert set(body) >= {"id", "name", "seed", "clock", "landlord", "settings", "created_at"}
        assert body["id"].startswith("ws_")
        assert body["name"] == "Acme"
        assert body["seed"] == 7
        assert body["clock"]["mode"] == "simulated"
        assert instant(body["clock"]["now"]) == instant(START)
        assert body["clock"]["business_date"] == "2026-07-02"
        assert body["clock"]["is_banking_day"] is True
        assert body["settings"]["cutoff_time"] == "19:45:00"
        # created_at is the process (system) instant, not the workspace clock.
        assert instant(body["created_at"]) == datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
        assert isinstance(body["landlord"]["email"], str)
        assert isinstance(body["landlord"]["password"], str)
        assert len(body["landlord"]["password"]) >= 8

    def test_generated_landlord_login_works(self, client: TestClient) -> None:
        body = make_workspace(client)
        response = client.post(
            "/v1/auth/login",
            json={"email": body["landlord"]["email"], "password": body["landlord"]["password"]},
        )
        assert response.status_code == 200, response.text

    def test_clock_now_defaults_to_the_process_clock_to_the_second(
        self, client: TestClient, clock: FixedClock
    ) -> None:
        clock.set(datetime(2026, 11, 22, 12, 0, 5, 750_000, tzinfo=UTC))

        body = make_workspace(client, clock={})

        assert instant(body["clock"]["now"]) == datetime(2026, 11, 22, 12, 0, 5, tzinfo=UTC)
        assert body["clock"]["mode"] == "simulated"

    def test_simulated_clock_does_not_follow_the_process_clock(
        self, client: TestClient, clock: FixedClock
    ) -> None:
        ws = make_workspace(client)
        clock.advance(timedelta(days=3))
        assert instant(get_clock(client, ws["id"])["now"]) == instant(START)

    def test_real_clock_follows_the_process_clock(
        self, client: TestClient, clock: FixedClock
    ) -> None:
        ws = make_workspace(client, clock={"mode": "real"})
        assert ws["clock"]["mode"] == "real"

        clock.advance(timedelta(hours=1))

        read = get_clock(client, ws["id"])
        assert read["mode"] == "real"
        assert instant(read["now"]) == datetime(2026, 11, 22, 13, 0, tzinfo=UTC)

    def test_naive_clock_now_is_invalid_datetime(self, client: TestClient) -> None:
        response = client.post(
            "/v1/sandbox/workspaces",
            json={"clock": {"now": "2026-07-02T14:00:00"}},
            headers=OPERATOR,
        )
        body = assert_problem(response, 422, "invalid_datetime")
        assert [e["field"] for e in body["errors"]] == ["$.clock.now"]
        assert list_ids(client) == []

    def test_chosen_id_is_used(self, client: TestClient) -> None:
        body = make_workspace(client, id="ws_demo")
        assert body["id"] == "ws_demo"
        response = client.get("/v1/sandbox/workspaces/ws_demo", headers=OPERATOR)
        assert response.status_code == 200
        assert response.json()["id"] == "ws_demo"

    def test_chosen_id_taken_is_409(self, client: TestClient) -> None:
        make_workspace(client, id="ws_demo", name="First")
        response = client.post(
            "/v1/sandbox/workspaces",
            json={"id": "ws_demo", "name": "Second"},
            headers=OPERATOR,
        )
        assert_problem(response, 409, "workspace_exists")
        got = client.get("/v1/sandbox/workspaces/ws_demo", headers=OPERATOR).json()
        assert got["name"] == "First"

    @pytest.mark.parametrize("bad_id", ["demo", "ws_", "ws_Demo", "ws-demo", "ws_a b"])
    def test_bad_id_pattern_is_422(self, client: TestClient, bad_id: str) -> None:
        response = client.post("/v1/sandbox/workspaces", json={"id": bad_id}, headers=OPERATOR)
        body = assert_problem(response, 422, "validation_failed")
        assert [e["field"] for e in body["errors"]] == ["$.id"]
        assert list_ids(client) == []

    def test_chosen_landlord_credentials_log_in(self, client: TestClient) -> None:
        body = make_workspace(
            client, landlord={"email": "pm@example.com", "password": "correct-horse-1"}
        )
        assert body["landlord"] == {"email": "pm@example.com", "password": "correct-horse-1"}

        ok = client.post(
            "/v1/auth/login", json={"email": "pm@example.com", "password": "correct-horse-1"}
        )
        assert ok.status_code == 200, ok.text
        wrong = client.post(
            "/v1/auth/login", json={"email": "pm@example.com", "password": "wrong-password"}
        )
        assert_problem(wrong, 401, "invalid_credentials")

    def test_landlord_email_taken_in_another_workspace_is_409_and_writes_nothing(
        self, client: TestClient
    ) -> None:
        make_workspace(
            client, id="ws_first", landlord={"email": "pm@example.com", "password": "password-1"}
        )

        response = client.post(
            "/v1/sandbox/workspaces",
            json={
                "id": "ws_second",
                "landlord": {"email": "PM@example.com", "password": "password-2"},
            },
            headers=OPERATOR,
        )

        assert_problem(response, 409, "email_taken")
        assert list_ids(client) == ["ws_first"]
        missing = client.get("/v1/sandbox/workspaces/ws_second", headers=OPERATOR)
        assert_problem(missing, 404, "workspace_not_found")
        # The first workspace's landlord is untouched.
        login(client, "pm@example.com", "password-1")

    def test_unknown_settings_key_is_422(self, client: TestClient) -> None:
        response = client.post(
            "/v1/sandbox/workspaces", json={"settings": {"bogus": 1}}, headers=OPERATOR
        )
        body = assert_problem(response, 422, "validation_failed")
        assert [e["field"] for e in body["errors"]] == ["$.settings.bogus"]
        assert list_ids(client) == []


class TestSeedDeterminism:
    def test_same_seed_gives_the_same_integration_id(self, client: TestClient) -> None:
        first = make_world(client, seed=42)
        second = make_world(client, seed=42)
        assert first.workspace_id != second.workspace_id

        a = make_integration(client, first)
        b = make_integration(client, second)

        assert a["id"] == b["id"]

    def test_different_seeds_give_different_integration_ids(self, client: TestClient) -> None:
        a = make_integration(client, make_world(client, seed=42))
        b = make_integration(client, make_world(client, seed=43))
        assert a["id"] != b["id"]

    def test_same_scenario_in_same_seed_workspaces_gives_the_same_ids(
        self, client: TestClient
    ) -> None:
        scenario = {
            "scenario": "t",
            "integrations": [
                {"key": "a", "name": "A", "kind": "landlord12"},
                {"key": "b", "name": "B", "kind": "amsi"},
            ],
        }
        first = make_workspace(client, seed=5)
        second = make_workspace(client, seed=5)

        one = load_scenario(client, first["id"], scenario)
        two = load_scenario(client, second["id"], scenario)

        assert one.status_code == two.status_code == 200
        assert one.json()["keys"] == two.json()["keys"]
        assert one.json()["keys"]["a"] != one.json()["keys"]["b"]


# --- list, get, delete, reset -------------------------------------------------------------------


class TestListWorkspaces:
    def test_pages_by_id_with_limit_and_cursor(self, client: TestClient) -> None:
        for workspace_id in ("ws_c", "ws_a", "ws_b"):
            make_workspace(client, id=workspace_id)

        first = client.get("/v1/sandbox/workspaces", params={"limit": 2}, headers=OPERATOR)
        assert first.status_code == 200
        page = first.json()
        assert [ws["id"] for ws in page["data"]] == ["ws_a", "ws_b"]
        assert isinstance(page["next_cursor"], str)

        second = client.get(
            "/v1/sandbox/workspaces",
            params={"limit": 2, "cursor": page["next_cursor"]},
            headers=OPERATOR,
        )
        assert second.status_code == 200
        assert [ws["id"] for ws in second.json()["data"]] == ["ws_c"]
        assert second.json()["next_cursor"] is None

    def test_default_page_holds_everything_without_landlord_passwords(
        self, client: TestClient
    ) -> None:
        make_workspace(client, id="ws_a")
        make_workspace(client, id="ws_b")
        response = client.get("/v1/sandbox/workspaces", headers=OPERATOR)
        body = response.json()
        assert [ws["id"] for ws in body["data"]] == ["ws_a", "ws_b"]
        assert body["next_cursor"] is None
        assert all("landlord" not in ws for ws in body["data"])

    def test_empty(self, client: TestClient) -> None:
        response = client.get("/v1/sandbox/workspaces", headers=OPERATOR)
        assert response.json() == {"data": [], "next_cursor": None}

    @pytest.mark.parametrize("limit", [0, 501, "many"])
    def test_limit_out_of_range_is_422(self, client: TestClient, limit: Any) -> None:
        response = client.get("/v1/sandbox/workspaces", params={"limit": limit}, headers=OPERATOR)
        assert_problem(response, 422, "validation_failed")

    @pytest.mark.parametrize(
        "cursor",
        [
            "!!!",
            # Well-formed base64 JSON, but not a workspace ID: a forged cursor is a 400, never
            # a 500 (a dict or list reaches the SQL parameter) nor silently accepted.
            base64.urlsafe_b64encode(b'{"a":1}').decode(),
            base64.urlsafe_b64encode(b"[1]").decode(),
            base64.urlsafe_b64encode(b"5").decode(),
        ],
    )
    def test_cursor_not_issued_by_the_server_is_400(self, client: TestClient, cursor: str) -> None:
        make_workspace(client, id="ws_a")
        response = client.get("/v1/sandbox/workspaces", params={"cursor": cursor}, headers=OPERATOR)
        assert_problem(response, 400, "invalid_cursor")


class TestGetWorkspace:
    def test_returns_the_workspace(self, client: TestClient) -> None:
        created = make_workspace(client, id="ws_demo", name="Demo", seed=9)

        response = client.get("/v1/sandbox/workspaces/ws_demo", headers=OPERATOR)

        assert response.status_code == 200
        body = response.json()
        assert "landlord" not in body
        assert body == {k: v for k, v in created.items() if k != "landlord"}

    def test_unknown_workspace_is_404(self, client: TestClient) -> None:
        response = client.get("/v1/sandbox/workspaces/ws_nope", headers=OPERATOR)
        assert_problem(response, 404, "workspace_not_found")


class TestDeleteWorkspace:
    def test_deletes_the_workspace_and_its_landlord(self, client: TestClient) -> None:
        world = make_world(client, id="ws_demo")
        make_integration(client, world)

        response = client.delete("/v1/sandbox/workspaces/ws_demo", headers=OPERATOR)

        assert response.status_code == 204
        assert response.content == b""
        assert_problem(
            client.get("/v1/sandbox/workspaces/ws_demo", headers=OPERATOR),
            404,
            "workspace_not_found",
        )
        assert_problem(
            client.post("/v1/auth/login", json={"email": world.email, "password": world.password}),
            401,
            "invalid_credentials",
        )
        # The session issued before the delete no longer opens anything.
        stale = client.get("/v1/integrations", headers=world.landlord)
        assert stale.status_code == 401
        assert list_ids(client) == []

    def test_deleted_id_and_email_can_be_used_again(self, client: TestClient) -> None:
        landlord = {"email": "pm@example.com", "password": "password-1"}
        make_workspace(client, id="ws_demo", landlord=landlord)
        assert client.delete("/v1/sandbox/workspaces/ws_demo", headers=OPERATOR).status_code == 204

        again = make_workspace(client, id="ws_demo", landlord=landlord)

        assert again["id"] == "ws_demo"
        login(client, "pm@example.com", "password-1")

    def test_unknown_workspace_is_404(self, client: TestClient) -> None:
        response = client.delete("/v1/sandbox/workspaces/ws_nope", headers=OPERATOR)
        assert_problem(response, 404, "workspace_not_found")

    def test_deleting_twice_is_404(self, client: TestClient) -> None:
        make_workspace(client, id="ws_demo")
        client.delete("/v1/sandbox/workspaces/ws_demo", headers=OPERATOR)
        response = client.delete("/v1/sandbox/workspaces/ws_demo", headers=OPERATOR)
        assert_problem(response, 404, "workspace_not_found")


class TestResetWorkspace:
    @pytest.mark.smoke
    def test_rewinds_clock_data_and_ids_and_keeps_the_landlord(self, client: TestClient) -> None:
        world = make_world(client, seed=11)
        before = make_integration(client, world)
        advance(client, world.workspace_id, by="P3D")

        response = client.post(
            f"/v1/sandbox/workspaces/{world.workspace_id}/reset", headers=OPERATOR
        )

        assert response.status_code == 200, response.text
        body = response.json()
        assert body["id"] == world.workspace_id
        assert body["seed"] == 11
        assert instant(body["clock"]["now"]) == instant(START)
        assert instant(get_clock(client, world.workspace_id)["now"]) == instant(START)
        token = login(client, world.email, world.password)
        assert integration_ids(client, token) == []
        after = make_integration(client, replace(world, landlord_token=token))
        assert after["id"] == before["id"]

    def test_jobs_run_again_after_reset(self, client: TestClient) -> None:
        ws = make_workspace(client)
        first = advance(client, ws["id"], by="P1D")
        client.post(f"/v1/sandbox/workspaces/{ws['id']}/reset", headers=OPERATOR)

        second = advance(client, ws["id"], by="P1D")

        assert [j["due_at"] for j in first["jobs"]] == ["2026-07-03T04:00:00Z"]
        assert [j["due_at"] for j in second["jobs"]] == ["2026-07-03T04:00:00Z"]

    def test_unknown_workspace_is_404(self, client: TestClient) -> None:
        response = client.post("/v1/sandbox/workspaces/ws_nope/reset", headers=OPERATOR)
        assert_problem(response, 404, "workspace_not_found")


# --- the clock ----------------------------------------------------------------------------------


class TestReadClock:
    @pytest.mark.parametrize(
        ("start", "business_date", "is_banking_day"),
        [
            # 19:30 ET on Friday 2026-07-03, before the 19:45 cut-off (Sat Jul 4 is the holiday;
            # the Fed does not move a Saturday holiday, so Friday is a banking day).
            ("2026-07-03T23:30:00Z", "2026-07-03", True),
            # Exactly the cut-off: the next banking day (Sat Jul 4 and Sun Jul 5 are not).
            ("2026-07-03T23:45:00Z", "2026-07-06", True),
            # 20:00 ET Friday, after the cut-off; still Friday in New York.
            ("2026-07-04T00:00:00Z", "2026-07-06", True),
            # Saturday morning, Independence Day.
            ("2026-07-04T14:00:00Z", "2026-07-06", False),
            # Thursday 10:00 ET.
            (START, "2026-07-02", True),
        ],
    )
    def test_business_date_and_banking_day(
        self, client: TestClient, start: str, business_date: str, is_banking_day: bool
    ) -> None:
        ws = make_workspace(client, clock={"now": start})

        read = get_clock(client, ws["id"])

        assert read["mode"] == "simulated"
        assert instant(read["now"]) == instant(start)
        assert read["timezone"] == "America/New_York"
        assert read["business_date"] == business_date
        assert read["is_banking_day"] is is_banking_day

    def test_cutoff_setting_moves_the_business_date(self, client: TestClient) -> None:
        # 19:50 ET Friday: after the default 19:45 cut-off, before a 19:55 one.
        default = make_workspace(client, clock={"now": "2026-07-03T23:50:00Z"})
        later = make_workspace(
            client,
            clock={"now": "2026-07-03T23:50:00Z"},
            settings={"cutoff_time": "19:55:00"},
        )
        assert get_clock(client, default["id"])["business_date"] == "2026-07-06"
        assert get_clock(client, later["id"])["business_date"] == "2026-07-03"

    def test_unknown_workspace_is_404(self, client: TestClient) -> None:
        response = client.get("/v1/sandbox/workspaces/ws_nope/clock", headers=OPERATOR)
        assert_problem(response, 404, "workspace_not_found")


class TestAdvanceClock:
    @pytest.mark.smoke
    def test_to_an_instant(self, client: TestClient) -> None:
        ws = make_workspace(client)

        body = advance(client, ws["id"], to="2026-07-10T09:30:00-04:00")

        assert instant(body["now"]) == datetime(2026, 7, 10, 13, 30, tzinfo=UTC)
        assert instant(body["previous"]) == instant(START)
        assert set(body) == {"now", "previous", "jobs"}
        read = get_clock(client, ws["id"])
        assert instant(read["now"]) == datetime(2026, 7, 10, 13, 30, tzinfo=UTC)
        assert read["business_date"] == "2026-07-10"

    @pytest.mark.parametrize(
        ("duration", "expected"),
        [
            ("P1D", "2026-07-03T14:00:00Z"),
            ("PT2H", "2026-07-02T16:00:00Z"),
            ("P1M", "2026-08-02T14:00:00Z"),
            ("P1DT12H", "2026-07-04T02:00:00Z"),
            ("PT0S", START),
        ],
    )
    def test_by_a_duration(self, client: TestClient, duration: str, expected: str) -> None:
        ws = make_workspace(client)

        body = advance(client, ws["id"], by=duration)

        assert instant(body["now"]) == instant(expected)
        assert instant(get_clock(client, ws["id"])["now"]) == instant(expected)

    def test_by_days_keeps_the_new_york_time_across_dst(self, client: TestClient) -> None:
        # Saturday 2026-10-31 10:00 EDT; New York falls back on Sunday 2026-11-01.
        calendar_day = make_workspace(client, clock={"now": "2026-10-31T14:00:00Z"})
        elapsed = make_workspace(client, clock={"now": "2026-10-31T14:00:00Z"})

        one_day = advance(client, calendar_day["id"], by="P1D")
        hours = advance(client, elapsed["id"], by="PT24H")

        assert instant(one_day["now"]) == datetime(2026, 11, 1, 15, 0, tzinfo=UTC)  # 10:00 EST
        assert instant(hours["now"]) == datetime(2026, 11, 1, 14, 0, tzinfo=UTC)  # 09:00 EST

    @pytest.mark.parametrize(
        ("days", "expected"),
        [
            (0, START),  # Thursday is a banking day: no move
            (1, "2026-07-03T14:00:00Z"),  # Friday (the Saturday holiday is not moved)
            (2, "2026-07-06T14:00:00Z"),  # Monday: Sat Jul 4 and Sun Jul 5 are skipped
        ],
    )
    def test_by_banking_days(self, client: TestClient, days: int, expected: str) -> None:
        ws = make_workspace(client)

        body = advance(client, ws["id"], banking_days=days)

        assert instant(body["now"]) == instant(expected)

    def test_banking_days_keep_the_new_york_time_across_dst(self, client: TestClient) -> None:
        # Thursday 2026-10-29 10:00 EDT -> Monday 2026-11-02 10:00 EST.
        ws = make_workspace(client, clock={"now": "2026-10-29T14:00:00Z"})

        body = advance(client, ws["id"], banking_days=2)

        assert instant(body["now"]) == datetime(2026, 11, 2, 15, 0, tzinfo=UTC)

    def test_jobs_list_the_nightly_purge_once_per_new_york_midnight(
        self, client: TestClient
    ) -> None:
        ws = make_workspace(client)

        body = advance(client, ws["id"], by="P3D")

        assert [j["name"] for j in body["jobs"]] == [PURGE] * 3
        assert [j["due_at"] for j in body["jobs"]] == [
            "2026-07-03T04:00:00Z",
            "2026-07-04T04:00:00Z",
            "2026-07-05T04:00:00Z",
        ]
        assert [j["ran_at"] for j in body["jobs"]] == [j["due_at"] for j in body["jobs"]]
        assert all(j["source"] == "calendar" for j in body["jobs"])
        assert all(isinstance(j["result"], dict) for j in body["jobs"])

    def test_midnights_follow_new_york_across_dst(self, client: TestClient) -> None:
        ws = make_workspace(client, clock={"now": "2026-10-31T14:00:00Z"})

        body = advance(client, ws["id"], to="2026-11-02T14:00:00Z")

        assert [j["due_at"] for j in body["jobs"]] == [
            "2026-11-01T04:00:00Z",  # midnight EDT
            "2026-11-02T05:00:00Z",  # midnight EST
        ]

    def test_a_job_due_exactly_at_the_target_runs_once(self, client: TestClient) -> None:
        ws = make_workspace(client)

        at_midnight = advance(client, ws["id"], to="2026-07-03T04:00:00Z")
        later = advance(client, ws["id"], by="PT1H")
        next_night = advance(client, ws["id"], to="2026-07-04T04:00:00Z")

        assert [j["due_at"] for j in at_midnight["jobs"]] == ["2026-07-03T04:00:00Z"]
        assert later["jobs"] == []
        assert [j["due_at"] for j in next_night["jobs"]] == ["2026-07-04T04:00:00Z"]

    def test_a_job_due_at_the_start_instant_does_not_run(self, client: TestClient) -> None:
        ws = make_workspace(client, clock={"now": "2026-07-03T04:00:00Z"})  # NY midnight
        assert advance(client, ws["id"], by="PT1H")["jobs"] == []

    def test_backwards_is_409_and_leaves_the_clock(self, client: TestClient) -> None:
        ws = make_workspace(client)
        advance(client, ws["id"], by="P1D")

        response = post_advance(client, ws["id"], {"to": "2026-07-02T15:00:00Z"})

        assert_problem(response, 409, "clock_backwards")
        assert instant(get_clock(client, ws["id"])["now"]) == datetime(
            2026, 7, 3, 14, 0, tzinfo=UTC
        )

    def test_to_the_same_instant_is_allowed(self, client: TestClient) -> None:
        ws = make_workspace(client)

        body = advance(client, ws["id"], to=START)

        assert instant(body["now"]) == instant(START)
        assert instant(body["previous"]) == instant(START)
        assert body["jobs"] == []

    @pytest.mark.parametrize(
        "body",
        [
            {},
            {"to": None},
            {"to": "2026-08-01T00:00:00Z", "by": "P1D"},
            {"by": "P1D", "banking_days": 1},
            {"to": "2026-08-01T00:00:00Z", "by": "P1D", "banking_days": 1},
        ],
    )
    def test_exactly_one_of_to_by_banking_days(
        self, client: TestClient, body: dict[str, Any]
    ) -> None:
        ws = make_workspace(client)
        assert_problem(post_advance(client, ws["id"], body), 422, "exactly_one_required")
        assert instant(get_clock(client, ws["id"])["now"]) == instant(START)

    @pytest.mark.parametrize("duration", ["1D", "P", "PT", "-P1D", "P1.5D", "p1d", "", "P1DT"])
    def test_bad_duration_is_invalid_duration(self, client: TestClient, duration: str) -> None:
        ws = make_workspace(client)

        body = assert_problem(
            post_advance(client, ws["id"], {"by": duration}), 422, "invalid_duration"
        )

        assert [e["field"] for e in body["errors"]] == ["$.by"]
        assert instant(get_clock(client, ws["id"])["now"]) == instant(START)

    @pytest.mark.parametrize(
        ("to", "code"),
        [
            # Not a calendar date: the generic parser rejects it -> validation_failed.
            ("2026-13-01T00:00:00Z", "validation_failed"),
            # Not a date at all -> validation_failed.
            ("yesterday", "validation_failed"),
            # A valid date-time without an offset -> its own code, invalid_datetime.
            ("2026-08-01T00:00:00", "invalid_datetime"),
            # A date without a time parses as a naive midnight -> invalid_datetime.
            ("2026-08-01", "invalid_datetime"),
            # A number is not an RFC 3339 instant (architecture.md §5), not a Unix time; any
            # non-string instant -> invalid_datetime.
            (1790000000, "invalid_datetime"),
            (["2026-08-01T00:00:00Z"], "invalid_datetime"),
        ],
    )
    def test_bad_to(self, client: TestClient, to: Any, code: str) -> None:
        ws = make_workspace(client)

        body = assert_problem(post_advance(client, ws["id"], {"to": to}), 422, code)

        assert [e["field"] for e in body["errors"]] == ["$.to"]
        assert instant(get_clock(client, ws["id"])["now"]) == instant(START)

    def test_negative_banking_days_is_422(self, client: TestClient) -> None:
        ws = make_workspace(client)
        body = assert_problem(
            post_advance(client, ws["id"], {"banking_days": -1}), 422, "validation_failed"
        )
        assert [e["field"] for e in body["errors"]] == ["$.banking_days"]

    @pytest.mark.parametrize(
        "body",
        [
            {"banking_days": "two"},
            {"banking_days": 1.5},
            {"by": 5},
            {"days": 1},
        ],
    )
    def test_wrong_types_are_validation_failed(
        self, client: TestClient, body: dict[str, Any]
    ) -> None:
        ws = make_workspace(client)
        assert_problem(post_advance(client, ws["id"], body), 422, "validation_failed")
        assert instant(get_clock(client, ws["id"])["now"]) == instant(START)

    def test_unknown_workspace_is_404(self, client: TestClient) -> None:
        response = post_advance(client, "ws_nope", {"by": "P1D"})
        assert_problem(response, 404, "workspace_not_found")


# --- scenarios ----------------------------------------------------------------------------------

L12 = {"key": "l12", "name": "L12", "kind": "landlord12", "issue_token": True}


class TestLoadScenario:
    @pytest.mark.smoke
    def test_returns_ids_and_working_tokens(self, client: TestClient) -> None:
        world = make_world(client)

        response = load_scenario(
            client, world.workspace_id, {"scenario": "t", "integrations": [L12]}
        )

        assert response.status_code == 200, response.text
        body = response.json()
        assert body["workspace_id"] == world.workspace_id
        assert body["scenario"] == "t"
        assert body["ignored"] == []
        integration_id = body["keys"]["l12"]
        assert integration_id.startswith("int_")
        last_error = client.get("/v1/integration/last-error", headers=bearer(body["tokens"]["l12"]))
        assert last_error.status_code == 200
        assert last_error.json() == {"error": None}
        got = client.get(f"/v1/integrations/{integration_id}", headers=world.landlord)
        assert got.status_code == 200
        assert got.json()["name"] == "L12"
        assert got.json()["kind"] == "landlord12"
        assert got.json()["active_token"] is not None

    def test_no_token_unless_asked(self, client: TestClient) -> None:
        world = make_world(client)
        spec = {"key": "mri", "name": "MRI", "kind": "mri"}

        body = load_scenario(client, world.workspace_id, {"scenario": "t", "integrations": [spec]})

        assert body.status_code == 200
        assert set(body.json()["keys"]) == {"mri"}
        assert body.json()["tokens"] == {}

    @pytest.mark.parametrize("bad_index", [0, 1])
    def test_bad_entity_names_its_json_path_and_creates_nothing(
        self, client: TestClient, bad_index: int
    ) -> None:
        world = make_world(client)
        integrations: list[dict[str, Any]] = [
            {"key": "a", "name": "A", "kind": "landlord12", "issue_token": True},
            {"key": "b", "name": "B", "kind": "amsi"},
        ]
        integrations[bad_index]["kind"] = "quickbooks"

        response = load_scenario(
            client, world.workspace_id, {"scenario": "t", "integrations": integrations}
        )

        body = assert_problem(response, 422, "validation_failed")
        assert f"$.integrations[{bad_index}].kind" in [e["field"] for e in body["errors"]]
        assert integration_ids(client, world.landlord_token) == []

    def test_duplicate_keys_are_422_and_create_nothing(self, client: TestClient) -> None:
        world = make_world(client)
        integrations = [
            {"key": "same", "name": "A", "kind": "landlord12"},
            {"key": "same", "name": "B", "kind": "amsi"},
        ]

        response = load_scenario(
            client, world.workspace_id, {"scenario": "t", "integrations": integrations}
        )

        body = assert_problem(response, 422, "validation_failed")
        assert "same" in body["detail"]
        assert integration_ids(client, world.landlord_token) == []

    def test_workspace_identity_stays_and_its_clock_moves_forward(self, client: TestClient) -> None:
        world = make_world(client, name="Original", seed=7)
        scenario = {
            "scenario": "t",
            "workspace": {"name": "Other", "seed": 99, "clock": {"now": "2026-08-01T00:00:00Z"}},
            "integrations": [L12],
        }

        response = load_scenario(client, world.workspace_id, scenario)

        assert response.status_code == 200, response.text
        assert response.json()["ignored"] == ["workspace.name", "workspace.seed"]
        got = client.get(f"/v1/sandbox/workspaces/{world.workspace_id}", headers=OPERATOR).json()
        assert got["name"] == "Original"
        assert got["seed"] == 7
        # The file's clock start applies (issue 18): later than the workspace's, so it moved.
        assert instant(got["clock"]["now"]) == instant("2026-08-01T00:00:00Z")

    def test_unknown_top_level_key_is_422(self, client: TestClient) -> None:
        world = make_world(client)
        response = load_scenario(client, world.workspace_id, {"scenario": "t", "tenants": []})
        body = assert_problem(response, 422, "validation_failed")
        assert [e["field"] for e in body["errors"]] == ["$.tenants"]

    def test_unknown_workspace_is_404(self, client: TestClient) -> None:
        response = load_scenario(client, "ws_nope", {"scenario": "t", "integrations": [L12]})
        assert_problem(response, 404, "workspace_not_found")


class TestSettingsTimes:
    """Found by schemathesis: a cut-off with an offset reached the calendar and answered 500."""

    @pytest.mark.parametrize("value", ["19:45:00Z", "19:45:00+02:00"])
    def test_cutoff_with_an_offset_is_422(self, client: TestClient, value: str) -> None:
        response = client.post(
            "/v1/sandbox/workspaces",
            json={"settings": {"cutoff_time": value}},
            headers=OPERATOR,
        )
        body = assert_problem(response, 422, "invalid_time")
        assert body["errors"][0]["field"] == "$.settings.cutoff_time"

    def test_a_wall_clock_cutoff_sets_the_business_date(self, client: TestClient) -> None:
        # 16:00 New York on a banking day, cut-off 15:30: the business date is the next day.
        ws = make_workspace(
            client, clock={"now": "2026-07-02T20:00:00Z"}, settings={"cutoff_time": "15:30"}
        )
        assert get_clock(client, ws["id"])["business_date"] == "2026-07-03"


class TestClockBounds:
    """Found by schemathesis: a jump to year 6639 ran millions of nightly jobs in one request."""

    def test_one_advance_covers_at_most_five_years(self, client: TestClient) -> None:
        ws = make_workspace(client)
        body = assert_problem(post_advance(client, ws["id"], {"by": "P6Y"}), 422, "advance_too_far")
        assert body["max_days"] == 5 * 366
        assert instant(get_clock(client, ws["id"])["now"]) == instant(START)
        assert_problem(
            post_advance(client, ws["id"], {"to": "2099-01-01T00:00:00Z"}), 422, "advance_too_far"
        )

    @pytest.mark.parametrize("when", ["1989-12-31T23:00:00Z", "2200-01-01T05:00:00Z"])
    def test_clock_years_are_bounded(self, client: TestClient, when: str) -> None:
        response = client.post(
            "/v1/sandbox/workspaces", json={"clock": {"now": when}}, headers=OPERATOR
        )
        assert_problem(response, 422, "invalid_datetime")

    def test_a_real_clock_starts_where_it_is_told(
        self, client: TestClient, clock: FixedClock
    ) -> None:
        ws = make_workspace(client, clock={"mode": "real", "now": "2022-02-23T14:00:00Z"})
        assert get_clock(client, ws["id"])["now"] == "2022-02-23T14:00:00Z"
        clock.advance(timedelta(minutes=30))
        assert get_clock(client, ws["id"])["now"] == "2022-02-23T14:30:00Z"
        client.post(f"/v1/sandbox/workspaces/{ws['id']}/reset", headers=OPERATOR)
        assert get_clock(client, ws["id"])["now"] == "2022-02-23T14:00:00Z"
