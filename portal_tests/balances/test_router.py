"""``POST /v1/integration/balances`` ("Send Balances" / "Synchronize with Server"), ``POST
/v1/integration/sync`` and what the landlord and the operator see of an intake (issue 4,
domain.md §1 and §3, seed S0 §B-§D)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from portal_tests.factories import (
    OPERATOR,
    START,
    World,
    advance,
    bearer,
    make_integration,
    make_token,
    make_world,
)
from portal_tests.residents.helpers import mailbox, make_unit, signup

PROBLEM = "application/problem+json"
MIB = 1024 * 1024
#: Seed S0 §C: the Landlord 12 checking account (leading zeros kept, no routing number).
BANK = {"account_number": "00037029011"}
#: What the TestClient answers (httpx or httpx2, whichever Starlette uses).
Response = Any


def problem(response: Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


@dataclass
class Client12:
    """A landlord's workspace and its Landlord 12 integration with a token."""

    world: World
    integration: dict[str, Any]
    token: str

    def headers(self, key: str | None = None) -> dict[str, str]:
        headers = bearer(self.token)
        if key is not None:
            headers["Idempotency-Key"] = key
        return headers


def connect(client: TestClient, **integration: Any) -> Client12:
    world = make_world(client)
    created = make_integration(client, world, **integration)
    return Client12(world, created, make_token(client, world, created["id"])["token"])


def line(resident_id: str, **overrides: Any) -> dict[str, Any]:
    """One row as Landlord 12 sends it; by default a unit of 2234 Chapala St."""
    row: dict[str, Any] = {
        "resident_id": resident_id,
        "property_id": "CHAP2234",
        "property_address": "2234 Chapala St",
        "unit_id": f"CHAP2234-{resident_id}",
        "unit": f"#{resident_id[-1]}",
        "name": f"Resident {resident_id}",
        "email": f"{resident_id}@example.com",
        "rent": "750.00",
        "balance": "0.00",
        "lease_start": "2026-06-01",
    }
    row.update(overrides)
    return row


def three_rows() -> list[dict[str, Any]]:
    """Two residents with an e-mail (one per property) and one without."""
    return [
        line("t0001", name="Philip Rivers", email="privers@fake.com"),
        line(
            "t0002",
            name="Edward Guro",
            email="heather@promas.com",
            property_id="PAESE6904",
            property_address="6904 Paese NW PI",
            unit_id="PAESE6904-1",
            unit="",
            rent="950.00",
            balance="950.00",
        ),
        line(
            "t0003",
            name="Jerry",
            email=None,
            property_id="SUND9312",
            property_address="9312 Sundero NW Bl",
            unit_id="SUND9312-1",
            unit="",
            rent="980.00",
            balance="980.00",
        ),
    ]


def send(
    client: TestClient,
    c12: Client12,
    rows: list[dict[str, Any]],
    *,
    bank: dict[str, Any] | None = BANK,
    key: str | None = None,
) -> Response:
    body: dict[str, Any] = {"residents": rows}
    if bank is not None:
        body["bank_account"] = bank
    return client.post("/v1/integration/balances", json=body, headers=c12.headers(key))


def sent(
    client: TestClient, c12: Client12, rows: list[dict[str, Any]], **kw: Any
) -> dict[str, Any]:
    response = send(client, c12, rows, **kw)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def counts(result: dict[str, Any]) -> tuple[int, int, int, int, int]:
    return (
        result["created"],
        result["updated"],
        result["unchanged"],
        result["invited"],
        result["waiting"],
    )


def residents(client: TestClient, world: World) -> list[dict[str, Any]]:
    response = client.get("/v1/residents", params={"limit": "500"}, headers=world.landlord)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def leases_by_resident_id(client: TestClient, world: World) -> dict[str, dict[str, Any]]:
    """Accounting resident ID -> the landlord's view of that lease (with history)."""
    out: dict[str, dict[str, Any]] = {}
    for resident in residents(client, world):
        for lease_id in resident["lease_ids"]:
            response = client.get(f"/v1/leases/{lease_id}", headers=world.landlord)
            assert response.status_code == 200, response.text
            lease = response.json()
            out[lease["external_resident_id"]] = lease
    return out


def resident_named(client: TestClient, world: World, name: str) -> dict[str, Any]:
    [found] = [r for r in residents(client, world) if r["name"] == name]
    return found


def roster(client: TestClient, c12: Client12) -> list[dict[str, Any]]:
    response = client.get(
        "/v1/integration/residents", params={"limit": "500"}, headers=c12.headers()
    )
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def events(client: TestClient, world: World) -> list[dict[str, Any]]:
    response = client.get(
        f"/v1/sandbox/workspaces/{world.workspace_id}/events",
        params={"type": "balances.received", "limit": "500"},
        headers=OPERATOR,
    )
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def properties(client: TestClient, world: World) -> list[dict[str, Any]]:
    response = client.get("/v1/properties", params={"limit": "500"}, headers=world.landlord)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def last_error(client: TestClient, c12: Client12) -> dict[str, Any] | None:
    response = client.get("/v1/integration/last-error", headers=c12.headers())
    assert response.status_code == 200, response.text
    error: dict[str, Any] | None = response.json()["error"]
    return error


