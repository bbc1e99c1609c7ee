"""Landlord routes for residents and leases, and the residents' own routes (``/v1/resident``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlmodel import Session

from portal.auth import service as auth_service
from portal.auth.dependencies import ClockDep, LandlordDep, require_landlord
from portal.auth.models import IntegrationKind
from portal.core.db import SessionDep
from portal.core.errors import problem_responses
from portal.core.idempotency import Idempotency, idempotent
from portal.core.pagination import CursorQuery, LimitQuery, decode_cursor, split_page
from portal.residents import approvals, edits, invitations, merges, schemas, signups
from portal.residents import leases as leases_service
from portal.residents import service as residents_service
from portal.residents.dependencies import MergeParticipantsDep, ResidentDep
from portal.residents.models import Lease, Resident, ResidentStatus
from portal.workspaces import service as workspaces_service
from portal.workspaces.models import Workspace

router = APIRouter(prefix="/v1", tags=["landlord: residents and leases"])
resident_router = APIRouter(prefix="/v1/resident", tags=["resident"])
LandlordIdempotency = Annotated[Idempotency, idempotent(require_landlord)]


def _resident_read(session: Session, resident: Resident) -> schemas.ResidentRead:
    lease_ids = leases_service.lease_ids_of(session, resident.workspace_id, [resident.id])
    return schemas.ResidentRead.of(resident, lease_ids[resident.id])


def _lease_read(session: Session, lease: Lease, *, history: bool = False) -> schemas.LeaseRead:
    residents = leases_service.resident_ids_of(session, lease.workspace_id, [lease.id])[lease.id]
    return schemas.LeaseRead.of(
        lease,
        residents,
        leases_service.effective_payments(lease),
        leases_service.history(session, lease) if history else None,
    )


def _amsi(session: Session, workspace_id: str) -> bool:
    return auth_service.has_integration_kind(session, workspace_id, IntegrationKind.AMSI)


# --- landlord ---------------------------------------------------------------------------------


@router.get(
    "/residents", response_model=schemas.ResidentPage, responses=problem_responses(400, 401, 422)
)
async def list_residents(
    landlord: LandlordDep,
    session: SessionDep,
    status: Annotated[ResidentStatus | None, Query(description="e.g. pending")] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> schemas.ResidentPage:
    """Residents of the workspace (never the deleted ones), optionally by status."""
    ws_id = landlord.workspace.id
    if status is ResidentStatus.DELETED:
        return schemas.ResidentPage(data=[], next_cursor=None)
    rows = residents_service.list_residents(
        session, ws_id, status=status, after=decode_cursor(cursor), limit=limit + 1
    )
    page, next_cursor = split_page(rows, limit, key=lambda r: r.id)
    lease_ids = leases_service.lease_ids_of(session, ws_id, [r.id for r in page])
    return schemas.ResidentPage(
        data=[schemas.ResidentRead.of(r, lease_ids[r.id]) for r in page],
        next_cursor=next_cursor,
    )


@router.post(
    "/residents/invite",
    status_code=201,
    response_model=schemas.ResidentRead,
    responses=problem_responses(401, 404, 409, 422),
)
async def invite_resident(
    body: schemas.InviteIn, landlord: LandlordDep, session: SessionDep, idem: LandlordIdempotency
) -> Response:
    """Add a resident with a lease; they get an invitation e-mail (or wait for an e-mail)."""
    resident, _lease = invitations.invite(
        session,
        workspaces_service.minter(landlord.workspace, session),
        name=body.name,
        email=body.email,
        phone=body.phone,
        unit_id=body.unit_id,
        rent_cents=body.rent,
        due_day=body.due_day,
        start_date=body.start_date,
        end_date=body.end_date,
        external_resident_id=body.external_resident_id,
        amsi=_amsi(session, landlord.workspace.id),
        now=landlord.now,
    )
    return idem.respond(_resident_read(session, resident), status_code=201)


@router.get(
    "/residents/{resident_id}",
    response_model=schemas.ResidentRead,
    responses=problem_responses(401, 404),
)
async def get_resident(
    resident_id: str, landlord: LandlordDep, session: SessionDep
) -> schemas.ResidentRead:
    """One resident; a merged resident's ID answers 404 naming the resident it became."""
    return _resident_read(
        session, residents_service.get_resident(session, landlord.workspace.id, resident_id)
    )


