"""The AMSI import against a live reference eSite over HTTP (issue 16, acceptance 1): Sync Now
imports a property's units, leases and residents; the same run twice changes nothing; a change
on the eSite is an update; a blocked lease cannot pay (connectors.md §1.3, §1.4, §1.9)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from portal.payments.check.balances import balances
from portal.residents.models import Lease, LeaseEvent
from portal_tests.connectors.conftest import Amsi
from portal_tests.connectors.helpers import drained
from portal_tests.factories import START
from portal_tests.payments.helpers import Payer, add_account, add_card, post_payment
from portal_tests.reference.conftest import PORTFOLIO, PROPERTY, XML, fixture_bytes
from portal_tests.residents.helpers import invite, mailbox, make_unit

BASE = f"/_ref/portfolios/{PORTFOLIO}/properties/{PROPERTY}"
#: The fixture's current and notice leases, by (unit key, ResiID): balance, rent, residents.
FIXTURE = {
    ("001|01|101", "21"): ("1605.00", "1605.00", ["Pat Sample", "Kim Sample"]),
    ("001|01|102", "4"): ("1730.00", "1605.00", ["Lee Example"]),
    ("001|02|201", "4"): ("-1108.00", "0.00", ["Sam Placeholder", "Alex Guarantor"]),
    ("001|02|202", "13"): ("0.00", "0.00", ["Robin Notice", "Jo Notice"]),
}
INVITED = ["alex@example.com", "kim@example.com", "lee@example.com", "pat@example.com",
           "robin@example.com"]  # fmt: skip


# --- helpers ------------------------------------------------------------------------------------


def sync(client: TestClient, amsi: Amsi, **headers: str) -> dict[str, Any]:
    response = client.post(
        f"/v1/integrations/{amsi.id}/sync", headers={**amsi.world.landlord, **headers}
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def counts(run: dict[str, Any]) -> tuple[int, int, int, int]:
    c = run["counts"]
    return c["new"], c["updated"], c["unchanged"], c["erred"]


def get(client: TestClient, amsi: Amsi, path: str, **params: str) -> Any:
    response = client.get(path, params=params, headers=amsi.world.landlord)
    assert response.status_code == 200, response.text
    return response.json()


def portal_leases(client: TestClient, amsi: Amsi) -> dict[tuple[str, str], dict[str, Any]]:
    """The portal's leases by (unit external ID, lease ID), each with its residents."""
    units = {
        u["id"]: u["external_id"]
        for p in get(client, amsi, "/v1/properties", limit="500")["data"]
        for u in p["units"]
    }
    residents = get(client, amsi, "/v1/residents", limit="500")["data"]
    lease_ids = sorted({lid for r in residents for lid in r["lease_ids"]})
    out = {}
    for lease_id in lease_ids:
        lease = get(client, amsi, f"/v1/leases/{lease_id}")
        lease["residents"] = [r for r in residents if lease_id in r["lease_ids"]]
        out[(units[lease["unit_id"]], lease["external_resident_id"])] = lease
    return out


def names(lease: dict[str, Any]) -> list[str]:
    return sorted(r["name"] for r in lease["residents"])


def invitations(client: TestClient, amsi: Amsi) -> list[str]:
    return sorted(m["to"] for m in mailbox(client, amsi.world, kind="invitation"))


def reseed(ref: httpx.Client, edit: Callable[[ET.Element], None]) -> None:
    """Change the eSite's world as a property manager would: the vendor's residents document,
    edited, loaded again."""
    root = ET.fromstring(fixture_bytes("AMSI-GetPropertyResidents.xml"))
    edit(root)
    response = ref.put(f"{BASE}/residents", content=ET.tostring(root), headers=XML)
    assert response.status_code == 200, response.text


def lease_element(root: ET.Element, bldg: str, unit: str, resi: str) -> ET.Element:
    [found] = [
        x
        for x in root.iter("Lease")
        if (x.get("BldgID"), x.get("UnitID"), x.get("ResiID")) == (bldg, unit, resi)
    ]
    return found


def patch_lease(ref: httpx.Client, bldg: str, unit: str, resi: str, **body: Any) -> None:
    response = ref.patch(f"{BASE}/leases/{bldg}/{unit}/{resi}", json=body)
    assert response.status_code == 200, response.text


# The test session reads in short transactions: on SQLite an open one would hold the write lock
# the app's next request needs.


def event_count(session: Session) -> int:
    try:
        return int(session.scalar(select(func.count()).select_from(LeaseEvent)) or 0)
    finally:
        session.rollback()


