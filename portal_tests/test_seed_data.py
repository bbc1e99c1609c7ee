"""Every shipped scenario loads, through the CLI and over HTTP, and replays to the same IDs:
``POST /v1/sandbox/scenarios`` builds the very world ``portal seed`` builds (issue 18), and a
reset returns it to that world, its integration tokens included."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from portal.cli import app as cli
from portal.core.db import make_engine
from portal.core.migrate import upgrade
from portal_tests.factories import OPERATOR, bearer, login, make_workspace
from portal_tests.sandbox.worlds import (
    PROCESS_TIME_COLUMNS,
    RANDOM_COLUMNS,
    TOKEN_COLUMNS,
    counts,
    differences,
    snapshot,
)

SEED_DATA = Path(__file__).resolve().parent.parent / "seed_data"
FILES = sorted(SEED_DATA.glob("*.json"))


def scenario_keys(doc: dict[str, Any]) -> set[str]:
    keys = {e["key"] for section in SECTIONS for e in doc.get(section, []) if "key" in e}
    keys |= {r["lease"]["key"] for r in doc.get("residents", []) if "key" in r["lease"]}
    return keys | {u["key"] for p in doc.get("properties", []) for u in p.get("units", [])}


SECTIONS = (
    "integrations",
    "properties",
    "deposit_accounts",
    "residents",
    "pending_residents",
    "payment_sources",
    "recurring_payments",
    "payments",
    "work_orders",
    "applications",
)


def workspace_like(
    client: TestClient, doc: dict[str, Any], *, own_landlord: bool = True
) -> dict[str, Any]:
    """A workspace with the scenario's name, seed, clock and settings, and (``own_landlord``)
    its landlord login, so loading the file adds no second landlord. A landlord e-mail is
    unique across workspaces: a second such workspace needs ``own_landlord=False``."""
    section = doc["workspace"]
    fields = ("name", "seed", "clock", "settings") + (("landlord",) if own_landlord else ())
    return make_workspace(client, **{k: section[k] for k in fields if k in section})


def entity_keys(doc: dict[str, Any]) -> set[str]:
    """The keys that name an integration, property, unit, resident or lease."""
    keys = {
        e["key"] for name in ("integrations", "properties", "residents") for e in doc.get(name, [])
    }
    keys |= {r["lease"]["key"] for r in doc.get("residents", []) if "key" in r["lease"]}
    return keys | {u["key"] for p in doc.get("properties", []) for u in p.get("units", [])}


def quiet_courier(client: TestClient) -> None:
    """Keep the server from sending deliveries after a commit (``portal seed`` sends none): its
    attempts would change the world being compared while it is read."""
    client.app.state.courier.loop = None  # type: ignore[attr-defined]


def unreachable(doc: dict[str, Any]) -> dict[str, Any]:
    """The scenario with its accounting systems' URLs on a port nobody listens on (the shipped
    ones name the reference servers' default ports, which a developer may be running)."""
    for spec in doc.get("integrations", []):
        if spec.get("connection"):
            spec["connection"]["url"] = "http://127.0.0.1:9/unreachable"
    return doc


def final_clock(doc: dict[str, Any]) -> str:
    """Where loading leaves the clock: ``advance_to``, else the last payment, else the start."""
    instants = [p["at"] for p in doc.get("payments", [])]
    if doc.get("advance_to"):
        instants.append(doc["advance_to"])
    return max(instants, default=doc["workspace"]["clock"]["now"])


