"""Deposit batches: one per deposit account, kind and business date; open -> closed at the
cut-off -> deposited at 06:00 ET on the next banking day, when payments complete and integrated
leases' balances drop (issue 5, acceptance 2; domain.md §5)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

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
MONDAY_2PM = "2026-07-06T18:00:00Z"  # Monday 2026-07-06, 14:00 New York


def et(day: str, wall: str = "12:00:00") -> str:
    local = datetime.fromisoformat(f"{day}T{wall}").replace(tzinfo=NY)
    return local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def payment_jobs(advanced: dict[str, Any]) -> list[dict[str, Any]]:
    return [j for j in advanced["jobs"] if j["name"].startswith("payments.")]


def batches(client: TestClient, world: World, **query: str) -> list[dict[str, Any]]:
    response = client.get("/v1/deposit-batches", params=query, headers=world.landlord)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def cents(amount: str) -> int:
    whole, _, frac = amount.partition(".")
    return int(whole) * 100 + int(frac or 0)


def assert_consistent(client: TestClient, world: World, batch_id: str) -> dict[str, Any]:
    """The batch's total and item count are the sums of its items; its ID is 16 digits."""
    b = batch(client, world, batch_id)
    assert len(b["id"]) == 16
    assert b["id"].isdigit()
    assert b["item_count"] == len(b["items"])
    assert cents(b["total"]) == sum(cents(i["amount"]) for i in b["items"])
    return b


def lease_balance(client: TestClient, world: World, lease_id: str) -> str:
    response = client.get(f"/v1/leases/{lease_id}", headers=world.landlord)
    assert response.status_code == 200, response.text
    balance: str = response.json()["balance"]
    return balance


def patch_lease(client: TestClient, world: World, lease_id: str, **body: Any) -> None:
    response = client.patch(f"/v1/leases/{lease_id}", json=body, headers=world.landlord)
    assert response.status_code == 200, response.text


# --- grouping -----------------------------------------------------------------------------------


def test_rent_and_security_deposit_same_day_go_to_different_batches(client: TestClient) -> None:
    world = make_world(
        client, clock={"now": MONDAY_2PM}, settings={"payments_per_resident_per_day": 2}
    )
    payer = make_payer(client, world, accounts=("rent", "security_deposit"))
    source = add_bank(client, payer)

    rent = pay(client, payer, source["id"], amount="980.00", type="rent")
    deposit = pay(client, payer, source["id"], amount="500.00", type="security_deposit")

    assert rent["business_date"] == deposit["business_date"] == "2026-07-06"
    assert rent["deposit_batch_id"] != deposit["deposit_batch_id"]
    rent_batch = assert_consistent(client, world, rent["deposit_batch_id"])
    deposit_batch = assert_consistent(client, world, deposit["deposit_batch_id"])
    assert (rent_batch["deposit_type"], rent_batch["total"], rent_batch["item_count"]) == (
        "rent",
        "980.00",
        1,
    )
    assert (
        deposit_batch["deposit_type"],
        deposit_batch["total"],
        deposit_batch["item_count"],
    ) == ("security_deposit", "500.00", 1)
    assert rent_batch["deposit_account_id"] != deposit_batch["deposit_account_id"]
    assert [i["payment_id"] for i in rent_batch["items"]] == [rent["id"]]
    assert [i["payment_id"] for i in deposit_batch["items"]] == [deposit["id"]]
    listed = batches(client, world, business_date="2026-07-06")
    assert sorted(b["id"] for b in listed) == sorted([rent_batch["id"], deposit_batch["id"]])


def test_two_properties_sharing_one_rent_account_make_one_batch(client: TestClient) -> None:
    world = make_world(client, clock={"now": MONDAY_2PM})
    oak = make_unit(client, world, prop_external="OAK", unit_external="1")
    elm = make_unit(client, world, prop_external="ELM", unit_external="2")
    response = client.post(
        "/v1/deposit-accounts",
        json={
            "type": "rent",
            "account_number": "9876543210",
            "routing_number": "110000000",
            "property_ids": [oak["property_id"], elm["property_id"]],
        },
        headers=world.landlord,
    )
    assert response.status_code == 201, response.text
    anthony = make_payer(client, world, unit=oak, email="anthony@example.com")
    jerry = make_payer(client, world, unit=elm, email="jerry@example.com", name="Jerry Rodriguez")

    first = pay(client, anthony, add_bank(client, anthony)["id"], amount="1200.00")
    second = pay(client, jerry, add_card(client, jerry)["id"], amount="500.00")

    assert first["property_id"] != second["property_id"]
    assert first["deposit_batch_id"] == second["deposit_batch_id"]
    shared = assert_consistent(client, world, first["deposit_batch_id"])
    assert (shared["total"], shared["item_count"]) == ("1700.00", 2)
    assert {i["resident_name"] for i in shared["items"]} == {"Anthony Kmetz", "Jerry Rodriguez"}
    assert len(batches(client, world, business_date="2026-07-06")) == 1


def test_properties_with_their_own_rent_accounts_make_separate_batches(
    client: TestClient,
) -> None:
    world = make_world(client, clock={"now": MONDAY_2PM})
    oak = make_unit(client, world, prop_external="OAK", unit_external="1")
    elm = make_unit(client, world, prop_external="ELM", unit_external="2")
    add_account(client, world, oak["property_id"], number="1111111111")
    add_account(client, world, elm["property_id"], number="2222222222")
    anthony = make_payer(client, world, unit=oak, email="anthony@example.com")
    jerry = make_payer(client, world, unit=elm, email="jerry@example.com", name="Jerry Rodriguez")

    first = pay(client, anthony, add_bank(client, anthony)["id"], amount="1200.00")
    second = pay(client, jerry, add_bank(client, jerry)["id"], amount="500.00")

    assert first["deposit_batch_id"] != second["deposit_batch_id"]
    listed = batches(client, world, business_date="2026-07-06")
    assert sorted((b["account_last4"], b["total"]) for b in listed) == [
        ("1111", "1200.00"),
        ("2222", "500.00"),
    ]


