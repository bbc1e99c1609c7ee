"""One heavy request never freezes the others (issue 14, scope 4; docs/decisions.md, Runtime).

Proved by order, not by timing: a live ``portal serve`` (one worker, the suite's database)
takes a large "Send Balances" call, and while that call is provably in progress (its
Idempotency-Key is still in flight in the database; on SQLite it holds the write lock)
``/healthz`` and another workspace's reads answer, even with a write to that workspace sent
first and waiting for the intake. Before the fix every request waited for the intake (and
without the writer gate the waiting write stopped the server). The speed figures are measured
by ``bench/responsiveness.py``, not here.

In process: heavy routes run in a worker thread; their errors are still problem+json and an
integration's last error; GET requests begin deferred on SQLite, so a held write lock does not
stop them; the writer gate's rules.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text
from sqlmodel import Session, col

from portal.balances import service as balances_service
from portal.core.db import WriteInReadOnlyTransaction, WriterGate, read_only
from portal.core.idempotency import IdempotencyRecord
from portal.sandbox import service as sandbox_service
from portal_tests.conftest import OPERATOR_KEY
from portal_tests.factories import OPERATOR, bearer, make_integration, make_token, make_world
from portal_tests.live import LiveServer

#: Large enough that the intake takes seconds on either database, so the reads below have
#: every chance to come back first; the test does not depend on how long it takes.
ROWS = 15_000
INTAKE_KEY = "responsiveness-intake"
PROBLEM = "application/problem+json"


def balances_body(n: int, *, account: str = "00037029011") -> dict[str, Any]:
    rows = [
        {
            "resident_id": f"t{i:06d}",
            "property_id": f"P{i // 100:04d}",
            "property_address": f"{1000 + i // 100} Chapala St",
            "unit_id": f"U{i:06d}",
            "unit": f"#{i % 100 + 1}",
            "name": f"Resident {i}",
            "email": f"resident{i}@example.com" if i % 5 else None,
            "rent": f"{700 + i % 900}.00",
            "balance": f"{(i * 37) % 2000}.00",
            "lease_start": "2025-09-01",
        }
        for i in range(n)
    ]
    return {"bank_account": {"account_number": account}, "residents": rows}


def key_state(engine: Engine, key: str) -> str | None:
    """The Idempotency-Key's state as committed, read without waiting for any writer."""
    with Session(read_only(engine)) as session:
        state: str | None = session.scalars(
            select(col(IdempotencyRecord.state)).where(col(IdempotencyRecord.key) == key)
        ).first()
        return state


def writing(database_url: str) -> bool:
    """On SQLite: whether a transaction holds the write lock. (PostgreSQL has no such lock:
    there, the key in flight is enough.)"""
    if not database_url.startswith("sqlite"):
        return True
    probe = sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=0)
    probe.isolation_level = None
    try:
        probe.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        return True
    probe.execute("ROLLBACK")
    return False


# --- a live server ------------------------------------------------------------------------------


@pytest.fixture
def live(database_url: str, engine: Engine, tmp_path: Path) -> Iterator[LiveServer]:
    # The suite's operator key, so the HTTP builders of ``factories`` work against it.
    env = {"PORTAL_OPERATOR_KEY": OPERATOR_KEY}
    with LiveServer(database_url, tmp_path / "serve.log", env=env) as server:
        yield server


def _client_world(http: httpx.Client, name: str) -> tuple[dict[str, str], dict[str, str]]:
    """A workspace: its landlord's headers and an accounting client's."""
    world = make_world(http, name=name)  # type: ignore[arg-type]
    integration = make_integration(http, world)  # type: ignore[arg-type]
    token = make_token(http, world, integration["id"])["token"]  # type: ignore[arg-type]
    return world.landlord, bearer(token)


