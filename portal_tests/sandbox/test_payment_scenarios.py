"""Scenarios with money (architecture.md §9, issue 5): payment sources, payments made at given
instants on the workspace clock, recurring schedules, ``advance_to``; and the Inosio Oak Street
batch list (issue 5, acceptance 4)."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from portal.cli import app as cli
from portal.core.money import format_usd, parse_cents
from portal_tests.factories import OPERATOR, bearer, login, make_workspace

SEED_DATA = Path(__file__).resolve().parents[2] / "seed_data"
OAK_STREET = SEED_DATA / "oak-street-landlord12.json"

#: The "Load Receipts from Inosio Server" batch list of seed 004 (lines ~195-330), as Landlord 12
#: renders it (without the IDs).
SEED_BATCH_LABELS = [
    "Deposit on 2/23/2022, $2,700.00, 3 items",
    "Deposit on 2/23/2022, $50.00, 1 item",
    "Deposit on 2/23/2022, $100.00, 1 item",
    "Deposit on 2/23/2022, $1,032.00, 1 item",
    "Deposit on 2/23/2022, $2,565.00, 4 items",
    "Deposit on 2/23/2022, $1,450.00, 2 items",
    "Deposit on 2/25/2022, $22.00, 1 item",
    "Deposit on 2/25/2022, $41.00, 2 items",
]


def label(batch: dict[str, Any]) -> str:
    """What the Landlord 12 client shows for a batch in its dropdown."""
    d = date.fromisoformat(batch["deposit_date"])
    n = batch["item_count"]
    return (
        f"Deposit on {d.month}/{d.day}/{d.year}, {format_usd(parse_cents(batch['total']))}, "
        f"{n} item{'s' if n != 1 else ''}"
    )


def load(client: TestClient, doc: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """A workspace with the scenario's seed, clock and settings (the scenario route ignores the
    ``workspace`` section), and the load's response."""
    section = doc.get("workspace", {})
    ws = make_workspace(
        client,
        seed=section.get("seed", 7),
        clock=section.get("clock", {"now": "2022-03-07T14:00:00Z"}),
        settings=section.get("settings", {}),
    )
    response = client.post(
        f"/v1/sandbox/workspaces/{ws['id']}/scenario", json=doc, headers=OPERATOR
    )
    return ws, response


def landlord(client: TestClient, ws: dict[str, Any]) -> dict[str, str]:
    # Logged in after the load: sessions expire on the workspace clock, which the load moves.
    return bearer(login(client, ws["landlord"]["email"], ws["landlord"]["password"]))


def get(client: TestClient, path: str, headers: dict[str, str]) -> Any:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def batches(client: TestClient, auth: dict[str, str]) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = get(client, "/v1/deposit-batches?limit=200", auth)["data"]
    return data


def payments(client: TestClient, auth: dict[str, str]) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = get(client, "/v1/payments?limit=200", auth)["data"]
    return data


def clock_now(client: TestClient, ws: dict[str, Any]) -> str:
    now: str = get(client, f"/v1/sandbox/workspaces/{ws['id']}/clock", OPERATOR)["now"]
    return now


# --- a small world: Monday 2022-03-07, 09:00 New York -------------------------------------------


