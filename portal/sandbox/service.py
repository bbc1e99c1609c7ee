"""Operator use cases: create a workspace with its landlord, reset, delete, read and advance
the clock, and move ``real``-mode clocks with the wall clock."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlmodel import Session, col

from portal.auth import service as auth_service
from portal.auth.models import LandlordUser
from portal.connectors import worker as connector_worker
from portal.core import calendar
from portal.core.clock import Clock, ClockMode
from portal.core.db import PENDING_DELIVERIES, session_scope
from portal.core.ids import format_id, new_secret
from portal.sandbox import clock as sandbox_clock
from portal.webhooks import worker as webhooks_worker
from portal.workspaces import schemas as ws_schemas
from portal.workspaces import service as workspaces_service
from portal.workspaces.models import Workspace

log = logging.getLogger("portal.core.clock")


@dataclass(frozen=True)
class CreatedWorkspace:
    workspace: Workspace
    landlord_email: str
    landlord_password: str


def create_workspace(
    session: Session, body: ws_schemas.WorkspaceCreate, *, system_now: datetime
) -> CreatedWorkspace:
    """Create a workspace and its landlord user; the password is returned this once."""
    start = body.clock.now or system_now.replace(microsecond=0)
    ws = workspaces_service.create_workspace(
        session,
        workspace_id=body.id,
        name=body.name,
        seed=body.seed,
        clock_mode=body.clock.mode,
        start=start,
        settings=body.settings.model_dump(mode="json"),
        now=system_now,
    )
    email = body.landlord.email or f"landlord+{ws.id}@portal.test"
    password = body.landlord.password or new_secret(12)
    auth_service.create_landlord(
        session,
        workspaces_service.minter(ws, session),
        email=email,
        name=body.landlord.name or "Property Manager",
        password_hash=auth_service.hash_password(password),
        now=start,
    )
    return CreatedWorkspace(ws, email.strip().lower(), password)


def reset_workspace(
    session: Session,
    workspace_id: str,
    *,
    system_now: datetime,
    settings: dict[str, Any] | None = None,
) -> Workspace:
    """Back to the moment of creation: data wiped, ID counters and clock rewound, ``settings``
    (when given) restored; the landlord users (and their passwords) are recreated with the same
    IDs. Reloading the workspace's scenarios is ``scenario_loads.reset``."""
    ws = workspaces_service.get_workspace(session, workspace_id)
    users = list(
        session.scalars(select(LandlordUser).where(col(LandlordUser.workspace_id) == workspace_id))
    )
    # Recreated in the order their IDs were minted, so each gets its own ID back (by time
    # alone, users recreated at one instant would swap IDs on the next reset).
    minted = {format_id(ws.seed, "landlord_user", "usr", n): n for n in range(len(users))}
    users.sort(key=lambda u: (minted.get(u.id, len(users)), u.created_at, u.id))
    kept = [(u.email, u.name, u.password_hash, u.created_at) for u in users]
    workspaces_service.wipe_workspace(session, workspace_id, keep_row=True)
    workspaces_service.reset_clock(ws, system_now=system_now)
    if settings is not None:
        ws.settings = dict(settings)
    session.add(ws)
    session.flush()
    ids = workspaces_service.minter(ws, session)
    for email, name, password_hash, created_at in kept:
        auth_service.create_landlord(
            session, ids, email=email, name=name, password_hash=password_hash, now=created_at
        )
    return ws


def delete_workspace(session: Session, workspace_id: str) -> None:
    workspaces_service.get_workspace(session, workspace_id)
    workspaces_service.wipe_workspace(session, workspace_id, keep_row=False)


def clock_read(ws: Workspace, system: Clock) -> ws_schemas.ClockRead:
    now = workspaces_service.now_of(ws, system)
    return ws_schemas.ClockRead(
        mode=ws.clock_mode,
        now=now,
        business_date=calendar.business_date(now, workspaces_service.cutoff_of(ws)).isoformat(),
        is_banking_day=calendar.is_banking_day(calendar.local_date(now)),
    )


