"""Writing and reading events (issue 20; ``models`` says what an event is).

Features call ``emit`` (one object) or ``emit_many`` (a set-based change: a day's autopay, a
settlement) where they change state; nothing is written then. The session keeps the events and
writes them all when it commits (``before_commit``): one counter reservation and one insert per
transaction, whatever the number of events, and the counter row is held only from then to the
commit. A rollback drops them with everything else.

The object an event is about is rendered when the event is read or delivered, by the feature
that owns the object (``register``), exactly as that feature's API returns it. An event keeps,
in ``data``, the facts of the change at its instant (the status reached, a return's code): the
object shows what it is now. Dwolla's and Plaid's events work the same way (a reference, read
when needed); a snapshot of every object would have doubled a 50,000-lease month's writes
(docs/decisions.md, "Events").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import or_, select
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col

from portal.core.db import bulk_insert_columns
from portal.core.errors import FieldError, NotFound, Unprocessable
from portal.core.ids import reserve
from portal.core.pagination import keyset
from portal.workspaces.models import Workspace
from portal.workspaces.service import minter

from .models import Event

#: Every event type, with the kind of object it is about (None: the event's data says it all)
#: and what it means. The README lists them; ``GET /v1/events?type=`` takes these.
TYPES: dict[str, tuple[str | None, str]] = {
    "balances.received": (None, "an accounting system's Send Balances, and what it changed"),
    "resident.invited": ("resident", "a resident was invited (an invitation e-mail was sent)"),
    "resident.pending": ("resident", "a resident signed up and awaits the landlord's approval"),
    "resident.approved": ("resident", "the landlord approved a resident"),
    "resident.merged": ("resident", "a resident was merged into another (data: into)"),
    "resident.deleted": ("resident", "the landlord deleted a resident"),
    "payment.created": ("payment", "a payment was made (by a resident, autopay or a scenario)"),
    "payment.completed": ("payment", "a payment's deposit batch was deposited"),
    "payment.cancelled": ("payment", "a scheduled payment was cancelled"),
    "payment.voided": ("payment", "a payment was voided before settlement"),
    "payment.refunded": ("payment", "a payment was refunded after settlement"),
    "payment.returned": ("payment", "the bank returned an ACH payment (data: return_code)"),
    "payment.charged_back": ("payment", "a card payment was charged back (data: reason_code)"),
    "dispute.opened": ("dispute", "a chargeback's dispute was opened"),
    "dispute.decided": ("dispute", "a dispute was won or lost (data: status)"),
    "deposit_batch.opened": ("deposit_batch", "a payment opened a new deposit batch"),
    "deposit_batch.closed": ("deposit_batch", "a deposit batch was closed at the cut-off"),
    "deposit_batch.deposited": ("deposit_batch", "a deposit batch was deposited"),
    "reversal_batch.created": ("deposit_batch", "a reversal batch was created"),
    "work_order.created": ("work_order", "a work order was created"),
    "work_order.updated": ("work_order", "a work order changed (data: status)"),
    "applicant.created": ("application", "a rental application was submitted"),
    "applicant.updated": (
        "application",
        "an application was screened, decided or edited, or an applicant accepted",
    ),
    "connector.delivery_failed": (
        None,
        "a posting to the accounting system was refused or could not be sent",
    ),
    "connector.import_completed": (None, "an AMSI or MRI import finished (data: its counts)"),
}

#: ``session.info`` key: the events a transaction has emitted, written when it commits.
PENDING = "events_pending"


@dataclass(frozen=True)
class _Pending:
    workspace_id: str
    type: str
    subject_ids: Sequence[str | None]
    at: datetime
    data: dict[str, Any]
    integration_id: str | None


def emit(
    session: Session,
    workspace_id: str,
    type: str,
    subject_id: str | None = None,
    *,
    now: datetime,
    data: dict[str, Any] | None = None,
    integration_id: str | None = None,
) -> None:
    """Record that ``type`` happened to ``subject_id`` at ``now`` (the workspace clock's
    instant of the change); written when the session commits."""
    emit_many(
        session,
        workspace_id,
        type,
        [subject_id],
        now=now,
        data=data,
        integration_id=integration_id,
    )


def emit_many(
    session: Session,
    workspace_id: str,
    type: str,
    subject_ids: Sequence[str | None],
    *,
    now: datetime,
    data: dict[str, Any] | None = None,
    integration_id: str | None = None,
) -> None:
    """One event per subject, in the given order, all with the same facts."""
    if type not in TYPES:
        raise ValueError(f"unknown event type {type!r}")
    if not subject_ids:
        return
    session.info.setdefault(PENDING, []).append(
        _Pending(workspace_id, type, subject_ids, now, data or {}, integration_id)
    )


@dataclass(frozen=True)
class Written:
    """An event just written (what the ``AFTER_WRITE`` hooks get)."""

    seq: int
    id: str
    type: str
    integration_id: str | None
    at: datetime


#: Hooks run after the events of a transaction are written, in it: the webhooks' outbox fans
#: them out to endpoints (``portal.webhooks``, registered by ``portal.objects``). A hook gets
#: the events as a function that lists them: most workspaces have no endpoint, and listing a
#: month's 10,000 events cost ~1 % of it for nobody.
AFTER_WRITE: list[Callable[[Session, str, Callable[[], list[Written]]], None]] = []


class EventNotFound(NotFound):
    code = "event_not_found"


class UnknownEventType(Unprocessable):
    code = "unknown_event_type"


def check_types(types: Iterable[str], field: str) -> list[str]:
    """The types, each one of ``TYPES``; 422 ``unknown_event_type`` naming the others."""
    unknown = sorted(set(types) - set(TYPES))
    if unknown:
        raise UnknownEventType(
            f"Unknown event type(s): {', '.join(unknown)}.",
            errors=[FieldError(field, f"unknown: {', '.join(unknown)}")],
            extra={"types": sorted(TYPES)},
        )
    return sorted(set(types))


def write_pending(session: Session) -> None:
    """Write the events the session holds (before its commit; a flush may call it too)."""
    pending: list[_Pending] | None = session.info.pop(PENDING, None)
    if not pending:
        return
    by_workspace: dict[str, list[_Pending]] = {}
    for p in pending:
        by_workspace.setdefault(p.workspace_id, []).append(p)
    for workspace_id, items in by_workspace.items():
        ws = session.get(Workspace, workspace_id)
        if ws is None:
            continue  # deleted in this transaction
        count = sum(len(p.subject_ids) for p in items)
        # From 1: ``since=0`` reads from the first event.
        first = reserve(session, workspace_id, "event_log_seq", count) + 1
        event_ids = minter(ws, session).many("event_log", count, "ev")
        kinds: list[str] = []
        subject_types: list[str | None] = []
        subject_ids: list[str | None] = []
        data: list[dict[str, Any]] = []
        at: list[datetime] = []
        audience: list[str | None] = []
        for p in items:
            n = len(p.subject_ids)
            subject_type = TYPES[p.type][0]
            kinds += [p.type] * n
            subject_types += [subject_type] * n
            subject_ids += list(p.subject_ids)
            data += [p.data] * n
            at += [p.at] * n
            audience += [p.integration_id] * n
        # One emit (a day's autopay, an intake's invitations): its shared values go to the
        # driver once, not once per row (``bulk_insert_columns``' 1-tuples).
        shared = _first_only if len(items) == 1 else _as_is

        bulk_insert_columns(
            session,
            Event,
            count,
            {
                "workspace_id": (workspace_id,),
                "id": event_ids,
                "seq": list(range(first, first + count)),
                "kind": shared(kinds),
                "data": shared(data),
                "at": shared(at),
                "subject_type": shared(subject_types),
                "subject_id": subject_ids,
                "integration_id": shared(audience),
            },
        )
        written = partial(_written, first, event_ids, kinds, audience, at)
        for hook in AFTER_WRITE:
            hook(session, workspace_id, written)


def _written(
    first: int,
    event_ids: list[str],
    kinds: list[str],
    audience: list[str | None],
    at: list[datetime],
) -> list[Written]:
    return [
        Written(first + n, event_ids[n], kinds[n], audience[n], at[n])
        for n in range(len(event_ids))
    ]


def _first_only(values: list[Any]) -> Any:
    return (values[0],)


def _as_is(values: list[Any]) -> Any:
    return values


@sa_event.listens_for(OrmSession, "before_commit")
def _before_commit(session: OrmSession) -> None:
    if session.info.get(PENDING):
        assert isinstance(session, Session)
        write_pending(session)


@sa_event.listens_for(OrmSession, "after_rollback")
def _after_rollback(session: OrmSession) -> None:
    session.info.pop(PENDING, None)


# --- reading -----------------------------------------------------------------------------------

#: Each object kind's renderer: the objects of these IDs as the API returns them (JSON-ready),
#: keyed by ID; an ID whose object is gone is left out. Registered by the owning feature.
Renderer = Callable[[Session, str, list[str]], dict[str, dict[str, Any]]]
RENDERERS: dict[str, Renderer] = {}


#: The public base URL the objects' links use (``Settings.base_url``; set by the app).
BASE_URL = "http://127.0.0.1:8000"


def register(subject_type: str, renderer: Renderer) -> None:
    RENDERERS[subject_type] = renderer


def list_events(
    session: Session,
    workspace_id: str,
    *,
    types: Sequence[str] = (),
    after_seq: int | None,
    limit: int,
    integration_id: str | None = None,
) -> list[Event]:
    """A workspace's events in ``seq`` order after ``after_seq``. ``integration_id``: as that
    integration sees them (its own, and those of no integration)."""
    query = select(Event).where(col(Event.workspace_id) == workspace_id)
    if types:
        query = query.where(col(Event.kind).in_(list(types)))
    if integration_id is not None:
        query = query.where(
            or_(col(Event.integration_id).is_(None), col(Event.integration_id) == integration_id)
        )
    return list(session.scalars(keyset(query, col(Event.seq), after=after_seq, limit=limit)))


def events_between(session: Session, workspace_id: str, first: int, last: int) -> list[Event]:
    return list(
        session.scalars(
            select(Event)
            .where(
                col(Event.workspace_id) == workspace_id,
                col(Event.seq) >= first,
                col(Event.seq) <= last,
            )
            .order_by(col(Event.seq))
        )
    )


def render(session: Session, workspace_id: str, events: Iterable[Event]) -> list[dict[str, Any]]:
    """The events as the API returns them, each with its object rendered now (one read per
    kind of object on the page)."""
    events = list(events)
    wanted: dict[str, list[str]] = {}
    for e in events:
        if e.subject_type and e.subject_id:
            wanted.setdefault(e.subject_type, []).append(e.subject_id)
    objects: dict[str, dict[str, dict[str, Any]]] = {
        kind: RENDERERS[kind](session, workspace_id, sorted(set(ids)))
        for kind, ids in wanted.items()
        if kind in RENDERERS
    }
    return [
        as_json(e, objects.get(e.subject_type or "", {}).get(e.subject_id or "")) for e in events
    ]


def as_json(e: Event, obj: dict[str, Any] | None) -> dict[str, Any]:
    """An event's wire form; also the body of its webhook (Standard Webhooks' ``type``,
    ``timestamp``, ``data``)."""
    data: dict[str, Any] = dict(e.data)
    if e.subject_type is not None:
        data["object"] = obj
    return {
        "id": e.id,
        "type": e.kind,
        "seq": e.seq,
        "timestamp": e.at,
        "subject": (
            {"type": e.subject_type, "id": e.subject_id} if e.subject_type is not None else None
        ),
        "integration_id": e.integration_id,
        "data": data,
    }
