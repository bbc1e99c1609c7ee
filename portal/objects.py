"""What ``portal.events`` needs from the features above it (issue 20), registered in one place.

- The objects events are about, rendered as the API returns them: ``portal.events`` stores a
  reference to each event's object and renders it when the event is read (``GET /v1/events``)
  or delivered (webhooks), with the same schema and helpers as the landlord's routes.
- The webhooks' outbox: each transaction's new events are fanned out to the endpoints that
  want them (``portal.webhooks.service.fan_out``), in that transaction.

Imported by ``portal.models``, so every process that writes, reads or sends events has them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlmodel import Session, SQLModel, col, select

from portal.applicants import schemas as applicant_schemas
from portal.applicants import service as applicants_service
from portal.applicants.models import Application
from portal.events import service as events
from portal.payments import batching
from portal.payments import rules as payment_rules
from portal.payments import schemas as payment_schemas
from portal.payments.models import Payment
from portal.residents import leases as leases_service
from portal.residents import schemas as resident_schemas
from portal.residents.models import Resident
from portal.reversals.models import Dispute
from portal.reversals.schemas import DisputeRead
from portal.webhooks import service as webhooks_service
from portal.work_orders.models import WorkOrder
from portal.work_orders.schemas import WorkOrderRead
from portal.workspaces.models import Workspace

M = TypeVar("M", bound=SQLModel)


def _by_ids(session: Session, model: type[M], workspace_id: str, ids: Sequence[str]) -> list[M]:
    rows: list[M] = []
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        rows += session.exec(
            select(model).where(
                col(model.workspace_id) == workspace_id,  # type: ignore[attr-defined]
                col(model.id).in_(chunk),  # type: ignore[attr-defined]
            )
        ).all()
    return rows


def _json(read: BaseModel) -> dict[str, Any]:
    return read.model_dump(mode="json")


def payments(session: Session, workspace_id: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    rows = _by_ids(session, Payment, workspace_id, ids)
    ws = session.get(Workspace, workspace_id)
    batch_ids = sorted({p.deposit_batch_id for p in rows if p.deposit_batch_id})
    dates = {
        b.id: b.deposit_date for b in batching.list_batches_by_id(session, workspace_id, batch_ids)
    }
    deadlines = payment_rules.void_deadlines(session, workspace_id, rows, ws.settings if ws else {})
    return {
        p.id: _json(
            payment_schemas.PaymentRead.of(
                p,
                dates.get(p.deposit_batch_id) if p.deposit_batch_id else None,
                deadlines.get(p.id),
            )
        )
        for p in rows
    }


def deposit_batches(
    session: Session, workspace_id: str, ids: list[str]
) -> dict[str, dict[str, Any]]:
    rows = batching.list_batches_by_id(session, workspace_id, ids)
    last4 = batching.account_last4s(session, workspace_id, {b.deposit_account_id for b in rows})
    return {b.id: _json(payment_schemas.BatchRead.of(b, last4[b.deposit_account_id])) for b in rows}


def residents(session: Session, workspace_id: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    rows = _by_ids(session, Resident, workspace_id, ids)
    lease_ids = leases_service.lease_ids_of(session, workspace_id, [r.id for r in rows])
    return {r.id: _json(resident_schemas.ResidentRead.of(r, lease_ids[r.id])) for r in rows}


def disputes(session: Session, workspace_id: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    return {d.id: _json(DisputeRead.of(d)) for d in _by_ids(session, Dispute, workspace_id, ids)}


def work_orders(session: Session, workspace_id: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    return {
        w.id: _json(WorkOrderRead.of(w, events.BASE_URL))
        for w in _by_ids(session, WorkOrder, workspace_id, ids)
    }


def applications(session: Session, workspace_id: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    rows = _by_ids(session, Application, workspace_id, ids)
    people = applicants_service.applicants_of(session, workspace_id, [a.id for a in rows])
    return {a.id: _json(applicant_schemas.ApplicationRead.of(a, people[a.id])) for a in rows}


RENDERERS: dict[str, Callable[[Session, str, list[str]], dict[str, dict[str, Any]]]] = {
    "payment": payments,
    "deposit_batch": deposit_batches,
    "resident": residents,
    "dispute": disputes,
    "work_order": work_orders,
    "application": applications,
}
for _kind, _renderer in RENDERERS.items():
    events.register(_kind, _renderer)
if webhooks_service.fan_out not in events.AFTER_WRITE:
    events.AFTER_WRITE.append(webhooks_service.fan_out)