@router.patch(
    "/residents/{resident_id}",
    response_model=schemas.ResidentRead,
    responses=problem_responses(401, 404, 409, 422),
)
async def update_resident(
    resident_id: str, body: schemas.ResidentPatch, landlord: LandlordDep, session: SessionDep
) -> schemas.ResidentRead:
    """Edit name, e-mail or phone; a waiting resident given an e-mail is invited. Before
    approval, correct a pending (or waiting) resident's property and unit."""
    resident = residents_service.get_resident(
        session, landlord.workspace.id, resident_id, for_update=True
    )
    edits.update_resident(
        session,
        workspaces_service.minter(landlord.workspace, session),
        resident,
        changes=body.model_dump(exclude_unset=True),
        now=landlord.now,
    )
    return _resident_read(session, resident)


@router.post(
    "/residents/{resident_id}/approve",
    response_model=schemas.ResidentRead,
    responses=problem_responses(401, 404, 409, 422),
)
async def approve_resident(
    resident_id: str,
    body: schemas.Approval,
    landlord: LandlordDep,
    session: SessionDep,
    participants: MergeParticipantsDep,
) -> schemas.ResidentRead:
    """Approve a pending resident: merge with a known resident, sync, or manually."""
    ws = landlord.workspace
    ids = workspaces_service.minter(ws, session)
    resident = residents_service.get_resident(session, ws.id, resident_id, for_update=True)
    if isinstance(body, schemas.MergeApproval):
        merges.merge(
            session,
            ids,
            resident,
            merge_with=body.merge_with,
            participants=participants,
            now=landlord.now,
        )
    elif isinstance(body, schemas.SyncApproval):
        approvals.approve_by_sync(
            session,
            ids,
            resident,
            amsi=_amsi(session, ws.id),
            participants=participants,
            now=landlord.now,
        )
    else:
        approvals.approve_manually(
            session,
            ids,
            resident,
            rent_cents=body.rent,
            lease_start=body.lease_start,
            lease_end=body.lease_end,
            due_day=body.due_day,
            external_resident_id=body.external_resident_id,
            amsi=_amsi(session, ws.id),
            participants=participants,
            now=landlord.now,
        )
    return _resident_read(session, resident)


@router.post(
    "/residents/{resident_id}/merge",
    response_model=schemas.ResidentRead,
    responses=problem_responses(401, 404, 409, 422),
)
async def merge_resident(
    resident_id: str,
    body: schemas.MergeIn,
    landlord: LandlordDep,
    session: SessionDep,
    participants: MergeParticipantsDep,
) -> schemas.ResidentRead:
    """Merge another resident (the same person) into this one: their leases move here and the
    other ID is retired; a pending resident is approved by it."""
    resident = residents_service.get_resident(
        session, landlord.workspace.id, resident_id, for_update=True
    )
    merges.merge(
        session,
        workspaces_service.minter(landlord.workspace, session),
        resident,
        merge_with=body.merge_with,
        participants=participants,
        now=landlord.now,
    )
    return _resident_read(session, resident)


@router.delete(
    "/residents/{resident_id}",
    status_code=204,
    response_class=Response,
    responses=problem_responses(401, 404, 409),
)
async def delete_resident(resident_id: str, landlord: LandlordDep, session: SessionDep) -> Response:
    """Delete a pending, invited or waiting resident who never paid (and the lease they hold)."""
    resident = residents_service.get_resident(
        session, landlord.workspace.id, resident_id, for_update=True
    )
    residents_service.delete_resident(
        session, workspaces_service.minter(landlord.workspace, session), resident, now=landlord.now
    )
    return Response(status_code=204)


@router.get(
    "/leases/{lease_id}", response_model=schemas.LeaseRead, responses=problem_responses(401, 404)
)
async def get_lease(lease_id: str, landlord: LandlordDep, session: SessionDep) -> schemas.LeaseRead:
    """One lease with its history."""
    lease = leases_service.get_lease(session, landlord.workspace.id, lease_id)
    return _lease_read(session, lease, history=True)


@router.patch(
    "/leases/{lease_id}",
    response_model=schemas.LeaseRead,
    responses=problem_responses(401, 404, 409, 422),
)
async def update_lease(
    lease_id: str,
    body: schemas.LeasePatch,
    landlord: LandlordDep,
    session: SessionDep,
    participants: MergeParticipantsDep,
) -> schemas.LeaseRead:
    """Map the accounting resident ID; set balance, rent, payments switch, full-balance rule."""
    lease = leases_service.get_lease(session, landlord.workspace.id, lease_id, for_update=True)
    # The fields sent, by attribute (the money fields are cents inside, core/money.py).
    fields = {name: getattr(body, name) for name in body.model_fields_set}
    renames = {"balance": "balance_cents", "rent": "rent_cents"}
    changes = {renames.get(k, k): v for k, v in fields.items() if v is not None or k == "end_date"}
    merges.update_lease(
        session,
        workspaces_service.minter(landlord.workspace, session),
        lease,
        changes,
        amsi=_amsi(session, landlord.workspace.id),
        participants=participants,
        now=landlord.now,
    )
    return _lease_read(session, lease, history=True)


