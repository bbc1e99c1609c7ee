"""The journal's use cases: write a batch of entries (with retention), list them by filters,
verify how often a request pattern occurred, reset a workspace's journal.

Services take a session and ``now`` (real time: the journal's retention is about memory and
disk, not the workspace's story) and never commit. Filtering happens in SQL where a column
says it (method, status, principal, time), in Python for the path pattern (a glob) and the
body; a workspace holds at most ``PORTAL_JOURNAL_MAX_ENTRIES`` entries.
"""

from __future__ import annotations

import base64
import json
import re
import sys
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from portal.core.clock import ClockMode, FixedClock, workspace_now
from portal.core.errors import Conflict
from portal.core.ids import IdCounter, reserve
from portal.journal.models import SEQ_KIND, UNATTRIBUTED, JournalBatch, JournalBody
from portal.journal.redaction import Body
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
class Group:
    """A write's entries for one workspace named by their requests (None: the operator-wide
    journal), column by column: a polling client's thousand requests are a few shapes and
    three columns of numbers, not a thousand objects.

    ``shapes``: each distinct request (``Shape``) and its bodies (those its digests name);
    ``variants``: a shape and the workspace instant its dependency read (the principal's
    ``now``, None when it read none); ``at`` (real time, POSIX seconds), ``latency`` (seconds)
    and ``variant`` (an index into ``variants``): one per entry, in the order they arrived."""

    workspace_id: str | None
    shapes: list[tuple[Shape, tuple[Body | None, Body | None]]] = field(default_factory=list)
    variants: list[tuple[int, datetime | None]] = field(default_factory=list)
    at: array[float] = field(default_factory=lambda: array("d"))
    latency: array[float] = field(default_factory=lambda: array("d"))
    variant: list[int] = field(default_factory=list)


# --- writing -------------------------------------------------------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
#: A clock for entries no workspace holds.
_NO_CLOCK = (0,)


def write_entries(
    session: Session, groups: list[Group], *, now: datetime, retention: Retention
) -> None:
    """Number the entries (per workspace, in the order they arrived) and add them as one batch
    row per workspace, store their bodies once each, then trim each workspace written to its
    retention. Entries naming a workspace that does not exist go to the operator-wide journal.

    Core statements built once, on the session's connection: the ORM's per-statement work was
    most of a write's cost (issue 20, bench/README.md)."""
    connection = session.connection()
    targets: dict[str, list[_Packed]] = {}
    for group in groups:
        ws = _find_workspace(connection, group.workspace_id) if group.workspace_id else None
        target = targets.setdefault(ws.id if ws is not None else UNATTRIBUTED, [])
        target.append(_packed(group, ws))
    for workspace_id, parts in targets.items():
        count = sum(len(part[0]) for part in parts)
        first = reserve(session, workspace_id, SEQ_KIND, count)
        _insert(connection, workspace_id, first, parts)
        _trim(connection, workspace_id, next_seq=first + count, now=now, retention=retention)


class _WorkspaceClock(NamedTuple):
    """What the writer reads of a workspace: its clock."""

    id: str
    clock_mode: ClockMode
    clock_now: datetime
    clock_offset_us: int

    def at(self, real: datetime) -> datetime:
        """The workspace's instant when the process clock read ``real``."""
        return workspace_now(
            mode=self.clock_mode,
            stored_now=self.clock_now,
            offset=self.clock_offset_us * _US,
            system=FixedClock(real),
        )


_WORKSPACE = Workspace.__table__  # type: ignore[attr-defined]
_FIND_WORKSPACE = select(
    _WORKSPACE.c.id, _WORKSPACE.c.clock_mode, _WORKSPACE.c.clock_now, _WORKSPACE.c.clock_offset_us
).where(_WORKSPACE.c.id == bindparam("id"))


def _find_workspace(connection: Connection, workspace_id: str) -> _WorkspaceClock | None:
    row = connection.execute(_FIND_WORKSPACE, {"id": workspace_id}).first()
    return None if row is None else _WorkspaceClock(*row)


