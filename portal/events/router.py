"""``GET /v1/events``: the polling backstop webhooks never replace (issue 20).

One route for the three principals that may read events, each seeing its own: the landlord
every event of the workspace, an integration those of no integration and its own, the operator
any workspace's (``?workspace=``; also ``GET /v1/sandbox/workspaces/{ws}/events``)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from jose import jwt
from jose.exceptions import JWTError

from portal.auth import service as auth_service
from portal.auth.dependencies import BearerDep, ClockDep, token_of
from portal.core.db import SessionDep
from portal.core.errors import Unprocessable, problem_responses
from portal.core.pagination import CursorQuery, LimitQuery, decode_seq_cursor, split_page
from portal.workspaces import service as workspaces_service

from . import service
from .schemas import EventPage, EventRead

router = APIRouter(prefix="/v1", tags=["events"])


class OperatorWorkspaceRequired(Unprocessable):
    """The operator key names no workspace; the code is the one a login to several workspaces
    gets (``portal.residents``): "send the workspace"."""

    code = "workspace_required"


@dataclass(frozen=True)
class EventReader:
    workspace_id: str
    #: Set for an integration: it sees its own events and those of no integration.
    integration_id: str | None


async def require_event_reader(
    request: Request,
    session: SessionDep,
    credentials: BearerDep,
    clock: ClockDep,
    workspace: Annotated[
        str | None, Query(description="The operator's choice of workspace (operator key only)")
    ] = None,
) -> EventReader:
    token = token_of(credentials)
    operator_key: str = request.app.state.operator_key
    if hmac.compare_digest(token.encode(), operator_key.encode()):
        if workspace is None:
            raise OperatorWorkspaceRequired(
                "The operator key names no workspace: add ?workspace=<id>.",
            )
        return EventReader(workspaces_service.get_workspace(session, workspace).id, None)
    try:
        typ = jwt.get_unverified_claims(token).get("typ")
    except JWTError:
        typ = None
    key = request.app.state.signing_key
    if typ == "integration":
        s = auth_service.authenticate_integration(session, token, key=key, system=clock)
        return EventReader(s.workspace.id, s.integration.id)
    # A landlord token, or anything else: refused as the landlord check refuses it.
    landlord = auth_service.authenticate_landlord(session, token, key=key, system=clock)
    return EventReader(landlord.workspace.id, None)


EventReaderDep = Annotated[EventReader, Depends(require_event_reader)]
TypesQuery = Annotated[
    list[str] | None,
    Query(
        alias="type", description="Only these types (repeat the parameter); e.g. payment.completed"
    ),
]


def event_page(
    session: SessionDep,
    workspace_id: str,
    *,
    integration_id: str | None,
    types: list[str] | None,
    since: int | None,
    limit: int,
    cursor: str | None,
) -> EventPage:
    service.check_types(types or (), "type")
    after = decode_seq_cursor(cursor)
    if after is None:
        after = since
    rows = service.list_events(
        session,
        workspace_id,
        types=types or (),
        after_seq=after,
        limit=limit + 1,
        integration_id=integration_id,
    )
    page, next_cursor = split_page(rows, limit, key=lambda e: str(e.seq))
    return EventPage(
        data=[EventRead.model_validate(e) for e in service.render(session, workspace_id, page)],
        next_cursor=next_cursor,
    )


SinceQuery = Annotated[
    int | None,
    Query(ge=0, le=2**31 - 1, description="Only events after this `seq` (ignored with `cursor`)"),
]


@router.get(
    "/events",
    response_model=EventPage,
    responses=problem_responses(400, 401, 404, 422),
)
async def list_events(
    reader: EventReaderDep,
    session: SessionDep,
    types: TypesQuery = None,
    since: SinceQuery = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> EventPage:
    """Everything that happened, oldest first (`seq` order): poll with `since` = the last
    `seq` you saw. The landlord sees every event of the workspace; an integration its own and
    those of no integration; the operator any workspace's (`?workspace=`)."""
    return event_page(
        session,
        reader.workspace_id,
        integration_id=reader.integration_id,
        types=types,
        since=since,
        limit=limit,
        cursor=cursor,
    )
