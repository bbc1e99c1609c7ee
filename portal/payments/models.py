"""Payment sources, payments, recurring schedules and deposit batches (domain.md §4-§5, §11).

A payment's status follows ``PAYMENT_TRANSITIONS``: ``scheduled`` (a future date was chosen)
-> ``processing`` (made; in an open or closed deposit batch) -> ``completed`` (its batch was
deposited). Reversals (the next issue) add ``cancelled``, ``refunded``, ``returned`` and
``charged_back``. Labels are the resident-facing words of RentTrack (domain.md §11: ``new`` is
shown PENDING, ``pending`` PROCESSING, ``complete`` PAID).

A deposit batch is one bank deposit: one per deposit account, kind and business date
(domain.md §5.1, §11: ``<deposit account>B<YYYYMMDD>``). Its ``total_cents`` and
``item_count`` are kept equal to the sums of its items by every statement that adds an item
(``portal check`` verifies it, architecture.md §11).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKeyConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from portal.db import StrEnumType, UTCDateTime
from portal.properties.models import DepositAccountType


class SourceType(StrEnum):
    BANK_ACCOUNT = "bank_account"
    CARD = "card"


class SourceStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"
    """Disabled by an ACH return (R02/R03/R04); payments with it are refused."""


class CardFunding(StrEnum):
    CREDIT = "credit"
    DEBIT = "debit"
    """A PINless debit card: its payments have the earlier cut-off (domain.md §4.2)."""


class PaymentSource(SQLModel, table=True):
    """How a resident pays. Cards keep only brand, last 4 and expiry; bank accounts keep the
    routing number and last 4. ``magic`` remembers a sandbox magic value (architecture.md §8)
    so the full number never has to be stored."""

    __tablename__ = "payment_source"
    __table_args__ = (
        ForeignKeyConstraint(
            ["workspace_id", "resident_id"], ["resident.workspace_id", "resident.id"]
        ),
        Index("ix_payment_source_resident", "workspace_id", "resident_id"),
    )

    workspace_id: str = Field(foreign_key="workspace.id", primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=40)
    resident_id: str = Field(max_length=40)
    type: SourceType = Field(sa_type=StrEnumType(SourceType))
    last4: str = Field(max_length=4)
    status: SourceStatus = Field(sa_type=StrEnumType(SourceStatus))
    disabled_reason: str | None = Field(default=None, max_length=200)
    routing_number: str | None = Field(default=None, max_length=9)
    brand: str | None = Field(default=None, max_length=20)
    funding: CardFunding | None = Field(default=None, sa_type=StrEnumType(CardFunding))
    exp_month: int | None = None
    exp_year: int | None = None
    #: A sandbox magic value: ``declined``, ``chargeback``, ``return_after:R01`` or
    #: ``return_before:R01``; None for an ordinary source.
    magic: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(sa_type=UTCDateTime)


class PaymentType(StrEnum):
    RENT = "rent"
    SECURITY_DEPOSIT = "security_deposit"
    APPLICATION_FEE = "application_fee"

    @property
    def account_type(self) -> DepositAccountType:
        return DepositAccountType(self.value)


class PaymentStatus(StrEnum):
    SCHEDULED = "scheduled"
    PROCESSING = "processing"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    RETURNED = "returned"
    CHARGED_BACK = "charged_back"


#: What the resident and landlord screens show for each status (domain.md §4.3, §11).
PAYMENT_LABELS: dict[PaymentStatus, str] = {
    PaymentStatus.SCHEDULED: "Pending",
    PaymentStatus.PROCESSING: "Processing",
    PaymentStatus.COMPLETED: "Paid",
    PaymentStatus.CANCELLED: "Cancelled",
    PaymentStatus.REFUNDED: "Refunded",
    PaymentStatus.RETURNED: "Returned",
    PaymentStatus.CHARGED_BACK: "Charged back",
}

PAYMENT_TRANSITIONS: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    PaymentStatus.SCHEDULED: frozenset({PaymentStatus.PROCESSING, PaymentStatus.CANCELLED}),
    PaymentStatus.PROCESSING: frozenset(
        {
            PaymentStatus.COMPLETED,
            PaymentStatus.CANCELLED,
            PaymentStatus.RETURNED,
            PaymentStatus.CHARGED_BACK,
        }
    ),
    PaymentStatus.COMPLETED: frozenset(
        {PaymentStatus.REFUNDED, PaymentStatus.RETURNED, PaymentStatus.CHARGED_BACK}
    ),
    PaymentStatus.CANCELLED: frozenset(),
    PaymentStatus.REFUNDED: frozenset(),
    PaymentStatus.RETURNED: frozenset(),
    PaymentStatus.CHARGED_BACK: frozenset(),
}


class Payment(SQLModel, table=True):
    __tablename__ = "payment"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id", "lease_id"], ["lease.workspace_id", "lease.id"]),
        UniqueConstraint("workspace_id", "transaction_id"),
        Index("ix_payment_batch", "workspace_id", "deposit_batch_id"),
        Index("ix_payment_resident_day", "workspace_id", "resident_id", "business_date"),
        Index("ix_payment_lease", "workspace_id", "lease_id", "business_date"),
        Index("ix_payment_status_date", "workspace_id", "status", "scheduled_for"),
    )

    workspace_id: str = Field(foreign_key="workspace.id", primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=40)
    #: The 12-digit number landlords and accounting clients see ("Trans #...").
    transaction_id: str = Field(max_length=12)
    lease_id: str = Field(max_length=40)
    resident_id: str = Field(max_length=40)
    property_id: str = Field(max_length=40)
    unit_id: str = Field(max_length=40)
    source_id: str = Field(max_length=40)
    method: SourceType = Field(sa_type=StrEnumType(SourceType))
    type: PaymentType = Field(sa_type=StrEnumType(PaymentType))
    amount_cents: int = Field(sa_type=BigInteger)
    status: PaymentStatus = Field(sa_type=StrEnumType(PaymentStatus))
    #: The banking day whose batch the payment joins (domain.md §4.2); for a scheduled
    #: payment, the one it will get when it runs.
    business_date: date
    #: The day the resident chose (a scheduled payment runs at the start of it).
    scheduled_for: date
    deposit_account_id: str = Field(max_length=40)
    deposit_batch_id: str | None = Field(default=None, max_length=16)
    recurring_id: str | None = Field(default=None, max_length=40)
    #: When the resident (or a schedule) initiated it: the report's "date initiated".
    initiated_at: datetime = Field(sa_type=UTCDateTime)
    processed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)


class RecurringStatus(StrEnum):
    ACTIVE = "active"
    ENDED = "ended"
    """Past its end month."""
    CANCELLED = "cancelled"
    """Stopped by the resident."""
    RETURNED = "returned"
    """Closed because one of its payments came back (domain.md §11 ``recurring_returned``)."""


class RecurringPayment(SQLModel, table=True):
    """ "Charge this payment on the __ of every month" (domain.md §4.4): a fixed amount."""

    __tablename__ = "recurring_payment"
    __table_args__ = (
        ForeignKeyConstraint(["workspace_id", "lease_id"], ["lease.workspace_id", "lease.id"]),
        Index("ix_recurring_due", "workspace_id", "status", "next_date"),
    )

    workspace_id: str = Field(foreign_key="workspace.id", primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=40)
    lease_id: str = Field(max_length=40)
    resident_id: str = Field(max_length=40)
    source_id: str = Field(max_length=40)
    type: PaymentType = Field(sa_type=StrEnumType(PaymentType))
    amount_cents: int = Field(sa_type=BigInteger)
    day_of_month: int
    #: Last month charged, as the first of that month; None: until stopped.
    end_month: date | None = None
    #: The next day it charges (day_of_month, or the month's last day in a shorter month).
    next_date: date | None = None
    status: RecurringStatus = Field(sa_type=StrEnumType(RecurringStatus))
    last_payment_id: str | None = Field(default=None, max_length=40)
    created_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class BatchKind(StrEnum):
    DEPOSIT = "deposit"
    REVERSAL = "reversal"


class BatchStatus(StrEnum):
    OPEN = "open"
    """Filling during its business date."""
    CLOSED = "closed"
    """Closed at the cut-off; waiting for its deposit date."""
    DEPOSITED = "deposited"
    """Funds reached the landlord's bank on the deposit date."""


