"""Residents, leases and what accounting clients have told us about them (domain.md §2).

Resident statuses are the portal's own (domain.md §2.2, [H:1367315]); ``RESIDENT_TRANSITIONS``
and the merge's retirement path ``RESIDENT_MERGE_RETIREMENT`` are the whole lifecycle. A lease
links one or more residents to a unit. Whether a lease may pay is the stricter of the portal's
switch and the accounting system's flag (domain.md §2.7).
``AccountingRecord`` holds the latest row an accounting client sent for a resident (balance
intake fills it); approving "by sync" matches a pending resident against it (domain.md §2.3).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, ForeignKeyConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from portal.core.db import StrEnumType, UTCDateTime


class ResidentStatus(StrEnum):
    WAITING = "waiting"
    """No e-mail on file; an invitation goes out once one is added."""
    INVITE = "invite"
    """Invitation sent; the resident has not created an account yet."""
    PENDING = "pending"
    """Signed up on their own; awaits the landlord's approval."""
    APPROVED = "approved"
    """Has an account and may pay; no payment made yet."""
    CURRENT = "current"
    """Paying through the portal."""
    FINISHED = "finished"
    """Moved out (lease ended); can no longer pay."""
    DELETED = "deleted"
    """Removed by the landlord or merged into another resident; never listed."""


RESIDENT_TRANSITIONS: dict[ResidentStatus, frozenset[ResidentStatus]] = {
    ResidentStatus.WAITING: frozenset(
        {
            ResidentStatus.INVITE,
            ResidentStatus.APPROVED,
            ResidentStatus.DELETED,
            ResidentStatus.FINISHED,
        }
    ),
    ResidentStatus.INVITE: frozenset(
        {ResidentStatus.APPROVED, ResidentStatus.DELETED, ResidentStatus.FINISHED}
    ),
    ResidentStatus.PENDING: frozenset({ResidentStatus.APPROVED, ResidentStatus.DELETED}),
    ResidentStatus.APPROVED: frozenset({ResidentStatus.CURRENT, ResidentStatus.FINISHED}),
    ResidentStatus.CURRENT: frozenset({ResidentStatus.FINISHED}),
    ResidentStatus.FINISHED: frozenset(),
    ResidentStatus.DELETED: frozenset(),
}

#: The merge's retirement path, the one way into ``deleted`` besides the table above: a
#: resident merged into the one being approved is retired whatever its state, once it has
#: logged in and paid too (seed S3 "merge the lease details from your accounting system to
#: the resident you are approving"; domain.md §2.4). ``service.set_status(...,
#: merged_into=...)`` takes it; the landlord's red "x" never does (domain.md §2.6).
RESIDENT_MERGE_RETIREMENT: frozenset[ResidentStatus] = frozenset(
    {
        ResidentStatus.WAITING,
        ResidentStatus.INVITE,
        ResidentStatus.APPROVED,
        ResidentStatus.CURRENT,
    }
)


class PaymentsSetting(StrEnum):
    ALLOWED = "allowed"
    """Any method."""
    CASH_EQUIVALENT = "cash_equivalent"
    """Card or other guaranteed funds only; no bank debits."""
    BLOCKED = "blocked"
    """No online payments."""


#: Strictness order: the stricter of the portal's and the accounting system's flag wins.
PAYMENTS_STRICTNESS = {
    PaymentsSetting.ALLOWED: 0,
    PaymentsSetting.CASH_EQUIVALENT: 1,
    PaymentsSetting.BLOCKED: 2,
}


class LeaseStatus(StrEnum):
    ACTIVE = "active"
    """Residents on it may pay (subject to the payments setting)."""
    FINISHED = "finished"
    """Ended by the landlord; cannot be reopened."""
    REMOVED = "removed"
    """Removed with a deleted invited/waiting resident ("yes, remove lease")."""


#: A lease ends once: finished by the landlord, or removed with its deleted resident
#: (domain.md §2.6); it is never reopened.
LEASE_TRANSITIONS: dict[LeaseStatus, frozenset[LeaseStatus]] = {
    LeaseStatus.ACTIVE: frozenset({LeaseStatus.FINISHED, LeaseStatus.REMOVED}),
    LeaseStatus.FINISHED: frozenset(),
    LeaseStatus.REMOVED: frozenset(),
}


class Resident(SQLModel, table=True):
    __tablename__ = "resident"
    __table_args__ = (
        Index("ix_resident_workspace_status", "workspace_id", "status"),
        Index("ix_resident_email", "email"),
    )

    workspace_id: str = Field(foreign_key="workspace.id", primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    status: ResidentStatus = Field(sa_type=StrEnumType(ResidentStatus))
    status_changed_at: datetime = Field(sa_type=UTCDateTime)
    #: Set once the resident has an account (accepted an invitation or signed up).
    password_hash: str | None = Field(default=None, max_length=300)
    #: The SHA-256 (hex) of the invitation code e-mailed to the resident, never the code
    #: itself (``service.invite_digest``); globally unique (accept has no workspace).
    invite_code: str | None = Field(default=None, max_length=64, unique=True)
    #: Where a self-signed-up resident says they live (the property/unit they picked).
    property_id: str | None = Field(default=None, max_length=40)
    unit_id: str | None = Field(default=None, max_length=40)
    #: After a merge: the resident this one became (its ID then answers 404 with a pointer).
    merged_into: str | None = Field(default=None, max_length=40)
    #: Set by the payments feature on the first payment; such residents cannot be deleted.
    has_paid: bool = False
    #: Set by an "unauthorized" ACH return (R05, R07, R10, R11, R29, R51: formats.md §3.3):
    #: the resident is flagged for the landlord's review and their autopay stopped.
    flagged_reason: str | None = Field(default=None, max_length=250)
    flagged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)


