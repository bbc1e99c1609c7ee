"""Every shipped scenario loads, through the CLI and over HTTP, and replays to the same IDs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from portal.cli import app as cli
from portal_tests.factories import OPERATOR, bearer, login, make_workspace

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


def workspace_like(client: TestClient, doc: dict[str, Any]) -> dict[str, Any]:
    """A workspace with the scenario's seed, clock and settings (the scenario route ignores
    the ``workspace`` section; its payments are made on that clock under those settings)."""
    section = doc["workspace"]
    return make_workspace(
        client, seed=section["seed"], clock=section["clock"], settings=section.get("settings", {})
    )


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
        assert loaded["ignored"] == ["workspace"]
        for key, token in loaded["tokens"].items():
            check = client.get("/v1/integration/last-error", headers=bearer(token))
            assert check.status_code == 200, key

    def test_same_seed_gives_same_ids(self, client: TestClient, path: Path) -> None:
        doc = json.loads(path.read_text())
        results = []
        for _ in range(2):
            ws = workspace_like(client, doc)
            response = client.post(
                f"/v1/sandbox/workspaces/{ws['id']}/scenario", json=doc, headers=OPERATOR
            )
            results.append(response.json()["keys"])
        assert results[0] == results[1]

    def test_portal_seed_creates_the_workspace(self, database_url: str, path: Path) -> None:
        runner = CliRunner()
        first = runner.invoke(cli, ["seed", str(path), "--database-url", database_url])
        assert first.exit_code == 0, first.output
        loaded = json.loads(first.stdout)
        doc = json.loads(path.read_text())
        assert loaded["workspace_id"] == doc["workspace"]["id"]
        assert loaded["clock"]["now"].startswith(final_clock(doc)[:19])
        again = runner.invoke(cli, ["seed", str(path), "--database-url", database_url])
        assert again.exit_code == 1  # the workspace exists; --replace is needed
        replaced = runner.invoke(
            cli, ["seed", str(path), "--replace", "--database-url", database_url]
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
