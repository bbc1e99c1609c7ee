"""Wire shapes for residents and leases (issue 3's contract: fields may be added, not renamed)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from portal.core.dates import IsoDate
from portal.core.money import Amount, Cents
from portal.core.pagination import Page
from portal.residents.models import (
    Lease,
    LeaseEvent,
    LeaseStatus,
    PaymentsSetting,
    Resident,
    ResidentStatus,
)

Email = Annotated[str, Field(min_length=3, max_length=200, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Password = Annotated[str, Field(min_length=8, max_length=200)]
ExternalId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^\S(.*\S)?$")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InviteIn(_In):
    name: str = Field(min_length=1, max_length=200)
    email: Email | None = Field(default=None, description="The login; none: status 'waiting'")
    phone: str | None = Field(default=None, max_length=40)
    unit_id: str
    rent: Amount
    due_day: int = Field(default=1, ge=1, le=31, description="Rent due day (defaults to the 1st)")
    start_date: IsoDate = Field(description="Next expected payment, usually the 1st of next month")
    end_date: IsoDate | None = Field(default=None, description="None: month-to-month")
    external_resident_id: ExternalId | None = None

    @model_validator(mode="after")
    def _dates(self) -> InviteIn:
        if self.end_date is not None and self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self


class ResidentPatch(_In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: Email | None = None
    phone: str | None = Field(default=None, max_length=40)
    property_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=40,
        description="Pending or waiting residents only; defaults to the unit's property",
    )
    unit_id: str | None = Field(
        default=None,
        max_length=40,
        description="Pending or waiting residents only: a unit of the property; null: none",
    )


class MergeApproval(_In):
    mode: Literal["merge"]
    merge_with: str = Field(description="The resident already known (with the accounting lease)")


class MergeIn(_In):
    merge_with: str = Field(
        description="The resident whose leases (with the accounting details) move here"
    )


class SyncApproval(_In):
    mode: Literal["sync"]


class ManualApproval(_In):
    mode: Literal["manual"]
    rent: Amount
    lease_start: IsoDate
    lease_end: IsoDate | None = None
    due_day: int = Field(default=1, ge=1, le=31)
    external_resident_id: ExternalId | None = None


Approval = Annotated[MergeApproval | SyncApproval | ManualApproval, Field(discriminator="mode")]


class LeasePatch(_In):
    external_resident_id: ExternalId | None = None
    balance: Amount | None = None
    rent: Amount | None = None
    pay_full_balance_only: bool | None = None
    payments: PaymentsSetting | None = None
    end_date: IsoDate | None = None


class EndLeaseIn(_In):
    uncollected_balance: Amount | None = Field(
        default=None, description="Reported negatively if the resident opted into rent reporting"
    )


class SignupIn(_In):
    email: Email
    password: Password
    name: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    property_id: str
    unit_id: str | None = Field(default=None, description="None: UNASSIGNED")
    workspace_id: str | None = Field(
        default=None, description="Needed only when the property ID exists in several workspaces"
    )


class ResidentLoginIn(_In):
    email: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=200)
    workspace_id: str | None = None


class AcceptIn(_In):
    password: Password


class ResidentSession(BaseModel):
    resident_id: str
    workspace_id: str
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime
    status: ResidentStatus


class ResidentRead(BaseModel):
    id: str
    name: str
    email: str | None
    phone: str | None
    status: ResidentStatus
    lease_ids: list[str]
    property_id: str | None
    unit_id: str | None
    flagged_reason: str | None = Field(
        default=None, description="Set by an unauthorized ACH return (R05, R07, R10, ...)"
    )
    flagged_at: datetime | None = None
    created_at: datetime

    @classmethod
    def of(cls, r: Resident, lease_ids: list[str]) -> ResidentRead:
        return cls(
            id=r.id,
            name=r.name,
            email=r.email,
            phone=r.phone,
            status=r.status,
            lease_ids=lease_ids,
            property_id=r.property_id,
            unit_id=r.unit_id,
            flagged_reason=r.flagged_reason,
            flagged_at=r.flagged_at,
            created_at=r.created_at,
        )


ResidentPage = Page[ResidentRead]


class LeaseEventRead(BaseModel):
    kind: str
    at: datetime
    data: dict[str, Any]


class LeaseRead(BaseModel):
    id: str
    unit_id: str
    status: LeaseStatus
    resident_ids: list[str]
    rent: Cents
    balance: Cents
    disputed: Cents = Field(description="Part of the balance under dispute")
    payable_balance: Cents = Field(description="What the resident may pay: balance - disputed")
    due_day: int
    start_date: date
    end_date: date | None
    external_resident_id: str | None
    payments: PaymentsSetting = Field(description="The portal's switch")
    accounting_payments: PaymentsSetting | None = Field(description="The accounting flag")
    effective_payments: PaymentsSetting = Field(description="The stricter of the two")
    pay_full_balance_only: bool
    uncollected_balance: Cents | None
    created_at: datetime
    ended_at: datetime | None
    history: list[LeaseEventRead] | None = None

    @classmethod
    def of(
        cls,
        lease: Lease,
        resident_ids: list[str],
        effective: PaymentsSetting,
        history: list[LeaseEvent] | None = None,
    ) -> LeaseRead:
        return cls(
            id=lease.id,
            unit_id=lease.unit_id,
            status=lease.status,
            resident_ids=resident_ids,
            rent=lease.rent_cents,
            balance=lease.balance_cents,
            disputed=lease.disputed_cents,
            payable_balance=max(lease.balance_cents - lease.disputed_cents, 0),
            due_day=lease.due_day,
            start_date=lease.start_date,
            end_date=lease.end_date,
            external_resident_id=lease.external_resident_id,
            payments=lease.payments,
            accounting_payments=lease.accounting_payments,
            effective_payments=effective,
            pay_full_balance_only=lease.pay_full_balance_only,
            uncollected_balance=lease.uncollected_balance_cents,
            created_at=lease.created_at,
            ended_at=lease.ended_at,
            history=None
            if history is None
            else [LeaseEventRead(kind=e.kind, at=e.at, data=e.data) for e in history],
        )


LeasePage = Page[LeaseRead]