def db_leases(session: Session) -> dict[tuple[str, str | None], dict[str, Any]]:
    """The stored leases by (scope, lease ID), as plain values."""
    try:
        return {
            (x.external_scope, x.external_resident_id): x.model_dump()
            for x in session.scalars(select(Lease))
        }
    finally:
        session.rollback()


def no_ledger_violations(session: Session, amsi: Amsi) -> bool:
    """``portal check``'s balance rule: each lease's balance replays from its basis."""
    try:
        return list(balances(session, amsi.world.workspace_id)) == []
    finally:
        session.rollback()


# --- the first import ---------------------------------------------------------------------------


class TestSyncNow:
    def test_imports_the_propertys_current_and_notice_leases(
        self, client: TestClient, amsi: Amsi
    ) -> None:
        run = sync(client, amsi)

        assert run["status"] == "completed"
        assert run["trigger"] == "sync_now"
        # The past lease (ResiID 30, status P) is not asked for: RT pulled C and N (§1.4).
        assert counts(run) == (4, 0, 0, 0)
        assert run["errors"] == []
        assert run["properties"] == [{"property_id": "001", "units": 6, "leases": 4}]
        assert run["started_at"] == run["finished_at"] == START
        leases = portal_leases(client, amsi)
        assert set(leases) == set(FIXTURE)
        for key, (balance, rent, people) in FIXTURE.items():
            assert (leases[key]["balance"], leases[key]["rent"]) == (balance, rent), key
            assert names(leases[key]) == sorted(people), key
            assert leases[key]["status"] == "active"

    def test_resi_id_is_a_lease_id_within_its_unit_only(
        self, client: TestClient, amsi: Amsi, session: Session
    ) -> None:
        sync(client, amsi)

        # ResiID 4 in two units is two leases (§0.6), each scoped by its unit's AMSI key.
        leases = db_leases(session)
        assert leases[("001|01|102", "4")]["id"] != leases[("001|02|201", "4")]["id"]
        assert {x["unit_id"] for x in leases.values()} == {
            u["id"] for p in get(client, amsi, "/v1/properties")["data"] for u in p["units"]
        }

    def test_resi_id_4_in_six_units_is_six_leases(
        self, client: TestClient, amsi: Amsi, ref: httpx.Client
    ) -> None:
        units = [
            {"BldgId": "01", "UnitId": f"10{n}", "address1": f"10{n} Main St"} for n in range(6)
        ]
        leases = [
            {
                "BldgID": "01",
                "UnitID": f"10{n}",
                "ResiID": "4",
                "EndBalance": str(100 * n),
                "occupants": [{"OccuFirstName": f"Tenant{n}", "OccuLastName": "Four"}],
            }
            for n in range(6)
        ]
        assert ref.put(f"{BASE}/units", json={"units": units}).status_code == 200
        assert ref.put(f"{BASE}/residents", json={"leases": leases}).status_code == 200

        run = sync(client, amsi)

        assert counts(run) == (6, 0, 0, 0)
        found = portal_leases(client, amsi)
        assert sorted(found) == [(f"001|01|10{n}", "4") for n in range(6)]
        assert [found[(f"001|01|10{n}", "4")]["balance"] for n in range(6)] == [
            f"{100 * n}.00" for n in range(6)
        ]

    def test_every_occupant_is_a_resident_of_the_lease(
        self, client: TestClient, amsi: Amsi
    ) -> None:
        sync(client, amsi)

        pat_kim = portal_leases(client, amsi)[("001|01|101", "21")]
        # The two-occupant lease with ResiID 21 is one lease with two residents (§1.9).
        assert [
            (r["name"], r["email"]) for r in sorted(pat_kim["residents"], key=lambda r: r["name"])
        ] == [
            ("Kim Sample", "kim@example.com"),
            ("Pat Sample", "pat@example.com"),
        ]
        kim = next(r for r in pat_kim["residents"] if r["name"] == "Kim Sample")
        assert kim["phone"] == "(650)555-0101"
        assert kim["unit_id"] == pat_kim["unit_id"]
        # The portal has no primary column: the lease's history names the first Responsible one.
        [created] = pat_kim["history"]
        pat = next(r for r in pat_kim["residents"] if r["name"] == "Pat Sample")
        assert created["kind"] == "created"
        assert created["data"]["origin"] == "amsi_import"
        assert created["data"]["primary_resident_id"] == pat["id"]
        assert created["data"]["resident_ids"] == [pat["id"], kim["id"]]

    def test_lease_values_follow_the_esite(self, client: TestClient, amsi: Amsi) -> None:
        sync(client, amsi)

        leases = portal_leases(client, amsi)
        pat = leases[("001|01|101", "21")]
        # rentamount is 0: the first monthly RENT recurring charge is the rent (§1.9).
        assert pat["rent"] == "1605.00"
        assert pat["start_date"] == "2015-10-01"
        # leaseenddate 09/30/2016 has passed with no move-out: month-to-month (§1.9).
        assert pat["end_date"] is None
        # No leasebegindate: MoveInDate is the start (§1.4).
        assert leases[("001|02|202", "13")]["start_date"] == "2015-04-01"
        assert pat["accounting_payments"] == "allowed"
        assert leases[("001|02|202", "13")]["accounting_payments"] == "blocked"
        assert leases[("001|02|202", "13")]["effective_payments"] == "blocked"

    def test_a_lease_ending_later_keeps_its_end_date(
        self, client: TestClient, amsi: Amsi, ref: httpx.Client
    ) -> None:
        reseed(
            ref,
            lambda root: lease_element(root, "01", "101", "21").set("leaseenddate", "9/30/2027"),
        )

        sync(client, amsi)

        assert portal_leases(client, amsi)[("001|01|101", "21")]["end_date"] == "2027-09-30"

    def test_balances_are_the_ledger_basis(
        self, client: TestClient, amsi: Amsi, session: Session
    ) -> None:
        sync(client, amsi)

        leases = db_leases(session)
        for (scope, resi), (balance, _rent, _people) in FIXTURE.items():
            lease = leases[(scope, resi)]
            cents = round(float(balance) * 100)
            assert lease["balance_cents"] == lease["balance_basis_cents"] == cents
            assert lease["balance_basis_seq"] > 0
            assert lease["balance_at"] is not None
        assert no_ledger_violations(session, amsi)

    def test_the_property_and_units_are_found_by_their_amsi_ids(
        self, client: TestClient, amsi: Amsi
    ) -> None:
        sync(client, amsi)

        [prop] = get(client, amsi, "/v1/properties")["data"]
        assert prop["external_id"] == "001"
        assert prop["integration_id"] == amsi.id
        assert prop["address"] == {
            "street": "Newport Center Drive",
            "city": "Newport Beach",
            "state": "CA",
            "postal_code": "92620",
        }
        # Only the units of imported leases; each named with its own address (§1.3).
        assert sorted((u["external_id"], u["name"]) for u in prop["units"]) == [
            ("001|01|101", "101 Newport Center Drive"),
            ("001|01|102", "102 Newport Center Drive"),
            ("001|02|201", "201 Newport Center Drive"),
            ("001|02|202", "202 Newport Center Drive"),
        ]

    def test_a_lease_the_landlord_mapped_on_that_unit_is_updated_not_doubled(
        self, client: TestClient, amsi: Amsi
    ) -> None:
        unit = make_unit(
            client, amsi.world, prop_external="001", unit_external="001|01|102", unit_name="102"
        )
        lee = invite(
            client,
            amsi.world,
            unit["id"],
            name="Lee Example",
            email="lee@example.com",
            external_resident_id="4",
        )

        run = sync(client, amsi)

        assert counts(run) == (3, 1, 0, 0)
        lease = portal_leases(client, amsi)[("001|01|102", "4")]
        assert lease["id"] == lee["lease_ids"][0]
        assert [r["id"] for r in lease["residents"]] == [lee["id"]]
        assert lease["balance"] == "1730.00"
        # One invitation for Lee: the landlord's; the import matched Lee by e-mail.
        assert invitations(client, amsi).count("lee@example.com") == 1
        [prop] = get(client, amsi, "/v1/properties")["data"]
        assert prop["integration_id"] == amsi.id


