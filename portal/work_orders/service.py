"""Work orders: residents report them for their unit, landlords create and update them, and an
accounting client with ``maintenance_coordination`` retrieves them, read-only (domain.md §8.4;
seed 004 §E).

Every change stamps ``last_modified`` (workspace time), takes the next work-order sequence
number (``modified_seq``: the feed's order and cursor, since the simulated clock may stand
still) and is kept as history. New work orders are e-mailed to the landlord users; status
changes to the tenant. A work order for a tenant's lease starts with the tenant's Notification
when the client sent one with balances (``portal.residents.maintenance``; seed 004).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from portal.auth import service as auth_service
from portal.core import calendar, transitions
from portal.core.db import get_row
from portal.core.errors import Conflict, NotFound, Unprocessable
from portal.core.ids import IdMinter, reserve
from portal.core.pagination import keyset
from portal.events import service as events
from portal.notifications import service as notifications
from portal.notifications.models import EmailKind
from portal.properties import service as properties_service
from portal.properties.models import Property, Unit
from portal.residents import maintenance
from portal.residents.models import Lease, LeaseResident, LeaseStatus, Resident
from portal.work_orders.models import (
    STATUS_LABELS,
    WORK_ORDER_TRANSITIONS,
    Priority,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderStatus,
)

#: Work-order numbers as the client shows them start here (seed 004: ID 101022).
FIRST_NUMBER = 101001
#: The fields a landlord may change (the status through the transition table).
EDITABLE = (
    "status",
    "priority",
    "description",
    "name",
    "reported_by",
    "phone",
    "notification",
    "vendor",
    "maintenance_type",
    "estimate_cents",
    "cost_limit_cents",
    "total_cents",
    "vendor_notified_on",
    "required_by",
    "work_started_on",
    "work_completed_on",
)
#: A move into these statuses stamps its date when the landlord did not give one.
_STAMPS: dict[WorkOrderStatus, str] = {
    WorkOrderStatus.VENDOR_NOTIFIED: "vendor_notified_on",
    WorkOrderStatus.IN_PROGRESS: "work_started_on",
    WorkOrderStatus.COMPLETED: "work_completed_on",
}


class WorkOrderNotFound(NotFound):
    code = "work_order_not_found"


class WorkOrderNumberTaken(Conflict):
    code = "work_order_number_taken"


class NoLeaseToReport(Unprocessable):
    code = "no_active_lease"


def _next_seq(session: Session, workspace_id: str) -> int:
    return reserve(session, workspace_id, "work_order_seq") + 1


def _record(
    session: Session, wo: WorkOrder, kind: str, changes: dict[str, Any], *, by: str
) -> None:
    session.add(
        WorkOrderEvent(
            workspace_id=wo.workspace_id,
            work_order_id=wo.id,
            seq=wo.modified_seq,
            at=wo.last_modified,
            by=by,
            kind=kind,
            changes=changes,
        )
    )


def _plain(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value.value if hasattr(value, "value") else value


def create(
    session: Session,
    ids: IdMinter,
    *,
    unit_id: str | None,
    property_id: str | None,
    description: str,
    priority: Priority,
    created_by: str,
    now: datetime,
    resident_id: str | None = None,
    lease_id: str | None = None,
    external_id: str | None = None,
    reported_on: date | None = None,
    status: WorkOrderStatus = WorkOrderStatus.UNASSIGNED,
    fields: dict[str, Any] | None = None,
) -> WorkOrder:
    """A new work order on a unit (or on a whole property, ``unit_id`` None)."""
    ws = ids.scope
    if unit_id is not None:
        unit = properties_service.get_unit(session, ws, unit_id)
        property_id = unit.property_id
    assert property_id is not None
    properties_service.get_property(session, ws, property_id)
    if external_id is None:
        external_id = str(FIRST_NUMBER + reserve(session, ws, "work_order_number"))
    elif _by_external_id(session, ws, external_id) is not None:
        raise WorkOrderNumberTaken(f"Work order number {external_id} is already used.")
    fields = dict(fields or {})
    if lease_id is not None and not fields.get("notification"):
        # The tenant's Notification comes with the work order, as Promas shows it (seed 004
        # §E: "Notification Required: Notify ..."), when the client sent it with balances.
        notification = maintenance.notification_for_lease(session, ws, lease_id)
        if notification is not None:
            fields["notification"] = notification
    seq = _next_seq(session, ws)
    wo = WorkOrder(
        workspace_id=ws,
        id=ids.new("work_order", "wo"),
        external_id=external_id,
        property_id=property_id,
        unit_id=unit_id,
        resident_id=resident_id,
        lease_id=lease_id,
        description=description,
        priority=priority,
        status=status,
        reported_on=reported_on or calendar.local_date(now),
        created_by=created_by,
        last_modified=now,
        modified_seq=seq,
        created_at=now,
        **fields,
    )
    session.add(wo)
    _record(
        session,
        wo,
        "created",
        {"status": wo.status.value, "priority": wo.priority.value},
        by=created_by,
    )
    session.flush()
    events.emit(
        session,
        wo.workspace_id,
        "work_order.created",
        wo.id,
        now=now,
        data={"status": wo.status.value},
    )
    _tell_landlords(session, ids, wo, now=now)
    return wo


def create_for_resident(
    session: Session,
    ids: IdMinter,
    resident: Resident,
    *,
    lease_id: str | None,
    description: str,
    priority: Priority,
    phone: str | None,
    now: datetime,
) -> WorkOrder:
    """A resident reports a problem in the unit of their lease (the given one, else their
    active lease)."""
    lease = _resident_lease(session, resident, lease_id)
    return create(
        session,
        ids,
        unit_id=lease.unit_id,
        property_id=None,
        description=description,
        priority=priority,
        created_by="resident",
        now=now,
        resident_id=resident.id,
        lease_id=lease.id,
        fields={"reported_by": resident.name, "phone": phone or resident.phone},
    )


def _active_lease(
    session: Session,
    workspace_id: str,
    resident_id: str,
    *,
    lease_id: str | None = None,
    unit_id: str | None = None,
) -> Lease | None:
    """The resident's first active lease (that one, or on that unit, when given)."""
    query = (
        select(Lease)
        .join(
            LeaseResident,
            (col(LeaseResident.workspace_id) == col(Lease.workspace_id))
            & (col(LeaseResident.lease_id) == col(Lease.id)),
        )
        .where(
            col(LeaseResident.workspace_id) == workspace_id,
            col(LeaseResident.resident_id) == resident_id,
            col(Lease.status) == LeaseStatus.ACTIVE,
        )
        .order_by(col(Lease.created_at), col(Lease.id))
    )
    if lease_id is not None:
        query = query.where(col(Lease.id) == lease_id)
    if unit_id is not None:
        query = query.where(col(Lease.unit_id) == unit_id)
    return session.scalars(query).first()


