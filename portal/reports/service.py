"""The landlord's reports over deposit batches (domain.md §5.3, §11; architecture.md §7).

- **Batch Deposit Report** for one deposit date: every batch whose ``deposit_date`` is that
  day, deposits first and reversal batches apart, each with its transactions and total. It is
  "as of now": batches still ``open`` or ``closed`` for that date are included with their
  status.
- **External Deposits** (AMSI) for one month: one row per batch deposited in the month, its
  amount in the column of its deposit type (rent -> Rent/Other, security deposit -> Security
  Deposits, application fee -> Misc) and a reversal batch's in Return.

Amounts are as the bank sees them: a payment is positive; a reversal is negative (money taken
back), except a won dispute's credit; a reversal batch's total is the sum of its items, so
negative unless it holds only credits (architecture.md §11). A reversal made before the
deposit is an item of the payment's own batch, which deposits the net. A reversal after the
deposit of a property that does not post reversals (``post_reversals`` off, seed 002) is in no
batch: its payment's transaction carries it as a ``note``, and no reversal batch is listed for
it. Each report is a fixed number of set-based queries, however many payments the day holds.
Functions here only read; they never flush or commit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, select, union_all
from sqlmodel import Session, col

from portal.payments.models import (
    BatchKind,
    BatchStatus,
    DepositBatch,
    Payment,
    PaymentStatus,
    PaymentType,
    Reversal,
    ReversalPlacement,
    SourceType,
)
from portal.properties.models import DepositAccount, DepositAccountType, Property, Unit
from portal.residents.models import Resident
from portal.reversals.ledger import receipt_note

#: The order of account types within a report (the portal's own order of deposit types).
_TYPE_ORDER = {t: n for n, t in enumerate(DepositAccountType)}


def mask_account(number: str | None) -> str:
    """Account numbers never leave the server whole: ``"9876543210"`` -> ``"****3210"``."""
    return "****" + (number or "")[-4:]


@dataclass(frozen=True)
class ReportItem:
    payment_id: str
    transaction_id: str
    """The payment's, or for a reversal item the reversal's own."""
    status: PaymentStatus
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
    """When the payment was initiated, or when the reversal happened."""
    amount_cents: int
    item: str = "payment"
    """``payment`` or ``reversal``."""
    reason: str | None = None
    """A reversal's reason as booked: voided, refunded, NSF, CHARGE BACK..."""
    return_code: str | None = None
    original_transaction_id: str | None = None
    note: str | None = None
    """A payment reversed after the deposit with no separate debit (``post_reversals`` off)."""


@dataclass(frozen=True)
class ReportBatch:
    id: str
    kind: BatchKind
    status: BatchStatus
    deposit_type: DepositAccountType
    deposit_account_id: str
    account_number: str
    """Masked: ``****`` and the last four digits."""
    business_date: date
    deposit_date: date
    item_count: int
    total_cents: int
    items: tuple[ReportItem, ...]


@dataclass(frozen=True)
class BatchDepositReport:
    deposit_date: date
    generated_at: datetime
    deposits: tuple[ReportBatch, ...]
    reversals: tuple[ReportBatch, ...]

    @property
    def deposits_total_cents(self) -> int:
        return sum(b.total_cents for b in self.deposits)

    @property
    def reversals_total_cents(self) -> int:
        return sum(b.total_cents for b in self.reversals)

    @property
    def total_cents(self) -> int:
        return self.deposits_total_cents + self.reversals_total_cents

    @property
    def item_count(self) -> int:
        return sum(b.item_count for b in (*self.deposits, *self.reversals))

    @property
    def any_deposited(self) -> bool:
        return any(b.status is BatchStatus.DEPOSITED for b in (*self.deposits, *self.reversals))


def batch_deposit_report(
    session: Session, workspace_id: str, deposit_date: date, *, now: datetime
) -> BatchDepositReport:
    """The batches of ``deposit_date`` as they stand at ``now``: three queries in all."""
    batches = _batches_on(session, workspace_id, deposit_date)
    items = _items_of(session, workspace_id, {b.id for b in batches})
    built = [
        ReportBatch(
            id=b.id,
            kind=b.kind,
            status=b.status,
            deposit_type=b.deposit_type,
            deposit_account_id=b.deposit_account_id,
            account_number=number,
            business_date=b.business_date,
            deposit_date=b.deposit_date,
            item_count=b.item_count,
            total_cents=b.total_cents,
            items=tuple(items.get(b.id, ())),
        )
        for b, number in _with_accounts(session, workspace_id, batches)
    ]
    built.sort(key=lambda b: (b.business_date, _TYPE_ORDER[b.deposit_type], b.account_number, b.id))
    return BatchDepositReport(
        deposit_date=deposit_date,
        generated_at=now,
        deposits=tuple(b for b in built if b.kind is BatchKind.DEPOSIT),
        reversals=tuple(b for b in built if b.kind is BatchKind.REVERSAL),
    )


