"""Operator API (``/v1/sandbox``): workspaces, reset, the clock, scenarios, checks.

Scenarios over HTTP load exactly as ``portal seed`` does (docs/scenarios-over-http.md):
``POST /scenarios`` creates the workspace the file describes; ``POST /workspaces/{ws}/scenario``
loads into an existing one (the file's settings, clock start and landlord applied); ``reset``
loads the kept scenarios again; ``GET /check`` runs what ``portal check`` runs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from portal.auth.dependencies import (
    ClockDep,
    OperatorDep,
    OperatorInWorkspaceDep,
    require_operator,
    require_operator_in_workspace,
)
from portal.core.db import SessionDep, heavy_route
from portal.core.errors import NotFound, problem_responses
from portal.core.idempotency import Idempotency, idempotent
from portal.core.pagination import (
    CursorQuery,
    LimitQuery,
    decode_cursor,
    decode_seq_cursor,
    split_page,
)
from portal.events.router import SinceQuery, TypesQuery, event_page
from portal.events.schemas import EventPage
from portal.notifications import service as notifications_service
from portal.notifications.models import EmailKind
from portal.notifications.schemas import EmailRead, MailboxPage
from portal.payments import service as payments_service
from portal.reversals import disputes, reads, returns
from portal.reversals.schemas import ChargebackIn, ChargebackRead, ReturnIn, ReversalRead
from portal.sandbox import checks, scenario_loads, scenarios
from portal.sandbox import service as sandbox_service
from portal.sandbox.schemas import CheckReport, ResetTarget, ScenarioLoadedInto, WorkspaceReset
from portal.workspaces import schemas as ws_schemas
from portal.workspaces import service as workspaces_service

router = APIRouter(
    prefix="/v1/sandbox", tags=["operator: sandbox"], dependencies=[Depends(require_operator)]
)
OperatorIdempotency = Annotated[Idempotency, idempotent(require_operator)]
# Keys sent to a workspace's routes belong to that workspace and expire on its clock.
WorkspaceIdempotency = Annotated[Idempotency, idempotent(require_operator_in_workspace)]


@router.post(
    "/workspaces",
    status_code=201,
    response_model=ws_schemas.WorkspaceCreated,
    responses=problem_responses(401, 409, 422),
)
async def create_workspace(
    body: ws_schemas.WorkspaceCreate,
    operator: OperatorDep,
    session: SessionDep,
    clock: ClockDep,
    idem: OperatorIdempotency,
) -> Response:
    """Create a workspace with its own clock and landlord user (password shown once)."""
    created = sandbox_service.create_workspace(session, body, system_now=operator.now)
    read = sandbox_service.workspace_read(created.workspace, clock)
    landlord = ws_schemas.LandlordLogin(
        email=created.landlord_email, password=created.landlord_password
    )
    # Attributes, not model_dump(): a Python-mode dump keeps money as int cents, which the
    # settings' Amount would read again as dollars (portal/core/money.py).
    return idem.respond(
        ws_schemas.WorkspaceCreated(**dict(read), landlord=landlord), status_code=201
    )


@router.get(
    "/workspaces", response_model=ws_schemas.WorkspacePage, responses=problem_responses(400, 401)
)
async def list_workspaces(
    session: SessionDep, clock: ClockDep, limit: LimitQuery = 50, cursor: CursorQuery = None
) -> ws_schemas.WorkspacePage:
    """All workspaces, by ID."""
    rows = workspaces_service.list_workspaces(session, after=decode_cursor(cursor), limit=limit + 1)
    page, next_cursor = split_page(rows, limit, key=lambda ws: ws.id)
    return ws_schemas.WorkspacePage(
        data=[sandbox_service.workspace_read(ws, clock) for ws in page], next_cursor=next_cursor
    )


@router.get(
    "/workspaces/{workspace_id}",
    response_model=ws_schemas.WorkspaceRead,
    responses=problem_responses(401, 404),
)
async def get_workspace(
    workspace_id: str, session: SessionDep, clock: ClockDep
) -> ws_schemas.WorkspaceRead:
    """One workspace."""
    ws = workspaces_service.get_workspace(session, workspace_id)
    return sandbox_service.workspace_read(ws, clock)


# The routes that can take seconds (a large workspace, a month of jobs, a scenario) run in a
# worker thread, so other requests are served meanwhile.
@heavy_route(
    router,
    "/workspaces/{workspace_id}",
    methods=["DELETE"],
    status_code=204,
    response_class=Response,
    responses=problem_responses(401, 404),
)
async def delete_workspace(workspace_id: str, session: SessionDep) -> Response:
    """Delete a workspace and everything in it."""
    sandbox_service.delete_workspace(session, workspace_id)
    return Response(status_code=204)


@heavy_route(
    router,
    "/workspaces/{workspace_id}/reset",
    methods=["POST"],
    response_model=WorkspaceReset,
    responses=problem_responses(401, 404, 409, 422),
)
async def reset_workspace(
    workspace_id: str,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    to: Annotated[
        ResetTarget,
        Query(
            description="`scenario`: wipe, then load the scenarios the workspace was loaded "
            "from again (same IDs, same integration tokens); `empty`: wipe only, and forget "
            "them"
        ),
    ] = "scenario",
) -> WorkspaceReset:
    """Return the workspace to the scenario(s) it was loaded from (or, `?to=empty`, to its
    creation): data wiped, clock and IDs rewound, the landlord logins kept."""
    return scenario_loads.reset(
        session, workspace_id, to=to, signing_key=request.app.state.signing_key, system=clock
    )


@router.get(
    "/workspaces/{workspace_id}/clock",
    response_model=ws_schemas.ClockRead,
    responses=problem_responses(401, 404),
)
async def get_clock(
    workspace_id: str, session: SessionDep, clock: ClockDep
) -> ws_schemas.ClockRead:
    """The workspace's clock, with the business date a payment made now would get."""
    return sandbox_service.clock_read(
        workspaces_service.get_workspace(session, workspace_id), clock
    )


