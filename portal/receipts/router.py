"""``/v1/integration/receipt-batches``: Check Server for More Batches, Load Receipts, Mark
Processed / Mark Unprocessed, History, and the lockbox files (seed 000 §E, seed 004 §D)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query, Response

from portal.auth.dependencies import IntegrationDep
from portal.auth.models import LockboxFormat
from portal.db import SessionDep
from portal.errors import BadRequest, problem_responses
from portal.pagination import CursorQuery, LimitQuery, decode_cursor, encode_cursor
from portal.receipts import lockbox, service
from portal.receipts.schemas import (
    ReceiptBatchDetail,
    ReceiptBatchPage,
    ReceiptBatchSummary,
    ReceiptRead,
)

router = APIRouter(prefix="/v1/integration", tags=["integration"])


class State(StrEnum):
    UNPROCESSED = "unprocessed"
    PROCESSED = "processed"


def _after(cursor: str | None) -> tuple[int, str] | None:
    key = decode_cursor(cursor)
    if key is None:
        return None
    seq, _, batch_id = key.partition(":")
    if not seq.isdigit() or not batch_id:
        raise BadRequest("The cursor is not one this server issued.", code="invalid_cursor")
    return int(seq), batch_id


@router.get(
    "/receipt-batches",
    response_model=ReceiptBatchPage,
    responses=problem_responses(400, 401, 422),
)
async def list_receipt_batches(
    caller: IntegrationDep,
    session: SessionDep,
    state: Annotated[
        State, Query(description="unprocessed (the dialog's first tab) or processed (History)")
    ] = State.UNPROCESSED,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> ReceiptBatchPage:
    """ "Check Server for More Batches": the closed deposit and reversal batches of this
    integration's properties, newest last, each with the label the client shows."""
    rows = service.list_batches(
        session,
        caller.workspace.id,
        caller.integration.id,
        processed=state is State.PROCESSED,
        after=_after(cursor),
        limit=limit + 1,
    )
    page = rows[:limit]
    next_cursor = (
        encode_cursor(f"{page[-1].batch.seq}:{page[-1].batch.id}") if len(rows) > limit else None
    )
    return ReceiptBatchPage(
        data=[ReceiptBatchSummary.of(rb) for rb in page], next_cursor=next_cursor
    )


@router.get(
    "/receipt-batches/{batch_id}",
    response_model=ReceiptBatchDetail,
    responses=problem_responses(401, 404),
)
async def load_receipts(
    batch_id: str, caller: IntegrationDep, session: SessionDep
) -> ReceiptBatchDetail:
    """ "Load Receipts": the batch and its receipts, as often as asked (a processed batch loads
    the same receipts again, for review)."""
    rb = service.get_batch(session, caller.workspace.id, caller.integration.id, batch_id)
    receipts = service.receipts(session, rb.batch, flavor=caller.integration.flavor)
    return ReceiptBatchDetail(
        **dict(ReceiptBatchSummary.of(rb)), receipts=[ReceiptRead.of(r) for r in receipts]
    )


@router.post(
    "/receipt-batches/{batch_id}/processed",
    response_model=ReceiptBatchSummary,
    responses=problem_responses(401, 404),
)
async def mark_processed(
    batch_id: str, caller: IntegrationDep, session: SessionDep
) -> ReceiptBatchSummary:
    """ "Mark Processed": the batch moves to History for this integration; twice is harmless."""
    return ReceiptBatchSummary.of(
        service.mark(
            session,
            caller.workspace.id,
            caller.integration.id,
            batch_id,
            processed=True,
            now=caller.now,
        )
    )


@router.post(
    "/receipt-batches/{batch_id}/unprocessed",
    response_model=ReceiptBatchSummary,
    responses=problem_responses(401, 404),
)
async def mark_unprocessed(
    batch_id: str, caller: IntegrationDep, session: SessionDep
) -> ReceiptBatchSummary:
    """ "Mark Unprocessed": the batch is back among the unprocessed; twice is harmless."""
    return ReceiptBatchSummary.of(
        service.mark(
            session,
            caller.workspace.id,
            caller.integration.id,
            batch_id,
            processed=False,
            now=caller.now,
        )
    )


@router.get(
    "/receipt-batches/{batch_id}/lockbox",
    responses={
        200: {
            "description": "The lockbox file (CSV, CRLF)",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **problem_responses(401, 404, 422),
    },
)
async def lockbox_file(
    batch_id: str,
    caller: IntegrationDep,
    session: SessionDep,
    format: Annotated[
        LockboxFormat, Query(description="promas (no header) or bostonpost (Standard Lockbox)")
    ] = LockboxFormat.PROMAS,
) -> Response:
    """The batch as the lockbox file a file-based client imports."""
    rb = service.get_batch(session, caller.workspace.id, caller.integration.id, batch_id)
    receipts = service.receipts(session, rb.batch, flavor=caller.integration.flavor)
    return Response(
        lockbox.render(format, rb.batch, receipts),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{lockbox.filename(format, rb.batch)}"'
        },
    )
