"""Residents' payment sources, payments and recurring schedules (``/v1/resident``), and the
landlord's payments and deposit batches (``/v1``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from sqlmodel import Session

from portal.auth.dependencies import LandlordDep
from portal.core.dates import IsoDate
from portal.core.db import SessionDep, raw_of
from portal.core.errors import problem_responses
from portal.core.idempotency import Idempotency, idempotent
from portal.core.pagination import CursorQuery, LimitQuery, decode_cursor, split_page
from portal.payments import batch_items, batching, recurring, schemas, sources
from portal.payments import rules as payment_rules
from portal.payments import service as payments_service
from portal.payments.errors import PaymentNotFound
from portal.payments.models import BatchKind, BatchStatus, Payment, PaymentStatus
from portal.residents.dependencies import ResidentDep, require_resident
from portal.workspaces import service as workspaces_service
from portal.workspaces.models import Workspace

router = APIRouter(prefix="/v1", tags=["landlord: payments and deposits"])
resident_router = APIRouter(prefix="/v1/resident", tags=["resident: payments"])
ResidentIdempotency = Annotated[Idempotency, idempotent(require_resident)]


def _payment_read(session: Session, payment: Payment, settings: Any) -> schemas.PaymentRead:
    deadlines = payment_rules.void_deadlines(session, payment.workspace_id, [payment], settings)
    return schemas.PaymentRead.of(
        payment, batching.batch_deposit_date(session, payment), deadlines.get(payment.id)
    )


def _payment_page(
    session: Session, workspace: Workspace, rows: list[Payment], limit: int
) -> schemas.PaymentPage:
    page, next_cursor = split_page(rows, limit, key=lambda p: p.id)
    batch_ids = sorted({p.deposit_batch_id for p in page if p.deposit_batch_id})
    dates = {
        b.id: b.deposit_date for b in batching.list_batches_by_id(session, workspace.id, batch_ids)
    }
    deadlines = payment_rules.void_deadlines(session, workspace.id, page, workspace.settings)
    return schemas.PaymentPage(
        data=[
            schemas.PaymentRead.of(
                p,
                dates.get(p.deposit_batch_id) if p.deposit_batch_id else None,
                deadlines.get(p.id),
            )
            for p in page
        ],
        next_cursor=next_cursor,
    )


# --- residents ----------------------------------------------------------------------------------


@resident_router.post(
    "/payment-sources",
    status_code=201,
    response_model=schemas.SourceRead,
    responses=problem_responses(401, 422),
)
async def add_payment_source(
    body: schemas.SourceIn, caller: ResidentDep, session: SessionDep
) -> schemas.SourceRead:
    """Add a checking account (routing + account number) or a card (Luhn-checked; only the
    brand, last 4 and expiry are kept). Magic numbers are in the README's sandbox table."""
    ids = workspaces_service.minter(caller.workspace, session)
    if isinstance(body, schemas.BankAccountIn):
        source = sources.create_bank_account(
            session,
            ids,
            resident_id=caller.resident.id,
            routing_number=body.routing_number,
            account_number=body.account_number,
            now=caller.now,
        )
    else:
        source = sources.create_card(
            session,
            ids,
            resident_id=caller.resident.id,
            number=body.number,
            exp_month=body.exp_month,
            exp_year=body.exp_year,
            funding=body.funding,
            now=caller.now,
        )
    return schemas.SourceRead.of(source)


@resident_router.get(
    "/payment-sources", response_model=schemas.SourcePage, responses=problem_responses(400, 401)
)
async def my_payment_sources(
    caller: ResidentDep, session: SessionDep, limit: LimitQuery = 50, cursor: CursorQuery = None
) -> schemas.SourcePage:
    rows = sources.list_sources(
        session,
        caller.workspace.id,
        caller.resident.id,
        after=decode_cursor(cursor),
        limit=limit + 1,
    )
    page, next_cursor = split_page(rows, limit, key=lambda s: s.id)
    return schemas.SourcePage(
        data=[schemas.SourceRead.of(s) for s in page], next_cursor=next_cursor
    )


@resident_router.post(
    "/payments",
    status_code=201,
    response_model=schemas.PaymentRead,
    responses=problem_responses(401, 402, 404, 409, 422),
)
async def make_payment(
    body: schemas.PaymentIn, caller: ResidentDep, session: SessionDep, idem: ResidentIdempotency
) -> Response:
    """Pay now (``processing``, in today's or the next banking day's batch) or on a future
    ``date`` (``scheduled``). Send an ``Idempotency-Key``: a retried request never pays twice."""
    payment = payments_service.make_payment(
        session,
        workspaces_service.minter(caller.workspace, session),
        resident_id=caller.resident.id,
        lease_id=body.lease_id,
        source_id=body.payment_source_id,
        amount_cents=body.amount,
        type=body.type,
        on=body.date,
        settings=caller.workspace.settings,
        now=caller.now,
    )
    return idem.respond(_payment_read(session, payment, caller.workspace.settings), status_code=201)


@resident_router.get(
    "/payments", response_model=schemas.PaymentPage, responses=problem_responses(400, 401)
)
async def my_payments(
    caller: ResidentDep, session: SessionDep, limit: LimitQuery = 50, cursor: CursorQuery = None
) -> schemas.PaymentPage:
    rows = payments_service.list_payments(
        session,
        caller.workspace.id,
        resident_id=caller.resident.id,
        after=decode_cursor(cursor),
        limit=limit + 1,
    )
    return _payment_page(session, caller.workspace, rows, limit)


