"""The reports' wire forms: JSON shapes and CSV files (the e-mail's text is in ``jobs``).

Money is a two-decimal string everywhere (``"1200.00"``, reversals ``"-50.00"``). CSV files
follow RFC 4180: a header row, CRLF line ends, fields quoted only when needed, UTF-8.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime

from pydantic import BaseModel, Field

from portal.core import calendar
from portal.core.errors import FieldError, Unprocessable
from portal.core.money import Cents, format_cents
from portal.payments.batch_items import BatchItem
from portal.payments.models import (
    PAYMENT_LABELS,
    BatchKind,
    BatchStatus,
    PaymentStatus,
    PaymentType,
    SourceType,
)
from portal.properties.models import DepositAccountType
from portal.reports.service import (
    AmsiColumn,
    BatchDepositReport,
    ExternalDepositsReport,
    ReportBatch,
)

#: How the portal names each account type on the report (domain.md §5.1).
TYPE_LABELS: dict[DepositAccountType, str] = {
    DepositAccountType.RENT: "Rent",
    DepositAccountType.SECURITY_DEPOSIT: "Security Deposit",
    DepositAccountType.APPLICATION_FEE: "Application Fee",
}

_MONTH = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")


class InvalidMonth(Unprocessable):
    code = "invalid_month"


def parse_month(value: str) -> date:
    """``YYYY-MM`` -> the first day of that month; anything else is 422 ``invalid_month``."""
    match = _MONTH.fullmatch(value)
    if match is None or int(match[1]) < 1:
        raise InvalidMonth(
            f"{value[:20]!r} is not a month: use YYYY-MM, such as 2026-07.",
            errors=[FieldError("query.month", "a month is YYYY-MM", code="invalid_month")],
        )
    return date(int(match[1]), int(match[2]), 1)


def us_date(d: date) -> str:
    """As the portal's e-mails and Landlord 12 write dates: ``7/7/2026``."""
    return f"{d.month}/{d.day}/{d.year}"


# --- Batch Deposit Report: JSON -----------------------------------------------------------------


class ReportTransaction(BaseModel):
    transaction_id: str = Field(description="12 digits")
    payment_id: str
    status: PaymentStatus
    status_label: str = Field(description="As the portal shows it: Processing, Paid...")
    type: PaymentType
    method: SourceType
    resident_id: str
    resident_name: str
    lease_id: str
    property_id: str
    property_name: str
    unit_id: str
    unit_name: str
    initiated_at: datetime
    initiated_date: date = Field(description="The New York date initiated_at falls on")
    amount: Cents = Field(description="Negative for a reversal (positive: a won dispute)")
    item: str = Field(default="payment", description="payment or reversal")
    reason: str | None = Field(
        default=None, description="A reversal's reason: voided, refunded, NSF, CHARGE BACK"
    )
    return_code: str | None = None
    original_transaction_id: str | None = Field(
        default=None, description="A reversal's payment; transaction_id is the reversal's own"
    )
    note: str | None = Field(
        default=None,
        description="A payment reversed after the deposit with no separate debit (the "
        "property's post_reversals setting is off): the reversal, to enter by hand",
    )

    @classmethod
    def of(cls, i: BatchItem) -> ReportTransaction:
        return cls(
            transaction_id=i.transaction_id,
            payment_id=i.payment_id,
            status=i.status,
            status_label=PAYMENT_LABELS[i.status],
            type=i.type,
            method=i.method,
            resident_id=i.resident_id,
            resident_name=i.resident_name,
            lease_id=i.lease_id,
            property_id=i.property_id,
            property_name=i.property_name,
            unit_id=i.unit_id,
            unit_name=i.unit_name,
            initiated_at=i.initiated_at,
            initiated_date=calendar.local_date(i.initiated_at),
            amount=i.amount_cents,
            item=i.item,
            reason=i.reason,
            return_code=i.return_code,
            original_transaction_id=i.original_transaction_id,
            note=i.note,
        )


