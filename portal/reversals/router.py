"""Landlord routes for a payment's history, voids, refunds, reversals and disputes (``/v1``),
and the resident's cancel (``/v1/resident``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from portal.auth.dependencies import LandlordDep, require_landlord
from portal.core.dates import IsoDate
from portal.core.db import SessionDep
from portal.core.errors import problem_responses
from portal.core.idempotency import Idempotency, idempotent
from portal.core.pagination import CursorQuery, LimitQuery, decode_cursor, split_page
from portal.payments import service as payments_service
from portal.payments.errors import PaymentNotFound
from portal.payments.models import ReversalKind
from portal.residents.dependencies import ResidentDep
from portal.reversals import disputes, reads, service, voids
from portal.reversals.models import DisputeStatus
from portal.reversals.schemas import (
    ChallengeIn,
    DisputePage,
    DisputeRead,
    PaymentDetail,
    ReversalPage,
    ReversalRead,
)
from portal.workspaces import service as workspaces_service

router = APIRouter(prefix="/v1", tags=["landlord: reversals and disputes"])
resident_router = APIRouter(prefix="/v1/resident", tags=["resident: payments"])
LandlordIdempotency = Annotated[Idempotency, idempotent(require_landlord)]


@router.get(
    "/payments/{payment_id}", response_model=PaymentDetail, responses=problem_responses(401, 404)
)
async def get_payment(payment_id: str, landlord: LandlordDep, session: SessionDep) -> PaymentDetail:
    """One payment with its reversal history (voids, refunds, returns, chargebacks) and
    disputes."""
    payment = payments_service.get_payment(session, landlord.workspace.id, payment_id)
    return reads.payment_detail(session, payment, landlord.workspace.settings)


@router.post(
    "/payments/{payment_id}/void",
    response_model=PaymentDetail,
    responses=problem_responses(401, 404, 409),
)
async def void_payment(
    payment_id: str, landlord: LandlordDep, session: SessionDep
) -> PaymentDetail:
    """Void a processing payment the day it was made, before its business date's cut-off
    (``voidable_until``; it leaves its open batch, the balance is not changed), or cancel a
    scheduled one; otherwise 409 ``payment_not_voidable`` with the reason, the refund route
    and ``refundable_from``."""
    ws = landlord.workspace
    payment = payments_service.get_payment(session, ws.id, payment_id, for_update=True)
    voids.void(
        session,
        workspaces_service.minter(ws, session),
        payment,
        settings=ws.settings,
        now=landlord.now,
        initiated_by="landlord",
    )
    return reads.payment_detail(session, payment, ws.settings)


@router.post(
    "/payments/{payment_id}/refund",
    status_code=201,
    response_model=ReversalRead,
    responses=problem_responses(401, 404, 409, 422),
)
async def refund_payment(
    payment_id: str, landlord: LandlordDep, session: SessionDep, idem: LandlordIdempotency
) -> Response:
    """Refund a completed payment: a separate debit in today's reversal batch (a note on the
    payment's receipt when its property does not post reversals); the balance rises. Before
    the deposit: 409 ``payment_not_refundable`` with ``refundable_from``. Send an
    ``Idempotency-Key``: a retried request never refunds twice."""
    ws = landlord.workspace
    payment = payments_service.get_payment(session, ws.id, payment_id, for_update=True)
    reversal = voids.refund(
        session,
        workspaces_service.minter(ws, session),
        payment,
        settings=ws.settings,
        now=landlord.now,
        initiated_by="landlord",
    )
    return idem.respond(reads.reversal_read(session, ws.id, reversal), status_code=201)


@router.get("/reversals", response_model=ReversalPage, responses=problem_responses(400, 401, 422))
async def list_reversals(
    landlord: LandlordDep,
    session: SessionDep,
    date: Annotated[
        IsoDate | None, Query(description="The New York day the reversal happened")
    ] = None,
    kind: ReversalKind | None = None,
    payment_id: str | None = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> ReversalPage:
    """Voids, refunds, returns, chargebacks and won disputes' credits, by day."""
    ws_id = landlord.workspace.id
    rows = service.list_reversals(
        session,
        ws_id,
        on=date,
        kind=kind,
        payment_id=payment_id,
        after=decode_cursor(cursor),
        limit=limit + 1,
    )
    page, next_cursor = split_page(rows, limit, key=lambda r: r.id)
    return ReversalPage(data=reads.reversal_reads(session, ws_id, page), next_cursor=next_cursor)


