"""The pull flow as an accounting client's own test drives it, with only the portal's pytest
plugin and httpx: `pytest examples/test_pull_flow.py` (docs/pytest-plugin.md)."""

import pytest

LEASE = {"property_id": "OAK", "unit_id": "2118", "rent": "1200.00", "balance": "1200.00"}
ROW = {"resident_id": "t0001", "name": "Anthony Kmetz", "email": "kmetz@example.com", **LEASE}
BALANCES = {"residents": [ROW], "bank_account": {"account_number": "00037029011"}}
BANK = {"type": "bank_account", "routing_number": "110000000", "account_number": "000731118"}
RENT = {"amount": "1200.00", "type": "rent"}


@pytest.mark.portal_workspace(clock={"now": "2026-07-06T14:00:00Z"})  # Mon 10:00 New York
def test_pull_flow(portal_workspace, portal_clock, portal_mailbox):
    client = portal_workspace.integration(kind="landlord12").client  # sends its new token
    sent = client.post("/v1/integration/balances", json=BALANCES)  # Send Balances
    assert sent.json()["invited"] == 1, sent.text
    invite = portal_mailbox.assert_sent(to="kmetz@example.com", kind="invitation")
    resident = portal_workspace.accept_invite(invite, "s3cret-pass")
    source = resident.post("/v1/resident/payment-sources", json=BANK).json()["id"]
    payment = {"lease_id": invite.data["lease_id"], "payment_source_id": source, **RENT}
    assert resident.post("/v1/resident/payments", json=payment).status_code == 201

    ran = {job.name: job.result for job in portal_clock.advance(to="2026-07-07T12:00:00Z")}
    assert ran["payments.settlement"]["payments_completed"] == 1  # Tue 06:00 New York
    [batch] = client.get("/v1/integration/receipt-batches?state=unprocessed").json()["data"]
    receipts = client.get(f"/v1/integration/receipt-batches/{batch['id']}").json()["receipts"]
    assert [(r["resident_id"], r["amount"]) for r in receipts] == [("t0001", "1200.00")]
    assert client.post(f"/v1/integration/receipt-batches/{batch['id']}/processed").is_success
    landlord = portal_workspace.landlord_login.email  # the report goes to the landlord users
    report = portal_mailbox.assert_sent(to=landlord, kind="batch_deposit_report")
    assert batch["id"] in report.body