def _batches_on(session: Session, workspace_id: str, deposit_date: date) -> list[DepositBatch]:
    return list(
        session.scalars(
            select(DepositBatch).where(
                col(DepositBatch.workspace_id) == workspace_id,
                col(DepositBatch.deposit_date) == deposit_date,
            )
        )
    )


def _with_accounts(
    session: Session, workspace_id: str, batches: list[DepositBatch]
) -> list[tuple[DepositBatch, str]]:
    account_ids = {b.deposit_account_id for b in batches}
    numbers: dict[str, str] = {}
    if account_ids:
        rows = session.execute(
            select(col(DepositAccount.id), col(DepositAccount.account_number)).where(
                col(DepositAccount.workspace_id) == workspace_id,
                col(DepositAccount.id).in_(account_ids),
            )
        ).all()
        numbers = {row[0]: row[1] for row in rows}
    return [(b, mask_account(numbers.get(b.deposit_account_id))) for b in batches]


def _items_of(
    session: Session, workspace_id: str, batch_ids: set[str]
) -> dict[str, list[ReportItem]]:
    """The transactions of the day's batches, by batch: payments in the order they were
    initiated (with the notes their ``receipt_note`` reversals left, seed 002), then reversals
    in the order they happened. A voided payment left its batch (domain.md §6.2) and is not
    listed. Two queries."""
    if not batch_ids:
        return {}
    # The batches already read, not a subquery: on PostgreSQL a batch created since (a payment
    # made meanwhile) would otherwise bring items of a batch not listed.
    wanted = sorted(batch_ids)
    out: dict[str, list[ReportItem]] = {}
    for row in session.execute(
        _with_places(
            select(
                col(Payment.deposit_batch_id),
                col(Payment.id),
                col(Payment.transaction_id),
                col(Payment.status),
                col(Payment.type),
                col(Payment.method),
                col(Payment.resident_id),
                col(Resident.name),
                col(Payment.lease_id),
                col(Payment.property_id),
                col(Property.name),
                col(Payment.unit_id),
                col(Unit.name),
                col(Payment.initiated_at),
                col(Payment.amount_cents),
            )
        )
        .where(
            col(Payment.workspace_id) == workspace_id,
            col(Payment.deposit_batch_id).in_(wanted),
            col(Payment.status) != PaymentStatus.CANCELLED,
        )
        .order_by(col(Payment.initiated_at), col(Payment.transaction_id))
    ):
        out.setdefault(row[0], []).append(_item(row))
    # The reversals booked in the batches and, in the same statement, the ones in no batch
    # that left a note on a payment of the batches (the property does not post reversals).
    both = union_all(
        _reversal_rows(
            workspace_id,
            col(Reversal.deposit_batch_id),
            col(Reversal.deposit_batch_id).in_(wanted),
        ),
        _reversal_rows(
            workspace_id,
            col(Payment.deposit_batch_id),
            col(Payment.deposit_batch_id).in_(wanted),
            col(Reversal.placement) == ReversalPlacement.RECEIPT_NOTE,
        ),
    ).subquery()
    notes: dict[str, list[str]] = {}
    for row in session.execute(select(both).order_by(both.c.at, both.c.transaction_id)):
        if row.placement == ReversalPlacement.RECEIPT_NOTE:
            notes.setdefault(row.payment_id, []).append(
                receipt_note(row.reason, row.transaction_id, row.reversal_date, row.amount)
            )
            continue
        out.setdefault(row[0], []).append(
            _item(
                row,
                item="reversal",
                reason=row.reason,
                return_code=row.return_code,
                original_transaction_id=row.original_transaction_id,
            )
        )
    if notes:
        for items in out.values():
            items[:] = [
                replace(i, note="; ".join(notes[i.payment_id]))
                if i.item == "payment" and i.payment_id in notes
                else i
                for i in items
            ]
    return out


def _reversal_rows(workspace_id: str, batch: Any, *where: Any) -> Any:
    """Reversals with their payment's facts, keyed by ``batch`` (the column naming the batch
    they are listed under), in ``_item``'s column order."""
    return _with_places(
        select(
            batch.label("batch_id"),
            col(Payment.id).label("payment_id"),
            col(Reversal.transaction_id).label("transaction_id"),
            col(Payment.status).label("status"),
            col(Payment.type).label("type"),
            col(Payment.method).label("method"),
            col(Payment.resident_id).label("resident_id"),
            col(Resident.name).label("resident_name"),
            col(Payment.lease_id).label("lease_id"),
            col(Payment.property_id).label("property_id"),
            col(Property.name).label("property_name"),
            col(Payment.unit_id).label("unit_id"),
            col(Unit.name).label("unit_name"),
            col(Reversal.created_at).label("at"),
            col(Reversal.amount_cents).label("amount"),
            col(Reversal.reason).label("reason"),
            col(Reversal.return_code).label("return_code"),
            col(Payment.transaction_id).label("original_transaction_id"),
            col(Reversal.placement).label("placement"),
            col(Reversal.reversal_date).label("reversal_date"),
        ).join(
            Reversal,
            and_(
                col(Reversal.workspace_id) == col(Payment.workspace_id),
                col(Reversal.payment_id) == col(Payment.id),
            ),
        )
    ).where(col(Payment.workspace_id) == workspace_id, *where)


