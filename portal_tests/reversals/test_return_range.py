"""Every return code seed 001 names (issue 15, item 10): "If the payment was returned due to one
of the NACHA reason codes (R01 - R99), RentTrack will create a Return on the ledger and provide
the reason NSF." A code Nacha never assigned (R48, R86-R99...) is accepted, named
"Unassigned", and booked like any other: a Return with reason NSF."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from portal_tests.payments.helpers import add_bank, pay
from portal_tests.reversals.helpers import (
    MONDAY,
    check,
    et,
    integrated_payer,
    lease_balance,
    move,
    operator_return,
    payment,
)

WEDNESDAY = "2026-07-08"


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("R99", "Unassigned"),
        ("R86", "Unassigned"),
        ("R48", "Unassigned"),
        ("R85", "Incorrectly Coded Outbound International Payment"),
    ],
)
def test_a_code_of_r01_to_r99_is_booked_as_nsf(
    client: TestClient, engine: Engine, code: str, name: str
) -> None:
    world, payer = integrated_payer(client)
    move(client, world, payer, et(MONDAY, "14:00:00"))
    made = pay(client, payer, add_bank(client, payer)["id"])
    move(client, world, payer, et(WEDNESDAY, "10:00:00"))

    response = operator_return(client, world, made["id"], code)

    assert response.status_code == 201, response.text
    r: dict[str, Any] = response.json()
    assert (r["kind"], r["reason"], r["return_code"], r["return_name"]) == (
        "return",
        "NSF",
        code,
        name,
    )
    amsi = next(e for e in r["ledger"] if e["integration_kind"] == "amsi")
    assert (amsi["entry"], amsi["reason"]) == ("return", "NSF")
    assert f"{code} {name}" in amsi["note"]
    assert payment(client, world, made["id"])["status"] == "returned"
    assert lease_balance(client, world, payer) == "980.00"
    assert check(engine, world) == []


def test_the_magic_account_for_r99_is_returned(client: TestClient) -> None:
    world, payer = integrated_payer(client)
    move(client, world, payer, et(MONDAY, "14:00:00"))
    made = pay(client, payer, add_bank(client, payer, "1000000099")["id"])

    move(client, world, None, et(WEDNESDAY, "05:00:00"))

    [r] = payment(client, world, made["id"])["reversals"]
    assert (r["return_code"], r["return_name"], r["reason"]) == ("R99", "Unassigned", "NSF")
