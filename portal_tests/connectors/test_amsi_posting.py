"""Payments posted to the eSite as they are made, journals closed at the end of the business
day, reversals (issue 16 "Real-time posting", "Batch close", "Reversals"; acceptance 2)."""

from __future__ import annotations

import httpx
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
from portal_tests.payments.helpers import add_card, pay


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
        "001", "01", "102", "4",
    )
    assert record["ClientMerchantID"] == MERCHANT_ID
    journal = journals(ref)[payment["deposit_batch_id"]]
    assert journal["state"] == "open"
    assert float(ref_lease(ref)["end_balance"]) == float(before) - 500