class ReportBatchRead(BaseModel):
    batch_id: str = Field(description="16 digits")
    kind: BatchKind
    status: BatchStatus = Field(description="As of the report: open, closed or deposited")
    deposit_type: DepositAccountType = Field(description="The account type")
    deposit_type_label: str
    deposit_account_id: str
    account_number: str = Field(description="Masked: **** and the last four digits")
    business_date: date
    deposit_date: date
    item_count: int
    total: Cents = Field(description="Negative for a reversal batch")
    transactions: list[ReportTransaction]

    @classmethod
    def of(cls, b: ReportBatch) -> ReportBatchRead:
        return cls(
            batch_id=b.id,
            kind=b.kind,
            status=b.status,
            deposit_type=b.deposit_type,
            deposit_type_label=TYPE_LABELS[b.deposit_type],
            deposit_account_id=b.deposit_account_id,
            account_number=b.account_number,
            business_date=b.business_date,
            deposit_date=b.deposit_date,
            item_count=b.item_count,
            total=b.total_cents,
            transactions=[ReportTransaction.of(i) for i in b.items],
        )


class BatchDepositReportRead(BaseModel):
    deposit_date: date
    generated_at: datetime = Field(description="The workspace instant the report reflects")
    batches: list[ReportBatchRead] = Field(description="Deposit batches")
    reversals: list[ReportBatchRead] = Field(description="Reversal batches, listed apart")
    deposits_total: Cents
    reversals_total: Cents = Field(description="Zero or negative")
    total: Cents = Field(description="deposits_total + reversals_total")
    item_count: int

    @classmethod
    def of(cls, r: BatchDepositReport) -> BatchDepositReportRead:
        return cls(
            deposit_date=r.deposit_date,
            generated_at=r.generated_at,
            batches=[ReportBatchRead.of(b) for b in r.deposits],
            reversals=[ReportBatchRead.of(b) for b in r.reversals],
            deposits_total=r.deposits_total_cents,
            reversals_total=r.reversals_total_cents,
            total=r.total_cents,
            item_count=r.item_count,
        )


# --- Batch Deposit Report: CSV ------------------------------------------------------------------

BATCH_DEPOSIT_COLUMNS = (
    "Deposit Date",
    "Batch Kind",
    "Batch ID",
    "Batch Status",
    "Account Type",
    "Account Number",
    "Business Date",
    "Batch Items",
    "Batch Total",
    "Transaction ID",
    "Status",
    "Resident",
    "Resident ID",
    "Property",
    "Property ID",
    "Unit",
    "Unit ID",
    "Lease ID",
    "Payment Type",
    "Method",
    "Date Initiated",
    "Initiated At",
    "Amount",
    "Item",
    "Reason",
    "Return Code",
    "Original Transaction ID",
    "Note",
)