class TestInvitations:
    def test_occupants_with_an_email_are_invited_the_others_wait(
        self, client: TestClient, amsi: Amsi
    ) -> None:
        sync(client, amsi)

        residents = get(client, amsi, "/v1/residents", limit="500")["data"]
        assert sorted((r["name"], r["status"]) for r in residents) == [
            ("Alex Guarantor", "invite"),
            ("Jo Notice", "waiting"),
            ("Kim Sample", "invite"),
            ("Lee Example", "invite"),
            ("Pat Sample", "invite"),
            ("Robin Notice", "invite"),
            ("Sam Placeholder", "waiting"),
        ]
        mails = mailbox(client, amsi.world, kind="invitation")
        assert sorted(m["to"] for m in mails) == INVITED
        # The invitation of seed 003: the same e-mail balance intake and the landlord send.
        pat = next(m for m in mails if m["to"] == "pat@example.com")
        assert pat["subject"] == "Your property manager is inviting you to pay online"
        assert pat["data"]["resident_id"] in {r["id"] for r in residents}

    def test_the_invitation_lets_the_occupant_in(self, client: TestClient, amsi: Amsi) -> None:
        sync(client, amsi)
        [mail] = [
            m
            for m in mailbox(client, amsi.world, kind="invitation")
            if m["to"] == "lee@example.com"
        ]

        accepted = client.post(
            f"/v1/resident/invites/{mail['data']['invite_code']}/accept",
            json={"password": "s3cret-pass"},
        )

        assert accepted.status_code == 200, accepted.text