@router.get(
    "/reversals/{reversal_id}", response_model=ReversalRead, responses=problem_responses(401, 404)
)
async def get_reversal(
    reversal_id: str, landlord: LandlordDep, session: SessionDep
) -> ReversalRead:
    ws_id = landlord.workspace.id
    return reads.reversal_read(session, ws_id, service.get_reversal(session, ws_id, reversal_id))


@router.get("/disputes", response_model=DisputePage, responses=problem_responses(400, 401, 422))
async def list_disputes(
    landlord: LandlordDep,
    session: SessionDep,
    status: DisputeStatus | None = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> DisputePage:
    """Chargeback disputes; ``status=needs_response`` lists those waiting for an answer."""
    rows = disputes.list_disputes(
        session, landlord.workspace.id, status=status, after=decode_cursor(cursor), limit=limit + 1
    )
    page, next_cursor = split_page(rows, limit, key=lambda d: d.id)
    return DisputePage(data=[DisputeRead.of(d) for d in page], next_cursor=next_cursor)


@router.get(
    "/disputes/{dispute_id}", response_model=DisputeRead, responses=problem_responses(401, 404)
)
async def get_dispute(dispute_id: str, landlord: LandlordDep, session: SessionDep) -> DisputeRead:
    return DisputeRead.of(disputes.get_dispute(session, landlord.workspace.id, dispute_id))


@router.post(
    "/disputes/{dispute_id}/accept",
    response_model=DisputeRead,
    responses=problem_responses(401, 404, 409),
)
async def accept_dispute(
    dispute_id: str, landlord: LandlordDep, session: SessionDep
) -> DisputeRead:
    """Accept the chargeback: the dispute is lost and the cardholder keeps the money."""
    ws = landlord.workspace
    dispute = disputes.get_dispute(session, ws.id, dispute_id, for_update=True)
    disputes.accept(session, workspaces_service.minter(ws, session), dispute, now=landlord.now)
    return DisputeRead.of(dispute)


@router.post(
    "/disputes/{dispute_id}/challenge",
    response_model=DisputeRead,
    responses=problem_responses(401, 404, 409, 422),
)
async def challenge_dispute(
    dispute_id: str, landlord: LandlordDep, session: SessionDep, body: ChallengeIn | None = None
) -> DisputeRead:
    """Challenge the chargeback with evidence: ``under_review``, decided (and, if won, the
    funds credited back) a few banking days later."""
    ws = landlord.workspace
    dispute = disputes.get_dispute(session, ws.id, dispute_id, for_update=True)
    disputes.challenge(
        session,
        workspaces_service.minter(ws, session),
        dispute,
        evidence=body.evidence if body else None,
        settings=ws.settings,
        now=landlord.now,
    )
    return DisputeRead.of(dispute)


@resident_router.post(
    "/payments/{payment_id}/cancel",
    response_model=PaymentDetail,
    responses=problem_responses(401, 404, 409),
)
async def cancel_payment(
    payment_id: str, caller: ResidentDep, session: SessionDep
) -> PaymentDetail:
    """Cancel your payment: a scheduled one, or a processing one the day you made it, before
    its cut-off (``voidable_until``); otherwise 409 ``payment_not_voidable``."""
    ws = caller.workspace
    payment = payments_service.get_payment(session, ws.id, payment_id, for_update=True)
    if payment.resident_id != caller.resident.id:
        raise PaymentNotFound(f"No payment {payment_id!r}.")
    voids.void(
        session,
        workspaces_service.minter(ws, session),
        payment,
        settings=ws.settings,
        now=caller.now,
        initiated_by="resident",
    )
    return reads.payment_detail(session, payment, ws.settings)