def test_there_is_at_least_one_scenario() -> None:
    assert FILES


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
class TestShippedScenario:
    def test_loads_over_http_into_a_workspace(self, client: TestClient, path: Path) -> None:
        doc = json.loads(path.read_text())
        ws = workspace_like(client, doc)
        response = client.post(
            f"/v1/sandbox/workspaces/{ws['id']}/scenario", json=doc, headers=OPERATOR
        )
        assert response.status_code == 200, response.text
        loaded = response.json()
        assert set(loaded["keys"]) == scenario_keys(doc)
        assert loaded["ignored"] == ["workspace.id"]  # the workspace has its own ID
        landlord = doc["workspace"]["landlord"]
        assert loaded["landlord"] == {"email": landlord["email"], "password": landlord["password"]}
        login(client, landlord["email"], landlord["password"])
        assert loaded["clock"]["now"].startswith(final_clock(doc)[:19])
        for key, token in loaded["tokens"].items():
            check = client.get("/v1/integration/last-error", headers=bearer(token))
            assert check.status_code == 200, key

    def test_same_seed_gives_same_ids(self, client: TestClient, path: Path) -> None:
        doc = json.loads(path.read_text())
        results = []
        for _ in range(2):
            ws = workspace_like(client, doc, own_landlord=False)
            response = client.post(
                f"/v1/sandbox/workspaces/{ws['id']}/scenario", json=doc, headers=OPERATOR
            )
            assert response.status_code == 200, response.text
            results.append(response.json()["keys"])
        assert results[0] == results[1]

    def test_the_scenarios_route_builds_what_portal_seed_builds(
        self, client: TestClient, engine: Engine, path: Path, tmp_path: Path
    ) -> None:
        doc = json.loads(path.read_text())
        quiet_courier(client)
        response = client.post("/v1/sandbox/scenarios", json=doc, headers=OPERATOR)
        assert response.status_code == 201, response.text
        over_http = response.json()
        other = make_engine(f"sqlite:///{tmp_path / 'seeded.db'}")
        try:
            upgrade(other)
            seeded = CliRunner().invoke(cli, ["seed", str(path), "--database-url", str(other.url)])
            assert seeded.exit_code == 0, seeded.output
            without = RANDOM_COLUMNS | TOKEN_COLUMNS | PROCESS_TIME_COLUMNS
            by_cli = snapshot(other, doc["workspace"]["id"], without=without)
        finally:
            other.dispose()
        by_http = snapshot(engine, doc["workspace"]["id"], without=without)

        assert not differences(by_cli, by_http), "\n".join(differences(by_cli, by_http))
        # A real world, not two empty ones: the entities the answer names are in it.
        assert counts(by_http)["workspace_scenario"] == 1
        assert set(over_http["keys"]) == scenario_keys(doc)
        stored = {
            row[columns.index("id")]
            for name in ("integration", "property", "unit", "resident", "lease")
            for columns, rows in [by_http[name]]
            for row in rows
        }
        named = {over_http["keys"][k] for k in entity_keys(doc)}
        assert named
        assert named <= stored
        assert over_http["workspace_id"] == over_http["workspace"]["id"] == doc["workspace"]["id"]
        assert over_http["workspace"]["seed"] == doc["workspace"]["seed"]
        landlord = doc["workspace"]["landlord"]
        assert over_http["landlord"] == {
            "email": landlord["email"],
            "password": landlord["password"],
        }
        login(client, landlord["email"], landlord["password"])
        assert over_http["clock"]["now"].startswith(final_clock(doc)[:19])
        assert set(over_http["tokens"]) == {
            i["key"] for i in doc.get("integrations", []) if i.get("issue_token")
        }
        for key, token in over_http["tokens"].items():
            check = client.get("/v1/integration/last-error", headers=bearer(token))
            assert check.status_code == 200, key

    def test_reset_returns_the_workspace_to_the_scenario(
        self, client: TestClient, engine: Engine, path: Path
    ) -> None:
        doc = unreachable(json.loads(path.read_text()))
        ws_id = doc["workspace"]["id"]
        quiet_courier(client)
        loaded = client.post("/v1/sandbox/scenarios", json=doc, headers=OPERATOR).json()
        # Only what is drawn at random when made differs; the tokens are the same.
        without = RANDOM_COLUMNS - {("landlord_user", "password_hash")}
        before = snapshot(engine, ws_id, without=without)
        advance = client.post(
            f"/v1/sandbox/workspaces/{ws_id}/clock/advance", json={"by": "P3D"}, headers=OPERATOR
        )
        assert advance.status_code == 200, advance.text

        reset = client.post(f"/v1/sandbox/workspaces/{ws_id}/reset", headers=OPERATOR)

        assert reset.status_code == 200, reset.text
        assert reset.json()["to"] == "scenario"
        assert reset.json()["scenarios"] == [doc["scenario"]]
        assert reset.json()["keys"] == loaded["keys"]
        after = snapshot(engine, ws_id, without=without)
        assert not differences(before, after), "\n".join(differences(before, after))
        for key, token in loaded["tokens"].items():
            check = client.get("/v1/integration/last-error", headers=bearer(token))
            assert check.status_code == 200, key

    def test_portal_seed_creates_the_workspace(self, database_url: str, path: Path) -> None:
        runner = CliRunner()
        first = runner.invoke(cli, ["seed", str(path), "--database-url", database_url, "--json"])
        assert first.exit_code == 0, first.output
        loaded = json.loads(first.stdout)
        doc = json.loads(path.read_text())
        assert loaded["workspace_id"] == doc["workspace"]["id"]
        assert loaded["clock"]["now"].startswith(final_clock(doc)[:19])
        again = runner.invoke(cli, ["seed", str(path), "--database-url", database_url])
        assert again.exit_code == 1  # the workspace exists; --replace is needed
        replaced = runner.invoke(
            cli, ["seed", str(path), "--replace", "--database-url", database_url, "--json"]
        )
        assert replaced.exit_code == 0, replaced.output
        assert json.loads(replaced.stdout)["keys"] == loaded["keys"]