def _item(row: Any, **extra: Any) -> ReportItem:
    return ReportItem(
        payment_id=row[1],
        transaction_id=row[2],
        status=row[3],
        type=row[4],
        method=row[5],
        resident_id=row[6],
        resident_name=row[7],
        lease_id=row[8],
        property_id=row[9],
        property_name=row[10],
        unit_id=row[11],
        unit_name=row[12],
        initiated_at=row[13],
        amount_cents=row[14],
        **extra,
    )


def _with_places(query: Any) -> Any:
    """Join a payment query to its resident, property and unit (their names)."""
    return (
        query.join(
            Resident,
            and_(
                col(Resident.workspace_id) == col(Payment.workspace_id),
                col(Resident.id) == col(Payment.resident_id),
            ),
        )
        .join(
            Property,
            and_(
                col(Property.workspace_id) == col(Payment.workspace_id),
                col(Property.id) == col(Payment.property_id),
            ),
        )
        .join(
            Unit,
            and_(
                col(Unit.workspace_id) == col(Payment.workspace_id),
                col(Unit.id) == col(Payment.unit_id),
            ),
        )
    )


# --- External Deposits --------------------------------------------------------------------------


class AmsiColumn(StrEnum):
    """The amount columns of AMSI's External Deposits report (domain.md §5.3)."""

    RENT_OTHER = "rent_other"
    """Rent and other charges: batches of the rent deposit account."""
    SECURITY_DEPOSITS = "security_deposits"
    """Batches of the security-deposit account."""
    MISC = "misc"
    """Application fees (AMSI has no column of their own)."""
    RETURN = "return"
    """Reversal batches (returns, chargebacks, refunds after deposit), negative."""


#: The column of a deposit batch, by the type of its deposit account.
COLUMN_OF_TYPE: dict[DepositAccountType, AmsiColumn] = {
    DepositAccountType.RENT: AmsiColumn.RENT_OTHER,
    DepositAccountType.SECURITY_DEPOSIT: AmsiColumn.SECURITY_DEPOSITS,
    DepositAccountType.APPLICATION_FEE: AmsiColumn.MISC,
}


@dataclass(frozen=True)
class ExternalDepositRow:
    """One batch: its whole amount sits in one column, since a batch holds one deposit type."""

    batch_id: str
    kind: BatchKind
    status: BatchStatus
    deposit_type: DepositAccountType
    deposit_date: date
    column: AmsiColumn
    total_cents: int

    def amount_in(self, column: AmsiColumn) -> int:
        return self.total_cents if column is self.column else 0


@dataclass(frozen=True)
class ExternalDepositsReport:
    month: date
    """The first day of the month."""
    generated_at: datetime
    rows: tuple[ExternalDepositRow, ...]

    def column_total(self, column: AmsiColumn) -> int:
        return sum(r.amount_in(column) for r in self.rows)

    @property
    def total_cents(self) -> int:
        return sum(r.total_cents for r in self.rows)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def external_deposits_report(
    session: Session, workspace_id: str, month: date, *, now: datetime
) -> ExternalDepositsReport:
    """Every batch with a deposit date in ``month`` (its first day), keyed by batch ID, in
    deposit-date order; one query, no payment is read."""
    batches = session.scalars(
        select(DepositBatch)
        .where(
            col(DepositBatch.workspace_id) == workspace_id,
            col(DepositBatch.deposit_date) >= month,
            col(DepositBatch.deposit_date) < next_month(month),
        )
        .order_by(col(DepositBatch.deposit_date), col(DepositBatch.kind), col(DepositBatch.id))
    )
    rows = tuple(
        ExternalDepositRow(
            batch_id=b.id,
            kind=b.kind,
            status=b.status,
            deposit_type=b.deposit_type,
            deposit_date=b.deposit_date,
            column=AmsiColumn.RETURN
            if b.kind is BatchKind.REVERSAL
            else COLUMN_OF_TYPE[b.deposit_type],
            total_cents=b.total_cents,
        )
        for b in batches
    )
    return ExternalDepositsReport(month=month, generated_at=now, rows=rows)
