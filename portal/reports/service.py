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
negative unless it holds only credits (architecture.md §11). A batch's transactions are its
items as ``payments.batch_items`` reads them for every view of a batch: a reversal made before
the deposit is an item of the payment's own batch, which deposits the net; one after the
deposit of a property that does not post reversals (``post_reversals`` off, seed 002) is in no
batch: its payment's transaction carries it as a ``note``, and no reversal batch is listed for
it. The External Deposits report reads batch totals only, which are the sums of those same
items. Each report is a fixed number of set-based queries, however many payments the day holds.
Functions here only read; they never flush or commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import select
from sqlmodel import Session, col

from portal.core.db import raw_of
from portal.payments import batch_items
from portal.payments.batch_items import BatchItem
from portal.payments.models import BatchKind, BatchStatus, DepositBatch
from portal.properties.models import DepositAccount, DepositAccountType

#: The order of account types within a report (the portal's own order of deposit types).
_TYPE_ORDER = {t: n for n, t in enumerate(DepositAccountType)}


def mask_account(number: str | None) -> str:
    """Account numbers never leave the server whole: ``"9876543210"`` -> ``"****3210"``."""
    return "****" + (number or "")[-4:]


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
    items: tuple[BatchItem, ...]


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
    """The batches of ``deposit_date`` as they stand at ``now``, each with its items
    (``payments.batch_items``, the one read model of a batch's contents): three queries in
    all. The batches already read are passed on, not a subquery: on PostgreSQL a batch created
    since (a payment made meanwhile) would otherwise bring items of a batch not listed."""
    batches = _batches_on(session, workspace_id, deposit_date)
    items = batch_items.items_of_batches(raw_of(session), workspace_id, (b.id for b in batches))
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
            items=tuple(items[b.id]),
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
