"""Issue 20, events: written with the change they describe, in order, each principal seeing its
own; and the acceptance flow: the Landlord 12 pull flow and a return, read back as events and
received as signed webhooks under the duplicate and reorder switches."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from portal_tests.balances.test_router import BANK, line
from portal_tests.factories import (
    OPERATOR,
    World,
    advance,
    bearer,
    login,
    make_integration,
    make_token,
    make_world,
)
from portal_tests.payments.helpers import ROUTING
from portal_tests.residents.helpers import mailbox
from portal_tests.webhooks.receiver import Receiver


def events(client: TestClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    response = client.get("/v1/events", params={"limit": "500", **params}, headers=headers)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def drained(client: TestClient) -> None:
    """Wait until the server has sent every webhook due now."""
    client.portal.call(client.app.state.webhook_courier.idle)  # type: ignore[attr-defined,union-attr]


class PullFlow:
    """A Landlord 12 workspace: Send Balances invites a resident, who accepts and pays by ACH;
    the batch closes, the client loads it, it is deposited; then the bank returns it."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.world: World = make_world(client)
        self.integration = make_integration(client, self.world)
        self.token = make_token(client, self.world, self.integration["id"])["token"]
        self.steps: list[tuple[str, list[str]]] = []

    def step(self, name: str, before: int) -> None:
        now = events(self.client, self.world.landlord, since=str(before))
        self.steps.append((name, [e["type"] for e in now]))

    def last_seq(self) -> int:
        listed = events(self.client, self.world.landlord)
        return int(listed[-1]["seq"]) if listed else 0

    def run(self) -> str:
        c, world = self.client, self.world
        seq = self.last_seq()
        response = c.post(
            "/v1/integration/balances",
            json={
                "bank_account": BANK,
                "residents": [line("t0001", name="Philip Rivers", email="privers@fake.com")],
            },
            headers=bearer(self.token),
        )
        assert response.status_code == 200, response.text
        self.step("send balances", seq)

        seq = self.last_seq()
        [mail] = mailbox(c, world, kind="invitation")
        accepted = c.post(
            f"/v1/resident/invites/{mail['data']['invite_code']}/accept",
            json={"password": "s3cret-pass"},
        )
        assert accepted.status_code == 200, accepted.text
        self.step("accept the invitation", seq)

        seq = self.last_seq()
        resident = bearer(accepted.json()["access_token"])
        source = c.post(
            "/v1/resident/payment-sources",
            json={
                "type": "bank_account",
                "routing_number": ROUTING,
                "account_number": "000123456789",
            },
            headers=resident,
        ).json()
        [lease] = c.get("/v1/resident/leases", headers=resident).json()["data"]
        paid = c.post(
            "/v1/resident/payments",
            json={
                "lease_id": lease["id"],
                "payment_source_id": source["id"],
                "amount": "750.00",
                "type": "rent",
            },
            headers=resident,
        )
        assert paid.status_code == 201, paid.text
        self.step("pay", seq)

        seq = self.last_seq()
        advance(c, world.workspace_id, to="2026-07-07T12:00:00Z")
        world.landlord_token = login(c, world.email, world.password)  # it expired meanwhile
        self.step("cut-off and settlement", seq)

        seq = self.last_seq()
        loaded = c.get(
            "/v1/integration/receipt-batches",
            params={"state": "unprocessed"},
            headers=bearer(self.token),
        )
        assert loaded.status_code == 200, loaded.text
        self.step("the client loads its receipts", seq)

        seq = self.last_seq()
        payment_id: str = paid.json()["id"]
        returned = c.post(
            f"/v1/sandbox/workspaces/{world.workspace_id}/payments/{payment_id}/return",
            json={"code": "R01"},
            headers=OPERATOR,
        )
        assert returned.status_code == 201, returned.text
        self.step("the bank returns it", seq)
        return payment_id


def test_the_pull_flow_and_a_return_read_back_as_events_in_order(client: TestClient) -> None:
    flow = PullFlow(client)
    payment_id = flow.run()

    assert flow.steps == [
        ("send balances", ["resident.invited", "balances.received"]),
        ("accept the invitation", ["resident.approved"]),
        ("pay", ["deposit_batch.opened", "payment.created"]),
        (
            "cut-off and settlement",
            ["deposit_batch.closed", "payment.completed", "deposit_batch.deposited"],
        ),
        ("the client loads its receipts", []),
        ("the bank returns it", ["reversal_batch.created", "payment.returned"]),
    ]
    listed = events(client, flow.world.landlord)
    assert [e["seq"] for e in listed] == sorted(e["seq"] for e in listed)
    assert len({e["id"] for e in listed}) == len(listed)
    by_type = {e["type"]: e for e in listed}
    # The facts of each change at its instant; the object as the API returns it now.
    created, completed, returned = (
        by_type["payment.created"],
        by_type["payment.completed"],
        by_type["payment.returned"],
    )
    assert created["data"]["status"] == "processing"
    assert completed["data"]["status"] == "completed"
    assert returned["data"]["return_code"] == "R01"
    assert returned["subject"] == {"type": "payment", "id": payment_id}
    landlord_view = client.get(f"/v1/payments/{payment_id}", headers=flow.world.landlord).json()
    obj = returned["data"]["object"]
    assert obj["id"] == payment_id
    assert obj["status"] == landlord_view["status"] == "returned"
    assert obj["amount"] == "750.00"
    # Times are the workspace clock's.
    assert created["timestamp"] == "2026-07-02T14:00:00Z"
    assert completed["timestamp"] == "2026-07-03T10:00:00Z"  # settled Friday 06:00 New York