#: A group's entries ready to store: their real times and latencies (seconds), the index of
#: each one's stored shape, the stored shapes (the request's shape, then the workspace clock)
#: and the bodies they name.
_Packed = tuple["array[float]", "array[float]", "array[int]", list[list[Any]], list[Body]]


def _packed(group: Group, ws: _WorkspaceClock | None) -> _Packed:
    """The clock of each entry as stored: ``[0]`` none (no workspace), ``[1, µs since the
    epoch]`` a fixed instant (a simulated clock), ``[2, µs]`` an offset from the entry's real
    time (a real clock, to the ms). The entries of a variant share one clock but in a
    real-clock workspace, where each has its own."""
    stored: list[list[Any]] = []
    index: dict[tuple[int, tuple[int, ...]], int] = {}

    def shape_of(shape_index: int, clock: tuple[int, ...]) -> int:
        n = index.get((shape_index, clock))
        if n is None:
            n = index[shape_index, clock] = len(stored)
            stored.append([*group.shapes[shape_index][0], clock])
        return n

    if ws is None or ws.clock_mode is not ClockMode.REAL:
        fixed = [
            shape_of(n, _NO_CLOCK if ws is None else _fixed_clock(ws, instant, group.at[0]))
            for n, instant in group.variants
        ]
        shapes = array("I", [fixed[v] for v in group.variant])
    else:
        shapes = array(
            "I",
            [
                shape_of(group.variants[v][0], _real_clock(ws, group, v, t))
                for v, t in zip(group.variant, group.at, strict=True)
            ],
        )
    bodies = [body for _shape, pair in group.shapes for body in pair if body is not None]
    return group.at, group.latency, shapes, stored, bodies


