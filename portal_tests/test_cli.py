"""The ``portal`` command line: clock advance, openapi, migrate (serve is driven in CI by hand)."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from portal.cli import app as cli
from portal.openapi import render
from portal_tests.factories import make_workspace


class TestClockAdvance:
    def test_advances_like_the_http_call(self, client: TestClient, database_url: str) -> None:
        ws = make_workspace(client)
        result = CliRunner().invoke(
            cli,
            ["clock", "advance", ws["id"], "--by", "P1D", "--database-url", database_url, "--json"],
        )
        assert result.exit_code == 0, result.output
        out = json.loads(result.stdout)
        assert out["now"] == "2026-07-03T14:00:00Z"
        assert [j["name"] for j in out["jobs"]] == ["idempotency_keys.purge"]
        clock = client.get(
            f"/v1/sandbox/workspaces/{ws['id']}/clock",
            headers={"Authorization": "Bearer test-operator-key"},
        ).json()
        assert clock["now"] == "2026-07-03T14:00:00Z"

    def test_refuses_a_bad_duration_and_an_unknown_workspace(self, database_url: str) -> None:
        runner = CliRunner()
        bad = runner.invoke(cli, ["clock", "advance", "ws_x", "--by", "1D"])
        assert bad.exit_code == 2
        assert "ISO 8601" in bad.output
        missing = runner.invoke(
            cli, ["clock", "advance", "ws_nope", "--by", "P1D", "--database-url", database_url]
        )
        assert missing.exit_code == 1
        assert "workspace_not_found" in missing.output


class TestOpenapiCommand:
    def test_writes_the_current_spec(self, tmp_path: Path) -> None:
        target = tmp_path / "spec.json"
        result = CliRunner().invoke(cli, ["openapi", "--output", str(target)])
        assert result.exit_code == 0, result.output
        assert target.read_text() == render()


class TestMigrateCommand:
    def test_brings_an_empty_database_to_head(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'fresh.db'}"
        result = CliRunner().invoke(cli, ["migrate", "--database-url", url])
        assert result.exit_code == 0, result.output
        assert "newest migration" in result.output
