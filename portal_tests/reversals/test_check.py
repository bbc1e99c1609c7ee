"""The ledger invariants with reversals (issue 6, acceptance 5; architecture.md §11): a world
mixing every reversal kind passes ``portal check``; a hand-corrupted balance, reversal batch or
token fails it, naming what is wrong."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from portal.cli import app as cli
from portal_tests.factories import World, make_integration, make_token
from portal_tests.payments.helpers import Payer, add_bank, add_card, pay
from portal_tests.reversals.helpers import (
    MONDAY,
    check,
    et,
    integrated_payer,
    move,
    operator_chargeback,
    operator_return,
)


def sql(engine: Engine, statement: str, **params: Any) -> None:
    with engine.begin() as conn:
        conn.execute(text(statement), params)


@pytest.fixture
def mixed(client: TestClient) -> tuple[World, Payer, dict[str, dict[str, Any]]]:
    """Every reversal kind in one world, on an integrated lease, with balances sent again by
    the landlord in between (a new basis)."""
    world, payer = integrated_payer(client, settings={"payments_per_resident_per_day": 9})
    move(client, world, payer, et(MONDAY, "14:00:00"))
    bank, card = add_bank(client, payer)["id"], add_card(client, payer)["id"]
    made = {
        name: pay(client, payer, source, amount=amount)
        for name, source, amount in (
            ("voided", bank, "10.00"),
            ("early_return", bank, "20.00"),
            ("refunded", bank, "30.00"),
            ("late_return", bank, "40.00"),
            ("won", card, "50.00"),
            ("lost", card, "60.00"),
            ("early_chargeback", card, "70.00"),
            ("kept", bank, "80.00"),
        )
    }
    client.post(f"/v1/payments/{made['voided']['id']}/void", headers=world.landlord)
    operator_return(client, world, made["early_return"]["id"], "R01")
    operator_chargeback(client, world, made["early_chargeback"]["id"], "4837")
    move(client, world, None, et("2026-07-07", "10:00:00"))
    # The landlord sets the balance by hand: the new basis the ledger replays from.
    client.patch(f"/v1/leases/{payer.lease_id}", json={"balance": "700.00"}, headers=world.landlord)
    client.post(f"/v1/payments/{made['refunded']['id']}/refund", headers=world.landlord)
    operator_return(client, world, made["late_return"]["id"], "R03")
    for name in ("won", "lost"):
        dispute_id = operator_chargeback(client, world, made[name]["id"]).json()["dispute"]["id"]
        verb = "challenge" if name == "won" else "accept"
        client.post(f"/v1/disputes/{dispute_id}/{verb}", headers=world.landlord)
    move(client, world, None, et("2026-07-20"))
    return world, payer, made


def test_a_world_with_every_reversal_kind_passes(
    client: TestClient,
    engine: Engine,
    database_url: str,
    mixed: tuple[World, Payer, dict[str, dict[str, Any]]],
) -> None:
    world, payer, _made = mixed

    assert check(engine, world) == []
    result = CliRunner().invoke(cli, ["check", "--database-url", database_url])
    assert result.exit_code == 0, result.output
    # 700.00 set by hand, then +30 refunded, +40 returned, +50 and +60 charged back after
    # the deposit, -50 for the won dispute.
    lease = client.get(f"/v1/leases/{payer.lease_id}", headers=world.landlord).json()
    assert lease["balance"] == "830.00"


def test_a_corrupted_balance_is_named(
    client: TestClient, engine: Engine, mixed: tuple[World, Payer, dict[str, dict[str, Any]]]
) -> None:
    world, payer, _made = mixed
    sql(
        engine, "UPDATE lease SET balance_cents = balance_cents - 1 WHERE id = :l", l=payer.lease_id
    )

    [violation] = check(engine, world)

    assert violation["rule"] == "balance"
    assert violation["subject"] == f"lease {payer.lease_id}"
    assert "balance $829.99" in violation["detail"]
    assert "is $830.00" in violation["detail"]


def test_a_reversal_moved_to_another_batch_is_named(
    client: TestClient, engine: Engine, mixed: tuple[World, Payer, dict[str, dict[str, Any]]]
) -> None:
    world, _payer, made = mixed
    with engine.begin() as conn:
        rid = conn.execute(
            text("SELECT id FROM reversal WHERE payment_id = :p"),
            {"p": made["refunded"]["id"]},
        ).scalar_one()
        conn.execute(
            text("UPDATE reversal SET deposit_batch_id = :b WHERE id = :r"),
            {"b": made["kept"]["deposit_batch_id"], "r": rid},
        )

    found = {(v["rule"], v["subject"]) for v in check(engine, world)}

    assert ("reversal_batch", f"refund reversal {rid}") in found
    assert {rule for rule, _ in found} == {"reversal_batch", "batch_total", "batch_item_count"}


def test_a_second_active_token_is_named(
    client: TestClient, engine: Engine, mixed: tuple[World, Payer, dict[str, dict[str, Any]]]
) -> None:
    world, _payer, _made = mixed
    integration = make_integration(client, world)
    make_token(client, world, integration["id"])
    make_token(client, world, integration["id"])
    assert check(engine, world) == []
    sql(engine, "UPDATE integration_token SET active = :t", t=True)

    [violation] = check(engine, world)

    assert (violation["rule"], violation["subject"]) == (
        "one_active_token",
        f"integration {integration['id']}",
    )


@pytest.mark.smoke
def test_balances_sent_by_the_accounting_system_are_the_basis(
    client: TestClient, engine: Engine
) -> None:
    # Landlord 12 sends 980.00 owed; the resident pays; settlement lowers the balance to 0.00;
    # the client, which has not posted the receipt yet, sends 980.00 again: the portal takes
    # it (a new basis); a return after that raises it to 1,960.00. The ledger replays it all.
    from portal_tests.balances.test_router import connect, line, sent
    from portal_tests.residents.helpers import mailbox

    c12 = connect(client)
    world = c12.world
    move(client, world, None, et(MONDAY, "10:00:00"))
    c12.token = make_token(client, world, c12.integration["id"])["token"]
    row = line("t0042", email="owner@example.com", rent="980.00", balance="980.00")
    sent(client, c12, [row])
    [mail] = mailbox(client, world, kind="invitation")
    accepted = client.post(
        f"/v1/resident/invites/{mail['data']['invite_code']}/accept",
        json={"password": "s3cret-pass"},
    ).json()
    payer = Payer(
        resident_id=mail["data"]["resident_id"],
        lease_id=mail["data"]["lease_id"],
        token=accepted["access_token"],
        unit_id="",
        property_id="",
    )
    move(client, world, None, et(MONDAY, "14:00:00"))
    payer.token = client.post(
        "/v1/resident/login",
        json={"email": "owner@example.com", "password": "s3cret-pass"},
    ).json()["access_token"]
    made = pay(client, payer, add_bank(client, payer)["id"])
    move(client, world, None, et("2026-07-07", "10:00:00"))
    lease = client.get(f"/v1/leases/{payer.lease_id}", headers=world.landlord).json()
    assert lease["balance"] == "0.00"
    assert check(engine, world) == []

    sent(client, c12, [row])
    operator_return(client, world, made["id"], "R01")

    lease = client.get(f"/v1/leases/{payer.lease_id}", headers=world.landlord).json()
    assert lease["balance"] == "1960.00"
    assert check(engine, world) == []


# --- issue 14: what concurrent reversals used to leave behind -----------------------------------


def _double_refund(engine: Engine, payment_id: str) -> str:
    """What two refunds racing each other left before issue 14: a second refund row beside the
    first (its own IDs, the same batch), the reversal batch's total and count, the balance and
    a ledger number all moved for it. Every rule of issue 6 still held; returns the copy's ID."""
    with engine.begin() as conn:
        first = (
            conn.execute(
                text("SELECT * FROM reversal WHERE payment_id = :p AND kind = 'refund'"),
                {"p": payment_id},
            )
            .one()
            ._asdict()
        )
        seq = conn.execute(
            text("SELECT max(ledger_seq) FROM reversal WHERE workspace_id = :w"),
            {"w": first["workspace_id"]},
        ).scalar_one()
        copy = {
            **first,
            "id": "rev_double",
            "transaction_id": "999999999999",
            "ledger_seq": seq + 1000,
        }
        columns = ", ".join(copy)
        conn.execute(
            text(f"INSERT INTO reversal ({columns}) VALUES ({', '.join(':' + c for c in copy)})"),
            copy,
        )
        conn.execute(
            text(
                "UPDATE deposit_batch SET total_cents = total_cents + :c, "
                "item_count = item_count + 1 WHERE workspace_id = :w AND id = :b"
            ),
            {
                "c": first["amount_cents"],
                "w": first["workspace_id"],
                "b": first["deposit_batch_id"],
            },
        )
        conn.execute(
            text(
                "UPDATE lease SET balance_cents = balance_cents + :d "
                "WHERE workspace_id = :w AND id = :l"
            ),
            {"d": first["balance_delta_cents"], "w": first["workspace_id"], "l": first["lease_id"]},
        )
    return "rev_double"


