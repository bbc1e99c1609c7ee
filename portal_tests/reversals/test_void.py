"""Voids and cancellations (issue 6, acceptance 1; domain.md §6.2): only a processing payment
before its business date's cut-off; the payment leaves its open batch, the balance is not
changed, resident and landlord users are e-mailed; afterwards 409 ``payment_not_voidable``
with the reason and ``refundable_from``."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from portal_tests.factories import World
from portal_tests.payments.helpers import Payer, add_bank, add_card, batch, make_payer, pay
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


def void(client: TestClient, world: World, payment_id: str) -> Any:
    return client.post(f"/v1/payments/{payment_id}/void", headers=world.landlord)


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


@pytest.fixture
def paid(client: TestClient) -> tuple[World, Payer, dict[str, Any]]:
    """A rent payment of 980.00 made Monday 14:00 ET; the lease owes 980.00."""
    world, payer = integrated_payer(client, settings={"payments_per_resident_per_day": 3})
    move(client, world, payer, et(MONDAY, "14:00:00"))
    made = pay(client, payer, add_bank(client, payer)["id"])
    return world, payer, made


class TestSameDayBeforeTheCutoff:
    @pytest.mark.smoke
    def test_void_at_1900_takes_the_payment_out_of_its_batch(
        self, client: TestClient, paid: tuple[World, Payer, dict[str, Any]]
    ) -> None:
        world, payer, made = paid
        other = pay(client, payer, add_bank(client, payer, "5556667777")["id"], amount="20.00")
        before = batch(client, world, made["deposit_batch_id"])
        assert (before["total"], before["item_count"]) == ("1000.00", 2)
        move(client, world, payer, et(MONDAY, "19:00:00"))

        response = void(client, world, made["id"])

        assert response.status_code == 200, response.text
        voided = response.json()
        assert (voided["status"], voided["status_label"]) == ("cancelled", "Cancelled")
        assert voided["deposit_batch_id"] is None
        [reversal] = voided["reversals"]
        assert (reversal["kind"], reversal["reason"], reversal["placement"]) == (
            "void",
            "voided",
            "none",
        )
        assert (reversal["amount"], reversal["balance_change"]) == ("-980.00", "0.00")
        assert reversal["deposit_batch_id"] is None
        assert reversal["transaction_id"] != made["transaction_id"]
        assert reversal["original_transaction_id"] == made["transaction_id"]
        after = batch(client, world, made["deposit_batch_id"])
        assert (after["total"], after["item_count"]) == ("20.00", 1)
        assert [i["payment_id"] for i in after["items"]] == [other["id"]]
        # The balance is not changed by a void (domain.md §11).
        assert lease_balance(client, world, payer) == "980.00"

    def test_resident_and_every_landlord_user_are_told(
        self, client: TestClient, paid: tuple[World, Payer, dict[str, Any]]
    ) -> None:
        world, _payer, made = paid

        void(client, world, made["id"])

        mails = mailbox(client, world, kind="payment_cancelled")
        assert sorted(m["to"] for m in mails) == sorted([EMAIL, world.email])
        assert {m["subject"] for m in mails} == {"Payment Cancelled"}
        assert {m["data"]["payment_id"] for m in mails} == {made["id"]}

    @pytest.mark.smoke
    def test_the_resident_cancels_their_own(
        self, client: TestClient, paid: tuple[World, Payer, dict[str, Any]]
    ) -> None:
        world, payer, made = paid

        response = client.post(f"/v1/resident/payments/{made['id']}/cancel", headers=payer.auth)

        assert response.status_code == 200, response.text
        assert response.json()["status"] == "cancelled"
        assert response.json()["reversals"][0]["initiated_by"] == "resident"
        assert payment(client, world, made["id"])["status"] == "cancelled"

    def test_a_voided_payment_frees_the_day_for_another(self, client: TestClient) -> None:
        world, payer = integrated_payer(client)
        move(client, world, payer, et(MONDAY, "14:00:00"))
        source = add_bank(client, payer)["id"]
        made = pay(client, payer, source)
        void(client, world, made["id"])

        again = pay(client, payer, source, amount="950.00")

        assert again["business_date"] == made["business_date"]

    def test_a_voided_payment_never_appears_in_a_deposit(
        self, client: TestClient, engine: Engine, paid: tuple[World, Payer, dict[str, Any]]
    ) -> None:
        world, payer, made = paid
        kept = pay(client, payer, add_bank(client, payer, "5556667777")["id"], amount="20.00")
        void(client, world, made["id"])

        move(client, world, None, et("2026-07-07", "08:00:00"))

        [deposited] = batches(client, world, date="2026-07-07")
        assert (deposited["status"], deposited["total"], deposited["item_count"]) == (
            "deposited",
            "20.00",
            1,
        )
        report = client.get(
            "/v1/reports/batch-deposits", params={"date": "2026-07-07"}, headers=world.landlord
        ).json()
        listed = [t["payment_id"] for b in report["batches"] for t in b["transactions"]]
        assert listed == [kept["id"]]
        assert payment(client, world, made["id"])["status"] == "cancelled"
        # Only the kept payment completed: the balance fell by 20.00, not 1,000.00.
        assert lease_balance(client, world, payer) == "960.00"
        assert check(engine, world) == []


class TestTooLate:
    def test_at_1950_it_is_409_with_the_refund_date(
        self, client: TestClient, paid: tuple[World, Payer, dict[str, Any]]
    ) -> None:
        world, _payer, made = paid
        move(client, world, None, et(MONDAY, "19:50:00"))

        body = problem(void(client, world, made["id"]), 409, "payment_not_voidable")

        assert body["reason"] == "cutoff_passed"
        assert body["refundable_from"] == "2026-07-07"
        assert "19:45" in body["detail"]
        assert "2026-07-07" in body["detail"]
        assert payment(client, world, made["id"])["status"] == "processing"

    def test_the_next_day_it_is_409(
        self, client: TestClient, paid: tuple[World, Payer, dict[str, Any]]
    ) -> None:
        world, payer, made = paid
        move(client, world, payer, et("2026-07-07", "09:00:00"))

        body = problem(void(client, world, made["id"]), 409, "payment_not_voidable")
        problem(
            client.post(f"/v1/resident/payments/{made['id']}/cancel", headers=payer.auth),
            409,
            "payment_not_voidable",
        )

        # Deposited at 06:00: refund it instead.
        assert body["reason"] == "deposited"
        assert payment(client, world, made["id"])["status"] == "completed"

    def test_a_voided_payment_cannot_be_voided_again(
        self, client: TestClient, paid: tuple[World, Payer, dict[str, Any]]
    ) -> None:
        world, _payer, made = paid
        void(client, world, made["id"])

        body = problem(void(client, world, made["id"]), 409, "payment_not_voidable")

        assert body["reason"] == "cancelled"
        assert len(payment(client, world, made["id"])["reversals"]) == 1

    def test_a_pinless_debit_payment_has_its_own_cutoff(self, client: TestClient) -> None:
        world, payer = integrated_payer(client)
        move(client, world, payer, et(MONDAY, "15:00:00"))
        debit = add_card(client, payer, funding="debit")
        made = pay(client, payer, debit["id"])
        move(client, world, None, et(MONDAY, "15:50:00"))

        body = problem(void(client, world, made["id"]), 409, "payment_not_voidable")

        assert "15:45" in body["detail"]


class TestScheduled:
    def test_a_scheduled_payment_is_cancelled_without_a_reversal(self, client: TestClient) -> None:
        world, payer = integrated_payer(client)
        made = pay(client, payer, add_bank(client, payer)["id"], date="2026-07-20")
        assert made["status"] == "scheduled"

        response = client.post(f"/v1/resident/payments/{made['id']}/cancel", headers=payer.auth)

        assert response.status_code == 200, response.text
        assert (response.json()["status"], response.json()["reversals"]) == ("cancelled", [])
        move(client, world, None, et("2026-07-21"))
        assert payment(client, world, made["id"])["status"] == "cancelled"
        assert batches(client, world) == []


class TestWhoMay:
    def test_another_residents_payment_is_404(
        self, client: TestClient, paid: tuple[World, Payer, dict[str, Any]]
    ) -> None:
        world, payer, made = paid
        unit = {"id": payer.unit_id, "property_id": payer.property_id}
        stranger = make_payer(client, world, unit=unit, email="stranger@example.com")

        response = client.post(f"/v1/resident/payments/{made['id']}/cancel", headers=stranger.auth)

        problem(response, 404, "payment_not_found")
        assert payment(client, world, made["id"])["status"] == "processing"
