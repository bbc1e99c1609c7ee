"""Workspaces and their clocks: create, find, wipe, reset, and read the workspace instant.

Advancing the clock (running the jobs due) belongs to the sandbox layer,
``portal.sandbox.clock``, which sees every feature's jobs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlmodel import Session, SQLModel, col

from portal.core.clock import Clock, ClockMode, as_aware, workspace_now
from portal.core.errors import Conflict, NotFound
from portal.core.ids import GLOBAL_SCOPE, IdCounter, IdMinter, seed_from_text
from portal.core.pagination import keyset
from portal.workspaces.models import Workspace
from portal.workspaces.schemas import WorkspaceSettings


class WorkspaceNotFound(NotFound):
    code = "workspace_not_found"


class WorkspaceExists(Conflict):
    code = "workspace_exists"


def get_workspace(session: Session, workspace_id: str) -> Workspace:
    ws = session.get(Workspace, workspace_id)
    if ws is None:
        raise WorkspaceNotFound(f"No workspace {workspace_id!r}.")
    return ws


def list_workspaces(session: Session, *, after: str | None, limit: int) -> list[Workspace]:
    query = keyset(select(Workspace), col(Workspace.id), after=after, limit=limit)
    return list(session.scalars(query))


def create_workspace(
    session: Session,
    *,
    workspace_id: str | None,
    name: str,
    seed: int | None,
    clock_mode: ClockMode,
    start: datetime,
    settings: Mapping[str, Any],
    now: datetime,
) -> Workspace:
    """Create the workspace row. ``now`` is the system instant (creation stamp)."""
    if workspace_id is None:
        minter = IdMinter(session, GLOBAL_SCOPE, seed_from_text("workspaces"))
        workspace_id = minter.new("workspace", "ws")
        while session.get(Workspace, workspace_id) is not None:  # an operator chose this ID
            workspace_id = minter.new("workspace", "ws")
    elif session.get(Workspace, workspace_id) is not None:
        raise WorkspaceExists(f"A workspace {workspace_id!r} already exists.")
    ws = Workspace(
        id=workspace_id,
        name=name,
        seed=seed if seed is not None else seed_from_text(workspace_id),
        settings=dict(settings),
        clock_mode=clock_mode,
        clock_now=start,
        # A real clock starts at ``start`` and runs on from there with the wall clock.
        clock_offset_us=us(start - now) if clock_mode is ClockMode.REAL else 0,
        start_mode=clock_mode,
        start_at=start,
        jobs_cursor_at=start,
        jobs_cursor_rank=_AFTER_ALL_RANKS,
        created_at=now,
    )
    session.add(ws)
    session.flush()
    return ws


# Jobs due exactly at the start instant count as past: a new world starts with nothing owed.
_AFTER_ALL_RANKS = 1_000_000


def minter(ws: Workspace, session: Session) -> IdMinter:
    return IdMinter(session, ws.id, ws.seed)


def now_of(ws: Workspace, system: Clock) -> datetime:
    return workspace_now(
        mode=ws.clock_mode,
        stored_now=ws.clock_now,
        offset=timedelta(microseconds=ws.clock_offset_us),
        system=system,
    )


def cutoff_of(ws: Workspace) -> time:
    # The default lives in one place, WorkspaceSettings (issue 15: the cut-off default had a
    # copy here and another in the process settings).
    return WorkspaceSettings.model_validate(ws.settings).cutoff_time


#: ``Table.info`` key of a workspace-owned table whose rows a reset keeps (the request journal:
#: the tester wants to see what their client did before it). Its value is ``True``, or the ID
#: counter kind the table's rows are numbered by, kept with them so numbers never repeat.
KEPT_ON_RESET = "kept_on_reset"


def wipe_workspace(session: Session, workspace_id: str, *, keep_row: bool) -> None:
    """Delete everything a workspace owns (children first), its ID counters, and optionally the
    workspace row itself. Any table with a ``workspace_id`` column is workspace-owned; with the
    row kept (a reset), tables marked ``KEPT_ON_RESET`` and their counters stay."""
    kept_counters: list[str] = []
    for table in reversed(SQLModel.metadata.sorted_tables):
        if table.name != Workspace.__tablename__ and "workspace_id" in table.c:
            kept = table.info.get(KEPT_ON_RESET) if keep_row else None
            if kept:
                if isinstance(kept, str):
                    kept_counters.append(kept)
                continue
            session.execute(delete(table).where(table.c.workspace_id == workspace_id))
    counters = delete(IdCounter).where(col(IdCounter.scope) == workspace_id)
    if kept_counters:
        counters = counters.where(col(IdCounter.kind).not_in(kept_counters))
    session.execute(counters)
    if not keep_row:
        session.execute(delete(Workspace).where(col(Workspace.id) == workspace_id))
    # Bulk deletes bypass the identity map: forget the deleted rows' objects so new rows with
    # the same (rewound) IDs can be added in this session.
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Workspace):
            if obj.id == workspace_id and not keep_row:
                session.expunge(obj)
        elif getattr(obj, "workspace_id", None) == workspace_id:
            session.expunge(obj)
    session.flush()


def reset_clock(ws: Workspace, *, system_now: datetime) -> None:
    ws.clock_mode = ws.start_mode
    ws.clock_now = ws.start_at
    start = as_aware(ws.start_at)
    ws.clock_offset_us = us(start - system_now) if ws.start_mode is ClockMode.REAL else 0
    ws.jobs_cursor_at = ws.start_at
    ws.jobs_cursor_rank = _AFTER_ALL_RANKS
    ws.jobs_cursor_name = ""


def us(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