def world(**extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "scenario": "money-test",
        "workspace": {"seed": 11, "clock": {"now": "2022-03-07T14:00:00Z"}},
        "properties": [
            {
                "key": "elm",
                "name": "Elm Court",
                "address": {"street": "12 Elm Court"},
                "units": [{"key": "elm-1", "name": "Unit 1"}, {"key": "elm-2", "name": "Unit 2"}],
            }
        ],
        "deposit_accounts": [
            {
                "key": "elm-rent",
                "type": "rent",
                "account_number": "0020021234",
                "routing_number": "110000000",
                "properties": ["elm"],
            },
            {
                "key": "elm-deposits",
                "type": "security_deposit",
                "account_number": "0020025678",
                "routing_number": "110000000",
                "properties": ["elm"],
            },
        ],
        "residents": [
            {
                "key": "ann",
                "name": "Ann Payer",
                "email": "ann@example.com",
                "unit": "elm-1",
                "state": "approved",
                "password": "ann-password",
                "lease": {
                    "key": "ann-lease",
                    "rent": "900.00",
                    "start_date": "2021-01-01",
                    "external_resident_id": "E1",
                    "balance": "900.00",
                },
            },
            {
                "key": "bob",
                "name": "Bob Payer",
                "email": "bob@example.com",
                "unit": "elm-2",
                "state": "approved",
                "password": "bob-password",
                "lease": {"rent": "800.00", "start_date": "2021-01-01"},
            },
        ],
        "payment_sources": [
            {
                "key": "ann-bank",
                "resident": "ann",
                "type": "bank_account",
                "routing_number": "110000000",
                "account_number": "000123456789",
            },
            {
                "key": "bob-card",
                "resident": "bob",
                "type": "card",
                "number": "4242424242424242",
                "exp_month": 12,
                "exp_year": 2030,
            },
        ],
    }
    doc.update(extra)
    return doc


def payment(key: str, resident: str, source: str, amount: str, at: str, **extra: Any) -> Any:
    return {"key": key, "resident": resident, "source": source, "amount": amount, "at": at, **extra}


