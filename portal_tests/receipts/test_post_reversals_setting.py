"""The property's reversal setting (issue 15, item 6; seed 002: "RentTrack will post reversals
automatically, and each reversal will be a separate debit from the bank. Note: This is a
RentTrack setting, your specific property may not have enabled this feature"; domain.md §6.1).

``post_reversals`` on (the default): a reversal after the deposit is a separate negative
reversal batch, listed by the receipt-batch API and among the Batch Deposit Report's reversals.
Off: no batch moves; the reversal stays with the payment's receipt in its original batch as a
note, in the receipt-batch API and in the Batch Deposit Report alike."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from portal_tests.factories import World, bearer, make_integration, make_token
from portal_tests.payments.helpers import Payer, add_bank, add_card, pay
from portal_tests.reports.helpers import parse_csv, report
from portal_tests.residents.helpers import mailbox
from portal_tests.reversals.helpers import (
    MONDAY,
    batches,
    check,
    et,
    integrated_payer,
    move,
    operator_chargeback,
    operator_return,
    payment,
)

TUESDAY, WEDNESDAY, THURSDAY = "2026-07-07", "2026-07-08", "2026-07-09"


@dataclass
class Setup:
    world: World
    payer: Payer
    auth: dict[str, str]
    made: dict[str, Any]


def deposited(client: TestClient, *, post_reversals: bool | None) -> Setup:
    """980.00 paid Monday 14:00, deposited Tuesday; the clock is Wednesday 10:00. The property's
    setting is left at its default when ``post_reversals`` is None."""
    world, payer = integrated_payer(client)
    if post_reversals is not None:
        patched = client.patch(
            f"/v1/properties/{payer.property_id}",
            json={"post_reversals": post_reversals},
            headers=world.landlord,
        )
        assert patched.status_code == 200, patched.text
        assert patched.json()["post_reversals"] is post_reversals
    integration = make_integration(client, world)
    auth = bearer(make_token(client, world, integration["id"])["token"])
    move(client, world, payer, et(MONDAY, "14:00:00"))
    made = pay(client, payer, add_bank(client, payer)["id"])
    move(client, world, payer, et(WEDNESDAY, "10:00:00"))
    return Setup(world, payer, auth, made)


def reverse(client: TestClient, s: Setup, how: str) -> dict[str, Any]:
    response: Any
    if how == "refund":
        response = client.post(f"/v1/payments/{s.made['id']}/refund", headers=s.world.landlord)
    else:
        response = operator_return(client, s.world, s.made["id"], "R01")
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def receipt_batches(client: TestClient, auth: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get("/v1/integration/receipt-batches", headers=auth)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def load(client: TestClient, auth: dict[str, str], batch_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/integration/receipt-batches/{batch_id}", headers=auth)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


REASONS = {"refund": "refunded", "return": "NSF"}


@pytest.mark.parametrize("how", ["refund", "return"])
class TestOn:
    """The default, and the setting sent as true: a separate negative batch."""

    @pytest.mark.parametrize("setting", [None, True])
    def test_a_separate_negative_reversal_batch(
        self, client: TestClient, engine: Engine, how: str, setting: bool | None
    ) -> None:
        s = deposited(client, post_reversals=setting)
        reversal = reverse(client, s, how)
        move(client, s.world, None, et(THURSDAY, "08:00:00"))

        assert reversal["placement"] == "reversal_batch"
        listed = {b["id"]: b for b in receipt_batches(client, s.auth)}
        rb = listed[reversal["deposit_batch_id"]]
        assert (rb["kind"], rb["total"], rb["item_count"]) == ("reversal", "-980.00", 1)
        [receipt] = load(client, s.auth, rb["id"])["receipts"]
        assert (receipt["item"], receipt["amount"], receipt["reason"]) == (
            "reversal",
            "-980.00",
            REASONS[how],
        )
        [original] = load(client, s.auth, s.made["deposit_batch_id"])["receipts"]
        assert (original["amount"], original["note"]) == ("980.00", None)

        thursday = report(client, s.world, THURSDAY)
        [reversals] = thursday["reversals"]
        assert (reversals["batch_id"], reversals["total"]) == (rb["id"], "-980.00")
        assert thursday["reversals_total"] == "-980.00"
        [tx] = report(client, s.world, TUESDAY)["batches"][0]["transactions"]
        assert tx["note"] is None
        assert check(engine, s.world) == []


@pytest.mark.parametrize("how", ["refund", "return"])
class TestOff:
    """The property does not post reversals: a note on the original receipt, no batch."""

    def test_no_batch_and_a_note_on_the_receipt(
        self, client: TestClient, engine: Engine, how: str
    ) -> None:
        s = deposited(client, post_reversals=False)
        reversal = reverse(client, s, how)
        move(client, s.world, None, et(THURSDAY, "08:00:00"))

        assert (reversal["placement"], reversal["deposit_batch_id"]) == ("receipt_note", None)
        assert reversal["amount"] == "-980.00"
        assert payment(client, s.world, s.made["id"])["status"] == (
            "refunded" if how == "refund" else "returned"
        )
        assert batches(client, s.world, kind="reversal") == []
        # The receipt-batch API: only the original batch, unchanged, its receipt noted.
        [listed] = receipt_batches(client, s.auth)
        assert (listed["id"], listed["kind"], listed["total"], listed["item_count"]) == (
            s.made["deposit_batch_id"],
            "deposit",
            "980.00",
            1,
        )
        [receipt] = load(client, s.auth, listed["id"])["receipts"]
        assert (receipt["item"], receipt["amount"]) == ("payment", "980.00")
        note = receipt["note"]
        assert note.startswith(f"{REASONS[how]} on {WEDNESDAY} (-$980.00, ")
        assert f"Trans #{reversal['transaction_id']}" in note
        assert "post_reversals" in note

        # The Batch Deposit Report: no reversal batch on Thursday; the payment's transaction
        # in Tuesday's deposit carries the same note.
        thursday = report(client, s.world, THURSDAY)
        assert (thursday["reversals"], thursday["reversals_total"]) == ([], "0.00")
        tuesday = report(client, s.world, TUESDAY)
        [deposit] = tuesday["batches"]
        assert (deposit["total"], deposit["item_count"]) == ("980.00", 1)
        [tx] = deposit["transactions"]
        assert (tx["item"], tx["amount"], tx["note"]) == ("payment", "980.00", note)
        csv_text = client.get(
            "/v1/reports/batch-deposits",
            params={"date": TUESDAY},
            headers={**s.world.landlord, "Accept": "text/csv"},
        ).text
        header, row = parse_csv(csv_text)
        assert row[header.index("Note")] == note
        assert check(engine, s.world) == []

    def test_turning_it_back_on_posts_the_next_one(self, client: TestClient, how: str) -> None:
        s = deposited(client, post_reversals=False)
        patched = client.patch(
            f"/v1/properties/{s.payer.property_id}",
            json={"post_reversals": True},
            headers=s.world.landlord,
        )
        assert patched.status_code == 200, patched.text

        reversal = reverse(client, s, how)

        assert reversal["placement"] == "reversal_batch"
        assert reversal["deposit_batch_id"] is not None


def test_a_charged_back_and_won_card_payment_leaves_two_notes(
    client: TestClient, engine: Engine
) -> None:
    world, payer = integrated_payer(client)
    client.patch(
        f"/v1/properties/{payer.property_id}",
        json={"post_reversals": False},
        headers=world.landlord,
    )
    integration = make_integration(client, world)
    auth = bearer(make_token(client, world, integration["id"])["token"])
    move(client, world, payer, et(MONDAY, "14:00:00"))
    made = pay(client, payer, add_card(client, payer)["id"])
    move(client, world, None, et(WEDNESDAY, "10:00:00"))
    charged = operator_chargeback(client, world, made["id"])
    assert charged.status_code == 201, charged.text
    dispute_id = charged.json()["dispute"]["id"]
    client.post(f"/v1/disputes/{dispute_id}/challenge", headers=world.landlord)

    move(client, world, None, et("2026-07-16"))

    history = payment(client, world, made["id"])
    assert history["status"] == "completed"
    assert [(r["kind"], r["placement"]) for r in history["reversals"]] == [
        ("chargeback", "receipt_note"),
        ("dispute_won", "receipt_note"),
    ]
    assert batches(client, world, kind="reversal") == []
    [receipt] = load(client, auth, made["deposit_batch_id"])["receipts"]
    first, second = receipt["note"].split("; ")
    assert first.startswith(f"CHARGE BACK on {WEDNESDAY} (-$980.00, ")
    assert second.startswith("CHARGE BACK REVERSED on ")
    assert "($980.00, " in second
    [closed] = mailbox(client, world, kind="dispute_closed")
    assert "no separate credit" in closed["body"]
    assert check(engine, world) == []