def test_a_payment_refunded_twice_is_named(
    client: TestClient,
    engine: Engine,
    database_url: str,
    mixed: tuple[World, Payer, dict[str, dict[str, Any]]],
) -> None:
    world, _payer, made = mixed
    refunded = made["refunded"]["id"]
    _double_refund(engine, refunded)

    found = {(v["rule"], v["subject"]): v["detail"] for v in check(engine, world)}

    assert set(found) == {
        ("reversed_more_than_once", f"payment {refunded}"),
        ("reversed_above_amount", f"payment {refunded}"),
    }
    assert "2 refunds" in found[("reversed_more_than_once", f"payment {refunded}")]
    assert (
        "$60.00, more than the payment's $30.00"
        in found[("reversed_above_amount", f"payment {refunded}")]
    )
    result = CliRunner().invoke(cli, ["check", "--database-url", database_url])
    assert result.exit_code == 1
    assert "reversed_more_than_once" in result.output


def test_a_refund_racing_a_return_is_named(
    client: TestClient, engine: Engine, mixed: tuple[World, Payer, dict[str, dict[str, Any]]]
) -> None:
    world, _payer, made = mixed
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE reversal SET kind = 'return' WHERE payment_id = :p"),
            {"p": made["late_return"]["id"]},
        )
        conn.execute(
            text("UPDATE reversal SET payment_id = :p WHERE payment_id = :q"),
            {"p": made["refunded"]["id"], "q": made["late_return"]["id"]},
        )
        conn.execute(
            text("UPDATE payment SET status = 'completed' WHERE id = :q"),
            {"q": made["late_return"]["id"]},
        )

    rules = {(v["rule"], v["subject"]) for v in check(engine, world)}

    assert ("reversed_more_than_once", f"payment {made['refunded']['id']}") in rules
    assert ("reversed_above_amount", f"payment {made['refunded']['id']}") in rules


