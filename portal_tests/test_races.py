"""Every status change outside money is a compare-and-set too (issue 14, scope 1): resident
approvals and merges, token rotation, work-order and applicant transitions, stopping a
recurring payment. Twenty requests released together (each in its own thread, with its own
``TestClient`` and database connection) pass the rule once; the rest get its 409.

The money races are in ``portal_tests/reversals/test_races.py``; the daily payment limit in
``portal_tests/payments/test_concurrency.py``."""

from __future__ import annotations

from collections import Counter

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from portal_tests.applicants.test_applicants import act, apply
from portal_tests.factories import make_integration, make_world
from portal_tests.payments.helpers import add_bank
from portal_tests.payments.test_concurrency import THREADS, all_at_once, assert_problem
from portal_tests.residents.helpers import invite, make_unit, signup
from portal_tests.reversals.helpers import integrated_payer
from portal_tests.reversals.test_races import _one_winner
from portal_tests.work_orders.test_work_orders import report


class TestResidents:
    def test_twenty_approvals_of_one_pending_resident_approve_once(
        self, client: TestClient, app: FastAPI
    ) -> None:
        world = make_world(client)
        unit = make_unit(client, world)
        pending = signup(client, unit["property_id"], unit["id"])

        def approve(own: TestClient) -> httpx.Response:
            return own.post(
                f"/v1/residents/{pending['resident_id']}/approve",
                json={"mode": "manual", "rent": "1200.00", "lease_start": "2026-08-01"},
                headers=world.landlord,
            )

        responses = all_at_once(app, [approve] * THREADS)

        winner = _one_winner(responses, 200, "resident_not_pending")
        # One lease, not twenty.
        assert len(winner.json()["lease_ids"]) == 1
        leases = client.get("/v1/residents", headers=world.landlord).json()["data"]
        assert [len(r["lease_ids"]) for r in leases] == [1]

    def test_two_pending_residents_merging_one_known_resident_merge_once(
        self, client: TestClient, app: FastAPI
    ) -> None:
        world = make_world(client)
        unit = make_unit(client, world)
        known = invite(
            client, world, unit["id"], external_resident_id="t0001", email=None, name="A. Kmetz"
        )
        pendings = [
            signup(
                client,
                unit["property_id"],
                unit["id"],
                name=f"Anthony {n}",
                email=f"tony{n}@example.com",
            )["resident_id"]
            for n in range(THREADS)
        ]

        def merge(rid: str) -> object:
            return lambda own: own.post(
                f"/v1/residents/{rid}/approve",
                json={"mode": "merge", "merge_with": known["id"]},
                headers=world.landlord,
            )

        responses = all_at_once(app, [merge(rid) for rid in pendings])  # type: ignore[misc]

        # The first merge retires the known resident; the others find it gone (404).
        assert Counter(r.status_code for r in responses) == {200: 1, 404: THREADS - 1}
        for r in responses:
            if r.status_code == 404:
                assert_problem(r, 404, "resident_not_found")
        [winner] = [r.json() for r in responses if r.status_code == 200]
        lease = client.get(f"/v1/leases/{known['lease_ids'][0]}", headers=world.landlord).json()
        assert lease["resident_ids"] == [winner["id"]]


class TestTokens:
    def test_twenty_token_issues_at_once_leave_one_active_token(
        self, client: TestClient, app: FastAPI, engine: Engine
    ) -> None:
        world = make_world(client)
        integration = make_integration(client, world)
        path = f"/v1/integrations/{integration['id']}/tokens"

        def issue(own: TestClient) -> httpx.Response:
            return own.post(path, headers=world.landlord)

        responses = all_at_once(app, [issue] * THREADS)

        assert {r.status_code for r in responses} == {201}
        tokens = client.get(path, headers=world.landlord).json()["data"]
        assert len(tokens) == THREADS
        assert sum(1 for t in tokens if t["active"]) == 1
        with engine.connect() as conn:
            active = conn.execute(
                text(
                    "SELECT count(*) FROM integration_token "
                    "WHERE workspace_id = :ws AND integration_id = :i AND active"
                ),
                {"ws": world.workspace_id, "i": integration["id"]},
            ).scalar_one()
        assert active == 1


