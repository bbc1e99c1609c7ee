"""``/v1/integration/receipt-batches``: Check Server for More Batches, Load Receipts, Mark
Processed / Mark Unprocessed, History, and the lockbox files (seed 000 §E, seed 004 §D).

The three reads are the client's polling loop and take the fast path measured by
``bench/receipts_http.py``: no dependency injection, no ORM session, one pooled connection in a
read-only transaction (``raw_read``), the token checked by ``authenticate_integration_raw``
(the same checks and refusals as every other integration route), the response encoded once by
its pydantic model. The marks write, and go the ordinary way.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from portal.auth.dependencies import IntegrationDep, integration_ref
from portal.auth.models import LockboxFormat
from portal.auth.service import IntegrationRef
from portal.core.db import RawReader, SessionDep, raw_read
from portal.core.errors import BadRequest, problem_responses
from portal.core.pagination import CursorQuery, LimitQuery, decode_cursor, split_page
from portal.receipts import lockbox, service
from portal.receipts.schemas import (
    ReceiptBatchDetail,
    ReceiptBatchPage,
    ReceiptBatchSummary,
    ReceiptRead,
)

router = APIRouter(prefix="/v1/integration", tags=["integration"])
#: The fast routes take no security dependency; the spec still says they need the token.
BEARER: dict[str, Any] = {"security": [{"HTTPBearer": []}]}
JSON = "application/json"


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


@contextmanager
def _client(request: Request) -> Iterator[tuple[RawReader, IntegrationRef]]:
    """The caller's integration and a read-only connection. A refused call after this point
    is kept as the integration's last error, as on every integration route."""
    with raw_read(request.app.state.engine) as raw:
        yield raw, integration_ref(request, raw)


@router.get(
    "/receipt-batches",
    response_model=ReceiptBatchPage,
    responses=problem_responses(400, 401, 422),
    openapi_extra=BEARER,
)
async def list_receipt_batches(
    request: Request,
    state: Annotated[
        State, Query(description="unprocessed (the dialog's first tab) or processed (History)")
    ] = State.UNPROCESSED,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Response:
    """ "Check Server for More Batches": the closed deposit and reversal batches of this
    integration's properties, newest last, each with the label the client shows."""
    after = _after(cursor)
    with _client(request) as (raw, caller):
        rows = service.list_batches(
            raw,
            caller.workspace_id,
            caller.integration_id,
            processed=state is State.PROCESSED,
            after=after,
            limit=limit + 1,
        )
    page, next_cursor = split_page(rows, limit, key=lambda b: f"{b.seq}:{b.id}")
    body = ReceiptBatchPage(data=[ReceiptBatchSummary.of(b) for b in page], next_cursor=next_cursor)
    return Response(body.model_dump_json(), media_type=JSON)


@router.get(
    "/receipt-batches/{batch_id}",
    response_model=ReceiptBatchDetail,
    responses=problem_responses(401, 404),
    openapi_extra=BEARER,
)
async def load_receipts(batch_id: str, request: Request) -> Response:
    """ "Load Receipts": the batch and its receipts, as often as asked (a processed batch loads
    the same receipts again, for review)."""
    with _client(request) as (raw, caller):
        batch = service.get_batch(raw, caller.workspace_id, caller.integration_id, batch_id)
        receipts = service.receipts(raw, caller.workspace_id, batch.id)
    body = ReceiptBatchDetail(
        **dict(ReceiptBatchSummary.of(batch)),
        receipts=[ReceiptRead.of(r, caller.flavor) for r in receipts],
    )
    return Response(body.model_dump_json(), media_type=JSON)


@router.get(
    "/receipt-batches/{batch_id}/lockbox",
    responses={
        200: {
            "description": "The lockbox file (CSV, CRLF)",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **problem_responses(401, 404, 422),
    },
    openapi_extra=BEARER,
)
async def lockbox_file(
    batch_id: str,
    request: Request,
    format: Annotated[
        LockboxFormat, Query(description="promas (no header) or bostonpost (Standard Lockbox)")
    ] = LockboxFormat.PROMAS,
) -> Response:
    """The batch as the lockbox file a file-based client imports."""
    with _client(request) as (raw, caller):
        batch = service.get_batch(raw, caller.workspace_id, caller.integration_id, batch_id)
        receipts = service.receipts(raw, caller.workspace_id, batch.id)
    return Response(
        lockbox.render(format, batch, receipts),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{lockbox.filename(format, batch)}"'
        },
    )


def _mark(
    batch_id: str, caller: IntegrationDep, session: SessionDep, *, processed: bool
) -> ReceiptBatchSummary:
    return ReceiptBatchSummary.of(
        service.mark(
            session,
            caller.workspace.id,
            caller.integration.id,
            batch_id,
            processed=processed,
            now=caller.now,
        )
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
    return _mark(batch_id, caller, session, processed=True)


@router.post(
    "/receipt-batches/{batch_id}/unprocessed",
    response_model=ReceiptBatchSummary,
    responses=problem_responses(401, 404),
)
async def mark_unprocessed(
    batch_id: str, caller: IntegrationDep, session: SessionDep
) -> ReceiptBatchSummary:
    """ "Mark Unprocessed": the batch is back among the unprocessed; twice is harmless."""
    return _mark(batch_id, caller, session, processed=False)
