"""Applications and their applicants (domain.md §8.5; seed 004 "Retrieve Applicants").

An application follows ``APPLICATION_TRANSITIONS``: ``submitted -> screening -> approved |
denied``. Only approved applications' applicants reach the accounting client, typed
``Applicant`` or ``Co-Applicant``. Once the client accepts one (``accepted_at``), its feed
record is frozen (``snapshot``): "once accepted, an applicant never changes on Inosio", so the
portal refuses later edits (409 ``applicant_frozen``).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index
from sqlmodel import Field, SQLModel

from portal.core.db import StrEnumType, UTCDateTime


class ApplicationStatus(StrEnum):
    SUBMITTED = "submitted"
    SCREENING = "screening"
    APPROVED = "approved"
    DENIED = "denied"


APPLICATION_TRANSITIONS: dict[ApplicationStatus, frozenset[ApplicationStatus]] = {
    ApplicationStatus.SUBMITTED: frozenset({ApplicationStatus.SCREENING}),
    ApplicationStatus.SCREENING: frozenset({ApplicationStatus.APPROVED, ApplicationStatus.DENIED}),
    ApplicationStatus.APPROVED: frozenset(),
    ApplicationStatus.DENIED: frozenset(),
}


class ApplicantType(StrEnum):
    APPLICANT = "Applicant"
    CO_APPLICANT = "Co-Applicant"


class Application(SQLModel, table=True):
    __tablename__ = "application"

    workspace_id: str = Field(foreign_key="workspace.id", primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=40)
    #: The resident (an account, usually a prospect) who submitted it.
    resident_id: str = Field(max_length=40)
    property_id: str = Field(max_length=40)
    unit_id: str = Field(max_length=40)
    desired_move_in: date
    status: ApplicationStatus = Field(sa_type=StrEnumType(ApplicationStatus))
    #: Adverse-action reasons of a denial (domain.md §8.5: "Deny requires adverse-action
    #: reasons").
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    submitted_at: datetime = Field(sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class Applicant(SQLModel, table=True):
    __tablename__ = "applicant"
    __table_args__ = (
        Index("ix_applicant_application", "workspace_id", "application_id"),
        Index("ix_applicant_modified", "workspace_id", "modified_seq"),
    )

    workspace_id: str = Field(foreign_key="workspace.id", primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=40)
    application_id: str = Field(max_length=40)
    #: 0 for the primary applicant, then the co-applicants in the order given.
    position: int
    type: ApplicantType = Field(sa_type=StrEnumType(ApplicantType, length=16))
    name: str = Field(max_length=200)
    email: str = Field(max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    monthly_income_cents: int | None = Field(default=None, sa_type=BigInteger)
    employer: str | None = Field(default=None, max_length=200)
    #: When the accounting client accepted it ("Accept Applicant and Create a Tenant Profile").
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: The feed record as it was when accepted; served from then on.
    snapshot: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    last_modified: datetime = Field(sa_type=UTCDateTime)
    #: The workspace's applicant sequence at the last change: the feed's order and cursor.
    modified_seq: int = Field(sa_type=BigInteger)
