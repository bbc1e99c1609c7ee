"""Landlord routes for properties, units and deposit accounts (architecture.md §7).

Everything is scoped to the landlord's workspace: another workspace's IDs answer 404.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Query
from sqlmodel import Session

from portal.auth import service as auth_service
from portal.auth.dependencies import LandlordDep
from portal.core.db import SessionDep
from portal.core.errors import problem_responses
from portal.core.pagination import CursorQuery, LimitQuery, decode_cursor, split_page
from portal.properties import accounts as accounts_service
from portal.properties import schemas, service
from portal.properties.models import DepositAccount, Property
from portal.workspaces import service as workspaces_service

router = APIRouter(prefix="/v1", tags=["landlord: properties"])

ExternalIdQuery = Annotated[
    str | None, Query(max_length=64, description="Only the property with this external ID")
]


def _property_reads(
    session: Session, workspace_id: str, props: Sequence[Property]
) -> list[schemas.PropertyRead]:
    ids = [p.id for p in props]
    units = service.units_by_property(session, workspace_id, ids)
    accounts = accounts_service.accounts_by_property(session, workspace_id, ids)
    return [schemas.property_read(p, units[p.id], accounts[p.id]) for p in props]


def _account_reads(
    session: Session, workspace_id: str, accounts: Sequence[DepositAccount]
) -> list[schemas.DepositAccountRead]:
    served = accounts_service.properties_by_account(session, workspace_id, [a.id for a in accounts])
    return [schemas.deposit_account_read(a, served[a.id]) for a in accounts]


# --- properties -------------------------------------------------------------------------------


@router.post(
    "/properties",
    status_code=201,
    response_model=schemas.PropertyRead,
    responses=problem_responses(401, 409, 422),
)
async def create_property(
    body: schemas.PropertyCreate, landlord: LandlordDep, session: SessionDep
) -> schemas.PropertyRead:
    """Create a property; its external ID, if given, must be new in the workspace."""
    prop = service.create_property(
        session,
        workspaces_service.minter(landlord.workspace, session),
        name=body.name,
        external_id=body.external_id,
        **body.address.model_dump(),
        post_reversals=body.post_reversals,
        now=landlord.now,
    )
    return schemas.property_read(prop, [], {})


@router.get(
    "/properties",
    response_model=schemas.PropertyPage,
    responses=problem_responses(400, 401, 422),
)
async def list_properties(
    landlord: LandlordDep,
    session: SessionDep,
    external_id: ExternalIdQuery = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> schemas.PropertyPage:
    """List the workspace's properties with their units, optionally by external ID."""
    ws_id = landlord.workspace.id
    rows = service.list_properties(
        session, ws_id, external_id=external_id, after=decode_cursor(cursor), limit=limit + 1
    )
    page, next_cursor = split_page(rows, limit, key=lambda r: r.id)
    return schemas.PropertyPage(data=_property_reads(session, ws_id, page), next_cursor=next_cursor)


@router.get(
    "/properties/{property_id}",
    response_model=schemas.PropertyRead,
    responses=problem_responses(401, 404),
)
async def get_property(
    property_id: str, landlord: LandlordDep, session: SessionDep
) -> schemas.PropertyRead:
    """One property with its units and the deposit account of each type."""
    prop = service.get_property(session, landlord.workspace.id, property_id)
    return _property_reads(session, landlord.workspace.id, [prop])[0]


@router.patch(
    "/properties/{property_id}",
    response_model=schemas.PropertyRead,
    responses=problem_responses(401, 404, 422),
)
async def update_property(
    property_id: str, body: schemas.PropertyUpdate, landlord: LandlordDep, session: SessionDep
) -> schemas.PropertyRead:
    """Rename a property, switch MRI's posting of reversals (``post_reversals``) or give it to
    an integration (``integration_id``; null: every integration's)."""
    ws_id = landlord.workspace.id
    prop = service.get_property(session, ws_id, property_id)
    changes = {
        k: v
        for k, v in body.model_dump(exclude_unset=True).items()
        if v is not None or k == "integration_id"
    }
    if changes.get("integration_id") is not None:
        auth_service.get_integration(session, ws_id, changes["integration_id"])
    service.update_property(session, prop, changes)
    return _property_reads(session, ws_id, [prop])[0]


# --- units ------------------------------------------------------------------------------------


