"""Work orders for residents (``/v1/resident/work-orders``), landlords (``/v1/work-orders``) and
the accounting client's read-only feed (``/v1/integration/work-orders``; seed 004 §E,
"Retrieve Work Orders"). The feed has only GET: any other method there is 405."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from portal.auth import service as auth_service
from portal.auth.dependencies import IntegrationDep, LandlordDep
from portal.auth.models import Feature
from portal.core.db import SessionDep
from portal.core.errors import problem_responses
from portal.core.pagination import CursorQuery, LimitQuery, decode_seq_cursor, split_page
from portal.residents.dependencies import ResidentDep
from portal.work_orders import service
from portal.work_orders.models import WorkOrder, WorkOrderStatus
from portal.work_orders.schemas import (
    FeedPage,
    ResidentWorkOrderIn,
    WorkOrderDetail,
    WorkOrderEventRead,
    WorkOrderIn,
    WorkOrderPage,
    WorkOrderPatch,
    WorkOrderRead,
    details_of,
    feed_item,
)
from portal.workspaces import service as workspaces_service
from portal.workspaces.schemas import Instant

router = APIRouter(prefix="/v1", tags=["landlord: work orders"])
resident_router = APIRouter(prefix="/v1/resident", tags=["resident: work orders"])
integration_router = APIRouter(prefix="/v1/integration", tags=["integration"])


def _base(request: Request) -> str:
    return str(request.base_url)


def _page(rows: list[WorkOrder], limit: int) -> tuple[list[WorkOrder], str | None]:
    """Pages are keyed by the change sequence (the feed's order)."""
    return split_page(rows, limit, key=lambda w: str(w.modified_seq))


def _detail(request: Request, session: SessionDep, wo: WorkOrder) -> WorkOrderDetail:
    return WorkOrderDetail(
        **dict(WorkOrderRead.of(wo, _base(request))),
        history=[WorkOrderEventRead.of(e) for e in service.history(session, wo)],
    )


# --- residents ----------------------------------------------------------------------------------


@resident_router.post(
    "/work-orders",
    status_code=201,
    response_model=WorkOrderRead,
    responses=problem_responses(401, 404, 422),
)
async def report_work_order(
    body: ResidentWorkOrderIn, caller: ResidentDep, session: SessionDep, request: Request
) -> WorkOrderRead:
    """Report a problem in your unit; the landlord users are e-mailed."""
    wo = service.create_for_resident(
        session,
        workspaces_service.minter(caller.workspace, session),
        caller.resident,
        lease_id=body.lease_id,
        description=body.description,
        priority=body.priority,
        phone=body.phone,
        now=caller.now,
    )
    return WorkOrderRead.of(wo, _base(request))


@resident_router.get(
    "/work-orders", response_model=WorkOrderPage, responses=problem_responses(400, 401)
)
async def my_work_orders(
    caller: ResidentDep,
    session: SessionDep,
    request: Request,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> WorkOrderPage:
    rows = service.list_work_orders(
        session,
        caller.workspace.id,
        resident_id=caller.resident.id,
        after_seq=decode_seq_cursor(cursor),
        limit=limit + 1,
    )
    page, next_cursor = _page(rows, limit)
    return WorkOrderPage(
        data=[WorkOrderRead.of(w, _base(request)) for w in page], next_cursor=next_cursor
    )


# --- landlords ----------------------------------------------------------------------------------


@router.post(
    "/work-orders",
    status_code=201,
    response_model=WorkOrderRead,
    responses=problem_responses(401, 404, 409, 422),
)
async def create_work_order(
    body: WorkOrderIn, landlord: LandlordDep, session: SessionDep, request: Request
) -> WorkOrderRead:
    """Enter a work order for a unit (or a whole property), optionally naming the tenant."""
    ws = landlord.workspace
    lease_id = None
    if body.resident_id is not None:
        tenant = service.tenant_lease(session, ws.id, body.resident_id, body.unit_id)
        lease_id = tenant.id if tenant is not None else None
    wo = service.create(
        session,
        workspaces_service.minter(ws, session),
        unit_id=body.unit_id,
        property_id=body.property_id,
        description=body.description,
        priority=body.priority,
        created_by="landlord",
        now=landlord.now,
        resident_id=body.resident_id,
        lease_id=lease_id,
        fields=details_of(body),
    )
    return WorkOrderRead.of(wo, _base(request))


@router.get("/work-orders", response_model=WorkOrderPage, responses=problem_responses(400, 401))
async def list_work_orders(
    landlord: LandlordDep,
    session: SessionDep,
    request: Request,
    status: WorkOrderStatus | None = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> WorkOrderPage:
    """Every work order, least recently modified first."""
    rows = service.list_work_orders(
        session,
        landlord.workspace.id,
        status=status,
        after_seq=decode_seq_cursor(cursor),
        limit=limit + 1,
    )
    page, next_cursor = _page(rows, limit)
    return WorkOrderPage(
        data=[WorkOrderRead.of(w, _base(request)) for w in page], next_cursor=next_cursor
    )


@router.get(
    "/work-orders/{work_order_id}",
    response_model=WorkOrderDetail,
    responses=problem_responses(401, 404),
)
async def get_work_order(
    work_order_id: str, landlord: LandlordDep, session: SessionDep, request: Request
) -> WorkOrderDetail:
    """One work order with its history (what "Browse To Work Order" opens)."""
    return _detail(request, session, service.get(session, landlord.workspace.id, work_order_id))


@router.patch(
    "/work-orders/{work_order_id}",
    response_model=WorkOrderDetail,
    responses=problem_responses(401, 404, 409, 422),
)
async def update_work_order(
    work_order_id: str,
    body: WorkOrderPatch,
    landlord: LandlordDep,
    session: SessionDep,
    request: Request,
) -> WorkOrderDetail:
    """Change a work order: its status (``unassigned -> vendor_notified -> in_progress ->
    completed -> invoiced``, ``on_hold``, ``cancelled``; any other move is 409
    ``invalid_transition``), vendor, dates, amounts. Each change stamps ``last_modified``."""
    ws = landlord.workspace
    wo = service.get(session, ws.id, work_order_id, for_update=True)
    service.update(
        session,
        workspaces_service.minter(ws, session),
        wo,
        body.changes(),
        by="landlord",
        now=landlord.now,
    )
    return _detail(request, session, wo)


# --- the accounting client ----------------------------------------------------------------------


@integration_router.get(
    "/work-orders", response_model=FeedPage, responses=problem_responses(400, 401, 403, 422)
)
async def retrieve_work_orders(
    caller: IntegrationDep,
    session: SessionDep,
    request: Request,
    modified_since: Annotated[
        Instant | None,
        Query(description="Only work orders modified strictly after this instant (RFC 3339)"),
    ] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> FeedPage:
    """ "Retrieve Work Orders" (needs ``maintenance_coordination``): each work order with its
    portal status (External Status) and last modified, least recently modified first. A work
    order changed while you page moves to the end: each change is seen once."""
    auth_service.require_feature(
        caller.integration.features, Feature.MAINTENANCE_COORDINATION, "Retrieve Work Orders"
    )
    ws_id = caller.workspace.id
    rows = service.list_work_orders(
        session,
        ws_id,
        modified_since=modified_since,
        after_seq=decode_seq_cursor(cursor),
        limit=limit + 1,
    )
    page, next_cursor = _page(rows, limit)
    props, units, tenants = service.places(session, ws_id, page)
    return FeedPage(
        data=[
            feed_item(
                w,
                _base(request),
                props[w.property_id],
                units.get(w.unit_id) if w.unit_id else None,
                tenants.get(w.id),
            )
            for w in page
        ],
        next_cursor=next_cursor,
    )
