"""The journal's capture and storage below the HTTP routes (issue 20): what the middleware hands
the recorder for bodies streamed in chunks, servers whose headers are lists, repeats of one
request among others, and batches stored in the earlier row format."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, insert
from sqlmodel import Session
from starlette.types import Message, Receive, Scope, Send

from portal.core.clock import FixedClock
from portal.core.db import WriterGate
from portal.core.settings import Settings
from portal.journal import service
from portal.journal.middleware import JournalMiddleware, RecorderSlot
from portal.journal.models import UNATTRIBUTED, JournalBatch
from portal.journal.recorder import Recorder
from portal_tests.conftest import SYSTEM_NOW

LIMIT = 256
CHUNK = b"0123456789" * 10  # 100 bytes


def _streamed(chunks: list[bytes]) -> object:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for n, chunk in enumerate(chunks):
            last = n == len(chunks) - 1
            await send({"type": "http.response.body", "body": chunk, "more_body": not last})

    return app


def _scope(path: str, headers: list[object] | None = None) -> Scope:
    return {
        "type": "http",
        "method": "GET",
        "path": path,
        "query_string": b"",
        "headers": headers if headers is not None else [(b"host", b"portal.test")],
    }


@pytest.fixture
def recorder(settings: Settings, engine: Engine) -> Recorder:
    changed = settings.model_copy(update={"journal_body_bytes": LIMIT})
    return Recorder(
        engine, WriterGate.for_engine(engine), FixedClock(SYSTEM_NOW), changed, signing_key="k" * 32
    )


def _serve(recorder: Recorder, app: object, scopes: list[Scope]) -> list[service.EntryRow]:
    """Each scope through the journal's middleware around ``app``, then the buffer written and
    the operator-wide journal read back (none of these requests names a workspace)."""
    slot = RecorderSlot()
    slot.recorder = recorder
    middleware = JournalMiddleware(app, slot=slot)  # type: ignore[arg-type]
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    async def run() -> None:
        for scope in scopes:
            await middleware(scope, receive, send)
        await recorder.flush()

    asyncio.run(run())
    with Session(recorder.engine) as session:
        rows = service.list_entries(
            session,
            UNATTRIBUTED,
            service.Criteria(),
            after_seq=None,
            limit=100,
            now=SYSTEM_NOW,
            retention=recorder.retention,
        )
    return rows


def test_a_streamed_body_is_cut_to_the_setting_and_its_whole_size_kept(
    recorder: Recorder,
) -> None:
    [row] = _serve(recorder, _streamed([CHUNK, CHUNK, CHUNK, CHUNK]), [_scope("/v1/x")])

    assert row.entry.response_size == 4 * len(CHUNK)
    assert row.response is not None
    assert (row.response.content, row.response.truncated) == ((CHUNK * 4)[:LIMIT].decode(), True)


def test_a_body_sent_whole_is_cut_too(recorder: Recorder) -> None:
    [row] = _serve(recorder, _streamed([CHUNK * 3]), [_scope("/v1/x")])

    assert row.entry.response_size == 3 * len(CHUNK)
    assert row.response is not None
    assert (row.response.content, row.response.truncated) == ((CHUNK * 3)[:LIMIT].decode(), True)


def test_a_short_body_streamed_is_whole(recorder: Recorder) -> None:
    [row] = _serve(recorder, _streamed([b'{"a":', b"", b"1}"]), [_scope("/v1/x")])

    assert row.response is not None
    assert (row.entry.response_size, row.response.content) == (7, '{"a":1}')


def test_headers_given_as_lists_are_journalled(recorder: Recorder) -> None:
    # ASGI allows a header as any two-item iterable; a list cannot be a dictionary key.
    headers: list[object] = [[b"host", b"portal.test"], [b"idempotency-key", b"idem-1"]]
    rows = _serve(recorder, _streamed([b"{}"]), [_scope("/v1/x", headers)] * 2)

    assert [row.entry.idempotency_key for row in rows] == ["idem-1", "idem-1"]


def test_repeats_among_other_requests_keep_their_order_and_each_its_own(
    recorder: Recorder,
) -> None:
    paths = ["/v1/a", "/v1/a", "/v1/b", "/v1/a", "/v1/b", "/v1/b", "/v1/c", "/v1/a"]
    rows = _serve(recorder, _streamed([b"{}"]), [_scope(p) for p in paths])

    assert [row.entry.path for row in rows] == paths
    assert [row.entry.seq for row in rows] == list(range(len(paths)))


def test_batches_stored_as_rows_still_read(recorder: Recorder, engine: Engine) -> None:
    """Before the columns (issue 20's second pass), a batch stored ``"rows": [[µs after
    first_at, latency µs, shape], ...]``; a database written then reads the same."""
    first_at = datetime(2026, 11, 22, 12, 0, tzinfo=SYSTEM_NOW.tzinfo)
    shape = ["anonymous", "GET", "/v1/old", "", 200, None, None, False]
    shape += [None, 0, None, "application/json", 2, None, [0]]
    with Session(engine) as session:
        session.execute(
            insert(JournalBatch),
            {
                "workspace_id": UNATTRIBUTED,
                "first_seq": 0,
                "last_seq": 1,
                "first_at": first_at,
                "last_at": first_at + timedelta(microseconds=1500),
                "entries": json.dumps({"shapes": [shape], "rows": [[0, 250, 0], [1500, 900, 0]]}),
            },
        )
        session.commit()
        entries = list(
            service.entries(
                session,
                UNATTRIBUTED,
                service.Criteria(),
                None,
                first_at + timedelta(minutes=1),
                recorder.retention,
            )
        )

    assert [(e.seq, e.at, e.latency_us, e.path) for e in entries] == [
        (0, first_at, 250, "/v1/old"),
        (1, first_at + timedelta(microseconds=1500), 900, "/v1/old"),
    ]