@router.post(
    "/properties/{property_id}/units",
    status_code=201,
    response_model=schemas.UnitRead,
    responses=problem_responses(401, 404, 409, 422),
)
async def create_unit(
    property_id: str, body: schemas.UnitCreate, landlord: LandlordDep, session: SessionDep
) -> schemas.UnitRead:
    """Add a unit to a property; its name is unique in the property, its external ID in the
    workspace."""
    prop = service.get_property(session, landlord.workspace.id, property_id)
    ids = workspaces_service.minter(landlord.workspace, session)
    unit = service.create_unit(
        session, ids, prop, name=body.name, external_id=body.external_id, now=landlord.now
    )
    return schemas.unit_read(unit)


@router.get(
    "/properties/{property_id}/units",
    response_model=schemas.UnitPage,
    responses=problem_responses(400, 401, 404, 422),
)
async def list_units(
    property_id: str,
    landlord: LandlordDep,
    session: SessionDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> schemas.UnitPage:
    """List a property's units."""
    prop = service.get_property(session, landlord.workspace.id, property_id)
    rows = service.list_units(
        session, prop.workspace_id, prop.id, after=decode_cursor(cursor), limit=limit + 1
    )
    page, next_cursor = split_page(rows, limit, key=lambda r: r.id)
    return schemas.UnitPage(data=[schemas.unit_read(u) for u in page], next_cursor=next_cursor)


@router.get(
    "/units/{unit_id}", response_model=schemas.UnitRead, responses=problem_responses(401, 404)
)
async def get_unit(unit_id: str, landlord: LandlordDep, session: SessionDep) -> schemas.UnitRead:
    """One unit."""
    return schemas.unit_read(service.get_unit(session, landlord.workspace.id, unit_id))


# --- deposit accounts -------------------------------------------------------------------------


@router.post(
    "/deposit-accounts",
    status_code=201,
    response_model=schemas.DepositAccountRead,
    responses=problem_responses(401, 404, 409, 422),
)
async def create_deposit_account(
    body: schemas.DepositAccountCreate, landlord: LandlordDep, session: SessionDep
) -> schemas.DepositAccountRead:
    """Create a deposit account receiving one type of payment for the given properties."""
    account = accounts_service.create_deposit_account(
        session,
        workspaces_service.minter(landlord.workspace, session),
        **body.model_dump(),
        now=landlord.now,
    )
    return _account_reads(session, landlord.workspace.id, [account])[0]


@router.get(
    "/deposit-accounts",
    response_model=schemas.DepositAccountPage,
    responses=problem_responses(400, 401, 422),
)
async def list_deposit_accounts(
    landlord: LandlordDep,
    session: SessionDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> schemas.DepositAccountPage:
    """List the workspace's deposit accounts (account numbers are shown as last 4 only)."""
    ws_id = landlord.workspace.id
    rows = accounts_service.list_deposit_accounts(
        session, ws_id, after=decode_cursor(cursor), limit=limit + 1
    )
    page, next_cursor = split_page(rows, limit, key=lambda r: r.id)
    return schemas.DepositAccountPage(
        data=_account_reads(session, ws_id, page), next_cursor=next_cursor
    )


@router.get(
    "/deposit-accounts/{deposit_account_id}",
    response_model=schemas.DepositAccountRead,
    responses=problem_responses(401, 404),
)
async def get_deposit_account(
    deposit_account_id: str, landlord: LandlordDep, session: SessionDep
) -> schemas.DepositAccountRead:
    """One deposit account and the properties it serves."""
    account = accounts_service.get_deposit_account(
        session, landlord.workspace.id, deposit_account_id
    )
    return _account_reads(session, landlord.workspace.id, [account])[0]


@router.put(
    "/deposit-accounts/{deposit_account_id}/properties",
    response_model=schemas.DepositAccountRead,
    responses=problem_responses(401, 404, 409, 422),
)
async def replace_deposit_account_properties(
    deposit_account_id: str,
    body: schemas.ServedProperties,
    landlord: LandlordDep,
    session: SessionDep,
) -> schemas.DepositAccountRead:
    """Replace the list of properties the account serves (an empty list serves none)."""
    account = accounts_service.get_deposit_account(
        session, landlord.workspace.id, deposit_account_id
    )
    served = accounts_service.replace_served_properties(session, account, body.property_ids)
    return schemas.deposit_account_read(account, served)