def workspace_read(ws: Workspace, system: Clock) -> ws_schemas.WorkspaceRead:
    return ws_schemas.WorkspaceRead(
        id=ws.id,
        name=ws.name,
        seed=ws.seed,
        clock=clock_read(ws, system),
        settings=ws_schemas.WorkspaceSettings.model_validate(ws.settings),
        created_at=ws.created_at,
    )


def advance(
    session: Session,
    workspace_id: str,
    body: ws_schemas.ClockAdvance,
    *,
    system: Clock,
    checkpoint: Callable[[], None],
) -> ws_schemas.ClockAdvanced:
    ws = workspaces_service.get_workspace(session, workspace_id)
    now = workspaces_service.now_of(ws, system)
    target = sandbox_clock.target_for(
        ws, now, to=body.to, by=body.by, banking_days=body.banking_days
    )
    previous, runs = sandbox_clock.advance_clock(
        session,
        workspace_id,
        target=target,
        system=system,
        checkpoint=checkpoint,
        deliver=_Deliverer(session, workspace_id, system),
    )
    return ws_schemas.ClockAdvanced(
        now=target,
        previous=previous,
        jobs=[
            ws_schemas.JobRunRead(
                name=r.name, source=r.source, due_at=r.due_at, ran_at=r.ran_at, result=r.result
            )
            for r in runs
        ],
    )


class _Deliverer:
    """A pass of the outbox at a job's instant, in transactions of its own (the advance has
    just committed): what the job queued reaches the accounting system then (issue 16).

    Whether a pass is owed is known without a query for most jobs: the outbox notes in the
    session each workspace it queued for (``PENDING_DELIVERIES``). The outbox itself is read
    only before the first job (deliveries left from before the advance) and after each pass
    (a delivery waiting for its retry stays due), so a workspace without connectors pays one
    read per advance, not one per job."""

    def __init__(self, session: Session, workspace_id: str, system: Clock) -> None:
        engine = session.get_bind()
        assert isinstance(engine, Engine)
        self.engine, self.workspace_id, self.system = engine, workspace_id, system
        self.live: bool | None = None  # None: unknown, read the outbox
        # The same for the webhooks' outbox (issue 20): its deliveries go out at the job's
        # instant too, and a retry's instant stops the advance (``webhooks.retry``).
        self.hooks_live: bool | None = None

    def due(self, session: Session) -> bool:
        connectors = self._connectors_due(session)
        hooks = webhooks_worker.queued_in(session, self.workspace_id)
        if not hooks:
            if self.hooks_live is None:
                self.hooks_live = webhooks_worker.has_live(session, self.workspace_id)
            hooks = self.hooks_live
        return connectors or hooks

    def _connectors_due(self, session: Session) -> bool:
        queued: set[str] = session.info.get(PENDING_DELIVERIES, set())
        if self.workspace_id in queued:
            return True
        if self.live is None:
            self.live = connector_worker.has_live(session, self.workspace_id)
        return self.live

    def __call__(self, at: datetime) -> int:
        self.live = self.hooks_live = None
        sent = connector_worker.deliver(
            self.engine, self.workspace_id, system=self.system, until=at
        )
        return sent + webhooks_worker.deliver(
            self.engine, self.workspace_id, system=self.system, until=at
        )


def run_real_clocks(engine: Engine, system: Clock) -> int:
    """Run the jobs due on every ``real``-mode workspace up to its current instant.

    Several workers may tick at once: each advance locks its workspace and reads the target
    under the lock, so a job never runs twice and nobody asks for an instant already passed.
    """
    with session_scope(engine) as session:
        ids = list(
            session.scalars(
                select(col(Workspace.id)).where(col(Workspace.clock_mode) == ClockMode.REAL)
            )
        )
    ran = 0
    for workspace_id in ids:
        try:
            with session_scope(engine) as session:
                _previous, runs = sandbox_clock.advance_clock(
                    session,
                    workspace_id,
                    target=None,
                    system=system,
                    checkpoint=session.commit,
                    deliver=_Deliverer(session, workspace_id, system),
                )
                ran += len(runs)
        except workspaces_service.WorkspaceNotFound:
            continue  # deleted since the list was read
        except Exception:  # one workspace's failing job must not stall the others
            log.exception("real-clock tick failed for %s", workspace_id)
    return ran
