"""Applications for residents (``/v1/resident/applications``), screening and decisions for
landlords (``/v1/applicants``), and the accounting client's feed (``/v1/integration/applicants``:
only approved applicants; ``.../accepted`` freezes one)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlmodel import Session

from portal.applicants import schemas, service
from portal.applicants.models import Applicant, Application, ApplicationStatus
from portal.auth import service as auth_service
from portal.auth.dependencies import IntegrationDep, LandlordDep
from portal.auth.models import Feature
from portal.core.db import SessionDep
from portal.core.errors import problem_responses
from portal.core.pagination import (
    CursorQuery,
    LimitQuery,
    decode_cursor,
    decode_seq_cursor,
    split_page,
)
from portal.properties import service as properties_service
from portal.residents.dependencies import ResidentDep
from portal.workspaces import service as workspaces_service
from portal.workspaces.schemas import Instant

router = APIRouter(prefix="/v1", tags=["landlord: applicants"])
resident_router = APIRouter(prefix="/v1/resident", tags=["resident: applications"])
integration_router = APIRouter(prefix="/v1/integration", tags=["integration"])


def _read(session: Session, app: Application) -> schemas.ApplicationRead:
    people = service.applicants_of(session, app.workspace_id, [app.id])[app.id]
    return schemas.ApplicationRead.of(app, people)


def _page(
    session: Session, workspace_id: str, rows: list[Application], limit: int
) -> schemas.ApplicationPage:
    page, next_cursor = split_page(rows, limit, key=lambda a: a.id)
    people = service.applicants_of(session, workspace_id, [a.id for a in page])
    return schemas.ApplicationPage(
        data=[schemas.ApplicationRead.of(a, people[a.id]) for a in page], next_cursor=next_cursor
    )


def _feed_items(
    session: Session, workspace_id: str, rows: list[tuple[Applicant, Application]]
) -> list[schemas.FeedApplicant]:
    """A page of the feed with its primaries, properties and units: three queries, not three
    per applicant."""
    apps = {a.id: a for _p, a in rows}
    people = service.applicants_of(session, workspace_id, list(apps))
    props = properties_service.properties_by_id(
        session, workspace_id, {a.property_id for a in apps.values()}
    )
    units = properties_service.units_by_id(
        session, workspace_id, {a.unit_id for a in apps.values()}
    )
    return [
        schemas.feed_applicant(p, a, people[a.id][0].id, props[a.property_id], units[a.unit_id])
        for p, a in rows
    ]


# --- residents ----------------------------------------------------------------------------------


@resident_router.post(
    "/applications",
    status_code=201,
    response_model=schemas.ApplicationRead,
    responses=problem_responses(401, 404, 422),
)
async def apply(
    body: schemas.ApplicationIn, caller: ResidentDep, session: SessionDep
) -> schemas.ApplicationRead:
    """Apply for a unit with your co-applicants (the Applicant first)."""
    app = service.submit(
        session,
        workspaces_service.minter(caller.workspace, session),
        caller.resident,
        unit_id=body.unit_id,
        desired_move_in=body.desired_move_in,
        applicants=[
            service.NewApplicant(
                name=a.name,
                email=a.email,
                type=a.type,
                phone=a.phone,
                monthly_income_cents=a.monthly_income,
                employer=a.employer,
            )
            for a in body.applicants
        ],
        now=caller.now,
    )
    return _read(session, app)


@resident_router.get(
    "/applications", response_model=schemas.ApplicationPage, responses=problem_responses(400, 401)
)
async def my_applications(
    caller: ResidentDep, session: SessionDep, limit: LimitQuery = 50, cursor: CursorQuery = None
) -> schemas.ApplicationPage:
    rows = service.list_applications(
        session,
        caller.workspace.id,
        resident_id=caller.resident.id,
        after=decode_cursor(cursor),
        limit=limit + 1,
    )
    return _page(session, caller.workspace.id, rows, limit)


# --- landlords ----------------------------------------------------------------------------------


@router.get(
    "/applicants", response_model=schemas.ApplicationPage, responses=problem_responses(400, 401)
)
async def list_applicants(
    landlord: LandlordDep,
    session: SessionDep,
    status: ApplicationStatus | None = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> schemas.ApplicationPage:
    """Applications with their applicants; ``status=submitted`` lists those to screen."""
    rows = service.list_applications(
        session, landlord.workspace.id, status=status, after=decode_cursor(cursor), limit=limit + 1
    )
    return _page(session, landlord.workspace.id, rows, limit)


@router.get(
    "/applicants/{application_id}",
    response_model=schemas.ApplicationRead,
    responses=problem_responses(401, 404),
)
async def get_applicants(
    application_id: str, landlord: LandlordDep, session: SessionDep
) -> schemas.ApplicationRead:
    return _read(session, service.get_application(session, landlord.workspace.id, application_id))


@router.post(
    "/applicants/{application_id}/screen",
    response_model=schemas.ApplicationRead,
    responses=problem_responses(401, 404, 409),
)
async def screen_applicants(
    application_id: str, landlord: LandlordDep, session: SessionDep
) -> schemas.ApplicationRead:
    """Start screening a submitted application (``submitted -> screening``)."""
    app = service.get_application(session, landlord.workspace.id, application_id, for_update=True)
    return _read(session, service.screen(session, app, now=landlord.now))


@router.post(
    "/applicants/{application_id}/decision",
    response_model=schemas.ApplicationRead,
    responses=problem_responses(401, 404, 409, 422),
)
async def decide_applicants(
    application_id: str, body: schemas.DecisionIn, landlord: LandlordDep, session: SessionDep
) -> schemas.ApplicationRead:
    """Approve (the applicants reach the accounting client) or deny (adverse-action
    ``reasons`` required; each applicant gets the letter in the mailbox) a screened
    application; any other move is 409 ``invalid_transition``."""
    ws = landlord.workspace
    app = service.get_application(session, ws.id, application_id, for_update=True)
    service.decide(
        session,
        workspaces_service.minter(ws, session),
        app,
        approve=body.decision == "approve",
        reasons=body.reasons,
        now=landlord.now,
    )
    return _read(session, app)


@router.patch(
    "/applicants/{application_id}",
    response_model=schemas.ApplicationRead,
    responses=problem_responses(401, 404, 409, 422),
)
async def update_application(
    application_id: str, body: schemas.ApplicationPatch, landlord: LandlordDep, session: SessionDep
) -> schemas.ApplicationRead:
    """Change the desired move-in; 409 ``applicant_frozen`` once the client accepted one."""
    app = service.get_application(session, landlord.workspace.id, application_id, for_update=True)
    service.edit_application(session, app, desired_move_in=body.desired_move_in, now=landlord.now)
    return _read(session, app)


@router.patch(
    "/applicants/{application_id}/people/{applicant_id}",
    response_model=schemas.ApplicantRead,
    responses=problem_responses(401, 404, 409, 422),
)
async def update_applicant(
    application_id: str,
    applicant_id: str,
    body: schemas.ApplicantPatch,
    landlord: LandlordDep,
    session: SessionDep,
) -> schemas.ApplicantRead:
    """Correct an applicant; 409 ``applicant_frozen`` once the client accepted them."""
    app = service.get_application(session, landlord.workspace.id, application_id, for_update=True)
    person = service.get_applicant(session, app, applicant_id, for_update=True)
    return schemas.ApplicantRead.of(
        service.edit_applicant(session, person, body.changes(), now=landlord.now)
    )


# --- the accounting client ----------------------------------------------------------------------


@integration_router.get(
    "/applicants", response_model=schemas.FeedPage, responses=problem_responses(400, 401, 403, 422)
)
async def retrieve_applicants(
    caller: IntegrationDep,
    session: SessionDep,
    since: Annotated[
        Instant | None,
        Query(description="Only applicants changed strictly after this instant (RFC 3339)"),
    ] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> schemas.FeedPage:
    """ "Retrieve Applicants" (needs ``applicant_screening``): the applicants of approved
    applications, typed Applicant or Co-Applicant; accepted ones as they were when accepted."""
    auth_service.require_feature(
        caller.integration.features, Feature.APPLICANT_SCREENING, "Retrieve Applicants"
    )
    rows = service.feed(
        session,
        caller.workspace.id,
        since=since,
        after_seq=decode_seq_cursor(cursor),
        limit=limit + 1,
    )
    page, next_cursor = split_page(rows, limit, key=lambda pa: str(pa[0].modified_seq))
    return schemas.FeedPage(
        data=_feed_items(session, caller.workspace.id, page), next_cursor=next_cursor
    )


@integration_router.post(
    "/applicants/{applicant_id}/accepted",
    response_model=schemas.FeedApplicant,
    responses=problem_responses(401, 403, 404),
)
async def accept_applicant(
    applicant_id: str, caller: IntegrationDep, session: SessionDep
) -> schemas.FeedApplicant:
    """ "Accept Applicant and Create a Tenant Profile" was done: the record freezes as it is
    now (twice is harmless)."""
    auth_service.require_feature(
        caller.integration.features, Feature.APPLICANT_SCREENING, "Accepting applicants"
    )
    ws_id = caller.workspace.id
    person, app = service.feed_applicant(session, ws_id, applicant_id, for_update=True)
    [record] = _feed_items(session, ws_id, [(person, app)])
    service.accept(session, person, record.model_dump(mode="json"), now=caller.now)
    [frozen] = _feed_items(session, ws_id, [(person, app)])
    return frozen