def tenant_lease(
    session: Session, workspace_id: str, resident_id: str, unit_id: str | None
) -> Lease | None:
    """The tenant a landlord names: their active lease on that unit, if any (404 for an
    unknown resident)."""
    if session.get(Resident, (workspace_id, resident_id)) is None:
        raise NotFound(f"No resident {resident_id!r}.", code="resident_not_found")
    return _active_lease(session, workspace_id, resident_id, unit_id=unit_id)


def _resident_lease(session: Session, resident: Resident, lease_id: str | None) -> Lease:
    lease = _active_lease(session, resident.workspace_id, resident.id, lease_id=lease_id)
    if lease is None:
        raise NoLeaseToReport(
            "A work order is reported for the unit of an active lease; you have none"
            + (f" with ID {lease_id!r}." if lease_id else ".")
        )
    return lease


def update(
    session: Session,
    ids: IdMinter,
    wo: WorkOrder,
    changes: dict[str, Any],
    *,
    by: str,
    now: datetime,
) -> WorkOrder:
    """Apply the landlord's changes; a status change follows the transition table (409
    otherwise) and stamps its date. Nothing changed: nothing recorded."""
    diff: dict[str, Any] = {}
    target = changes.get("status")
    if target is not None and target != wo.status:
        transitions.require(
            WORK_ORDER_TRANSITIONS, "work order", wo.status, WorkOrderStatus(target)
        )
        stamp = _STAMPS.get(WorkOrderStatus(target))
        if stamp is not None and changes.get(stamp) is None and getattr(wo, stamp) is None:
            changes = {**changes, stamp: calendar.local_date(now)}
    for field in EDITABLE:
        if field in changes and changes[field] != getattr(wo, field):
            diff[field] = {"from": _plain(getattr(wo, field)), "to": _plain(changes[field])}
            setattr(wo, field, changes[field])
    if not diff:
        return wo
    wo.last_modified = now
    wo.modified_seq = _next_seq(session, wo.workspace_id)
    session.add(wo)
    _record(session, wo, "changed", diff, by=by)
    session.flush()
    events.emit(
        session,
        wo.workspace_id,
        "work_order.updated",
        wo.id,
        now=now,
        data={"status": wo.status.value, "changed": sorted(diff)},
    )
    if "status" in diff:
        _tell_tenant(session, ids, wo, now=now)
    return wo


# --- reading ------------------------------------------------------------------------------------