def _fixed_clock(ws: _WorkspaceClock, instant: datetime | None, at: float) -> tuple[int, ...]:
    """A simulated clock's instant: the one the request's dependency read, else the one the
    workspace is at (a simulated clock stands still but when a request moves it, and a request
    that moved it read it)."""
    if instant is None:
        instant = ws.at(_instant_at(at))
    return (1, (instant - _EPOCH) // _US)


def _real_clock(ws: _WorkspaceClock, group: Group, variant: int, at: float) -> tuple[int, ...]:
    """The offset of a real clock's instant from the entry's real time, to the ms: the instant
    its dependency read; for an answer of the read cache (its instant was read when the answer
    was computed), and for a request whose route read none, the workspace clock at the entry's
    real time."""
    shape_index, instant = group.variants[variant]
    real = _instant_at(at)
    if instant is None or group.shapes[shape_index][0][7]:  # [7]: cached
        instant = ws.at(real)
    return (2, int(round((instant - real) / _US, -3)))


def _instant_at(at: float) -> datetime:
    """A real time (POSIX seconds) as an instant, to the µs."""
    return _EPOCH + round(at * 1_000_000) * _US


_BATCH = JournalBatch.__table__  # type: ignore[attr-defined]
_BODY = JournalBody.__table__  # type: ignore[attr-defined]


def _insert(connection: Connection, workspace_id: str, first: int, parts: list[_Packed]) -> None:
    """One ``JournalBatch``: its entries as JSON ``{"shapes": [[...shape, clock], ...], "at",
    "latency": real times and latencies (seconds), "shape": each entry's index into
    ``shapes``}``, the three columns packed (``_column``). Batches written before were ``"rows":
    [[µs after first_at, latency µs, shape index], ...]``, still read (``_unpack``)."""
    if len(parts) == 1:
        at, latency, shapes, stored, bodies = parts[0]
    else:  # groups of workspaces that are gone, into one journal: merged in time order
        rows: list[tuple[float, float, int]] = []
        stored, bodies = [], []
        for part_at, part_latency, part_shapes, part_stored, part_bodies in parts:
            offset = len(stored)
            stored += part_stored
            bodies += part_bodies
            rows += zip(part_at, part_latency, (n + offset for n in part_shapes), strict=True)
        rows.sort(key=lambda row: row[0])
        at, latency = array("d", (r[0] for r in rows)), array("d", (r[1] for r in rows))
        shapes = array("I", (r[2] for r in rows))
    last_seq = first + len(at) - 1
    connection.execute(
        _INSERT_BATCH,
        {
            "workspace_id": workspace_id,
            "first_seq": first,
            "last_seq": last_seq,
            "first_at": _instant_at(at[0]),
            "last_at": _instant_at(max(at)),
            "entries": json.dumps(
                {
                    "shapes": stored,
                    "at": _column(at),
                    "latency": _column(latency),
                    "shape": _column(shapes),
                },
                separators=(",", ":"),
            ),
        },
    )
    if bodies:
        # Each body with the batch's last seq: a trim drops it with the last batch naming it.
        connection.execute(
            _upsert_bodies(connection.dialect.name),
            [
                {
                    "workspace_id": workspace_id,
                    "digest": body.digest,
                    "content": body.text,
                    "truncated": body.truncated,
                    "last_seq": last_seq,
                }
                for body in {body.digest: body for body in bodies}.values()
            ],
        )


def _column(values: array[Any]) -> str:
    """A column as base64 of its little-endian machine values (doubles, unsigned ints): no
    Python work per entry, as JSON numbers would be."""
    if sys.byteorder == "big":
        values = array(values.typecode, values)
        values.byteswap()
    return base64.b64encode(values.tobytes()).decode("ascii")


def _uncolumn(typecode: str, text: str) -> array[Any]:
    values = array(typecode, base64.b64decode(text))
    if sys.byteorder == "big":
        values.byteswap()
    return values


_INSERT_BATCH = insert(_BATCH)


@lru_cache(maxsize=4)
def _upsert_bodies(dialect: str) -> Any:
    statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(_BODY)
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
    _trim(session.connection(), workspace_id, next_seq=next_seq, now=now, retention=retention)


_DROP_BATCHES = delete(_BATCH).where(
    _BATCH.c.workspace_id == bindparam("ws"),
    (_BATCH.c.last_seq < bindparam("floor")) | (_BATCH.c.last_at < bindparam("oldest")),
)
_OLDEST_BATCH = select(func.min(_BATCH.c.first_seq)).where(_BATCH.c.workspace_id == bindparam("ws"))
_DROP_BODIES = delete(_BODY).where(
    _BODY.c.workspace_id == bindparam("ws"), _BODY.c.last_seq < bindparam("below")
)


def _trim(
    connection: Connection,
    workspace_id: str,
    *,
    next_seq: int,
    now: datetime,
    retention: Retention,
) -> None:
    floor = next_seq - retention.max_entries
    gone = connection.execute(
        _DROP_BATCHES, {"ws": workspace_id, "floor": floor, "oldest": now - retention.max_age}
    )
    if not gone.rowcount:
        return  # the bodies the kept batches name are all still named
    oldest = connection.execute(_OLDEST_BATCH, {"ws": workspace_id}).scalar()
    below = next_seq if oldest is None else oldest
    connection.execute(_DROP_BODIES, {"ws": workspace_id, "below": below})


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
    rows: Iterable[tuple[datetime, int, int]]
    if "rows" in packed:  # written before the columns
        rows = ((first_at + offset * _US, latency, n) for offset, latency, n in packed["rows"])
    else:
        rows = zip(
            map(_instant_at, _uncolumn("d", packed["at"])),
            (round(e * 1_000_000) for e in _uncolumn("d", packed["latency"])),
            _uncolumn("I", packed["shape"]),
            strict=True,
        )
    for seq, (at, latency_us, n) in enumerate(rows, start=batch.first_seq):
        (principal, method, path, query, status, code, key, cached, *bodies, clock) = shapes[n]
        request_type, request_size, request_body, response_type, response_size, body = bodies
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