# --- later runs ---------------------------------------------------------------------------------


class TestSecondRun:
    def test_the_same_data_again_changes_nothing(
        self, client: TestClient, amsi: Amsi, session: Session
    ) -> None:
        sync(client, amsi)
        before = (portal_leases(client, amsi), invitations(client, amsi), event_count(session))

        run = sync(client, amsi)

        assert counts(run) == (0, 0, 4, 0)
        after = (portal_leases(client, amsi), invitations(client, amsi), event_count(session))
        assert after == before

    def test_a_balance_changed_on_the_esite_is_an_update(
        self, client: TestClient, amsi: Amsi, ref: httpx.Client, session: Session
    ) -> None:
        sync(client, amsi)

        def more_rent(root: ET.Element) -> None:
            lease = lease_element(root, "01", "101", "21")
            lease.set("EndBalance", "1705.50")
            lease.find("OpenItem").set("BalDue", "1705.50")  # type: ignore[union-attr]

        reseed(ref, more_rent)
        run = sync(client, amsi)

        assert counts(run) == (0, 1, 3, 0)
        lease = portal_leases(client, amsi)[("001|01|101", "21")]
        assert lease["balance"] == "1705.50"
        changed = lease["history"][-1]
        assert changed["kind"] == "changed"
        assert changed["data"] == {
            "origin": "amsi_import",
            "changes": {"balance_cents": {"from": 160500, "to": 170550}},
        }
        stored = db_leases(session)[("001|01|101", "21")]
        assert stored["balance_basis_cents"] == 170550
        assert no_ledger_violations(session, amsi)
        assert counts(sync(client, amsi)) == (0, 0, 4, 0)

    def test_the_block_flag_follows_the_esite(
        self, client: TestClient, amsi: Amsi, ref: httpx.Client
    ) -> None:
        sync(client, amsi)

        patch_lease(ref, "01", "102", "4", block_payment_access=True)
        blocked = sync(client, amsi)
        patch_lease(ref, "01", "102", "4", block_payment_access=False)
        allowed = sync(client, amsi)

        assert counts(blocked) == counts(allowed) == (0, 1, 3, 0)
        history = portal_leases(client, amsi)[("001|01|102", "4")]["history"]
        assert [e["data"]["changes"] for e in history[1:]] == [
            {"accounting_payments": {"from": "allowed", "to": "blocked"}},
            {"accounting_payments": {"from": "blocked", "to": "allowed"}},
        ]

    def test_a_waiting_resident_whose_email_arrives_is_invited_once(
        self, client: TestClient, amsi: Amsi, ref: httpx.Client
    ) -> None:
        sync(client, amsi)

        def sam_has_mail(root: ET.Element) -> None:
            occupant = lease_element(root, "02", "201", "4").find("Occupant")
            occupant.set("Email", "Sam@Example.com")  # type: ignore[union-attr]

        reseed(ref, sam_has_mail)
        run = sync(client, amsi)
        again = sync(client, amsi)

        assert counts(run) == (0, 1, 3, 0)
        assert counts(again) == (0, 0, 4, 0)
        assert invitations(client, amsi) == sorted([*INVITED, "sam@example.com"])
        lease = portal_leases(client, amsi)[("001|02|201", "4")]
        sam = next(r for r in lease["residents"] if r["name"] == "Sam Placeholder")
        assert (sam["email"], sam["status"]) == ("sam@example.com", "invite")
        assert len(lease["residents"]) == 2

    def test_occupants_are_matched_by_email_then_by_name(
        self, client: TestClient, amsi: Amsi, ref: httpx.Client
    ) -> None:
        sync(client, amsi)
        before = portal_leases(client, amsi)[("001|01|101", "21")]

        def edit(root: ET.Element) -> None:
            pat, kim = lease_element(root, "01", "101", "21").findall("Occupant")
            pat.set("Email", "pat.new@example.com")  # found again by name
            kim.set("OccuLastName", "Sample-Lee")  # found again by e-mail

        reseed(ref, edit)
        run = sync(client, amsi)

        assert counts(run) == (0, 1, 3, 0)
        after = portal_leases(client, amsi)[("001|01|101", "21")]
        assert sorted(r["id"] for r in after["residents"]) == sorted(
            r["id"] for r in before["residents"]
        )
        assert sorted((r["name"], r["email"], r["status"]) for r in after["residents"]) == [
            ("Kim Sample-Lee", "kim@example.com", "invite"),
            ("Pat Sample", "pat.new@example.com", "invite"),
        ]
        # Nobody is invited twice; the lease itself did not change (no event).
        assert invitations(client, amsi) == INVITED
        assert len(after["history"]) == 1

    def test_a_new_occupant_joins_the_lease(
        self, client: TestClient, amsi: Amsi, ref: httpx.Client
    ) -> None:
        sync(client, amsi)

        def roommate(root: ET.Element) -> None:
            lease = lease_element(root, "01", "102", "4")
            occupant = ET.Element(
                "Occupant",
                {"OccuFirstName": "Dana", "OccuLastName": "Example", "Email": "dana@example.com",
                 "ResponsibleFlag": "Non-Responsible"},
            )  # fmt: skip
            lease.insert(1, occupant)

        reseed(ref, roommate)
        run = sync(client, amsi)

        assert counts(run) == (0, 1, 3, 0)
        lease = portal_leases(client, amsi)[("001|01|102", "4")]
        assert names(lease) == ["Dana Example", "Lee Example"]
        dana = next(r for r in lease["residents"] if r["name"] == "Dana Example")
        assert lease["history"][-1]["data"]["added_resident_ids"] == [dana["id"]]
        assert "dana@example.com" in invitations(client, amsi)

    def test_a_removed_resident_is_not_added_back(self, client: TestClient, amsi: Amsi) -> None:
        sync(client, amsi)
        lease = portal_leases(client, amsi)[("001|02|202", "13")]
        jo = next(r for r in lease["residents"] if r["name"] == "Jo Notice")
        deleted = client.delete(f"/v1/residents/{jo['id']}", headers=amsi.world.landlord)
        assert deleted.status_code == 204, deleted.text

        run = sync(client, amsi)

        assert counts(run) == (0, 0, 4, 0)
        assert names(portal_leases(client, amsi)[("001|02|202", "13")]) == ["Robin Notice"]

    def test_a_lease_ended_in_the_portal_is_not_reopened(
        self, client: TestClient, amsi: Amsi
    ) -> None:
        sync(client, amsi)
        lease = portal_leases(client, amsi)[("001|01|102", "4")]
        ended = client.post(f"/v1/leases/{lease['id']}/end", headers=amsi.world.landlord)
        assert ended.status_code == 200, ended.text

        run = sync(client, amsi)

        assert counts(run) == (0, 0, 3, 1)
        [error] = run["errors"]
        assert (error["bldg_id"], error["unit_id"], error["resi_id"]) == ("01", "102", "4")
        assert f"lease {lease['id']} is finished" in error["reason"]
        assert get(client, amsi, f"/v1/leases/{lease['id']}")["status"] == "finished"