class TestOakStreetBatches:
    """Issue 5, acceptance 4: the shipped Inosio scenario reproduces the seed's batch list."""

    def test_the_batch_labels_are_the_seeds(self, client: TestClient) -> None:
        doc = json.loads(OAK_STREET.read_text())
        ws, response = load(client, doc)
        assert response.status_code == 200, response.text
        keys = response.json()["keys"]
        auth = landlord(client, ws)
        listed = batches(client, auth)
        assert sorted(label(b) for b in listed) == sorted(SEED_BATCH_LABELS)
        # The world ends after the 2/25 settlement: every batch is deposited.
        assert {b["status"] for b in listed} == {"deposited"}
        assert {b["kind"] for b in listed} == {"deposit"}
        assert clock_now(client, ws) == doc["advance_to"]

        [big] = [b for b in listed if label(b) == SEED_BATCH_LABELS[0]]
        items = get(client, f"/v1/deposit-batches/{big['id']}", auth)["items"]
        assert [(i["resident_name"], i["amount"]) for i in items] == [
            ("Anthony Kmetz", "1200.00"),
            ("Anthony Kmetz", "1000.00"),
            ("Jerry and Karyl Rodriguez", "500.00"),
        ]
        assert {i["unit_id"] for i in items} == {keys["oak-2118"]}  # "for 2118 Oak Street"
        # Kmetz's first payment came on Friday 2/18 after the cut-off (it opened the batch);
        # the others on 2/22. All have business date 2/22.
        assert items[0]["initiated_at"] == "2022-02-19T00:50:00Z"
        assert {i["initiated_at"][:10] for i in items[1:]} == {"2022-02-22"}
        # The seed's own batch ID (seed 004: "Id: 2732388606925747").
        assert big["id"] == "2732388606925747"
        assert big["deposit_account_id"] == keys["oak-rent"]
        assert big["business_date"] == "2022-02-22"
        assert {i["payment_id"] for i in items} == {
            keys["kmetz-1200"],
            keys["kmetz-1000"],
            keys["rodriguez-500"],
        }

    def test_each_2_23_batch_is_its_own_deposit_account(self, client: TestClient) -> None:
        doc = json.loads(OAK_STREET.read_text())
        ws, response = load(client, doc)
        assert response.status_code == 200, response.text
        listed = batches(client, landlord(client, ws))
        for day in ("2022-02-23", "2022-02-25"):
            accounts = [b["deposit_account_id"] for b in listed if b["deposit_date"] == day]
            assert len(accounts) == len(set(accounts))
        # Rent and the security deposit paid the same day by one resident: two batches.
        types = {b["deposit_type"] for b in listed if b["deposit_date"] == "2022-02-23"}
        assert types == {"rent", "security_deposit", "application_fee"}

    def test_weekend_and_holiday_payments_join_the_2_22_business_date(
        self, client: TestClient
    ) -> None:
        """2/19-2/20 is a weekend and 2/21/2022 was Washington's Birthday: payments made from
        Friday 2/18 after the cut-off to Tuesday 2/22 19:45 share business date 2/22."""
        doc = json.loads(OAK_STREET.read_text())
        ws, response = load(client, doc)
        keys = response.json()["keys"]
        auth = landlord(client, ws)
        for key in ("yazzie-feb", "archuleta-feb", "begay-feb", "baca-feb", "sandoval-feb"):
            paid = get(client, f"/v1/payments/{keys[key]}", auth)
            assert paid["business_date"] == "2022-02-22", key
            assert paid["deposit_date"] == "2022-02-23", key
            assert paid["status"] == "completed", key

    def test_loading_twice_gives_the_same_ids_and_results(self, client: TestClient) -> None:
        doc = json.loads(OAK_STREET.read_text())
        worlds = []
        for _ in range(2):
            ws, response = load(client, doc)
            assert response.status_code == 200, response.text
            worlds.append((ws, response.json()["keys"]))
        # And an emptied workspace loads to the same IDs again.
        first_ws = worlds[0][0]
        reset = client.post(
            f"/v1/sandbox/workspaces/{first_ws['id']}/reset",
            params={"to": "empty"},
            headers=OPERATOR,
        )
        assert reset.status_code == 200, reset.text
        again = client.post(
            f"/v1/sandbox/workspaces/{first_ws['id']}/scenario", json=doc, headers=OPERATOR
        )
        assert again.status_code == 200, again.text
        worlds.append((first_ws, again.json()["keys"]))

        results = []
        for ws, keys in worlds:
            auth = landlord(client, ws)
            results.append(
                (
                    keys,
                    sorted(
                        (b["id"], b["status"], b["deposit_date"], b["total"], b["item_count"])
                        for b in batches(client, auth)
                    ),
                    sorted(
                        (p["id"], p["transaction_id"], p["deposit_batch_id"], p["status"])
                        for p in payments(client, auth)
                    ),
                )
            )
        assert results[0] == results[1] == results[2]
        assert len(results[0][2]) == len(doc["payments"])
        assert {k for k in results[0][0] if k in {p["key"] for p in doc["payments"]}} == {
            p["key"] for p in doc["payments"]
        }

    def test_balances_after_the_deposits(self, client: TestClient) -> None:
        """Completion lowers the integrated balances Landlord 12 last sent (Kmetz 0.00,
        Rodriguez 980.00, the seed's "Unpaid charges")."""
        doc = json.loads(OAK_STREET.read_text())
        ws, response = load(client, doc)
        keys = response.json()["keys"]
        auth = landlord(client, ws)
        balance = {}
        for key in ("kmetz", "rodriguez", "lujan", "baca", "montoya"):
            resident = get(client, f"/v1/residents/{keys[key]}", auth)
            assert resident["status"] == "current", key  # a rent payment made them current
            lease = get(client, f"/v1/leases/{resident['lease_ids'][0]}", auth)
            balance[key] = lease["balance"]
        assert balance == {
            "kmetz": "-2200.00",
            "rodriguez": "480.00",
            "lujan": "0.00",
            "baca": "0.00",
            "montoya": "0.00",
        }


