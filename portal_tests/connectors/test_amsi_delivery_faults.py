"""Deliveries when the eSite misbehaves (issue 16 acceptance 3): a timeout after the eSite
committed, the eSite down for an hour of workspace time, a vendor rejection; and the tester's
retry."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi.testclient import TestClient

from portal_tests.connectors.conftest import Amsi
from portal_tests.connectors.helpers import deliveries, drained, esite_payer, ref_calls
from portal_tests.factories import OPERATOR, login
from portal_tests.payments.helpers import add_card, pay
from portal_tests.residents.helpers import mailbox


def _advance(client: TestClient, amsi: Amsi, by: str) -> None:
    response = client.post(
        f"/v1/sandbox/workspaces/{amsi.world.workspace_id}/clock/advance",
        json={"by": by},
        headers=OPERATOR,
    )
    assert response.status_code == 200, response.text
    amsi.world.landlord_token = login(client, amsi.world.email, amsi.world.password)
    drained(client)


def _fault(ref: httpx.Client, **spec: Any) -> dict[str, Any]:
    response = ref.post("/_ref/faults", json=spec)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def _integration(client: TestClient, amsi: Amsi) -> dict[str, Any]:
    response = client.get(f"/v1/integrations/{amsi.id}", headers=amsi.world.landlord)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def _patch_connection(client: TestClient, amsi: Amsi, **changes: Any) -> None:
    current = _integration(client, amsi)["connection"]
    body = {k: v for k, v in current.items() if k != "password_set"} | changes
    response = client.patch(
        f"/v1/integrations/{amsi.id}", json={"connection": body}, headers=amsi.world.landlord
    )
    assert response.status_code == 200, response.text


def test_a_timeout_after_the_esite_committed_posts_the_payment_once(
    client: TestClient, amsi: Amsi, ref: httpx.Client
) -> None:
    _patch_connection(client, amsi, timeout_seconds=0.5)
    _fault(ref, kind="timeout_next", operation="AddPayment", count=1, seconds=2)
    payer = esite_payer(client, amsi)
    payment = pay(client, payer, add_card(client, payer)["id"], "500.00")
    drained(client)
    [delivery] = deliveries(client, amsi)
    assert (delivery["state"], delivery["attempts"]) == ("pending", 1), delivery
    assert delivery["last_response"]["verdict"] == "transport"
    assert delivery["next_attempt_at"] is not None
    _advance(client, amsi, "PT2M")  # the first back-off is a minute of workspace time
    [delivery] = deliveries(client, amsi)
    assert (delivery["state"], delivery["attempts"]) == ("sent", 2), delivery
    assert delivery["last_response"]["error_code"] == 18  # the eSite saw it as a duplicate
    calls = ref_calls(ref, "AddPayment")
    assert [c["committed"] for c in calls] == [True, False]
    ids = {c["payload"]["XMLData"]["records"][0]["ClientTransactionID"] for c in calls}
    assert ids == {payment["transaction_id"]}  # the same ClientTransactionID both times
    posted = ref.get("/_ref/portfolios/Newport Portfolio/payments").json()["data"]
    assert [p["client_transaction_id"] for p in posted] == [payment["transaction_id"]]


def test_payments_made_while_the_esite_is_down_arrive_in_order_once_it_is_back(
    client: TestClient, amsi: Amsi, ref: httpx.Client
) -> None:
    down = _fault(ref, kind="downtime")
    payer = esite_payer(client, amsi)
    card = add_card(client, payer)
    made = [pay(client, payer, card["id"], f"{100 + n}.00") for n in range(3)]
    drained(client)
    assert [d["state"] for d in deliveries(client, amsi)] == ["pending"] * 3
    _advance(client, amsi, "PT1H")  # an hour of retries, all refused
    first, *rest = deliveries(client, amsi)
    assert first["state"] == "pending", first
    assert first["attempts"] > 1, first
    assert [d["attempts"] for d in rest] == [0, 0]  # waiting behind the first, in order
    assert ref.delete(f"/_ref/faults/{down['id']}").status_code == 204
    _advance(client, amsi, "PT2H")
    assert [d["state"] for d in deliveries(client, amsi)] == ["sent"] * 3
    accepted = [c for c in ref_calls(ref, "AddPayment") if c["verdict"] == "accepted"]
    sent_ids = [c["payload"]["XMLData"]["records"][0]["ClientTransactionID"] for c in accepted]
    assert sent_ids == [p["transaction_id"] for p in made]


def test_a_vendor_rejection_is_not_retried_and_is_in_last_error_and_the_mailbox(
    client: TestClient, amsi: Amsi, ref: httpx.Client
) -> None:
    _fault(ref, kind="reject_next", operation="AddPayment", count=1, code=12, message="Nope")
    payer = esite_payer(client, amsi)
    payment = pay(client, payer, add_card(client, payer)["id"], "500.00")
    drained(client)
    [delivery] = deliveries(client, amsi)
    assert (delivery["state"], delivery["attempts"]) == ("rejected", 1), delivery
    assert delivery["next_attempt_at"] is None
    error = _integration(client, amsi)["last_error"]
    assert error["code"] == "connector_rejected"
    assert (error["vendor_code"], error["delivery_id"]) == (12, delivery["id"])
    assert payment["transaction_id"] in error["detail"]
    [mail] = mailbox(client, amsi.world, kind="connector_failure")
    assert mail["to"] == amsi.world.email
    assert payment["transaction_id"] in mail["subject"]
    _advance(client, amsi, "P1D")
    assert len(ref_calls(ref, "AddPayment")) == 1  # never retried by itself
    # The tester retries it once the cause is gone: the same transaction, now accepted.
    retried = client.post(
        f"/v1/integrations/{amsi.id}/deliveries/{delivery['id']}/retry",
        headers=amsi.world.landlord,
    )
    assert retried.status_code == 200, retried.text
    drained(client)
    [delivery] = deliveries(client, amsi, state="sent")
    assert delivery["subject_id"] == payment["id"]
    again = client.post(
        f"/v1/integrations/{amsi.id}/deliveries/{delivery['id']}/retry",
        headers=amsi.world.landlord,
    )
    assert again.status_code == 409
    assert again.json()["code"] == "delivery_not_retryable"


def test_a_payment_without_a_resi_id_is_not_sent_and_says_why(
    client: TestClient, amsi: Amsi, ref: httpx.Client
) -> None:
    payer = esite_payer(client, amsi, resi=None)
    pay(client, payer, add_card(client, payer)["id"], "500.00")
    drained(client)
    [delivery] = deliveries(client, amsi)
    assert delivery["state"] == "failed", delivery
    assert "ResiID" in delivery["last_response"]["error_description"]
    assert ref_calls(ref, "AddPayment") == []
    assert _integration(client, amsi)["last_error"]["code"] == "connector_unbuildable"


def test_deliveries_of_another_workspace_are_not_found(
    client: TestClient, amsi: Amsi, ref: httpx.Client
) -> None:
    from portal_tests.factories import make_world

    other = make_world(client)
    response = client.get(f"/v1/integrations/{amsi.id}/deliveries", headers=other.landlord)
    assert response.status_code == 404
    assert response.json()["code"] == "integration_not_found"
