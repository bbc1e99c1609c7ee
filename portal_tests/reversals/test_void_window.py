"""The void window (issue 15, item 2; seed 001: "Payments can only be voided/canceled the same
day they are made"; domain.md §6.2): a processing payment can be voided or cancelled until the
earlier of the end of the New York day it was made and its business date's cut-off. A Saturday
payment is not voidable on Monday, nor an evening payment the next morning; the refusal names
the refund route and the day a refund becomes possible. ``voidable_until`` on the payment reads
is the same instant."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from portal_tests.factories import World
from portal_tests.payments.helpers import Payer, add_bank, add_card, pay
from portal_tests.reversals.helpers import MONDAY, et, integrated_payer, move, payment

SATURDAY = "2026-07-11"
SUNDAY = "2026-07-12"
NEXT_MONDAY = "2026-07-13"
TUESDAY = "2026-07-07"


def void(client: TestClient, world: World, payment_id: str) -> Any:
    return client.post(f"/v1/payments/{payment_id}/void", headers=world.landlord)


def cancel(client: TestClient, payer: Payer, payment_id: str) -> Any:
    return client.post(f"/v1/resident/payments/{payment_id}/cancel", headers=payer.auth)


def refused(response: Any) -> dict[str, Any]:
    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == "payment_not_voidable", body
    return body


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def paid_at(client: TestClient, day: str, wall: str) -> tuple[World, Payer, dict[str, Any]]:
    """A 980.00 rent payment made at ``wall`` New York time on ``day`` (the clock starts an
    hour before on Monday 2026-07-06 or the payment's own day, whichever is later)."""
    start = et(MONDAY, "10:00:00") if day == MONDAY else et(day, "00:30:00")
    world, payer = integrated_payer(
        client, start=start, settings={"payments_per_resident_per_day": 3}
    )
    move(client, world, payer, et(day, wall))
    made = pay(client, payer, add_bank(client, payer)["id"])
    return world, payer, made


class TestSaturdayPayment:
    """Made Saturday noon: business date Monday 07-13, whose cut-off is 19:45 Monday; the
    window closes at midnight Saturday night."""

    def test_voidable_until_midnight_saturday(self, client: TestClient) -> None:
        world, _payer, made = paid_at(client, SATURDAY, "12:00:00")

        assert made["business_date"] == NEXT_MONDAY
        assert instant(made["voidable_until"]) == instant(et(SUNDAY, "00:00:00"))
        assert instant(payment(client, world, made["id"])["voidable_until"]) == instant(
            et(SUNDAY, "00:00:00")
        )

    def test_voidable_the_last_second_of_saturday(self, client: TestClient) -> None:
        world, _payer, made = paid_at(client, SATURDAY, "12:00:00")
        move(client, world, None, et(SATURDAY, "23:59:59"))

        response = void(client, world, made["id"])

        assert response.status_code == 200, response.text
        assert response.json()["status"] == "cancelled"

    def test_refused_from_midnight(self, client: TestClient) -> None:
        world, _payer, made = paid_at(client, SATURDAY, "12:00:00")
        move(client, world, None, et(SUNDAY, "00:00:00"))

        body = refused(void(client, world, made["id"]))

        assert body["reason"] == "day_ended"
        assert body["made_on"] == SATURDAY
        assert body["refundable_from"] == "2026-07-14"
        assert body["refund_path"] == f"/v1/payments/{made['id']}/refund"
        assert instant(body["voidable_until"]) == instant(et(SUNDAY, "00:00:00"))
        assert "same day" in body["detail"]
        assert "2026-07-14" in body["detail"]
        assert f"POST /v1/payments/{made['id']}/refund" in body["detail"]

    def test_refused_on_monday_before_the_cutoff(self, client: TestClient) -> None:
        world, payer, made = paid_at(client, SATURDAY, "12:00:00")
        move(client, world, payer, et(NEXT_MONDAY, "09:00:00"))

        landlord = refused(void(client, world, made["id"]))
        resident = refused(cancel(client, payer, made["id"]))

        for body in (landlord, resident):
            assert body["reason"] == "day_ended"
            assert body["refundable_from"] == "2026-07-14"
            assert body["refund_path"] == f"/v1/payments/{made['id']}/refund"
        assert payment(client, world, made["id"])["status"] == "processing"


class TestEveningPayment:
    """Made Monday 20:00, after the 19:45 cut-off: business date Tuesday, whose cut-off is
    19:45 Tuesday; the window closes at midnight Monday night."""

    def test_voidable_until_midnight(self, client: TestClient) -> None:
        _world, payer, made = paid_at(client, MONDAY, "20:00:00")

        assert made["business_date"] == TUESDAY
        assert instant(made["voidable_until"]) == instant(et(TUESDAY, "00:00:00"))
        mine = client.get(f"/v1/resident/payments/{made['id']}", headers=payer.auth).json()
        assert mine["voidable_until"] == made["voidable_until"]

    def test_the_resident_cancels_at_2359(self, client: TestClient) -> None:
        world, payer, made = paid_at(client, MONDAY, "20:00:00")
        move(client, world, payer, et(MONDAY, "23:59:59"))

        response = cancel(client, payer, made["id"])

        assert response.status_code == 200, response.text
        assert response.json()["status"] == "cancelled"

    @pytest.mark.parametrize("wall", ["00:00:00", "09:00:00"])
    def test_refused_the_next_morning(self, client: TestClient, wall: str) -> None:
        world, payer, made = paid_at(client, MONDAY, "20:00:00")
        move(client, world, payer, et(TUESDAY, wall))

        body = refused(void(client, world, made["id"]))
        refused(cancel(client, payer, made["id"]))

        assert body["reason"] == "day_ended"
        assert body["made_on"] == MONDAY
        # Tuesday's batch deposits on Wednesday: the payment can be refunded from then.
        assert body["refundable_from"] == "2026-07-08"
        assert body["refund_path"] == f"/v1/payments/{made['id']}/refund"
        assert payment(client, world, made["id"])["status"] == "processing"


class TestCutoffComesFirst:
    """Made Monday 14:00: the 19:45 cut-off closes the window before midnight does."""

    def test_voidable_until_the_cutoff(self, client: TestClient) -> None:
        _world, _payer, made = paid_at(client, MONDAY, "14:00:00")

        assert instant(made["voidable_until"]) == instant(et(MONDAY, "19:45:00"))

    def test_voidable_the_second_before(self, client: TestClient) -> None:
        world, _payer, made = paid_at(client, MONDAY, "14:00:00")
        move(client, world, None, et(MONDAY, "19:44:59"))

        assert void(client, world, made["id"]).status_code == 200

    def test_refused_at_the_cutoff_with_the_refund_route(self, client: TestClient) -> None:
        world, _payer, made = paid_at(client, MONDAY, "14:00:00")
        move(client, world, None, et(MONDAY, "19:45:00"))

        body = refused(void(client, world, made["id"]))

        assert body["reason"] == "cutoff_passed"
        assert body["refundable_from"] == TUESDAY
        assert body["refund_path"] == f"/v1/payments/{made['id']}/refund"
        assert "19:45" in body["detail"]

    def test_a_pinless_debit_card_closes_at_1545(self, client: TestClient) -> None:
        world, payer = integrated_payer(client)
        move(client, world, payer, et(MONDAY, "15:00:00"))
        made = pay(client, payer, add_card(client, payer, funding="debit")["id"])

        assert instant(made["voidable_until"]) == instant(et(MONDAY, "15:45:00"))


class TestReadModel:
    def test_only_processing_payments_have_a_window(self, client: TestClient) -> None:
        world, payer, made = paid_at(client, MONDAY, "14:00:00")
        later = pay(client, payer, add_bank(client, payer, "5556667777")["id"], date="2026-07-20")

        listed = client.get("/v1/payments", headers=world.landlord).json()["data"]

        windows = {p["id"]: p["voidable_until"] for p in listed}
        assert instant(windows[made["id"]]) == instant(et(MONDAY, "19:45:00"))
        assert windows[later["id"]] is None
        move(client, world, None, et(TUESDAY, "09:00:00"))
        assert payment(client, world, made["id"])["voidable_until"] is None  # deposited