class InBackground:
    """One HTTP request sent from a thread of its own; ``sent`` is set once it is on its way."""

    def __init__(self, base: str, method: str, path: str, **options: Any) -> None:
        self.sent = threading.Event()
        self.response: httpx.Response | None = None
        self.client = httpx.Client(
            base_url=base, timeout=600, event_hooks={"request": [lambda _: self.sent.set()]}
        )
        self.thread = threading.Thread(target=self._send, args=(method, path, options))
        self.thread.start()

    def _send(self, method: str, path: str, options: dict[str, Any]) -> None:
        self.response = self.client.request(method, path, **options)

    def result(self) -> httpx.Response:
        self.thread.join(timeout=600)
        self.client.close()
        assert self.response is not None, "no response"
        return self.response


def test_reads_and_healthz_answer_while_a_large_intake_runs(
    live: LiveServer, engine: Engine, database_url: str
) -> None:
    with httpx.Client(base_url=live.base, timeout=300, headers=live.operator) as http:
        _landlord_a, client_a = _client_world(http, "Intake")
        landlord_b, client_b = _client_world(http, "Other")
    intake = InBackground(
        live.base,
        "POST",
        "/v1/integration/balances",
        json=balances_body(ROWS),
        headers={**client_a, "Idempotency-Key": INTAKE_KEY},
    )
    write: InBackground | None = None
    try:
        while key_state(engine, INTAKE_KEY) is None or not writing(database_url):
            assert intake.thread.is_alive(), "the intake ended before it began"
            threading.Event().wait(0.01)
        # The intake has claimed its key and is at work (on SQLite it holds the write lock). A
        # write to the other workspace now waits for it (SQLite has one writer) without holding
        # up the server: sent first, and given a moment to reach the server, it would stop
        # every read below if it waited on the event loop.
        write = InBackground(
            live.base,
            "POST",
            "/v1/integrations",
            json={"name": "Second client", "kind": "landlord12"},
            headers=landlord_b,
        )
        write.sent.wait(timeout=60)
        threading.Event().wait(0.3)
        with httpx.Client(base_url=live.base, timeout=600) as http:
            for path, headers in [
                ("/healthz", {}),
                ("/v1/residents", landlord_b),
                ("/v1/deposit-batches", landlord_b),
                ("/v1/integration/receipt-batches", client_b),
                ("/v1/integration/last-error", client_b),
                ("/healthz", {}),
            ]:
                response = http.get(path, headers=headers)
                assert response.status_code == 200, response.text
                assert key_state(engine, INTAKE_KEY) == "in_flight", (
                    f"GET {path} answered only after the intake had finished"
                )
    finally:
        intake_response = intake.result()
        written = write.result() if write is not None else None
    assert intake_response.status_code == 200, intake_response.text
    assert intake_response.json()["created"] == ROWS
    assert written is not None
    assert written.status_code == 201, written.text
    assert key_state(engine, INTAKE_KEY) == "done"


# --- in process -------------------------------------------------------------------------------