def assert_nothing_stored(client: TestClient, c12: Client12) -> None:
    """A refused call leaves no trace: no people, places, mail, roster, event or bank account."""
    world = c12.world
    assert residents(client, world) == []
    assert properties(client, world) == []
    assert mailbox(client, world) == []
    assert roster(client, c12) == []
    assert events(client, world) == []
    integration = client.get(
        f"/v1/integrations/{c12.integration['id']}", headers=world.landlord
    ).json()
    assert integration["bank_account"] is None
    assert integration["balances_received_at"] is None


def accept(client: TestClient, code: str) -> dict[str, Any]:
    response = client.post(f"/v1/resident/invites/{code}/accept", json={"password": "s3cret-pass"})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def relogin(client: TestClient, world: World) -> str:
    """A fresh landlord session (sessions last 60 minutes of workspace time)."""
    response = client.post(
        "/v1/auth/login", json={"email": world.email, "password": world.password}
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


# --- acceptance 2: idempotency --------------------------------------------------------------


class TestResending:
    """Re-sending the same body: with the same key the stored response, with a new key nothing
    changes and everything is reported unchanged."""

    def test_same_key_replays_the_stored_response(self, client: TestClient) -> None:
        c12 = connect(client)
        first = send(client, c12, three_rows(), key="send-1")
        assert first.status_code == 200, first.text
        assert "Idempotent-Replayed" not in first.headers
        again = send(client, c12, three_rows(), key="send-1")
        assert again.status_code == 200, again.text
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.content == first.content
        # The work was done once: one intake event, two invitations.
        assert len(events(client, c12.world)) == 1
        assert len(mailbox(client, c12.world, kind="invitation")) == 2

    def test_same_key_with_another_body_is_refused(self, client: TestClient) -> None:
        c12 = connect(client)
        sent(client, c12, three_rows(), key="send-1")
        changed = three_rows()
        changed[0]["balance"] = "10.00"
        problem(send(client, c12, changed, key="send-1"), 422, "idempotency_key_reused")
        assert leases_by_resident_id(client, c12.world)["t0001"]["balance"] == "0.00"

    def test_new_key_same_body_changes_nothing(self, client: TestClient) -> None:
        c12 = connect(client)
        first = sent(client, c12, three_rows(), key="send-1")
        assert counts(first) == (3, 0, 0, 2, 1)
        before = leases_by_resident_id(client, c12.world)
        again = sent(client, c12, three_rows(), key="send-2")
        assert counts(again) == (0, 0, 3, 0, 1)
        assert again["residents"] == first["residents"]
        assert leases_by_resident_id(client, c12.world) == before  # no new history either
        assert len(mailbox(client, c12.world, kind="invitation")) == 2

    def test_resending_without_a_key_changes_nothing(self, client: TestClient) -> None:
        c12 = connect(client)
        sent(client, c12, three_rows())
        before = leases_by_resident_id(client, c12.world)
        assert counts(sent(client, c12, three_rows())) == (0, 0, 3, 0, 1)
        assert leases_by_resident_id(client, c12.world) == before

    def test_resending_a_day_later_without_dates_changes_nothing(self, client: TestClient) -> None:
        """A row without lease dates starts its lease the day it first arrives; the daily
        sync sending the same row again must not move that date (acceptance 2)."""
        c12 = connect(client)
        rows = [{k: v for k, v in r.items() if k != "lease_start"} for r in three_rows()]
        sent(client, c12, rows)
        before = leases_by_resident_id(client, c12.world)
        assert {lease["start_date"] for lease in before.values()} == {"2026-07-02"}
        advance(client, c12.world.workspace_id, by="P1D")
        c12.world.landlord_token = relogin(client, c12.world)
        again = sent(client, c12, rows)
        assert counts(again) == (0, 0, 3, 0, 1)
        after = leases_by_resident_id(client, c12.world)
        assert {lease["start_date"] for lease in after.values()} == {"2026-07-02"}

    def test_a_changed_balance_updates_that_lease_only(self, client: TestClient) -> None:
        c12 = connect(client)
        sent(client, c12, three_rows(), key="send-1")
        before = leases_by_resident_id(client, c12.world)
        rows = three_rows()
        rows[1]["balance"] = "475.00"
        result = sent(client, c12, rows, key="send-2")
        assert counts(result) == (0, 1, 2, 0, 1)
        after = leases_by_resident_id(client, c12.world)
        guro = after["t0002"]
        assert guro["balance"] == "475.00"
        assert guro["payable_balance"] == "475.00"
        assert guro["id"] == before["t0002"]["id"]
        assert [e["kind"] for e in guro["history"]] == [
            *[e["kind"] for e in before["t0002"]["history"]],
            "changed",
        ]
        assert guro["history"][-1]["at"] == START
        assert after["t0001"] == before["t0001"]
        assert after["t0003"] == before["t0003"]


# --- acceptance 3: the bank account rule ------------------------------------------------------


class TestBankAccountRule:
    @pytest.mark.parametrize(
        "bank",
        [
            None,
            {},
            {"account_number": ""},
            {"account_number": "   ", "routing_number": "110000000"},
            {"account_number": None, "routing_number": "110000000"},
        ],
        ids=["absent", "empty-object", "empty-number", "blank-number", "null-number"],
    )
    def test_missing_account_number_refuses_the_call(
        self, client: TestClient, bank: dict[str, Any] | None
    ) -> None:
        c12 = connect(client)
        assert last_error(client, c12) is None
        body = problem(send(client, c12, three_rows(), bank=bank), 422, "bank_account_missing")
        assert "Account Number" in body["detail"]
        assert_nothing_stored(client, c12)
        error = last_error(client, c12)
        assert error is not None
        assert error["code"] == "bank_account_missing"
        assert error["status"] == 422
        assert error["path"] == "/v1/integration/balances"

    def test_bank_account_null_is_missing_too(self, client: TestClient) -> None:
        c12 = connect(client)
        response = client.post(
            "/v1/integration/balances",
            json={"bank_account": None, "residents": three_rows()},
            headers=c12.headers(),
        )
        problem(response, 422, "bank_account_missing")
        assert_nothing_stored(client, c12)

    def test_renttrack_needs_no_routing_number(self, client: TestClient) -> None:
        c12 = connect(client)
        assert c12.integration["flavor"] == "renttrack"
        sent(client, c12, three_rows(), bank={"account_number": "00037029011"})
        assert last_error(client, c12) is None

    def test_inosio_needs_the_routing_number_too(self, client: TestClient) -> None:
        c12 = connect(client, flavor="inosio")
        body = problem(
            send(client, c12, three_rows(), bank={"account_number": "0020021234"}),
            422,
            "bank_account_missing",
        )
        assert "routing" in body["detail"].lower()
        assert_nothing_stored(client, c12)
        error = last_error(client, c12)
        assert error is not None
        assert error["code"] == "bank_account_missing"
        blank = send(
            client, c12, three_rows(), bank={"account_number": "0020021234", "routing_number": " "}
        )
        problem(blank, 422, "bank_account_missing")
        # Seed S4's sample: account 0020021234 with a 7-digit routing number.
        ok = send(
            client,
            c12,
            three_rows(),
            bank={"account_number": "0020021234", "routing_number": "0001234"},
        )
        assert ok.status_code == 200, ok.text
        integration = client.get(
            f"/v1/integrations/{c12.integration['id']}", headers=c12.world.landlord
        ).json()
        assert integration["bank_account"] == {"account_last4": "1234", "routing_number": "0001234"}

    def test_a_refused_call_after_a_good_one_keeps_the_stored_data(
        self, client: TestClient
    ) -> None:
        c12 = connect(client)
        sent(client, c12, three_rows())
        before = leases_by_resident_id(client, c12.world)
        rows = three_rows()
        rows[0]["balance"] = "1.00"
        problem(send(client, c12, rows, bank=None), 422, "bank_account_missing")
        assert leases_by_resident_id(client, c12.world) == before
        assert len(events(client, c12.world)) == 1


# --- acceptance 4: disputed amounts and flags ------------------------------------------------


class TestDisputedAndFlags:
    def test_disputed_amount_is_not_payable(self, client: TestClient) -> None:
        c12 = connect(client)
        sent(client, c12, [line("t0001", balance="980.00", disputed="80.00")])
        lease = leases_by_resident_id(client, c12.world)["t0001"]
        assert lease["balance"] == "980.00"
        assert lease["disputed"] == "80.00"
        assert lease["payable_balance"] == "900.00"
        [row] = roster(client, c12)
        assert (row["balance"], row["disputed"]) == ("980.00", "80.00")

    def test_a_settled_dispute_becomes_payable(self, client: TestClient) -> None:
        c12 = connect(client)
        sent(client, c12, [line("t0001", balance="980.00", disputed="80.00")])
        result = sent(client, c12, [line("t0001", balance="980.00")])
        assert result["updated"] == 1
        lease = leases_by_resident_id(client, c12.world)["t0001"]
        assert (lease["disputed"], lease["payable_balance"]) == ("0.00", "980.00")

    def test_pay_full_balance_only_arrives_on_the_lease(self, client: TestClient) -> None:
        c12 = connect(client)
        sent(client, c12, [line("t0001", balance="500.00", pay_full_balance_only=True)])
        assert leases_by_resident_id(client, c12.world)["t0001"]["pay_full_balance_only"] is True
        result = sent(client, c12, [line("t0001", balance="500.00", pay_full_balance_only=False)])
        assert result["updated"] == 1
        assert leases_by_resident_id(client, c12.world)["t0001"]["pay_full_balance_only"] is False

    def test_flag_defaults_to_off(self, client: TestClient) -> None:
        c12 = connect(client)
        sent(client, c12, [line("t0001")])
        lease = leases_by_resident_id(client, c12.world)["t0001"]
        assert lease["pay_full_balance_only"] is False
        assert lease["accounting_payments"] == "allowed"

    @pytest.mark.parametrize("accepted", ["blocked", "cash_equivalent"])
    def test_payment_accepted_is_the_accounting_flag(
        self, client: TestClient, accepted: str
    ) -> None:
        c12 = connect(client)
        sent(client, c12, [line("t0001", payment_accepted=accepted)])
        lease = leases_by_resident_id(client, c12.world)["t0001"]
        assert lease["accounting_payments"] == accepted
        assert lease["effective_payments"] == accepted
        assert lease["payments"] == "allowed"  # the portal's own switch is untouched

    def test_unknown_payment_accepted_value_is_422(self, client: TestClient) -> None:
        c12 = connect(client)
        body = problem(
            send(client, c12, [line("t0001", payment_accepted="maybe")]), 422, "validation_failed"
        )
        assert body["errors"][0]["field"] == "$.residents[0].payment_accepted"
        assert_nothing_stored(client, c12)


# --- behaviour --------------------------------------------------------------------------------


class TestNewResidents:
    @pytest.mark.smoke
    def test_with_email_invited_without_waiting(self, client: TestClient) -> None:
        c12 = connect(client)
        result = sent(client, c12, three_rows())
        assert counts(result) == (3, 0, 0, 2, 1)
        assert result["residents"] == [
            {"resident_id": "t0001", "status": "INVITE"},
            {"resident_id": "t0002", "status": "INVITE"},
            {"resident_id": "t0003", "status": "WAITING"},
        ]
        assert result["received_at"] == START  # the workspace clock, not the process clock
        people = {r["name"]: r for r in residents(client, c12.world)}
        assert {n: r["status"] for n, r in people.items()} == {
            "Philip Rivers": "invite",
            "Edward Guro": "invite",
            "Jerry": "waiting",
        }
        assert people["Jerry"]["email"] is None
        mails = mailbox(client, c12.world, kind="invitation")
        assert sorted(m["to"] for m in mails) == ["heather@promas.com", "privers@fake.com"]
        assert all(
            m["subject"] == "Your property manager is inviting you to pay online" for m in mails
        )
        assert mailbox(client, c12.world) == mails  # nothing else was sent
        leases = leases_by_resident_id(client, c12.world)
        assert set(leases) == {"t0001", "t0002", "t0003"}
        assert leases["t0002"]["rent"] == "950.00"
        assert leases["t0002"]["balance"] == "950.00"
        assert leases["t0002"]["status"] == "active"
        assert leases["t0002"]["resident_ids"] == [people["Edward Guro"]["id"]]

    @pytest.mark.smoke
    def test_the_invitation_code_works_and_the_resident_becomes_active(
        self, client: TestClient
    ) -> None:
        c12 = connect(client)
        sent(client, c12, three_rows())
        [mail] = mailbox(client, c12.world, to="privers@fake.com")
        rivers = resident_named(client, c12.world, "Philip Rivers")
        assert mail["data"]["resident_id"] == rivers["id"]
        session = accept(client, mail["data"]["invite_code"])
        assert session["resident_id"] == rivers["id"]
        assert session["status"] == "approved"
        by_id = {r["resident_id"]: r["status"] for r in roster(client, c12)}
        assert by_id == {"t0001": "ACTIVE", "t0002": "INVITE", "t0003": "WAITING"}
        mine = client.get("/v1/resident/leases", headers=bearer(session["access_token"]))
        assert [lease["external_resident_id"] for lease in mine.json()["data"]] == ["t0001"]

    def test_enrolled_resident_keeps_the_status_and_gets_the_new_balance(
        self, client: TestClient
    ) -> None:
        c12 = connect(client)
        sent(client, c12, three_rows())
        [mail] = mailbox(client, c12.world, to="privers@fake.com")
        session = accept(client, mail["data"]["invite_code"])
        rows = three_rows()
        rows[0]["balance"] = "750.00"
        result = sent(client, c12, rows)
        assert counts(result) == (0, 1, 2, 0, 1)
        assert result["residents"][0] == {"resident_id": "t0001", "status": "ACTIVE"}
        assert resident_named(client, c12.world, "Philip Rivers")["status"] == "approved"
        [lease] = client.get("/v1/resident/leases", headers=bearer(session["access_token"])).json()[
            "data"
        ]
        assert lease["balance"] == "750.00"
        assert len(mailbox(client, c12.world, to="privers@fake.com")) == 1  # not re-invited

    def test_a_waiting_resident_is_invited_when_the_email_arrives(self, client: TestClient) -> None:
        c12 = connect(client)
        sent(client, c12, three_rows())
        rows = three_rows()
        rows[2]["email"] = "Jerry@Example.com"
        result = sent(client, c12, rows)
        assert counts(result) == (0, 1, 2, 1, 0)
        assert result["residents"][2] == {"resident_id": "t0003", "status": "INVITE"}
        jerry = resident_named(client, c12.world, "Jerry")
        assert jerry["status"] == "invite"
        assert jerry["email"] == "jerry@example.com"
        [mail] = mailbox(client, c12.world, to="jerry@example.com")
        assert mail["kind"] == "invitation"
        assert mail["data"]["resident_id"] == jerry["id"]
        assert accept(client, mail["data"]["invite_code"])["resident_id"] == jerry["id"]
        [line_] = [r for r in roster(client, c12) if r["resident_id"] == "t0003"]
        assert (line_["status"], line_["email"]) == ("ACTIVE", "jerry@example.com")

    def test_name_and_phone_follow_the_accounting_system(self, client: TestClient) -> None:
        c12 = connect(client)
        sent(client, c12, three_rows())
        rows = three_rows()
        rows[1]["name"] = "Edward J. Guro"
        rows[1]["phone"] = "505-555-0104"
        result = sent(client, c12, rows)
        assert counts(result) == (0, 1, 2, 0, 1)
        guro = resident_named(client, c12.world, "Edward J. Guro")
        assert guro["phone"] == "505-555-0104"
        [line_] = [r for r in roster(client, c12) if r["resident_id"] == "t0002"]
        assert (line_["name"], line_["phone"]) == ("Edward J. Guro", "505-555-0104")

    def test_a_resident_absent_from_a_later_call_is_kept(self, client: TestClient) -> None:
        c12 = connect(client)
        sent(client, c12, three_rows())
        before = leases_by_resident_id(client, c12.world)
        result = sent(client, c12, three_rows()[:1])
        assert counts(result) == (0, 0, 1, 0, 0)
        assert [r["resident_id"] for r in roster(client, c12)] == ["t0001", "t0002", "t0003"]
        assert {r["name"]: r["status"] for r in residents(client, c12.world)} == {
            "Philip Rivers": "invite",
            "Edward Guro": "invite",
            "Jerry": "waiting",
        }
        assert leases_by_resident_id(client, c12.world) == before

    def test_future_resident_dates_arrive_on_the_lease(self, client: TestClient) -> None:
        c12 = connect(client)
        sent(
            client,
            c12,
            [
                line(
                    "t0009",
                    lease_start="2026-09-01",
                    lease_end="2027-08-31",
                    move_in="2026-08-28",
                )
            ],
        )
        lease = leases_by_resident_id(client, c12.world)["t0009"]
        assert (lease["start_date"], lease["end_date"]) == ("2026-09-01", "2027-08-31")


class TestPlacesAndBankAccount:
    @pytest.mark.smoke
    def test_properties_and_units_are_created_by_external_id(self, client: TestClient) -> None:
        c12 = connect(client)
        sent(client, c12, three_rows())
        props = {p["external_id"]: p for p in properties(client, c12.world)}
        assert set(props) == {"CHAP2234", "PAESE6904", "SUND9312"}
        assert props["CHAP2234"]["address"]["street"] == "2234 Chapala St"
        assert [u["external_id"] for u in props["CHAP2234"]["units"]] == ["CHAP2234-t0001"]
        assert props["CHAP2234"]["units"][0]["name"] == "#1"
        rivers = resident_named(client, c12.world, "Philip Rivers")
        assert rivers["unit_id"] == props["CHAP2234"]["units"][0]["id"]
        assert rivers["property_id"] == props["CHAP2234"]["id"]
        # A second call naming the same IDs plus a new unit of a known property adds only that.
        rows = [*three_rows(), line("t0004", name="Melvin Gordon", email="superbowl@bound.com")]
        sent(client, c12, rows)
        again = {p["external_id"]: p for p in properties(client, c12.world)}
        assert set(again) == set(props)
        assert again["CHAP2234"]["id"] == props["CHAP2234"]["id"]
        assert sorted(u["external_id"] for u in again["CHAP2234"]["units"]) == [
            "CHAP2234-t0001",
            "CHAP2234-t0004",
        ]

    def test_a_known_unit_is_used_not_duplicated(self, client: TestClient) -> None:
        world = make_world(client)
        unit = make_unit(client, world, prop_external="OAK", unit_external="2118")
        integration = make_integration(client, world)
        c12 = Client12(world, integration, make_token(client, world, integration["id"])["token"])
        sent(client, c12, [line("t0001", property_id="OAK", unit_id="2118", unit="2118")])
        [prop] = properties(client, world)
        assert [u["id"] for u in prop["units"]] == [unit["id"]]
        assert resident_named(client, world, "Resident t0001")["unit_id"] == unit["id"]

    def test_the_bank_account_is_the_rent_account_of_created_properties(
        self, client: TestClient
    ) -> None:
        c12 = connect(client)
        sent(client, c12, three_rows())
        rent_accounts = {p["deposit_accounts"]["rent"] for p in properties(client, c12.world)}
        assert len(rent_accounts) == 1
        [account_id] = rent_accounts
        assert account_id is not None
        account = client.get(f"/v1/deposit-accounts/{account_id}", headers=c12.world.landlord)
        assert account.status_code == 200, account.text
        assert account.json()["type"] == "rent"
        assert account.json()["account_last4"] == "9011"
        assert len(account.json()["property_ids"]) == 3
        integration = client.get(
            f"/v1/integrations/{c12.integration['id']}", headers=c12.world.landlord
        ).json()
        assert integration["bank_account"] == {"account_last4": "9011", "routing_number": None}
        assert integration["balances_received_at"] == START
        # The same account is found again, not created twice.
        sent(client, c12, [*three_rows(), line("t0004", property_id="NEW1", unit_id="NEW1-1")])
        props = properties(client, c12.world)
        assert {p["deposit_accounts"]["rent"] for p in props} == {account_id}
        listed = client.get("/v1/deposit-accounts", headers=c12.world.landlord).json()["data"]
        assert [a["id"] for a in listed] == [account_id]

    def test_a_property_with_its_own_rent_account_keeps_it(self, client: TestClient) -> None:
        world = make_world(client)
        unit = make_unit(client, world, prop_external="OAK", unit_external="2118")
        own = client.post(
            "/v1/deposit-accounts",
            json={
                "type": "rent",
                "name": "Oak Street rent",
                "account_number": "0020021234",
                "routing_number": "110000000",
                "property_ids": [unit["property_id"]],
            },
            headers=world.landlord,
        )
        assert own.status_code == 201, own.text
        integration = make_integration(client, world)
        c12 = Client12(world, integration, make_token(client, world, integration["id"])["token"])
        sent(client, c12, [line("t0001", property_id="OAK", unit_id="2118"), *three_rows()[1:]])
        rent = {p["external_id"]: p["deposit_accounts"]["rent"] for p in properties(client, world)}
        assert rent["OAK"] == own.json()["id"]
        assert rent["PAESE6904"] != own.json()["id"]
        assert rent["PAESE6904"] == rent["SUND9312"]


class TestRefusedRows:
    def test_one_bad_row_refuses_the_call_and_names_row_and_field(self, client: TestClient) -> None:
        c12 = connect(client)
        rows = three_rows()
        rows[1]["rent"] = "12.345"
        body = problem(send(client, c12, rows), 422, "invalid_amount")
        [error] = body["errors"]
        assert error["row"] == 1
        assert error["field"] == "$.residents[1].rent"
        assert error["code"] == "invalid_amount"
        assert_nothing_stored(client, c12)
        recorded = last_error(client, c12)
        assert recorded is not None
        assert recorded["code"] == "invalid_amount"
        assert recorded["errors"] == body["errors"]

    def test_every_bad_row_is_listed(self, client: TestClient) -> None:
        c12 = connect(client)
        rows = three_rows()
        rows[0]["balance"] = "1,000.00"
        del rows[2]["name"]
        body = problem(send(client, c12, rows), 422, "validation_failed")
        assert sorted((e["row"], e["field"]) for e in body["errors"]) == [
            (0, "$.residents[0].balance"),
            (2, "$.residents[2].name"),
        ]
        assert_nothing_stored(client, c12)

    def test_at_most_100_bad_rows_are_listed(self, client: TestClient) -> None:
        c12 = connect(client)
        rows = [line(f"t{n:04d}", rent="abc") for n in range(150)]
        body = problem(send(client, c12, rows), 422, "invalid_amount")
        assert [e["row"] for e in body["errors"]] == list(range(100))
        assert body["errors_total"] == 150
        assert_nothing_stored(client, c12)

    def test_duplicate_resident_ids_are_refused(self, client: TestClient) -> None:
        c12 = connect(client)
        rows = [*three_rows(), line("t0001", name="Someone Else", email="else@example.com")]
        body = problem(send(client, c12, rows), 422, "duplicate_resident_id")
        assert "t0001" in body["detail"]
        assert_nothing_stored(client, c12)
        recorded = last_error(client, c12)
        assert recorded is not None
        assert recorded["code"] == "duplicate_resident_id"

    def test_a_duplicate_row_is_listed_with_its_row_and_field(self, client: TestClient) -> None:
        """Issue 4: a rejected row is reported with its index and field, every bad row listed."""
        c12 = connect(client)
        rows = [*three_rows(), line("t0001"), line("t0002")]
        body = problem(send(client, c12, rows), 422, "duplicate_resident_id")
        assert [(e["row"], e["field"]) for e in body["errors"]] == [
            (3, "$.residents[3].resident_id"),
            (4, "$.residents[4].resident_id"),
        ]

    def test_malformed_json_is_400(self, client: TestClient) -> None:
        c12 = connect(client)
        response = client.post(
            "/v1/integration/balances",
            content=b'{"bank_account": {"account_number": "1"}, "residents": [',
            headers={**c12.headers(), "Content-Type": "application/json"},
        )
        problem(response, 400, "malformed_json")
        assert_nothing_stored(client, c12)


class TestBodySize:
    def test_a_body_over_1_mib_is_accepted_here(self, client: TestClient) -> None:
        c12 = connect(client)
        rows = [
            line(
                f"t{n:05d}",
                property_id=f"P{n // 20:04d}",
                property_address=f"{1000 + n // 20} Chapala St",
                unit_id=f"U{n:05d}",
                unit=f"#{n % 20 + 1}",
                email=None if n % 3 == 0 else f"r{n:05d}@example.com",
                balance=f"{n % 1000}.{n % 100:02d}",
            )
            for n in range(5000)
        ]
        content = json.dumps({"bank_account": BANK, "residents": rows}).encode()
        assert MIB < len(content) < 64 * MIB
        response = client.post(
            "/v1/integration/balances",
            content=content,
            headers={**c12.headers(), "Content-Type": "application/json"},
        )
        assert response.status_code == 200, response.text[:500]
        result = response.json()
        waiting = sum(1 for r in rows if r["email"] is None)
        assert counts(result) == (5000, 0, 0, 5000 - waiting, waiting)
        assert len(result["residents"]) == 5000
        summary = client.post("/v1/integration/sync", headers=c12.headers()).json()
        assert summary["residents"] == 5000
        assert (summary["invite"], summary["waiting"]) == (5000 - waiting, waiting)

    def test_other_routes_keep_the_1_mib_limit(self, client: TestClient) -> None:
        c12 = connect(client)
        content = json.dumps({"name": "x" * (MIB + 10), "kind": "landlord12"}).encode()
        response = client.post(
            "/v1/integrations",
            content=content,
            headers={**c12.world.landlord, "Content-Type": "application/json"},
        )
        problem(response, 413, "payload_too_large")

    def test_more_than_64_mib_is_refused_here(self, client: TestClient) -> None:
        c12 = connect(client)
        content = b" " * (64 * MIB + 1)
        response = client.post(
            "/v1/integration/balances",
            content=content,
            headers={**c12.headers(), "Content-Type": "application/json"},
        )
        problem(response, 413, "payload_too_large")


class TestSynchronize:
    def test_sync_before_any_balances(self, client: TestClient) -> None:
        c12 = connect(client)
        response = client.post("/v1/integration/sync", headers=c12.headers())
        assert response.status_code == 200, response.text
        assert response.json() == {
            "residents": 0,
            "active": 0,
            "invite": 0,
            "waiting": 0,
            "balances_received_at": None,
        }

    def test_sync_reports_counts_and_when_balances_arrived(self, client: TestClient) -> None:
        c12 = connect(client)
        sent(client, c12, three_rows())
        [mail] = mailbox(client, c12.world, to="privers@fake.com")
        accept(client, mail["data"]["invite_code"])
        summary = client.post("/v1/integration/sync", headers=c12.headers()).json()
        assert summary == {
            "residents": 3,
            "active": 1,
            "invite": 1,
            "waiting": 1,
            "balances_received_at": START,
        }
        advance(client, c12.world.workspace_id, by="P1D")
        result = sent(client, c12, three_rows())
        assert result["received_at"] == "2026-07-03T14:00:00Z"
        later = client.post("/v1/integration/sync", headers=c12.headers()).json()
        assert later["balances_received_at"] == "2026-07-03T14:00:00Z"

    def test_a_refused_call_does_not_move_the_received_time(self, client: TestClient) -> None:
        c12 = connect(client)
        sent(client, c12, three_rows())
        advance(client, c12.world.workspace_id, by="PT1H")
        problem(send(client, c12, three_rows(), bank=None), 422, "bank_account_missing")
        summary = client.post("/v1/integration/sync", headers=c12.headers()).json()
        assert summary["balances_received_at"] == START


class TestEvents:
    @pytest.mark.smoke
    def test_one_event_per_successful_intake_with_the_counts(self, client: TestClient) -> None:
        c12 = connect(client)
        sent(client, c12, three_rows())
        problem(send(client, c12, three_rows(), bank=None), 422, "bank_account_missing")
        rows = three_rows()
        rows[2]["email"] = "jerry@example.com"
        sent(client, c12, rows)
        listed = events(client, c12.world)
        assert [e["type"] for e in listed] == ["balances.received"] * 2
        first, second = (e["data"] for e in listed)
        assert first == {
            "integration_id": c12.integration["id"],
            "residents": 3,
            "created": 3,
            "updated": 0,
            "unchanged": 0,
            "invited": 2,
            "waiting": 1,
        }
        assert (second["created"], second["updated"], second["unchanged"]) == (0, 1, 2)
        assert (second["invited"], second["waiting"]) == (1, 0)
        assert listed[0]["timestamp"] == START
        assert listed[0]["integration_id"] == c12.integration["id"]


class TestAuthentication:
    def test_a_landlord_token_is_refused(self, client: TestClient) -> None:
        c12 = connect(client)
        response = client.post(
            "/v1/integration/balances",
            json={"bank_account": BANK, "residents": three_rows()},
            headers=c12.world.landlord,
        )
        problem(response, 401, "token_invalid")
        assert_nothing_stored(client, c12)

    def test_no_token_is_401(self, client: TestClient) -> None:
        response = client.post(
            "/v1/integration/balances", json={"bank_account": BANK, "residents": three_rows()}
        )
        problem(response, 401, "unauthorized")

    @pytest.mark.parametrize(
        ("method", "path"),
        [("GET", "/v1/integration/residents"), ("POST", "/v1/integration/sync")],
    )
    def test_landlord_token_on_the_other_integration_routes(
        self, client: TestClient, method: str, path: str
    ) -> None:
        world = make_world(client)
        problem(client.request(method, path, headers=world.landlord), 401, "token_invalid")

    def test_a_revoked_token_is_refused(self, client: TestClient) -> None:
        c12 = connect(client)
        newer = make_token(client, c12.world, c12.integration["id"])["token"]
        problem(send(client, c12, three_rows()), 401, "token_revoked")
        c12.token = newer
        assert_nothing_stored(client, c12)


class TestApproveBySync:
    """A resident who signed up (pending) is approved by "Synchronize with accounting system"
    from the row the intake stored (seed S3, domain.md §2.3)."""

    def test_pending_resident_approved_from_the_intake_row(self, client: TestClient) -> None:
        world = make_world(client)
        unit = make_unit(client, world, prop_external="OAK", unit_external="2118")
        pending = signup(client, unit["property_id"], unit["id"])
        integration = make_integration(client, world)
        c12 = Client12(world, integration, make_token(client, world, integration["id"])["token"])
        sent(
            client,
            c12,
            [
                line(
                    "t0077",
                    property_id="OAK",
                    unit_id="2118",
                    name="Jamie Roommate",
                    email="jamie@example.com",
                    rent="1100.00",
                    balance="250.00",
                    disputed="50.00",
                    lease_start="2026-01-01",
                    payment_accepted="cash_equivalent",
                    pay_full_balance_only=True,
                )
            ],
        )
        response = client.post(
            f"/v1/residents/{pending['resident_id']}/approve",
            json={"mode": "sync"},
            headers=world.landlord,
        )
        assert response.status_code == 200, response.text
        approved = response.json()
        assert approved["status"] == "approved"
        [lease_id] = approved["lease_ids"]
        lease = client.get(f"/v1/leases/{lease_id}", headers=world.landlord).json()
        assert lease["external_resident_id"] == "t0077"
        assert lease["unit_id"] == unit["id"]
        assert (lease["rent"], lease["balance"]) == ("1100.00", "250.00")
        assert lease["payable_balance"] == "200.00"
        assert lease["accounting_payments"] == "cash_equivalent"
        assert lease["pay_full_balance_only"] is True
        assert lease["start_date"] == "2026-01-01"
        assert lease["resident_ids"] == [pending["resident_id"]]
        # The client's roster now shows the person as ACTIVE; one resident holds the ID.
        [row] = roster(client, c12)
        assert (row["resident_id"], row["status"]) == ("t0077", "ACTIVE")
        # The resident the intake invited for t0077 was merged into the one who signed up.
        assert [r["id"] for r in residents(client, world)] == [pending["resident_id"]]
        # Later balances reach the approved resident's lease; they stay ACTIVE.
        result = sent(
            client,
            c12,
            [
                line(
                    "t0077",
                    property_id="OAK",
                    unit_id="2118",
                    name="Jamie Roommate",
                    email="jamie@example.com",
                    rent="1100.00",
                    balance="0.00",
                    lease_start="2026-01-01",
                    payment_accepted="cash_equivalent",
                    pay_full_balance_only=True,
                )
            ],
        )
        assert result["residents"] == [{"resident_id": "t0077", "status": "ACTIVE"}]
        lease = client.get(f"/v1/leases/{lease_id}", headers=world.landlord).json()
        assert lease["balance"] == "0.00"

    def test_waiting_row_matched_by_name(self, client: TestClient) -> None:
        world = make_world(client)
        unit = make_unit(client, world, prop_external="OAK", unit_external="2118")
        pending = signup(client, unit["property_id"], unit["id"], name="Robert Spotz")
        integration = make_integration(client, world)
        c12 = Client12(world, integration, make_token(client, world, integration["id"])["token"])
        sent(
            client,
            c12,
            [line("t0105", property_id="OAK", unit_id="2118", name="Robert Spotz", email=None)],
        )
        response = client.post(
            f"/v1/residents/{pending['resident_id']}/approve",
            json={"mode": "sync"},
            headers=world.landlord,
        )
        assert response.status_code == 200, response.text
        lease = client.get(
            f"/v1/leases/{response.json()['lease_ids'][0]}", headers=world.landlord
        ).json()
        assert lease["external_resident_id"] == "t0105"
        [row] = roster(client, c12)
        assert (row["status"], row["email"]) == ("ACTIVE", "jamie@example.com")
