"""Two senders drain one workspace's webhooks at once: every delivery is attempted exactly once
(the claim is a compare-and-set ``UPDATE ... RETURNING``). Meaningful on PostgreSQL, where CI
runs the suite too; on SQLite the writers take turns."""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from portal.webhooks import worker
from portal_tests.webhooks.receiver import Receiver
from portal_tests.webhooks.test_webhooks import connected, deliveries, endpoint, send_balances


def test_two_senders_attempt_each_delivery_exactly_once(
    client: TestClient, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The server's own courier stays out of it: the two senders below do all the sending.
    monkeypatch.setattr(client.app.state.webhook_courier, "kick", lambda _ids: None)  # type: ignore[attr-defined]
    world, token = connected(client)
    with Receiver() as receiver:
        hook = endpoint(client, world.landlord, url=receiver.url)
        send_balances(client, token, *[f"t{n:04d}" for n in range(1, 31)])
        queued = deliveries(client, world, hook["id"])
        assert len(queued) == 31  # 30 invitations and the intake
        assert {d["state"] for d in queued} == {"pending"}
        system = client.app.state.clock  # type: ignore[attr-defined]
        counts: list[int] = []
        errors: list[BaseException] = []
        start = threading.Barrier(2)

        def work() -> None:
            try:
                start.wait()
                counts.append(worker.deliver(engine, world.workspace_id, system=system))
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        got = receiver.verified(hook["secret"])
    assert not errors, errors
    assert sum(counts) == 31
    assert len(got) == 31
    assert len({webhook_id for webhook_id, _ in got}) == 31
    done = deliveries(client, world, hook["id"])
    assert {(d["state"], d["attempts"]) for d in done} == {("succeeded", 1)}
