"""Issue 20, webhooks: retries on the workspace clock, auto-disable and resend, the target
policy, whose endpoint gets what, deterministic chaos."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from portal.events import service as events_service
from portal.webhooks.models import WebhookEndpoint
from portal.webhooks.service import Policy, chaos_of, url_refusal
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
from portal_tests.residents.helpers import mailbox
from portal_tests.webhooks.receiver import Receiver
from portal_tests.webhooks.test_events import drained, events


def endpoint(client: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post("/v1/webhooks", json=body, headers=headers)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def deliveries(client: TestClient, world: World, endpoint_id: str) -> list[dict[str, Any]]:
    response = client.get(
        f"/v1/webhooks/{endpoint_id}/deliveries", params={"limit": "500"}, headers=world.landlord
    )
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def send_balances(client: TestClient, token: str, *residents: str) -> None:
    response = client.post(
        "/v1/integration/balances",
        json={"bank_account": BANK, "residents": [line(r) for r in residents]},
        headers=bearer(token),
    )
    assert response.status_code == 200, response.text


def move(client: TestClient, world: World, by: str) -> None:
    advance(client, world.workspace_id, by=by)
    world.landlord_token = login(client, world.email, world.password)


def connected(client: TestClient) -> tuple[World, str]:
    world = make_world(client)
    integration = make_integration(client, world)
    return world, make_token(client, world, integration["id"])["token"]


def test_a_receiver_down_for_two_hours_gets_every_event_once_the_clock_moves_on(
    client: TestClient,
) -> None:
    world, token = connected(client)
    with Receiver() as receiver:
        receiver.status = 500
        hook = endpoint(client, world.landlord, url=receiver.url)
        send_balances(client, token, "t0001")  # resident.invited, balances.received
        drained(client)
        # Two simulated hours of 500s: the first attempt, then after 5 s, 5 min and 30 min.
        move(client, world, "PT2H")
        drained(client)
        failing = deliveries(client, world, hook["id"])
        assert [(d["state"], d["attempts"]) for d in failing] == [("pending", 4)] * 2
        assert {d["next_attempt_at"] for d in failing} == {"2026-07-02T16:35:05Z"}
        receiver.status = 200
        move(client, world, "PT1H")  # the fifth attempt, 2 h after the fourth
        drained(client)
        got = receiver.verified(hook["secret"])

    listed = events(client, world.landlord)
    done = deliveries(client, world, hook["id"])
    assert [(d["state"], d["attempts"], d["last_status"]) for d in done] == [
        ("succeeded", 5, 200)
    ] * 2
    delivered = [webhook_id for webhook_id, _ in got[-2:]]
    assert sorted(delivered) == sorted(e["id"] for e in listed)
    # Every attempt carried the same webhook-id; each is readable with what the receiver said.
    assert sorted({webhook_id for webhook_id, _ in got}) == sorted(e["id"] for e in listed)
    one = client.get(
        f"/v1/webhooks/{hook['id']}/deliveries/{done[0]['id']}", headers=world.landlord
    ).json()
    log = one["attempt_log"]
    assert [a["status"] for a in log] == [500, 500, 500, 500, 200]
    assert [a["at"] for a in log] == [
        "2026-07-02T14:00:00Z",
        "2026-07-02T14:00:05Z",
        "2026-07-02T14:05:05Z",
        "2026-07-02T14:35:05Z",
        "2026-07-02T16:35:05Z",
    ]
    assert log[0]["response_body"] == "receiver is down"
    assert log[0]["request_headers"]["webhook-id"] == one["event_id"]
    assert one["next_attempt_at"] is None


def test_auto_disable_then_enable_and_resend(client: TestClient) -> None:
    world, token = connected(client)
    with Receiver() as receiver:
        receiver.status = 503
        hook = endpoint(client, world.landlord, url=receiver.url, disable_after=1)
        send_balances(client, token, "t0001")
        drained(client)
        move(client, world, "P2D")  # eight attempts over ~27 h, then failed for good
        drained(client)
        state = client.get(f"/v1/webhooks/{hook['id']}", headers=world.landlord).json()
        assert state["enabled"] is False
        assert "failed" in state["disabled_reason"]
        assert {(d["state"], d["attempts"]) for d in deliveries(client, world, hook["id"])} == {
            ("failed", 8)
        }
        [mail] = mailbox(client, world, kind="webhook_disabled")
        assert receiver.url in mail["subject"]
        tried = len(receiver.received)
        # While disabled, nothing is queued or sent.
        send_balances(client, token, "t0002")
        drained(client)
        assert len(receiver.received) == tried
        assert len(deliveries(client, world, hook["id"])) == 2

        receiver.status = 200
        enabled = client.patch(
            f"/v1/webhooks/{hook['id']}", json={"enabled": True}, headers=world.landlord
        )
        assert (enabled.json()["enabled"], enabled.json()["failure_streak"]) == (True, 0)
        resent = client.post(
            f"/v1/webhooks/{hook['id']}/resend",
            json={"failed_since": "2026-07-02T00:00:00Z"},
            headers=world.landlord,
        )
        assert resent.status_code == 202, resent.text
        assert resent.json()["queued"] == 2
        drained(client)
        first = receiver.verified(hook["secret"])[tried:]
        assert sorted(e["type"] for _, e in first) == ["balances.received", "resident.invited"]
        # One event again, by its ID: the same webhook-id as the first time.
        again = first[0][0]
        one = client.post(
            f"/v1/webhooks/{hook['id']}/resend", json={"event_id": again}, headers=world.landlord
        )
        assert one.json()["queued"] == 1
        drained(client)
        assert receiver.verified(hook["secret"])[-1][0] == again

    nothing = client.post(
        f"/v1/webhooks/{hook['id']}/resend",
        json={"failed_since": "2026-08-01T00:00:00Z"},
        headers=world.landlord,
    )
    assert (nothing.status_code, nothing.json()["code"]) == (409, "nothing_to_resend")
    both = client.post(
        f"/v1/webhooks/{hook['id']}/resend",
        json={"event_id": again, "failed_since": "2026-07-02T00:00:00Z"},
        headers=world.landlord,
    )
    assert (both.status_code, both.json()["code"]) == (422, "exactly_one_required")


def test_a_reset_keeps_the_endpoints(client: TestClient) -> None:
    world = make_world(client)
    with Receiver() as receiver:
        hook = endpoint(client, world.landlord, url=receiver.url)
        reset = client.post(f"/v1/sandbox/workspaces/{world.workspace_id}/reset", headers=OPERATOR)
        assert reset.status_code == 200, reset.text
        world.landlord_token = login(client, world.email, world.password)
        kept = client.get(f"/v1/webhooks/{hook['id']}", headers=world.landlord)
        assert kept.status_code == 200, kept.text
        assert deliveries(client, world, hook["id"]) == []
        # It still gets what happens after the reset.
        integration = make_integration(client, world, name="After")
        after = make_token(client, world, integration["id"])["token"]
        send_balances(client, after, "t0001")
        drained(client)
        got = receiver.verified(hook["secret"])
    assert sorted(e["type"] for _, e in got) == ["balances.received", "resident.invited"]
    second = endpoint(client, world.landlord, url="http://127.0.0.1:1/other")
    assert second["id"] != hook["id"]


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.5/hooks",
        "http://169.254.169.254/latest/meta-data",
        "http://example.com/hooks",
        "ftp://127.0.0.1/hooks",
        "http://user:pw@127.0.0.1/hooks",
        "http://[::ffff:10.0.0.1]/hooks",
    ],
)
def test_targets_outside_the_allow_list_are_refused(client: TestClient, url: str) -> None:
    world = make_world(client)
    response = client.post("/v1/webhooks", json={"url": url}, headers=world.landlord)
    assert (response.status_code, response.json()["code"]) == (422, "webhook_url_not_allowed")
    assert client.get("/v1/webhooks", headers=world.landlord).json()["data"] == []


def test_the_allow_list() -> None:
    policy = Policy.of(" hooks.test.internal , 192.168.1.20", 5)
    assert url_refusal("http://127.0.0.1:9000/x", Policy()) is None
    assert url_refusal("http://127.8.9.10/x", Policy()) is None
    assert url_refusal("http://[::1]:9000/x", Policy()) is None
    assert url_refusal("https://localhost/x", Policy()) is None
    assert url_refusal("https://hooks.test.internal/x", policy) is None
    assert url_refusal("http://192.168.1.20:8080/x", policy) is None
    assert url_refusal("https://hooks.test.internal/x", Policy()) is not None
    assert url_refusal("http://192.168.1.21/x", policy) is not None
    assert url_refusal("http://127.0.0.1:99999/x", Policy()) is not None


def test_an_integrations_endpoint_gets_what_it_may_read(client: TestClient) -> None:
    world = make_world(client)
    one = make_integration(client, world, name="One")
    two = make_integration(client, world, name="Two")
    one_token = make_token(client, world, one["id"])["token"]
    two_token = make_token(client, world, two["id"])["token"]
    with Receiver() as receiver:
        hook = endpoint(
            client,
            bearer(one_token),
            url=receiver.url,
            event_types=["balances.received", "resident.invited"],
        )
        assert hook["integration_id"] == one["id"]
        send_balances(client, one_token, "t0001")
        send_balances(client, two_token, "t0002")
        drained(client)
        got = receiver.verified(hook["secret"])
    assert sorted((e["type"], e["integration_id"]) for _, e in got) == [
        ("balances.received", one["id"]),
        ("resident.invited", None),
        ("resident.invited", None),
    ]
    # Endpoints are their owner's: the other integration and the landlord do not see it.
    assert client.get(f"/v1/webhooks/{hook['id']}", headers=bearer(two_token)).status_code == 404
    assert client.get(f"/v1/webhooks/{hook['id']}", headers=world.landlord).status_code == 404
    assert [
        e["id"] for e in client.get("/v1/webhooks", headers=bearer(one_token)).json()["data"]
    ] == [hook["id"]]
    other = make_world(client, name="Other", seed=9)
    assert client.get(f"/v1/webhooks/{hook['id']}", headers=other.landlord).status_code == 404
    # The operator manages the landlord's endpoints of a workspace it names.
    listed = client.get("/v1/webhooks", params={"workspace": world.workspace_id}, headers=OPERATOR)
    assert listed.status_code == 200
    assert listed.json()["data"] == []
    unknown = client.post(
        "/v1/webhooks",
        json={"url": "http://127.0.0.1:1/x", "event_types": ["payment.exploded"]},
        headers=world.landlord,
    )
    assert (unknown.status_code, unknown.json()["code"]) == (422, "unknown_event_type")


def test_chaos_is_seeded() -> None:
    now = datetime(2026, 7, 2, tzinfo=UTC)
    hook = WebhookEndpoint(
        workspace_id="ws",
        id="whe_1",
        url="http://127.0.0.1/x",
        secret="whsec_x",
        chaos={"duplicate_percent": 40, "reorder_window_seconds": 300, "seed": 11},
        created_at=now,
        updated_at=now,
    )
    drawn = [chaos_of(hook, seq) for seq in range(1, 201)]
    assert drawn == [chaos_of(hook, seq) for seq in range(1, 201)]
    duplicates = sum(twice for twice, _ in drawn)
    assert 50 < duplicates < 110  # about 40 % of 200
    waits = {wait for _, wait in drawn}
    assert len(waits) > 50
    assert all(timedelta(0) <= w < timedelta(seconds=300) for w in waits)
    hook.chaos = {**hook.chaos, "seed": 12}
    assert [chaos_of(hook, seq) for seq in range(1, 201)] != drawn
    hook.chaos = {}
    assert chaos_of(hook, 1) == (False, timedelta(0))


def test_an_endpoint_made_while_a_session_lives_gets_its_next_transactions_events(
    client: TestClient, engine: Engine
) -> None:
    """A clock advance is one session committing after every job: the endpoints are read once
    per transaction, so one made by another request between two jobs gets the later events."""
    world, _token = connected(client)
    now = datetime(2026, 7, 6, 14, 0, tzinfo=UTC)
    with Session(engine) as session:
        events_service.emit(session, world.workspace_id, "work_order.created", "wo_a", now=now)
        session.commit()  # no endpoint yet
        hook = endpoint(client, world.landlord, url="http://127.0.0.1:9/hook")
        events_service.emit(session, world.workspace_id, "work_order.created", "wo_b", now=now)
        session.commit()
    queued = deliveries(client, world, hook["id"])

    assert [d["event_type"] for d in queued] == ["work_order.created"]
    assert len({d["event_id"] for d in queued}) == 1
