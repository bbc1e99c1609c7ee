"""The MRI import against a live reference MRI over HTTP (issue 17 "Import", acceptance 1 and
4): Sync Now reads every page of ``ResidentLeaseDetailsByPropertyID`` and brings in exactly the
current and future residents (seed 002 "Future Residents"), a second run changes nothing, a
``BlockEPayments`` flipped on MRI blocks payment at the next Sync Now (seed 002 "Blocking Online
Payments"), a failed read applies nothing, the runs are in the same import review as AMSI's and
the daily sync runs them (connectors.md §2.4, §2.8, §2.9).

The reference's fixture (property 500, today 2026-07-02 on the workspace clock): lease 01|101|2
(current ``0000000091`` and co-resident ``WF00000422``), 01|102|1 (``0000000001``, e-mail),
01|103|1 (``0000000002``, Old), 01|103|2 (``0000000003``, BlockEPayments Y), 02|201|1 (current
``0000000004`` and other resident ``0000000005``), 02|202|1 (``0000000006``, New)."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from portal.connectors.mri import import_rows
from portal.payments.check.balances import balances
from portal.residents.models import LeaseEvent, PaymentsSetting
from portal_tests.connectors.conftest import MriIntegration
from portal_tests.connectors.helpers import drained
from portal_tests.connectors.mri_helpers import (
    add_pending_move_in,
    counts,
    get,
    invitations,
    lease_detail_calls,
    names,
    page_size,
    patch_lease,
    patch_resident,
    portal_leases,
    ref_balance,
    resident_payer,
    runs,
    set_connection,
    sync,
    sync_response,
)
from portal_tests.factories import OPERATOR, START, login, make_integration, make_world
from portal_tests.payments.helpers import add_card, pay, post_payment
from portal_tests.reference_mri.conftest import LEASE_DETAILS
from portal_tests.reference_mri.server import ThreadedMriServer
from portal_tests.residents.helpers import invite, mailbox, make_unit

#: The fixture's current and future leases, by (unit key, the primary's ResidentNameID):
#: balance, rent, residents.
FIXTURE = {
    ("500|01|101", "0000000091"): ("8347.00", "740.00", ["COFIRST COLAST", "FIRST LAST"]),
    ("500|01|102", "0000000001"): ("1730.00", "1150.00", ["PAT LEE"]),
    ("500|01|103", "0000000003"): ("0.00", "825.00", ["KIM BLOCK"]),
    ("500|02|201", "0000000004"): ("500.00", "900.00", ["ALEX MONTH", "JO OTHER"]),
    ("500|02|202", "0000000006"): ("0.00", "950.00", ["NEW COMER"]),
}
INVITED = ["alex@example.com", "new.comer@example.com", "pat.lee@example.com"]


def event_count(session: Session) -> int:
    try:
        return int(session.scalar(select(func.count()).select_from(LeaseEvent)) or 0)
    finally:
        session.rollback()


def no_ledger_violations(session: Session, mri: MriIntegration) -> bool:
    try:
        return list(balances(session, mri.world.workspace_id)) == []
    finally:
        session.rollback()


def refused_payment(client: TestClient, payer: Any, card_id: str) -> str:
    refused = post_payment(client, payer, card_id, "100.00")
    assert refused.status_code == 409, refused.text
    code: str = refused.json()["code"]
    return code


# --- the first import ---------------------------------------------------------------------------


class TestSyncNow:
    def test_every_page_is_read_and_exactly_the_current_and_future_leases_come_in(
        self, client: TestClient, mri: MriIntegration, mri_ref: httpx.Client
    ) -> None:
        page_size(mri_ref, 3)  # 8 entries: three pages

        run = sync(client, mri)

        assert (run["status"], run["trigger"]) == ("completed", "sync_now")
        assert counts(run) == (5, 0, 0, 0)
        assert run["errors"] == []
        assert run["properties"] == [{"property_id": "500", "units": 5, "leases": 5}]
        assert run["started_at"] == run["finished_at"] == START
        calls = lease_detail_calls(mri_ref)
        assert [c["notes"] for c in calls] == [
            ["page 1: 3 of 8 rows"],
            ["page 2: 3 of 8 rows"],
            ["page 3: 2 of 8 rows"],
        ]
        assert all(c["payload"]["query"]["RMPROPID"] == "500" for c in calls)
        leases = portal_leases(client, mri)
        # The Old resident (0000000002, lease 01|103|1) is absent; the New one is in.
        assert set(leases) == set(FIXTURE)
        for key, (balance, rent, people) in FIXTURE.items():
            assert (leases[key]["balance"], leases[key]["rent"]) == (balance, rent), key
            assert names(leases[key]) == people, key
            assert leases[key]["status"] == "active"
        residents = get(client, mri, "/v1/residents", limit="500")["data"]
        assert "SAM OLDE" not in {r["name"] for r in residents}

    def test_co_residents_share_the_lease_the_current_one_is_primary(
        self, client: TestClient, mri: MriIntegration
    ) -> None:
        sync(client, mri)

        lease = portal_leases(client, mri)[("500|01|101", "0000000091")]
        first = next(r for r in lease["residents"] if r["name"] == "FIRST LAST")
        co = next(r for r in lease["residents"] if r["name"] == "COFIRST COLAST")
        [created] = lease["history"]
        assert created["data"] == {
            "origin": "mri_import",
            "resident_ids": [first["id"], co["id"]],
            "primary_resident_id": first["id"],
        }
        # No Current entry on 02|201|1 but Current ALEX: the Other Resident JO joins it.
        alex = portal_leases(client, mri)[("500|02|201", "0000000004")]
        assert alex["history"][0]["data"]["primary_resident_id"] == next(
            r["id"] for r in alex["residents"] if r["name"] == "ALEX MONTH"
        )

    @pytest.mark.smoke
    def test_lease_values_follow_mri(self, client: TestClient, mri: MriIntegration) -> None:
        sync(client, mri)

        leases = portal_leases(client, mri)
        first = leases[("500|01|101", "0000000091")]
        # No LeaseStart: OccupyDate is the start (§2.9); LeaseEnd 2025-02-19 has passed:
        # month-to-month.
        assert (first["start_date"], first["end_date"]) == ("2008-02-20", None)
        pat = leases[("500|01|102", "0000000001")]
        assert (pat["start_date"], pat["end_date"]) == ("2015-07-01", None)
        assert pat["accounting_payments"] == "allowed"
        # LeaseMonthToMonth Y: no end date.
        assert leases[("500|02|201", "0000000004")]["end_date"] is None
        # BlockEPayments Y blocks online payment (§0.2, seed 002).
        kim = leases[("500|01|103", "0000000003")]
        assert (kim["accounting_payments"], kim["effective_payments"]) == ("blocked", "blocked")

    def test_a_future_resident_with_a_signed_lease_comes_in_with_its_dates(
        self, client: TestClient, mri: MriIntegration, mri_ref: httpx.Client
    ) -> None:
        add_pending_move_in(
            mri_ref,
            resident_name_id="0000000007",
            first_name="FUTURE",
            last_name="TENANT",
            building_id="02",
            unit_id="201",
            scheduled_move_in="2026-08-01",
            lease_end="2027-07-31",
            rent="1000.00",
            balance="1000.00",
            email="future@example.com",
        )

        run = sync(client, mri)

        assert counts(run) == (6, 0, 0, 0)
        # A lease of its own (LeaseID 2) on the unit ALEX still lives in.
        future = portal_leases(client, mri)[("500|02|201", "0000000007")]
        assert (future["start_date"], future["end_date"]) == ("2026-08-01", "2027-07-31")
        # The reference MRI gives a pending move-in's lease no LeaseMonthlyRentAmount (its rent
        # is a charge of the rent roll only), so the rent is not asserted here.
        assert future["balance"] == "1000.00"
        assert names(future) == ["FUTURE TENANT"]
        assert (
            future["unit_id"] == portal_leases(client, mri)[("500|02|201", "0000000004")]["unit_id"]
        )
        assert "future@example.com" in invitations(client, mri)

    def test_a_resident_moved_to_old_on_mri_is_not_imported(
        self, client: TestClient, mri: MriIntegration, mri_ref: httpx.Client
    ) -> None:
        patch_resident(mri_ref, "0000000001", status="Old")

        run = sync(client, mri)

        assert counts(run) == (4, 0, 0, 0)
        assert ("500|01|102", "0000000001") not in portal_leases(client, mri)
        assert "pat.lee@example.com" not in invitations(client, mri)

    def test_the_property_and_units_are_found_by_their_mri_ids(
        self, client: TestClient, mri: MriIntegration
    ) -> None:
        sync(client, mri)

        [prop] = get(client, mri, "/v1/properties")["data"]
        assert prop["external_id"] == "500"
        assert prop["integration_id"] == mri.id
        # 9951 and 9955 Acklin Drive: the street the buildings share (§2.4 BuildingAddress).
        assert prop["address"] == {
            "street": "Acklin Drive",
            "city": "Dallas",
            "state": "TX",
            "postal_code": "75243",
        }
        assert sorted((u["external_id"], u["name"]) for u in prop["units"]) == [
            ("500|01|101", "101"),
            ("500|01|102", "102"),
            ("500|01|103", "103"),
            ("500|02|201", "201"),
            ("500|02|202", "202"),
        ]

    def test_balances_are_the_ledger_basis(
        self, client: TestClient, mri: MriIntegration, session: Session
    ) -> None:
        sync(client, mri)

        assert no_ledger_violations(session, mri)

    @pytest.mark.smoke
    def test_residents_with_an_email_are_invited_the_others_wait(
        self, client: TestClient, mri: MriIntegration
    ) -> None:
        sync(client, mri)

        assert invitations(client, mri) == INVITED
        residents = get(client, mri, "/v1/residents", limit="500")["data"]
        waiting = sorted(r["name"] for r in residents if r["status"] == "waiting")
        assert waiting == ["COFIRST COLAST", "FIRST LAST", "JO OTHER", "KIM BLOCK"]

    def test_json_reads_the_same_leases(
        self,
        client: TestClient,
        mri: MriIntegration,
        mri_server: ThreadedMriServer,
        mri_ref: httpx.Client,
    ) -> None:
        set_connection(client, mri, mri_server, format="json")
        page_size(mri_ref, 3)

        run = sync(client, mri)

        assert counts(run) == (5, 0, 0, 0)
        assert {c["protocol"] for c in lease_detail_calls(mri_ref)} == {"json"}
        leases = portal_leases(client, mri)
        assert set(leases) == set(FIXTURE)
        pat = leases[("500|01|102", "0000000001")]
        assert (pat["balance"], pat["start_date"]) == ("1730.00", "2015-07-01")

    def test_a_lease_the_landlord_mapped_on_that_unit_is_updated_not_doubled(
        self, client: TestClient, mri: MriIntegration
    ) -> None:
        unit = make_unit(
            client, mri.world, prop_external="500", unit_external="500|01|102", unit_name="102"
        )
        pat = invite(
            client,
            mri.world,
            unit["id"],
            name="PAT LEE",
            email="pat.lee@example.com",
            external_resident_id="0000000001",
        )

        run = sync(client, mri)

        assert counts(run) == (4, 1, 0, 0)
        lease = portal_leases(client, mri)[("500|01|102", "0000000001")]
        assert lease["id"] == pat["lease_ids"][0]
        assert [r["id"] for r in lease["residents"]] == [pat["id"]]
        assert lease["balance"] == "1730.00"
        assert invitations(client, mri).count("pat.lee@example.com") == 1


class TestErredRows:
    def test_an_email_the_portal_does_not_take_errs_the_lease(
        self, client: TestClient, mri: MriIntegration, mri_ref: httpx.Client
    ) -> None:
        patch_resident(mri_ref, "WF00000422", email="not-an-address")

        run = sync(client, mri)

        assert counts(run) == (4, 0, 0, 1)
        [error] = run["errors"]
        assert {k: error[k] for k in ("property_id", "bldg_id", "unit_id", "resi_id")} == {
            "property_id": "500",
            "bldg_id": "01",
            "unit_id": "101",
            "resi_id": "0000000091",
        }
        assert error["reason"] == (
            "PropertyID 500, BuildingID 01, UnitID 101, LeaseID 2: ResidentNameID WF00000422's "
            "Email 'not-an-address' is not an e-mail address"
        )
        assert ("500|01|101", "0000000091") not in portal_leases(client, mri)

    def test_a_lease_whose_move_out_has_passed_errs(
        self, client: TestClient, mri: MriIntegration, mri_ref: httpx.Client
    ) -> None:
        patch_lease(mri_ref, "01", "102", "1", move_out="2026-07-01")

        run = sync(client, mri)

        assert counts(run) == (4, 0, 0, 1)
        [error] = run["errors"]
        assert error["reason"].endswith(": moved out on 2026-07-01 (LeaseMoveOut)")


# --- later runs ---------------------------------------------------------------------------------


class TestSecondRun:
    def test_the_same_data_again_changes_nothing(
        self, client: TestClient, mri: MriIntegration, mri_ref: httpx.Client, session: Session
    ) -> None:
        page_size(mri_ref, 3)
        sync(client, mri)
        before = (portal_leases(client, mri), invitations(client, mri), event_count(session))

        run = sync(client, mri)

        assert counts(run) == (0, 0, 5, 0)
        assert len(lease_detail_calls(mri_ref)) == 6  # every page again
        after = (portal_leases(client, mri), invitations(client, mri), event_count(session))
        assert after == before
        assert len(mailbox(client, mri.world)) == len(INVITED)

    def test_a_balance_changed_on_mri_is_an_update(
        self, client: TestClient, mri: MriIntegration, mri_ref: httpx.Client, session: Session
    ) -> None:
        sync(client, mri)

        patch_lease(mri_ref, "01", "101", "2", balance="8400.50")
        run = sync(client, mri)

        assert counts(run) == (0, 1, 4, 0)
        lease = portal_leases(client, mri)[("500|01|101", "0000000091")]
        assert lease["balance"] == "8400.50"
        assert lease["history"][-1]["data"] == {
            "origin": "mri_import",
            "changes": {"balance_cents": {"from": 834700, "to": 840050}},
        }
        assert no_ledger_violations(session, mri)
        assert counts(sync(client, mri)) == (0, 0, 5, 0)

    def test_a_co_resident_become_primary_keeps_the_lease(
        self, client: TestClient, mri: MriIntegration, mri_ref: httpx.Client
    ) -> None:
        sync(client, mri)
        before = portal_leases(client, mri)[("500|01|101", "0000000091")]

        patch_resident(mri_ref, "0000000091", status="Old")
        run = sync(client, mri)

        # Matched by the co-resident's ResidentNameID + unit; the lease now posts under it.
        assert counts(run) == (0, 1, 4, 0)
        leases = portal_leases(client, mri)
        after = leases[("500|01|101", "WF00000422")]
        assert after["id"] == before["id"]
        assert ("500|01|101", "0000000091") not in leases
        assert after["history"][-1]["data"] == {
            "origin": "mri_import",
            "changes": {"external_resident_id": {"from": "0000000091", "to": "WF00000422"}},
        }
        # The resident who left is left alone, as AMSI's are.
        assert names(after) == ["COFIRST COLAST", "FIRST LAST"]
        assert counts(sync(client, mri)) == (0, 0, 5, 0)

    def test_a_waiting_resident_whose_email_arrives_is_invited_once(
        self, client: TestClient, mri: MriIntegration, mri_ref: httpx.Client
    ) -> None:
        sync(client, mri)

        patch_resident(mri_ref, "0000000005", email="Jo@Example.com")
        run, again = sync(client, mri), sync(client, mri)

        assert counts(run) == (0, 1, 4, 0)
        assert counts(again) == (0, 0, 5, 0)
        assert invitations(client, mri) == sorted([*INVITED, "jo@example.com"])


# --- paying -------------------------------------------------------------------------------------


class TestBlocking:
    def test_the_lease_mri_blocks_cannot_pay(
        self, client: TestClient, mri: MriIntegration, mri_ref: httpx.Client
    ) -> None:
        patch_resident(mri_ref, "0000000003", email="kim@example.com")
        sync(client, mri)
        lease = portal_leases(client, mri)[("500|01|103", "0000000003")]
        kim = resident_payer(client, mri, "kim@example.com", lease)

        assert refused_payment(client, kim, add_card(client, kim)["id"]) == "payments_blocked"

    def test_flipping_block_epayments_on_mri_then_sync_now_blocks_payment_at_once(
        self, client: TestClient, mri: MriIntegration, mri_ref: httpx.Client
    ) -> None:
        sync(client, mri)
        lease = portal_leases(client, mri)[("500|01|102", "0000000001")]
        pat = resident_payer(client, mri, "pat.lee@example.com", lease)
        card = add_card(client, pat)
        assert lease["effective_payments"] == "allowed"

        patch_lease(mri_ref, "01", "102", "1", block_epayments=True)
        blocked = sync(client, mri)

        assert counts(blocked) == (0, 1, 4, 0)
        assert refused_payment(client, pat, card["id"]) == "payments_blocked"
        patch_lease(mri_ref, "01", "102", "1", block_epayments=False)
        assert counts(sync(client, mri)) == (0, 1, 4, 0)
        pay(client, pat, card["id"], "100.00")
        drained(client)
        history = portal_leases(client, mri)[("500|01|102", "0000000001")]["history"]
        assert [e["data"]["changes"] for e in history[1:]] == [
            {"accounting_payments": {"from": "allowed", "to": "blocked"}},
            {"accounting_payments": {"from": "blocked", "to": "allowed"}},
        ]

    def test_an_import_between_posting_and_completion_does_not_count_the_payment_twice(
        self, client: TestClient, mri: MriIntegration, mri_ref: httpx.Client
    ) -> None:
        sync(client, mri)
        lease = portal_leases(client, mri)[("500|01|102", "0000000001")]
        pat = resident_payer(client, mri, "pat.lee@example.com", lease)
        pay(client, pat, add_card(client, pat)["id"], "500.00")
        drained(client)
        # MRI took the receipt off LeaseBalance at the POST; the portal takes it off when the
        # payment completes: the import adds what was posted and is in flight back.
        assert ref_balance(mri_ref, "01", "102") == "1230.00"

        run = sync(client, mri)

        assert counts(run) == (0, 0, 5, 0)
        assert get(client, mri, f"/v1/leases/{lease['id']}")["balance"] == "1730.00"


# --- failures, routes and the review ------------------------------------------------------------


def nothing_imported(client: TestClient, mri: MriIntegration) -> None:
    assert get(client, mri, "/v1/properties")["data"] == []
    assert get(client, mri, "/v1/residents")["data"] == []
    assert mailbox(client, mri.world) == []


class TestFailedRun:
    def test_mri_down_fails_the_run_applies_nothing_and_is_the_last_error(
        self, client: TestClient, mri: MriIntegration, mri_ref: httpx.Client
    ) -> None:
        assert mri_ref.post("/_ref/faults", json={"kind": "downtime"}).status_code == 201

        run = sync(client, mri)

        assert run["status"] == "failed"
        assert counts(run) == (0, 0, 0, 0)
        [error] = run["errors"]
        assert (error["property_id"], error["resi_id"]) == ("500", None)
        assert error["reason"].startswith(f"{LEASE_DETAILS} (RMPROPID 500): HTTP 503")
        nothing_imported(client, mri)
        last = get(client, mri, f"/v1/integrations/{mri.id}")["last_error"]
        assert last["code"] == "mri_import_failed"
        assert last["detail"].startswith(f"The MRI import {run['id']} failed: ")
        assert (last["import_run_id"], last["errors"]) == (run["id"], run["errors"])
        assert mri_ref.delete("/_ref/faults").status_code == 204
        assert counts(sync(client, mri)) == (5, 0, 0, 0)
        assert [r["status"] for r in runs(client, mri)] == ["completed", "failed"]

    def test_a_page_after_the_first_that_never_comes_applies_nothing(
        self,
        client: TestClient,
        mri: MriIntegration,
        mri_server: ThreadedMriServer,
        mri_ref: httpx.Client,
    ) -> None:
        set_connection(client, mri, mri_server, timeout_seconds=0.5)
        page_size(mri_ref, 3)
        slow = {"kind": "slow_page", "operation": LEASE_DETAILS, "page": 2, "ms": 1500}
        assert mri_ref.post("/_ref/faults", json=slow).status_code == 201

        run = sync(client, mri)

        assert run["status"] == "failed"
        assert run["errors"][0]["reason"] == (
            f"{LEASE_DETAILS} (RMPROPID 500): no answer within 0.5 s"
        )
        assert len(lease_detail_calls(mri_ref)) >= 1
        nothing_imported(client, mri)

    def test_an_error_record_fails_the_run(
        self, client: TestClient, mri: MriIntegration, mri_ref: httpx.Client
    ) -> None:
        fault = {"kind": "reject", "operation": LEASE_DETAILS, "message": "Try later"}
        assert mri_ref.post("/_ref/faults", json=fault).status_code == 201

        run = sync(client, mri)

        assert run["status"] == "failed"
        assert run["errors"][0]["reason"] == (
            f"{LEASE_DETAILS} (RMPROPID 500): MRI refused the call: Try later"
        )
        nothing_imported(client, mri)

    def test_an_unknown_property_fails_the_whole_run(
        self, client: TestClient, mri: MriIntegration, mri_server: ThreadedMriServer
    ) -> None:
        set_connection(client, mri, mri_server, property_ids=["500", "999"])

        run = sync(client, mri)

        # Property 500 was read, but a run applies all or nothing.
        assert run["status"] == "failed"
        assert run["errors"] == [
            {
                "property_id": "999",
                "bldg_id": None,
                "unit_id": None,
                "resi_id": None,
                "reason": f"{LEASE_DETAILS} (RMPROPID 999): MRI refused the call: "
                "Property not found: no property '999'",
            }
        ]
        assert run["properties"] == [{"property_id": "500", "units": 5, "leases": 5}]
        nothing_imported(client, mri)

    def test_a_wrong_password_fails_the_run(
        self, client: TestClient, mri: MriIntegration, mri_server: ThreadedMriServer
    ) -> None:
        set_connection(client, mri, mri_server, password="wrong")

        run = sync(client, mri)

        assert run["status"] == "failed"
        assert ": HTTP 401" in run["errors"][0]["reason"]
        nothing_imported(client, mri)


class TestSyncRoutes:
    def test_an_mri_integration_without_a_connection_is_not_synced(
        self, client: TestClient, mri: MriIntegration
    ) -> None:
        bare = make_integration(client, mri.world, name="MRI 2", kind="mri")

        response = sync_response(client, mri, bare["id"])

        assert response.status_code == 409
        body = response.json()
        assert body["code"] == "integration_not_connected"
        assert body["missing"] == ["connection", "password", "property_ids"]
        assert "client_id, database, user, partner_key" in body["detail"]

    def test_an_integration_that_calls_in_is_not_synced(
        self, client: TestClient, mri: MriIntegration
    ) -> None:
        landlord12 = make_integration(client, mri.world)

        response = sync_response(client, mri, landlord12["id"])

        assert response.status_code == 409
        assert response.json()["code"] == "integration_not_importable"
        assert "Only amsi and mri integrations" in response.json()["detail"]

    def test_the_operator_syncs_a_workspaces_mri_integration(
        self, client: TestClient, mri: MriIntegration
    ) -> None:
        path = f"/v1/sandbox/workspaces/{mri.world.workspace_id}/integrations/{mri.id}/sync"

        response = client.post(path, headers=OPERATOR)

        assert response.status_code == 200, response.text
        assert counts(response.json()) == (5, 0, 0, 0)
        other = make_world(client)
        elsewhere = f"/v1/sandbox/workspaces/{other.workspace_id}/integrations/{mri.id}/sync"
        assert client.post(elsewhere, headers=OPERATOR).status_code == 404


class TestImportReview:
    def test_mri_runs_are_listed_like_amsi_ones(
        self, client: TestClient, mri: MriIntegration
    ) -> None:
        first = sync(client, mri)
        second = sync(client, mri, **{"Idempotency-Key": "sync-2"})
        path = f"/v1/integrations/{mri.id}/imports"

        page = get(client, mri, path, limit="1")
        rest = get(client, mri, path, limit="1", cursor=page["next_cursor"])

        assert [r["id"] for r in page["data"]] == [second["id"]]
        assert rest["data"] == [first]
        assert get(client, mri, f"{path}/{first['id']}") == first
        replay = sync_response(client, mri, **{"Idempotency-Key": "sync-2"})
        assert replay.headers["Idempotent-Replayed"] == "true"
        assert len(runs(client, mri)) == 2


class TestDailySync:
    def _daily_sync(self, client: TestClient, mri: MriIntegration, on: bool) -> None:
        read = get(client, mri, f"/v1/integrations/{mri.id}")
        body = {k: v for k, v in read["connection"].items() if k != "password_set"}
        patched = client.patch(
            f"/v1/integrations/{mri.id}",
            json={"connection": body | {"daily_sync": on}},
            headers=mri.world.landlord,
        )
        assert patched.status_code == 200, patched.text

    def _advance(self, client: TestClient, mri: MriIntegration, to: str) -> dict[str, Any]:
        response = client.post(
            f"/v1/sandbox/workspaces/{mri.world.workspace_id}/clock/advance",
            json={"to": to},
            headers=OPERATOR,
        )
        assert response.status_code == 200, response.text
        mri.world.landlord_token = login(client, mri.world.email, mri.world.password)
        data: dict[str, Any] = response.json()
        return data

    def test_the_clock_passing_0415_imports_mri(
        self, client: TestClient, mri: MriIntegration, mri_ref: httpx.Client
    ) -> None:
        self._daily_sync(client, mri, True)

        advanced = self._advance(client, mri, "2026-07-03T09:00:00Z")  # 05:00 New York

        [job] = [j for j in advanced["jobs"] if j["name"] == "connectors.daily_sync"]
        [run] = runs(client, mri)
        assert (run["trigger"], run["status"]) == ("schedule", "completed")
        assert counts(run) == (5, 0, 0, 0)
        assert job["result"]["imports"][mri.id]["run"] == run["id"]
        self._advance(client, mri, "2026-07-04T09:00:00Z")
        assert counts(runs(client, mri)[0]) == (0, 0, 5, 0)

    def test_daily_sync_off_is_left_alone(self, client: TestClient, mri: MriIntegration) -> None:
        self._advance(client, mri, "2026-07-04T09:00:00Z")

        assert runs(client, mri) == []


# --- the rules, as pure functions ----------------------------------------------------------------


TODAY = date(2026, 7, 2)


def entry(**fields: str | None) -> dict[str, str | None]:
    """A record as ``client.get_all`` returns it (field name -> text or None)."""
    record: dict[str, str | None] = {
        "ResidentNameID": "0000000001",
        "PropertyID": "500",
        "BuildingID": "01",
        "UnitID": "102",
        "LeaseID": "1",
        "BuildingAddress": "9951 Acklin Drive",
        "City": "Dallas",
        "State": "TX",
        "Zipcode": "75243",
        "FirstName": "PAT",
        "LastName": "LEE",
        "ResidentStatus": "Current",
        "Email": None,
        "LeaseStart": "2015-07-01T00:00:00.0000000",
        "OccupyDate": "2015-07-01T00:00:00.0000000",
        "LeaseEnd": "2027-06-30T00:00:00.0000000",
        "LeaseMonthlyRentAmount": "1150.00",
        "LeaseMoveOut": None,
        "LeaseMonthToMonth": "N",
        "LeaseBalance": "1730.00",
        "IsCurrent": "Y",
        "BlockEPayments": None,
    }
    record.update(fields)
    return record


class TestRows:
    def test_a_future_resident_is_imported_even_not_marked_current(self) -> None:
        plan = import_rows.plan(
            "500", [entry(ResidentStatus="New", IsCurrent="N", LeaseStart="2026-08-01")], TODAY
        )

        [wanted] = plan.wanted
        assert wanted.start_date == date(2026, 8, 1)

    @pytest.mark.parametrize(
        "fields",
        [
            {"ResidentStatus": "Old", "IsCurrent": "N"},
            {"ResidentStatus": "Old", "IsCurrent": "Y"},
            {"ResidentStatus": "Applicant", "IsCurrent": "Y"},
            {"ResidentStatus": "Current", "IsCurrent": "N"},
        ],
    )
    def test_past_residents_prospects_and_applicants_never(self, fields: dict[str, str]) -> None:
        plan = import_rows.plan("500", [entry(**fields)], TODAY)

        assert (plan.wanted, plan.errors, plan.leases_read) == ([], [], 0)

    def test_is_current_in_any_case(self) -> None:
        assert len(import_rows.plan("500", [entry(IsCurrent="y")], TODAY).wanted) == 1

    def test_co_residents_are_one_lease_the_current_one_primary(self) -> None:
        records = [
            entry(ResidentNameID="WF00000422", ResidentStatus="Co-Resident", FirstName="CO"),
            entry(ResidentStatus="Current"),
            entry(ResidentNameID="0000000009", ResidentStatus="Old", IsCurrent="N"),
        ]

        [wanted] = import_rows.plan("500", records, TODAY).wanted

        assert wanted.resident_id == "0000000001"
        assert [p.name for p in wanted.people] == ["PAT LEE", "CO LEE"]
        # Any ResidentNameID of the lease finds it again, the Old one's too.
        assert wanted.match_ids == ("0000000001", "WF00000422", "0000000009")

    def test_the_namegroup_names_the_primary_in_json(self) -> None:
        co = {"ResidentNameID": "WF00000422", "ResidentStatus": "Co-Resident"}
        records = [entry(Namegroup="WF00000422"), entry(**co, Namegroup="WF00000422")]

        [wanted] = import_rows.plan("500", records, TODAY).wanted

        assert wanted.resident_id == "WF00000422"

    def test_without_a_current_entry_the_first_is_primary(self) -> None:
        records = [
            entry(ResidentNameID="A1", ResidentStatus="Other Resident"),
            entry(ResidentNameID="A2", ResidentStatus="Co-Resident"),
        ]

        assert import_rows.plan("500", records, TODAY).wanted[0].resident_id == "A1"

    def test_lease_values(self) -> None:
        [w] = import_rows.plan("500", [entry(LeaseStart=None, BlockEPayments="y")], TODAY).wanted

        assert (w.key, w.balance_cents, w.rent_cents) == ("500|01|102", 173000, 115000)
        assert (w.start_date, w.move_in, w.end_date) == (
            date(2015, 7, 1),
            date(2015, 7, 1),
            date(2027, 6, 30),
        )
        assert w.accounting_payments is PaymentsSetting.BLOCKED

    @pytest.mark.parametrize(
        ("fields", "end"),
        [
            ({"LeaseMonthToMonth": "Y"}, None),
            ({"LeaseEnd": "2026-07-01T00:00:00"}, None),
            ({"LeaseEnd": "2026-07-02T00:00:00"}, date(2026, 7, 2)),
            ({"LeaseEnd": "2026-07-02"}, date(2026, 7, 2)),
        ],
    )
    def test_month_to_month(self, fields: dict[str, str], end: date | None) -> None:
        assert import_rows.plan("500", [entry(**fields)], TODAY).wanted[0].end_date == end

    def test_the_block_flag_of_any_entry_blocks_the_lease(self) -> None:
        co = {"ResidentNameID": "B", "ResidentStatus": "Co-Resident", "BlockEPayments": "Y"}
        records = [entry(), entry(**co)]

        [w] = import_rows.plan("500", records, TODAY).wanted

        assert w.accounting_payments is PaymentsSetting.BLOCKED

    def test_an_entry_read_twice_is_taken_once(self) -> None:
        plan = import_rows.plan("500", [entry(), entry()], TODAY)

        assert (plan.leases_read, len(plan.wanted), len(plan.wanted[0].people)) == (1, 1, 1)

    def test_property_ids_are_case_insensitive(self) -> None:
        [w] = import_rows.plan("gcns01", [entry(PropertyID="GCNS01")], TODAY).wanted

        assert w.key == "gcns01|01|102"

    def test_units_sharing_an_id_in_two_buildings_name_the_building(self) -> None:
        records = [
            entry(),
            entry(ResidentNameID="X", BuildingID="02"),
            entry(ResidentNameID="Y", UnitID="103"),
        ]

        plan = import_rows.plan("500", records, TODAY)

        assert sorted(w.unit_name for w in plan.wanted) == ["01-102", "02-102", "103"]
        assert plan.units_read == 3

    @pytest.mark.parametrize(
        ("fields", "reason"),
        [
            ({"LeaseBalance": None}, "ResidentNameID 0000000001: LeaseBalance is missing"),
            ({"LeaseBalance": "1,730.00"}, "LeaseBalance '1,730.00' is not an amount"),
            ({"LeaseEnd": "06/30/2027"}, "LeaseEnd '06/30/2027' is not a date"),
            ({"FirstName": None, "LastName": " "}, "has neither FirstName nor LastName"),
            ({"Email": "bad@"}, "ResidentNameID 0000000001's Email 'bad@' is not an e-mail"),
            ({"LeaseMoveOut": "2026-07-01T00:00:00"}, "moved out on 2026-07-01 (LeaseMoveOut)"),
            ({"PropertyID": "501"}, "another property than the 500 asked for"),
            ({"LeaseID": None}, "no BuildingID, UnitID or LeaseID"),
        ],
    )
    def test_a_bad_row_errs_with_its_reason(self, fields: dict[str, str], reason: str) -> None:
        plan = import_rows.plan("500", [entry(**fields)], TODAY)

        [error] = plan.errors
        assert plan.wanted == []
        assert reason in error["reason"]
        assert error["resi_id"] == "0000000001"

    def test_a_move_out_today_is_still_imported(self) -> None:
        plan = import_rows.plan("500", [entry(LeaseMoveOut="2026-07-02T00:00:00")], TODAY)

        assert len(plan.wanted) == 1

    def test_json_numbers_read_as_amounts(self) -> None:
        record: dict[str, Any] = {**entry(), "LeaseBalance": -25.5, "LeaseMonthlyRentAmount": 900}

        [w] = import_rows.plan("500", [record], TODAY).wanted

        assert (w.balance_cents, w.rent_cents) == (-2550, 90000)
