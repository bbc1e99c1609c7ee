"""The client's roster (``GET /v1/integration/residents``) after the shipped "Send Balances"
scenario: seed S0 §D's seven-row grid comes back as shown (issue 4 acceptance 1), page by page,
and nobody else's integration sees it (acceptance 6)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from portal_tests.factories import (
    OPERATOR,
    START,
    World,
    bearer,
    login,
    make_integration,
    make_token,
    make_workspace,
)

SCENARIO = Path(__file__).resolve().parents[2] / "seed_data" / "send-balances-roster.json"

#: Seed S0 §D, "Send Balances": Status, Resident, Email, Phone, Property, Amount, Last Payment,
#: Balance (no phone and no last payment in any row of the seed).
SEED_GRID = [
    ("ACTIVE", "Philip Rivers", "privers@fake.com", "2234 Chapala St #8", "750.00", "0.00"),
    ("ACTIVE", "Melvin Gordon", "superbowl@bound.com", "2234 Chapala St #2", "1425.00", "0.00"),
    ("INVITE", "Edward Guro", "heather@promas.com", "6904 Paese NW PI", "950.00", "950.00"),
    ("INVITE", "Marshawn Lynch", "raidersstink@truth.com", "2232 Chapala St", "4125.00", "4125.00"),
    ("WAITING", "Robert Spotz", None, "10604 Rio del Sol NW Ct", "0.00", "0.00"),
    ("WAITING", "Johnny Rm", None, "10604 Rio del Sol NW Ct", "0.00", "0.00"),
    ("WAITING", "Jerry", None, "9312 Sundero NW Bl", "980.00", "980.00"),
]


def scenario() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(SCENARIO.read_text())
    return doc


def load_roster_world(client: TestClient) -> tuple[World, dict[str, Any]]:
    """A workspace with the scenario's seed, the scenario loaded over HTTP; the load result."""
    doc = scenario()
    # The roster's clock (2018) is before a new workspace's: load on the workspace's own.
    doc["workspace"].pop("clock")
    ws = make_workspace(client, seed=doc["workspace"]["seed"])
    response = client.post(
        f"/v1/sandbox/workspaces/{ws['id']}/scenario", json=doc, headers=OPERATOR
    )
    assert response.status_code == 200, response.text
    email, password = ws["landlord"]["email"], ws["landlord"]["password"]
    world = World(ws["id"], email, password, login(client, email, password), ws)
    return world, response.json()


def roster(client: TestClient, token: str, **params: str) -> dict[str, Any]:
    response = client.get("/v1/integration/residents", params=params, headers=bearer(token))
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def grid_row(line: dict[str, Any]) -> tuple[Any, ...]:
    return (
        line["status"],
        line["name"],
        line["email"],
        line["property"],
        line["amount"],
        line["balance"],
    )


class TestShippedScenario:
    """The file itself: one Landlord 12 integration, one call, the seed's bank account."""

    def test_scenario_describes_the_seed_call(self) -> None:
        doc = scenario()
        assert doc["workspace"]["id"] == "ws_send_balances"
        [integration] = doc["integrations"]
        assert integration["kind"] == "landlord12"
        assert integration["issue_token"] is True
        [call] = doc["balances"]
        assert call["integration"] == integration["key"]
        # Seed S0 §C: account 00037029011 (leading zeros kept), no routing number.
        assert call["bank_account"] == {"account_number": "00037029011"}
        assert [r["name"] for r in call["residents"]] == [row[1] for row in SEED_GRID]
        ids = [r["resident_id"] for r in call["residents"]]
        assert len(set(ids)) == len(ids)
        # The two ACTIVE residents are the scenario's approved residents, mapped to those IDs.
        approved = {
            r["lease"]["external_resident_id"]: r["name"]
            for r in doc["residents"]
            if r["state"] == "approved"
        }
        assert approved == {ids[0]: "Philip Rivers", ids[1]: "Melvin Gordon"}