@router.post(
    "/leases/{lease_id}/end",
    response_model=schemas.LeaseRead,
    responses=problem_responses(401, 404, 409, 422),
)
async def end_lease(
    lease_id: str,
    landlord: LandlordDep,
    session: SessionDep,
    body: schemas.EndLeaseIn | None = None,
) -> schemas.LeaseRead:
    """End the lease: no more online payments; it cannot be reopened."""
    lease = leases_service.get_lease(session, landlord.workspace.id, lease_id, for_update=True)
    residents_service.end_lease(
        session,
        workspaces_service.minter(landlord.workspace, session),
        lease,
        uncollected_balance_cents=body.uncollected_balance if body else None,
        now=landlord.now,
    )
    return _lease_read(session, lease, history=True)


# --- residents --------------------------------------------------------------------------------


def _session_for(
    request: Request, session: Session, ws: Workspace, resident: Resident, clock: ClockDep
) -> schemas.ResidentSession:
    token, expires_at = auth_service.session_token(
        session,
        ws,
        typ="resident",
        sub=resident.id,
        system=clock,
        key=request.app.state.signing_key,
        ttl=timedelta(minutes=request.app.state.settings.landlord_token_minutes),
    )
    return schemas.ResidentSession(
        resident_id=resident.id,
        workspace_id=ws.id,
        access_token=token,
        expires_at=expires_at,
        status=resident.status,
    )


@resident_router.post(
    "/signup",
    status_code=201,
    response_model=schemas.ResidentSession,
    responses=problem_responses(404, 409, 422),
)
async def signup(
    body: schemas.SignupIn, request: Request, session: SessionDep, clock: ClockDep
) -> schemas.ResidentSession:
    """Sign up for a property's online payments; pending until the landlord approves."""
    ws = signups.resolve_workspace(
        session, workspace_id=body.workspace_id, property_id=body.property_id
    )
    resident = signups.signup(
        session,
        workspaces_service.minter(ws, session),
        email=body.email,
        password=body.password,
        name=body.name,
        phone=body.phone,
        property_id=body.property_id,
        unit_id=body.unit_id,
        now=workspaces_service.now_of(ws, clock),
    )
    return _session_for(request, session, ws, resident, clock)


@resident_router.post(
    "/login", response_model=schemas.ResidentSession, responses=problem_responses(401, 422)
)
async def resident_login(
    body: schemas.ResidentLoginIn, request: Request, session: SessionDep, clock: ClockDep
) -> schemas.ResidentSession:
    """Log a resident in; the session expires on the workspace clock."""
    resident = signups.find_login(
        session, email=body.email, password=body.password, workspace_id=body.workspace_id
    )
    ws = workspaces_service.get_workspace(session, resident.workspace_id)
    return _session_for(request, session, ws, resident, clock)


@resident_router.post(
    "/invites/{code}/accept",
    response_model=schemas.ResidentSession,
    responses=problem_responses(404, 409, 422),
)
async def accept_invite(
    code: str, body: schemas.AcceptIn, request: Request, session: SessionDep, clock: ClockDep
) -> schemas.ResidentSession:
    """Accept an invitation with a password; the resident is approved and logged in."""

    def now_of(workspace_id: str) -> object:
        return workspaces_service.now_of(
            workspaces_service.get_workspace(session, workspace_id), clock
        )

    resident = invitations.accept_invite(session, code=code, password=body.password, now_of=now_of)
    ws = workspaces_service.get_workspace(session, resident.workspace_id)
    return _session_for(request, session, ws, resident, clock)


@resident_router.get("/leases", response_model=schemas.LeasePage, responses=problem_responses(401))
async def my_leases(caller: ResidentDep, session: SessionDep) -> schemas.LeasePage:
    """The signed-in resident's own leases."""
    leases = leases_service.leases_of(session, caller.workspace.id, caller.resident.id)
    return schemas.LeasePage(data=[_lease_read(session, lease) for lease in leases])
