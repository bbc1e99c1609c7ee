"""Business dates, cut-offs and deposit dates on the Fed banking calendar (issue 5, acceptance 1).

A payment joins the batch of its New York day when made before the cut-off (19:45 ET, a
workspace setting; 15:45 ET for PINless debit cards) on a banking day, else the next banking
day's; the batch deposits on the banking day after its business date. Every case goes through
HTTP with a workspace clock started at the instant under test.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from portal_tests.factories import World, make_world
from portal_tests.payments.helpers import (
    Payer,
    add_account,
    add_bank,
    add_card,
    batch,
    make_payer,
    pay,
    set_clock,
)
from portal_tests.residents.helpers import make_unit

NY = ZoneInfo("America/New_York")


def et(day: str, wall: str = "12:00:00") -> str:
    """The UTC instant (RFC 3339, Z) at which New York shows ``wall`` on ``day``."""
    local = datetime.fromisoformat(f"{day}T{wall}").replace(tzinfo=NY)
    return local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def relogin(client: TestClient, world: World, payer: Payer, email: str) -> None:
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


def payment_jobs(advanced: dict[str, Any]) -> list[dict[str, Any]]:
    return [j for j in advanced["jobs"] if j["name"].startswith("payments.")]


# --- one payment at an instant: its business date and deposit date ----------------------------

CASES = [
    # (New York day, wall time, business date, deposit date)
    pytest.param("2026-07-06", "14:00:00", "2026-07-06", "2026-07-07", id="monday-afternoon"),
    pytest.param("2026-07-06", "19:44:59", "2026-07-06", "2026-07-07", id="second-before-cutoff"),
    pytest.param("2026-07-06", "19:45:00", "2026-07-07", "2026-07-08", id="exactly-at-cutoff"),
    pytest.param("2026-07-06", "19:50:00", "2026-07-07", "2026-07-08", id="after-cutoff"),
    pytest.param("2026-07-06", "00:00:00", "2026-07-06", "2026-07-07", id="monday-midnight"),
    # Independence Day 2026 is a Saturday: the Fed does not move it, Friday is a banking day.
    pytest.param("2026-07-03", "12:00:00", "2026-07-03", "2026-07-06", id="fri-before-sat-holiday"),
    pytest.param("2026-07-03", "20:00:00", "2026-07-06", "2026-07-07", id="fri-evening-to-monday"),
    pytest.param("2026-07-04", "12:00:00", "2026-07-06", "2026-07-07", id="saturday-holiday"),
    pytest.param("2026-07-05", "12:00:00", "2026-07-06", "2026-07-07", id="sunday"),
    # Labor Day, Monday 2026-09-07.
    pytest.param("2026-09-04", "12:00:00", "2026-09-04", "2026-09-08", id="fri-before-labor-day"),
    pytest.param("2026-09-05", "12:00:00", "2026-09-08", "2026-09-09", id="sat-before-labor-day"),
    pytest.param("2026-09-07", "12:00:00", "2026-09-08", "2026-09-09", id="labor-day"),
    # Martin Luther King Jr. Day, Monday 2027-01-18 (EST: UTC-5).
    pytest.param("2027-01-15", "12:00:00", "2027-01-15", "2027-01-19", id="fri-before-mlk"),
    pytest.param("2027-01-18", "12:00:00", "2027-01-19", "2027-01-20", id="mlk-day"),
    # Thanksgiving, Thursday 2026-11-26 (the Friday after is a banking day).
    pytest.param("2026-11-25", "12:00:00", "2026-11-25", "2026-11-27", id="eve-of-thanksgiving"),
    pytest.param("2026-11-25", "19:50:00", "2026-11-27", "2026-11-30", id="eve-after-cutoff"),
    pytest.param("2026-11-26", "12:00:00", "2026-11-27", "2026-11-30", id="thanksgiving"),
    # Christmas 2026 is a Friday.
    pytest.param("2026-12-24", "12:00:00", "2026-12-24", "2026-12-28", id="christmas-eve"),
    # Independence Day 2027 is a Sunday: the Fed closes Monday 2027-07-05.
    pytest.param("2027-07-02", "12:00:00", "2027-07-02", "2027-07-06", id="fri-before-observed"),
    pytest.param("2027-07-05", "12:00:00", "2027-07-06", "2027-07-07", id="observed-monday"),
]


@pytest.mark.parametrize(("day", "wall", "business_date", "deposit_date"), CASES)
def test_business_and_deposit_dates_follow_the_banking_calendar(
    client: TestClient, day: str, wall: str, business_date: str, deposit_date: str
) -> None:
    world = make_world(client, clock={"now": et(day, wall)})
    payer = make_payer(client, world)
    source = add_bank(client, payer)

    payment = pay(client, payer, source["id"])

    assert (payment["business_date"], payment["deposit_date"]) == (business_date, deposit_date)
    assert payment["status"] == "processing"
    joined = batch(client, world, payment["deposit_batch_id"])
    assert (joined["business_date"], joined["deposit_date"]) == (business_date, deposit_date)
    listed = client.get(
        "/v1/deposit-batches", params={"date": deposit_date}, headers=world.landlord
    ).json()["data"]
    assert [b["id"] for b in listed] == [joined["id"]]


# --- the whole day: open, cut-off, next day's batch, settlement ---------------------------------


def test_monday_batch_closes_at_the_cutoff_and_deposits_tuesday_at_six(
    client: TestClient,
) -> None:
    world = make_world(client, clock={"now": et("2026-07-06", "14:00:00")})
    payer = make_payer(client, world)
    source = add_bank(client, payer)
    monday = pay(client, payer, source["id"])
    assert monday["business_date"] == "2026-07-06"

    before = set_clock(client, world, et("2026-07-06", "19:44:59"))
    assert payment_jobs(before) == []
    assert batch(client, world, monday["deposit_batch_id"])["status"] == "open"

    at_cutoff = set_clock(client, world, et("2026-07-06", "19:45:00"))
    [cutoff] = payment_jobs(at_cutoff)
    assert cutoff["name"] == "payments.cutoff"
    assert cutoff["due_at"].startswith("2026-07-06T23:45:00")
    assert cutoff["result"] == {"batches_closed": 1}
    assert batch(client, world, monday["deposit_batch_id"])["status"] == "closed"

    # After the cut-off the same resident pays again: a new business date, a new batch.
    set_clock(client, world, et("2026-07-06", "19:50:00"))
    relogin(client, world, payer, "anthony@example.com")
    evening = pay(client, payer, source["id"], amount="20.00")
    assert (evening["business_date"], evening["deposit_date"]) == ("2026-07-07", "2026-07-08")
    assert evening["deposit_batch_id"] != monday["deposit_batch_id"]
    tuesday_batch = batch(client, world, evening["deposit_batch_id"])
    assert (tuesday_batch["status"], tuesday_batch["total"]) == ("open", "20.00")

    early = set_clock(client, world, et("2026-07-07", "05:59:59"))
    assert payment_jobs(early) == []
    assert payment_of(client, world, monday["id"])["status"] == "processing"

    settled = set_clock(client, world, et("2026-07-07", "06:00:00"))
    [settlement] = payment_jobs(settled)
    assert settlement["name"] == "payments.settlement"
    assert settlement["due_at"].startswith("2026-07-07T10:00:00")
    assert settlement["result"] == {
        "batches_deposited": 1,
        "payments_completed": 1,
        "amount": "980.00",
    }
    deposited = batch(client, world, monday["deposit_batch_id"])
    assert deposited["status"] == "deposited"
    assert deposited["deposited_at"] is not None
    completed = payment_of(client, world, monday["id"])
    assert (completed["status"], completed["status_label"]) == ("completed", "Paid")
    assert completed["completed_at"] is not None
    # Tuesday's batch is untouched until Tuesday's own cut-off.
    assert batch(client, world, evening["deposit_batch_id"])["status"] == "open"
    assert payment_of(client, world, evening["id"])["status"] == "processing"


def test_friday_batch_waits_over_a_monday_holiday(client: TestClient) -> None:
    # Labor Day 2026-09-07: neither a cut-off nor a settlement runs on it.
    world = make_world(client, clock={"now": et("2026-09-04", "12:00:00")})
    payer = make_payer(client, world)
    payment = pay(client, payer, add_bank(client, payer)["id"])
    assert payment["deposit_date"] == "2026-09-08"

    over_weekend = set_clock(client, world, et("2026-09-07", "23:00:00"))
    assert [j["name"] for j in payment_jobs(over_weekend)] == ["payments.cutoff"]
    assert batch(client, world, payment["deposit_batch_id"])["status"] == "closed"

    tuesday = set_clock(client, world, et("2026-09-08", "06:00:00"))
    [settlement] = payment_jobs(tuesday)
    assert settlement["name"] == "payments.settlement"
    assert settlement["due_at"].startswith("2026-09-08T10:00:00")
    assert batch(client, world, payment["deposit_batch_id"])["status"] == "deposited"
    assert payment_of(client, world, payment["id"])["status"] == "completed"


# --- PINless debit and the workspace cut-off setting --------------------------------------------


def two_payers(client: TestClient, world: World) -> tuple[Payer, Payer]:
    unit = make_unit(client, world)
    add_account(client, world, unit["property_id"])
    first = make_payer(client, world, unit=unit, email="first@example.com")
    second = make_payer(client, world, unit=unit, email="second@example.com", name="Karyl")
    return first, second


@pytest.mark.parametrize(
    ("wall", "debit_date", "credit_date"),
    [
        pytest.param("15:44:59", "2026-07-06", "2026-07-06", id="before-debit-cutoff"),
        pytest.param("15:45:00", "2026-07-07", "2026-07-06", id="at-debit-cutoff"),
        pytest.param("15:50:00", "2026-07-07", "2026-07-06", id="after-debit-cutoff"),
    ],
)
def test_pinless_debit_card_has_the_1545_cutoff(
    client: TestClient, wall: str, debit_date: str, credit_date: str
) -> None:
    world = make_world(client, clock={"now": et("2026-07-06", wall)})
    debit_payer, credit_payer = two_payers(client, world)
    debit = add_card(client, debit_payer, funding="debit")
    credit = add_card(client, credit_payer, "5555555555554444")
    assert (debit["funding"], credit["funding"]) == ("debit", "credit")

    by_debit = pay(client, debit_payer, debit["id"])
    by_credit = pay(client, credit_payer, credit["id"])

    assert by_debit["business_date"] == debit_date
    assert by_credit["business_date"] == credit_date
    same_batch = debit_date == credit_date
    assert (by_debit["deposit_batch_id"] == by_credit["deposit_batch_id"]) is same_batch


def test_pinless_debit_after_its_cutoff_is_not_closed_by_that_evenings_cutoff(
    client: TestClient,
) -> None:
    world = make_world(client, clock={"now": et("2026-07-06", "15:50:00")})
    payer = make_payer(client, world)
    payment = pay(client, payer, add_card(client, payer, funding="debit")["id"])

    set_clock(client, world, et("2026-07-06", "19:46:00"))

    assert batch(client, world, payment["deposit_batch_id"])["status"] == "open"
    assert payment["deposit_date"] == "2026-07-08"


@pytest.mark.parametrize(
    ("wall", "business_date"),
    [
        pytest.param("19:50:00", "2026-07-06", id="before-setting"),
        pytest.param("19:54:59", "2026-07-06", id="second-before-setting"),
        pytest.param("19:55:00", "2026-07-07", id="at-setting"),
    ],
)
def test_workspace_cutoff_setting_moves_the_cutoff(
    client: TestClient, wall: str, business_date: str
) -> None:
    world = make_world(
        client, clock={"now": et("2026-07-06", wall)}, settings={"cutoff_time": "19:55"}
    )
    payer = make_payer(client, world)

    payment = pay(client, payer, add_bank(client, payer)["id"])

    assert payment["business_date"] == business_date


def test_cutoff_job_runs_at_the_workspace_cutoff(client: TestClient) -> None:
    world = make_world(
        client,
        clock={"now": et("2026-07-06", "19:50:00")},
        settings={"cutoff_time": "19:55"},
    )
    payer = make_payer(client, world)
    payment = pay(client, payer, add_bank(client, payer)["id"])
    assert payment["business_date"] == "2026-07-06"

    assert payment_jobs(set_clock(client, world, et("2026-07-06", "19:54:59"))) == []
    assert batch(client, world, payment["deposit_batch_id"])["status"] == "open"

    [cutoff] = payment_jobs(set_clock(client, world, et("2026-07-06", "19:56:00")))
    assert cutoff["name"] == "payments.cutoff"
    assert cutoff["due_at"].startswith("2026-07-06T23:55:00")
    assert batch(client, world, payment["deposit_batch_id"])["status"] == "closed"
