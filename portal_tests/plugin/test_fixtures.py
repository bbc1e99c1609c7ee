"""Acceptance-style tests written with the pytest plugin's fixtures (issue 18, "Beyond the
anchors"): a live ``portal serve``, a fresh workspace per test, its clock and its mailbox, over
HTTP only, as an accounting client's engineers write theirs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from portal.testing import (
    PortalClock,
    PortalClockError,
    PortalMailbox,
    PortalRequestError,
    PortalServer,
    PortalWorkspace,
)

ROOT = Path(__file__).resolve().parents[2]
OAK_STREET = ROOT / "seed_data" / "oak-street-landlord12.json"
THURSDAY = "2026-07-02T14:00:00Z"  # 10:00 New York; Sat 4 July is a Fed holiday
MONDAY = "2026-07-06T14:00:00Z"
ROW = {
    "resident_id": "t0001",
    "property_id": "OAK",
    "unit_id": "2118",
    "name": "Anthony Kmetz",
    "email": "kmetz@example.com",
    "rent": "1200.00",
    "balance": "1200.00",
}


def send_balances(client: httpx.Client, *rows: dict[str, str]) -> dict[str, object]:
    body = {"residents": list(rows), "bank_account": {"account_number": "00037029011"}}
    sent = client.post("/v1/integration/balances", json=body)
    assert sent.status_code == 200, sent.text
    data: dict[str, object] = sent.json()
    return data


@pytest.mark.portal_workspace(seed=42, clock={"now": THURSDAY})
class TestWalkthrough:
    """The README walkthrough, steps 3 to 7."""

    def test_a_new_token_revokes_the_previous_one(self, portal_workspace: PortalWorkspace) -> None:
        first = portal_workspace.integration(name="Landlord 12 - Oak Street")
        assert first.client.get("/v1/integration/last-error").json() == {"error": None}

        second = portal_workspace.mint_token(first.id)

        revoked = first.client.get("/v1/integration/last-error")
        assert (revoked.status_code, revoked.json()["code"]) == (401, "token_revoked")
        fresh = portal_workspace.client(second).get("/v1/integration/last-error")
        assert fresh.json()["error"]["code"] == "token_revoked"

    def test_the_landlord_client_logs_in_again_after_the_session_expired(
        self, portal_workspace: PortalWorkspace, portal_clock: PortalClock
    ) -> None:
        login = portal_workspace.landlord_login
        with portal_workspace.server.client() as anonymous:
            token = anonymous.post(
                "/v1/auth/login", json={"email": login.email, "password": login.password}
            ).json()["access_token"]

        portal_clock.advance(banking_days=2)  # Thu -> Mon: 4 July is not moved to Friday

        assert portal_clock.now() == datetime(2026, 7, 6, 14, tzinfo=UTC)
        with portal_workspace.client(token) as expired:
            answer = expired.get("/v1/integrations")
        assert (answer.status_code, answer.json()["code"]) == (401, "token_expired")
        assert portal_workspace.landlord.get("/v1/integrations").status_code == 200


@pytest.mark.portal_scenario("seed_data/oak-street-landlord12.json")
@pytest.mark.smoke
def test_a_shipped_scenario_loads_with_its_clock_login_and_token(
    portal_server: PortalServer, portal_workspace: PortalWorkspace
) -> None:
    # The Inosio seed's batch list, as Landlord 12 shows it after the file's own clock.
    client = portal_workspace.client(portal_workspace.tokens["landlord12"])
    batches = client.get("/v1/integration/receipt-batches", params={"state": "unprocessed"})
    labels = [b["label"] for b in batches.json()["data"]]
    assert labels[0] == "Deposit on 2/23/2022, $2,700.00, 3 items, Id: 2732388606925747"
    assert len(labels) == 8
    assert portal_workspace.clock.now() == datetime(2022, 2, 25, 13, tzinfo=UTC)
    assert portal_workspace.landlord.get("/v1/integrations").json()["data"][0]["kind"] == (
        "landlord12"
    )
    assert portal_workspace.keys["kmetz"].startswith("res_")

    # The same file (here as a dict) loads again beside it: the landlord login is made unique.
    again = portal_server.load_scenario(json.loads(OAK_STREET.read_text()))
    try:
        assert again.id != portal_workspace.id
        assert again.landlord_login.email != portal_workspace.landlord_login.email
        assert again.landlord_login.email.startswith("manager+")
        assert again.landlord.get("/v1/integrations").status_code == 200
    finally:
        again.close()


@pytest.mark.portal_workspace(clock={"now": MONDAY})
class TestClock:
    def test_advance_moves_the_clock_and_returns_the_jobs_run(
        self, portal_clock: PortalClock
    ) -> None:
        jobs = portal_clock.advance(by="P1D")

        assert portal_clock.now() == datetime(2026, 7, 7, 14, tzinfo=UTC)
        # Only jobs that did something are listed (an empty world: the nightly purge).
        assert jobs, "no job ran"
        assert [job.due_at for job in jobs] == sorted(job.due_at for job in jobs)
        start, end = datetime(2026, 7, 6, 14, tzinfo=UTC), datetime(2026, 7, 7, 14, tzinfo=UTC)
        assert all(start < job.due_at <= end and job.ran_at == job.due_at for job in jobs)
        assert portal_clock.business_date().isoformat() == "2026-07-07"

        portal_clock.advance(by=timedelta(hours=2))
        portal_clock.advance(to=datetime(2026, 7, 8, 14, tzinfo=UTC))
        assert portal_clock.now() == datetime(2026, 7, 8, 14, tzinfo=UTC)

    def test_advance_takes_exactly_one_way_to_move(self, portal_clock: PortalClock) -> None:
        with pytest.raises(TypeError, match="exactly one"):
            portal_clock.advance()
        with pytest.raises(TypeError, match="exactly one"):
            portal_clock.advance(by="P1D", banking_days=1)
        with pytest.raises(ValueError, match="offset"):
            portal_clock.advance(to=datetime(2026, 7, 8, 14))  # noqa: DTZ001
        with pytest.raises(PortalRequestError, match="clock_backwards"):
            portal_clock.advance(to="2026-07-01T00:00:00Z")

    def test_a_simulated_clock_is_frozen(self, portal_clock: PortalClock) -> None:
        assert portal_clock.mode == "simulated"
        assert portal_clock.freeze() == datetime(2026, 7, 6, 14, tzinfo=UTC)

    @pytest.mark.portal_workspace(clock={"mode": "real"})
    def test_a_real_clock_cannot_be_frozen(self, portal_clock: PortalClock) -> None:
        with pytest.raises(PortalClockError, match="'real'"):
            portal_clock.freeze()


@pytest.mark.portal_workspace(clock={"now": MONDAY})
class TestMailbox:
    def test_assert_sent_finds_an_email_or_lists_what_was_sent(
        self, portal_workspace: PortalWorkspace, portal_mailbox: PortalMailbox
    ) -> None:
        send_balances(portal_workspace.integration().client, ROW)

        invite = portal_mailbox.assert_sent(to="KMETZ@example.com", kind="invitation")
        assert invite.data["invite_code"]
        portal_mailbox.assert_not_sent(kind="batch_deposit_report")
        with pytest.raises(AssertionError) as failed:
            portal_mailbox.assert_sent(kind="batch_deposit_report", to="kmetz@example.com")

        message = str(failed.value)
        assert "kind='batch_deposit_report'" in message
        assert "1 sent:" in message
        assert "invitation" in message
        assert "kmetz@example.com" in message
        with pytest.raises(AssertionError, match="should not be"):
            portal_mailbox.assert_not_sent(kind="invitation")

    def test_a_resident_accepts_an_invitation_and_pays(
        self, portal_workspace: PortalWorkspace, portal_mailbox: PortalMailbox
    ) -> None:
        send_balances(portal_workspace.integration().client, ROW)
        invite = portal_mailbox.assert_sent(kind="invitation")

        resident = portal_workspace.accept_invite(invite, "s3cret-pass")

        leases = resident.get("/v1/resident/leases").json()["data"]
        assert [lease["id"] for lease in leases] == [invite.data["lease_id"]]
        again = portal_workspace.resident("kmetz@example.com", "s3cret-pass")
        assert again.get("/v1/resident/leases").status_code == 200


def test_a_helper_call_the_portal_refuses_names_the_problem(
    portal_workspace: PortalWorkspace,
) -> None:
    with pytest.raises(PortalRequestError, match="integration_not_found") as refused:
        portal_workspace.mint_token("int_nope")
    assert refused.value.code == "integration_not_found"
    assert refused.value.response.status_code == 404


def test_closing_a_workspace_deletes_it(portal_server: PortalServer) -> None:
    workspace = portal_server.create_workspace(name="closed")
    assert workspace.read()["name"] == "closed"

    workspace.close()

    gone = portal_server.operator.get(workspace.path)
    assert (gone.status_code, gone.json()["code"]) == (404, "workspace_not_found")