@heavy_route(
    router,
    "/workspaces/{workspace_id}/clock/advance",
    methods=["POST"],
    response_model=ws_schemas.ClockAdvanced,
    responses=problem_responses(401, 404, 409, 422),
)
async def advance_clock(
    workspace_id: str, body: ws_schemas.ClockAdvance, session: SessionDep, clock: ClockDep
) -> ws_schemas.ClockAdvanced:
    """Move the clock forward, running every job that falls due, in time order."""
    return sandbox_service.advance(
        session, workspace_id, body, system=clock, checkpoint=session.commit
    )


@heavy_route(
    router,
    "/scenarios",
    methods=["POST"],
    status_code=201,
    response_model=scenarios.WorkspaceFromScenario,
    responses=problem_responses(401, 409, 413, 422),
)
async def create_workspace_from_scenario(
    scenario: scenarios.Scenario,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    idem: OperatorIdempotency,
    replace: Annotated[
        bool,
        Query(description="Delete the scenario's workspace first if it exists (else 409)"),
    ] = False,
) -> Response:
    """Create the workspace a scenario describes and load it, exactly as `portal seed FILE`:
    returns its IDs, landlord login and the integration tokens minted (shown once)."""
    created = scenarios.create_from(
        session,
        scenario,
        signing_key=request.app.state.signing_key,
        system_now=clock.now(),
        system_clock=clock,
        replace=replace,
    )
    return idem.respond(created, status_code=201)


@heavy_route(
    router,
    "/workspaces/{workspace_id}/scenario",
    methods=["POST"],
    response_model=ScenarioLoadedInto,
    responses=problem_responses(401, 404, 409, 413, 422),
)
async def load_scenario(
    workspace_id: str,
    scenario: scenarios.Scenario,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    idem: WorkspaceIdempotency,
) -> Response:
    """Load a scenario into the workspace, all or nothing, with its settings, clock start and
    landlord login; returns key -> ID, the login and the integration tokens minted."""
    loaded = scenario_loads.load_into_workspace(
        session, workspace_id, scenario, signing_key=request.app.state.signing_key, system=clock
    )
    return idem.respond(loaded)


@heavy_route(
    router,
    "/check",
    methods=["GET"],
    response_model=CheckReport,
    responses=problem_responses(401),
)
async def check_workspaces(session: SessionDep) -> CheckReport:
    """What `portal check` verifies, for every workspace: the ledger invariants and the
    connected accounting systems' read-back (200 even when `ok` is false)."""
    return checks.report_read(checks.run(session))


@heavy_route(
    router,
    "/workspaces/{workspace_id}/check",
    methods=["GET"],
    response_model=CheckReport,
    responses=problem_responses(401, 404),
)
async def check_workspace(workspace_id: str, session: SessionDep) -> CheckReport:
    """What `portal check --workspace` verifies, for this workspace (200 even when `ok` is
    false)."""
    return checks.report_read(checks.run(session, workspace_id))