class TestPaymentsOnTheClock:
    def test_jobs_run_between_payments(self, client: TestClient) -> None:
        """Monday 3/7/2022: 14:00 lands in Monday's batch; 19:50 (after the 19:45 cut-off) in
        Tuesday's; by the Wednesday payment both earlier batches have closed and been deposited
        by the clock's jobs."""
        doc = world(
            payments=[
                # Listed out of time order: loading sorts by ``at``.
                payment("wed", "ann", "ann-bank", "100.00", "2022-03-09T15:00:00Z"),
                payment("mon", "ann", "ann-bank", "400.00", "2022-03-07T19:00:00Z"),
                payment("mon-late", "ann", "ann-bank", "300.00", "2022-03-08T00:50:00Z"),
            ]
        )
        ws, response = load(client, doc)
        assert response.status_code == 200, response.text
        keys = response.json()["keys"]
        auth = landlord(client, ws)
        paid = {k: get(client, f"/v1/payments/{keys[k]}", auth) for k in ("mon", "mon-late", "wed")}
        assert paid["mon"]["business_date"] == "2022-03-07"
        assert paid["mon-late"]["business_date"] == "2022-03-08"
        assert paid["wed"]["business_date"] == "2022-03-09"
        assert len({p["deposit_batch_id"] for p in paid.values()}) == 3
        # The default limit is one payment per resident per business date: the 19:50 payment is
        # accepted only because it belongs to Tuesday.
        assert paid["mon"]["status"] == paid["mon-late"]["status"] == "completed"
        assert paid["wed"]["status"] == "processing"
        mon = get(client, f"/v1/deposit-batches/{paid['mon']['deposit_batch_id']}", auth)
        late = get(client, f"/v1/deposit-batches/{paid['mon-late']['deposit_batch_id']}", auth)
        wed = get(client, f"/v1/deposit-batches/{paid['wed']['deposit_batch_id']}", auth)
        assert (mon["status"], mon["closed_at"], mon["deposited_at"]) == (
            "deposited",
            "2022-03-08T00:45:00Z",  # Monday 19:45 New York
            "2022-03-08T11:00:00Z",  # Tuesday 06:00
        )
        assert (late["status"], late["deposit_date"], late["deposited_at"]) == (
            "deposited",
            "2022-03-09",
            "2022-03-09T11:00:00Z",
        )
        assert wed["status"] == "open"
        # Without ``advance_to`` the clock stays at the last payment.
        assert clock_now(client, ws) == "2022-03-09T15:00:00Z"
        # The integrated lease's balance dropped by what was deposited (900 - 400 - 300).
        lease = get(client, f"/v1/leases/{keys['ann-lease']}", auth)
        assert lease["balance"] == "200.00"

    def test_advance_to_runs_the_jobs_after_the_last_payment(self, client: TestClient) -> None:
        doc = world(
            payments=[payment("mon", "ann", "ann-bank", "400.00", "2022-03-07T19:00:00Z")],
            advance_to="2022-03-08T12:00:00Z",
        )
        ws, response = load(client, doc)
        assert response.status_code == 200, response.text
        auth = landlord(client, ws)
        [batch] = batches(client, auth)
        assert batch["status"] == "deposited"
        assert clock_now(client, ws) == "2022-03-08T12:00:00Z"

    def test_a_future_date_schedules_the_payment(self, client: TestClient) -> None:
        doc = world(
            payments=[
                payment(
                    "later",
                    "bob",
                    "bob-card",
                    "800.00",
                    "2022-03-07T15:00:00Z",
                    date="2022-03-15",
                    type="rent",
                )
            ]
        )
        ws, response = load(client, doc)
        assert response.status_code == 200, response.text
        keys = response.json()["keys"]
        auth = landlord(client, ws)
        paid = get(client, f"/v1/payments/{keys['later']}", auth)
        assert (paid["status"], paid["scheduled_for"], paid["deposit_batch_id"]) == (
            "scheduled",
            "2022-03-15",
            None,
        )
        advanced = client.post(
            f"/v1/sandbox/workspaces/{ws['id']}/clock/advance",
            json={"to": "2022-03-15T13:00:00Z"},
            headers=OPERATOR,
        )
        assert advanced.status_code == 200, advanced.text
        paid = get(client, f"/v1/payments/{keys['later']}", landlord(client, ws))
        assert paid["status"] == "processing"
        assert paid["business_date"] == "2022-03-15"

    def test_a_recurring_schedule_charges_when_the_clock_passes_its_day(
        self, client: TestClient
    ) -> None:
        doc = world(
            recurring_payments=[
                {
                    "key": "ann-autopay",
                    "resident": "ann",
                    "source": "ann-bank",
                    "lease": "ann-lease",
                    "amount": "900.00",
                    "day_of_month": 10,
                    "end_month": "2022-04",
                }
            ]
        )
        ws, response = load(client, doc)
        assert response.status_code == 200, response.text
        keys = response.json()["keys"]
        auth = landlord(client, ws)
        assert payments(client, auth) == []  # set up on 3/7; nothing charged yet
        advanced = client.post(
            f"/v1/sandbox/workspaces/{ws['id']}/clock/advance",
            json={"to": "2022-03-10T14:00:00Z"},
            headers=OPERATOR,
        )
        assert advanced.status_code == 200, advanced.text
        [charged] = payments(client, landlord(client, ws))
        assert charged["recurring_payment_id"] == keys["ann-autopay"]
        assert (charged["amount"], charged["business_date"]) == ("900.00", "2022-03-10")

    def test_a_recurring_schedule_charges_during_the_load(self, client: TestClient) -> None:
        """Schedules are set up before the payments: a payment made after the schedule's day
        finds the charge already made (the clock ran the daily job on the way)."""
        doc = world(
            recurring_payments=[
                {
                    "key": "ann-autopay",
                    "resident": "ann",
                    "source": "ann-bank",
                    "amount": "900.00",
                    "day_of_month": 8,
                }
            ],
            payments=[payment("bob-rent", "bob", "bob-card", "800.00", "2022-03-08T15:00:00Z")],
            advance_to="2022-04-08T15:00:00Z",
        )
        ws, response = load(client, doc)
        assert response.status_code == 200, response.text
        keys = response.json()["keys"]
        listed = payments(client, landlord(client, ws))
        charges = sorted(
            p["business_date"] for p in listed if p["recurring_payment_id"] == keys["ann-autopay"]
        )
        assert charges == ["2022-03-08", "2022-04-08"]

    def test_the_clock_runs_up_to_each_payment_before_it_is_made(self, client: TestClient) -> None:
        """The autopay charge of 3/8 00:00 is made on the way to Ann's 3/8 payment, so that
        payment is her second of business date 3/8: refused under the default limit of one.
        (Advancing only after making the payments would let it through.)"""
        autopay = {
            "key": "ann-autopay",
            "resident": "ann",
            "source": "ann-bank",
            "amount": "900.00",
            "day_of_month": 8,
        }
        doc = world(
            recurring_payments=[autopay],
            payments=[payment("p", "ann", "ann-bank", "10.00", "2022-03-08T15:00:00Z")],
        )
        ws, response = load(client, doc)
        assert response.status_code == 422, response.text
        [error] = response.json()["errors"]
        assert (error["field"], error["code"]) == ("$.payments[0]", "daily_payment_limit_reached")
        # The same payment a day later is fine.
        doc["payments"][0]["at"] = "2022-03-09T15:00:00Z"
        loaded = client.post(
            f"/v1/sandbox/workspaces/{ws['id']}/scenario", json=doc, headers=OPERATOR
        )
        assert loaded.status_code == 200, loaded.text

    def test_keys_name_sources_schedules_leases_and_payments(self, client: TestClient) -> None:
        doc = world(
            recurring_payments=[
                {
                    "key": "r",
                    "resident": "bob",
                    "source": "bob-card",
                    "amount": "1.00",
                    "day_of_month": 1,
                }
            ],
            payments=[
                payment("p", "ann", "ann-bank", "5.00", "2022-03-07T15:00:00Z"),
                # No key: made all the same, just not named in the result.
                {
                    "resident": "bob",
                    "source": "bob-card",
                    "amount": "6.00",
                    "at": "2022-03-07T15:00:00Z",
                },
            ],
        )
        ws, response = load(client, doc)
        assert response.status_code == 200, response.text
        keys = response.json()["keys"]
        assert keys["ann-bank"].startswith("src_")
        assert keys["bob-card"].startswith("src_")
        assert keys["r"].startswith("rec_")
        assert keys["p"].startswith("pay_")
        auth = landlord(client, ws)
        assert get(client, f"/v1/leases/{keys['ann-lease']}", auth)["id"] == keys["ann-lease"]
        assert len(payments(client, auth)) == 2  # the keyless payment was made too


