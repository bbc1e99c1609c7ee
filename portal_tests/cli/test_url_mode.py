"""Data commands talk to a running server by URL (issue 18, stumble 4): ``portal seed``,
``portal clock advance`` and ``portal check`` against a live ``portal serve``; no server, a
wrong key and a missing workspace are one line naming the URL."""

from __future__ import annotations

import json

import httpx
import pytest

from portal_tests.cli.conftest import (
    SEED_DATA,
    at,
    new_workspace,
    operator_get,
    operator_post,
    portal,
    require_route,
)
from portal_tests.live import LiveServer, free_port

OAK_STREET = SEED_DATA / "oak-street-landlord12.json"


def summary_rows(text: str) -> dict[str, tuple[str, str]]:
    """The advance summary's table: job -> (runs, results), wrapped cells joined again."""
    rows: dict[str, list[str]] = {}
    name = ""
    for line in text.splitlines():
        if not line.startswith("│"):
            continue
        cells = [c.strip() for c in line.strip("│").split("│")]
        if cells[0]:
            name = cells[0]
            rows[name] = cells[1:]
        else:
            rows[name] = [f"{a} {b}".strip() for a, b in zip(rows[name], cells[1:], strict=True)]
    return {k: (v[0], v[1]) for k, v in rows.items()}


