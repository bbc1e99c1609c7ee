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

from portal.core.db import StrEnumType, UTCDateTime
from portal.properties.models import DepositAccountType


class SourceType(StrEnum):
    BANK_ACCOUNT = "bank_account"
    CARD = "card"


class SourceStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"
    """Disabled by an ACH return (R02/R03/R04); payments with it are refused."""


#: R02/R03/R04 disable a source for good (domain.md §6.3).
SOURCE_TRANSITIONS: dict[SourceStatus, frozenset[SourceStatus]] = {
    SourceStatus.ACTIVE: frozenset({SourceStatus.DISABLED}),
    SourceStatus.DISABLED: frozenset(),
}


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
        # The daily magic-value run starts from the (few) magic sources.
        Index("ix_payment_source_magic", "workspace_id", "magic"),
    )

    workspace_id: str = Field(foreign_key="workspace.id", primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=40)
    resident_id: str = Field(max_length=40)
    type: SourceType = Field(sa_type=StrEnumType(SourceType))
    last4: str = Field(max_length=4)
    status: SourceStatus = Field(sa_type=StrEnumType(SourceStatus))
    disabled_reason: str | None = Field(default=None, max_length=250)
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

#: The moves a payment may make (domain.md §4.3, §6; RentTrack's order statuses, domain.md §11).
#: ``charged_back -> completed``: a won dispute puts the money back with the landlord.
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
    PaymentStatus.CHARGED_BACK: frozenset({PaymentStatus.COMPLETED}),
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
        Index("ix_payment_source", "workspace_id", "source_id"),
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
    #: The workspace's ledger sequence number of the completion that lowered an integrated
    #: lease's balance (``portal check`` replays balances in this order); None otherwise.
    completed_seq: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = Field(sa_type=UTCDateTime)


class RecurringStatus(StrEnum):
    ACTIVE = "active"
    ENDED = "ended"
    """Past its end month."""
    CANCELLED = "cancelled"
    """Stopped by the resident."""
    RETURNED = "returned"
    """Closed because one of its payments came back (domain.md §11 ``recurring_returned``)."""


#: A schedule ends once, whichever way (domain.md §4.4, §11 ``recurring_returned``).
RECURRING_TRANSITIONS: dict[RecurringStatus, frozenset[RecurringStatus]] = {
    RecurringStatus.ACTIVE: frozenset(
        {RecurringStatus.ENDED, RecurringStatus.CANCELLED, RecurringStatus.RETURNED}
    ),
    RecurringStatus.ENDED: frozenset(),
    RecurringStatus.CANCELLED: frozenset(),
    RecurringStatus.RETURNED: frozenset(),
}


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
        Index("ix_deposit_batch_seq", "workspace_id", "seq"),
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
    #: Creation order in the workspace: receipt-batch lists go newest last by it (the clock may
    #: stand still, so instants do not order batches).
    seq: int = Field(default=0, sa_type=BigInteger)
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


class ReversalKind(StrEnum):
    """How money comes back (domain.md §6.1)."""

    VOID = "void"
    """Cancelled while processing, before the cut-off: the payment leaves its open batch."""
    REFUND = "refund"
    """Sent back after the payment completed: a separate debit in a reversal batch."""
    RETURN = "return"
    """An ACH return with a NACHA R-code."""
    CHARGEBACK = "chargeback"
    """A card chargeback: the funds are taken at once."""
    DISPUTE_WON = "dispute_won"
    """The credit when the landlord wins the chargeback's dispute: a positive item."""


#: The reason the accounting side books for each kind (AMSI wording, domain.md §6.1: every
#: R-code is "NSF", card reversals "CHARGE BACK", refunds and voids by name).
REVERSAL_REASONS: dict[ReversalKind, str] = {
    ReversalKind.VOID: "voided",
    ReversalKind.REFUND: "refunded",
    ReversalKind.RETURN: "NSF",
    ReversalKind.CHARGEBACK: "CHARGE BACK",
    ReversalKind.DISPUTE_WON: "CHARGE BACK REVERSED",
}