@router.get(
    "/workspaces/{workspace_id}/mailbox",
    response_model=MailboxPage,
    responses=problem_responses(400, 401, 404, 422),
)
async def get_mailbox(
    workspace_id: str,
    session: SessionDep,
    to: Annotated[str | None, Query(description="Recipient e-mail")] = None,
    kind: Annotated[
        EmailKind | None, Query(description="invitation, pending_reminder, ...")
    ] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> MailboxPage:
    """Every e-mail the portal sent in this workspace, oldest first."""
    workspaces_service.get_workspace(session, workspace_id)
    rows = notifications_service.mailbox(
        session,
        workspace_id,
        to=to,
        kind=kind,
        after_seq=decode_seq_cursor(cursor),
        limit=limit + 1,
    )
    page, next_cursor = split_page(rows, limit, key=lambda e: str(e.seq))
    files = notifications_service.attachments_of(session, workspace_id, [e.id for e in page])
    return MailboxPage(
        data=[EmailRead.of(e, files.get(e.id)) for e in page], next_cursor=next_cursor
    )


@router.get(
    "/workspaces/{workspace_id}/mailbox/{email_id}/attachments/{n}",
    responses={
        200: {"description": "The attached file", "content": {"text/csv": {}}},
        **problem_responses(401, 404),
    },
)
async def get_attachment(
    workspace_id: str,
    email_id: str,
    # Bounded like the stored number (a 32-bit column): a larger one was a 500.
    n: Annotated[int, Path(ge=1, le=2**31 - 1)],
    session: SessionDep,
) -> Response:
    """One file an e-mail carried (the lockbox files of a Batch Deposit Report)."""
    workspaces_service.get_workspace(session, workspace_id)
    found = notifications_service.attachment(session, workspace_id, email_id, n)
    if found is None:
        raise NotFound(f"E-mail {email_id!r} has no attachment {n}.", code="attachment_not_found")
    return Response(
        found.content,
        media_type=found.content_type,
        headers={"Content-Disposition": f'attachment; filename="{found.filename}"'},
    )


@router.get(
    "/workspaces/{workspace_id}/events",
    response_model=EventPage,
    responses=problem_responses(400, 401, 404, 422),
)
async def get_events(
    workspace_id: str,
    session: SessionDep,
    types: TypesQuery = None,
    since: SinceQuery = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> EventPage:
    """Everything that happened in this workspace, oldest first: every event, as `GET
    /v1/events` gives the landlord (`?type=` repeatable, `since` a `seq`)."""
    workspaces_service.get_workspace(session, workspace_id)
    return event_page(
        session,
        workspace_id,
        integration_id=None,
        types=types,
        since=since,
        limit=limit,
        cursor=cursor,
    )


@router.post(
    "/workspaces/{workspace_id}/payments/{payment_id}/return",
    status_code=201,
    response_model=ReversalRead,
    responses=problem_responses(401, 404, 409, 422),
)
async def return_payment(
    payment_id: str,
    body: ReturnIn,
    operator: OperatorInWorkspaceDep,
    session: SessionDep,
    idem: WorkspaceIdempotency,
) -> Response:
    """The bank returns an ACH payment with a NACHA code (R01-R99): inside its batch before the
    deposit, as a negative reversal batch after it; 409 ``return_window_closed`` once the
    code's window after settlement has passed (2 banking days; 60 calendar days for the
    unauthorized codes)."""
    ws = operator.workspace
    payment = payments_service.get_payment(session, ws.id, payment_id, for_update=True)
    reversal = returns.return_payment(
        session,
        workspaces_service.minter(ws, session),
        payment,
        returns.parse_code(body.code),
        settings=ws.settings,
        now=operator.now,
        initiated_by="operator",
    )
    return idem.respond(reads.reversal_read(session, ws.id, reversal), status_code=201)


@router.post(
    "/workspaces/{workspace_id}/payments/{payment_id}/chargeback",
    status_code=201,
    response_model=ChargebackRead,
    responses=problem_responses(401, 404, 409, 422),
)
async def charge_back_payment(
    payment_id: str,
    body: ChargebackIn,
    operator: OperatorInWorkspaceDep,
    session: SessionDep,
    idem: WorkspaceIdempotency,
) -> Response:
    """The cardholder's bank charges a card payment back (Visa or Mastercard reason code): the
    funds are taken at once and a dispute opens for the landlord to accept or challenge."""
    ws = operator.workspace
    payment = payments_service.get_payment(session, ws.id, payment_id, for_update=True)
    reversal, dispute = disputes.charge_back(
        session,
        workspaces_service.minter(ws, session),
        payment,
        disputes.parse_reason(body.reason_code),
        settings=ws.settings,
        now=operator.now,
        initiated_by="operator",
        outcome=body.outcome,
    )
    return idem.respond(reads.chargeback_read(session, ws.id, reversal, dispute), status_code=201)
