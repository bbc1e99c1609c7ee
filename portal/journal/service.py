"""The journal's use cases: write a batch of entries (with retention), list them by filters,
verify how often a request pattern occurred, reset a workspace's journal.

Services take a session and ``now`` (real time: the journal's retention is about memory and
disk, not the workspace's story) and never commit. Filtering happens in SQL where a column
says it (method, status, principal, time), in Python for the path pattern (a glob) and the
body; a workspace holds at most ``PORTAL_JOURNAL_MAX_ENTRIES`` entries.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from portal.core.clock import ClockMode, FixedClock
from portal.core.errors import Conflict
from portal.core.ids import IdCounter, reserve
from portal.journal.models import SEQ_KIND, UNATTRIBUTED, JournalBatch, JournalBody
from portal.journal.redaction import Body
from portal.workspaces import service as workspaces_service
from portal.workspaces.models import Workspace


class JournalDisabled(Conflict):
    code = "journal_disabled"


@dataclass(frozen=True)
class Retention:
    max_entries: int
    max_age: timedelta


#: An entry's request, all but its time and latency: principal, method, path, query, status,
#: code, idempotency key, cached, request type, size and body digest, response type, size and
#: body digest. Requests repeated by a polling client share one.
Shape = tuple[
    str, str, str, str, int, str | None, str | None, bool,
    str | None, int, str | None, str | None, int, str | None,
]  # fmt: skip


@dataclass(slots=True)
class Pending:
    """An entry ready to be written but for its place: ``workspace_id`` is where it belongs if
    that workspace exists (None: the operator-wide journal); ``bodies`` are those the shape's
    digests name."""

    workspace_id: str | None
    shape: Shape
    bodies: tuple[Body | None, Body | None]
    principal_now: datetime | None
    at: datetime
    latency_us: int


# --- writing -------------------------------------------------------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def write_entries(
    session: Session, pending: list[Pending], *, now: datetime, retention: Retention
) -> None:
    """Number the entries (per workspace, in the order given) and add them as one batch row per
    workspace, store their bodies once each, then trim each workspace written to its
    retention."""
    found: dict[str, Workspace | None] = {}
    for workspace_id in {p.workspace_id for p in pending if p.workspace_id}:
        found[workspace_id] = _find_workspace(session, workspace_id)
    target = {w: ws.id if ws is not None else UNATTRIBUTED for w, ws in found.items()}
    groups: dict[str, list[Pending]] = {}
    for p in pending:
        where = target[p.workspace_id] if p.workspace_id else UNATTRIBUTED
        group = groups.get(where)
        if group is None:
            group = groups[where] = []
        group.append(p)
    for workspace_id, items in groups.items():
        first = reserve(session, workspace_id, SEQ_KIND, len(items))
        _insert(session, workspace_id, found.get(workspace_id), first, items)
        trim(session, workspace_id, next_seq=first + len(items), now=now, retention=retention)


def _find_workspace(session: Session, workspace_id: str) -> Workspace | None:
    try:
        return workspaces_service.get_workspace(session, workspace_id)
    except workspaces_service.WorkspaceNotFound:
        return None


def _insert(
    session: Session, workspace_id: str, ws: Workspace | None, first: int, items: list[Pending]
) -> None:
    """One ``JournalBatch``: its entries as JSON ``{"shapes": [[...shape, clock], ...],
    "rows": [[µs after first_at, latency µs, shape index], ...]}``, where ``clock`` gives the
    workspace instant: ``[0]`` none, ``[1, µs since the epoch]`` a fixed one (a simulated
    clock), ``[2, µs]`` an offset from the entry's real time (a real clock, to the ms)."""
    first_at = items[0].at
    base = round(first_at.timestamp() * 1_000_000)
    last = base
    fixed: tuple[int, ...] | None = (0,) if ws is None else None
    simulated = ws is not None and ws.clock_mode is ClockMode.SIMULATED
    instants: dict[datetime, tuple[int, ...]] = {}  # a simulated clock's instants, converted once
    index: dict[tuple[Any, ...], int] = {}
    shapes: list[list[Any]] = []
    rows: list[list[int]] = []
    bodies: dict[str, tuple[Body, int]] = {}
    for seq, p in enumerate(items, start=first):
        if fixed is not None:
            clock = fixed
        elif simulated and p.principal_now is not None:
            clock = instants.get(p.principal_now) or instants.setdefault(
                p.principal_now, _clock_of(p, ws)
            )
        else:
            clock = _clock_of(p, ws)
        # The shapes of one request repeated are one object (``Recorder._prepare``).
        key = (id(p.shape), clock)
        n = index.get(key)
        if n is None:
            n = index[key] = len(shapes)
            shapes.append([*p.shape, clock])
        at = round(p.at.timestamp() * 1_000_000)
        if at > last:
            last = at
        rows.append([at - base, p.latency_us, n])
        for body in p.bodies:
            if body is not None:
                bodies[body.digest] = (body, seq)
    session.execute(
        insert(JournalBatch),
        {
            "workspace_id": workspace_id,
            "first_seq": first,
            "last_seq": first + len(items) - 1,
            "first_at": first_at,
            "last_at": first_at + timedelta(microseconds=last - base),
            "entries": json.dumps({"shapes": shapes, "rows": rows}, separators=(",", ":")),
        },
    )
    if bodies:
        session.execute(
            _upsert_bodies(session.get_bind().dialect.name),
            [
                {
                    "workspace_id": workspace_id,
                    "digest": digest,
                    "content": body.text,
                    "truncated": body.truncated,
                    "last_seq": seq,
                }
                for digest, (body, seq) in bodies.items()
            ],
        )


