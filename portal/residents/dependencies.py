"""The resident principal: a session JWT of type ``resident``, expiring on the workspace clock."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select
from sqlmodel import col

from portal.auth import service as auth_service
from portal.auth.dependencies import BearerDep, ClockDep, token_of
from portal.core import principals
from portal.core.db import SessionDep
from portal.core.principals import Principal
from portal.residents.merges import MergeParticipant
from portal.residents.models import Resident, ResidentStatus
from portal.workspaces import service as workspaces_service
from portal.workspaces.models import Workspace


@dataclass(frozen=True)
class ResidentCaller:
    workspace: Workspace
    resident: Resident
    now: datetime

    @property
    def idempotency_scope(self) -> tuple[str, str]:
        return (self.workspace.id, f"resident:{self.resident.id}")


async def require_resident(
    request: Request, session: SessionDep, credentials: BearerDep, clock: ClockDep
) -> ResidentCaller:
    claims = auth_service.decode_token(
        token_of(credentials), request.app.state.signing_key, "resident"
    )
    found = session.execute(
        select(Resident, Workspace)
        .join(Workspace, col(Workspace.id) == col(Resident.workspace_id))
        .where(col(Resident.workspace_id) == claims["ws"], col(Resident.id) == claims["sub"])
    ).first()
    if found is None or found[0].status is ResidentStatus.DELETED:
        raise auth_service.TokenInvalid("The bearer token names a resident that does not exist.")
    resident, ws = found
    now = workspaces_service.now_of(ws, clock)
    # Before the expiry check: a refused, expired session is still this resident's request.
    principals.record(request.scope, Principal("resident", resident.id, ws.id, now))
    auth_service.check_session_expiry(claims, now)
    return ResidentCaller(workspace=ws, resident=resident, now=now)


ResidentDep = Annotated[ResidentCaller, Depends(require_resident)]


def merge_participants(request: Request) -> Sequence[MergeParticipant]:
    """The features above residents that take part in a merge (``portal.main`` lists them)."""
    participants: Sequence[MergeParticipant] = request.app.state.merge_participants
    return participants


MergeParticipantsDep = Annotated[Sequence[MergeParticipant], Depends(merge_participants)]