def test_webhooks_arrive_signed_once_each_after_dedup_under_duplicates_and_reordering(
    client: TestClient,
) -> None:
    flow = PullFlow(client)
    with Receiver() as receiver:
        created = client.post(
            "/v1/webhooks",
            json={
                "url": receiver.url,
                "chaos": {"duplicate_percent": 50, "reorder_window_seconds": 600, "seed": 3},
            },
            headers=flow.world.landlord,
        )
        assert created.status_code == 201, created.text
        secret = created.json()["secret"]
        assert secret.startswith("whsec_")
        assert (
            "secret"
            not in client.get(
                f"/v1/webhooks/{created.json()['id']}", headers=flow.world.landlord
            ).json()
        )
        flow.run()
        # The reorder window holds each delivery up to ten minutes of workspace time.
        advance(client, flow.world.workspace_id, by="PT1H")
        flow.world.landlord_token = login(client, flow.world.email, flow.world.password)
        drained(client)
        got = receiver.verified(secret)

    listed = events(client, flow.world.landlord)
    ids = [webhook_id for webhook_id, _ in got]
    assert len(ids) > len(set(ids)), "the duplicate switch sent nothing twice"
    assert set(ids) == {e["id"] for e in listed}
    # Each event once after de-duplication by webhook-id, the body the one the API lists.
    unique = dict(got)
    assert {e["id"]: e["type"] for e in listed} == {k: v["type"] for k, v in unique.items()}
    first_seen = list(dict.fromkeys(ids))
    seqs = [unique[i]["seq"] for i in first_seen]
    assert seqs != sorted(seqs), "the reorder switch delivered everything in order"
    for webhook_id, body in got:
        assert body["id"] == webhook_id


def test_each_principal_reads_its_own_events(client: TestClient) -> None:
    world = make_world(client)
    one = make_integration(client, world, name="One")
    two = make_integration(client, world, name="Two")
    one_token = make_token(client, world, one["id"])["token"]
    two_token = make_token(client, world, two["id"])["token"]
    for token, resident in ((one_token, "t0001"), (two_token, "t0002")):
        response = client.post(
            "/v1/integration/balances",
            json={"bank_account": BANK, "residents": [line(resident, email=None)]},
            headers=bearer(token),
        )
        assert response.status_code == 200, response.text

    def received(headers: dict[str, str], **params: str) -> list[str | None]:
        return [
            e["integration_id"] for e in events(client, headers, type="balances.received", **params)
        ]

    assert received(world.landlord) == [one["id"], two["id"]]
    assert received(bearer(one_token)) == [one["id"]]
    assert received(bearer(two_token)) == [two["id"]]
    assert received(OPERATOR, workspace=world.workspace_id) == [one["id"], two["id"]]
    refused = client.get("/v1/events", headers=OPERATOR)
    assert (refused.status_code, refused.json()["code"]) == (422, "workspace_required")
    other = make_world(client, name="Other", seed=8)
    assert received(other.landlord) == []
    missing = client.get("/v1/events", params={"workspace": "ws_nope"}, headers=OPERATOR)
    assert missing.status_code == 404
    assert client.get("/v1/events").status_code == 401


def test_since_type_filters_and_pages(client: TestClient) -> None:
    flow = PullFlow(client)
    flow.run()
    landlord = flow.world.landlord
    everything = events(client, landlord)
    middle = everything[3]["seq"]
    assert events(client, landlord, since=str(middle)) == everything[4:]
    payments = events(client, landlord, type=["payment.created", "payment.returned"])
    assert [e["type"] for e in payments] == ["payment.created", "payment.returned"]
    pages: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/events", params=params, headers=landlord).json()
        pages += page["data"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == everything
    unknown = client.get("/v1/events", params={"type": "payment.exploded"}, headers=landlord)
    assert (unknown.status_code, unknown.json()["code"]) == (422, "unknown_event_type")
    # The operator's feed is the same list.
    operator_feed = client.get(
        f"/v1/sandbox/workspaces/{flow.world.workspace_id}/events",
        params={"limit": "500"},
        headers=OPERATOR,
    ).json()["data"]
    assert operator_feed == everything


def test_a_refused_request_leaves_no_event(client: TestClient) -> None:
    world = make_world(client)
    integration = make_integration(client, world)
    token = make_token(client, world, integration["id"])["token"]
    before = events(client, world.landlord)
    bad = client.post(
        "/v1/integration/balances",
        json={"residents": [line("t0001")]},  # no bank account: 422, nothing written
        headers=bearer(token),
    )
    assert bad.status_code == 422
    assert events(client, world.landlord) == before
