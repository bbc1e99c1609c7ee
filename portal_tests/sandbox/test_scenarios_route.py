"""Scenarios over HTTP exactly as with the CLI (issue 18, docs/scenarios-over-http.md):
``POST /v1/sandbox/scenarios`` creates the workspace a file describes; the per-workspace route
applies the file's settings, clock start and landlord; misspelt keys get a "did you mean"."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from portal.core.errors import PortalError
from portal.sandbox import scenarios
from portal_tests.factories import OPERATOR, START, bearer, login, make_workspace, make_world
from portal_tests.sandbox.scenario_docs import (
    SMALL_END,
    SMALL_LANDLORD,
    SMALL_START,
    create,
    load_into,
    small,
    without_workspace,
)
from portal_tests.sandbox.test_router import assert_problem, get_clock, instant


def payment_statuses(client: TestClient, landlord: dict[str, str]) -> list[str]:
    response = client.get("/v1/payments", headers=landlord)
    assert response.status_code == 200, response.text
    return sorted(p["status"] for p in response.json()["data"])


def landlord_of(client: TestClient, login_: dict[str, Any]) -> dict[str, str]:
    return bearer(login(client, login_["email"], login_["password"]))


# --- POST /v1/sandbox/scenarios ------------------------------------------------------------------


class TestCreateWorkspaceFromScenario:
    @pytest.mark.smoke
    def test_creates_the_workspace_the_file_describes(self, client: TestClient) -> None:
        response = client.post("/v1/sandbox/scenarios", json=small(), headers=OPERATOR)

        assert response.status_code == 201, response.text
        body = response.json()
        assert body["workspace_id"] == "ws_small"
        assert body["scenario"] == "small"
        workspace = body["workspace"]
        assert (workspace["id"], workspace["name"], workspace["seed"]) == ("ws_small", "Small", 42)
        assert workspace["settings"]["payments_per_resident_per_day"] == 2
        assert instant(body["clock"]["now"]) == instant(SMALL_END)
        assert body["landlord"] == {
            "email": SMALL_LANDLORD["email"],
            "password": SMALL_LANDLORD["password"],
        }
        assert set(body["keys"]) == {
            "l12", "elm", "elm-1", "rent", "ann", "ann-lease", "ann-bank", "p1", "p2"
        }  # fmt: skip
        assert set(body["tokens"]) == {"l12"}
        assert body["ignored"] == []
        last_error = client.get("/v1/integration/last-error", headers=bearer(body["tokens"]["l12"]))
        assert last_error.status_code == 200, last_error.text
        # The two payments of one day (allowed by the file's settings) were deposited.
        landlord = landlord_of(client, body["landlord"])
        assert payment_statuses(client, landlord) == ["completed", "completed"]

    def test_the_same_ids_as_a_load_into_a_workspace_like_it(self, client: TestClient) -> None:
        created = create(client, small())
        ws = make_workspace(client, seed=42, clock={"now": SMALL_START})

        loaded = load_into(client, ws["id"], small())

        assert loaded["keys"] == created["keys"]

    def test_an_existing_workspace_is_409_and_says_to_replace(self, client: TestClient) -> None:
        first = create(client, small())

        response = client.post("/v1/sandbox/scenarios", json=small(), headers=OPERATOR)

        body = assert_problem(response, 409, "workspace_exists")
        assert "?replace=true" in body["detail"]
        assert "--replace" in body["detail"]
        assert body["workspace_id"] == "ws_small"
        # The first workspace is untouched: its token still works.
        token = bearer(first["tokens"]["l12"])
        assert client.get("/v1/integration/last-error", headers=token).status_code == 200

    def test_replace_deletes_and_loads_again(self, client: TestClient) -> None:
        first = create(client, small())

        again = create(client, small(), replace="true")

        assert again["keys"] == first["keys"]
        assert again["tokens"]["l12"] != first["tokens"]["l12"]
        old = client.get("/v1/integration/last-error", headers=bearer(first["tokens"]["l12"]))
        assert old.status_code == 401
        new = client.get("/v1/integration/last-error", headers=bearer(again["tokens"]["l12"]))
        assert new.status_code == 200

    def test_replace_of_a_missing_workspace_just_creates_it(self, client: TestClient) -> None:
        assert create(client, small(), replace="true")["workspace_id"] == "ws_small"

    def test_a_file_without_an_id_gets_a_new_workspace_each_time(self, client: TestClient) -> None:
        doc = small()
        del doc["workspace"]["id"]
        del doc["workspace"]["landlord"]  # a landlord e-mail is unique across workspaces

        first, second = create(client, doc), create(client, doc)

        assert first["workspace_id"] != second["workspace_id"]
        assert first["workspace_id"].startswith("ws_")
        assert first["landlord"]["email"] == f"landlord+{first['workspace_id']}@portal.test"
        landlord_of(client, second["landlord"])

    def test_a_refused_load_creates_no_workspace(self, client: TestClient) -> None:
        doc = small(settings={})  # the default limit: one payment per resident per day

        response = client.post("/v1/sandbox/scenarios", json=doc, headers=OPERATOR)

        body = assert_problem(response, 422, "scenario_refused")
        assert body["errors"][0]["field"] == "$.payments[1]"
        assert body["errors"][0]["code"] == "daily_payment_limit_reached"
        gone = client.get("/v1/sandbox/workspaces/ws_small", headers=OPERATOR)
        assert_problem(gone, 404, "workspace_not_found")

    def test_an_idempotency_key_replays_instead_of_409(self, client: TestClient) -> None:
        headers = {**OPERATOR, "Idempotency-Key": "seed-small"}
        first = client.post("/v1/sandbox/scenarios", json=small(), headers=headers)
        again = client.post("/v1/sandbox/scenarios", json=small(), headers=headers)

        assert (first.status_code, again.status_code) == (201, 201)
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json()["keys"] == first.json()["keys"]
        assert again.json()["tokens"] == {"l12": "[redacted]"}

    def test_needs_the_operator_key(self, client: TestClient) -> None:
        response = client.post("/v1/sandbox/scenarios", json=small(), headers=bearer("nope"))
        assert_problem(response, 401, "invalid_operator_key")


# --- POST /v1/sandbox/workspaces/{ws}/scenario ----------------------------------------------


class TestLoadIntoAWorkspace:
    def test_the_files_settings_apply(self, client: TestClient) -> None:
        # Before issue 18 the settings were ignored: the second payment of the day was refused
        # with daily_payment_limit_reached.
        ws = make_workspace(client, seed=42, clock={"now": SMALL_START})

        loaded = load_into(client, ws["id"], small())

        assert loaded["workspace"]["settings"]["payments_per_resident_per_day"] == 2
        got = client.get(f"/v1/sandbox/workspaces/{ws['id']}", headers=OPERATOR).json()
        assert got["settings"]["payments_per_resident_per_day"] == 2
        assert got["settings"]["cutoff_time"] == "19:45:00"  # not given: the workspace's
        assert set(loaded["keys"]) >= {"p1", "p2"}

    def test_settings_the_file_does_not_give_are_kept(self, client: TestClient) -> None:
        ws = make_workspace(client, settings={"cutoff_time": "18:00", "late_payment_grace_days": 3})

        load_into(
            client, ws["id"], {"scenario": "s", "workspace": {"settings": {"cutoff_time": "17:00"}}}
        )

        got = client.get(f"/v1/sandbox/workspaces/{ws['id']}", headers=OPERATOR).json()
        assert got["settings"]["cutoff_time"] == "17:00:00"
        assert got["settings"]["late_payment_grace_days"] == 3

    def test_the_clock_moves_forward_to_the_files_start_running_the_jobs(
        self, client: TestClient
    ) -> None:
        world = make_world(client, seed=42, clock={"now": "2026-06-30T14:00:00Z"})
        first = small()
        first["payments"] = first["payments"][:1]
        first["payments"][0]["at"] = "2026-06-30T15:00:00Z"
        first["workspace"]["clock"]["now"] = "2026-06-30T14:00:00Z"
        del first["advance_to"]
        load_into(client, world.workspace_id, first)
        landlord = landlord_of(client, {"email": world.email, "password": world.password})
        assert payment_statuses(client, landlord) == ["processing"]

        later = {"scenario": "later", "workspace": {"clock": {"now": SMALL_START}}}
        loaded = load_into(client, world.workspace_id, later)

        assert instant(loaded["clock"]["now"]) == instant(SMALL_START)
        assert instant(get_clock(client, world.workspace_id)["now"]) == instant(SMALL_START)
        # 6/30's batch closed at its cut-off and was deposited on 7/1: the jobs ran.
        landlord = landlord_of(client, {"email": world.email, "password": world.password})
        assert payment_statuses(client, landlord) == ["completed"]

    def test_a_start_before_the_workspace_clock_is_422_saying_what_to_do(
        self, client: TestClient
    ) -> None:
        world = make_world(client)  # its clock: START, 2026-07-02
        doc = small()
        doc["workspace"]["clock"]["now"] = "2022-02-18T22:00:00Z"

        response = client.post(
            f"/v1/sandbox/workspaces/{world.workspace_id}/scenario", json=doc, headers=OPERATOR
        )

        body = assert_problem(response, 422, "scenario_before_clock")
        assert body["errors"][0]["field"] == "$.workspace.clock.now"
        assert body["errors"][0]["code"] == "outside_clock"
        assert "POST /v1/sandbox/scenarios" in body["detail"]
        assert "2022-02-18T22:00:00+00:00" in body["detail"]
        assert body["now"] == "2026-07-02T14:00:00+00:00"
        assert instant(get_clock(client, world.workspace_id)["now"]) == instant(START)
        assert client.get("/v1/integrations", headers=world.landlord).json()["data"] == []

    def test_a_start_too_far_ahead_is_422(self, client: TestClient) -> None:
        ws = make_workspace(client)
        doc = {"scenario": "s", "workspace": {"clock": {"now": "2032-01-01T00:00:00Z"}}}

        response = client.post(
            f"/v1/sandbox/workspaces/{ws['id']}/scenario", json=doc, headers=OPERATOR
        )

        body = assert_problem(response, 422, "advance_too_far")
        assert body["errors"][0]["field"] == "$.workspace.clock.now"
        assert instant(get_clock(client, ws["id"])["now"]) == instant(START)

    def test_returns_the_files_landlord_login_tagged_with_the_workspace(
        self, client: TestClient
    ) -> None:
        world = make_world(client, seed=42, clock={"now": SMALL_START})

        loaded = load_into(client, world.workspace_id, small())

        tagged = f"pm+{world.workspace_id}@small.example"
        assert loaded["landlord"] == {"email": tagged, "password": SMALL_LANDLORD["password"]}
        mine = landlord_of(client, loaded["landlord"])
        assert len(client.get("/v1/payments", headers=mine).json()["data"]) == 2
        # The workspace's own landlord still logs in; nobody got the file's plain e-mail.
        login(client, world.email, world.password)
        plain = client.post(
            "/v1/auth/login",
            json={"email": SMALL_LANDLORD["email"], "password": SMALL_LANDLORD["password"]},
        )
        assert plain.status_code == 401

    def test_the_same_file_loads_into_two_workspaces(self, client: TestClient) -> None:
        first = make_workspace(client, seed=42, clock={"now": SMALL_START})
        second = make_workspace(client, seed=42, clock={"now": SMALL_START})

        a, b = load_into(client, first["id"], small()), load_into(client, second["id"], small())

        assert a["keys"] == b["keys"]
        assert a["landlord"]["email"] != b["landlord"]["email"]
        for loaded in (a, b):
            landlord_of(client, loaded["landlord"])

    def test_in_a_workspace_with_the_files_login_that_login_is_used(
        self, client: TestClient
    ) -> None:
        ws = make_workspace(
            client, seed=42, clock={"now": SMALL_START}, landlord=dict(SMALL_LANDLORD)
        )

        loaded = load_into(client, ws["id"], small())

        assert loaded["landlord"]["email"] == SMALL_LANDLORD["email"]
        landlord_of(client, loaded["landlord"])

    def test_in_the_workspace_the_file_names_the_email_is_the_files(
        self, client: TestClient
    ) -> None:
        make_workspace(client, id="ws_small", seed=42, clock={"now": SMALL_START})

        loaded = load_into(client, "ws_small", small())

        assert loaded["landlord"]["email"] == SMALL_LANDLORD["email"]
        assert loaded["ignored"] == ["workspace.name"]
        landlord_of(client, loaded["landlord"])

    def test_a_file_without_a_landlord_answers_the_workspaces_own(self, client: TestClient) -> None:
        world = make_world(
            client,
            seed=42,
            clock={"now": SMALL_START},
            settings={"payments_per_resident_per_day": 2},
        )

        loaded = load_into(client, world.workspace_id, without_workspace(small()))

        assert loaded["landlord"] == {"email": world.email, "password": None}

    def test_a_wrong_password_of_an_existing_login_is_set_to_the_files(
        self, client: TestClient
    ) -> None:
        ws = make_workspace(
            client,
            seed=42,
            clock={"now": SMALL_START},
            landlord={"email": SMALL_LANDLORD["email"], "password": "another-password"},
        )

        loaded = load_into(client, ws["id"], small())

        assert loaded["landlord"]["password"] == SMALL_LANDLORD["password"]
        landlord_of(client, loaded["landlord"])

    def test_what_stays_the_workspaces_is_listed_in_ignored(self, client: TestClient) -> None:
        world = make_world(client, name="Original", seed=7)
        doc = {
            "scenario": "t",
            "workspace": {
                "id": "ws_elsewhere",
                "name": "Other",
                "seed": 99,
                "clock": {"mode": "real", "now": "2026-07-10T00:00:00Z"},
            },
        }

        loaded = load_into(client, world.workspace_id, doc)

        assert loaded["ignored"] == [
            "workspace.id", "workspace.name", "workspace.seed", "workspace.clock.mode"
        ]  # fmt: skip
        got = client.get(f"/v1/sandbox/workspaces/{world.workspace_id}", headers=OPERATOR).json()
        assert (got["name"], got["seed"], got["clock"]["mode"]) == ("Original", 7, "simulated")
        assert instant(got["clock"]["now"]) == instant("2026-07-10T00:00:00Z")


# --- did you mean --------------------------------------------------------------------------------


def misspelt() -> dict[str, Any]:
    doc = small()
    doc["residents"][0]["emial"] = doc["residents"][0].pop("email")
    doc["workspace"]["settings"]["payments_per_resident_per_dya"] = 2
    doc["tenants"] = []
    return doc


class TestDidYouMean:
    @pytest.mark.parametrize(
        "route", ["/v1/sandbox/scenarios", "/v1/sandbox/workspaces/{ws}/scenario"]
    )
    def test_a_misspelt_key_names_the_closest_known_one(
        self, client: TestClient, route: str
    ) -> None:
        ws = make_workspace(client, seed=42, clock={"now": SMALL_START})

        response = client.post(route.format(ws=ws["id"]), json=misspelt(), headers=OPERATOR)

        body = assert_problem(response, 422, "validation_failed")
        messages = {e["field"]: e["message"] for e in body["errors"]}
        assert messages["$.residents[0].emial"].endswith("did you mean 'email'?")
        assert messages["$.workspace.settings.payments_per_resident_per_dya"].endswith(
            "did you mean 'payments_per_resident_per_day'?"
        )
        # Nothing like it: no guess.
        assert "did you mean" not in messages["$.tenants"]
        assert "did you mean 'email'?" in body["detail"]

    def test_portal_seed_gets_the_same_hint(self) -> None:
        with pytest.raises(PortalError) as raised:
            scenarios.parse(json.dumps(misspelt()))

        assert raised.value.code == "invalid_scenario"
        messages = {e.field: e.message for e in raised.value.errors}
        assert messages["$.residents[0].emial"].endswith("did you mean 'email'?")

    def test_inside_a_tagged_union_the_members_own_keys_are_known(self) -> None:
        doc = small()
        doc["payment_sources"][0]["acount_number"] = doc["payment_sources"][0].pop("account_number")

        with pytest.raises(PortalError) as raised:
            scenarios.parse(json.dumps(doc))

        hinted = [e.message for e in raised.value.errors if "acount_number" in e.field]
        assert hinted
        assert hinted[0].endswith("did you mean 'account_number'?")
