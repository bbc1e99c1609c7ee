"""Payments posted to MRI as they are made, batches closed at the end of the business day,
security deposits, reversals and cancel notices (issue 17 "Real-time posting", "Close at end of
business day", "Security deposits", "Reversals"; acceptance 2 and 3), against a live reference
MRI over HTTP."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from portal.connectors.mri import closing
from portal.core import jobs
from portal.core.db import session_scope
from portal.workspaces import service as workspaces_service
from portal.workspaces.models import Workspace
from portal_tests.connectors.conftest import MriIntegration
from portal_tests.connectors.helpers import deliveries, drained
from portal_tests.factories import OPERATOR, login
from portal_tests.payments.helpers import Payer, add_account, add_bank, add_card, make_payer, pay
from portal_tests.reference_mri.conftest import PROPERTY
from portal_tests.residents.helpers import make_unit
from portal_tests.reversals.helpers import relogin

PAYMENTS = "MRI_S-PMRM_PaymentDetailsByPropertyID"
CLOSE = "MRI_S-PMRM_CloseBatch"


def mri_payer(
    client: TestClient,
    mri: MriIntegration,
    *,
    bldg: str = "01",
    unit: str = "102",
    name_id: str = "0000000001",
    accounts: tuple[str, ...] = ("rent",),
    email: str = "pat.lee@example.com",
) -> Payer:
    """A resident who can pay, on a portal unit mapped to MRI's ``500|bldg|unit`` and a lease
    keyed by the MRI ResidentNameID; the property belongs to the MRI integration."""
    made = make_unit(
        client,
        mri.world,
        prop_external=PROPERTY,
        unit_external=f"{PROPERTY}|{bldg}|{unit}",
        unit_name=unit,
    )
    claimed = client.patch(
        f"/v1/properties/{made['property_id']}",
        json={"integration_id": mri.id},
        headers=mri.world.landlord,
    )
    assert claimed.status_code == 200, claimed.text
    for n, kind in enumerate(accounts):
        add_account(client, mri.world, made["property_id"], type=kind, number=f"98765432{n}0")
    return make_payer(client, mri.world, unit=made, email=email, external_resident_id=name_id)


def calls(ref: httpx.Client, operation: str) -> list[dict[str, Any]]:
    response = ref.get("/_ref/calls", params={"operation": operation})
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def records(call: dict[str, Any]) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = call["payload"]["body"]["records"]
    return data


def batches(ref: httpx.Client) -> dict[str, dict[str, Any]]:
    response = ref.get(f"/_ref/properties/{PROPERTY}/batches")
    assert response.status_code == 200, response.text
    return {b["external_batch_id"]: b for b in response.json()["data"]}


def ref_lease(ref: httpx.Client, bldg: str = "01", unit: str = "102") -> dict[str, Any]:
    response = ref.get(f"/_ref/properties/{PROPERTY}/leases")
    assert response.status_code == 200, response.text
    [lease] = [
        x for x in response.json()["data"] if (x["building_id"], x["unit_id"]) == (bldg, unit)
    ]
    return lease


def advance(client: TestClient, mri: MriIntegration, **body: Any) -> dict[str, Any]:
    response = client.post(
        f"/v1/sandbox/workspaces/{mri.world.workspace_id}/clock/advance",
        json=body,
        headers=OPERATOR,
    )
    assert response.status_code == 200, response.text
    mri.world.landlord_token = login(client, mri.world.email, mri.world.password)
    drained(client)
    data: dict[str, Any] = response.json()
    return data


def operator(client: TestClient, mri: MriIntegration, path: str, body: dict[str, Any]) -> None:
    response = client.post(
        f"/v1/sandbox/workspaces/{mri.world.workspace_id}{path}",
        json=body,
        headers={**OPERATOR, "Idempotency-Key": f"k-{path}"},
    )
    assert response.status_code == 201, response.text
    drained(client)


def mailbox(client: TestClient, mri: MriIntegration, kind: str) -> list[dict[str, Any]]:
    response = client.get(
        f"/v1/sandbox/workspaces/{mri.world.workspace_id}/mailbox",
        params={"kind": kind},
        headers=OPERATOR,
    )
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def payment(client: TestClient, mri: MriIntegration, payment_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/payments/{payment_id}", headers=mri.world.landlord)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


@pytest.mark.smoke
def test_each_payment_is_posted_as_it_is_made_into_the_mri_batch_of_its_deposit_batch(
    client: TestClient, mri: MriIntegration, mri_ref: httpx.Client
) -> None:
    payer = mri_payer(client, mri)
    before = float(ref_lease(mri_ref)["balance"])
    card = add_card(client, payer)
    bank = add_bank(client, payer)
    by_card = pay(client, payer, card["id"], "500.00")
    by_bank = pay(client, payer, bank["id"], "125.50")
    drained(client)
    sent = deliveries(client, mri)
    assert [(d["operation"], d["state"]) for d in sent] == [(PAYMENTS, "sent")] * 2
    card_call, bank_call = calls(mri_ref, PAYMENTS)
    [card_record] = records(card_call)
    [bank_record] = records(bank_call)
    assert card_record["PaymentType"] == "K"
    assert bank_record["PaymentType"] == "C"
    assert (card_record["PaymentAmount"], bank_record["PaymentAmount"]) == ("500.00", "125.50")
    # The check number is the transaction for a bank payment only (§2.6).
    assert card_record.get("CheckNumber") is None
    assert bank_record["CheckNumber"] == by_bank["transaction_id"]
    for record, made in ((card_record, by_card), (bank_record, by_bank)):
        assert record["ExternalBatchID"] == made["deposit_batch_id"]
        assert record["ResidentNameID"] == "0000000001"
        assert record["PropertyID"] == PROPERTY
        assert record["PartnerName"] == "RentTrack"
        assert len(record["ExternalTransactionNumber"]) <= 10
        assert len(record["Description"]) <= 30
        assert made["transaction_id"] in record["Description"]
    assert card_record["ExternalTransactionNumber"] != bank_record["ExternalTransactionNumber"]
    # One open MRI batch per deposit batch, holding both receipts.
    batch = batches(mri_ref)[by_card["deposit_batch_id"]]
    assert batch["state"] == "open"
    assert (batch["count"], batch["total"]) == (2, "625.50")
    assert float(ref_lease(mri_ref)["balance"]) == before - 625.50


def test_the_batches_close_at_the_end_of_day_hour_and_a_later_payment_goes_to_a_new_batch(
    client: TestClient, mri: MriIntegration, mri_ref: httpx.Client
) -> None:
    payer = mri_payer(client, mri)
    card = add_card(client, payer)
    # The factories' world starts at 10:00 New York time: the end of day is 17:00.
    first = pay(client, payer, card["id"], "400.00")
    drained(client)
    batch_id = first["deposit_batch_id"]
    advance(client, mri, by="PT6H")  # 16:00: still open
    assert batches(mri_ref)[batch_id]["state"] == "open"
    ran = advance(client, mri, by="PT2H")  # 18:00: closed at 17:00
    assert "connectors.mri_close" in [j["name"] for j in ran["jobs"]]
    closed = batches(mri_ref)[batch_id]
    assert closed["state"] == "closed", closed
    [close] = calls(mri_ref, CLOSE)
    assert close["verdict"] == "accepted", close
    [record] = records(close)
    assert (record["ExternalBatchID"], record["ControlTotal"], record["ReceiptCount"]) == (
        batch_id,
        "400.00",
        "1",
    )
    assert record["CloseDatetime"].endswith("T17:00:00")
    # Before the 19:45 cut-off the deposit batch is the same; MRI's is closed, so the portal
    # posts to a batch of its own and never adds to the closed one.
    relogin(client, mri.world, payer, "pat.lee@example.com")
    late = pay(client, payer, card["id"], "60.00")
    drained(client)
    assert late["deposit_batch_id"] == batch_id
    [_, late_call] = calls(mri_ref, PAYMENTS)
    assert late_call["verdict"] == "accepted", late_call
    assert records(late_call)[0]["ExternalBatchID"] == f"{batch_id}-2"
    assert batches(mri_ref)[f"{batch_id}-2"]["state"] == "open"
    advance(client, mri, by="P1D")
    assert batches(mri_ref)[f"{batch_id}-2"]["state"] == "closed"
    assert len(calls(mri_ref, CLOSE)) == 2
    assert [d["state"] for d in deliveries(client, mri)] == ["sent"] * 4


def test_with_close_batches_off_the_portal_never_closes_a_batch(
    client: TestClient, mri: MriIntegration, mri_ref: httpx.Client, mri_server: Any
) -> None:
    from portal_tests.connectors.conftest import mri_connection

    changed = client.patch(
        f"/v1/integrations/{mri.id}",
        json={"connection": mri_connection(mri_server, close_batches=False)},
        headers=mri.world.landlord,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["connection"]["close_batches"] is False
    payer = mri_payer(client, mri)
    card = add_card(client, payer)
    first = pay(client, payer, card["id"], "400.00")
    advance(client, mri, by="P1D")
    relogin(client, mri.world, payer, "pat.lee@example.com")
    pay(client, payer, card["id"], "50.00")
    advance(client, mri, by="P1D")
    assert calls(mri_ref, CLOSE) == []
    assert batches(mri_ref)[first["deposit_batch_id"]]["state"] == "open"


def test_a_security_deposit_is_posted_to_the_deposit_ledger_in_its_own_batch(
    client: TestClient, mri: MriIntegration, mri_ref: httpx.Client
) -> None:
    payer = mri_payer(client, mri, accounts=("rent", "security_deposit"))
    bank = add_bank(client, payer)
    rent = pay(client, payer, bank["id"], "900.00")
    deposit = pay(client, payer, bank["id"], "580.00", type="security_deposit")
    drained(client)
    assert rent["deposit_batch_id"] != deposit["deposit_batch_id"]
    rent_call, deposit_call = calls(mri_ref, PAYMENTS)
    assert records(deposit_call)[0]["CashType"] == "SD"
    assert "CashType" not in records(rent_call)[0]
    held = batches(mri_ref)
    assert held[deposit["deposit_batch_id"]]["totals"]["security_deposits"] == "580.00"
    assert held[rent["deposit_batch_id"]]["totals"]["security_deposits"] == "0.00"


def test_commit_then_hang_on_the_post_gives_one_receipt_not_two(
    client: TestClient, mri: MriIntegration, mri_ref: httpx.Client
) -> None:
    client.patch(
        f"/v1/integrations/{mri.id}",
        json={"connection": {**_connection(client, mri), "timeout_seconds": 0.5}},
        headers=mri.world.landlord,
    ).raise_for_status()
    fault = mri_ref.post(
        "/_ref/faults",
        json={"kind": "timeout_next", "operation": PAYMENTS, "count": 1, "seconds": 2},
    )
    assert fault.status_code == 201, fault.text
    payer = mri_payer(client, mri)
    card = add_card(client, payer)
    made = pay(client, payer, card["id"], "710.00")
    drained(client)
    [delivery] = deliveries(client, mri)
    assert delivery["state"] == "pending", delivery  # no answer: backing off
    advance(client, mri, by="PT2M")
    [delivery] = deliveries(client, mri)
    assert delivery["state"] == "sent", delivery
    assert delivery["attempts"] == 2
    first, second = calls(mri_ref, PAYMENTS)
    assert first["committed"] is True
    assert records(first) == records(second)  # the same receipt, the same number
    assert second["committed"] is False
    batch = batches(mri_ref)[made["deposit_batch_id"]]
    assert (batch["count"], batch["total"]) == (1, "710.00")


def _connection(client: TestClient, mri: MriIntegration) -> dict[str, Any]:
    from portal_tests.connectors.conftest import MRI_CREDENTIAL

    current = client.get(f"/v1/integrations/{mri.id}", headers=mri.world.landlord).json()
    connection = {k: v for k, v in current["connection"].items() if k != "password_set"}
    return {**connection, "password": MRI_CREDENTIAL["password"]}


def test_a_void_sends_the_landlord_a_notice_and_nothing_to_mri(
    client: TestClient, mri: MriIntegration, mri_ref: httpx.Client
) -> None:
    payer = mri_payer(client, mri)
    card = add_card(client, payer)
    voided = pay(client, payer, card["id"], "200.00")
    drained(client)
    response = client.post(
        f"/v1/payments/{voided['id']}/void",
        headers={**mri.world.landlord, "Idempotency-Key": "void-1"},
    )
    assert response.status_code in (200, 201), response.text
    drained(client)
    assert len(calls(mri_ref, PAYMENTS)) == 1  # the payment; nothing for the void
    assert [d["operation"] for d in deliveries(client, mri)] == [PAYMENTS]
    [notice] = mailbox(client, mri, "connector_notice")
    assert notice["to"] == mri.world.email
    assert voided["transaction_id"] in notice["subject"]
    [receipt] = _ref_receipts(mri_ref)
    assert receipt["transaction_id"] in notice["body"]  # MRI's receipt, to void by hand
    assert voided["deposit_batch_id"] in notice["body"]


def _ref_receipts(ref: httpx.Client) -> list[dict[str, Any]]:
    response = ref.get(f"/_ref/properties/{PROPERTY}/receipts")
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


@pytest.fixture
def reversals_on(mri_ref: httpx.Client) -> None:
    """MRI takes a negative amount as a reversal (the shape is a GAP, connectors.md §2.10)."""
    assert mri_ref.patch("/_ref/settings", json={"negative_amounts": "reversal"}).status_code == 200


@pytest.mark.usefixtures("reversals_on")
def test_a_return_after_the_deposit_is_posted_as_a_separate_debit(
    client: TestClient, mri: MriIntegration, mri_ref: httpx.Client
) -> None:
    payer = mri_payer(client, mri)
    bank = add_bank(client, payer)
    made = pay(client, payer, bank["id"], "980.00")
    advance(client, mri, banking_days=3)
    assert payment(client, mri, made["id"])["status"] == "completed"
    before = float(ref_lease(mri_ref)["balance"])
    operator(client, mri, f"/payments/{made['id']}/return", {"code": "R01"})
    [_, debit] = calls(mri_ref, PAYMENTS)
    assert debit["verdict"] == "accepted", debit
    [record] = records(debit)
    assert record["PaymentAmount"] == "-980.00"
    assert record["ExternalTransactionNumber"].startswith("R")
    # Its own batch (the reversal batch of its day), not the payment's (closed long ago).
    assert record["ExternalBatchID"] != made["deposit_batch_id"]
    assert float(ref_lease(mri_ref)["balance"]) == before + 980
    reversal = [d for d in deliveries(client, mri) if d["topic"] == "reversal"]
    assert [d["state"] for d in reversal] == ["sent"]


def test_with_post_reversals_off_a_return_is_a_notice_not_a_posting(
    client: TestClient, mri: MriIntegration, mri_ref: httpx.Client
) -> None:
    payer = mri_payer(client, mri)
    off = client.patch(
        f"/v1/properties/{payer.property_id}",
        json={"post_reversals": False},
        headers=mri.world.landlord,
    )
    assert off.status_code == 200, off.text
    bank = add_bank(client, payer)
    made = pay(client, payer, bank["id"], "980.00")
    advance(client, mri, banking_days=3)
    operator(client, mri, f"/payments/{made['id']}/return", {"code": "R01"})
    assert len(calls(mri_ref, PAYMENTS)) == 1
    [notice] = mailbox(client, mri, "connector_notice")
    assert "by hand" in notice["subject"]


def test_a_payment_racing_the_close_of_its_batch_never_lands_in_the_closed_batch(
    client: TestClient, mri: MriIntegration, mri_ref: httpx.Client, engine: Engine
) -> None:
    """The close and a receipt choosing its batch take one lock (``mri_batches.lock``): a
    payment made while the close is being queued waits for it, then goes to ``<batch>-2``.
    Meaningful on PostgreSQL, where CI runs the suite too; SQLite's writers take turns."""
    payer = mri_payer(client, mri)
    card = add_card(client, payer)
    first = pay(client, payer, card["id"], "400.00")
    drained(client)
    batch_id = first["deposit_batch_id"]
    holding = threading.Event()
    errors: list[BaseException] = []
    system = client.app.state.clock  # type: ignore[attr-defined]

    def close() -> None:
        try:
            with session_scope(engine) as session:
                ws = session.get(Workspace, mri.world.workspace_id)
                assert ws is not None
                now = workspaces_service.now_of(ws, system)
                ctx = jobs.JobContext(
                    session=session,
                    workspace_id=ws.id,
                    ids=workspaces_service.minter(ws, session),
                    now=now,
                    settings={},
                )
                payload = {
                    "integration_id": mri.id,
                    "property_external_id": PROPERTY,
                    "journal": batch_id,
                }
                assert closing.close_batch(ctx, payload)["closing"] is True
                holding.set()
                time.sleep(1.0)  # the payment below arrives while this holds the lock
        except BaseException as exc:  # reported below
            errors.append(exc)
            holding.set()

    closer = threading.Thread(target=close)
    closer.start()
    assert holding.wait(30)
    late = pay(client, payer, card["id"], "60.00")
    closer.join(30)
    assert not errors, errors
    drained(client)
    assert late["deposit_batch_id"] == batch_id
    assert [d["state"] for d in deliveries(client, mri)] == ["sent"] * 3
    posted = [r["ExternalBatchID"] for c in calls(mri_ref, PAYMENTS) for r in records(c)]
    assert posted == [batch_id, f"{batch_id}-2"]
    assert {c["verdict"] for c in calls(mri_ref, PAYMENTS)} == {"accepted"}