class TestScenarioValidation:
    def test_cli_names_the_json_path_of_a_bad_field(
        self, tmp_path: Path, database_url: str
    ) -> None:
        bad = tmp_path / "bad.json"
        bad.write_text(
            json.dumps(
                {"scenario": "bad", "integrations": [{"key": "x", "name": "X", "kind": "yardi"}]}
            )
        )
        result = CliRunner().invoke(cli, ["seed", str(bad), "--database-url", database_url])
        assert result.exit_code == 2
        assert "$.integrations[0].kind" in result.output


class TestOakStreet:
    """The Oak Street world reproduces seed S4's people and lets every approval path run."""

    def test_people_statuses_and_sync_approval(self, client: TestClient) -> None:
        doc = json.loads((SEED_DATA / "oak-street-landlord12.json").read_text())
        ws = workspace_like(client, doc)
        keys = client.post(
            f"/v1/sandbox/workspaces/{ws['id']}/scenario", json=doc, headers=OPERATOR
        ).json()["keys"]
        landlord = bearer(login(client, ws["landlord"]["email"], ws["landlord"]["password"]))
        status = {
            key: client.get(f"/v1/residents/{keys[key]}", headers=landlord).json()["status"]
            for key in ("kmetz", "rodriguez", "guro", "spotz", "roommate")
        }
        assert status == {
            # Their rent payments of 2/22/2022 made them current (domain.md §11).
            "kmetz": "current",
            "rodriguez": "current",
            "guro": "invite",
            "spotz": "waiting",
            "roommate": "pending",
        }
        synced = client.post(
            f"/v1/residents/{keys['roommate']}/approve", json={"mode": "sync"}, headers=landlord
        )
        assert synced.status_code == 200, synced.text
        lease_id = synced.json()["lease_ids"][0]
        lease = client.get(f"/v1/leases/{lease_id}", headers=landlord).json()
        assert lease["external_resident_id"] == "t0005"
        rodriguez = client.get(f"/v1/residents/{keys['rodriguez']}", headers=landlord).json()
        owed = client.get(f"/v1/leases/{rodriguez['lease_ids'][0]}", headers=landlord).json()
        # Landlord 12 last sent 980.00 (the seed's "Unpaid charges are $980.00"); the $500.00
        # payment deposited on 2/23 lowered the integrated balance.
        assert owed["balance"] == "480.00"
        kmetz = client.post(
            "/v1/resident/login",
            json={"email": "anthony.kmetz@example.com", "password": "kmetz-demo-pass"},
        )
        assert kmetz.status_code == 200, kmetz.text
