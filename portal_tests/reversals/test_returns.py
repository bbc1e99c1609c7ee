"""ACH returns (issue 6, acceptance 2 and 3; domain.md §6.4; formats.md §3.3): any NACHA code,
labelled NSF; before the deposit inside the original batch, after it as a separate negative
batch of the return day; the return windows; R02/R03/R04 disable the source, unauthorized
codes flag the resident and stop their autopay, any return closes the schedule; e-mails; the
magic accounts on the clock."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from portal_tests.factories import World
from portal_tests.payments.helpers import Payer, add_bank, add_card, batch, pay, post_payment
from portal_tests.residents.helpers import mailbox
from portal_tests.reversals.helpers import (
    EMAIL,
    MONDAY,
    batches,
    check,
    et,
    integrated_payer,
    lease_balance,
    move,
    operator_return,
    payment,
)
from portal_tests.reversals.test_void import problem

TUESDAY, WEDNESDAY, THURSDAY = "2026-07-07", "2026-07-08", "2026-07-09"


@pytest.fixture
def deposited(client: TestClient) -> tuple[World, Payer, dict[str, Any], str]:
    """980.00 paid Monday 14:00 ET from a bank account, deposited Tuesday 06:00; the clock is
    Wednesday 10:00 (domain.md §6.4: Monday payment, Tuesday settlement, Wednesday return)."""
    world, payer = integrated_payer(client)
    move(client, world, payer, et(MONDAY, "14:00:00"))
    source = add_bank(client, payer)["id"]
    made = pay(client, payer, source)
    move(client, world, payer, et(WEDNESDAY, "10:00:00"))
    return world, payer, made, source


def returned(client: TestClient, world: World, payment_id: str, code: str) -> dict[str, Any]:
    response = operator_return(client, world, payment_id, code)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


class TestAfterTheDeposit:
    @pytest.mark.smoke
    def test_r01_a_new_negative_batch_of_the_return_day(
        self,
        client: TestClient,
        engine: Engine,
        deposited: tuple[World, Payer, dict[str, Any], str],
    ) -> None:
        world, payer, made, source = deposited
        original = batch(client, world, made["deposit_batch_id"])
        assert lease_balance(client, world, payer) == "0.00"

        r = returned(client, world, made["id"], "R01")

        assert (r["kind"], r["reason"], r["return_code"], r["return_name"]) == (
            "return",
            "NSF",
            "R01",
            "Insufficient Funds",
        )
        assert (r["placement"], r["amount"], r["date"], r["business_date"]) == (
            "reversal_batch",
            "-980.00",
            WEDNESDAY,
            WEDNESDAY,
        )
        after = batch(client, world, made["deposit_batch_id"])
        assert (after["total"], after["item_count"], after["status"]) == (
            original["total"],
            original["item_count"],
            "deposited",
        )
        negative = batch(client, world, r["deposit_batch_id"])
        assert (negative["kind"], negative["total"], negative["item_count"]) == (
            "reversal",
            "-980.00",
            1,
        )
        assert (negative["business_date"], negative["deposit_date"]) == (WEDNESDAY, THURSDAY)
        assert payment(client, world, made["id"])["status"] == "returned"
        # The resident owes the rent again; the source stays usable (R01 is retryable).
        assert lease_balance(client, world, payer) == "980.00"
        again = pay(client, payer, source)
        assert again["status"] == "processing"
        assert check(engine, world) == []

    def test_the_landlord_is_debited_the_next_banking_day(
        self, client: TestClient, deposited: tuple[World, Payer, dict[str, Any], str]
    ) -> None:
        world, _payer, made, _source = deposited
        r = returned(client, world, made["id"], "R01")

        move(client, world, None, et(THURSDAY, "08:00:00"))

        assert batch(client, world, r["deposit_batch_id"])["status"] == "deposited"
        report = client.get(
            "/v1/reports/batch-deposits", params={"date": THURSDAY}, headers=world.landlord
        ).json()
        [listed] = report["reversals"]
        assert (listed["total"], listed["transactions"][0]["reason"]) == ("-980.00", "NSF")
        assert listed["transactions"][0]["return_code"] == "R01"

    @pytest.mark.parametrize("code", ["R02", "R03", "R04"])
    def test_r02_r03_r04_disable_the_source(
        self,
        client: TestClient,
        deposited: tuple[World, Payer, dict[str, Any], str],
        code: str,
    ) -> None:
        world, payer, made, source = deposited

        returned(client, world, made["id"], code)

        sources = client.get("/v1/resident/payment-sources", headers=payer.auth).json()["data"]
        [disabled] = [s for s in sources if s["id"] == source]
        assert disabled["status"] == "disabled"
        assert disabled["disabled_reason"].startswith(code)
        refused = post_payment(client, payer, source)
        problem(refused, 409, "payment_source_disabled")
        assert len(client.get("/v1/payments", headers=world.landlord).json()["data"]) == 1

    def test_every_code_is_nsf_and_keeps_its_name(
        self, client: TestClient, deposited: tuple[World, Payer, dict[str, Any], str]
    ) -> None:
        world, _payer, made, _source = deposited

        r = returned(client, world, made["id"], "R16")

        assert (r["reason"], r["return_code"], r["return_name"]) == (
            "NSF",
            "R16",
            "Account Frozen/Entry Returned per OFAC Instruction",
        )
        amsi = next(e for e in r["ledger"] if e["integration_kind"] == "amsi")
        assert (amsi["entry"], amsi["reason"], amsi["batch"]) == ("return", "NSF", "reversal")

    def test_resident_and_landlord_are_told_the_day_of_the_return(
        self, client: TestClient, deposited: tuple[World, Payer, dict[str, Any], str]
    ) -> None:
        world, _payer, made, _source = deposited

        returned(client, world, made["id"], "R01")

        mails = mailbox(client, world, kind="payment_returned")
        assert sorted(m["to"] for m in mails) == sorted([EMAIL, world.email])
        assert all(m["sent_at"].startswith("2026-07-08") for m in mails)
        assert all("R01 Insufficient Funds" in m["body"] for m in mails)


class TestBeforeTheDeposit:
    @pytest.mark.smoke
    def test_nets_inside_the_original_batch_and_no_reversal_batch_appears(
        self, client: TestClient, engine: Engine
    ) -> None:
        world, payer = integrated_payer(client, settings={"payments_per_resident_per_day": 2})
        move(client, world, payer, et(MONDAY, "14:00:00"))
        made = pay(client, payer, add_bank(client, payer)["id"])
        kept = pay(client, payer, add_bank(client, payer, "5556667777")["id"], amount="20.00")

        r = returned(client, world, made["id"], "R01")

        assert (r["placement"], r["deposit_batch_id"], r["balance_change"]) == (
            "original_batch",
            made["deposit_batch_id"],
            "0.00",
        )
        netted = batch(client, world, made["deposit_batch_id"])
        assert (netted["total"], netted["item_count"]) == ("20.00", 3)
        assert [(i["item"], i["amount"]) for i in netted["items"]] == [
            ("payment", "980.00"),
            ("payment", "20.00"),
            ("reversal", "-980.00"),
        ]
        move(client, world, None, et(TUESDAY, "08:00:00"))
        assert batches(client, world, kind="reversal") == []
        deposited = batch(client, world, made["deposit_batch_id"])
        assert (deposited["status"], deposited["total"]) == ("deposited", "20.00")
        assert payment(client, world, made["id"])["status"] == "returned"
        assert payment(client, world, kept["id"])["status"] == "completed"
        # Only the 20.00 ever completed.
        assert lease_balance(client, world, payer) == "960.00"
        report = client.get(
            "/v1/reports/batch-deposits", params={"date": TUESDAY}, headers=world.landlord
        ).json()
        assert report["reversals"] == []
        assert report["total"] == "20.00"
        amsi = next(e for e in r["ledger"] if e["integration_kind"] == "amsi")
        assert amsi["batch"] == "original"
        assert check(engine, world) == []


class TestWindows:
    def test_r01_two_banking_days_after_settlement_and_not_later(
        self, client: TestClient, deposited: tuple[World, Payer, dict[str, Any], str]
    ) -> None:
        world, _payer, made, _source = deposited
        # Settled Tuesday 07-07: the window runs through Thursday 07-09.
        move(client, world, None, et("2026-07-10", "09:00:00"))

        body = problem(
            operator_return(client, world, made["id"], "R01"), 409, "return_window_closed"
        )

        assert body["window_closed_on"] == THURSDAY
        assert payment(client, world, made["id"])["status"] == "completed"

    def test_r01_on_the_last_day_of_the_window(
        self, client: TestClient, deposited: tuple[World, Payer, dict[str, Any], str]
    ) -> None:
        world, _payer, made, _source = deposited
        move(client, world, None, et(THURSDAY, "23:00:00"))

        assert returned(client, world, made["id"], "R01")["return_code"] == "R01"

    @pytest.mark.parametrize(("day", "ok"), [("2026-09-05", True), ("2026-09-06", False)])
    def test_unauthorized_codes_have_sixty_calendar_days(
        self,
        client: TestClient,
        deposited: tuple[World, Payer, dict[str, Any], str],
        day: str,
        ok: bool,
    ) -> None:
        world, _payer, made, _source = deposited
        move(client, world, None, et(day, "09:00:00"))

        response = operator_return(client, world, made["id"], "R10")

        if ok:
            assert response.status_code == 201, response.text
        else:
            assert problem(response, 409, "return_window_closed")["window_closed_on"] == (
                "2026-09-05"
            )

    def test_r29_corporate_unauthorized_keeps_two_banking_days(
        self, client: TestClient, deposited: tuple[World, Payer, dict[str, Any], str]
    ) -> None:
        world, _payer, made, _source = deposited
        move(client, world, None, et("2026-07-10", "09:00:00"))

        problem(operator_return(client, world, made["id"], "R29"), 409, "return_window_closed")


class TestUnauthorized:
    def test_flags_the_resident_and_stops_every_schedule(
        self, client: TestClient, deposited: tuple[World, Payer, dict[str, Any], str]
    ) -> None:
        world, payer, made, source = deposited
        card = add_card(client, payer)["id"]
        schedules = [
            client.post(
                "/v1/resident/recurring-payments",
                json={
                    "lease_id": payer.lease_id,
                    "payment_source_id": src,
                    "amount": "100.00",
                    "type": "rent",
                    "day_of_month": 15,
                },
                headers=payer.auth,
            ).json()["id"]
            for src in (source, card)
        ]

        returned(client, world, made["id"], "R10")

        resident = client.get(f"/v1/residents/{payer.resident_id}", headers=world.landlord)
        assert resident.json()["flagged_reason"].startswith("R10")
        mine = client.get("/v1/resident/recurring-payments", headers=payer.auth).json()["data"]
        assert {r["id"]: r["status"] for r in mine} == dict.fromkeys(schedules, "returned")
        move(client, world, payer, et("2026-07-16"))
        assert [
            p["id"] for p in client.get("/v1/payments", headers=world.landlord).json()["data"]
        ] == [made["id"]]

    def test_other_codes_close_only_the_schedules_of_that_source(
        self, client: TestClient, deposited: tuple[World, Payer, dict[str, Any], str]
    ) -> None:
        world, payer, made, source = deposited
        card = add_card(client, payer)["id"]
        by_source = {}
        for src in (source, card):
            by_source[src] = client.post(
                "/v1/resident/recurring-payments",
                json={
                    "lease_id": payer.lease_id,
                    "payment_source_id": src,
                    "amount": "100.00",
                    "type": "rent",
                    "day_of_month": 15,
                },
                headers=payer.auth,
            ).json()["id"]

        returned(client, world, made["id"], "R01")

        mine = client.get("/v1/resident/recurring-payments", headers=payer.auth).json()["data"]
        status = {r["id"]: r["status"] for r in mine}
        assert status == {by_source[source]: "returned", by_source[card]: "active"}
        resident = client.get(f"/v1/residents/{payer.resident_id}", headers=world.landlord)
        assert resident.json()["flagged_reason"] is None


def test_a_returned_autopay_payment_closes_its_schedule(client: TestClient) -> None:
    world, payer = integrated_payer(client)
    schedule = client.post(
        "/v1/resident/recurring-payments",
        json={
            "lease_id": payer.lease_id,
            "payment_source_id": add_bank(client, payer)["id"],
            "amount": "980.00",
            "type": "rent",
            "day_of_month": 7,
        },
        headers=payer.auth,
    ).json()
    move(client, world, payer, et(TUESDAY, "10:00:00"))
    [made] = client.get("/v1/payments", headers=world.landlord).json()["data"]
    assert made["recurring_payment_id"] == schedule["id"]

    returned(client, world, made["id"], "R01")

    [mine] = client.get("/v1/resident/recurring-payments", headers=payer.auth).json()["data"]
    assert (mine["status"], mine["next_date"]) == ("returned", None)
    move(client, world, payer, et("2026-08-08"))
    assert len(client.get("/v1/payments", headers=world.landlord).json()["data"]) == 1


class TestRefused:
    def test_an_unknown_code_is_422(
        self, client: TestClient, deposited: tuple[World, Payer, dict[str, Any], str]
    ) -> None:
        world, _payer, made, _source = deposited
        # R48 and R86 are no longer here: seed 001 names R01-R99 (issue 15, item 10).
        for code in ("R00", "R100", "r01", "NSF"):
            problem(operator_return(client, world, made["id"], code), 422, "invalid_return_code")
        assert payment(client, world, made["id"])["reversals"] == []

    def test_a_card_payment_is_not_returned(self, client: TestClient) -> None:
        world, payer = integrated_payer(client)
        made = pay(client, payer, add_card(client, payer)["id"])

        problem(operator_return(client, world, made["id"], "R01"), 409, "payment_not_returnable")

    def test_twice_is_409(
        self, client: TestClient, deposited: tuple[World, Payer, dict[str, Any], str]
    ) -> None:
        world, payer, made, _source = deposited
        returned(client, world, made["id"], "R01")

        problem(operator_return(client, world, made["id"], "R01"), 409, "payment_not_returnable")

        assert lease_balance(client, world, payer) == "980.00"

    def test_another_workspaces_payment_is_404(
        self, client: TestClient, deposited: tuple[World, Payer, dict[str, Any], str]
    ) -> None:
        _world, _payer, made, _source = deposited
        other, _ = integrated_payer(client)

        problem(operator_return(client, other, made["id"], "R01"), 404, "payment_not_found")

    def test_the_same_key_replays_the_return(
        self, client: TestClient, deposited: tuple[World, Payer, dict[str, Any], str]
    ) -> None:
        world, _payer, made, _source = deposited
        key = {"Idempotency-Key": "ret-1"}

        first = operator_return(client, world, made["id"], "R01", **key)
        again = operator_return(client, world, made["id"], "R01", **key)

        assert (first.status_code, again.status_code) == (201, 201)
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json() == first.json()
        assert len(payment(client, world, made["id"])["reversals"]) == 1


class TestMagicAccounts:
    def test_10000000nn_is_returned_two_banking_days_after_the_business_date(
        self, client: TestClient, engine: Engine
    ) -> None:
        world, payer = integrated_payer(client)
        move(client, world, payer, et(MONDAY, "14:00:00"))
        made = pay(client, payer, add_bank(client, payer, "1000000003")["id"])

        quiet = move(client, world, None, et(WEDNESDAY, "04:59:00"))
        assert [j for j in quiet["jobs"] if j["name"] == "reversals.magic"] == []
        advanced = move(client, world, None, et(WEDNESDAY, "05:00:00"))

        [job] = [j for j in advanced["jobs"] if j["name"] == "reversals.magic"]
        assert job["result"] == {
            "returns_before_deposit": 0,
            "returns_after_deposit": 1,
            "chargebacks": 0,
        }
        [r] = payment(client, world, made["id"])["reversals"]
        assert (r["return_code"], r["placement"], r["initiated_by"]) == (
            "R03",
            "reversal_batch",
            "magic",
        )
        assert payment(client, world, made["id"])["status"] == "returned"
        assert lease_balance(client, world, payer) == "980.00"
        assert check(engine, world) == []

    def test_20000000nn_is_returned_before_the_deposit(
        self, client: TestClient, engine: Engine
    ) -> None:
        world, payer = integrated_payer(client)
        move(client, world, payer, et(MONDAY, "14:00:00"))
        made = pay(client, payer, add_bank(client, payer, "2000000001")["id"])

        move(client, world, None, et(TUESDAY, "08:00:00"))

        [r] = payment(client, world, made["id"])["reversals"]
        assert (r["return_code"], r["placement"], r["created_at"]) == (
            "R01",
            "original_batch",
            et(TUESDAY, "05:00:00"),
        )
        netted = batch(client, world, made["deposit_batch_id"])
        assert (netted["status"], netted["total"], netted["item_count"]) == (
            "deposited",
            "0.00",
            2,
        )
        assert batches(client, world, kind="reversal") == []
        assert lease_balance(client, world, payer) == "980.00"
        assert check(engine, world) == []

    def test_a_magic_number_that_is_no_code_is_an_ordinary_account(
        self, client: TestClient
    ) -> None:
        world, payer = integrated_payer(client)
        move(client, world, payer, et(MONDAY, "14:00:00"))
        # R00 is no code (R99 is: seed 001 names R01-R99, issue 15 item 10).
        made = pay(client, payer, add_bank(client, payer, "1000000000")["id"])

        move(client, world, None, et("2026-07-10"))

        assert payment(client, world, made["id"])["status"] == "completed"