class TestWorkOrdersAndApplicants:
    def test_twenty_conflicting_status_moves_make_one_move(
        self, client: TestClient, app: FastAPI
    ) -> None:
        # From in_progress a work order may be completed or cancelled, never both: whichever
        # move wins, every request of the other kind is refused. (A move to the status it
        # already has is a no-op, so the winner's twins answer 200.)
        world, payer = integrated_payer(client)
        wo = report(client, payer)
        path = f"/v1/work-orders/{wo['id']}"
        started = client.patch(path, json={"status": "in_progress"}, headers=world.landlord)
        assert started.status_code == 200, started.text

        def move_to(status: str) -> object:
            return lambda own: own.patch(path, json={"status": status}, headers=world.landlord)

        targets = ["completed" if n % 2 else "cancelled" for n in range(THREADS)]
        responses = all_at_once(app, [move_to(t) for t in targets])  # type: ignore[misc]

        final = client.get(path, headers=world.landlord).json()
        by_kind = {
            t: {r.status_code for r, k in zip(responses, targets, strict=True) if k == t}
            for t in ("completed", "cancelled")
        }
        loser = "cancelled" if final["status"] == "completed" else "completed"
        assert by_kind == {final["status"]: {200}, loser: {409}}
        for r, k in zip(responses, targets, strict=True):
            if k == loser:
                assert_problem(r, 409, "invalid_transition")
        moves = [str(h["changes"].get("status")) for h in final["history"]]
        assert sum(1 for m in moves if "completed" in m or "cancelled" in m) == 1, moves

    def test_twenty_decisions_on_one_application_decide_once(
        self, client: TestClient, app: FastAPI
    ) -> None:
        world, payer = integrated_payer(client)
        application = apply(client, payer)
        assert act(client, world, application["id"], "screen").status_code == 200

        def decide(n: int) -> object:
            body = (
                {"decision": "approve"}
                if n % 2
                else {"decision": "deny", "reasons": ["Insufficient income"]}
            )
            return lambda own: own.post(
                f"/v1/applicants/{application['id']}/decision", json=body, headers=world.landlord
            )

        responses = all_at_once(app, [decide(n) for n in range(THREADS)])  # type: ignore[misc]

        winner = _one_winner(responses, 200, "invalid_transition")
        final = client.get(f"/v1/applicants/{application['id']}", headers=world.landlord).json()
        assert final["status"] == winner.json()["status"]


class TestRecurring:
    def test_twenty_stops_of_one_schedule_stop_it_once(
        self, client: TestClient, app: FastAPI
    ) -> None:
        _world, payer = integrated_payer(client)
        source = add_bank(client, payer)
        made = client.post(
            "/v1/resident/recurring-payments",
            json={
                "lease_id": payer.lease_id,
                "payment_source_id": source["id"],
                "amount": "980.00",
                "day_of_month": 1,
            },
            headers=payer.auth,
        )
        assert made.status_code == 201, made.text
        path = f"/v1/resident/recurring-payments/{made.json()['id']}"

        def stop(own: TestClient) -> httpx.Response:
            return own.delete(path, headers=payer.auth)

        responses = all_at_once(app, [stop] * THREADS)

        _one_winner(responses, 200, "recurring_payment_not_active")


class _Deadlock(Exception):
    sqlstate = "40P01"


def test_a_database_deadlock_is_a_retryable_409_not_a_500(app: FastAPI, client: TestClient) -> None:
    # PostgreSQL aborts one of two transactions that wait for each other; the request did
    # nothing, so the client may retry (the locks' order makes this rare, not impossible).
    from sqlalchemy.exc import OperationalError

    async def deadlocked() -> None:
        raise OperationalError("UPDATE payment ...", {}, _Deadlock("deadlock detected"))

    app.add_api_route("/v1/_test/deadlock", deadlocked)

    response = client.get("/v1/_test/deadlock")

    assert_problem(response, 409, "concurrent_update")
    assert response.headers["Retry-After"] == "1"
