"""Two workers drain one outbox at once (issue 16 acceptance 4): every delivery is sent
exactly once, in order. Meaningful on PostgreSQL (``FOR UPDATE SKIP LOCKED`` on the
integration, a compare-and-set claim), where CI runs the suite too; on SQLite the writers take
turns."""

from __future__ import annotations

import threading

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from portal.connectors import worker
from portal_tests.connectors.conftest import Amsi
from portal_tests.connectors.helpers import deliveries, esite_payer, ref_calls
from portal_tests.payments.helpers import add_card, pay


def test_two_workers_deliver_each_row_exactly_once_in_order(
    client: TestClient,
    amsi: Amsi,
    ref: httpx.Client,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The server's own courier stays out of it: the two workers below do all the sending.
    monkeypatch.setattr(client.app.state.courier, "kick", lambda _ids: None)  # type: ignore[attr-defined]
    payer = esite_payer(client, amsi)
    card = add_card(client, payer)
    made = [pay(client, payer, card["id"], f"{10 + n}.00") for n in range(8)]
    assert [d["state"] for d in deliveries(client, amsi)] == ["pending"] * 8
    system = client.app.state.clock  # type: ignore[attr-defined]
    counts: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def work() -> None:
        try:
            start.wait()
            counts.append(worker.deliver(engine, amsi.world.workspace_id, system=system))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert sum(counts) == 8  # eight attempts in all: none twice
    assert [d["state"] for d in deliveries(client, amsi)] == ["sent"] * 8
    calls = ref_calls(ref, "AddPayment")
    assert [c["verdict"] for c in calls] == ["accepted"] * 8
    sent = [c["payload"]["XMLData"]["records"][0]["ClientTransactionID"] for c in calls]
    assert sent == [p["transaction_id"] for p in made]
