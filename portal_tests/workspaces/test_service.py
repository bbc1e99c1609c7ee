"""Advancing a workspace clock runs due jobs in time order, deterministically, resumably."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from portal.core import jobs
from portal.core.clock import ClockMode, FixedClock
from portal.sandbox import clock as sandbox_clock
from portal.sandbox import service as sandbox_service
from portal.sandbox.jobs import REGISTRY
from portal.workspaces import service
from portal.workspaces.models import Workspace

START = datetime(2026, 7, 2, 14, 0, tzinfo=UTC)  # Thursday 10:00 New York


TEST_EVENT = jobs.EventKind("test.event", jobs.RANK_RETURNS)


def make_ws(
    session: Session, *, mode: ClockMode = ClockMode.SIMULATED, ws_id: str = "ws_t"
) -> Workspace:
    ws = service.create_workspace(
        session,
        workspace_id=ws_id,
        name="t",
        seed=1,
        clock_mode=mode,
        start=START,
        settings={},
        now=START,
    )
    session.commit()
    return ws


def every(hours: int, offset_minutes: int = 0) -> Any:
    """A calendar: every ``hours`` hours from START (+ offset)."""

    def next_due(_settings: Mapping[str, Any], at_or_after: datetime) -> datetime:
        base = START + timedelta(minutes=offset_minutes)
        step = timedelta(hours=hours)
        if at_or_after <= base:
            return base
        n = -(-(at_or_after - base) // step)
        return base + n * step

    return next_due


class Log(list[tuple[str, datetime]]):
    """What the test jobs saw, in order; ``add`` registers a calendar job that logs."""

    add: Any


@pytest.fixture
def log() -> Iterator[Log]:
    entries = Log()
    names: list[str] = []

    def add(name: str, rank: int, hours: int, offset: int = 0) -> None:
        def run(ctx: jobs.JobContext) -> jobs.JobResult:
            entries.append((name, ctx.now))
            return {"n": len(entries)}

        REGISTRY.add_calendar_job(jobs.CalendarJob(name, rank, every(hours, offset), run))
        names.append(name)

    def event(ctx: jobs.JobContext, payload: dict[str, Any]) -> jobs.JobResult:
        entries.append((f"event:{payload['tag']}", ctx.now))
        if payload.get("chain"):
            jobs.schedule(
                ctx.session,
                ctx.ids,
                kind=TEST_EVENT,
                due_at=ctx.now + timedelta(hours=1),
                payload={"tag": payload["chain"]},
                now=ctx.now,
            )
        return {}

    REGISTRY.add_handler(jobs.EventHandler(TEST_EVENT, event))
    names.append("test.event")
    entries.add = add
    # Keep the production calendar jobs out of these counts.
    saved = dict(REGISTRY.calendar)
    REGISTRY.calendar.clear()
    yield entries
    for name in names:
        REGISTRY.remove(name)
    REGISTRY.calendar.update(saved)


def advance(
    session: Session, to: datetime, clock: FixedClock | None = None
) -> list[sandbox_clock.JobRun]:
    _prev, runs = sandbox_clock.advance_clock(
        session, "ws_t", target=to, system=clock or FixedClock(START), checkpoint=session.commit
    )
    return runs


class TestAdvanceClock:
    def test_runs_jobs_in_time_order_with_the_clock_at_each_instant(
        self, session: Session, log: Any
    ) -> None:
        make_ws(session)
        log.add("b.every6h", jobs.RANK_SETTLEMENT, 6)
        log.add("a.every4h", jobs.RANK_CUTOFF, 4)
        runs = advance(session, START + timedelta(hours=12))
        assert [(n, t - START) for n, t in log] == [
            ("a.every4h", timedelta(hours=4)),
            ("b.every6h", timedelta(hours=6)),
            ("a.every4h", timedelta(hours=8)),
            ("a.every4h", timedelta(hours=12)),
            ("b.every6h", timedelta(hours=12)),  # a tie: lower rank first
        ]
        assert [r.name for r in runs] == [n for n, _ in log]
        assert service.get_workspace(session, "ws_t").clock_now == START + timedelta(hours=12)

    def test_ties_of_equal_rank_follow_the_name(self, session: Session, log: Any) -> None:
        make_ws(session)
        log.add("z.job", jobs.RANK_CUTOFF, 1)
        log.add("m.job", jobs.RANK_CUTOFF, 1)
        advance(session, START + timedelta(hours=1))
        assert [n for n, _ in log] == ["m.job", "z.job"]

    def test_nothing_due_at_the_start_instant_runs(self, session: Session, log: Any) -> None:
        make_ws(session)
        log.add("a.every4h", jobs.RANK_CUTOFF, 4)
        assert advance(session, START) == []
        assert log == []

    def test_stored_events_run_with_calendar_jobs_and_can_schedule_more(
        self, session: Session, log: Any
    ) -> None:
        ws = make_ws(session)
        log.add("a.every2h", jobs.RANK_CUTOFF, 2)
        jobs.schedule(
            session,
            service.minter(ws, session),
            kind=TEST_EVENT,
            due_at=START + timedelta(hours=2),
            payload={"tag": "one", "chain": "two"},
            now=START,
        )
        session.commit()
        advance(session, START + timedelta(hours=4))
        assert [(n, t - START) for n, t in log] == [
            ("a.every2h", timedelta(hours=2)),  # cut-off rank before returns rank
            ("event:one", timedelta(hours=2)),
            ("event:two", timedelta(hours=3)),  # scheduled by the first, same advance
            ("a.every2h", timedelta(hours=4)),
        ]

    def test_an_event_is_run_once(self, session: Session, log: Any) -> None:
        ws = make_ws(session)
        jobs.schedule(
            session,
            service.minter(ws, session),
            kind=TEST_EVENT,
            due_at=START + timedelta(hours=1),
            payload={"tag": "x"},
            now=START,
        )
        session.commit()
        advance(session, START + timedelta(hours=2))
        advance(session, START + timedelta(hours=3))
        assert [n for n, _ in log] == ["event:x"]

    def test_a_crash_mid_advance_keeps_completed_jobs_and_the_next_advance_continues(
        self, session: Session, engine: Engine, log: Any
    ) -> None:
        make_ws(session)
        log.add("a.every1h", jobs.RANK_CUTOFF, 1)
        calls = {"n": 0}

        def flaky(ctx: jobs.JobContext) -> jobs.JobResult:
            calls["n"] += 1
            if calls["n"] == 3:
                raise RuntimeError("power cut")
            return {}

        REGISTRY.add_calendar_job(
            jobs.CalendarJob("b.flaky", jobs.RANK_SETTLEMENT, every(1), flaky)
        )
        try:
            with pytest.raises(RuntimeError):
                advance(session, START + timedelta(hours=5))
            session.rollback()
            with Session(engine) as fresh:
                ws = fresh.get(Workspace, "ws_t")
                assert ws is not None
                # a.every1h ran at 1h, 2h, 3h; b.flaky completed at 1h, 2h, then failed at 3h.
                assert ws.clock_now == START + timedelta(hours=3)
            runs = advance(session, START + timedelta(hours=5))
            assert [(r.name, r.ran_at - START) for r in runs] == [
                ("b.flaky", timedelta(hours=3)),
                ("a.every1h", timedelta(hours=4)),
                ("b.flaky", timedelta(hours=4)),
                ("a.every1h", timedelta(hours=5)),
                ("b.flaky", timedelta(hours=5)),
            ]
            assert [n for n, _ in log].count("a.every1h") == 5  # none ran twice
        finally:
            REGISTRY.remove("b.flaky")

    def test_never_backwards(self, session: Session, log: Any) -> None:
        make_ws(session)
        advance(session, START + timedelta(hours=1))
        with pytest.raises(sandbox_clock.ClockBackwards):
            advance(session, START)


class TestTargetFor:
    def test_banking_days_keep_the_new_york_time_across_dst(self, session: Session) -> None:
        ws = make_ws(session)
        friday = datetime(2026, 10, 30, 14, 0, tzinfo=UTC)  # 10:00 EDT
        monday = sandbox_clock.target_for(ws, friday, banking_days=1)
        assert monday == datetime(2026, 11, 2, 15, 0, tzinfo=UTC)  # 10:00 EST

    def test_banking_days_skip_holidays(self, session: Session) -> None:
        ws = make_ws(session)
        assert sandbox_clock.target_for(ws, START, banking_days=2) == datetime(
            2026, 7, 6, 14, 0, tzinfo=UTC
        )


class TestRealClock:
    def test_real_clock_follows_the_system_and_advancing_adds_an_offset(
        self, session: Session, engine: Engine, log: Any
    ) -> None:
        make_ws(session, mode=ClockMode.REAL)
        system = FixedClock(START)
        log.add("a.every1h", jobs.RANK_CUTOFF, 1)
        system.advance(timedelta(minutes=90))
        ws = service.get_workspace(session, "ws_t")
        assert service.now_of(ws, system) == START + timedelta(minutes=90)
        session.commit()  # SQLite: release the read transaction before another writer runs
        assert sandbox_service.run_real_clocks(engine, system) == 1  # the 1h job fell due
        advance(session, START + timedelta(hours=5), clock=system)
        session.expire_all()
        ws = service.get_workspace(session, "ws_t")
        assert service.now_of(ws, system) == START + timedelta(hours=5)
        system.advance(timedelta(minutes=30))
        assert service.now_of(ws, system) == START + timedelta(hours=5, minutes=30)
        assert [t - START for _, t in log] == [timedelta(hours=h) for h in range(1, 6)]