def test_a_status_that_disagrees_with_the_reversals_is_named(
    client: TestClient, engine: Engine, mixed: tuple[World, Payer, dict[str, dict[str, Any]]]
) -> None:
    world, _payer, made = mixed
    sql(engine, "UPDATE payment SET status = 'completed' WHERE id = :p", p=made["refunded"]["id"])

    found = [v for v in check(engine, world) if v["rule"] == "reversal_status"]

    assert [(v["subject"], v["detail"]) for v in found] == [
        (
            f"payment {made['refunded']['id']}",
            "is completed, but its reversals make it refunded",
        )
    ]


def test_a_reversal_without_its_ledger_entry_is_named(
    client: TestClient, engine: Engine, mixed: tuple[World, Payer, dict[str, dict[str, Any]]]
) -> None:
    world, _payer, made = mixed
    sql(
        engine,
        "UPDATE reversal SET ledger_seq = NULL WHERE payment_id = :p",
        p=made["refunded"]["id"],
    )
    sql(
        engine,
        "UPDATE reversal SET balance_delta_cents = 1, ledger_seq = 1 WHERE payment_id = :p",
        p=made["voided"]["id"],
    )

    found = {v["subject"]: (v["rule"], v["detail"]) for v in check(engine, world)}

    [refund_id] = [s for s in found if s.startswith("refund reversal")]
    assert found[refund_id] == (
        "reversal_ledger",
        "moved the balance by $30.00 but has no ledger number",
    )
    [void_id] = [s for s in found if s.startswith("void reversal")]
    assert found[void_id][0] == "reversal_ledger"
    assert "never completed" in found[void_id][1]
