"""Landlord login, integrations and tokens, and the integration's own ``last-error``."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request, Response

from portal.auth import schemas, service
from portal.auth.dependencies import ClockDep, IntegrationDep, LandlordDep
from portal.core.db import SessionDep
from portal.core.errors import problem_responses
from portal.core.pagination import CursorQuery, LimitQuery, decode_cursor, split_page
from portal.workspaces import service as workspaces_service

router = APIRouter(prefix="/v1", tags=["landlord: auth and integrations"])
integration_router = APIRouter(prefix="/v1/integration", tags=["integration"])


@router.post(
    "/auth/login",
    response_model=schemas.AccessToken,
    responses=problem_responses(401, 422),
)
async def login(
    body: schemas.LoginIn, request: Request, session: SessionDep, clock: ClockDep
) -> schemas.AccessToken:
    """Log a landlord user in; the session expires on the workspace clock."""
    settings = request.app.state.settings
    token, expires_at = service.login(
        session,
        email=body.email,
        password=body.password,
        system=clock,
        key=request.app.state.signing_key,
        ttl=timedelta(minutes=settings.landlord_token_minutes),
    )
    return schemas.AccessToken(access_token=token, expires_at=expires_at)


@router.post(
    "/integrations",
    status_code=201,
    response_model=schemas.IntegrationRead,
    responses=problem_responses(401, 422),
)
async def create_integration(
    body: schemas.IntegrationCreate, landlord: LandlordDep, session: SessionDep
) -> schemas.IntegrationRead:
    """Create an integration for an accounting system (Landlord 12, AMSI, MRI)."""
    integration = service.create_integration(
        session,
        workspaces_service.minter(landlord.workspace, session),
        name=body.name,
        kind=body.kind,
        features=[f.value for f in body.features],
        processing_options=body.processing_options.model_dump(),
        now=landlord.now,
        flavor=body.flavor,
        lockbox_format=body.lockbox_format,
        connection=body.connection,
    )
    return schemas.integration_read(integration, None)


@router.get(
    "/integrations", response_model=schemas.IntegrationPage, responses=problem_responses(400, 401)
)
async def list_integrations(
    landlord: LandlordDep,
    session: SessionDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> schemas.IntegrationPage:
    """List the workspace's integrations."""
    ws_id = landlord.workspace.id
    rows = service.list_integrations(session, ws_id, after=decode_cursor(cursor), limit=limit + 1)
    page, next_cursor = split_page(rows, limit, key=lambda i: i.id)
    active = service.active_tokens(session, [i.id for i in page], ws_id)
    return schemas.IntegrationPage(
        data=[schemas.integration_read(i, active.get(i.id)) for i in page],
        next_cursor=next_cursor,
    )


@router.get(
    "/integrations/{integration_id}",
    response_model=schemas.IntegrationRead,
    responses=problem_responses(401, 404),
)
async def get_integration(
    integration_id: str, landlord: LandlordDep, session: SessionDep
) -> schemas.IntegrationRead:
    """One integration, with its active token's metadata."""
    integration = service.get_integration(session, landlord.workspace.id, integration_id)
    active = service.active_tokens(session, [integration.id], landlord.workspace.id)
    return schemas.integration_read(integration, active.get(integration.id))


@router.patch(
    "/integrations/{integration_id}",
    response_model=schemas.IntegrationRead,
    responses=problem_responses(401, 404, 422),
)
async def update_integration(
    integration_id: str, body: schemas.IntegrationPatch, landlord: LandlordDep, session: SessionDep
) -> schemas.IntegrationRead:
    """Change an integration's settings (name, flavor, enabled features, processing options,
    lockbox format); what is left out keeps its value. A feature change applies to the
    integration's current token at once."""
    integration = service.get_integration(
        session, landlord.workspace.id, integration_id, for_update=True
    )
    service.update_integration(session, integration, body.changes())
    active = service.active_tokens(session, [integration.id], landlord.workspace.id)
    return schemas.integration_read(integration, active.get(integration.id))


@router.post(
    "/integrations/{integration_id}/tokens",
    status_code=201,
    response_model=schemas.TokenCreated,
    responses=problem_responses(401, 404),
)
async def create_token(
    integration_id: str, landlord: LandlordDep, session: SessionDep, request: Request
) -> schemas.TokenCreated:
    """Generate a new token (shown once); the integration's previous token stops working."""
    integration = service.get_integration(
        session, landlord.workspace.id, integration_id, for_update=True
    )
    row, token = service.issue_token(
        session,
        workspaces_service.minter(landlord.workspace, session),
        integration,
        key=request.app.state.signing_key,
        now=landlord.now,
    )
    return schemas.TokenCreated(id=row.id, token=token, created_at=row.created_at)


@router.get(
    "/integrations/{integration_id}/tokens",
    response_model=schemas.TokenPage,
    responses=problem_responses(401, 404),
)
async def list_tokens(
    integration_id: str, landlord: LandlordDep, session: SessionDep
) -> schemas.TokenPage:
    """Token metadata (never the tokens themselves), oldest first."""
    integration = service.get_integration(session, landlord.workspace.id, integration_id)
    return schemas.TokenPage(
        data=[schemas.token_read(t) for t in service.list_tokens(session, integration)]
    )


@router.delete(
    "/integrations/{integration_id}/tokens/{token_id}",
    status_code=204,
    response_class=Response,
    responses=problem_responses(401, 404),
)
async def revoke_token(
    integration_id: str, token_id: str, landlord: LandlordDep, session: SessionDep
) -> Response:
    """Revoke a token; revoking one already inactive changes nothing."""
    integration = service.get_integration(
        session, landlord.workspace.id, integration_id, for_update=True
    )
    service.revoke_token(session, integration, token_id, now=landlord.now)
    return Response(status_code=204)


@integration_router.get(
    "/last-error", response_model=schemas.LastError, responses=problem_responses(401)
)
async def last_error(caller: IntegrationDep) -> schemas.LastError:
    """The last error this integration met (Landlord 12's "Show Last Error"), or null."""
    return schemas.LastError(error=caller.integration.last_error)
