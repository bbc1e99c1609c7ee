"""Maintenance information a client sends with balances (seed S4 processing option "Send
Maintenance Information with Balances"; domain.md §3 "Optional payload").

The seed names the information by the work-order screen it ends up on (seed S4 §E): the
tenant's *Notification* ("Notification Required: Notify Oscar The Grouch at 11234567898"), who
to tell before anyone works in the unit. It belongs to the accounting system's tenant, so it is
kept per accounting resident ID (as ``AccountingRecord`` is: it follows the lease ID when a
merge moves it), and a work order created for that tenant's lease starts with it
(``portal.work_orders.service.create``).

Read only while the integration's option is on; while it is off the lines' ``maintenance`` is
ignored, as any field a client sends that the portal does not take (the balances are never
refused over it). While it is on, each line replaces what was kept for its resident ID: a line
without maintenance information clears it. Residents absent from the call are left alone, as
intake leaves them. Set-wise, like intake: one read and at most three statements a call.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import bindparam, delete, select, update
from sqlmodel import Field as SQLField
from sqlmodel import Session, SQLModel, col

from portal.auth import service as auth_service
from portal.auth.models import Integration
from portal.core.db import UTCDateTime, bulk_insert
from portal.residents.models import Lease


class MaintenanceIn(BaseModel):
    """A balance line's maintenance information (fields may be added, as on the line)."""

    model_config = ConfigDict(extra="ignore")

    notification: str | None = Field(
        default=None,
        max_length=500,
        description="Who to notify before work in the unit (seed 004's work order: "
        '"Notify Oscar The Grouch at 11234567898"); null or empty: none required',
        examples=["Notify Oscar The Grouch at 11234567898"],
    )


class TenantMaintenance(SQLModel, table=True):
    """The maintenance information last received for an accounting resident ID."""

    __tablename__ = "tenant_maintenance"

    workspace_id: str = SQLField(foreign_key="workspace.id", primary_key=True, max_length=64)
    external_resident_id: str = SQLField(primary_key=True, max_length=64)
    #: The integration whose balances carried it.
    integration_id: str = SQLField(max_length=40)
    notification: str = SQLField(max_length=500)
    received_at: datetime = SQLField(sa_type=UTCDateTime)


class BalanceLineLike(Protocol):
    @property
    def resident_id(self) -> str: ...

    @property
    def maintenance(self) -> MaintenanceIn | None: ...


def _notification(line: BalanceLineLike) -> str | None:
    text = (line.maintenance.notification or "").strip() if line.maintenance else ""
    return text or None


def receive(
    session: Session,
    integration: Integration,
    lines: Sequence[BalanceLineLike],
    *,
    now: datetime,
) -> None:
    """Keep the maintenance information of a balances call, if the integration sends it."""
    if not auth_service.processing_options(integration).send_maintenance_with_balances:
        return
    ws = integration.workspace_id
    existing = {
        ext: (notification, sender)
        for ext, notification, sender in session.execute(
            select(
                col(TenantMaintenance.external_resident_id),
                col(TenantMaintenance.notification),
                col(TenantMaintenance.integration_id),
            ).where(col(TenantMaintenance.workspace_id) == ws)
        )
    }
    new: list[dict[str, object]] = []
    changed: list[dict[str, object]] = []
    gone: list[dict[str, object]] = []
    for line in lines:
        notification = _notification(line)
        old = existing.get(line.resident_id)
        if notification is None:
            if old is not None:
                gone.append({"b_ext": line.resident_id})
        elif old is None:
            new.append(
                {
                    "workspace_id": ws,
                    "external_resident_id": line.resident_id,
                    "integration_id": integration.id,
                    "notification": notification,
                    "received_at": now,
                }
            )
        elif old != (notification, integration.id):
            changed.append(
                {
                    "b_ext": line.resident_id,
                    "integration_id": integration.id,
                    "notification": notification,
                    "received_at": now,
                }
            )
    key = (col(TenantMaintenance.workspace_id) == ws) & (
        col(TenantMaintenance.external_resident_id) == bindparam("b_ext")
    )
    if gone:
        session.connection().execute(delete(TenantMaintenance).where(key), gone)
    if changed:
        session.connection().execute(
            update(TenantMaintenance)
            .where(key)
            .values(
                integration_id=bindparam("integration_id"),
                notification=bindparam("notification"),
                received_at=bindparam("received_at"),
            ),
            changed,
        )
    bulk_insert(session, TenantMaintenance, new)


def notification_for_lease(session: Session, workspace_id: str, lease_id: str) -> str | None:
    """The notification kept for the accounting tenant of a lease, or None."""
    return session.scalar(
        select(col(TenantMaintenance.notification))
        .join(
            Lease,
            (col(Lease.workspace_id) == col(TenantMaintenance.workspace_id))
            & (col(Lease.external_resident_id) == col(TenantMaintenance.external_resident_id)),
        )
        .where(col(Lease.workspace_id) == workspace_id, col(Lease.id) == lease_id)
    )