def test_a_rejected_posting_is_listed_mailed_and_sent_again_on_retry(
    client: TestClient, mri: MriIntegration, mri_ref: httpx.Client
) -> None:
    fault = mri_ref.post(
        "/_ref/faults",
        json={"kind": "reject", "operation": PAYMENTS, "count": 1, "message": "Period closed"},
    )
    assert fault.status_code == 201, fault.text
    payer = mri_payer(client, mri)
    made = pay(client, payer, add_card(client, payer)["id"], "300.00")
    drained(client)
    [delivery] = deliveries(client, mri)
    assert delivery["state"] == "rejected", delivery
    assert delivery["last_response"]["error_description"] == "Period closed"
    integration = client.get(f"/v1/integrations/{mri.id}", headers=mri.world.landlord).json()
    assert integration["last_error"]["code"] == "connector_rejected"
    assert "MRI refused" in integration["last_error"]["detail"]
    [mail] = mailbox(client, mri, "connector_failure")
    assert made["transaction_id"] in mail["subject"]
    retried = client.post(
        f"/v1/integrations/{mri.id}/deliveries/{delivery['id']}/retry",
        headers={**mri.world.landlord, "Idempotency-Key": "retry-1"},
    )
    assert retried.status_code == 200, retried.text
    drained(client)
    [delivery] = deliveries(client, mri)
    assert delivery["state"] == "sent", delivery
    assert batches(mri_ref)[made["deposit_batch_id"]]["total"] == "300.00"