def _csv(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _batch_rows(b: ReportBatch) -> Iterable[list[str]]:
    head = [
        b.deposit_date.isoformat(),
        b.kind.value,
        b.id,
        b.status.value,
        TYPE_LABELS[b.deposit_type],
        b.account_number,
        b.business_date.isoformat(),
        str(b.item_count),
        format_cents(b.total_cents),
    ]
    if not b.items:
        # A batch without transactions still shows, so the file's batches match the JSON's.
        yield head + [""] * (len(BATCH_DEPOSIT_COLUMNS) - len(head))
    for i in b.items:
        yield [
            *head,
            i.transaction_id,
            PAYMENT_LABELS[i.status],
            i.resident_name,
            i.resident_id,
            i.property_name,
            i.property_id,
            i.unit_name,
            i.unit_id,
            i.lease_id,
            i.type.value,
            i.method.value,
            calendar.local_date(i.initiated_at).isoformat(),
            _instant(i.initiated_at),
            format_cents(i.amount_cents),
            i.item,
            i.reason or "",
            i.return_code or "",
            i.original_transaction_id or "",
            i.note or "",
        ]


def _instant(at: datetime) -> str:
    """As the JSON writes instants: RFC 3339 in UTC with ``Z``."""
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def batch_deposit_csv(r: BatchDepositReport) -> str:
    """One row per transaction with its batch's columns repeated; deposits, then reversals."""
    rows = (row for b in (*r.deposits, *r.reversals) for row in _batch_rows(b))
    return _csv(BATCH_DEPOSIT_COLUMNS, rows)


# --- External Deposits --------------------------------------------------------------------------


class ExternalDepositRowRead(BaseModel):
    external_batch: str = Field(description="Our batch ID: AMSI's External Batch")
    esite_batch: str | None = Field(
        default=None, description="AMSI's own batch number; the portal has none (always null)"
    )
    kind: BatchKind
    status: BatchStatus
    deposit_type: DepositAccountType
    deposit_date: date
    rent_other: Cents
    security_deposits: Cents
    misc: Cents = Field(description="Application fees")
    returns: Cents = Field(description="Reversal batches, negative (AMSI's Return column)")
    total: Cents


class ExternalDepositsTotals(BaseModel):
    rent_other: Cents
    security_deposits: Cents
    misc: Cents
    returns: Cents
    total: Cents


class ExternalDepositsRead(BaseModel):
    month: str = Field(description="YYYY-MM")
    generated_at: datetime
    rows: list[ExternalDepositRowRead]
    totals: ExternalDepositsTotals

    @classmethod
    def of(cls, r: ExternalDepositsReport) -> ExternalDepositsRead:
        return cls(
            month=r.month.isoformat()[:7],
            generated_at=r.generated_at,
            rows=[
                ExternalDepositRowRead(
                    external_batch=row.batch_id,
                    kind=row.kind,
                    status=row.status,
                    deposit_type=row.deposit_type,
                    deposit_date=row.deposit_date,
                    rent_other=row.amount_in(AmsiColumn.RENT_OTHER),
                    security_deposits=row.amount_in(AmsiColumn.SECURITY_DEPOSITS),
                    misc=row.amount_in(AmsiColumn.MISC),
                    returns=row.amount_in(AmsiColumn.RETURN),
                    total=row.total_cents,
                )
                for row in r.rows
            ],
            totals=ExternalDepositsTotals(
                rent_other=r.column_total(AmsiColumn.RENT_OTHER),
                security_deposits=r.column_total(AmsiColumn.SECURITY_DEPOSITS),
                misc=r.column_total(AmsiColumn.MISC),
                returns=r.column_total(AmsiColumn.RETURN),
                total=r.total_cents,
            ),
        )


EXTERNAL_DEPOSITS_COLUMNS = (
    "External Batch",
    "eSite Batch",
    "Deposit Date",
    "Status",
    "Rent/Other",
    "Security Deposits",
    "Misc",
    "Return",
    "Total",
)
_AMOUNT_COLUMNS = (
    AmsiColumn.RENT_OTHER,
    AmsiColumn.SECURITY_DEPOSITS,
    AmsiColumn.MISC,
    AmsiColumn.RETURN,
)


def external_deposits_csv(r: ExternalDepositsReport) -> str:
    """AMSI's columns, one row per batch, then a ``Total`` row (eSite Batch left empty)."""
    rows = [
        [
            row.batch_id,
            "",
            row.deposit_date.isoformat(),
            row.status.value,
            *(format_cents(row.amount_in(c)) for c in _AMOUNT_COLUMNS),
            format_cents(row.total_cents),
        ]
        for row in r.rows
    ]
    rows.append(
        [
            "Total",
            "",
            "",
            "",
            *(format_cents(r.column_total(c)) for c in _AMOUNT_COLUMNS),
            format_cents(r.total_cents),
        ]
    )
    return _csv(EXTERNAL_DEPOSITS_COLUMNS, rows)
