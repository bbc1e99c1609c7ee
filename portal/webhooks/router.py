"""``/v1/webhooks``: endpoints, their deliveries and attempts, resends (issue 20).

The landlord's endpoints get every event of the workspace; an integration's (called with its
token) get what ``GET /v1/events`` shows it; the operator manages the landlord's endpoints of
any workspace with ``?workspace=``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from portal.core.db import SessionDep
from portal.core.errors import problem_responses
from portal.core.pagination import (
    CursorQuery,
    LimitQuery,
    decode_cursor,
    decode_seq_cursor,
    encode_cursor,
    split_page,
)
from portal.events.router import EventReaderDep
from portal.workspaces import service as workspaces_service

from . import schemas, service, worker
from .models import WebhookDeliveryState

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


@router.post(
    "",
    status_code=201,
    response_model=schemas.EndpointCreated,
    responses=problem_responses(400, 401, 404, 422),
)
async def create_webhook_endpoint(
    body: schemas.EndpointIn, reader: EventReaderDep, session: SessionDep, request: Request
) -> schemas.EndpointCreated:
    """Add an endpoint. The answer holds its signing `secret` (Standard Webhooks `whsec_...`),
    shown this once. 422 `webhook_url_not_allowed` for a target outside loopback and
    `PORTAL_WEBHOOK_ALLOWED_HOSTS`."""
    ws = workspaces_service.get_workspace(session, reader.workspace_id)
    endpoint = service.create_endpoint(
        session,
        workspaces_service.minter(ws, session),
        body,
        integration_id=reader.integration_id,
        policy=worker.POLICY,
        now=workspaces_service.now_of(ws, request.app.state.clock),
    )
    return schemas.EndpointCreated(
        **dict(schemas.EndpointRead.of(endpoint)), secret=endpoint.secret
    )


@router.get("", response_model=schemas.EndpointPage, responses=problem_responses(400, 401, 404))
async def list_webhook_endpoints(
    reader: EventReaderDep,
    session: SessionDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> schemas.EndpointPage:
    """The caller's endpoints (the landlord's, or the calling integration's)."""
    rows = service.list_endpoints(
        session,
        reader.workspace_id,
        reader.integration_id,
        after=decode_cursor(cursor),
        limit=limit + 1,
    )
    page, next_cursor = split_page(rows, limit, key=lambda e: e.id)
    return schemas.EndpointPage(
        data=[schemas.EndpointRead.of(e) for e in page], next_cursor=next_cursor
    )


@router.get(
    "/{endpoint_id}", response_model=schemas.EndpointRead, responses=problem_responses(401, 404)
)
async def get_webhook_endpoint(
    endpoint_id: str, reader: EventReaderDep, session: SessionDep
) -> schemas.EndpointRead:
    return schemas.EndpointRead.of(
        service.get_endpoint(session, reader.workspace_id, reader.integration_id, endpoint_id)
    )


@router.patch(
    "/{endpoint_id}",
    response_model=schemas.EndpointRead,
    responses=problem_responses(401, 404, 422),
)
async def update_webhook_endpoint(
    endpoint_id: str,
    body: schemas.EndpointPatch,
    reader: EventReaderDep,
    session: SessionDep,
    request: Request,
) -> schemas.EndpointRead:
    """Change the URL, types, chaos switches or `disable_after`; `enabled: true` turns a
    disabled endpoint back on (its failure count starts again)."""
    ws = workspaces_service.get_workspace(session, reader.workspace_id)
    endpoint = service.get_endpoint(
        session, ws.id, reader.integration_id, endpoint_id, for_update=True
    )
    return schemas.EndpointRead.of(
        service.update_endpoint(
            session,
            endpoint,
            body,
            policy=worker.POLICY,
            now=workspaces_service.now_of(ws, request.app.state.clock),
        )
    )


@router.delete("/{endpoint_id}", status_code=204, responses=problem_responses(401, 404))
async def delete_webhook_endpoint(
    endpoint_id: str, reader: EventReaderDep, session: SessionDep
) -> Response:
    """Remove the endpoint; what it had not received yet is not sent."""
    endpoint = service.get_endpoint(
        session, reader.workspace_id, reader.integration_id, endpoint_id, for_update=True
    )
    service.delete_endpoint(session, endpoint)
    return Response(status_code=204)


@router.get(
    "/{endpoint_id}/deliveries",
    response_model=schemas.DeliveryPage,
    responses=problem_responses(400, 401, 404),
)
async def list_webhook_deliveries(
    endpoint_id: str,
    reader: EventReaderDep,
    session: SessionDep,
    state: Annotated[
        list[WebhookDeliveryState] | None, Query(description="Only these states")
    ] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> schemas.DeliveryPage:
    """The endpoint's deliveries in the order they were queued, each with its state, attempts
    and next attempt (workspace time)."""
    endpoint = service.get_endpoint(
        session, reader.workspace_id, reader.integration_id, endpoint_id
    )
    rows = service.list_deliveries(
        session,
        endpoint,
        states=state or (),
        after=decode_seq_cursor(cursor),
        limit=limit + 1,
    )
    page = rows[:limit]
    return schemas.DeliveryPage(
        data=[schemas.DeliveryRead.of(d) for d in page],
        next_cursor=encode_cursor(str(page[-1].seq)) if len(rows) > limit else None,
    )


@router.get(
    "/{endpoint_id}/deliveries/{delivery_id}",
    response_model=schemas.DeliveryRead,
    responses=problem_responses(401, 404),
)
async def get_webhook_delivery(
    endpoint_id: str, delivery_id: str, reader: EventReaderDep, session: SessionDep
) -> schemas.DeliveryRead:
    """One delivery with every request made for it: headers, body, the receiver's status and
    answer, latency."""
    endpoint = service.get_endpoint(
        session, reader.workspace_id, reader.integration_id, endpoint_id
    )
    delivery, attempts = service.get_delivery(session, endpoint, delivery_id)
    return schemas.DeliveryRead.of(delivery, attempts)


@router.post(
    "/{endpoint_id}/resend",
    status_code=202,
    response_model=schemas.ResendOut,
    responses=problem_responses(401, 404, 409, 422),
)
async def resend_webhook_events(
    endpoint_id: str,
    body: schemas.ResendIn,
    reader: EventReaderDep,
    session: SessionDep,
    request: Request,
) -> schemas.ResendOut:
    """Send one event again (`event_id`), or every event whose delivery to this endpoint
    failed since an instant (`failed_since`, workspace time); 409 `nothing_to_resend` when
    none did. Each goes out with its own `webhook-id`, as the first time."""
    ws = workspaces_service.get_workspace(session, reader.workspace_id)
    endpoint = service.get_endpoint(session, ws.id, reader.integration_id, endpoint_id)
    queued = service.resend(
        session,
        endpoint,
        body,
        integration_id=reader.integration_id,
        now=workspaces_service.now_of(ws, request.app.state.clock),
    )
    return schemas.ResendOut(queued=len(queued), delivery_ids=queued)
