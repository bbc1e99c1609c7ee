"""Scheduled one-time payments and recurring schedules, run by ``payments.run_due`` at 00:00 ET
(issue 5; domain.md §4.3-§4.4)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from portal_tests.factories import World, make_world
from portal_tests.payments.helpers import (
    Payer,
    add_bank,
    batch,
    make_payer,
    pay,
    set_clock,
)
from portal_tests.residents.helpers import mailbox

NY = ZoneInfo("America/New_York")
EMAIL = "anthony@example.com"
THURSDAY = "2026-07-02T14:00:00Z"  # Thursday 2026-07-02, 10:00 New York


def et(day: str, wall: str = "00:00:00") -> str:
    local = datetime.fromisoformat(f"{day}T{wall}").replace(tzinfo=NY)
    return local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def relogin(client: TestClient, world: World, payer: Payer, email: str = EMAIL) -> None:
    """Resident sessions expire on the workspace clock: log in again after an advance."""
    response = client.post(
        "/v1/resident/login",
        json={"email": email, "password": "s3cret-pass", "workspace_id": world.workspace_id},
    )
    assert response.status_code == 200, response.text
    payer.token = response.json()["access_token"]


def payment_of(client: TestClient, world: World, payment_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/payments/{payment_id}", headers=world.landlord)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def payments(client: TestClient, world: World, **query: str) -> list[dict[str, Any]]:
    response = client.get("/v1/payments", params={"limit": "200", **query}, headers=world.landlord)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def run_due(advanced: dict[str, Any]) -> list[dict[str, Any]]:
    return [j for j in advanced["jobs"] if j["name"] == "payments.run_due"]


def patch_lease(client: TestClient, world: World, lease_id: str, **body: Any) -> None:
    response = client.patch(f"/v1/leases/{lease_id}", json=body, headers=world.landlord)
    assert response.status_code == 200, response.text


def add_schedule(client: TestClient, payer: Payer, source_id: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "lease_id": payer.lease_id,
        "payment_source_id": source_id,
        "amount": "980.00",
        "type": "rent",
        "day_of_month": 5,
    }
    body.update(extra)
    response = client.post("/v1/resident/recurring-payments", json=body, headers=payer.auth)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def schedule_of(client: TestClient, world: World, payer: Payer, schedule_id: str) -> dict[str, Any]:
    relogin(client, world, payer)
    response = client.get("/v1/resident/recurring-payments", headers=payer.auth)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = [s for s in response.json()["data"] if s["id"] == schedule_id]
    assert len(found) == 1
    return found[0]


def charged_on(client: TestClient, world: World, schedule_id: str) -> list[str]:
    """The days a schedule charged, in order."""
    return sorted(
        p["scheduled_for"]
        for p in payments(client, world)
        if p["recurring_payment_id"] == schedule_id
    )


# --- scheduled one-time payments ----------------------------------------------------------------


@pytest.mark.smoke
def test_future_date_is_scheduled_then_processed_at_midnight_that_day(
    client: TestClient,
) -> None:
    world = make_world(client, clock={"now": THURSDAY})
    payer = make_payer(client, world)

    scheduled = pay(client, payer, add_bank(client, payer)["id"], date="2026-07-08")

    assert (scheduled["status"], scheduled["status_label"]) == ("scheduled", "Pending")
    assert scheduled["deposit_batch_id"] is None
    assert scheduled["deposit_date"] is None
    assert (scheduled["scheduled_for"], scheduled["business_date"]) == ("2026-07-08", "2026-07-08")
    assert client.get("/v1/deposit-batches", headers=world.landlord).json()["data"] == []
    [confirmation] = mailbox(client, world, kind="payment_scheduled")
    assert confirmation["to"] == EMAIL
    assert mailbox(client, world, kind="payment_receipt") == []

    eve = set_clock(client, world, et("2026-07-07", "23:59:59"))
    assert run_due(eve) == []
    assert payment_of(client, world, scheduled["id"])["status"] == "scheduled"

    midnight = set_clock(client, world, et("2026-07-08"))
    [job] = run_due(midnight)
    assert job["due_at"].startswith("2026-07-08T04:00:00")
    assert job["result"]["scheduled_started"] == 1
    started = payment_of(client, world, scheduled["id"])
    assert started["status"] == "processing"
    assert (started["business_date"], started["deposit_date"]) == ("2026-07-08", "2026-07-09")
    joined = batch(client, world, started["deposit_batch_id"])
    assert (joined["status"], joined["business_date"], joined["total"], joined["item_count"]) == (
        "open",
        "2026-07-08",
        "980.00",
        1,
    )
    assert [i["payment_id"] for i in joined["items"]] == [scheduled["id"]]
    [receipt] = mailbox(client, world, kind="payment_receipt")
    assert receipt["data"]["payment_id"] == scheduled["id"]


@pytest.mark.parametrize(
    ("day", "business_date", "deposit_date"),
    [
        pytest.param("2026-07-11", "2026-07-13", "2026-07-14", id="saturday"),
        pytest.param("2026-09-07", "2026-09-08", "2026-09-09", id="labor-day"),
    ],
)
def test_scheduled_for_a_closed_day_joins_the_next_banking_days_batch(
    client: TestClient, day: str, business_date: str, deposit_date: str
) -> None:
    world = make_world(client, clock={"now": THURSDAY})
    payer = make_payer(client, world)
    scheduled = pay(client, payer, add_bank(client, payer)["id"], date=day)
    assert scheduled["business_date"] == business_date

    set_clock(client, world, et(day, "00:00:01"))

    started = payment_of(client, world, scheduled["id"])
    assert started["status"] == "processing"
    assert (started["business_date"], started["deposit_date"]) == (business_date, deposit_date)
    assert batch(client, world, started["deposit_batch_id"])["business_date"] == business_date


def test_scheduled_payment_of_a_lease_blocked_meanwhile_is_cancelled(client: TestClient) -> None:
    world = make_world(client, clock={"now": THURSDAY})
    payer = make_payer(client, world)
    scheduled = pay(client, payer, add_bank(client, payer)["id"], date="2026-07-08")
    patch_lease(client, world, payer.lease_id, payments="blocked")

    advanced = set_clock(client, world, et("2026-07-08", "12:00:00"))

    [job] = run_due(advanced)
    assert (job["result"]["scheduled_started"], job["result"]["skipped"]) == (0, 1)
    cancelled = payment_of(client, world, scheduled["id"])
    assert (cancelled["status"], cancelled["deposit_batch_id"]) == ("cancelled", None)
    assert client.get("/v1/deposit-batches", headers=world.landlord).json()["data"] == []
    [skipped] = mailbox(client, world, kind="payment_skipped")
    assert skipped["to"] == EMAIL
    assert skipped["data"]["code"] == "payments_blocked"
    assert mailbox(client, world, kind="payment_receipt") == []


# --- recurring schedules ------------------------------------------------------------------------


def test_recurring_payment_charges_on_its_day_each_month(client: TestClient) -> None:
    world = make_world(client, clock={"now": THURSDAY})
    payer = make_payer(client, world)
    schedule = add_schedule(client, payer, add_bank(client, payer)["id"], day_of_month=5)
    assert (schedule["status"], schedule["next_date"], schedule["end_month"]) == (
        "active",
        "2026-07-05",
        None,
    )

    assert run_due(set_clock(client, world, et("2026-07-04", "23:59:59"))) == []
    assert charged_on(client, world, schedule["id"]) == []

    [job] = run_due(set_clock(client, world, et("2026-07-05")))
    assert job["due_at"].startswith("2026-07-05T04:00:00")
    assert job["result"]["recurring_made"] == 1
    [july] = payments(client, world)
    assert july["recurring_payment_id"] == schedule["id"]
    assert (july["status"], july["amount"], july["scheduled_for"]) == (
        "processing",
        "980.00",
        "2026-07-05",
    )
    # 2026-07-05 is a Sunday: the charge joins Monday's batch.
    assert (july["business_date"], july["deposit_date"]) == ("2026-07-06", "2026-07-07")
    after_july = schedule_of(client, world, payer, schedule["id"])
    assert (after_july["next_date"], after_july["last_payment_id"]) == ("2026-08-05", july["id"])
    [receipt] = mailbox(client, world, kind="payment_receipt")
    assert (receipt["to"], receipt["data"]["payment_id"]) == (EMAIL, july["id"])

    set_clock(client, world, et("2026-08-05", "12:00:00"))

    assert charged_on(client, world, schedule["id"]) == ["2026-07-05", "2026-08-05"]
    assert schedule_of(client, world, payer, schedule["id"])["next_date"] == "2026-09-05"
    assert len(mailbox(client, world, kind="payment_receipt")) == 2


def test_day_31_charges_the_last_day_of_shorter_months(client: TestClient) -> None:
    world = make_world(client, clock={"now": et("2027-01-10", "10:00:00")})
    payer = make_payer(client, world)
    schedule = add_schedule(client, payer, add_bank(client, payer)["id"], day_of_month=31)
    assert schedule["next_date"] == "2027-01-31"

    set_clock(client, world, et("2027-05-01", "12:00:00"))

    assert charged_on(client, world, schedule["id"]) == [
        "2027-01-31",
        "2027-02-28",
        "2027-03-31",
        "2027-04-30",
    ]
    assert schedule_of(client, world, payer, schedule["id"])["next_date"] == "2027-05-31"


def test_day_31_charges_february_29_in_a_leap_year(client: TestClient) -> None:
    world = make_world(client, clock={"now": et("2028-02-01", "10:00:00")})
    payer = make_payer(client, world)
    schedule = add_schedule(client, payer, add_bank(client, payer)["id"], day_of_month=31)
    assert schedule["next_date"] == "2028-02-29"

    set_clock(client, world, et("2028-03-01", "12:00:00"))

    assert charged_on(client, world, schedule["id"]) == ["2028-02-29"]
    assert schedule_of(client, world, payer, schedule["id"])["next_date"] == "2028-03-31"


def test_end_month_is_the_last_month_charged(client: TestClient) -> None:
    world = make_world(client, clock={"now": THURSDAY})
    payer = make_payer(client, world)
    schedule = add_schedule(
        client, payer, add_bank(client, payer)["id"], day_of_month=5, end_month="2026-08"
    )
    assert (schedule["end_month"], schedule["status"]) == ("2026-08", "active")

    set_clock(client, world, et("2026-08-05", "12:00:00"))
    ended = schedule_of(client, world, payer, schedule["id"])
    assert (ended["status"], ended["next_date"]) == ("ended", None)

    set_clock(client, world, et("2026-10-06", "12:00:00"))

    assert charged_on(client, world, schedule["id"]) == ["2026-07-05", "2026-08-05"]


def test_delete_stops_the_schedule_once(client: TestClient) -> None:
    world = make_world(client, clock={"now": THURSDAY})
    payer = make_payer(client, world)
    schedule = add_schedule(client, payer, add_bank(client, payer)["id"], day_of_month=5)
    set_clock(client, world, et("2026-07-05", "12:00:00"))
    assert charged_on(client, world, schedule["id"]) == ["2026-07-05"]
    relogin(client, world, payer)

    stopped = client.delete(f"/v1/resident/recurring-payments/{schedule['id']}", headers=payer.auth)
    again = client.delete(f"/v1/resident/recurring-payments/{schedule['id']}", headers=payer.auth)

    assert stopped.status_code == 200, stopped.text
    assert (stopped.json()["status"], stopped.json()["next_date"]) == ("cancelled", None)
    assert again.status_code == 409, again.text
    assert again.json()["code"] == "recurring_payment_not_active"
    set_clock(client, world, et("2026-09-06", "12:00:00"))
    assert charged_on(client, world, schedule["id"]) == ["2026-07-05"]
    [july] = payments(client, world)
    assert july["status"] == "completed"  # what it already made is not touched


def test_skipped_month_emails_the_resident_and_the_schedule_continues(
    client: TestClient,
) -> None:
    world = make_world(client, clock={"now": THURSDAY})
    payer = make_payer(client, world)
    schedule = add_schedule(client, payer, add_bank(client, payer)["id"], day_of_month=5)
    set_clock(client, world, et("2026-07-05", "12:00:00"))
    patch_lease(client, world, payer.lease_id, payments="blocked")

    august = set_clock(client, world, et("2026-08-05", "12:00:00"))

    [job] = run_due(august)
    assert (job["result"]["recurring_made"], job["result"]["skipped"]) == (0, 1)
    assert charged_on(client, world, schedule["id"]) == ["2026-07-05"]
    [skipped] = mailbox(client, world, kind="payment_skipped")
    assert (skipped["to"], skipped["data"]["code"]) == (EMAIL, "payments_blocked")
    kept = schedule_of(client, world, payer, schedule["id"])
    assert (kept["status"], kept["next_date"]) == ("active", "2026-09-05")

    patch_lease(client, world, payer.lease_id, payments="allowed")
    set_clock(client, world, et("2026-09-05", "12:00:00"))

    assert charged_on(client, world, schedule["id"]) == ["2026-07-05", "2026-09-05"]
    assert len(mailbox(client, world, kind="payment_skipped")) == 1


def test_recurring_charge_counts_against_the_daily_payment_limit(client: TestClient) -> None:
    world = make_world(client, clock={"now": THURSDAY})
    payer = make_payer(client, world)
    source = add_bank(client, payer)
    schedule = add_schedule(client, payer, source["id"], day_of_month=7)
    # Monday 2026-07-06 after the cut-off: business date Tuesday 2026-07-07, the schedule's day.
    set_clock(client, world, et("2026-07-06", "20:00:00"))
    relogin(client, world, payer)
    by_hand = pay(client, payer, source["id"], amount="100.00")
    assert by_hand["business_date"] == "2026-07-07"

    set_clock(client, world, et("2026-07-07", "12:00:00"))

    assert charged_on(client, world, schedule["id"]) == []
    [skipped] = mailbox(client, world, kind="payment_skipped")
    assert skipped["data"]["code"] == "daily_payment_limit_reached"
    assert schedule_of(client, world, payer, schedule["id"])["next_date"] == "2026-08-07"
