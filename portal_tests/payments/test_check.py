"""``portal check`` (architecture.md §11): a month of real payments passes; each invariant, broken
by hand in the database, fails the check with exit 1 and names what is wrong."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlmodel import Session
from typer.testing import CliRunner

from portal.cli import app as cli
from portal.payments import check
from portal_tests.factories import World, make_world
from portal_tests.payments.helpers import (
    add_account,
    add_bank,
    batch,
    make_payer,
    pay,
    set_clock,
)
from portal_tests.residents.helpers import make_unit


def run_cli(database_url: str, *args: str) -> Any:
    return CliRunner().invoke(cli, ["check", "--database-url", database_url, *args])


def rules(engine: Engine, workspace_id: str | None = None) -> list[str]:
    with Session(engine) as session:
        return [v.rule for v in check.run(session, workspace_id).violations]


def sql(engine: Engine, statement: str, **params: Any) -> None:
    with engine.begin() as conn:
        conn.execute(text(statement), params)


def test_a_month_of_payments_passes(client: TestClient, database_url: str) -> None:
    # Thursday 2026-07-02, 10:00 New York.
    world = make_world(client, settings={"payments_per_resident_per_day": 2})
    unit = make_unit(client, world)
    add_account(client, world, unit["property_id"], "rent", number="9876543210")
    add_account(client, world, unit["property_id"], "security_deposit", number="9876543211")
    anthony = make_payer(client, world, unit=unit)
    jerry = make_payer(client, world, unit=unit, email="jerry@example.com", name="Jerry")
    karyl = make_payer(client, world, unit=unit, email="karyl@example.com", name="Karyl")
    sources = {p.resident_id: add_bank(client, p)["id"] for p in (anthony, jerry, karyl)}
    pay(client, anthony, sources[anthony.resident_id], "1200.00")
    pay(client, anthony, sources[anthony.resident_id], "1000.00", type="security_deposit")
    pay(client, jerry, sources[jerry.resident_id], "500.00", date="2026-07-20")
    for payer, day in ((anthony, 1), (karyl, 15)):
        response = client.post(
            "/v1/resident/recurring-payments",
            json={
                "lease_id": payer.lease_id,
                "payment_source_id": sources[payer.resident_id],
                "amount": "980.00",
                "day_of_month": day,
            },
            headers=payer.auth,
        )
        assert response.status_code == 201, response.text
    set_clock(client, world, "2026-07-02T23:55:00Z")  # 19:55: after the cut-off
    karyl.token = client.post(
        "/v1/resident/login",
        json={"email": "karyl@example.com", "password": "s3cret-pass"},
    ).json()["access_token"]
    late = pay(client, karyl, sources[karyl.resident_id], "20.00")
    assert late["business_date"] == "2026-07-03"

    set_clock(client, world, "2026-08-06T14:00:00Z")

    payments = client.get("/v1/payments", params={"limit": 100}, headers=world.landlord).json()
    assert len(payments["data"]) == 6
    assert {p["status"] for p in payments["data"]} == {"completed"}
    result = run_cli(database_url)
    assert result.exit_code == 0, result.output
    assert "every invariant holds" in result.output
    assert "6 payment(s)" in result.output
    assert run_cli(database_url, "--workspace", world.workspace_id).exit_code == 0


@dataclass
class Ledger:
    world: World
    payment: dict[str, Any]
    """A processing payment, alone in its open batch."""
    scheduled: dict[str, Any]


@pytest.fixture
def ledger(client: TestClient, database_url: str) -> Ledger:
    world = make_world(client)
    unit = make_unit(client, world)
    add_account(client, world, unit["property_id"])
    payer = make_payer(client, world, unit=unit)
    source = add_bank(client, payer)["id"]
    payment = pay(client, payer, source, "980.00")
    other = make_payer(client, world, unit=unit, email="jerry@example.com", name="Jerry")
    scheduled = pay(client, other, add_bank(client, other)["id"], "500.00", date="2026-07-20")
    assert scheduled["status"] == "scheduled"
    assert run_cli(database_url).exit_code == 0
    return Ledger(world, payment, scheduled)


class TestBatchSums:
    def test_a_corrupted_total_fails_naming_the_batch(
        self, ledger: Ledger, database_url: str, engine: Engine
    ) -> None:
        batch_id = ledger.payment["deposit_batch_id"]
        sql(
            engine,
            "UPDATE deposit_batch SET total_cents = total_cents + 1 WHERE id = :b",
            b=batch_id,
        )

        result = run_cli(database_url)

        assert result.exit_code == 1
        assert f"deposit batch {batch_id}" in result.output
        assert "total $980.01 but its 1 item(s) sum to $980.00" in result.output
        assert rules(engine) == ["batch_total"]

    def test_a_wrong_item_count_fails(
        self, ledger: Ledger, database_url: str, engine: Engine
    ) -> None:
        batch_id = ledger.payment["deposit_batch_id"]
        sql(engine, "UPDATE deposit_batch SET item_count = 2 WHERE id = :b", b=batch_id)

        result = run_cli(database_url)

        assert result.exit_code == 1
        assert f"deposit batch {batch_id}: item_count 2 but it has 1 item(s)" in result.output
        assert rules(engine) == ["batch_item_count"]


class TestPaymentsInBatches:
    def test_a_processing_payment_in_no_batch_fails(
        self, ledger: Ledger, database_url: str, engine: Engine
    ) -> None:
        # Its batch is emptied consistently, so only the membership rule is broken.
        sql(
            engine,
            "UPDATE payment SET deposit_batch_id = NULL WHERE id = :p",
            p=ledger.payment["id"],
        )
        sql(
            engine,
            "UPDATE deposit_batch SET total_cents = 0, item_count = 0 WHERE id = :b",
            b=ledger.payment["deposit_batch_id"],
        )

        result = run_cli(database_url)

        assert result.exit_code == 1
        assert f"payment {ledger.payment['id']}" in result.output
        assert "points at no batch" in result.output
        assert rules(engine) == ["payment_not_in_batch"]

    def test_a_payment_pointing_at_a_missing_batch_fails(
        self, ledger: Ledger, engine: Engine
    ) -> None:
        sql(
            engine,
            "UPDATE payment SET deposit_batch_id = '9999999999999999' WHERE id = :p",
            p=ledger.payment["id"],
        )
        sql(
            engine,
            "UPDATE deposit_batch SET total_cents = 0, item_count = 0 WHERE id = :b",
            b=ledger.payment["deposit_batch_id"],
        )

        assert rules(engine) == ["payment_not_in_batch"]

    def test_a_scheduled_payment_in_a_batch_fails(self, ledger: Ledger, engine: Engine) -> None:
        # Both payers live on one unit, so the scheduled payment has the batch's deposit account;
        # dated like the batch, only its status keeps it out.
        batch_id = ledger.payment["deposit_batch_id"]
        sql(
            engine,
            "UPDATE payment SET deposit_batch_id = :b, business_date = '2026-07-02' WHERE id = :p",
            b=batch_id,
            p=ledger.scheduled["id"],
        )
        sql(
            engine,
            "UPDATE deposit_batch SET total_cents = 148000, item_count = 2 WHERE id = :b",
            b=batch_id,
        )

        assert rules(engine) == ["payment_in_batch"]

    def test_a_completed_payment_in_an_open_batch_fails(
        self, ledger: Ledger, engine: Engine
    ) -> None:
        sql(engine, "UPDATE payment SET status = 'completed' WHERE id = :p", p=ledger.payment["id"])

        assert rules(engine) == ["payment_batch_status"]

    def test_a_payment_of_another_day_than_its_batch_fails(
        self, ledger: Ledger, engine: Engine
    ) -> None:
        sql(
            engine,
            "UPDATE payment SET business_date = '2026-07-06' WHERE id = :p",
            p=ledger.payment["id"],
        )

        assert rules(engine) == ["payment_batch_mismatch"]


class TestBatchDatesAndIds:
    def test_a_deposit_date_that_is_not_the_next_banking_day_fails(
        self, ledger: Ledger, client: TestClient, engine: Engine
    ) -> None:
        batch_id = ledger.payment["deposit_batch_id"]
        # Thursday 2026-07-02's deposit date is Friday the 3rd (Independence Day falls on a
        # Saturday: the Fed stays open on the Friday); Monday the 6th is a banking day too late.
        assert batch(client, ledger.world, batch_id)["deposit_date"] == "2026-07-03"
        sql(
            engine, "UPDATE deposit_batch SET deposit_date = '2026-07-06' WHERE id = :b", b=batch_id
        )

        assert rules(engine) == ["batch_dates"]

    def test_a_batch_id_of_other_than_16_digits_fails(self, ledger: Ledger, engine: Engine) -> None:
        old = ledger.payment["deposit_batch_id"]
        sql(engine, "UPDATE deposit_batch SET id = '12345' WHERE id = :b", b=old)
        sql(
            engine,
            "UPDATE payment SET deposit_batch_id = '12345' WHERE deposit_batch_id = :b",
            b=old,
        )

        assert rules(engine) == ["batch_id_shape"]

    def test_a_transaction_id_of_other_than_12_digits_fails(
        self, ledger: Ledger, engine: Engine
    ) -> None:
        sql(
            engine,
            "UPDATE payment SET transaction_id = '12345' WHERE id = :p",
            p=ledger.payment["id"],
        )

        assert rules(engine) == ["transaction_id_shape"]


class TestScope:
    def test_one_workspace_is_checked_alone(
        self, ledger: Ledger, client: TestClient, database_url: str, engine: Engine
    ) -> None:
        clean = make_world(client, name="Clean")
        sql(
            engine,
            "UPDATE deposit_batch SET total_cents = total_cents + 1 WHERE id = :b",
            b=ledger.payment["deposit_batch_id"],
        )

        assert run_cli(database_url, "--workspace", clean.workspace_id).exit_code == 0
        assert run_cli(database_url, "--workspace", ledger.world.workspace_id).exit_code == 1
        assert run_cli(database_url).exit_code == 1

    def test_an_unknown_workspace_is_a_usage_error(self, database_url: str) -> None:
        result = run_cli(database_url, "--workspace", "ws_nope")

        assert result.exit_code == 2
        assert "workspace_not_found" in result.output
