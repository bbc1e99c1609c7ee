"""Payments posted to the eSite as they are made, journals closed at the end of the business
day, reversals (issue 16 "Real-time posting", "Batch close", "Reversals"; acceptance 2)."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from portal_tests.connectors.conftest import MERCHANT_ID, Amsi
from portal_tests.connectors.helpers import (
    deliveries,
    drained,
    esite_payer,
    journals,
    ref_calls,
    ref_lease,
)
from portal_tests.factories import OPERATOR, login
from portal_tests.payments.helpers import add_bank, add_card, pay


@pytest.mark.smoke
def test_a_card_payment_is_posted_to_its_batch_journal_as_it_is_made(
    client: TestClient, amsi: Amsi, ref: httpx.Client
) -> None:
    payer = esite_payer(client, amsi)
    before = ref_lease(ref)["end_balance"]
    card = add_card(client, payer)
    payment = pay(client, payer, card["id"], "500.00")
    drained(client)
    [delivery] = deliveries(client, amsi)
    assert delivery["state"] == "sent", delivery
    assert delivery["operation"] == "AddPayment"
    [call] = ref_calls(ref, "AddPayment")
    [record] = call["payload"]["XMLData"]["records"]
    assert record["ClientTransactionID"] == payment["transaction_id"]
    assert record["ClientJnlNo"] == payment["deposit_batch_id"]
    assert (record["PaymentType"], record["Amount"]) == ("P", "500.00")
    assert (record["PropertyID"], record["BldgID"], record["UnitID"], record["ResiID"]) == (
        "001",
        "01",
        "102",
        "4",
    )
    assert record["ClientMerchantID"] == MERCHANT_ID
    journal = journals(ref)[payment["deposit_batch_id"]]
    assert journal["state"] == "open"
    assert float(ref_lease(ref)["end_balance"]) == float(before) - 500


def _advance(client: TestClient, amsi: Amsi, **body: Any) -> dict[str, Any]:
    response = client.post(
        f"/v1/sandbox/workspaces/{amsi.world.workspace_id}/clock/advance",
        json=body,
        headers=OPERATOR,
    )
    assert response.status_code == 200, response.text
    amsi.world.landlord_token = login(client, amsi.world.email, amsi.world.password)
    drained(client)
    data: dict[str, Any] = response.json()
    return data


def _operator(client: TestClient, amsi: Amsi, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(
        f"/v1/sandbox/workspaces/{amsi.world.workspace_id}{path}",
        json=body,
        headers={**OPERATOR, "Idempotency-Key": f"k-{path}"},
    )
    assert response.status_code == 201, response.text
    drained(client)
    data: dict[str, Any] = response.json()
    return data


def _payment(client: TestClient, amsi: Amsi, payment_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/payments/{payment_id}", headers=amsi.world.landlord)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


@pytest.mark.smoke
def test_the_journal_is_settled_with_the_batch_net_at_the_end_of_its_business_day(
    client: TestClient, amsi: Amsi, ref: httpx.Client
) -> None:
    payer = esite_payer(client, amsi)
    card = add_card(client, payer)
    first = pay(client, payer, card["id"], "500.00")
    pay(client, payer, card["id"], "125.50")
    drained(client)
    batch_id = first["deposit_batch_id"]
    assert journals(ref)[batch_id]["state"] == "open"
    advanced = _advance(client, amsi, by="P1D")
    assert "connectors.close_journals" in [j["name"] for j in advanced["jobs"]]
    journal = journals(ref)[batch_id]
    assert journal["state"] == "settled", journal
    [call] = ref_calls(ref, "UpdateSettlementData")
    assert call["verdict"] == "accepted", call
    [edex] = call["payload"]["XMLData"]["records"]
    assert edex["ExternalJnlNo"] == batch_id
    assert edex["SettlementAmount"] == "625.50"
    assert edex["ClientMerchantId"] == MERCHANT_ID
    assert edex["ApprovalCode"] == "RentTrack"
    deposit = date.fromisoformat(_payment(client, amsi, first["id"])["deposit_date"])
    assert edex["SettlementDate"] == deposit.strftime("%m/%d/%Y")
    closes = deliveries(client, amsi, state="sent")
    assert [d["operation"] for d in closes] == ["AddPayment", "AddPayment", "UpdateSettlementData"]
    # Closed once: another day adds no second close of that journal.
    _advance(client, amsi, by="P1D")
    assert len(ref_calls(ref, "UpdateSettlementData")) == 1


def test_a_void_before_the_cutoff_is_a_negative_payment_in_the_journal_and_leaves_its_net(
    client: TestClient, amsi: Amsi, ref: httpx.Client
) -> None:
    payer = esite_payer(client, amsi)
    card = add_card(client, payer)
    kept = pay(client, payer, card["id"], "300.00")
    voided = pay(client, payer, card["id"], "200.00")
    response = client.post(
        f"/v1/payments/{voided['id']}/void",
        headers={**amsi.world.landlord, "Idempotency-Key": "void-1"},
    )
    assert response.status_code in (200, 201), response.text
    drained(client)
    [ret] = ref_calls(ref, "ReturnPayment")
    [record] = ret["payload"]["XMLData"]["records"]
    assert (record["ClientTransactionID"], record["Reason"]) == (
        voided["transaction_id"],
        "Reverse",
    )
    assert record["ClientJnlNo"] == kept["deposit_batch_id"]
    assert record["Description"] == "voided"
    _advance(client, amsi, by="P1D")
    [settle] = ref_calls(ref, "UpdateSettlementData")
    assert settle["payload"]["XMLData"]["records"][0]["SettlementAmount"] == "300.00"
    assert settle["verdict"] == "accepted", settle


def test_an_r01_after_the_deposit_is_a_return_in_a_separate_negative_journal(
    client: TestClient, amsi: Amsi, ref: httpx.Client
) -> None:
    payer = esite_payer(client, amsi)
    bank = add_bank(client, payer)
    payment = pay(client, payer, bank["id"], "980.00")
    drained(client)
    before = ref_lease(ref)["end_balance"]
    _advance(client, amsi, banking_days=3)
    assert _payment(client, amsi, payment["id"])["status"] == "completed"
    _operator(client, amsi, f"/payments/{payment['id']}/return", {"code": "R01"})
    [ret] = ref_calls(ref, "ReturnPayment")
    assert ret["verdict"] == "accepted", ret
    [record] = ret["payload"]["XMLData"]["records"]
    assert (record["Reason"], record["ClientJnlNo"]) == ("NSF", payment["deposit_batch_id"])
    assert record["Description"].startswith("R01")
    assert len(record["Description"]) <= 30
    # The original journal was settled: the eSite books the return in a journal of its own,
    # numbered by the transaction (RT, connectors.md §1.6), which RT then settled.
    journal = journals(ref)[payment["transaction_id"]]
    assert [float(r["amount"]) for r in journal["returns"]] == [980.0]
    assert float(journal["net"]) == -980.0, journal
    assert journal["state"] == "settled", journal
    assert float(ref_lease(ref)["end_balance"]) == float(before) + 980
    assert journals(ref)[payment["deposit_batch_id"]]["state"] == "settled"


def test_a_card_chargeback_is_a_charge_back_negative_payment(
    client: TestClient, amsi: Amsi, ref: httpx.Client
) -> None:
    payer = esite_payer(client, amsi)
    card = add_card(client, payer)
    payment = pay(client, payer, card["id"], "450.00")
    _operator(client, amsi, f"/payments/{payment['id']}/chargeback", {"reason_code": "10.4"})
    [ret] = ref_calls(ref, "ReturnPayment")
    [record] = ret["payload"]["XMLData"]["records"]
    assert (record["Reason"], record["Description"]) == ("ChargeBack", "CHARGE BACK")
    assert ret["verdict"] == "accepted", ret
    negative = [p for j in journals(ref).values() for p in j["payments"] if float(p["amount"]) < 0]
    assert [(float(p["amount"]), p["reason"]) for p in negative] == [(-450.0, "CHARGE BACK")]


def test_a_refund_after_the_deposit_is_a_refunded_negative_payment_in_a_journal_of_its_own(
    client: TestClient, amsi: Amsi, ref: httpx.Client
) -> None:
    payer = esite_payer(client, amsi)
    bank = add_bank(client, payer)
    payment = pay(client, payer, bank["id"], "700.00")
    _advance(client, amsi, banking_days=2)
    assert _payment(client, amsi, payment["id"])["status"] == "completed"
    refunded = client.post(
        f"/v1/payments/{payment['id']}/refund",
        headers={**amsi.world.landlord, "Idempotency-Key": "refund-1"},
    )
    assert refunded.status_code == 201, refunded.text
    drained(client)
    [ret] = ref_calls(ref, "ReturnPayment")
    [record] = ret["payload"]["XMLData"]["records"]
    assert (record["Reason"], record["Description"]) == ("Reverse", "refunded")
    journal = journals(ref)[payment["transaction_id"]]
    assert [(p["amount"], p["reason"]) for p in journal["payments"]] == [("-700.00", "REVERSE")]
    assert journal["state"] == "settled"


def _sync(client: TestClient, amsi: Amsi, key: str) -> dict[str, Any]:
    response = client.post(
        f"/v1/integrations/{amsi.id}/sync",
        headers={**amsi.world.landlord, "Idempotency-Key": key},
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def _balance(client: TestClient, amsi: Amsi, lease_id: str) -> float:
    response = client.get(f"/v1/leases/{lease_id}", headers=amsi.world.landlord)
    assert response.status_code == 200, response.text
    return float(response.json()["balance"])


def test_an_import_between_posting_and_completion_does_not_count_the_payment_twice(
    client: TestClient, amsi: Amsi, ref: httpx.Client
) -> None:
    payer = esite_payer(client, amsi)
    _sync(client, amsi, "sync-1")
    esite_before = float(ref_lease(ref)["end_balance"])
    assert _balance(client, amsi, payer.lease_id) == esite_before
    pay(client, payer, add_card(client, payer)["id"], "500.00")
    drained(client)
    assert float(ref_lease(ref)["end_balance"]) == esite_before - 500  # eSite took it off
    # The payment is still processing in the portal, which takes it off when it completes:
    # the import adds what was posted and is in flight back to eSite's balance.
    _sync(client, amsi, "sync-2")
    assert _balance(client, amsi, payer.lease_id) == esite_before
    _advance(client, amsi, banking_days=2)  # deposited: completed, the balance drops
    assert _balance(client, amsi, payer.lease_id) == esite_before - 500
    _sync(client, amsi, "sync-3")
    assert _balance(client, amsi, payer.lease_id) == esite_before - 500
