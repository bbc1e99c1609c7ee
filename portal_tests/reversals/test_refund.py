"""Refunds (issue 6; domain.md §6.3): only after the payment completed, else 409
``payment_not_refundable`` with ``refundable_from``; a separate debit in the reversal batch of
its business date; the balance rises; both sides are e-mailed; ``Idempotency-Key`` honoured."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from portal_tests.factories import World
from portal_tests.payments.helpers import Payer, add_bank, batch, pay
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
    payment,
)
from portal_tests.reversals.test_void import problem


def refund(client: TestClient, world: World, payment_id: str, key: str | None = None) -> Any:
    headers = {**world.landlord, **({"Idempotency-Key": key} if key else {})}
    return client.post(f"/v1/payments/{payment_id}/refund", headers=headers)


@pytest.fixture
def deposited(client: TestClient) -> tuple[World, Payer, dict[str, Any]]:
    """980.00 paid Monday 14:00 ET, deposited Tuesday 06:00; now Tuesday 10:00."""
    world, payer = integrated_payer(client)
    move(client, world, payer, et(MONDAY, "14:00:00"))
    made = pay(client, payer, add_bank(client, payer)["id"])
    move(client, world, payer, et("2026-07-07", "10:00:00"))
    assert lease_balance(client, world, payer) == "0.00"
    return world, payer, made


class TestBeforeTheDeposit:
    def test_processing_is_409_with_the_day_it_becomes_refundable(self, client: TestClient) -> None:
        world, payer = integrated_payer(client)
        move(client, world, payer, et(MONDAY, "14:00:00"))
        made = pay(client, payer, add_bank(client, payer)["id"])

        body = problem(refund(client, world, made["id"]), 409, "payment_not_refundable")

        assert body["refundable_from"] == "2026-07-07"
        assert "2026-07-07" in body["detail"]
        assert payment(client, world, made["id"])["reversals"] == []

    def test_scheduled_is_409(self, client: TestClient) -> None:
        world, payer = integrated_payer(client)
        made = pay(client, payer, add_bank(client, payer)["id"], date="2026-07-20")

        body = problem(refund(client, world, made["id"]), 409, "payment_not_refundable")

        assert body["refundable_from"] is None


class TestAfterTheDeposit:
    @pytest.mark.smoke
    def test_a_separate_negative_batch_of_today_and_the_balance_rises(
        self, client: TestClient, engine: Engine, deposited: tuple[World, Payer, dict[str, Any]]
    ) -> None:
        world, payer, made = deposited
        original = batch(client, world, made["deposit_batch_id"])

        response = refund(client, world, made["id"])

        assert response.status_code == 201, response.text
        r = response.json()
        assert (r["kind"], r["reason"], r["placement"], r["amount"]) == (
            "refund",
            "refunded",
            "reversal_batch",
            "-980.00",
        )
        assert (r["business_date"], r["date"], r["balance_change"]) == (
            "2026-07-07",
            "2026-07-07",
            "980.00",
        )
        assert r["deposit_batch_id"] != made["deposit_batch_id"]
        reversal_batch = batch(client, world, r["deposit_batch_id"])
        assert (reversal_batch["kind"], reversal_batch["status"]) == ("reversal", "open")
        assert (reversal_batch["business_date"], reversal_batch["deposit_date"]) == (
            "2026-07-07",
            "2026-07-08",
        )
        assert (reversal_batch["total"], reversal_batch["item_count"]) == ("-980.00", 1)
        [item] = reversal_batch["items"]
        assert (item["item"], item["reversal_id"], item["amount"], item["reason"]) == (
            "reversal",
            r["id"],
            "-980.00",
            "refunded",
        )
        unchanged = batch(client, world, made["deposit_batch_id"])
        assert (unchanged["total"], unchanged["item_count"], unchanged["status"]) == (
            original["total"],
            original["item_count"],
            "deposited",
        )
        assert payment(client, world, made["id"])["status"] == "refunded"
        assert lease_balance(client, world, payer) == "980.00"
        assert check(engine, world) == []

    def test_both_sides_are_told_the_refund_is_processing(
        self, client: TestClient, deposited: tuple[World, Payer, dict[str, Any]]
    ) -> None:
        world, _payer, made = deposited

        refund(client, world, made["id"])

        mails = mailbox(client, world, kind="refund_processing")
        assert sorted(m["to"] for m in mails) == sorted([EMAIL, world.email])
        assert {m["subject"] for m in mails} == {"Refund Processing"}

    def test_the_reversal_batch_closes_and_is_debited_the_next_banking_day(
        self, client: TestClient, engine: Engine, deposited: tuple[World, Payer, dict[str, Any]]
    ) -> None:
        world, _payer, made = deposited
        r = refund(client, world, made["id"]).json()

        move(client, world, None, et("2026-07-08", "08:00:00"))

        debited = batch(client, world, r["deposit_batch_id"])
        assert debited["status"] == "deposited"
        report = client.get(
            "/v1/reports/batch-deposits", params={"date": "2026-07-08"}, headers=world.landlord
        ).json()
        assert report["batches"] == []
        [listed] = report["reversals"]
        assert (listed["batch_id"], listed["total"]) == (r["deposit_batch_id"], "-980.00")
        [t] = listed["transactions"]
        assert (t["item"], t["reason"], t["original_transaction_id"], t["amount"]) == (
            "reversal",
            "refunded",
            made["transaction_id"],
            "-980.00",
        )
        external = client.get(
            "/v1/reports/external-deposits", params={"month": "2026-07"}, headers=world.landlord
        ).json()
        returns = {row["external_batch"]: row["returns"] for row in external["rows"]}
        assert returns[r["deposit_batch_id"]] == "-980.00"
        assert external["totals"]["total"] == "0.00"
        assert check(engine, world) == []

    def test_after_the_cutoff_it_joins_the_next_banking_days_reversal_batch(
        self, client: TestClient, deposited: tuple[World, Payer, dict[str, Any]]
    ) -> None:
        world, _payer, made = deposited
        move(client, world, None, et("2026-07-07", "20:00:00"))

        r = refund(client, world, made["id"]).json()

        assert (r["date"], r["business_date"]) == ("2026-07-07", "2026-07-08")
        assert batch(client, world, r["deposit_batch_id"])["deposit_date"] == "2026-07-09"

    def test_two_refunds_on_one_day_share_the_reversal_batch(self, client: TestClient) -> None:
        world, payer = integrated_payer(client, settings={"payments_per_resident_per_day": 2})
        move(client, world, payer, et(MONDAY, "14:00:00"))
        source = add_bank(client, payer)["id"]
        first = pay(client, payer, source, amount="500.00")
        second = pay(client, payer, source, amount="480.00")
        move(client, world, None, et("2026-07-07", "10:00:00"))

        a = refund(client, world, first["id"]).json()
        b = refund(client, world, second["id"]).json()

        assert a["deposit_batch_id"] == b["deposit_batch_id"]
        shared = batch(client, world, a["deposit_batch_id"])
        assert (shared["total"], shared["item_count"]) == ("-980.00", 2)
        assert [reversal["deposit_batch_id"] for reversal in (a, b)] == [shared["id"]] * 2


class TestOnce:
    def test_a_second_refund_is_409(
        self, client: TestClient, deposited: tuple[World, Payer, dict[str, Any]]
    ) -> None:
        world, payer, made = deposited
        refund(client, world, made["id"])

        problem(refund(client, world, made["id"]), 409, "payment_not_refundable")

        assert lease_balance(client, world, payer) == "980.00"
        assert len(payment(client, world, made["id"])["reversals"]) == 1

    def test_the_same_key_replays_the_refund(
        self, client: TestClient, deposited: tuple[World, Payer, dict[str, Any]]
    ) -> None:
        world, payer, made = deposited

        first = refund(client, world, made["id"], key="refund-1")
        again = refund(client, world, made["id"], key="refund-1")

        assert first.status_code == again.status_code == 201
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json() == first.json()
        assert len(payment(client, world, made["id"])["reversals"]) == 1
        assert lease_balance(client, world, payer) == "980.00"

    def test_another_workspaces_payment_is_404(
        self, client: TestClient, deposited: tuple[World, Payer, dict[str, Any]]
    ) -> None:
        world, _payer, made = deposited
        other, _ = integrated_payer(client)

        problem(refund(client, other, made["id"]), 404, "payment_not_found")

        assert payment(client, world, made["id"])["status"] == "completed"


def test_a_landlord_managed_lease_keeps_its_balance(client: TestClient, engine: Engine) -> None:
    # Without an accounting resident ID the portal never lowered the balance, so a refund
    # does not raise it either (domain.md §11: completion lowers the *integrated* balance).
    world, payer = integrated_payer(client, external_resident_id=None)
    move(client, world, payer, et(MONDAY, "14:00:00"))
    made = pay(client, payer, add_bank(client, payer)["id"])
    move(client, world, None, et("2026-07-07", "10:00:00"))

    r = refund(client, world, made["id"]).json()

    assert r["balance_change"] == "0.00"
    assert lease_balance(client, world, payer) == "980.00"
    assert batches(client, world, kind="reversal")[0]["total"] == "-980.00"
    assert check(engine, world) == []
