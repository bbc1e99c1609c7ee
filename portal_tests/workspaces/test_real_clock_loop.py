"""``portal serve`` moves ``real``-mode workspaces with the wall clock in the background."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from portal.core import jobs
from portal.core.clock import FixedClock, SystemClock
from portal.core.settings import Settings
from portal.main import create_app
from portal.sandbox import service as sandbox_service
from portal.sandbox.jobs import REGISTRY
from portal_tests.factories import OPERATOR, make_workspace


class TestRealClockLoop:
    def test_due_jobs_run_without_an_advance_call(
        self, settings: Settings, engine: Engine, clock: FixedClock
    ) -> None:
        ran: list[datetime] = []
        start = clock.now()

        def next_due(_settings: object, at_or_after: datetime) -> datetime | None:
            due = start + timedelta(hours=1)
            return due if at_or_after <= due else None

        def run(ctx: jobs.JobContext) -> jobs.JobResult:
            ran.append(ctx.now)
            return {}

        REGISTRY.add_calendar_job(jobs.CalendarJob("test.real", 5, next_due, run))
        fast = settings.model_copy(
            update={"run_real_clocks": True, "real_clock_tick_seconds": 0.02}
        )
        try:
            with TestClient(create_app(fast, engine=engine, clock=clock)) as client:
                ws = make_workspace(client, clock={"mode": "real"})
                clock.advance(timedelta(hours=2))
                deadline = time.monotonic() + 5
                while not ran and time.monotonic() < deadline:
                    time.sleep(0.02)
                now = client.get(f"/v1/sandbox/workspaces/{ws['id']}/clock", headers=OPERATOR)
        finally:
            REGISTRY.remove("test.real")
        assert ran == [start + timedelta(hours=1)]  # at its own instant, not when the tick came
        assert now.json()["mode"] == "real"
        assert now.json()["now"] == (start + timedelta(hours=2)).isoformat().replace("+00:00", "Z")


class TestConcurrentTicks:
    def test_two_workers_ticking_one_workspace_never_fail(
        self, client: TestClient, engine: Engine, caplog: pytest.LogCaptureFixture
    ) -> None:
        # The real system clock, as two uvicorn workers would each read it.
        make_workspace(client, clock={"mode": "real"})
        errors: list[BaseException] = []

        def worker() -> None:
            try:
                for _ in range(40):
                    sandbox_service.run_real_clocks(engine, SystemClock())
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(2)]
        with caplog.at_level(logging.ERROR, logger="portal.core.clock"):
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        assert errors == []
        assert [r.getMessage() for r in caplog.records] == []