BATCH_TRANSITIONS: dict[BatchStatus, frozenset[BatchStatus]] = {
    BatchStatus.OPEN: frozenset({BatchStatus.CLOSED}),
    BatchStatus.CLOSED: frozenset({BatchStatus.DEPOSITED}),
    BatchStatus.DEPOSITED: frozenset(),
}


class DepositBatch(SQLModel, table=True):
    __tablename__ = "deposit_batch"
    __table_args__ = (
        UniqueConstraint("workspace_id", "deposit_account_id", "kind", "business_date"),
        Index("ix_deposit_batch_status", "workspace_id", "status", "business_date"),
        Index("ix_deposit_batch_deposit_date", "workspace_id", "deposit_date"),
    )

    workspace_id: str = Field(foreign_key="workspace.id", primary_key=True, max_length=64)
    #: 16 digits, as Landlord 12 shows them (domain.md §5.3).
    id: str = Field(primary_key=True, max_length=16)
    kind: BatchKind = Field(sa_type=StrEnumType(BatchKind))
    status: BatchStatus = Field(sa_type=StrEnumType(BatchStatus))
    deposit_account_id: str = Field(max_length=40)
    deposit_type: DepositAccountType = Field(sa_type=StrEnumType(DepositAccountType))
    business_date: date
    deposit_date: date
    total_cents: int = Field(default=0, sa_type=BigInteger)
    item_count: int = 0
    created_at: datetime = Field(sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    deposited_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PaymentAlert(SQLModel, table=True):
    """A late or insufficient-payment alert already sent: at most one per lease, kind and
    month (issue 5)."""

    __tablename__ = "payment_alert"

    workspace_id: str = Field(foreign_key="workspace.id", primary_key=True, max_length=64)
    lease_id: str = Field(primary_key=True, max_length=40)
    kind: str = Field(primary_key=True, max_length=16)
    month: date = Field(primary_key=True)
    payment_id: str | None = Field(default=None, max_length=40)
    sent_at: datetime = Field(sa_type=UTCDateTime)
