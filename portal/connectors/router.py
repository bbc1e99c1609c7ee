"""Sync Now and the import review (issue 16, issue 17): the landlord's
``/v1/integrations/{id}/sync`` and ``…/imports``, and the operator's sandbox twin of the sync,
for AMSI and MRI integrations alike (``connectors.imports.runs`` picks the vendor)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from portal.auth import service as auth_service
from portal.auth.dependencies import (
    LandlordDep,
    OperatorInWorkspaceDep,
    require_landlord,
    require_operator,
    require_operator_in_workspace,
)
from portal.connectors import schemas
from portal.connectors.imports import runs as imports
from portal.core.db import SessionDep, heavy_route
from portal.core.errors import problem_responses
from portal.core.idempotency import Idempotency, idempotent
from portal.core.pagination import CursorQuery, LimitQuery, decode_seq_cursor, split_page
from portal.workspaces import service as workspaces_service

landlord_router = APIRouter(prefix="/v1", tags=["landlord: imports"])
sandbox_router = APIRouter(
    prefix="/v1/sandbox", tags=["operator: sandbox"], dependencies=[Depends(require_operator)]
)
LandlordIdempotency = Annotated[Idempotency, idempotent(require_landlord)]
WorkspaceIdempotency = Annotated[Idempotency, idempotent(require_operator_in_workspace)]

#: Both routers, mounted once by ``portal.main``.
router = APIRouter()

_SYNC_ERRORS = problem_responses(401, 404, 409, 422)


# The sync waits on the accounting system (eSite: three calls per property; MRI: a call per
# page): in a worker thread, so the server's other requests are served meanwhile. An import
# writes data, so it takes an Idempotency-Key (architecture.md §5): a retried request replays
# the first run instead of running another.
@heavy_route(
    landlord_router,
    "/integrations/{integration_id}/sync",
    methods=["POST"],
    response_model=schemas.ImportRunRead,
    responses=_SYNC_ERRORS,
)
async def sync_integration(
    integration_id: str, landlord: LandlordDep, session: SessionDep, idem: LandlordIdempotency
) -> Response:
    """Sync Now: import the integration's properties, units, leases and residents from its
    accounting system (AMSI or MRI); the run's review is the answer (status `failed` when it
    could not be read)."""
    ids = workspaces_service.minter(landlord.workspace, session)
    run = imports.sync_now(session, ids, integration_id, now=landlord.now)
    return idem.respond(schemas.ImportRunRead.of(run))


@landlord_router.get(
    "/integrations/{integration_id}/imports",
    response_model=schemas.ImportRunPage,
    responses=problem_responses(400, 401, 404),
)
async def list_import_runs(
    integration_id: str,
    landlord: LandlordDep,
    session: SessionDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> schemas.ImportRunPage:
    """The integration's import runs, newest first."""
    integration = auth_service.get_integration(session, landlord.workspace.id, integration_id)
    rows = imports.list_runs(
        session,
        landlord.workspace.id,
        integration.id,
        before_seq=decode_seq_cursor(cursor),
        limit=limit + 1,
    )
    page, next_cursor = split_page(rows, limit, key=lambda run: str(run.seq))
    return schemas.ImportRunPage(
        data=[schemas.ImportRunRead.of(run) for run in page], next_cursor=next_cursor
    )


@landlord_router.get(
    "/integrations/{integration_id}/imports/{run_id}",
    response_model=schemas.ImportRunRead,
    responses=problem_responses(401, 404),
)
async def get_import_run(
    integration_id: str, run_id: str, landlord: LandlordDep, session: SessionDep
) -> schemas.ImportRunRead:
    """One import run: its counts, the reason of each erred row, what each property held."""
    integration = auth_service.get_integration(session, landlord.workspace.id, integration_id)
    run = imports.get_run(session, landlord.workspace.id, integration.id, run_id)
    return schemas.ImportRunRead.of(run)


@heavy_route(
    sandbox_router,
    "/workspaces/{workspace_id}/integrations/{integration_id}/sync",
    methods=["POST"],
    response_model=schemas.ImportRunRead,
    responses=_SYNC_ERRORS,
)
async def sandbox_sync_integration(
    integration_id: str,
    operator: OperatorInWorkspaceDep,
    session: SessionDep,
    idem: WorkspaceIdempotency,
) -> Response:
    """Sync Now for a workspace's integration, as its landlord would."""
    ids = workspaces_service.minter(operator.workspace, session)
    run = imports.sync_now(session, ids, integration_id, now=operator.now)
    return idem.respond(schemas.ImportRunRead.of(run))


router.include_router(landlord_router)
router.include_router(sandbox_router)