class TestRosterFromScenario:
    """Acceptance 1: Philip Rivers ... Jerry, with ACTIVE / INVITE / WAITING as in the seed."""

    def test_roster_is_the_seed_grid(self, client: TestClient) -> None:
        _world, loaded = load_roster_world(client)
        page = roster(client, loaded["tokens"]["landlord12"])
        assert page["next_cursor"] is None
        lines = page["data"]
        assert sorted(grid_row(line) for line in lines) == sorted(SEED_GRID)
        for line in lines:
            assert line["phone"] is None
            assert line["last_payment"] is None  # "-" in the seed: no payment yet
            assert line["disputed"] == "0.00"

    def test_roster_is_ordered_by_resident_id(self, client: TestClient) -> None:
        _world, loaded = load_roster_world(client)
        lines = roster(client, loaded["tokens"]["landlord12"])["data"]
        sent = [r["resident_id"] for r in scenario()["balances"][0]["residents"]]
        assert [line["resident_id"] for line in lines] == sorted(sent)

    def test_statuses_follow_the_residents(self, client: TestClient) -> None:
        """ACTIVE are the residents who accepted (approved), INVITE those with an e-mail,
        WAITING exactly those without one (seed S0, domain.md §2.2)."""
        world, loaded = load_roster_world(client)
        residents = client.get(
            "/v1/residents", params={"limit": "100"}, headers=world.landlord
        ).json()["data"]
        by_name = {r["name"]: r["status"] for r in residents}
        assert by_name == {
            "Philip Rivers": "approved",
            "Melvin Gordon": "approved",
            "Edward Guro": "invite",
            "Marshawn Lynch": "invite",
            "Robert Spotz": "waiting",
            "Johnny Rm": "waiting",
            "Jerry": "waiting",
        }
        lines = roster(client, loaded["tokens"]["landlord12"])["data"]
        assert all((line["email"] is None) == (line["status"] == "WAITING") for line in lines)
        # The approved residents can log in with the password the scenario gives them.
        rivers = next(r for r in scenario()["residents"] if r["name"] == "Philip Rivers")
        response = client.post(
            "/v1/resident/login",
            json={
                "email": rivers["email"],
                "password": rivers["password"],
                "workspace_id": world.workspace_id,
            },
        )
        assert response.status_code == 200, response.text

    def test_invitations_went_to_the_invited_only(self, client: TestClient) -> None:
        world, _loaded = load_roster_world(client)
        response = client.get(
            f"/v1/sandbox/workspaces/{world.workspace_id}/mailbox",
            params={"kind": "invitation", "limit": "100"},
            headers=OPERATOR,
        )
        assert response.status_code == 200, response.text
        # Rivers and Gordon were invited before they accepted; the intake invited Guro and
        # Lynch; the three WAITING residents have no address.
        invited = ["privers@fake.com", "superbowl@bound.com"]
        invited += ["heather@promas.com", "raidersstink@truth.com"]
        assert sorted(m["to"] for m in response.json()["data"]) == sorted(invited)

    def test_sync_reports_the_grid_counts(self, client: TestClient) -> None:
        _world, loaded = load_roster_world(client)
        response = client.post(
            "/v1/integration/sync", headers=bearer(loaded["tokens"]["landlord12"])
        )
        assert response.status_code == 200, response.text
        summary = response.json()
        assert summary["residents"] == 7
        assert (summary["active"], summary["invite"], summary["waiting"]) == (2, 2, 3)
        # The balances arrived when the scenario was loaded, on the workspace clock.
        assert summary["balances_received_at"] == START


class TestRosterPagination:
    def test_limit_three_walks_all_seven_once(self, client: TestClient) -> None:
        _world, loaded = load_roster_world(client)
        token = loaded["tokens"]["landlord12"]
        everything = [line["resident_id"] for line in roster(client, token)["data"]]
        seen: list[str] = []
        sizes: list[int] = []
        cursor: str | None = None
        for _ in range(10):
            params = {"limit": "3"} | ({"cursor": cursor} if cursor else {})
            page = roster(client, token, **params)
            sizes.append(len(page["data"]))
            seen += [line["resident_id"] for line in page["data"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert sizes == [3, 3, 1]
        assert seen == everything
        assert len(set(seen)) == 7

    def test_exact_page_has_no_next_cursor(self, client: TestClient) -> None:
        _world, loaded = load_roster_world(client)
        page = roster(client, loaded["tokens"]["landlord12"], limit="7")
        assert len(page["data"]) == 7
        assert page["next_cursor"] is None

    def test_a_forged_cursor_is_400(self, client: TestClient) -> None:
        _world, loaded = load_roster_world(client)
        response = client.get(
            "/v1/integration/residents",
            params={"cursor": "not-a-cursor!"},
            headers=bearer(loaded["tokens"]["landlord12"]),
        )
        assert response.status_code == 400, response.text
        assert response.json()["code"] == "invalid_cursor"


class TestRosterIsolation:
    """Acceptance 6: another integration's residents are invisible."""

    def test_another_integration_of_the_workspace_sees_nothing(self, client: TestClient) -> None:
        world, loaded = load_roster_world(client)
        other = make_integration(client, world, name="Landlord 12 - second database")
        token = make_token(client, world, other["id"])["token"]
        assert roster(client, token) == {"data": [], "next_cursor": None}
        summary = client.post("/v1/integration/sync", headers=bearer(token)).json()
        assert summary["residents"] == 0
        assert summary["balances_received_at"] is None
        # ... while the scenario's integration still sees its seven.
        assert len(roster(client, loaded["tokens"]["landlord12"])["data"]) == 7

    def test_the_same_integration_id_in_another_workspace_sees_nothing(
        self, client: TestClient
    ) -> None:
        """Two workspaces with one seed hold the same IDs; the roster is scoped by both."""
        _world, loaded = load_roster_world(client)
        doc = scenario()
        ws = make_workspace(client, seed=doc["workspace"]["seed"])
        email, password = ws["landlord"]["email"], ws["landlord"]["password"]
        other_world = World(ws["id"], email, password, login(client, email, password), ws)
        twin = make_integration(client, other_world)
        assert twin["id"] == loaded["keys"]["landlord12"]  # same seed, same integration ID
        token = make_token(client, other_world, twin["id"])["token"]
        assert roster(client, token) == {"data": [], "next_cursor": None}
        assert client.post("/v1/integration/sync", headers=bearer(token)).json()["residents"] == 0
