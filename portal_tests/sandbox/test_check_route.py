"""``GET /v1/sandbox/check`` and ``GET /v1/sandbox/workspaces/{ws}/check``: what ``portal check``
runs (the ledger invariants and the accounting systems' read-back), over HTTP (issue 18)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from portal_tests.factories import OPERATOR, bearer, login
from portal_tests.sandbox.scenario_docs import SMALL_LANDLORD, create, small
from portal_tests.sandbox.test_router import assert_problem


def check(client: TestClient, workspace_id: str | None = None) -> dict[str, Any]:
    path = f"/v1/sandbox/workspaces/{workspace_id}/check" if workspace_id else "/v1/sandbox/check"
    response = client.get(path, headers=OPERATOR)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def batch_ids(client: TestClient, email: str, password: str) -> list[str]:
    auth = bearer(login(client, email, password))
    response = client.get("/v1/deposit-batches", headers=auth)
    assert response.status_code == 200, response.text
    return [b["id"] for b in response.json()["data"]]


def break_batch_total(engine: Engine, workspace_id: str, batch_id: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE deposit_batch SET total_cents = total_cents + 1 "
                "WHERE workspace_id = :ws AND id = :id"
            ),
            {"ws": workspace_id, "id": batch_id},
        )


def two_worlds(client: TestClient) -> tuple[str, str]:
    """Two workspaces of one scenario and one seed: the same batch IDs in each."""
    create(client, small())
    other = small(id="ws_other", landlord={"email": "pm@other.example", "password": "other-pass"})
    create(client, other)
    return "ws_small", "ws_other"


class TestCheck:
    def test_a_loaded_scenario_is_ok(self, client: TestClient) -> None:
        create(client, small())

        report = check(client, "ws_small")

        assert report == {
            "ok": True,
            "workspaces": 1,
            "batches": 1,
            "payments": 2,
            "violations": [],
        }

    def test_every_workspace(self, client: TestClient) -> None:
        two_worlds(client)

        report = check(client)

        assert (report["ok"], report["workspaces"], report["batches"], report["payments"]) == (
            True,
            2,
            2,
            4,
        )

    def test_a_broken_invariant_is_reported_with_200(
        self, client: TestClient, engine: Engine
    ) -> None:
        create(client, small())
        [batch] = batch_ids(client, SMALL_LANDLORD["email"], SMALL_LANDLORD["password"])
        break_batch_total(engine, "ws_small", batch)

        report = check(client, "ws_small")

        assert report["ok"] is False
        assert report["violations"]
        violation = report["violations"][0]
        assert set(violation) == {"workspace_id", "rule", "subject", "detail"}
        assert (violation["workspace_id"], violation["rule"]) == ("ws_small", "batch_total")
        assert batch in violation["subject"]

    def test_another_workspaces_violation_stays_in_its_report(
        self, client: TestClient, engine: Engine
    ) -> None:
        mine, theirs = two_worlds(client)
        [batch] = batch_ids(client, "pm@other.example", "other-pass")
        break_batch_total(engine, theirs, batch)

        assert check(client, mine)["ok"] is True
        assert {v["workspace_id"] for v in check(client, theirs)["violations"]} == {theirs}
        everywhere = check(client)
        assert everywhere["ok"] is False
        assert {v["workspace_id"] for v in everywhere["violations"]} == {theirs}

    def test_the_accounting_systems_read_back_runs_too(self, client: TestClient) -> None:
        doc = small()
        doc["integrations"].append(
            {
                "key": "esite",
                "name": "eSite",
                "kind": "amsi",
                "connection": {
                    "url": "http://127.0.0.1:9/amsiweb/edexweb/esite",
                    "portfolio": "Nobody",
                    "user_id": "u",
                    "password": "p",
                    "timeout_seconds": 1,
                    "property_ids": ["001"],
                },
            }
        )
        create(client, doc)

        report = check(client, "ws_small")

        assert report["ok"] is False
        assert [v["rule"] for v in report["violations"]] == ["esite_unreachable"]

    def test_an_unknown_workspace_is_404(self, client: TestClient) -> None:
        response = client.get("/v1/sandbox/workspaces/ws_nope/check", headers=OPERATOR)
        assert_problem(response, 404, "workspace_not_found")

    def test_needs_the_operator_key(self, client: TestClient) -> None:
        for path in ("/v1/sandbox/check", "/v1/sandbox/workspaces/ws_small/check"):
            response = client.get(path, headers=bearer("not-the-key"))
            assert_problem(response, 401, "invalid_operator_key")