@resident_router.get(
    "/payments/{payment_id}",
    response_model=schemas.PaymentRead,
    responses=problem_responses(401, 404),
)
async def my_payment(
    payment_id: str, caller: ResidentDep, session: SessionDep
) -> schemas.PaymentRead:
    payment = payments_service.get_payment(session, caller.workspace.id, payment_id)
    if payment.resident_id != caller.resident.id:
        raise PaymentNotFound(f"No payment {payment_id!r}.")
    return _payment_read(session, payment, caller.workspace.settings)


@resident_router.post(
    "/recurring-payments",
    status_code=201,
    response_model=schemas.RecurringRead,
    responses=problem_responses(401, 404, 409, 422),
)
async def add_recurring_payment(
    body: schemas.RecurringIn, caller: ResidentDep, session: SessionDep, idem: ResidentIdempotency
) -> Response:
    """Autopay: a fixed amount on a day of every month, until stopped or through ``end_month``."""
    schedule = recurring.create_schedule(
        session,
        workspaces_service.minter(caller.workspace, session),
        resident_id=caller.resident.id,
        lease_id=body.lease_id,
        source_id=body.payment_source_id,
        amount_cents=body.amount,
        type=body.type,
        day_of_month=body.day_of_month,
        end_month=schemas.parse_month(body.end_month) if body.end_month else None,
        settings=caller.workspace.settings,
        now=caller.now,
    )
    return idem.respond(schemas.RecurringRead.of(schedule), status_code=201)


@resident_router.get(
    "/recurring-payments",
    response_model=schemas.RecurringPage,
    responses=problem_responses(400, 401),
)
async def my_recurring_payments(
    caller: ResidentDep, session: SessionDep, limit: LimitQuery = 50, cursor: CursorQuery = None
) -> schemas.RecurringPage:
    rows = recurring.list_schedules(
        session,
        caller.workspace.id,
        caller.resident.id,
        after=decode_cursor(cursor),
        limit=limit + 1,
    )
    page, next_cursor = split_page(rows, limit, key=lambda r: r.id)
    return schemas.RecurringPage(
        data=[schemas.RecurringRead.of(r) for r in page], next_cursor=next_cursor
    )


@resident_router.delete(
    "/recurring-payments/{recurring_id}",
    response_model=schemas.RecurringRead,
    responses=problem_responses(401, 404, 409),
)
async def stop_recurring_payment(
    recurring_id: str, caller: ResidentDep, session: SessionDep
) -> schemas.RecurringRead:
    """Stop a schedule; payments it already made are not touched."""
    schedule = recurring.get_schedule(
        session, caller.workspace.id, caller.resident.id, recurring_id, for_update=True
    )
    return schemas.RecurringRead.of(recurring.cancel_schedule(schedule, now=caller.now))


# --- landlord -----------------------------------------------------------------------------------


@router.get(
    "/payments", response_model=schemas.PaymentPage, responses=problem_responses(400, 401, 422)
)
async def list_payments(
    landlord: LandlordDep,
    session: SessionDep,
    status: PaymentStatus | None = None,
    lease_id: str | None = None,
    date_from: Annotated[
        IsoDate | None, Query(alias="from", description="Business date on or after")
    ] = None,
    date_to: Annotated[
        IsoDate | None, Query(alias="to", description="Business date on or before")
    ] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> schemas.PaymentPage:
    """Every payment of the workspace, filtered by status, lease and business-date range."""
    rows = payments_service.list_payments(
        session,
        landlord.workspace.id,
        status=status,
        lease_id=lease_id,
        date_from=date_from,
        date_to=date_to,
        after=decode_cursor(cursor),
        limit=limit + 1,
    )
    return _payment_page(session, landlord.workspace, rows, limit)


@router.get(
    "/deposit-batches", response_model=schemas.BatchPage, responses=problem_responses(400, 401, 422)
)
async def list_deposit_batches(
    landlord: LandlordDep,
    session: SessionDep,
    date: Annotated[IsoDate | None, Query(description="Deposit date")] = None,
    business_date: IsoDate | None = None,
    status: BatchStatus | None = None,
    kind: BatchKind | None = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> schemas.BatchPage:
    """Deposit batches, by deposit ``date`` (the day funds reach the bank, as in
    "Deposit on 2/23/2022") or ``business_date``; items are on the batch's own page."""
    ws_id = landlord.workspace.id
    rows = batching.list_batches(
        session,
        ws_id,
        deposit_date=date,
        business_date=business_date,
        status=status,
        kind=kind,
        after=decode_cursor(cursor),
        limit=limit + 1,
    )
    page, next_cursor = split_page(rows, limit, key=lambda b: b.id)
    last4 = batching.account_last4s(session, ws_id, {b.deposit_account_id for b in page})
    return schemas.BatchPage(
        data=[schemas.BatchRead.of(b, last4[b.deposit_account_id]) for b in page],
        next_cursor=next_cursor,
    )


@router.get(
    "/deposit-batches/{batch_id}",
    response_model=schemas.BatchRead,
    responses=problem_responses(401, 404),
)
async def get_deposit_batch(
    batch_id: str, landlord: LandlordDep, session: SessionDep
) -> schemas.BatchRead:
    """One batch with its items: payments, then reversals; a payment reversed after the
    deposit without a separate debit carries the reversal as its ``note``."""
    ws_id = landlord.workspace.id
    batch = batching.get_batch(session, ws_id, batch_id)
    items = batch_items.items_of_batch(raw_of(session), ws_id, batch.id)
    last4 = batching.account_last4s(session, ws_id, {batch.deposit_account_id})
    return schemas.BatchRead.of(
        batch, last4[batch.deposit_account_id], [schemas.BatchItem.of(i) for i in items]
    )
