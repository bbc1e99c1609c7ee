"""Wire shapes of applications and applicants (issue 8's contract: fields may be added, not
renamed)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from portal.applicants.models import Applicant, ApplicantType, Application, ApplicationStatus
from portal.core.dates import IsoDate
from portal.core.money import Amount, Cents, format_cents
from portal.core.pagination import Page
from portal.properties.models import Property, Unit


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ApplicantIn(_In):
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(min_length=3, max_length=200, pattern=r"^[^@\s]+@[^@\s]+$")
    type: ApplicantType = ApplicantType.APPLICANT
    phone: str | None = Field(default=None, max_length=40)
    monthly_income: Amount | None = None
    employer: str | None = Field(default=None, max_length=200)


class ApplicationIn(_In):
    unit_id: str = Field(max_length=40)
    desired_move_in: IsoDate
    applicants: list[ApplicantIn] = Field(
        min_length=1, max_length=10, description="The Applicant first, then Co-Applicants"
    )


class DecisionIn(_In):
    decision: Literal["approve", "deny"]
    reasons: list[str] = Field(
        default_factory=list, max_length=20, description="Adverse-action reasons (a denial)"
    )


class ApplicationPatch(_In):
    desired_move_in: IsoDate | None = None


class ApplicantPatch(_In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: str | None = Field(
        default=None, min_length=3, max_length=200, pattern=r"^[^@\s]+@[^@\s]+$"
    )
    phone: str | None = Field(default=None, max_length=40)
    monthly_income: Amount | None = None
    employer: str | None = Field(default=None, max_length=200)

    def changes(self) -> dict[str, Any]:
        out = self.model_dump(exclude_unset=True)
        # An applicant always has a name and an e-mail: null keeps them, as left out does (a
        # null e-mail was a 500, a null name a 409 from the database's NOT NULL).
        for name in ("name", "email"):
            if name in out and out[name] is None:
                del out[name]
        if "monthly_income" in out:
            out["monthly_income_cents"] = out.pop("monthly_income")
        return out


class ApplicantRead(BaseModel):
    id: str
    type: ApplicantType
    name: str
    email: str
    phone: str | None
    monthly_income: Cents | None
    employer: str | None
    accepted: bool = Field(description="The accounting client accepted it: frozen")
    accepted_at: datetime | None
    last_modified: datetime

    @classmethod
    def of(cls, p: Applicant) -> ApplicantRead:
        return cls(
            id=p.id,
            type=p.type,
            name=p.name,
            email=p.email,
            phone=p.phone,
            monthly_income=p.monthly_income_cents,
            employer=p.employer,
            accepted=p.accepted_at is not None,
            accepted_at=p.accepted_at,
            last_modified=p.last_modified,
        )


class ApplicationRead(BaseModel):
    id: str
    status: ApplicationStatus
    unit_id: str
    property_id: str
    resident_id: str
    desired_move_in: date
    reasons: list[str]
    submitted_at: datetime
    decided_at: datetime | None
    applicants: list[ApplicantRead]

    @classmethod
    def of(cls, a: Application, people: list[Applicant]) -> ApplicationRead:
        return cls(
            id=a.id,
            status=a.status,
            unit_id=a.unit_id,
            property_id=a.property_id,
            resident_id=a.resident_id,
            desired_move_in=a.desired_move_in,
            reasons=a.reasons,
            submitted_at=a.submitted_at,
            decided_at=a.decided_at,
            applicants=[ApplicantRead.of(p) for p in people],
        )


ApplicationPage = Page[ApplicationRead]


class FeedApplicant(BaseModel):
    """An approved applicant as the accounting client retrieves it."""

    id: str
    application_id: str
    type: ApplicantType
    name: str
    email: str
    status: ApplicationStatus
    accepted: bool
    accepted_at: datetime | None = None
    phone: str | None = None
    monthly_income: str | None = Field(default=None, description="Two-decimal string")
    employer: str | None = None
    desired_move_in: date
    property_id: str | None = Field(description="The accounting system's property ID")
    unit_id: str | None = Field(description="The accounting system's unit ID")
    unit_name: str
    primary_applicant_id: str = Field(description="The application's Applicant")
    last_modified: datetime


FeedPage = Page[FeedApplicant]


def feed_applicant(
    p: Applicant, a: Application, primary_id: str, prop: Property, unit: Unit
) -> FeedApplicant:
    """The live record, or for an accepted applicant the record as accepted (frozen)."""
    if p.snapshot is not None:
        return FeedApplicant.model_validate(p.snapshot)
    return FeedApplicant(
        id=p.id,
        application_id=a.id,
        type=p.type,
        name=p.name,
        email=p.email,
        status=a.status,
        accepted=False,
        phone=p.phone,
        monthly_income=format_cents(p.monthly_income_cents)
        if p.monthly_income_cents is not None
        else None,
        employer=p.employer,
        desired_move_in=a.desired_move_in,
        property_id=prop.external_id,
        unit_id=unit.external_id,
        unit_name=unit.name,
        primary_applicant_id=primary_id,
        last_modified=p.last_modified,
    )