# --- paying -------------------------------------------------------------------------------------


class TestBlockedLease:
    def test_a_blocked_lease_cannot_pay_until_the_esite_unblocks_it(
        self, client: TestClient, amsi: Amsi, ref: httpx.Client
    ) -> None:
        sync(client, amsi)
        lease = portal_leases(client, amsi)[("001|02|202", "13")]
        add_account(client, amsi.world, get(client, amsi, "/v1/properties")["data"][0]["id"])
        [mail] = [
            m
            for m in mailbox(client, amsi.world, kind="invitation")
            if m["to"] == "robin@example.com"
        ]
        accepted = client.post(
            f"/v1/resident/invites/{mail['data']['invite_code']}/accept",
            json={"password": "s3cret-pass"},
        )
        assert accepted.status_code == 200, accepted.text
        robin = Payer(
            resident_id=mail["data"]["resident_id"],
            lease_id=lease["id"],
            token=accepted.json()["access_token"],
            unit_id=lease["unit_id"],
            property_id="",
        )
        card = add_card(client, robin)

        refused = post_payment(client, robin, card["id"], "100.00")

        # BlockPaymentAccess=Y disables online payment (seed 001 "Blocking Payments").
        assert refused.status_code == 409, refused.text
        assert refused.json()["code"] == "payments_blocked"
        patch_lease(ref, "02", "202", "13", block_payment_access=False)
        assert counts(sync(client, amsi)) == (0, 1, 3, 0)
        paid = post_payment(client, robin, card["id"], "100.00")
        assert paid.status_code == 201, paid.text
        drained(client)