def get(
    session: Session, workspace_id: str, work_order_id: str, *, for_update: bool = False
) -> WorkOrder:
    """One work order; ``for_update`` locks its row first (``db.get_row``), so a status move
    checks the transition table against the status it changes (issue 14)."""
    wo = get_row(session, WorkOrder, (workspace_id, work_order_id), for_update=for_update)
    if wo is None:
        raise WorkOrderNotFound(f"No work order {work_order_id!r}.")
    return wo


def _by_external_id(session: Session, workspace_id: str, external_id: str) -> WorkOrder | None:
    return session.scalars(
        select(WorkOrder).where(
            col(WorkOrder.workspace_id) == workspace_id, col(WorkOrder.external_id) == external_id
        )
    ).first()


def history(session: Session, wo: WorkOrder) -> list[WorkOrderEvent]:
    return list(
        session.scalars(
            select(WorkOrderEvent)
            .where(
                col(WorkOrderEvent.workspace_id) == wo.workspace_id,
                col(WorkOrderEvent.work_order_id) == wo.id,
            )
            .order_by(col(WorkOrderEvent.seq))
        )
    )


def list_work_orders(
    session: Session,
    workspace_id: str,
    *,
    status: WorkOrderStatus | None = None,
    resident_id: str | None = None,
    modified_since: datetime | None = None,
    after_seq: int | None,
    limit: int,
) -> list[WorkOrder]:
    """In modification order (the feed's): a work order changed meanwhile moves to the end."""
    query = select(WorkOrder).where(col(WorkOrder.workspace_id) == workspace_id)
    if status is not None:
        query = query.where(col(WorkOrder.status) == status)
    if resident_id is not None:
        query = query.where(col(WorkOrder.resident_id) == resident_id)
    if modified_since is not None:
        query = query.where(col(WorkOrder.last_modified) > modified_since)
    return list(
        session.scalars(keyset(query, col(WorkOrder.modified_seq), after=after_seq, limit=limit))
    )


def places(
    session: Session, workspace_id: str, work_orders: Sequence[WorkOrder]
) -> tuple[dict[str, Property], dict[str, Unit], dict[str, tuple[str, str | None]]]:
    """The properties and units of the work orders, and each tenant's name and accounting
    resident ID: three queries for a page."""
    props = properties_service.properties_by_id(
        session, workspace_id, {w.property_id for w in work_orders}
    )
    units = properties_service.units_by_id(
        session, workspace_id, {w.unit_id for w in work_orders if w.unit_id}
    )
    tenants: dict[str, tuple[str, str | None]] = {}
    resident_ids = {w.resident_id for w in work_orders if w.resident_id}
    if resident_ids:
        names = dict(
            session.execute(
                select(col(Resident.id), col(Resident.name)).where(
                    col(Resident.workspace_id) == workspace_id,
                    col(Resident.id).in_(resident_ids),
                )
            ).all()
        )
        leases = dict(
            session.execute(
                select(col(Lease.id), col(Lease.external_resident_id)).where(
                    col(Lease.workspace_id) == workspace_id,
                    col(Lease.id).in_({w.lease_id for w in work_orders if w.lease_id}),
                )
            ).all()
        )
        for w in work_orders:
            if w.resident_id in names:
                tenants[w.id] = (names[w.resident_id], leases.get(w.lease_id or ""))
    return props, units, tenants


# --- notices ------------------------------------------------------------------------------------


def _tell_landlords(session: Session, ids: IdMinter, wo: WorkOrder, *, now: datetime) -> None:
    notifications.send_many(
        session,
        ids,
        [
            notifications.Message(
                to=to,
                subject=f"New work order {wo.external_id} ({wo.priority.value})",
                kind=EmailKind.WORK_ORDER_CREATED,
                body=f"Work order {wo.external_id}, priority {wo.priority.value}: "
                f"{wo.description[:500]}",
                data={"work_order_id": wo.id, "external_id": wo.external_id},
            )
            for to in auth_service.landlord_emails(session, wo.workspace_id)
        ],
        now=now,
    )


def _tell_tenant(session: Session, ids: IdMinter, wo: WorkOrder, *, now: datetime) -> None:
    if wo.resident_id is None:
        return
    resident = session.get(Resident, (wo.workspace_id, wo.resident_id))
    if resident is None or not resident.email:
        return
    label = STATUS_LABELS[wo.status]
    notifications.send(
        session,
        ids,
        notifications.Message(
            to=resident.email,
            subject=f"Work order {wo.external_id}: {label}",
            kind=EmailKind.WORK_ORDER_STATUS,
            body=f"Hello {resident.name}, your work order {wo.external_id} is now {label}.",
            data={"work_order_id": wo.id, "status": wo.status.value},
        ),
        now=now,
    )
