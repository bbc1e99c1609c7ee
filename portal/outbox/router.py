"""What the portal sent an integration's accounting system (issue 16): every delivery with its
state, attempts and the vendor's answer; a failed or rejected one can be retried."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from portal.auth import service as auth_service
from portal.auth.dependencies import LandlordDep
from portal.core.db import SessionDep
from portal.core.errors import problem_responses
from portal.core.pagination import CursorQuery, LimitQuery, decode_seq_cursor, encode_cursor

from . import schemas, service
from .models import DeliveryState

router = APIRouter(prefix="/v1", tags=["landlord: connector deliveries"])


@router.get(
    "/integrations/{integration_id}/deliveries",
    response_model=schemas.DeliveryPage,
    responses=problem_responses(400, 401, 404),
)
async def list_deliveries(
    integration_id: str,
    landlord: LandlordDep,
    session: SessionDep,
    state: Annotated[list[DeliveryState] | None, Query(description="Only these states")] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> schemas.DeliveryPage:
    """The deliveries to the integration's accounting system, in the order they are sent."""
    ws = landlord.workspace.id
    auth_service.get_integration(session, ws, integration_id)
    rows = service.list_deliveries(
        session,
        ws,
        integration_id,
        states=state or (),
        after=decode_seq_cursor(cursor),
        limit=limit + 1,
    )
    page = rows[:limit]
    return schemas.DeliveryPage(
        data=[schemas.delivery_read(d) for d in page],
        next_cursor=encode_cursor(str(page[-1].seq)) if len(rows) > limit else None,
    )


@router.get(
    "/integrations/{integration_id}/deliveries/{delivery_id}",
    response_model=schemas.DeliveryRead,
    responses=problem_responses(401, 404),
)
async def get_delivery(
    integration_id: str, delivery_id: str, landlord: LandlordDep, session: SessionDep
) -> schemas.DeliveryRead:
    """One delivery."""
    ws = landlord.workspace.id
    auth_service.get_integration(session, ws, integration_id)
    return schemas.delivery_read(service.get_delivery(session, ws, integration_id, delivery_id))


@router.post(
    "/integrations/{integration_id}/deliveries/{delivery_id}/retry",
    response_model=schemas.DeliveryRead,
    responses=problem_responses(401, 404, 409),
)
async def retry_delivery(
    integration_id: str, delivery_id: str, landlord: LandlordDep, session: SessionDep
) -> schemas.DeliveryRead:
    """Send a failed or rejected delivery again, now (the same call: the same transaction ID).
    Sending needs no key: a delivery is one fact, and a retry never makes a second one."""
    ws = landlord.workspace.id
    auth_service.get_integration(session, ws, integration_id)
    delivery = service.get_delivery(session, ws, integration_id, delivery_id)
    return schemas.delivery_read(service.retry(session, delivery, now=landlord.now))
