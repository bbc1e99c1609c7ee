"""Wire shapes of work orders (issue 8's contract: fields may be added, not renamed)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from portal.core.dates import IsoDate
from portal.core.money import Amount, Cents
from portal.core.pagination import Page
from portal.properties.models import Property, Unit
from portal.properties.places import place_label
from portal.work_orders.models import (
    STATUS_LABELS,
    Priority,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderStatus,
)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ResidentWorkOrderIn(_In):
    description: str = Field(min_length=1, max_length=4000)
    priority: Priority = Priority.NORMAL
    lease_id: str | None = Field(
        default=None, max_length=40, description="Default: your active lease"
    )
    phone: str | None = Field(default=None, max_length=40)


class _Details(_In):
    name: str | None = Field(default=None, max_length=200)
    reported_by: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    notification: str | None = Field(default=None, max_length=500)
    vendor: str | None = Field(default=None, max_length=200)
    maintenance_type: str | None = Field(default=None, max_length=100)
    estimate: Amount | None = None
    cost_limit: Amount | None = None
    total: Amount | None = None
    required_by: IsoDate | None = None


class WorkOrderIn(_Details):
    unit_id: str | None = Field(default=None, max_length=40)
    property_id: str | None = Field(
        default=None, max_length=40, description="A property-wide work order (no unit)"
    )
    resident_id: str | None = Field(default=None, max_length=40, description="The tenant")
    description: str = Field(min_length=1, max_length=4000)
    priority: Priority = Priority.NORMAL

    @model_validator(mode="after")
    def _place(self) -> WorkOrderIn:
        if (self.unit_id is None) == (self.property_id is None):
            raise ValueError("give exactly one of unit_id and property_id")
        return self


class WorkOrderPatch(_Details):
    status: WorkOrderStatus | None = None
    priority: Priority | None = None
    description: str | None = Field(default=None, min_length=1, max_length=4000)
    vendor_notified_on: IsoDate | None = None
    work_started_on: IsoDate | None = None
    work_completed_on: IsoDate | None = None

    def changes(self) -> dict[str, Any]:
        """The fields sent, as model columns (amounts in cents)."""
        out = self.model_dump(exclude_unset=True)
        # A work order always has these: null keeps them, as left out does (a null was a 409
        # from the database's NOT NULL).
        for name in ("status", "priority", "description"):
            if name in out and out[name] is None:
                del out[name]
        for wire, column in (
            ("estimate", "estimate_cents"),
            ("cost_limit", "cost_limit_cents"),
            ("total", "total_cents"),
        ):
            if wire in out:
                out[column] = getattr(self, wire) or 0
                del out[wire]
        return out


def details_of(body: _Details) -> dict[str, Any]:
    out = body.model_dump(
        include={
            "name",
            "reported_by",
            "phone",
            "notification",
            "vendor",
            "maintenance_type",
            "required_by",
        },
        exclude_none=True,
    )
    for wire, column in (
        ("estimate", "estimate_cents"),
        ("cost_limit", "cost_limit_cents"),
        ("total", "total_cents"),
    ):
        value = getattr(body, wire)
        if value is not None:
            out[column] = value
    return out


class Site(BaseModel):
    id: str | None = Field(description="The accounting system's unit (else property) ID")
    name: str = Field(examples=["Willow Brooke 201"])
    property_id: str
    unit_id: str | None


class Tenant(BaseModel):
    id: str | None = Field(description="The accounting system's resident ID")
    name: str
    resident_id: str


class WorkOrderRead(BaseModel):
    id: str
    external_id: str = Field(description="The number the client shows", examples=["101022"])
    status: WorkOrderStatus
    status_label: str = Field(examples=["Vendor Notified"])
    priority: Priority
    description: str
    name: str | None
    reported_on: date
    reported_by: str | None
    phone: str | None
    notification: str | None
    vendor: str | None
    maintenance_type: str | None
    estimate: Cents
    cost_limit: Cents
    total: Cents
    vendor_notified_on: date | None
    required_by: date | None
    work_started_on: date | None
    work_completed_on: date | None
    property_id: str
    unit_id: str | None
    resident_id: str | None
    lease_id: str | None
    created_by: str
    last_modified: datetime
    browse_url: str = Field(description="The work order in the portal (landlord login)")
    created_at: datetime

    @classmethod
    def of(cls, w: WorkOrder, base_url: str) -> WorkOrderRead:
        return cls(
            id=w.id,
            external_id=w.external_id,
            status=w.status,
            status_label=STATUS_LABELS[w.status],
            priority=w.priority,
            description=w.description,
            name=w.name,
            reported_on=w.reported_on,
            reported_by=w.reported_by,
            phone=w.phone,
            notification=w.notification,
            vendor=w.vendor,
            maintenance_type=w.maintenance_type,
            estimate=w.estimate_cents,
            cost_limit=w.cost_limit_cents,
            total=w.total_cents,
            vendor_notified_on=w.vendor_notified_on,
            required_by=w.required_by,
            work_started_on=w.work_started_on,
            work_completed_on=w.work_completed_on,
            property_id=w.property_id,
            unit_id=w.unit_id,
            resident_id=w.resident_id,
            lease_id=w.lease_id,
            created_by=w.created_by,
            last_modified=w.last_modified,
            browse_url=f"{base_url.rstrip('/')}/v1/work-orders/{w.id}",
            created_at=w.created_at,
        )


class WorkOrderEventRead(BaseModel):
    at: datetime
    by: str
    kind: str
    changes: dict[str, Any]

    @classmethod
    def of(cls, e: WorkOrderEvent) -> WorkOrderEventRead:
        return cls(at=e.at, by=e.by, kind=e.kind, changes=e.changes)


class WorkOrderDetail(WorkOrderRead):
    history: list[WorkOrderEventRead]


WorkOrderPage = Page[WorkOrderRead]


class FeedWorkOrder(WorkOrderRead):
    """What the accounting client retrieves: the work order with its site and tenant as the
    client knows them, and the portal's status as its "External Status"."""

    external_status: str = Field(examples=["Completed"])
    site: Site
    tenant: Tenant | None


FeedPage = Page[FeedWorkOrder]


def place_name(prop: Property, unit: Unit | None) -> str:
    """The site as Promas lists it (``Willow Brooke 201``, ``212 Main Street``): the place
    label's one home, ``properties.places.place_label``."""
    return place_label(prop.street, unit.name if unit else "") or prop.name


def feed_item(
    w: WorkOrder,
    base_url: str,
    prop: Property,
    unit: Unit | None,
    tenant: tuple[str, str | None] | None,
) -> FeedWorkOrder:
    read = WorkOrderRead.of(w, base_url)
    return FeedWorkOrder(
        **dict(read),
        external_status=STATUS_LABELS[w.status],
        site=Site(
            id=(unit.external_id if unit is not None else None) or prop.external_id,
            name=place_name(prop, unit),
            property_id=prop.id,
            unit_id=unit.id if unit is not None else None,
        ),
        tenant=Tenant(id=tenant[1], name=tenant[0], resident_id=w.resident_id)
        if tenant is not None and w.resident_id is not None
        else None,
    )
