"""Operator API of the request journal (``/v1/sandbox/.../journal``): list, verify, reset.

Each route first writes this process's buffered entries (``Recorder.flush``), then reads in a
read-only transaction of its own: a route holding the request's write session would wait for
the journal's writer, which waits for it. ``/v1/sandbox/journal`` is the operator-wide journal
of requests no workspace could be named for (a refused token, a failed login, ``POST
/v1/sandbox/workspaces``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlmodel import Session

from portal.auth.dependencies import require_operator
from portal.core.db import read_only, session_scope
from portal.core.errors import BadRequest, problem_responses
from portal.core.pagination import CursorQuery, LimitQuery, decode_cursor, split_page
from portal.journal import service
from portal.journal.models import UNATTRIBUTED
from portal.journal.recorder import Recorder
from portal.journal.schemas import (
    PATH_DESCRIPTION,
    PRINCIPAL_DESCRIPTION,
    STATUS_DESCRIPTION,
    JournalEntryRead,
    JournalPage,
    NearMiss,
    VerifyIn,
    VerifyResult,
)
from portal.workspaces import service as workspaces_service
from portal.workspaces.schemas import Instant

router = APIRouter(
    prefix="/v1/sandbox", tags=["operator: journal"], dependencies=[Depends(require_operator)]
)


def _recorder(request: Request) -> Recorder:
    recorder: Recorder | None = getattr(request.app.state, "journal", None)
    if recorder is None:
        raise service.JournalDisabled(
            "The request journal is off on this server (PORTAL_JOURNAL=false)."
        )
    return recorder


RecorderDep = Annotated[Recorder, Depends(_recorder)]


async def _flushed_session(request: Request, recorder: RecorderDep) -> AsyncIterator[Session]:
    """A read-only session that sees every entry this process buffered before the request."""
    await recorder.flush()
    with session_scope(read_only(request.app.state.engine)) as session:
        yield session


JournalSession = Annotated[Session, Depends(_flushed_session, scope="function")]


class Filters:
    """The list's query parameters (a verification's request pattern, as a query)."""

    def __init__(
        self,
        path: Annotated[str | None, Query(max_length=2048, description=PATH_DESCRIPTION)] = None,
        method: Annotated[str | None, Query(max_length=16, examples=["GET"])] = None,
        status: Annotated[
            str | None, Query(pattern=service.STATUS_PATTERN, description=STATUS_DESCRIPTION)
        ] = None,
        principal: Annotated[
            str | None, Query(max_length=120, description=PRINCIPAL_DESCRIPTION)
        ] = None,
        code: Annotated[str | None, Query(max_length=64, description="Problem `code`")] = None,
        since: Annotated[Instant | None, Query(description="Arrived at or after")] = None,
        until: Annotated[Instant | None, Query(description="Arrived before")] = None,
    ) -> None:
        self.criteria = service.Criteria(
            path=path,
            method=method,
            status=status,
            principal=principal,
            code=code,
            since=since,
            until=until,
        )


FiltersDep = Annotated[Filters, Depends()]
_LIST = problem_responses(400, 401, 404, 409, 422)
_VERIFY = problem_responses(401, 404, 409, 422)
_RESET = problem_responses(401, 404, 409)
#: The operator-wide journal's routes name no workspace: no 404.
_OPERATOR_LIST = problem_responses(400, 401, 409, 422)
_OPERATOR_VERIFY = problem_responses(401, 409, 422)
_OPERATOR_RESET = problem_responses(401, 409)


@router.get("/workspaces/{workspace_id}/journal", response_model=JournalPage, responses=_LIST)
async def get_journal(
    workspace_id: str,
    session: JournalSession,
    recorder: RecorderDep,
    filters: FiltersDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> JournalPage:
    """The workspace's journalled requests matching every filter given, oldest first."""
    workspaces_service.get_workspace(session, workspace_id)
    return _page(session, recorder, workspace_id, filters, limit, cursor)


@router.post(
    "/workspaces/{workspace_id}/journal/verify", response_model=VerifyResult, responses=_VERIFY
)
async def verify_journal(
    workspace_id: str, body: VerifyIn, session: JournalSession, recorder: RecorderDep
) -> VerifyResult:
    """Whether the requests matching a pattern occurred as often as expected; the near misses
    when not."""
    workspaces_service.get_workspace(session, workspace_id)
    return _verify(session, workspace_id, body, recorder)


@router.delete("/workspaces/{workspace_id}/journal", status_code=204, responses=_RESET)
async def reset_journal(
    workspace_id: str, session: JournalSession, recorder: RecorderDep
) -> Response:
    """Forget the workspace's journalled requests (numbering goes on)."""
    workspaces_service.get_workspace(session, workspace_id)
    await recorder.flush(then=lambda s: service.clear(s, workspace_id))
    return Response(status_code=204)


@router.get("/journal", response_model=JournalPage, responses=_OPERATOR_LIST)
async def get_operator_journal(
    session: JournalSession,
    recorder: RecorderDep,
    filters: FiltersDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> JournalPage:
    """Requests no workspace could be named for (refused tokens, failed logins, server-wide
    operator calls), oldest first."""
    return _page(session, recorder, UNATTRIBUTED, filters, limit, cursor)


@router.post("/journal/verify", response_model=VerifyResult, responses=_OPERATOR_VERIFY)
async def verify_operator_journal(
    body: VerifyIn, session: JournalSession, recorder: RecorderDep
) -> VerifyResult:
    """``verify_journal`` over the operator-wide journal."""
    return _verify(session, UNATTRIBUTED, body, recorder)


@router.delete("/journal", status_code=204, responses=_OPERATOR_RESET)
async def reset_operator_journal(session: JournalSession, recorder: RecorderDep) -> Response:
    """Forget the operator-wide journal."""
    await recorder.flush(then=lambda s: service.clear(s, UNATTRIBUTED))
    return Response(status_code=204)


def _page(
    session: Session,
    recorder: Recorder,
    workspace_id: str,
    filters: Filters,
    limit: int,
    cursor: str | None,
) -> JournalPage:
    rows = service.list_entries(
        session,
        workspace_id,
        filters.criteria,
        after_seq=_seq_cursor(cursor),
        limit=limit + 1,
        now=recorder.clock.now(),
        retention=recorder.retention,
    )
    page, next_cursor = split_page(rows, limit, key=lambda r: str(r.entry.seq))
    return JournalPage(data=[JournalEntryRead.of(r) for r in page], next_cursor=next_cursor)


def _verify(
    session: Session, workspace_id: str, body: VerifyIn, recorder: Recorder
) -> VerifyResult:
    count, near = service.verify(
        session,
        workspace_id,
        body.request.criteria(),
        now=recorder.clock.now(),
        retention=recorder.retention,
    )
    matched = body.holds(count)
    return VerifyResult(
        matched=matched,
        count=count,
        expected=body.expected(),
        near_misses=[]
        if matched
        else [NearMiss(missed=r.missed, entry=JournalEntryRead.of(r)) for r in near],
        dropped=recorder.dropped,
    )


def _seq_cursor(cursor: str | None) -> int | None:
    """A cursor over a journal's ``seq`` (64-bit: a busy journal numbers far beyond 2**31)."""
    key = decode_cursor(cursor)
    if key is None:
        return None
    if not (key.isascii() and key.isdigit()) or len(key) > 18:
        raise BadRequest("The cursor is not one this server issued.", code="invalid_cursor")
    return int(key)