class TestSeed:
    @pytest.mark.smoke
    def test_creates_the_workspace_on_the_server_and_prints_its_login(
        self, server: LiveServer
    ) -> None:
        result = at(server, "seed", str(OAK_STREET))

        assert result.exit_code == 0, result.output
        assert f"seeded ws_oak_street from {OAK_STREET}" in result.stdout
        assert f"at {server.base}" in result.stdout
        assert "landlord  manager@oakstreet.example / oak-street-demo" in result.stdout
        token = result.stdout.split("token     landlord12: ")[1].split()[0]
        assert operator_get(server, "/v1/sandbox/workspaces/ws_oak_street").status_code == 200
        last_error = httpx.get(
            f"{server.base}/v1/integration/last-error",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert last_error.status_code == 200

    def test_again_needs_replace(self, server: LiveServer) -> None:
        first = at(server, "seed", str(OAK_STREET), "--json")
        assert first.exit_code == 0, first.output

        again = at(server, "seed", str(OAK_STREET))
        replaced = at(server, "seed", str(OAK_STREET), "--replace", "--json")

        assert again.exit_code == 1
        assert "workspace_exists" in again.output
        assert "--replace" in again.output
        assert replaced.exit_code == 0, replaced.output
        assert json.loads(replaced.stdout)["keys"] == json.loads(first.stdout)["keys"]

    def test_an_older_server_is_seeded_in_two_steps(
        self, server: LiveServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A server without ``POST /v1/sandbox/scenarios``: the workspace the file describes
        is created, then the file loaded into it; the same IDs, login and token."""
        from portal.cli.output import Problem
        from portal.cli.remote import HttpBackend

        real = HttpBackend.call

        def older(self: HttpBackend, method: str, path: str, **kwargs: object) -> object:
            if path == "/v1/sandbox/scenarios":
                raise Problem(404, "not_found", "Not Found", where=self.url)
            return real(self, method, path, **kwargs)

        reference = json.loads(at(server, "seed", str(OAK_STREET), "--json").stdout)
        monkeypatch.setattr(HttpBackend, "call", older)

        result = at(server, "seed", str(OAK_STREET), "--replace", "--json")

        assert result.exit_code == 0, result.output
        loaded = json.loads(result.stdout)
        assert loaded["keys"] == reference["keys"]
        assert loaded["landlord"] == reference["landlord"]
        assert loaded["clock"]["now"] == reference["clock"]["now"]
        assert set(loaded["tokens"]) == {"landlord12"}


class TestAdvance:
    def test_a_long_advance_goes_month_by_month_to_the_same_end(self, server: LiveServer) -> None:
        one = new_workspace(server, id="ws_cli_one")
        stepped = new_workspace(server, id="ws_cli_stepped")
        single = operator_post(
            server, f"/v1/sandbox/workspaces/{one['id']}/clock/advance", {"by": "P3M"}
        ).json()

        result = at(server, "clock", "advance", stepped["id"], "--by", "P3M", "--json")

        assert result.exit_code == 0, result.output
        merged = json.loads(result.stdout)
        assert merged["previous"] == "2026-07-02T14:00:00Z"
        assert merged["now"] == single["now"] == "2026-10-02T14:00:00Z"
        assert [(j["name"], j["due_at"], j["result"]) for j in merged["jobs"]] == [
            (j["name"], j["due_at"], j["result"]) for j in single["jobs"]
        ]

    def test_prints_a_summary_by_job_kind(self, server: LiveServer) -> None:
        assert at(server, "seed", str(OAK_STREET)).exit_code == 0

        result = at(server, "clock", "advance", "ws_oak_street", "--by", "P2M")

        assert result.exit_code == 0, result.output
        assert result.stdout.splitlines()[0] == (
            "ws_oak_street: 2022-02-25T13:00:00Z → 2022-04-25T12:00:00Z, 110 job(s) ran"
        )
        # One row per kind of job (not a line per job), with what their results add up to.
        assert summary_rows(result.stdout) == {
            "residents.pending_reminders": ("41", "pending_residents 41; emails 41"),
            "idempotency_keys.purge": ("59", "–"),
            "payments.run_due": ("2", "recurring_made 2"),
            "payments.cutoff": ("2", "batches_closed 2"),
            "payments.settlement": (
                "2",
                "batches_deposited 2; payments_completed 2; amount 1,300.00",
            ),
            "reports.batch_deposit_report": (
                "2",
                "batches 2; total 1,300.00; emails 2; deposit_date 2022-03-02, 2022-04-04",
            ),
            "payments.late_alerts": ("2", "late_leases 18; emails 18"),
        }
        assert "{" not in result.stdout  # no JSON

    def test_an_unknown_workspace_names_the_server(self, server: LiveServer) -> None:
        result = at(server, "clock", "advance", "ws_nope", "--by", "P1D")

        assert result.exit_code == 1
        assert result.output.strip() == (
            f"workspace_not_found: No workspace 'ws_nope'. (looked at {server.base})"
        )


class TestCheck:
    def test_checks_every_workspace_on_the_server(self, server: LiveServer) -> None:
        require_route(server, "GET", "/v1/sandbox/workspaces/ws_x/check")
        assert at(server, "seed", str(OAK_STREET)).exit_code == 0
        new_workspace(server)

        every = at(server, "check")
        one = at(server, "check", "ws_oak_street", "--json")

        assert every.exit_code == 0, every.output
        assert every.stdout.startswith("ok: 2 workspace(s), 8 deposit batch(es), 15 payment(s)")
        assert one.exit_code == 0, one.output
        assert json.loads(one.stdout) == {
            "ok": True,
            "workspaces": ["ws_oak_street"],
            "batches": 8,
            "payments": 15,
            "violations": [],
        }

    def test_an_unknown_workspace_is_a_usage_error_naming_the_server(
        self, server: LiveServer
    ) -> None:
        require_route(server, "GET", "/v1/sandbox/workspaces/ws_x/check")

        result = at(server, "check", "ws_nope")

        assert result.exit_code == 2
        assert "workspace_not_found" in result.output
        assert f"looked at {server.base}" in result.output


class TestServerProblems:
    @pytest.mark.parametrize(
        "args",
        [
            ("check",),
            ("seed", str(OAK_STREET)),
            ("clock", "advance", "ws_x", "--by", "P1D"),
            ("trigger", "return", "R01", "--payment", "pay_x"),
        ],
        ids=lambda a: a[0],
    )
    def test_no_server_at_the_url_is_one_line(self, args: tuple[str, ...]) -> None:
        url = f"http://127.0.0.1:{free_port()}"

        result = portal(*args, "--url", url)

        assert result.exit_code == 3
        assert result.output.strip().splitlines() == [
            f"no portal server answers at {url}: start one with `portal serve`, point --url "
            "(PORTAL_URL) at yours, or work on a database file with --database-url"
        ]

    def test_the_url_comes_from_portal_url(self) -> None:
        url = f"http://127.0.0.1:{free_port()}"

        result = portal("check", env={"PORTAL_URL": url})

        assert result.exit_code == 3
        assert url in result.output

    def test_a_wrong_operator_key_is_one_line(self, server: LiveServer) -> None:
        result = portal("check", "--url", server.base, "--operator-key", "wrong")

        assert result.exit_code == 1
        assert result.output.strip() == (
            f"the server at {server.base} refused the operator key given "
            "(invalid_operator_key): pass --operator-key or set PORTAL_OPERATOR_KEY "
            "(`portal serve` prints it)"
        )
