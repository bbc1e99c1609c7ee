"""One home per rule (issue 15, style.md B17): the single-resident paths (invite, approval,
the lease edit) and the bulk intake (Send Balances) call the same function for each rule, so
the same input gives the same result on both:

- the lease-ID validation: ``residents.leases.amsi_full_id_refusal`` (seed 001);
- the invitation text: ``residents.invitations.invitation``;
- the place label (street + unit): ``properties.places.place_label``;
- ``balance_at``: ``residents.leases.balance_set_at``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from portal.residents.models import Lease
from portal_tests.balances.helpers import roster, send, sent
from portal_tests.balances.test_router import Client12, connect, line, problem
from portal_tests.factories import START, advance, login
from portal_tests.payments.helpers import add_account, add_bank, make_payer, pay, set_clock
from portal_tests.residents.helpers import invite, mailbox, make_unit, signup

WHOLE_ID = "001-A-102-1002"


def refusal(response: Any) -> tuple[str, str, str]:
    body = problem(response, 422, "invalid_external_resident_id")
    return body["code"], body["detail"], body["suggested"]


class TestLeaseIdValidation:
    """Seed 001: an AMSI lease ID is the trailing ResiID, never the whole identifier."""

    def test_every_path_refuses_the_whole_identifier_alike(self, client: TestClient) -> None:
        c = connect(client, kind="amsi", name="AMSI eSite")
        world = c.world
        unit = make_unit(client, world)

        manual_add = client.post(
            "/v1/residents/invite",
            json={
                "name": "Anthony Kmetz",
                "unit_id": unit["id"],
                "rent": "980.00",
                "start_date": "2026-08-01",
                "external_resident_id": WHOLE_ID,
            },
            headers=world.landlord,
        )
        invited = invite(client, world, unit["id"])
        mapping_edit = client.patch(
            f"/v1/leases/{invited['lease_ids'][0]}",
            json={"external_resident_id": WHOLE_ID},
            headers=world.landlord,
        )
        pending = signup(client, unit["property_id"], unit["id"], workspace_id=world.workspace_id)
        approval = client.post(
            f"/v1/residents/{pending['resident_id']}/approve",
            json={
                "mode": "manual",
                "rent": "980.00",
                "lease_start": "2026-08-01",
                "external_resident_id": WHOLE_ID,
            },
            headers=world.landlord,
        )
        intake = send(client, c, [line(WHOLE_ID)])

        single = {refusal(r) for r in (manual_add, mapping_edit, approval)}
        bulk = refusal(intake)
        assert single == {bulk}
        assert bulk[2] == "1002"
        # The bulk path's row error says exactly what the single paths say.
        assert [e["message"] for e in intake.json()["errors"]] == [bulk[1]]

    def test_the_resi_id_alone_passes_on_both_paths(self, client: TestClient) -> None:
        c = connect(client, kind="amsi", name="AMSI eSite")
        unit = make_unit(client, c.world)

        invited = invite(client, c.world, unit["id"], external_resident_id="1002")
        out = sent(client, c, [line("1003")])

        assert invited["status"] == "invite"
        assert out["created"] == 1


def _masked(mail: dict[str, Any]) -> tuple[str, str, str, list[str]]:
    code = mail["data"]["invite_code"]
    return mail["subject"], mail["kind"], mail["body"].replace(code, "<code>"), sorted(mail["data"])


def _lease_of(client: TestClient, c: Client12, resident_id: str) -> str:
    response = client.get(f"/v1/residents/{resident_id}", headers=c.world.landlord)
    assert response.status_code == 200, response.text
    lease_id: str = response.json()["lease_ids"][0]
    return lease_id


class TestInvitationText:
    """The same person invited by the landlord and by an intake gets the same e-mail."""

    def test_a_new_resident(self, client: TestClient) -> None:
        single, bulk = connect(client), connect(client)
        unit = make_unit(client, single.world)
        invite(client, single.world, unit["id"], name="Rita Moreno", email="rita@example.com")
        sent(client, bulk, [line("t0001", name="Rita Moreno", email="rita@example.com")])

        [by_hand] = mailbox(client, single.world, kind="invitation")
        [by_intake] = mailbox(client, bulk.world, kind="invitation")

        assert _masked(by_hand) == _masked(by_intake)
        assert "Hello Rita Moreno, your property manager invites you" in by_intake["body"]
        for c, mail in ((single, by_hand), (bulk, by_intake)):
            assert mail["data"]["lease_id"] == _lease_of(client, c, mail["data"]["resident_id"])

    def test_a_waiting_resident_whose_email_arrives(self, client: TestClient) -> None:
        single, bulk = connect(client), connect(client)
        unit = make_unit(client, single.world)
        waiting = invite(client, single.world, unit["id"], name="Rita Moreno", email=None)
        patched = client.patch(
            f"/v1/residents/{waiting['id']}",
            json={"email": "rita@example.com"},
            headers=single.world.landlord,
        )
        assert patched.status_code == 200, patched.text
        sent(client, bulk, [line("t0001", name="Rita Moreno", email=None)])
        sent(client, bulk, [line("t0001", name="Rita Moreno", email="rita@example.com")])

        [by_hand] = mailbox(client, single.world, kind="invitation")
        [by_intake] = mailbox(client, bulk.world, kind="invitation")

        assert _masked(by_hand) == _masked(by_intake)
        # Both name the lease the resident is invited to (the intake's used to say null).
        for c, mail in ((single, by_hand), (bulk, by_intake)):
            assert mail["data"]["lease_id"] == _lease_of(client, c, mail["data"]["resident_id"])


class TestPlaceLabel:
    """A unit named with its street: the receipt of a resident added by hand and the roster
    line of one sent by the client show the street once, the same way."""

    STREET = "2234 Chapala St"
    UNIT = "2234 Chapala St #8"

    def test_the_receipt_and_the_roster_agree(self, client: TestClient) -> None:
        c = connect(client)
        world = c.world
        prop = client.post(
            "/v1/properties",
            json={"name": "Chapala by hand", "address": {"street": self.STREET}},
            headers=world.landlord,
        )
        assert prop.status_code == 201, prop.text
        unit = client.post(
            f"/v1/properties/{prop.json()['id']}/units",
            json={"name": self.UNIT},
            headers=world.landlord,
        ).json()
        add_account(client, world, unit["property_id"])
        payer = make_payer(client, world, unit=unit)
        pay(client, payer, add_bank(client, payer)["id"])
        # After the cut-off the batch closes and the client can load it (seed 000 §E).
        set_clock(client, world, "2026-07-03T02:00:00Z")
        [listed] = client.get("/v1/integration/receipt-batches", headers=c.headers()).json()["data"]
        loaded = client.get(f"/v1/integration/receipt-batches/{listed['id']}", headers=c.headers())
        [receipt] = loaded.json()["receipts"]

        sent(client, c, [line("t0001", property_address=self.STREET, unit=self.UNIT)])

        by_hand = receipt["description"].removeprefix("Anthony Kmetz for ")
        assert by_hand == roster(client, c)["t0001"]["property"] == self.UNIT


T1 = "2026-07-02T15:00:00Z"
T2 = "2026-07-02T16:00:00Z"


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


class TestBalanceAt:
    """``balance_at`` moves only when the balance changes (docs/decisions.md, "Balance
    intake"): a rent change leaves it, a balance change sets it, on both paths."""

    def test_both_paths_stamp_the_same_instants(self, client: TestClient, engine: Engine) -> None:
        c = connect(client)
        ws = c.world.workspace_id
        unit = make_unit(client, c.world)
        by_hand = invite(client, c.world, unit["id"], rent="750.00")["lease_ids"][0]
        sent(client, c, [line("t0001", rent="750.00", balance="0.00")])
        by_intake = _lease_of(client, c, roster_resident(client, c))

        def stamps() -> tuple[datetime | None, datetime | None]:
            with Session(engine) as session:
                hand, bulk = (session.get(Lease, (ws, lid)) for lid in (by_hand, by_intake))
                assert hand is not None
                assert bulk is not None
                return hand.balance_at, bulk.balance_at

        seen = [stamps()]
        advance(client, ws, to=T1)
        c.world.landlord_token = login(client, c.world.email, c.world.password)
        patch_lease(client, c, by_hand, rent="800.00")
        sent(client, c, [line("t0001", rent="800.00", balance="0.00")])
        seen.append(stamps())
        advance(client, ws, to=T2)
        c.world.landlord_token = login(client, c.world.email, c.world.password)
        patch_lease(client, c, by_hand, balance="100.00")
        sent(client, c, [line("t0001", rent="800.00", balance="100.00")])
        seen.append(stamps())

        start, t2 = _at(START), _at(T2)
        assert seen == [(start, start), (start, start), (t2, t2)]


def roster_resident(client: TestClient, c: Client12) -> str:
    """The portal's resident ID of the intake's only resident."""
    response = client.get("/v1/residents", headers=c.world.landlord)
    assert response.status_code == 200, response.text
    [resident] = [r for r in response.json()["data"] if r["email"] == "t0001@example.com"]
    resident_id: str = resident["id"]
    return resident_id


def patch_lease(client: TestClient, c: Client12, lease_id: str, **fields: str) -> None:
    response = client.patch(f"/v1/leases/{lease_id}", json=fields, headers=c.world.landlord)
    assert response.status_code == 200, response.text