class Lease(SQLModel, table=True):
    __tablename__ = "lease"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id", "unit_id"], ["unit.workspace_id", "unit.id"]),
        # A lease ID is unique in its scope: the whole workspace ("") for a client that
        # sends its own resident IDs; the unit for AMSI, whose ResiID is unique only within
        # a unit (connectors.md §0.6), when the AMSI import created the lease.
        UniqueConstraint("workspace_id", "external_scope", "external_resident_id"),
    )

    workspace_id: str = Field(foreign_key="workspace.id", primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=40)
    unit_id: str = Field(max_length=40, index=True)
    status: LeaseStatus = Field(sa_type=StrEnumType(LeaseStatus))
    rent_cents: int = Field(sa_type=BigInteger)
    #: Day of the month rent is due (domain.md §2.1: defaults to the 1st).
    due_day: int = 1
    start_date: date
    #: None: month-to-month ("End Lease When Canceled").
    end_date: date | None = None
    #: The accounting system's resident ID (Yardi t-code, AMSI ResiID, ...); unique per workspace.
    external_resident_id: str | None = Field(default=None, max_length=64)
    #: Where ``external_resident_id`` is unique: "" (the workspace) or, for a lease the AMSI
    #: import created, the unit's AMSI key ``PropertyId|BldgID|UnitID`` (connectors.md §1.8).
    external_scope: str = Field(default="", max_length=64)
    payments: PaymentsSetting = Field(sa_type=StrEnumType(PaymentsSetting))
    #: The accounting system's flag, when an integration supplies it.
    accounting_payments: PaymentsSetting | None = Field(
        default=None, sa_type=StrEnumType(PaymentsSetting)
    )
    pay_full_balance_only: bool = False
    balance_cents: int = Field(default=0, sa_type=BigInteger)
    #: Part of the balance under dispute: excluded from what the resident may pay (domain.md §3).
    disputed_cents: int = Field(default=0, sa_type=BigInteger)
    move_in: date | None = None
    #: When the balance was last set (by the landlord or an accounting client).
    balance_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    uncollected_balance_cents: int | None = Field(default=None, sa_type=BigInteger)
    #: The balance as last set from outside (the landlord, an accounting client, a scenario)
    #: and the workspace ledger sequence number of that moment: since then only completions
    #: and reversals of this lease's payments have moved ``balance_cents`` (architecture.md
    #: §11, checked by ``portal check``).
    balance_basis_cents: int = Field(default=0, sa_type=BigInteger)
    balance_basis_seq: int = Field(default=0, sa_type=BigInteger)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)


class LeaseResident(SQLModel, table=True):
    __tablename__ = "lease_resident"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id", "lease_id"], ["lease.workspace_id", "lease.id"]),
        ForeignKeyConstraint(
            ["workspace_id", "resident_id"], ["resident.workspace_id", "resident.id"]
        ),
    )

    workspace_id: str = Field(foreign_key="workspace.id", primary_key=True, max_length=64)
    lease_id: str = Field(primary_key=True, max_length=40)
    resident_id: str = Field(primary_key=True, max_length=40, index=True)


class LeaseEvent(SQLModel, table=True):
    """A lease's history: created, changed, merged, ended. Append-only."""

    __tablename__ = "lease_event"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id", "lease_id"], ["lease.workspace_id", "lease.id"]),
        Index("ix_lease_event_lease", "workspace_id", "lease_id", "seq"),
    )

    workspace_id: str = Field(foreign_key="workspace.id", primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=40)
    lease_id: str = Field(max_length=40)
    seq: int
    kind: str = Field(max_length=32)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    at: datetime = Field(sa_type=UTCDateTime)


class AccountingRecord(SQLModel, table=True):
    """The latest record an accounting client sent for one of its residents."""

    __tablename__ = "accounting_record"
    __table_args__ = (UniqueConstraint("workspace_id", "external_resident_id"),)

    workspace_id: str = Field(foreign_key="workspace.id", primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=40)
    integration_id: str | None = Field(default=None, max_length=40)
    external_resident_id: str = Field(max_length=64)
    external_property_id: str = Field(max_length=64)
    external_unit_id: str = Field(max_length=64)
    name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    rent_cents: int = Field(sa_type=BigInteger)
    balance_cents: int = Field(sa_type=BigInteger)
    disputed_cents: int = Field(default=0, sa_type=BigInteger)
    property_address: str = Field(default="", max_length=200)
    unit_name: str = Field(default="", max_length=100)
    move_in: date | None = None
    lease_start: date | None = None
    lease_end: date | None = None
    payment_accepted: PaymentsSetting = Field(sa_type=StrEnumType(PaymentsSetting))
    pay_full_balance_only: bool = False
    received_at: datetime = Field(sa_type=UTCDateTime)