class ReversalPlacement(StrEnum):
    """Where a reversal sits among the deposits (domain.md §6.1)."""

    NONE = "none"
    """A void: the payment left its batch, nothing is deposited or debited."""
    ORIGINAL_BATCH = "original_batch"
    """Before the deposit: reversed inside the payment's own batch, which deposits the net."""
    REVERSAL_BATCH = "reversal_batch"
    """After the deposit: an item of a separate reversal batch of the reversal's day."""
    RECEIPT_NOTE = "receipt_note"
    """After the deposit, for a property whose ``post_reversals`` setting is off (seed 002:
    posting reversals as separate debits "is a RentTrack setting"): in no batch; a note on the
    payment's receipt in its original batch, which keeps its total."""


class Reversal(SQLModel, table=True):
    """One reversal of one payment: an item of a deposit or reversal batch (or of none, for a
    void), with its own 12-digit transaction ID (domain.md §11: a reversal adds a separate
    transaction row).

    ``amount_cents`` is signed as the landlord's bank sees it: negative when money is taken
    back, positive for a won dispute's credit; a batch's total is the sum of its payments and
    its reversals (architecture.md §11). ``balance_delta_cents`` is what the reversal did to
    the lease's balance (integrated leases only: a completed payment taken back raises it, a
    won dispute lowers it again; voids and reversals before the deposit leave it alone)."""

    __tablename__ = "reversal"
    __table_args__ = (
        UniqueConstraint("workspace_id", "transaction_id"),
        Index("ix_reversal_payment", "workspace_id", "payment_id"),
        Index("ix_reversal_batch", "workspace_id", "deposit_batch_id"),
        Index("ix_reversal_date", "workspace_id", "reversal_date"),
    )

    workspace_id: str = Field(foreign_key="workspace.id", primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=40)
    transaction_id: str = Field(max_length=12)
    payment_id: str = Field(max_length=40)
    lease_id: str = Field(max_length=40)
    resident_id: str = Field(max_length=40)
    property_id: str = Field(max_length=40)
    unit_id: str = Field(max_length=40)
    kind: ReversalKind = Field(sa_type=StrEnumType(ReversalKind))
    reason: str = Field(max_length=32)
    method: SourceType = Field(sa_type=StrEnumType(SourceType))
    payment_type: PaymentType = Field(sa_type=StrEnumType(PaymentType))
    amount_cents: int = Field(sa_type=BigInteger)
    placement: ReversalPlacement = Field(sa_type=StrEnumType(ReversalPlacement))
    deposit_account_id: str = Field(max_length=40)
    deposit_batch_id: str | None = Field(default=None, max_length=16)
    #: The banking day whose batch holds it (None for a void).
    business_date: date | None = None
    #: The New York day it happened (``GET /v1/reversals?date=``).
    reversal_date: date
    #: ACH returns: the NACHA code and its name (``R01``, "Insufficient Funds").
    return_code: str | None = Field(default=None, max_length=3)
    return_name: str | None = Field(default=None, max_length=200)
    #: Chargebacks: the card network's reason code (``10.4``, ``4837``) and its name.
    reason_code: str | None = Field(default=None, max_length=8)
    reason_name: str | None = Field(default=None, max_length=200)
    dispute_id: str | None = Field(default=None, max_length=40)
    balance_delta_cents: int = Field(default=0, sa_type=BigInteger)
    ledger_seq: int | None = Field(default=None, sa_type=BigInteger)
    #: Who caused it: ``landlord``, ``resident``, ``operator``, ``magic`` (a sandbox magic
    #: value), ``scenario`` or ``network`` (a dispute's outcome).
    initiated_by: str = Field(max_length=16)
    created_at: datetime = Field(sa_type=UTCDateTime)
