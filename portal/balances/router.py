"""The accounting client's balance calls (``/v1/integration``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response

from portal.auth.dependencies import IntegrationDep, require_integration
from portal.balances import schemas
from portal.balances import service as balances_service
from portal.core.db import SessionDep, heavy_route
from portal.core.errors import problem_responses
from portal.core.idempotency import Idempotency, idempotent
from portal.core.pagination import CursorQuery, LimitQuery, decode_cursor, split_page
from portal.workspaces import service as workspaces_service

router = APIRouter(prefix="/v1/integration", tags=["integration"])
IntegrationIdempotency = Annotated[Idempotency, idempotent(require_integration)]


# Tens of thousands of rows: in a worker thread, so other requests are served meanwhile.
@heavy_route(
    router,
    "/balances",
    methods=["POST"],
    response_model=schemas.BalancesOut,
    responses=problem_responses(400, 401, 413, 422),
)
async def send_balances(
    body: schemas.BalancesIn,
    caller: IntegrationDep,
    session: SessionDep,
    idem: IntegrationIdempotency,
) -> Response:
    """ "Send Balances": upsert the client's residents, leases and balances in one transaction."""
    result = balances_service.receive(
        session,
        workspaces_service.minter(caller.workspace, session),
        caller.integration,
        body,
        now=caller.now,
    )
    return idem.respond(result)


@router.get("/residents", response_model=schemas.RosterPage, responses=problem_responses(400, 401))
async def list_roster(
    caller: IntegrationDep,
    session: SessionDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> schemas.RosterPage:
    """The roster the client shows: Status, Resident, Email, Phone, Property, Amount, Balance."""
    lines = balances_service.roster(
        session, caller.integration, after=decode_cursor(cursor), limit=limit + 1
    )
    page, next_cursor = split_page(lines, limit, key=lambda line: line.resident_id)
    return schemas.RosterPage(data=page, next_cursor=next_cursor)


@router.post("/sync", response_model=schemas.SyncOut, responses=problem_responses(401))
async def synchronize(caller: IntegrationDep, session: SessionDep) -> schemas.SyncOut:
    """ "Synchronize with Server": what the portal holds for this integration."""
    return balances_service.sync_summary(session, caller.integration)
