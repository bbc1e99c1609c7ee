"""Card chargebacks and disputes (issue 6, acceptance 4; domain.md §6.5; formats.md §5): the
funds are taken at once; the dispute follows ``needs_response -> under_review -> won | lost``;
a won dispute credits the amount back 3-5 banking days later as a positive item of a reversal
batch; a lost one does not."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from portal_tests.factories import World
from portal_tests.payments.helpers import Payer, add_bank, add_card, batch, pay
from portal_tests.residents.helpers import mailbox
from portal_tests.reversals.helpers import (
    MONDAY,
    batches,
    check,
    et,
    integrated_payer,
    lease_balance,
    move,
    operator_chargeback,
    payment,
)
from portal_tests.reversals.test_void import problem

TUESDAY, WEDNESDAY = "2026-07-07", "2026-07-08"


@pytest.fixture
def card_paid(client: TestClient) -> tuple[World, Payer, dict[str, Any]]:
    """980.00 paid by card Monday 14:00 ET, deposited Tuesday; now Wednesday 10:00."""
    world, payer = integrated_payer(client)
    move(client, world, payer, et(MONDAY, "14:00:00"))
    made = pay(client, payer, add_card(client, payer)["id"])
    move(client, world, payer, et(WEDNESDAY, "10:00:00"))
    assert lease_balance(client, world, payer) == "0.00"
    return world, payer, made


def charged(client: TestClient, world: World, payment_id: str, **body: Any) -> dict[str, Any]:
    response = operator_chargeback(client, world, payment_id, **body)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def dispute(client: TestClient, world: World, dispute_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/disputes/{dispute_id}", headers=world.landlord)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def act(client: TestClient, world: World, dispute_id: str, verb: str, **body: Any) -> Any:
    return client.post(
        f"/v1/disputes/{dispute_id}/{verb}", json=body or None, headers=world.landlord
    )


class TestTheChargeback:
    @pytest.mark.smoke
    def test_takes_the_money_at_once(
        self, client: TestClient, engine: Engine, card_paid: tuple[World, Payer, dict[str, Any]]
    ) -> None:
        world, payer, made = card_paid

        cb = charged(client, world, made["id"], reason_code="10.4")

        assert (cb["kind"], cb["reason"], cb["reason_code"], cb["amount"]) == (
            "chargeback",
            "CHARGE BACK",
            "10.4",
            "-980.00",
        )
        assert cb["reason_name"] == "Other Fraud: Card-Absent Environment"
        taken = batch(client, world, cb["deposit_batch_id"])
        assert (taken["kind"], taken["business_date"], taken["total"]) == (
            "reversal",
            WEDNESDAY,
            "-980.00",
        )
        d = cb["dispute"]
        assert (d["status"], d["network"], d["amount"]) == ("needs_response", "visa", "980.00")
        assert d["respond_by"] == "2026-08-07T14:00:00Z"  # Visa: 30 days
        assert payment(client, world, made["id"])["status"] == "charged_back"
        assert lease_balance(client, world, payer) == "980.00"
        [mail] = mailbox(client, world, kind="chargeback_received")
        assert mail["to"] == world.email
        amsi = next(e for e in cb["ledger"] if e["integration_kind"] == "amsi")
        assert (amsi["entry"], amsi["reason"]) == ("negative_payment", "CHARGE BACK")
        assert check(engine, world) == []

    def test_mastercard_gives_45_days(
        self, client: TestClient, card_paid: tuple[World, Payer, dict[str, Any]]
    ) -> None:
        world, _payer, made = card_paid

        d = charged(client, world, made["id"], reason_code="4837")["dispute"]

        assert (d["network"], d["respond_by"]) == ("mastercard", "2026-08-22T14:00:00Z")

    def test_before_the_deposit_it_nets_in_the_original_batch(
        self, client: TestClient, engine: Engine
    ) -> None:
        world, payer = integrated_payer(client)
        move(client, world, payer, et(MONDAY, "14:00:00"))
        made = pay(client, payer, add_card(client, payer)["id"])

        cb = charged(client, world, made["id"])

        assert (cb["placement"], cb["deposit_batch_id"]) == (
            "original_batch",
            made["deposit_batch_id"],
        )
        move(client, world, None, et(TUESDAY, "08:00:00"))
        netted = batch(client, world, made["deposit_batch_id"])
        assert (netted["status"], netted["total"], netted["item_count"]) == (
            "deposited",
            "0.00",
            2,
        )
        assert lease_balance(client, world, payer) == "980.00"
        assert check(engine, world) == []

    def test_an_ach_payment_is_not_charged_back(self, client: TestClient) -> None:
        world, payer = integrated_payer(client)
        made = pay(client, payer, add_bank(client, payer)["id"])

        problem(operator_chargeback(client, world, made["id"]), 409, "payment_not_chargeable")

    @pytest.mark.parametrize("code", ["10.6", "12.6", "4800", "visa", ""])
    def test_an_unknown_reason_code_is_422(
        self, client: TestClient, card_paid: tuple[World, Payer, dict[str, Any]], code: str
    ) -> None:
        world, _payer, made = card_paid

        problem(
            operator_chargeback(client, world, made["id"], reason_code=code),
            422,
            "invalid_reason_code",
        )
        assert payment(client, world, made["id"])["status"] == "completed"

    def test_twice_is_409(
        self, client: TestClient, card_paid: tuple[World, Payer, dict[str, Any]]
    ) -> None:
        world, _payer, made = card_paid
        charged(client, world, made["id"])

        problem(operator_chargeback(client, world, made["id"]), 409, "payment_not_chargeable")


class TestWon:
    def test_a_challenge_wins_three_banking_days_later_and_the_money_comes_back(
        self, client: TestClient, engine: Engine, card_paid: tuple[World, Payer, dict[str, Any]]
    ) -> None:
        world, payer, made = card_paid
        cb = charged(client, world, made["id"])
        dispute_id = cb["dispute"]["id"]

        response = act(client, world, dispute_id, "challenge", evidence="Signed lease on file")

        assert response.status_code == 200, response.text
        review = response.json()
        assert (review["status"], review["evidence"]) == ("under_review", "Signed lease on file")
        # Wednesday + 3 banking days = Monday 07-13, at the time of the challenge.
        assert review["decision_at"] == et("2026-07-13", "10:00:00")
        move(client, world, None, et("2026-07-13", "09:59:00"))
        assert dispute(client, world, dispute_id)["status"] == "under_review"
        assert lease_balance(client, world, payer) == "980.00"

        move(client, world, None, et("2026-07-13", "10:00:00"))

        won = dispute(client, world, dispute_id)
        assert won["status"] == "won"
        detail = payment(client, world, made["id"])
        assert detail["status"] == "completed"
        credit = next(r for r in detail["reversals"] if r["id"] == won["credit_id"])
        assert (credit["kind"], credit["amount"], credit["business_date"]) == (
            "dispute_won",
            "980.00",
            "2026-07-13",
        )
        credited = batch(client, world, credit["deposit_batch_id"])
        assert (credited["kind"], credited["total"], credited["item_count"]) == (
            "reversal",
            "980.00",
            1,
        )
        assert lease_balance(client, world, payer) == "0.00"
        [closed] = mailbox(client, world, kind="dispute_closed")
        assert "won" in closed["body"]
        assert check(engine, world) == []

    def test_the_credit_is_deposited_the_next_banking_day(
        self, client: TestClient, card_paid: tuple[World, Payer, dict[str, Any]]
    ) -> None:
        world, _payer, made = card_paid
        dispute_id = charged(client, world, made["id"])["dispute"]["id"]
        act(client, world, dispute_id, "challenge")

        move(client, world, None, et("2026-07-14", "08:00:00"))

        report = client.get(
            "/v1/reports/batch-deposits", params={"date": "2026-07-14"}, headers=world.landlord
        ).json()
        [credit] = report["reversals"]
        assert (credit["total"], credit["status"]) == ("980.00", "deposited")
        assert credit["transactions"][0]["reason"] == "CHARGE BACK REVERSED"

    def test_the_setting_moves_the_decision_to_five_banking_days(self, client: TestClient) -> None:
        world, payer = integrated_payer(client, settings={"dispute_credit_banking_days": 5})
        move(client, world, payer, et(MONDAY, "14:00:00"))
        made = pay(client, payer, add_card(client, payer)["id"])
        move(client, world, None, et(WEDNESDAY, "10:00:00"))
        dispute_id = charged(client, world, made["id"])["dispute"]["id"]

        review = act(client, world, dispute_id, "challenge").json()

        assert review["decision_at"] == et("2026-07-15", "10:00:00")


class TestLost:
    def test_losing_evidence_loses_and_nothing_comes_back(
        self, client: TestClient, engine: Engine, card_paid: tuple[World, Payer, dict[str, Any]]
    ) -> None:
        world, payer, made = card_paid
        dispute_id = charged(client, world, made["id"])["dispute"]["id"]
        act(client, world, dispute_id, "challenge", evidence="losing_evidence")

        move(client, world, None, et("2026-07-20"))

        lost = dispute(client, world, dispute_id)
        assert (lost["status"], lost["credit_id"]) == ("lost", None)
        assert payment(client, world, made["id"])["status"] == "charged_back"
        assert [r["kind"] for r in payment(client, world, made["id"])["reversals"]] == [
            "chargeback"
        ]
        assert lease_balance(client, world, payer) == "980.00"
        assert check(engine, world) == []

    def test_the_operator_can_decide_the_outcome(
        self, client: TestClient, card_paid: tuple[World, Payer, dict[str, Any]]
    ) -> None:
        world, _payer, made = card_paid
        dispute_id = charged(client, world, made["id"], outcome="lost")["dispute"]["id"]
        act(client, world, dispute_id, "challenge", evidence="A strong case")

        move(client, world, None, et("2026-07-20"))

        assert dispute(client, world, dispute_id)["status"] == "lost"

    def test_accepting_loses_at_once(
        self, client: TestClient, card_paid: tuple[World, Payer, dict[str, Any]]
    ) -> None:
        world, payer, made = card_paid
        dispute_id = charged(client, world, made["id"])["dispute"]["id"]

        accepted = act(client, world, dispute_id, "accept")

        assert accepted.status_code == 200, accepted.text
        assert (accepted.json()["status"], accepted.json()["closed_at"]) == (
            "lost",
            et(WEDNESDAY, "10:00:00"),
        )
        problem(act(client, world, dispute_id, "accept"), 409, "dispute_not_open")
        problem(act(client, world, dispute_id, "challenge"), 409, "dispute_not_open")
        move(client, world, None, et("2026-09-30"))
        assert lease_balance(client, world, payer) == "980.00"
        assert dispute(client, world, dispute_id)["status"] == "lost"

    def test_no_answer_by_the_deadline_loses(
        self, client: TestClient, card_paid: tuple[World, Payer, dict[str, Any]]
    ) -> None:
        world, _payer, made = card_paid
        dispute_id = charged(client, world, made["id"])["dispute"]["id"]

        move(client, world, None, "2026-08-07T13:59:00Z")
        assert dispute(client, world, dispute_id)["status"] == "needs_response"
        advanced = move(client, world, None, "2026-08-07T14:00:00Z")

        assert dispute(client, world, dispute_id)["status"] == "lost"
        [job] = [j for j in advanced["jobs"] if j["name"] == "disputes.expire"]
        assert job["result"] == {"dispute_id": dispute_id, "status": "lost"}
        problem(act(client, world, dispute_id, "challenge"), 409, "dispute_not_open")

    def test_a_challenged_dispute_does_not_expire(
        self, client: TestClient, card_paid: tuple[World, Payer, dict[str, Any]]
    ) -> None:
        world, _payer, made = card_paid
        dispute_id = charged(client, world, made["id"])["dispute"]["id"]
        act(client, world, dispute_id, "challenge")

        advanced = move(client, world, None, "2026-08-10T14:00:00Z")

        assert dispute(client, world, dispute_id)["status"] == "won"
        assert [j for j in advanced["jobs"] if j["name"] == "disputes.expire"] == []


class TestLists:
    def test_disputes_by_status_and_reversals_by_day(
        self, client: TestClient, card_paid: tuple[World, Payer, dict[str, Any]]
    ) -> None:
        world, _payer, made = card_paid
        cb = charged(client, world, made["id"])

        open_ = client.get(
            "/v1/disputes", params={"status": "needs_response"}, headers=world.landlord
        ).json()
        none = client.get("/v1/disputes", params={"status": "won"}, headers=world.landlord).json()
        today = client.get(
            "/v1/reversals", params={"date": WEDNESDAY}, headers=world.landlord
        ).json()
        yesterday = client.get(
            "/v1/reversals", params={"date": TUESDAY}, headers=world.landlord
        ).json()

        assert [d["id"] for d in open_["data"]] == [cb["dispute"]["id"]]
        assert none["data"] == []
        assert [r["id"] for r in today["data"]] == [cb["id"]]
        assert yesterday["data"] == []
        one = client.get(f"/v1/reversals/{cb['id']}", headers=world.landlord).json()
        assert {k: v for k, v in cb.items() if k != "dispute"} == one


class TestMagicCard:
    def test_4000000000000259_is_charged_back_three_banking_days_after_the_deposit(
        self, client: TestClient, engine: Engine
    ) -> None:
        world, payer = integrated_payer(client)
        move(client, world, payer, et(MONDAY, "14:00:00"))
        made = pay(client, payer, add_card(client, payer, "4000000000000259")["id"])

        move(client, world, None, et("2026-07-09", "23:00:00"))
        assert payment(client, world, made["id"])["status"] == "completed"
        # Deposited Tuesday 07-07; three banking days later is Friday 07-10.
        advanced = move(client, world, None, et("2026-07-10", "05:00:00"))

        [job] = [j for j in advanced["jobs"] if j["name"] == "reversals.magic"]
        assert job["result"]["chargebacks"] == 1
        detail = payment(client, world, made["id"])
        assert detail["status"] == "charged_back"
        [d] = detail["disputes"]
        assert (d["reason_code"], d["status"]) == ("10.4", "needs_response")
        assert [b["total"] for b in batches(client, world, kind="reversal")] == ["-980.00"]
        assert check(engine, world) == []


class TestOrderOfAnswers:
    def test_a_challenged_dispute_cannot_be_accepted_and_the_clock_goes_on(
        self, client: TestClient, card_paid: tuple[World, Payer, dict[str, Any]]
    ) -> None:
        world, _payer, made = card_paid
        dispute_id = charged(client, world, made["id"])["dispute"]["id"]
        act(client, world, dispute_id, "challenge")

        problem(act(client, world, dispute_id, "accept"), 409, "dispute_not_open")

        move(client, world, None, et("2026-07-20"))
        assert dispute(client, world, dispute_id)["status"] == "won"

    def test_a_won_dispute_of_a_payment_charged_back_before_its_deposit_completes_it(
        self, client: TestClient, engine: Engine
    ) -> None:
        world, payer = integrated_payer(client)
        move(client, world, payer, et(MONDAY, "14:00:00"))
        made = pay(client, payer, add_card(client, payer)["id"])
        dispute_id = charged(client, world, made["id"])["dispute"]["id"]
        act(client, world, dispute_id, "challenge")

        move(client, world, None, et("2026-07-10", "15:00:00"))

        detail = payment(client, world, made["id"])
        assert (detail["status"], detail["completed_at"]) == (
            "completed",
            et("2026-07-09", "14:00:00"),
        )
        # The batch deposited nothing (netted to 0.00); the credit brought the 980.00.
        assert lease_balance(client, world, payer) == "0.00"
        assert check(engine, world) == []