def _clock_of(p: Pending, ws: Workspace | None) -> tuple[int, ...]:
    """The workspace instant the request's dependency read; for an answer of the read cache in
    a ``real``-mode workspace (its instant was read when the answer was computed), and for a
    request whose route read none, the workspace clock at the request's real time."""
    assert ws is not None
    real = ws.clock_mode is ClockMode.REAL
    if p.principal_now is not None and not (real and p.shape[7]):
        instant = p.principal_now
    else:
        instant = workspaces_service.now_of(ws, FixedClock(p.at))
    if real:
        return (2, int(round((instant - p.at) / _US, -3)))
    return (1, (instant - _EPOCH) // _US)


@lru_cache(maxsize=4)
def _upsert_bodies(dialect: str) -> Any:
    table = JournalBody.__table__  # type: ignore[attr-defined]
    statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
    return statement.on_conflict_do_update(
        index_elements=["workspace_id", "digest"],
        set_={"last_seq": statement.excluded.last_seq},
    )


def trim(
    session: Session, workspace_id: str, *, next_seq: int, now: datetime, retention: Retention
) -> None:
    """Drop the batches whose entries are all past the retention (the newest ``max_entries``,
    no older than ``max_age``), and the bodies no remaining batch can refer to. A batch only
    partly past it stays; reads hide its old entries (``visible_from``)."""
    floor = next_seq - retention.max_entries
    session.execute(
        delete(JournalBatch).where(
            col(JournalBatch.workspace_id) == workspace_id,
            (col(JournalBatch.last_seq) < floor)
            | (col(JournalBatch.last_at) < now - retention.max_age),
        )
    )
    oldest = session.scalar(
        select(func.min(col(JournalBatch.first_seq))).where(
            col(JournalBatch.workspace_id) == workspace_id
        )
    )
    session.execute(
        delete(JournalBody).where(
            col(JournalBody.workspace_id) == workspace_id,
            col(JournalBody.last_seq) < (next_seq if oldest is None else oldest),
        )
    )


def sweep(session: Session, *, now: datetime, retention: Retention) -> None:
    """Retention for every workspace with a journal, including those no request reached since
    their entries aged."""
    for workspace_id, next_value in _counters(session, None):
        trim(session, workspace_id, next_seq=next_value, now=now, retention=retention)


def _counters(session: Session, workspace_id: str | None) -> list[tuple[str, int]]:
    query = select(col(IdCounter.scope), col(IdCounter.next_value)).where(
        col(IdCounter.kind) == SEQ_KIND
    )
    if workspace_id is not None:
        query = query.where(col(IdCounter.scope) == workspace_id)
    return [(scope, int(value)) for scope, value in session.execute(query).all()]


def clear(session: Session, workspace_id: str) -> None:
    """Empty a workspace's journal (``DELETE .../journal``); its numbering goes on."""
    for table in (JournalBatch, JournalBody):
        session.execute(delete(table).where(col(table.workspace_id) == workspace_id))


# --- reading -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Criteria:
    """What a journal list filters by, and what a verification's request pattern is: each
    given criterion must hold. ``path``: a glob (``*`` within one segment, ``**`` across
    segments, ``?`` one character); ``status``: ``404`` or a class ``4xx``; ``principal``: a
    whole principal (``integration:int_…``) or a kind (``integration``)."""

    method: str | None = None
    path: str | None = None
    status: str | None = None
    principal: str | None = None
    code: str | None = None
    idempotency_key: str | None = None
    query_contains: str | None = None
    body_contains: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """One journalled request, as read back."""

    seq: int
    at: datetime
    workspace_at: datetime | None
    principal: str
    method: str
    path: str
    query: str
    status: int
    code: str | None
    latency_us: int
    idempotency_key: str | None
    cached: bool
    request_type: str | None
    request_size: int
    request_body: str | None
    response_type: str | None
    response_size: int
    response_body: str | None


@dataclass
class EntryRow:
    entry: Entry
    request: JournalBody | None = None
    response: JournalBody | None = None
    missed: list[str] = field(default_factory=list)


def list_entries(
    session: Session,
    workspace_id: str,
    criteria: Criteria,
    *,
    after_seq: int | None,
    limit: int,
    now: datetime,
    retention: Retention,
) -> list[EntryRow]:
    """Up to ``limit`` entries matching every criterion, oldest first, after ``after_seq``."""
    found: list[Entry] = []
    texts = _request_texts(session, workspace_id, criteria)
    for entry in entries(session, workspace_id, criteria, after_seq, now, retention):
        if not _missed(entry, criteria, texts):
            found.append(entry)
            if len(found) == limit:
                break
    return _with_bodies(session, workspace_id, found)


#: Near misses listed at most (WireMock lists a few too).
NEAR_MISSES = 10


def verify(
    session: Session, workspace_id: str, criteria: Criteria, *, now: datetime, retention: Retention
) -> tuple[int, list[EntryRow]]:
    """How many entries match every criterion, and the entries that came closest among those
    that do not (fewest criteria missed, newest first)."""
    count = 0
    misses: list[tuple[int, int, Entry, list[str]]] = []
    texts = _request_texts(session, workspace_id, criteria)
    for entry in entries(session, workspace_id, Criteria(), None, now, retention):
        missed = _missed(entry, criteria, texts)
        if not missed:
            count += 1
        else:
            misses.append((len(missed), -entry.seq, entry, missed))
    misses.sort(key=lambda m: (m[0], m[1]))
    closest = misses[:NEAR_MISSES]
    rows = _with_bodies(session, workspace_id, [entry for _n, _s, entry, _m in closest])
    for row, (_n, _s, _entry, missed) in zip(rows, closest, strict=True):
        row.missed = missed
    return count, rows


def entries(
    session: Session,
    workspace_id: str,
    criteria: Criteria,
    after_seq: int | None,
    now: datetime,
    retention: Retention,
) -> Iterator[Entry]:
    """The workspace's entries in ``seq`` order, unpacked batch by batch; those past the
    retention that a partly kept batch still holds are skipped."""
    counters = _counters(session, workspace_id)
    next_seq = counters[0][1] if counters else 0
    floor = max(next_seq - retention.max_entries, -1 if after_seq is None else after_seq + 1)
    oldest = now - retention.max_age
    if criteria.since is not None and criteria.since > oldest:
        oldest = criteria.since
    query = select(JournalBatch).where(
        col(JournalBatch.workspace_id) == workspace_id,
        col(JournalBatch.last_seq) >= floor,
        col(JournalBatch.last_at) >= oldest,
    )
    if criteria.until is not None:
        query = query.where(col(JournalBatch.first_at) < criteria.until)
    last = None
    while True:
        page = query.order_by(col(JournalBatch.first_seq)).limit(_BATCHES)
        if last is not None:
            page = page.where(col(JournalBatch.first_seq) > last)
        batches = list(session.scalars(page))
        for batch in batches:
            for entry in _unpack(batch):
                if entry.seq >= floor and entry.at >= oldest:
                    yield entry
        if len(batches) < _BATCHES:
            return
        last = batches[-1].first_seq


#: Batch rows read from the database at a time.
_BATCHES = 20


def _unpack(batch: JournalBatch) -> Iterator[Entry]:
    packed = json.loads(batch.entries)
    first_at = batch.first_at
    shapes = packed["shapes"]
    for seq, (offset, latency_us, n) in enumerate(packed["rows"], start=batch.first_seq):
        (principal, method, path, query, status, code, key, cached, *bodies, clock) = shapes[n]
        request_type, request_size, request_body, response_type, response_size, body = bodies
        at = first_at + timedelta(microseconds=offset)
        yield Entry(
            seq,
            at,
            _instant(clock, at),
            principal,
            method,
            path,
            query,
            status,
            code,
            latency_us,
            key,
            cached,
            request_type,
            request_size,
            request_body,
            response_type,
            response_size,
            body,
        )


def _instant(clock: list[int] | tuple[int, ...], at: datetime) -> datetime | None:
    if clock[0] == 1:
        return _EPOCH + timedelta(microseconds=clock[1])
    if clock[0] == 2:
        return at + timedelta(microseconds=clock[1])
    return None


def _request_texts(session: Session, workspace_id: str, criteria: Criteria) -> dict[str, str]:
    """The workspace's request bodies by digest, read only for a ``body_contains`` criterion."""
    if criteria.body_contains is None:
        return {}
    return {
        b.digest: b.content
        for b in session.scalars(
            select(JournalBody).where(col(JournalBody.workspace_id) == workspace_id)
        )
    }


def _missed(entry: Entry, c: Criteria, texts: dict[str, str]) -> list[str]:
    """The names of the criteria the entry does not meet."""
    missed = []
    if c.method is not None and entry.method != c.method.upper():
        missed.append("method")
    if c.path is not None and not glob(c.path).fullmatch(entry.path):
        missed.append("path")
    if c.status is not None and not status_matches(c.status, entry.status):
        missed.append("status")
    if c.principal is not None and not principal_matches(c.principal, entry.principal):
        missed.append("principal")
    if c.code is not None and entry.code != c.code:
        missed.append("code")
    if c.idempotency_key is not None and entry.idempotency_key != c.idempotency_key:
        missed.append("idempotency_key")
    if c.query_contains is not None and c.query_contains not in entry.query:
        missed.append("query_contains")
    if c.body_contains is not None and c.body_contains not in texts.get(
        entry.request_body or "", ""
    ):
        missed.append("body_contains")
    if c.since is not None and entry.at < c.since:
        missed.append("since")
    if c.until is not None and entry.at >= c.until:
        missed.append("until")
    return missed


def _with_bodies(session: Session, workspace_id: str, found: Iterable[Entry]) -> list[EntryRow]:
    found = list(found)
    digests = {d for e in found for d in (e.request_body, e.response_body) if d is not None}
    bodies = {}
    if digests:
        bodies = {
            b.digest: b
            for b in session.scalars(
                select(JournalBody).where(
                    col(JournalBody.workspace_id) == workspace_id,
                    col(JournalBody.digest).in_(sorted(digests)),
                )
            )
        }
    return [
        EntryRow(
            e,
            bodies.get(e.request_body) if e.request_body else None,
            bodies.get(e.response_body) if e.response_body else None,
        )
        for e in found
    ]


STATUS_PATTERN = r"^[1-5]([0-9]{2}|xx)$"


def status_range(status: str) -> tuple[int, int]:
    if status.endswith("xx"):
        low = int(status[0]) * 100
        return low, low + 99
    return int(status), int(status)


def status_matches(status: str, actual: int) -> bool:
    low, high = status_range(status)
    return low <= actual <= high


def principal_matches(wanted: str, actual: str) -> bool:
    return actual == wanted or (":" not in wanted and actual.split(":", 1)[0] == wanted)


@lru_cache(maxsize=256)
def glob(pattern: str) -> re.Pattern[str]:
    """A path glob as a regular expression: ``**`` any characters, ``*`` any but ``/``, ``?``
    one character but ``/``; everything else literal."""
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))
