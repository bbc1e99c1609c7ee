"""Advancing a workspace clock: run every job due, in order (architecture.md §4).

An advance repeatedly takes the earliest due job at or before the target — a calendar job of
``REGISTRY`` or a stored event — moves the clock to its instant, runs it, and checkpoints
(commits), so a crash leaves the world consistent at the last completed job and a new advance
continues from there. The sandbox layer owns this because it is the one layer that sees every
feature's jobs (``portal.sandbox.jobs``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col

from portal.core import calendar, faults, jobs
from portal.core.clock import Clock, ClockMode, as_aware
from portal.core.errors import Conflict, Unprocessable
from portal.sandbox.jobs import REGISTRY
from portal.workspaces import service as workspaces_service
from portal.workspaces.models import Workspace

_ONE_US = timedelta(microseconds=1)


class ClockBackwards(Conflict):
    code = "clock_backwards"


class AdvanceTooFar(Unprocessable):
    code = "advance_too_far"


#: One advance covers at most this much workspace time: every job in it runs (and commits) in
#: the request, so an unbounded jump (a fuzzer's year 6639) would hold the workspace for hours.
#: Longer journeys are several calls.
MAX_ADVANCE = timedelta(days=5 * 366)


@dataclass(frozen=True)
class JobRun:
    name: str
    source: str
    due_at: datetime
    ran_at: datetime
    result: dict[str, Any]


@dataclass(frozen=True)
class _Due:
    key: tuple[datetime, int, int, str]
    calendar_job: jobs.CalendarJob | None = None
    event: jobs.ScheduledEvent | None = None

    @property
    def name(self) -> str:
        if self.calendar_job is not None:
            return self.calendar_job.name
        assert self.event is not None
        return self.event.kind


def target_for(
    ws: Workspace,
    now: datetime,
    *,
    to: datetime | None = None,
    by: str | None = None,
    banking_days: int | None = None,
) -> datetime:
    """The instant an advance request names. ``banking_days`` keeps the New York time of day."""
    try:
        if to is not None:
            target = as_aware(to)
        elif by is not None:
            target = calendar.add_duration(now, calendar.parse_duration(by))
        else:
            assert banking_days is not None
            local = now.astimezone(calendar.TZ)
            day = calendar.add_banking_days(local.date(), banking_days)
            target = calendar.at_local(day, local.time().replace(tzinfo=None))
    except (ValueError, OverflowError):
        raise AdvanceTooFar("That instant is beyond the calendar.") from None
    if target - now > MAX_ADVANCE:
        raise AdvanceTooFar(
            f"One advance covers at most {MAX_ADVANCE.days} days of workspace time "
            f"(asked for {(target - now).days}); advance in several steps.",
            extra={"max_days": MAX_ADVANCE.days},
        )
    return target


class Deliverer(Protocol):
    """Sends a workspace's outbox at a job's instant (after the job has committed)."""

    def due(self, session: Session) -> bool:
        """Whether the outbox holds anything to send (read in the job's transaction)."""
        ...

    def __call__(self, at: datetime) -> object: ...


#: The two reads every job of an advance makes, built once with bound parameters: building an
#: ORM select per call cost ~3x its execution (statement and cache key), once per job.
_LOCK = (
    select(Workspace)
    .where(col(Workspace.id) == bindparam("workspace_id"))
    .with_for_update()
    # Re-read, never trust the identity map: another worker may have advanced meanwhile.
    .execution_options(populate_existing=True)
)
_NEXT_EVENT = (
    select(jobs.ScheduledEvent)
    .where(
        col(jobs.ScheduledEvent.workspace_id) == bindparam("workspace_id"),
        col(jobs.ScheduledEvent.status) == "pending",
        col(jobs.ScheduledEvent.due_at)
        <= bindparam("target", type_=jobs.ScheduledEvent.__table__.c.due_at.type),  # type: ignore[attr-defined]
    )
    .order_by(
        col(jobs.ScheduledEvent.due_at),
        col(jobs.ScheduledEvent.rank),
        col(jobs.ScheduledEvent.seq),
    )
    .limit(1)
)


_WORKSPACE = Workspace.__table__  # type: ignore[attr-defined]
#: What each job moves: the clock to its instant and the cursor past it. A Core UPDATE built
#: once, where changing the ORM object cost a unit-of-work flush (a quarter of an empty day's
#: advance) and a second UPDATE through the job's first autoflush.
_MOVE = (
    update(_WORKSPACE)
    .where(_WORKSPACE.c.id == bindparam("workspace_id"))
    .values(
        clock_now=bindparam("to_now", type_=_WORKSPACE.c.clock_now.type),
        jobs_cursor_at=bindparam("to_cursor_at", type_=_WORKSPACE.c.jobs_cursor_at.type),
        jobs_cursor_rank=bindparam("to_cursor_rank"),
        jobs_cursor_name=bindparam("to_cursor_name"),
    )
)


def _lock(session: Session, workspace_id: str) -> Workspace:
    # One advance per workspace at a time: a row lock on PostgreSQL; SQLite's BEGIN IMMEDIATE
    # already serializes writers.
    ws = session.scalars(_LOCK, {"workspace_id": workspace_id}).one_or_none()
    if ws is None:
        raise workspaces_service.WorkspaceNotFound(f"No workspace {workspace_id!r}.")
    return ws


def _next_calendar(ws: Workspace, target: datetime) -> _Due | None:
    cursor_at = as_aware(ws.jobs_cursor_at)
    cursor_key = (ws.jobs_cursor_rank, ws.jobs_cursor_name)
    best: _Due | None = None
    for job in REGISTRY.calendar.values():
        due = job.next_due(ws.settings, cursor_at)
        if due is not None and due == cursor_at and (job.rank, job.name) <= cursor_key:
            due = job.next_due(ws.settings, cursor_at + _ONE_US)
        if due is None or due > target:
            continue
        candidate = _Due(key=(due, job.rank, 0, job.name), calendar_job=job)
        if best is None or candidate.key < best.key:
            best = candidate
    return best


def _next_event(session: Session, ws: Workspace, target: datetime, now: datetime) -> _Due | None:
    event = session.scalars(_NEXT_EVENT, {"workspace_id": ws.id, "target": target}).one_or_none()
    if event is None:
        return None
    due = max(as_aware(event.due_at), now)
    return _Due(key=(due, event.rank, 1, f"{event.seq:020d}"), event=event)


def advance_clock(
    session: Session,
    workspace_id: str,
    *,
    target: datetime | None,
    system: Clock,
    checkpoint: Callable[[], None],
    deliver: Deliverer | None = None,
) -> tuple[datetime, list[JobRun]]:
    """Run every job due up to ``target`` (None: the workspace's current instant) in order,
    then leave the clock at ``target``.

    Returns the previous instant and the jobs run. ``checkpoint`` commits after each job
    (architecture.md §4: each event commits on its own and moves the clock with it).
    ``deliver`` (only with a committing checkpoint) sends the outbox after each job, at the
    job's instant: payments reach the accounting system when they are made, in order, before
    the next job (issue 16).
    """
    ws = _lock(session, workspace_id)
    previous = now = workspaces_service.now_of(ws, system)
    # None: up to the workspace's own instant, read under the lock (the real-clock tick; a
    # target computed before the lock could already be behind another worker's advance).
    target = now if target is None else as_aware(target)
    if target < now:
        raise ClockBackwards(
            f"The clock is at {now.isoformat()}; it never moves backwards "
            f"(asked for {target.isoformat()}). Reset the workspace to start over.",
            extra={"now": now.isoformat()},
        )
    runs: list[JobRun] = []
    # Every job due runs, however many (issue 15: a cap that stopped jobs while the clock
    # jumped on would silently skip payments). An advance is bounded by MAX_ADVANCE instead,
    # and every calendar job moves the cursor strictly forward, so the loop ends.
    while True:
        cal = _next_calendar(ws, target)
        # A job runs at its own due instant, even when a real-mode clock has already passed it
        # (the tick came late); only events scheduled in the past run at the stored instant.
        floor = as_aware(ws.clock_now)
        evt = _next_event(session, ws, target, floor)
        due = min((d for d in (cal, evt) if d is not None), key=lambda d: d.key, default=None)
        if due is None:
            break
        run_at = max(due.key[0], floor)
        # The job sees the clock at its instant; the row is written once, after the job (_MOVE).
        set_committed_value(ws, "clock_now", run_at)
        ctx = jobs.JobContext(
            session=session,
            workspace_id=ws.id,
            ids=workspaces_service.minter(ws, session),
            now=run_at,
            settings=ws.settings,
        )
        faults.reached(due.name, "start")
        if due.calendar_job is not None:
            job = due.calendar_job
            result = job.run(ctx)
            set_committed_value(ws, "jobs_cursor_at", run_at)
            set_committed_value(ws, "jobs_cursor_rank", job.rank)
            set_committed_value(ws, "jobs_cursor_name", job.name)
            if result is not None:
                runs.append(JobRun(job.name, "calendar", due.key[0], run_at, result))
        else:
            assert due.event is not None
            event = due.event
            handler = REGISTRY.handlers[event.kind]
            result = handler.run(ctx, dict(event.payload))
            event.status, event.ran_at = "done", run_at
            runs.append(JobRun(event.kind, "event", as_aware(event.due_at), run_at, result))
        session.flush()
        session.connection().execute(
            _MOVE,
            {
                "workspace_id": ws.id,
                "to_now": run_at,
                "to_cursor_at": ws.jobs_cursor_at,
                "to_cursor_rank": ws.jobs_cursor_rank,
                "to_cursor_name": ws.jobs_cursor_name,
            },
        )
        faults.reached(due.name, "end")
        # Asked inside the job's own transaction, so a job that queued nothing (most of them,
        # and every job of a workspace without a connector) costs no outbox pass of its own.
        to_send = deliver is not None and deliver.due(session)
        checkpoint()
        if to_send:
            assert deliver is not None
            deliver(run_at)
        ws = _lock(session, workspace_id)
    ws.clock_now = target
    if ws.clock_mode is ClockMode.REAL:
        ws.clock_offset_us = max(ws.clock_offset_us, workspaces_service.us(target - system.now()))
    session.flush()
    checkpoint()
    return previous, runs