class TestRefusals:
    @pytest.mark.parametrize(
        ("change", "code"),
        [
            ({"amount": "20000.00"}, "amount_over_limit"),
            ({"amount": "0.00"}, "amount_not_positive"),
            ({"type": "application_fee"}, "no_deposit_account"),
            ({"at": "2022-03-07T15:30:00Z"}, "daily_payment_limit_reached"),
        ],
    )
    def test_a_refused_payment_fails_the_whole_load(
        self, client: TestClient, change: dict[str, str], code: str
    ) -> None:
        doc = world(
            payments=[
                payment("first", "ann", "ann-bank", "100.00", "2022-03-07T15:00:00Z"),
                {**payment("second", "ann", "ann-bank", "50.00", "2022-03-08T15:00:00Z"), **change},
            ]
        )
        ws, response = load(client, doc)
        assert response.status_code == 422, response.text
        problem = response.json()
        assert problem["code"] == "scenario_refused"
        assert problem["errors"] == [
            {"field": "$.payments[1]", "message": problem["errors"][0]["message"], "code": code}
        ]
        assert "$.payments[1]" in problem["detail"]
        self.assert_nothing_left(client, ws)

    def test_a_blocked_lease_fails_the_load(self, client: TestClient) -> None:
        doc = world(payments=[payment("p", "bob", "bob-card", "100.00", "2022-03-07T15:00:00Z")])
        doc["residents"][1]["lease"]["payments"] = "blocked"
        ws, response = load(client, doc)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "$.payments[0]"
        assert response.json()["errors"][0]["code"] == "payments_blocked"
        self.assert_nothing_left(client, ws)

    def test_the_declined_card_fails_the_load(self, client: TestClient) -> None:
        doc = world(payments=[payment("p", "bob", "bob-card", "100.00", "2022-03-07T15:00:00Z")])
        doc["payment_sources"][1]["number"] = "4000000000000002"
        ws, response = load(client, doc)
        assert response.status_code == 422, response.text  # 402 through the API
        assert response.json()["errors"][0]["code"] == "card_declined"
        self.assert_nothing_left(client, ws)

    def test_a_bad_card_names_its_field(self, client: TestClient) -> None:
        doc = world()
        doc["payment_sources"][1]["number"] = "4242424242424241"  # fails the Luhn check
        ws, response = load(client, doc)
        assert response.status_code == 422, response.text
        [error] = response.json()["errors"]
        assert error["field"] == "$.payment_sources[1].number"
        assert error["code"] == "invalid_card_number"
        self.assert_nothing_left(client, ws)

    def test_a_payment_before_the_workspace_clock_is_refused(self, client: TestClient) -> None:
        doc = world(
            payments=[
                payment("ok", "ann", "ann-bank", "10.00", "2022-03-07T15:00:00Z"),
                payment("early", "bob", "bob-card", "10.00", "2022-03-07T13:59:59Z"),
            ]
        )
        ws, response = load(client, doc)
        assert response.status_code == 422, response.text
        problem = response.json()
        assert problem["code"] == "invalid_scenario"
        assert [e["field"] for e in problem["errors"]] == ["$.payments[1].at"]
        self.assert_nothing_left(client, ws)

    def test_a_payment_beyond_the_longest_advance_is_refused(self, client: TestClient) -> None:
        """One load advances at most as far as one clock advance may (five years)."""
        doc = world(payments=[payment("p", "ann", "ann-bank", "10.00", "2027-06-01T15:00:00Z")])
        ws, response = load(client, doc)
        assert response.status_code == 422, response.text
        assert [e["field"] for e in response.json()["errors"]] == ["$.payments[0].at"]
        self.assert_nothing_left(client, ws)

    def test_advance_to_before_the_clock_is_refused(self, client: TestClient) -> None:
        ws, response = load(client, world(advance_to="2022-03-01T00:00:00Z"))
        assert response.status_code == 422, response.text
        assert [e["field"] for e in response.json()["errors"]] == ["$.advance_to"]
        self.assert_nothing_left(client, ws)

    @pytest.mark.parametrize(
        ("change", "path"),
        [
            ({"source": "bob-card"}, "$.payments[0].source"),  # Bob's card, Ann's payment
            ({"resident": "nobody"}, "$.payments[0].resident"),
            ({"lease": "no-such-lease"}, "$.payments[0].lease"),
            ({"at": "2022-03-07T15:00:00"}, "$.payments[0].at"),  # no offset
        ],
    )
    def test_references_are_checked_before_anything_loads(
        self, client: TestClient, change: dict[str, str], path: str
    ) -> None:
        doc = world(
            payments=[
                {**payment("p", "ann", "ann-bank", "10.00", "2022-03-07T15:00:00Z"), **change}
            ]
        )
        ws, response = load(client, doc)
        assert response.status_code == 422, response.text
        problem = response.json()
        # Over HTTP the body is validated as the route's model (``validation_failed`` or the
        # field's own code), the path in the message.
        assert path.removeprefix("$.") in problem["detail"]
        self.assert_nothing_left(client, ws)

    def test_advance_to_before_a_payment_is_invalid(self, client: TestClient) -> None:
        doc = world(
            payments=[payment("p", "ann", "ann-bank", "10.00", "2022-03-08T15:00:00Z")],
            advance_to="2022-03-08T14:00:00Z",
        )
        _ws, response = load(client, doc)
        assert response.status_code == 422, response.text
        assert "advance_to" in response.json()["detail"]

    def test_portal_seed_leaves_no_workspace_behind(
        self, client: TestClient, database_url: str, tmp_path: Path
    ) -> None:
        doc = world(payments=[payment("p", "ann", "ann-bank", "20000.00", "2022-03-07T15:00:00Z")])
        doc["workspace"]["id"] = "ws_refused"
        path = tmp_path / "refused.json"
        path.write_text(json.dumps(doc))
        result = CliRunner().invoke(cli, ["seed", str(path), "--database-url", database_url])
        assert result.exit_code == 1, result.output
        assert "scenario_refused" in result.output
        missing = client.get("/v1/sandbox/workspaces/ws_refused", headers=OPERATOR)
        assert missing.status_code == 404

    @staticmethod
    def assert_nothing_left(client: TestClient, ws: dict[str, Any]) -> None:
        """The load was one transaction: no entity, no e-mail, no ID used, the clock unmoved."""
        auth = landlord(client, ws)
        assert get(client, "/v1/properties", auth)["data"] == []
        assert get(client, "/v1/residents", auth)["data"] == []
        assert batches(client, auth) == []
        assert payments(client, auth) == []
        mailbox = get(client, f"/v1/sandbox/workspaces/{ws['id']}/mailbox", OPERATOR)
        assert mailbox["data"] == []
        assert clock_now(client, ws) == ws["clock"]["now"]
        # The corrected document then loads to the IDs a first load would give.
        fixed = copy.deepcopy(world())
        loaded = client.post(
            f"/v1/sandbox/workspaces/{ws['id']}/scenario", json=fixed, headers=OPERATOR
        )
        assert loaded.status_code == 200, loaded.text
        _, fresh = load(client, fixed)
        assert loaded.json()["keys"] == fresh.json()["keys"]
