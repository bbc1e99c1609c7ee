"""The work orders and applications of a scenario (issue 8), kept apart from the rest of the
format in ``scenarios``, which imports these specs::

    "work_orders": [{"key", "unit": unit key | "property": property key, "description",
                     "priority"?: "Low" | "Normal" | "High" | "Emergency", "status"?,
                     "external_id"?: "101022", "reported_on"?: date, "tenant"?: resident key,
                     "name"?, "reported_by"?, "phone"?, "notification"?, "vendor"?,
                     "maintenance_type"?, "estimate"?, "cost_limit"?, "total"?, "required_by"?,
                     "updates"?: [{"at": instant, "status"?, "vendor"?, ...}]}],
    "applications": [{"key", "resident": resident key, "unit": unit key, "desired_move_in",
                      "applicants": [{"name", "email", "type"?, "phone"?, "monthly_income"?,
                                      "employer"?}],
                      "decision"?: "approve" | "deny", "reasons"?: [...]}]

Work orders are created when the world is, with the ``status`` given (a scenario records
history, so the status is set, not walked through the transition table); each ``update`` is
applied at its ``at`` instant, in time order with the payments, through the same rules as the
landlord's PATCH. An application with a ``decision`` is screened and decided at once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field, model_validator
from sqlmodel import Session

from portal.applicants import service as applicants_service
from portal.applicants.models import ApplicantType
from portal.core.ids import IdMinter
from portal.core.money import Amount
from portal.residents.models import Resident
from portal.sandbox.spec import KEY_PATTERN
from portal.sandbox.spec import Strict as _Strict
from portal.work_orders import service as work_orders_service
from portal.work_orders.models import Priority, WorkOrderStatus
from portal.workspaces import schemas as ws_schemas

_DETAILS = (
    "name",
    "reported_by",
    "phone",
    "notification",
    "vendor",
    "maintenance_type",
    "required_by",
)


class WorkOrderUpdateSpec(_Strict):
    at: ws_schemas.Instant
    status: WorkOrderStatus | None = None
    priority: Priority | None = None
    vendor: str | None = Field(default=None, max_length=200)
    maintenance_type: str | None = Field(default=None, max_length=100)
    total: Amount | None = None

    def changes(self) -> dict[str, Any]:
        out = self.model_dump(exclude_unset=True, exclude={"at", "total"})
        if self.total is not None:
            out["total_cents"] = self.total
        return out


class WorkOrderSpec(_Strict):
    key: str = Field(pattern=KEY_PATTERN)
    unit: str | None = Field(default=None, description="Unit key (or property, for the site)")
    property: str | None = Field(default=None, description="Property key: a property-wide job")
    description: str = Field(min_length=1, max_length=4000)
    priority: Priority = Priority.NORMAL
    status: WorkOrderStatus = WorkOrderStatus.UNASSIGNED
    external_id: str | None = Field(default=None, pattern=r"^[0-9]{1,20}$")
    reported_on: dt.date | None = None
    tenant: str | None = Field(default=None, description="Resident key of the tenant")
    name: str | None = Field(default=None, max_length=200)
    reported_by: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    notification: str | None = Field(default=None, max_length=500)
    vendor: str | None = Field(default=None, max_length=200)
    maintenance_type: str | None = Field(default=None, max_length=100)
    estimate: Amount | None = None
    cost_limit: Amount | None = None
    total: Amount | None = None
    required_by: dt.date | None = None
    updates: list[WorkOrderUpdateSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _place(self) -> WorkOrderSpec:
        if (self.unit is None) == (self.property is None):
            raise ValueError("give exactly one of unit and property")
        return self

    def fields(self) -> dict[str, Any]:
        out = {f: getattr(self, f) for f in _DETAILS if getattr(self, f) is not None}
        for wire, column in (
            ("estimate", "estimate_cents"),
            ("cost_limit", "cost_limit_cents"),
            ("total", "total_cents"),
        ):
            if getattr(self, wire) is not None:
                out[column] = getattr(self, wire)
        return out


class ApplicantSpec(_Strict):
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(min_length=3, max_length=200)
    type: ApplicantType = ApplicantType.APPLICANT
    phone: str | None = Field(default=None, max_length=40)
    monthly_income: Amount | None = None
    employer: str | None = Field(default=None, max_length=200)


class ApplicationSpec(_Strict):
    key: str = Field(pattern=KEY_PATTERN)
    resident: str = Field(description="Resident key of whoever submits it")
    unit: str
    desired_move_in: dt.date
    applicants: list[ApplicantSpec] = Field(min_length=1, max_length=10)
    decision: Literal["approve", "deny"] | None = None
    reasons: list[str] = Field(default_factory=list)


def load_work_orders(
    session: Session,
    ids: IdMinter,
    specs: list[WorkOrderSpec],
    keys: dict[str, str],
    leases: dict[str, str],
    *,
    now: dt.datetime,
) -> None:
    for spec in specs:
        resident_id = keys[spec.tenant] if spec.tenant else None
        wo = work_orders_service.create(
            session,
            ids,
            unit_id=keys[spec.unit] if spec.unit else None,
            property_id=keys[spec.property] if spec.property else None,
            description=spec.description,
            priority=spec.priority,
            created_by="scenario",
            now=now,
            resident_id=resident_id,
            lease_id=leases.get(spec.tenant) if spec.tenant else None,
            external_id=spec.external_id,
            reported_on=spec.reported_on,
            status=spec.status,
            fields=spec.fields(),
        )
        keys[spec.key] = wo.id


def update_work_order(
    session: Session,
    ids: IdMinter,
    work_order_id: str,
    update: WorkOrderUpdateSpec,
) -> None:
    wo = work_orders_service.get(session, ids.scope, work_order_id)
    work_orders_service.update(session, ids, wo, update.changes(), by="scenario", now=update.at)


def load_applications(
    session: Session,
    ids: IdMinter,
    specs: list[ApplicationSpec],
    keys: dict[str, str],
    *,
    now: dt.datetime,
) -> None:
    for spec in specs:
        resident = session.get(Resident, (ids.scope, keys[spec.resident]))
        assert resident is not None
        app = applicants_service.submit(
            session,
            ids,
            resident,
            unit_id=keys[spec.unit],
            desired_move_in=spec.desired_move_in,
            applicants=[
                applicants_service.NewApplicant(
                    name=a.name,
                    email=a.email,
                    type=a.type,
                    phone=a.phone,
                    monthly_income_cents=a.monthly_income,
                    employer=a.employer,
                )
                for a in spec.applicants
            ],
            now=now,
        )
        if spec.decision is not None:
            applicants_service.screen(session, app, now=now)
            applicants_service.decide(
                session,
                ids,
                app,
                approve=spec.decision == "approve",
                reasons=spec.reasons,
                now=now,
            )
        keys[spec.key] = app.id