def test_heavy_routes_run_off_the_event_loop(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: dict[str, int] = {}

    def spy(name: str, original: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            threads[name] = threading.get_ident()
            return original(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(
        sandbox_service, "workspace_read", spy("read", sandbox_service.workspace_read)
    )
    monkeypatch.setattr(balances_service, "receive", spy("intake", balances_service.receive))
    monkeypatch.setattr(sandbox_service, "advance", spy("advance", sandbox_service.advance))
    world = make_world(client)
    integration = make_integration(client, world)
    token = make_token(client, world, integration["id"])["token"]
    response = client.get(f"/v1/sandbox/workspaces/{world.workspace_id}", headers=OPERATOR)
    assert response.status_code == 200, response.text
    loop_thread = threads["read"]  # an ordinary route runs on the event loop's thread
    response = client.post("/v1/integration/balances", json=balances_body(3), headers=bearer(token))
    assert response.status_code == 200, response.text
    response = client.post(
        f"/v1/sandbox/workspaces/{world.workspace_id}/clock/advance",
        json={"by": "PT1H"},
        headers=OPERATOR,
    )
    assert response.status_code == 200, response.text
    assert threads["intake"] != loop_thread
    assert threads["advance"] != loop_thread


def test_a_heavy_route_refusal_is_problem_json_and_the_last_error(client: TestClient) -> None:
    world = make_world(client)
    integration = make_integration(client, world)
    headers = bearer(make_token(client, world, integration["id"])["token"])
    # The service refuses the call (a PortalError raised in the worker thread).
    refused = client.post(
        "/v1/integration/balances",
        json=balances_body(5, account=""),
        headers={**headers, "Idempotency-Key": "retry-me"},
    )
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith(PROBLEM)
    assert refused.json()["code"] == "bank_account_missing"
    last = client.get("/v1/integration/last-error", headers=headers).json()["error"]
    assert (last["status"], last["code"]) == (422, "bank_account_missing"), last
    assert last["path"] == "/v1/integration/balances"
    # The refusal stored nothing: the same key may be used again, and now succeeds.
    fixed = client.post(
        "/v1/integration/balances",
        json=balances_body(5),
        headers={**headers, "Idempotency-Key": "retry-me"},
    )
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["created"] == 5


def test_reads_do_not_wait_for_a_held_sqlite_write_lock(
    client: TestClient, database_url: str
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL readers never wait for writers")
    world = make_world(client)
    other = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # the write lock, held as a long intake holds it
        response = client.get("/v1/residents", headers=world.landlord)
        assert response.status_code == 200, response.text
        response = client.get("/v1/deposit-batches", headers=world.landlord)
        assert response.status_code == 200, response.text
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_a_write_in_a_read_only_transaction_warns(engine: Engine) -> None:
    with Session(read_only(engine)) as session:
        assert session.execute(text("SELECT 1")).scalar_one() == 1  # reads are quiet
        with pytest.warns(WriteInReadOnlyTransaction, match="UPDATE workspace"):
            session.execute(text("UPDATE workspace SET name = name WHERE 1 = 0"))
        session.rollback()


class TestWriterGate:
    def test_loop_writers_wait_while_a_thread_writer_holds_it(self) -> None:
        async def scenario() -> list[str]:
            gate, order = WriterGate(exclusive=True), []
            held, release = asyncio.Event(), asyncio.Event()

            async def thread_writer() -> None:
                async with gate.thread_writer():
                    order.append("thread writer in")
                    held.set()
                    await release.wait()
                    order.append("thread writer out")

            async def loop_writer() -> None:
                await held.wait()
                async with gate.loop_writer():
                    order.append("loop writer")

            tasks = [asyncio.create_task(thread_writer()), asyncio.create_task(loop_writer())]
            await held.wait()
            for _ in range(5):
                await asyncio.sleep(0)
            order.append("still waiting")
            release.set()
            await asyncio.gather(*tasks)
            return order

        assert asyncio.run(scenario()) == [
            "thread writer in",
            "still waiting",
            "thread writer out",
            "loop writer",
        ]

    def test_a_thread_writer_waits_for_loop_writers_inside_a_transaction(self) -> None:
        async def scenario() -> list[str]:
            gate, order = WriterGate(exclusive=True), []
            inside, finish = asyncio.Event(), asyncio.Event()

            async def loop_writer() -> None:
                async with gate.loop_writer():
                    inside.set()
                    await finish.wait()
                    order.append("loop writer done")

            async def thread_writer() -> None:
                await inside.wait()
                async with gate.thread_writer():
                    order.append("thread writer")

            tasks = [asyncio.create_task(loop_writer()), asyncio.create_task(thread_writer())]
            await inside.wait()
            for _ in range(5):
                await asyncio.sleep(0)
            finish.set()
            await asyncio.gather(*tasks)
            return order

        assert asyncio.run(scenario()) == ["loop writer done", "thread writer"]

    def test_without_exclusive_writers_nobody_waits(self) -> None:
        async def scenario() -> bool:
            gate = WriterGate(exclusive=False)
            async with gate.thread_writer(), gate.loop_writer():
                return True

        assert asyncio.run(scenario())
