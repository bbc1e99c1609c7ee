"""The entry each accounting system should book for a reversal (issue 6; domain.md §6.1,
seeds 001 and 002), exposed on every reversal: AMSI negative payments / NSF returns / CHARGE
BACK, pre-deposit reversals in the original batch; MRI separate debits only when the property
posts reversals, cancellations a notice; Landlord 12 negative receipts."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from portal_tests.payments.helpers import add_bank, add_card, pay
from portal_tests.reversals.helpers import (
    MONDAY,
    et,
    integrated_payer,
    move,
    operator_chargeback,
    operator_return,
    payment,
)


def by_kind(reversal: dict[str, Any]) -> dict[str, tuple[str, str | None, str | None]]:
    return {
        e["integration_kind"]: (e["entry"], e["reason"], e["batch"]) for e in reversal["ledger"]
    }


def test_each_kind_for_each_accounting_system(client: TestClient) -> None:
    world, payer = integrated_payer(client, settings={"payments_per_resident_per_day": 9})
    move(client, world, payer, et(MONDAY, "14:00:00"))
    bank, card = add_bank(client, payer)["id"], add_card(client, payer)["id"]
    voided = pay(client, payer, bank, amount="1.00")
    early_return = pay(client, payer, bank, amount="2.00")
    refunded = pay(client, payer, bank, amount="3.00")
    late_return = pay(client, payer, bank, amount="4.00")
    charged = pay(client, payer, card, amount="5.00")
    client.post(f"/v1/payments/{voided['id']}/void", headers=world.landlord)
    operator_return(client, world, early_return["id"], "R01")
    move(client, world, None, et("2026-07-07", "10:00:00"))
    client.post(f"/v1/payments/{refunded['id']}/refund", headers=world.landlord)
    operator_return(client, world, late_return["id"], "R03")
    operator_chargeback(client, world, charged["id"], "13.2")

    def ledger_of(made: dict[str, Any]) -> dict[str, tuple[str, str | None, str | None]]:
        [reversal] = payment(client, world, made["id"])["reversals"]
        return by_kind(reversal)

    assert ledger_of(voided) == {
        "amsi": ("negative_payment", "voided", None),
        "mri": ("notice", "voided", None),
        "landlord12": ("none", "voided", None),
    }
    assert ledger_of(early_return) == {
        "amsi": ("return", "NSF", "original"),
        "mri": ("debit", "NSF", "original"),
        "landlord12": ("negative_receipt", "NSF", "original"),
    }
    assert ledger_of(refunded) == {
        "amsi": ("negative_payment", "refunded", "reversal"),
        "mri": ("debit", "refunded", "reversal"),
        "landlord12": ("negative_receipt", "refunded", "reversal"),
    }
    assert ledger_of(late_return)["amsi"] == ("return", "NSF", "reversal")
    assert ledger_of(charged)["amsi"] == ("negative_payment", "CHARGE BACK", "reversal")


def test_mri_posts_nothing_when_the_property_does_not_post_reversals(client: TestClient) -> None:
    world, payer = integrated_payer(client)
    patched = client.patch(
        f"/v1/properties/{payer.property_id}",
        json={"post_reversals": False},
        headers=world.landlord,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["post_reversals"] is False
    move(client, world, payer, et(MONDAY, "14:00:00"))
    made = pay(client, payer, add_bank(client, payer)["id"])
    move(client, world, None, et("2026-07-07", "10:00:00"))

    refund = client.post(f"/v1/payments/{made['id']}/refund", headers=world.landlord).json()

    mri = by_kind(refund)["mri"]
    # Issue 15, item 6: with the setting off the refund is in no batch, a note on the receipt.
    assert refund["placement"] == "receipt_note"
    assert mri == ("none", "refunded", None)
    [note] = [e["note"] for e in refund["ledger"] if e["integration_kind"] == "mri"]
    assert "post_reversals" in note
    assert by_kind(refund)["amsi"] == ("negative_payment", "refunded", None)
    assert by_kind(refund)["landlord12"] == ("note", "refunded", None)


def test_a_won_dispute_is_booked_as_a_payment(client: TestClient) -> None:
    world, payer = integrated_payer(client)
    move(client, world, payer, et(MONDAY, "14:00:00"))
    made = pay(client, payer, add_card(client, payer)["id"])
    move(client, world, None, et("2026-07-08", "10:00:00"))
    dispute_id = operator_chargeback(client, world, made["id"]).json()["dispute"]["id"]
    client.post(f"/v1/disputes/{dispute_id}/challenge", headers=world.landlord)
    move(client, world, None, et("2026-07-14"))

    credit = payment(client, world, made["id"])["reversals"][-1]

    assert credit["kind"] == "dispute_won"
    assert by_kind(credit) == {
        "amsi": ("payment", "CHARGE BACK REVERSED", "reversal"),
        "mri": ("credit", "CHARGE BACK REVERSED", "reversal"),
        "landlord12": ("receipt", "CHARGE BACK REVERSED", "reversal"),
    }
