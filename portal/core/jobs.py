"""The job machinery that advancing a workspace clock runs (architecture.md §4).

Two sources of due work:

- **calendar jobs**, computed rather than stored: each gives the first instant at or after a
  point in time at which it falls due (a banking day's cut-off, a settlement, a nightly purge);
- **scheduled events**, stored as rows (``due_at``, kind, payload): one-offs such as a
  magic-value return or a recurring payment, run by the handler of their ``EventKind``.

Features declare their jobs and handlers as module-level values; nothing registers itself on
import. The one place that lists them all is ``portal.sandbox.jobs.REGISTRY``, and
``portal.sandbox.clock.advance_clock`` runs them in the order of ``(due_at, rank, name)`` —
ties follow the rank (cut-off before settlement before returns before payments), then the
name — so one scenario always gives one result.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, Session, SQLModel

from portal.core import calendar
from portal.core.db import UTCDateTime
from portal.core.ids import IdMinter, reserve

# Ranks for ties at one instant (architecture.md §4: cut-off, settlement, returns, payments).
RANK_HOUSEKEEPING = 0
RANK_CUTOFF = 10
RANK_SETTLEMENT = 20
RANK_REPORTS = 25
RANK_RETURNS = 30
RANK_PAYMENTS = 40
RANK_DELIVERIES = 50


@dataclass(frozen=True)
class JobContext:
    """What a job sees: the workspace, its ID minter, and the instant the job is due at."""

    session: Session
    workspace_id: str
    ids: IdMinter
    now: datetime
    settings: Mapping[str, Any]


#: What a job reports; None means it found nothing to do and is left out of the advance's
#: list of jobs run (a daily reminder with nobody pending is noise to a tester).
JobResult = dict[str, Any] | None


@dataclass(frozen=True)
class CalendarJob:
    name: str
    rank: int
    #: First due instant ``>= at_or_after`` for this workspace, or None if it never falls due.
    next_due: Callable[[Mapping[str, Any], datetime], datetime | None]
    run: Callable[[JobContext], JobResult]


def daily(at: time) -> Callable[[Mapping[str, Any], datetime], datetime]:
    """``CalendarJob.next_due`` of a job run every day at ``at``, New York wall time."""

    def next_due(_settings: Mapping[str, Any], at_or_after: datetime) -> datetime:
        day = calendar.local_date(at_or_after)
        while (instant := calendar.at_local(day, at)) < at_or_after:
            day += timedelta(days=1)
        return instant

    return next_due


@dataclass(frozen=True)
class EventKind:
    """A kind of scheduled event and its rank, declared by the feature that schedules it."""

    name: str
    rank: int


@dataclass(frozen=True)
class EventHandler:
    kind: EventKind
    run: Callable[[JobContext, dict[str, Any]], dict[str, Any]]

    @property
    def rank(self) -> int:
        return self.kind.rank


@dataclass
class JobRegistry:
    calendar: dict[str, CalendarJob] = field(default_factory=dict)
    handlers: dict[str, EventHandler] = field(default_factory=dict)

    def add_calendar_job(self, job: CalendarJob) -> CalendarJob:
        if job.name in self.calendar:
            raise ValueError(f"calendar job {job.name!r} is registered twice")
        self.calendar[job.name] = job
        return job

    def add_handler(self, handler: EventHandler) -> EventHandler:
        if handler.kind.name in self.handlers:
            raise ValueError(f"event kind {handler.kind.name!r} is registered twice")
        self.handlers[handler.kind.name] = handler
        return handler

    @classmethod
    def of(cls, calendar: Iterable[CalendarJob], handlers: Iterable[EventHandler]) -> JobRegistry:
        registry = cls()
        for job in calendar:
            registry.add_calendar_job(job)
        for handler in handlers:
            registry.add_handler(handler)
        return registry

    def remove(self, name: str) -> None:
        """Unregister a calendar job or handler (tests plug temporary jobs in and out)."""
        self.calendar.pop(name, None)
        self.handlers.pop(name, None)


class ScheduledEvent(SQLModel, table=True):
    __tablename__ = "scheduled_event"
    __table_args__ = (Index("ix_scheduled_event_pending", "workspace_id", "status", "due_at"),)

    workspace_id: str = Field(foreign_key="workspace.id", primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=40)
    kind: str = Field(max_length=64)
    due_at: datetime = Field(sa_type=UTCDateTime)
    rank: int
    #: Creation order within the workspace; breaks ties between events of one kind and instant.
    seq: int
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=16)
    created_at: datetime = Field(sa_type=UTCDateTime)
    ran_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


def schedule(
    session: Session,
    ids: IdMinter,
    *,
    kind: EventKind,
    due_at: datetime,
    payload: dict[str, Any],
    now: datetime,
) -> ScheduledEvent:
    """Store a one-off event; it runs on the advance that reaches ``due_at`` (or the next
    advance, at the clock's instant, if ``due_at`` is already past). Every kind has a handler
    in ``portal.sandbox.jobs.REGISTRY`` (a test walks the package for ``EventKind`` values)."""
    seq = reserve(session, ids.scope, "event_seq")
    event = ScheduledEvent(
        workspace_id=ids.scope,
        id=ids.new("event", "evt"),
        kind=kind.name,
        due_at=due_at,
        rank=kind.rank,
        seq=seq,
        payload=payload,
        created_at=now,
    )
    session.add(event)
    session.flush()
    return event