# --- the state machine --------------------------------------------------------------------------


def test_batch_is_open_then_closed_then_deposited_with_consistent_totals(
    client: TestClient,
) -> None:
    world = make_world(client, clock={"now": MONDAY_2PM})
    unit = make_unit(client, world)
    add_account(client, world, unit["property_id"])
    payers: list[Payer] = [
        make_payer(client, world, unit=unit, email=f"r{n}@example.com", name=f"Resident {n}")
        for n in range(3)
    ]
    made = [
        pay(client, p, add_bank(client, p)["id"], amount=amount)
        for p, amount in zip(payers, ("1200.00", "1000.00", "500.00"), strict=True)
    ]
    batch_id = made[0]["deposit_batch_id"]
    assert {m["deposit_batch_id"] for m in made} == {batch_id}

    opened = assert_consistent(client, world, batch_id)
    assert (opened["status"], opened["total"], opened["item_count"]) == ("open", "2700.00", 3)
    assert opened["closed_at"] is None
    assert batches(client, world, status="open") == [{**opened, "items": None}]

    at_cutoff = set_clock(client, world, et("2026-07-06", "19:45:00"))
    assert [(j["name"], j["result"]) for j in payment_jobs(at_cutoff)] == [
        ("payments.cutoff", {"batches_closed": 1})
    ]
    closed = assert_consistent(client, world, batch_id)
    assert (closed["status"], closed["total"], closed["item_count"]) == ("closed", "2700.00", 3)
    assert closed["closed_at"] is not None
    assert closed["deposited_at"] is None
    assert {i["status"] for i in closed["items"]} == {"processing"}

    settled = set_clock(client, world, et("2026-07-07", "06:00:00"))
    assert [(j["name"], j["result"]) for j in payment_jobs(settled)] == [
        (
            "payments.settlement",
            {"batches_deposited": 1, "payments_completed": 3, "amount": "2700.00"},
        )
    ]
    deposited = assert_consistent(client, world, batch_id)
    assert (deposited["status"], deposited["total"], deposited["item_count"]) == (
        "deposited",
        "2700.00",
        3,
    )
    assert {i["status"] for i in deposited["items"]} == {"completed"}
    assert {i["status_label"] for i in deposited["items"]} == {"Paid"}
    assert [b["id"] for b in batches(client, world, date="2026-07-07", status="deposited")] == [
        batch_id
    ]
    assert batches(client, world, status="open") == []


def test_jobs_are_listed_only_when_they_did_something(client: TestClient) -> None:
    world = make_world(client, clock={"now": et("2026-07-06", "10:00:00")})
    payer = make_payer(client, world)
    source = add_bank(client, payer)

    idle = set_clock(client, world, et("2026-07-08", "12:00:00"))
    assert payment_jobs(idle) == []

    # Wednesday: one payment; Wednesday's cut-off and Thursday's settlement have work, the
    # Thursday cut-off and Friday settlement do not.
    relogin = client.post(
        "/v1/resident/login",
        json={
            "email": "anthony@example.com",
            "password": "s3cret-pass",
            "workspace_id": world.workspace_id,
        },
    )
    payer.token = relogin.json()["access_token"]
    pay(client, payer, source["id"])
    busy = set_clock(client, world, et("2026-07-10", "12:00:00"))

    assert [(j["name"], j["due_at"][:19]) for j in payment_jobs(busy)] == [
        ("payments.cutoff", "2026-07-08T23:45:00"),
        ("payments.settlement", "2026-07-09T10:00:00"),
    ]


# --- settlement and lease balances --------------------------------------------------------------


def test_settlement_lowers_integrated_balances_only(client: TestClient) -> None:
    world = make_world(
        client, clock={"now": MONDAY_2PM}, settings={"payments_per_resident_per_day": 2}
    )
    unit = make_unit(client, world)
    add_account(client, world, unit["property_id"])
    integrated = make_payer(
        client, world, unit=unit, email="a@example.com", external_resident_id="t0000101"
    )
    other_integrated = make_payer(
        client, world, unit=unit, email="b@example.com", external_resident_id="t0000102"
    )
    portal_only = make_payer(client, world, unit=unit, email="c@example.com")
    for p in (integrated, other_integrated, portal_only):
        patch_lease(client, world, p.lease_id, balance="980.00")

    source = add_bank(client, integrated)
    pay(client, integrated, source["id"], amount="500.00")
    pay(client, integrated, source["id"], amount="300.00")
    pay(client, other_integrated, add_bank(client, other_integrated)["id"], amount="980.00")
    pay(client, portal_only, add_bank(client, portal_only)["id"], amount="980.00")

    # Processing payments do not move balances.
    set_clock(client, world, et("2026-07-07", "05:59:00"))
    assert lease_balance(client, world, integrated.lease_id) == "980.00"
    assert lease_balance(client, world, other_integrated.lease_id) == "980.00"

    set_clock(client, world, et("2026-07-07", "06:00:00"))

    assert lease_balance(client, world, integrated.lease_id) == "180.00"
    assert lease_balance(client, world, other_integrated.lease_id) == "0.00"
    assert lease_balance(client, world, portal_only.lease_id) == "980.00"
