"""Work orders (domain.md §8.4; seed 004 §E's Work Order History and detail screens).

Status follows ``WORK_ORDER_TRANSITIONS``: ``unassigned -> vendor_notified -> in_progress ->
completed -> invoiced``, with ``on_hold`` (and back) and ``cancelled``. Every change stamps
``last_modified`` (workspace time) and takes the next number of the workspace's work-order
sequence (``modified_seq``), which orders the accounting client's feed: a work order changed
while the client pages moves to the end and is seen once per change. The history keeps every
change.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from portal.core.db import StrEnumType, UTCDateTime


class Priority(StrEnum):
    """As the portal and Promas show them (seed 004: Low, Normal, High, Emergency)."""

    LOW = "Low"
    NORMAL = "Normal"
    HIGH = "High"
    EMERGENCY = "Emergency"


class WorkOrderStatus(StrEnum):
    UNASSIGNED = "unassigned"
    VENDOR_NOTIFIED = "vendor_notified"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    INVOICED = "invoiced"
    ON_HOLD = "on_hold"
    CANCELLED = "cancelled"


#: The labels Promas shows (seed 004: Unassigned, Vendor Notified, Invoiced; "External Status:
#: Completed").
STATUS_LABELS: dict[WorkOrderStatus, str] = {
    WorkOrderStatus.UNASSIGNED: "Unassigned",
    WorkOrderStatus.VENDOR_NOTIFIED: "Vendor Notified",
    WorkOrderStatus.IN_PROGRESS: "In Progress",
    WorkOrderStatus.COMPLETED: "Completed",
    WorkOrderStatus.INVOICED: "Invoiced",
    WorkOrderStatus.ON_HOLD: "On Hold",
    WorkOrderStatus.CANCELLED: "Cancelled",
}

_S = WorkOrderStatus
WORK_ORDER_TRANSITIONS: dict[WorkOrderStatus, frozenset[WorkOrderStatus]] = {
    _S.UNASSIGNED: frozenset({_S.VENDOR_NOTIFIED, _S.IN_PROGRESS, _S.ON_HOLD, _S.CANCELLED}),
    _S.VENDOR_NOTIFIED: frozenset({_S.IN_PROGRESS, _S.UNASSIGNED, _S.ON_HOLD, _S.CANCELLED}),
    _S.IN_PROGRESS: frozenset({_S.COMPLETED, _S.ON_HOLD, _S.CANCELLED}),
    _S.COMPLETED: frozenset({_S.INVOICED, _S.IN_PROGRESS}),
    _S.ON_HOLD: frozenset({_S.UNASSIGNED, _S.VENDOR_NOTIFIED, _S.IN_PROGRESS, _S.CANCELLED}),
    _S.INVOICED: frozenset(),
    _S.CANCELLED: frozenset(),
}


class WorkOrder(SQLModel, table=True):
    __tablename__ = "work_order"
    __table_args__ = (
        UniqueConstraint("workspace_id", "external_id"),
        Index("ix_work_order_modified", "workspace_id", "modified_seq"),
    )

    workspace_id: str = Field(foreign_key="workspace.id", primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=40)
    #: The number the client shows and keeps as "External ID" (seed 004: 101022).
    external_id: str = Field(max_length=20)
    property_id: str = Field(max_length=40)
    unit_id: str | None = Field(default=None, max_length=40)
    #: The tenant, when a resident reported it or the landlord named one.
    resident_id: str | None = Field(default=None, max_length=40)
    lease_id: str | None = Field(default=None, max_length=40)
    description: str = Field(max_length=4000)
    priority: Priority = Field(sa_type=StrEnumType(Priority))
    status: WorkOrderStatus = Field(sa_type=StrEnumType(WorkOrderStatus))
    #: The work order's short name in Promas' list ("436 Fairway - Plumbing").
    name: str | None = Field(default=None, max_length=200)
    reported_by: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    notification: str | None = Field(default=None, max_length=500)
    vendor: str | None = Field(default=None, max_length=200)
    maintenance_type: str | None = Field(default=None, max_length=100)
    estimate_cents: int = Field(default=0, sa_type=BigInteger)
    cost_limit_cents: int = Field(default=0, sa_type=BigInteger)
    total_cents: int = Field(default=0, sa_type=BigInteger)
    reported_on: date
    vendor_notified_on: date | None = None
    required_by: date | None = None
    work_started_on: date | None = None
    work_completed_on: date | None = None
    #: ``resident``, ``landlord`` or ``scenario``.
    created_by: str = Field(max_length=16)
    last_modified: datetime = Field(sa_type=UTCDateTime)
    modified_seq: int = Field(sa_type=BigInteger)
    created_at: datetime = Field(sa_type=UTCDateTime)


class WorkOrderEvent(SQLModel, table=True):
    """A work order's history: its creation and every change, oldest first."""

    __tablename__ = "work_order_event"

    workspace_id: str = Field(foreign_key="workspace.id", primary_key=True, max_length=64)
    work_order_id: str = Field(primary_key=True, max_length=40)
    seq: int = Field(primary_key=True, sa_type=BigInteger)
    at: datetime = Field(sa_type=UTCDateTime)
    by: str = Field(max_length=16)
    kind: str = Field(max_length=16)
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
