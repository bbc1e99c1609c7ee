"""Landlord alerts: late rent (``payments.late_alerts``, 09:00 ET daily, after the due day plus
``late_payment_grace_days``) and insufficient rent (a rent payment below the rent), each at most
once per lease per month (issue 5; domain.md §4.5)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from portal.payments.jobs import late_today
from portal_tests.factories import World, make_world
from portal_tests.payments.helpers import (
    Payer,
    add_account,
    add_bank,
    make_payer,
    pay,
    set_clock,
)
from portal_tests.residents.helpers import invite, mailbox, make_unit

NY = ZoneInfo("America/New_York")
THURSDAY = "2026-07-02T14:00:00Z"  # Thursday 2026-07-02, 10:00 New York


def et(day: str, wall: str = "12:00:00") -> str:
    local = datetime.fromisoformat(f"{day}T{wall}").replace(tzinfo=NY)
    return local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def relogin(client: TestClient, world: World, payer: Payer, email: str) -> None:
    response = client.post(
        "/v1/resident/login",
        json={"email": email, "password": "s3cret-pass", "workspace_id": world.workspace_id},
    )
    assert response.status_code == 200, response.text
    payer.token = response.json()["access_token"]


def late(client: TestClient, world: World) -> list[tuple[str, str, str]]:
    """``(to, lease_id, month)`` of every late-payment alert, oldest first."""
    return [
        (m["to"], m["data"]["lease_id"], m["data"]["month"])
        for m in mailbox(client, world, kind="late_payment")
    ]


def insufficient(client: TestClient, world: World) -> list[tuple[str, str, str]]:
    return [
        (m["to"], m["data"]["lease_id"], m["data"]["payment_id"])
        for m in mailbox(client, world, kind="insufficient_payment")
    ]


def late_jobs(advanced: dict[str, Any]) -> list[dict[str, Any]]:
    return [j for j in advanced["jobs"] if j["name"] == "payments.late_alerts"]


def payers_on_one_unit(client: TestClient, world: World, *emails: str, **lease: Any) -> list[Payer]:
    unit = make_unit(client, world)
    add_account(client, world, unit["property_id"])
    return [
        make_payer(client, world, unit=unit, email=e, name=e.split("@")[0], **lease) for e in emails
    ]


# --- late payment -------------------------------------------------------------------------------


def test_late_alert_once_per_month_for_the_lease_that_did_not_pay(client: TestClient) -> None:
    world = make_world(client, clock={"now": THURSDAY})
    paying, owing = payers_on_one_unit(client, world, "paying@example.com", "owing@example.com")
    # Both leases start 2026-08-01, rent due on the 1st; the default grace is 5 days.
    set_clock(client, world, et("2026-08-03"))
    relogin(client, world, paying, "paying@example.com")
    pay(client, paying, add_bank(client, paying)["id"])

    quiet = set_clock(client, world, et("2026-08-06", "08:59:59"))
    assert late_jobs(quiet) == []
    assert late(client, world) == []

    alerted = set_clock(client, world, et("2026-08-06", "09:00:00"))
    [job] = late_jobs(alerted)
    assert job["due_at"].startswith("2026-08-06T13:00:00")
    assert job["result"] == {"late_leases": 1, "emails": 1}
    assert late(client, world) == [(world.email, owing.lease_id, "2026-08")]

    rest_of_month = set_clock(client, world, et("2026-08-31", "23:00:00"))
    assert late_jobs(rest_of_month) == []
    assert late(client, world) == [(world.email, owing.lease_id, "2026-08")]

    # September: neither lease has paid; each is alerted once.
    set_clock(client, world, et("2026-09-30", "23:00:00"))
    assert sorted(late(client, world)[1:]) == sorted(
        [(world.email, owing.lease_id, "2026-09"), (world.email, paying.lease_id, "2026-09")]
    )


def test_grace_days_setting_moves_the_late_alert(client: TestClient) -> None:
    world = make_world(client, clock={"now": THURSDAY}, settings={"late_payment_grace_days": 2})
    [payer] = payers_on_one_unit(client, world, "owing@example.com")

    set_clock(client, world, et("2026-08-03", "08:59:00"))
    assert late(client, world) == []

    set_clock(client, world, et("2026-08-03", "09:00:00"))
    assert late(client, world) == [(world.email, payer.lease_id, "2026-08")]


def test_late_alert_follows_the_lease_due_day(client: TestClient) -> None:
    world = make_world(client, clock={"now": THURSDAY})
    [payer] = payers_on_one_unit(client, world, "owing@example.com", due_day=10)

    set_clock(client, world, et("2026-08-15", "08:59:00"))
    assert late(client, world) == []

    set_clock(client, world, et("2026-08-15", "09:00:00"))
    assert late(client, world) == [(world.email, payer.lease_id, "2026-08")]


def test_no_late_alert_for_a_lease_nobody_can_pay(client: TestClient) -> None:
    world = make_world(client, clock={"now": THURSDAY})
    unit = make_unit(client, world)
    add_account(client, world, unit["property_id"])
    invite(client, world, unit["id"], email="never@example.com")  # invitation not accepted

    advanced = set_clock(client, world, et("2026-08-31"))

    assert late_jobs(advanced) == []
    assert late(client, world) == []


def test_late_alert_when_due_day_plus_grace_falls_in_the_next_month(client: TestClient) -> None:
    # Rent due on the 28th with 5 grace days is late from the 2nd of the following month.
    world = make_world(client, clock={"now": THURSDAY})
    [payer] = payers_on_one_unit(client, world, "owing@example.com", due_day=28)

    set_clock(client, world, et("2026-09-02", "10:00:00"))

    assert (world.email, payer.lease_id, "2026-08") in late(client, world)


def test_payment_scheduled_after_the_late_date_does_not_prevent_the_alert(
    client: TestClient,
) -> None:
    world = make_world(client, clock={"now": THURSDAY})
    [payer] = payers_on_one_unit(client, world, "owing@example.com")
    scheduled = pay(client, payer, add_bank(client, payer)["id"], date="2026-08-20")
    assert scheduled["status"] == "scheduled"

    set_clock(client, world, et("2026-08-06", "10:00:00"))

    assert late(client, world) == [(world.email, payer.lease_id, "2026-08")]


def test_no_late_alert_on_the_day_a_lease_starts(client: TestClient) -> None:
    # The first payment of a lease starting 2026-08-15 is expected that day: the resident
    # cannot already be late on it.
    world = make_world(client, clock={"now": THURSDAY})
    payers_on_one_unit(client, world, "owing@example.com", start_date="2026-08-15")

    set_clock(client, world, et("2026-08-15", "10:00:00"))

    assert late(client, world) == []


# --- insufficient payment -----------------------------------------------------------------------


def test_rent_payment_below_rent_alerts_landlord_once_per_lease_per_month(
    client: TestClient,
) -> None:
    world = make_world(
        client, clock={"now": THURSDAY}, settings={"payments_per_resident_per_day": 3}
    )
    short, full = payers_on_one_unit(client, world, "short@example.com", "full@example.com")
    source = add_bank(client, short)

    first = pay(client, short, source["id"], amount="500.00")
    pay(client, full, add_bank(client, full)["id"], amount="980.00")

    assert insufficient(client, world) == [(world.email, short.lease_id, first["id"])]
    [mail] = mailbox(client, world, kind="insufficient_payment")
    assert "$500.00" in mail["body"]
    assert "$980.00" in mail["body"]

    pay(client, short, source["id"], amount="100.00")  # same month: no second alert
    assert len(insufficient(client, world)) == 1

    set_clock(client, world, et("2026-08-03"))
    relogin(client, world, short, "short@example.com")
    august = pay(client, short, source["id"], amount="979.99")
    assert insufficient(client, world)[1:] == [(world.email, short.lease_id, august["id"])]


def test_non_rent_payment_below_rent_is_not_insufficient(client: TestClient) -> None:
    world = make_world(client, clock={"now": THURSDAY})
    payer = make_payer(client, world, accounts=("rent", "security_deposit"))

    pay(client, payer, add_bank(client, payer)["id"], amount="500.00", type="security_deposit")

    assert insufficient(client, world) == []


@pytest.mark.smoke
def test_recurring_charge_below_rent_alerts_the_landlord(client: TestClient) -> None:
    world = make_world(client, clock={"now": THURSDAY})
    [payer] = payers_on_one_unit(client, world, "short@example.com")
    response = client.post(
        "/v1/resident/recurring-payments",
        json={
            "lease_id": payer.lease_id,
            "payment_source_id": add_bank(client, payer)["id"],
            "amount": "400.00",
            "type": "rent",
            "day_of_month": 5,
        },
        headers=payer.auth,
    )
    assert response.status_code == 201, response.text
    assert insufficient(client, world) == []

    set_clock(client, world, et("2026-07-05"))

    [(to, lease_id, _payment_id)] = insufficient(client, world)
    assert (to, lease_id) == (world.email, payer.lease_id)


def test_payment_made_before_the_month_does_not_count_for_it(client: TestClient) -> None:
    # The portal cannot tell which month a payment is for; it goes by the business date. A
    # payment of 2026-07-30 is July's, so August's rent is still late on 2026-08-06.
    world = make_world(client, clock={"now": THURSDAY})
    [payer] = payers_on_one_unit(client, world, "early@example.com", start_date="2026-07-01")
    set_clock(client, world, et("2026-07-30"))
    relogin(client, world, payer, "early@example.com")
    pay(client, payer, add_bank(client, payer)["id"])

    set_clock(client, world, et("2026-08-06", "10:00:00"))

    # July's rent was late on 07-06 (nothing paid by then); the 07-30 payment is July's too.
    assert late(client, world) == [
        (world.email, payer.lease_id, "2026-07"),
        (world.email, payer.lease_id, "2026-08"),
    ]


def test_resident_approved_after_the_late_day_is_not_alerted_that_month(
    client: TestClient,
) -> None:
    # The alert is raised on the late day itself; an invitation accepted after it owes nothing
    # late until the next month's late day.
    world = make_world(client, clock={"now": THURSDAY})
    unit = make_unit(client, world)
    add_account(client, world, unit["property_id"])
    set_clock(client, world, et("2026-08-10"))
    payer = make_payer(client, world, unit=unit, email="late-comer@example.com")

    set_clock(client, world, et("2026-08-31"))
    assert late(client, world) == []
    set_clock(client, world, et("2026-09-06", "10:00:00"))
    assert late(client, world) == [(world.email, payer.lease_id, "2026-09")]


@pytest.mark.parametrize(
    ("today", "grace", "expected"),
    [
        (date(2026, 8, 6), 5, {date(2026, 8, 1): [1]}),
        (date(2026, 9, 2), 5, {date(2026, 8, 1): [28]}),
        # February's last day stands for due days 28-31.
        (date(2027, 3, 5), 5, {date(2027, 2, 1): [28, 29, 30, 31]}),
        # The longest grace: September's 30th (and 31st) are late on October 27th.
        (date(2026, 10, 27), 27, {date(2026, 9, 1): [30, 31]}),
        (date(2026, 10, 28), 27, {date(2026, 10, 1): [1]}),
        (date(2026, 8, 1), 0, {date(2026, 8, 1): [1]}),
    ],
)
def test_late_today_names_the_months_and_due_days_late_that_day(
    today: date, grace: int, expected: dict[date, list[int]]
) -> None:
    assert {m: sorted(d) for m, d in late_today(today, grace).items()} == {
        m: sorted(d) for m, d in expected.items()
    }
