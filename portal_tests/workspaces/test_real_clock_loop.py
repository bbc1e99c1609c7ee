"""``portal serve`` moves ``real``-mode workspaces with the wall clock in the background."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from portal import jobs
from portal.clock import FixedClock
from portal.main import create_app
from portal.settings import Settings
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

        jobs.registry.add_calendar_job(jobs.CalendarJob("test.real", 5, next_due, run))
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
            jobs.registry.remove("test.real")
        assert ran == [start + timedelta(hours=1)]  # at its own instant, not when the tick came
        assert now.json()["mode"] == "real"
        assert now.json()["now"] == (start + timedelta(hours=2)).isoformat().replace("+00:00", "Z")
