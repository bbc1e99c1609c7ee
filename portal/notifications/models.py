"""Sent e-mails. Append-only; ``seq`` keeps the order in which they were sent, since many are
sent at one frozen workspace instant."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel

from portal.core.db import StrEnumType, UTCDateTime


class EmailKind(StrEnum):
    INVITATION = "invitation"
    """"Your property manager is inviting you to pay online", with an invite code."""
    PENDING_APPROVAL = "pending_approval"
    """To landlord users: a self-signed-up resident awaits approval."""
    PENDING_REMINDER = "pending_reminder"
    """To landlord users, each banking day while a resident stays pending."""
    APPROVED = "approved"
    """To the resident: approved, can pay online."""
    DELETED = "deleted"
    """To the resident: removed by the property manager."""
    MERGED = "merged"
    """To a resident merged into another: their lease now belongs to that account (seed S3)."""
    LEASE_MERGED = "lease_merged"
    """To an approved resident who received a merged lease after their approval (seed S3)."""
    LEASE_ENDED = "lease_ended"
    """To the resident: the lease was ended; online payments stop."""
    PAYMENT_RECEIPT = "payment_receipt"
    """To the resident: "Rent Payment Initiated", the receipt of a payment (domain.md §4.3)."""
    PAYMENT_SCHEDULED = "payment_scheduled"
    """To the resident: a payment was scheduled for a future date."""
    PAYMENT_SKIPPED = "payment_skipped"
    """To the resident: a scheduled or recurring payment could not be made, and why."""
    INSUFFICIENT_PAYMENT = "insufficient_payment"
    """To landlord users: a rent payment below the rent (domain.md §4.5)."""
    LATE_PAYMENT = "late_payment"
    """To landlord users: no rent payment by the due day plus grace (domain.md §4.5)."""
    BATCH_DEPOSIT_REPORT = "batch_deposit_report"
    """To landlord users at 07:00 ET on a deposit date (domain.md §5.3, §11)."""
    PAYMENT_CANCELLED = "payment_cancelled"
    """To the resident and every landlord user: a payment was voided or cancelled (§9.2)."""
    REFUND_PROCESSING = "refund_processing"
    """To the resident and the landlord users: "refund is processing" (domain.md §6.3)."""
    PAYMENT_RETURNED = "payment_returned"
    """To the resident and the landlord users on the day of an ACH return (domain.md §6.4)."""
    CHARGEBACK_RECEIVED = "chargeback_received"
    """To the landlord users: a card payment was charged back (domain.md §6.5)."""
    DISPUTE_CLOSED = "dispute_closed"
    """To the landlord users: a chargeback's dispute was won or lost."""
    WORK_ORDER_CREATED = "work_order_created"
    """To the landlord users: a new work order (domain.md §8.4)."""
    CONNECTOR_FAILURE = "connector_failure"
    """To the landlord users: a posting to the accounting system was refused or could not be
    delivered (issue 16)."""
    WEBHOOK_DISABLED = "webhook_disabled"
    """To the landlord users: a webhook endpoint was disabled after its deliveries kept failing
    (issue 20)."""
    CONNECTOR_NOTICE = "connector_notice"
    """To the landlord users: a payment the portal posted to MRI was voided, or a reversal is
    not posted, and must be entered by hand in MRI (issue 17; seed 002)."""
    WORK_ORDER_STATUS = "work_order_status"
    """To the tenant: their work order's status changed."""
    APPLICATION_RECEIVED = "application_received"
    """To the landlord users: a rental application was submitted."""
    APPLICATION_APPROVED = "application_approved"
    """To each applicant: the application was approved (domain.md §8.5)."""
    ADVERSE_ACTION = "adverse_action"
    """To each applicant: the denial letter with its adverse-action reasons (domain.md §8.5)."""


class Email(SQLModel, table=True):
    __tablename__ = "email"
    __table_args__ = (Index("ix_email_workspace_seq", "workspace_id", "seq"),)

    workspace_id: str = Field(foreign_key="workspace.id", primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=40)
    seq: int
    to: str = Field(max_length=200, index=True)
    subject: str = Field(max_length=300)
    kind: EmailKind = Field(sa_type=StrEnumType(EmailKind))
    body: str = Field(default="", max_length=4000)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    sent_at: datetime = Field(sa_type=UTCDateTime)


class EmailAttachment(SQLModel, table=True):
    """A file sent with an e-mail (the lockbox files of a Batch Deposit Report)."""

    __tablename__ = "email_attachment"

    workspace_id: str = Field(foreign_key="workspace.id", primary_key=True, max_length=64)
    email_id: str = Field(primary_key=True, max_length=40)
    n: int = Field(primary_key=True)
    filename: str = Field(max_length=200)
    content_type: str = Field(max_length=100)
    content: str = Field(sa_type=Text)
