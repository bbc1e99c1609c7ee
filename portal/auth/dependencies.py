"""Principal dependencies: ``OperatorDep``, ``LandlordDep``, ``IntegrationDep``.

Each resolves the caller and the instant of the request (the workspace clock, read once), and
offers ``idempotency_scope`` so idempotency keys never collide between callers.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from portal.auth import service
from portal.auth.service import IntegrationRef, IntegrationSession, LandlordSession
from portal.core import principals
from portal.core.clock import Clock
from portal.core.db import RawReader, SessionDep
from portal.core.errors import Unauthorized
from portal.core.principals import Principal
from portal.workspaces import service as workspaces_service
from portal.workspaces.models import Workspace

_bearer = HTTPBearer(auto_error=False, description="Bearer token")
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


ClockDep = Annotated[Clock, Depends(get_clock)]


def token_of(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None or not credentials.credentials:
        raise Unauthorized("Send 'Authorization: Bearer <token>'.", code="unauthorized")
    return credentials.credentials


def bearer_token(header: str | None) -> str:
    """The token of an ``Authorization: Bearer`` header, read as ``HTTPBearer`` reads it (for
    routes that take no dependencies)."""
    scheme, _, token = (header or "").partition(" ")
    token = token.strip()  # as FastAPI's get_authorization_scheme_param strips it
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("Send 'Authorization: Bearer <token>'.", code="unauthorized")
    return token


@dataclass(frozen=True)
class Operator:
    now: datetime

    @property
    def idempotency_scope(self) -> tuple[str, str]:
        return ("", "operator")


async def require_operator(request: Request, credentials: BearerDep, clock: ClockDep) -> Operator:
    expected: str = request.app.state.operator_key
    if not hmac.compare_digest(token_of(credentials).encode(), expected.encode()):
        raise Unauthorized("The operator key is wrong.", code="invalid_operator_key")
    principals.record(request.scope, Principal("operator", None, None, None))
    return Operator(now=clock.now())


@dataclass(frozen=True)
class OperatorInWorkspace:
    """The operator acting on one workspace: its keys and its instant are the workspace's."""

    workspace: Workspace
    now: datetime

    @property
    def idempotency_scope(self) -> tuple[str, str]:
        return (self.workspace.id, "operator")


async def require_operator_in_workspace(
    request: Request,
    workspace_id: str,
    operator: Annotated[Operator, Depends(require_operator)],
    session: SessionDep,
    clock: ClockDep,
) -> OperatorInWorkspace:
    ws = workspaces_service.get_workspace(session, workspace_id)
    now = workspaces_service.now_of(ws, clock)
    principals.record(request.scope, Principal("operator", None, ws.id, now))
    return OperatorInWorkspace(workspace=ws, now=now)


class Landlord(LandlordSession):
    @property
    def idempotency_scope(self) -> tuple[str, str]:
        return (self.workspace.id, f"landlord:{self.user.id}")


async def require_landlord(
    request: Request, session: SessionDep, credentials: BearerDep, clock: ClockDep
) -> Landlord:
    s = service.authenticate_landlord(
        session, token_of(credentials), key=request.app.state.signing_key, system=clock
    )
    principals.record(request.scope, Principal("landlord", s.user.id, s.workspace.id, s.now))
    return Landlord(workspace=s.workspace, user=s.user, now=s.now)


class IntegrationCaller(IntegrationSession):
    @property
    def idempotency_scope(self) -> tuple[str, str]:
        return (self.workspace.id, f"integration:{self.integration.id}")


@contextmanager
def _keeping_last_error(request: Request) -> Iterator[None]:
    """The error handlers record a refused integration call as that integration's last error
    (``request.state.integration_caller``, plain values: the ORM objects are expired by the
    rollback before the handler runs). A superseded token still names its integration, so its
    refusal is kept too (the client shows it after "Save token" with the old one)."""
    try:
        yield
    except service.TokenRevoked as exc:
        if exc.caller is not None:
            request.state.integration_caller = exc.caller
            workspace_id, integration_id, at = exc.caller
            principals.record(
                request.scope,
                Principal("integration", integration_id, workspace_id, datetime.fromisoformat(at)),
            )
        raise


async def require_integration(
    request: Request, session: SessionDep, credentials: BearerDep, clock: ClockDep
) -> IntegrationCaller:
    with _keeping_last_error(request):
        s = service.authenticate_integration(
            session, token_of(credentials), key=request.app.state.signing_key, system=clock
        )
    request.state.integration_caller = (s.workspace.id, s.integration.id, s.now.isoformat())
    principals.record(
        request.scope, Principal("integration", s.integration.id, s.workspace.id, s.now)
    )
    return IntegrationCaller(
        workspace=s.workspace, integration=s.integration, token=s.token, now=s.now
    )


def integration_ref(request: Request, raw: RawReader) -> IntegrationRef:
    """``require_integration`` for the routes that take no dependencies (the receipt reads):
    the same checks, refusals and last-error keeping, over a plain connection."""
    token = bearer_token(request.headers.get("authorization"))
    with _keeping_last_error(request):
        caller = service.authenticate_integration_raw(
            raw, token, key=request.app.state.signing_key, system=request.app.state.clock
        )
    request.state.integration_caller = (
        caller.workspace_id,
        caller.integration_id,
        caller.now.isoformat(),
    )
    principals.record(
        request.scope,
        Principal("integration", caller.integration_id, caller.workspace_id, caller.now),
    )
    return caller


OperatorDep = Annotated[Operator, Depends(require_operator)]
OperatorInWorkspaceDep = Annotated[OperatorInWorkspace, Depends(require_operator_in_workspace)]
LandlordDep = Annotated[Landlord, Depends(require_landlord)]
IntegrationDep = Annotated[IntegrationCaller, Depends(require_integration)]
