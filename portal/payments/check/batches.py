"""``portal check`` rules of deposit batches and the payments in them (architecture.md §11):
``batch_total`` / ``batch_item_count``, ``payment_not_in_batch``, ``payment_in_batch``,
``payment_batch_status``, ``payment_batch_mismatch`` and ``batch_dates`` (see the package
docstring for what each requires)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlalchemy import and_, func, or_, select, union_all
from sqlalchemy.sql import Select
from sqlmodel import Session, col

from portal.core import calendar
from portal.core.money import format_usd
from portal.payments.check.base import Violation, scoped
from portal.payments.models import BatchStatus, DepositBatch, Payment, PaymentStatus, Reversal

#: Statuses whose payment sits in exactly one deposit batch (a reversed payment stays where it
#: was deposited, or netted).
IN_A_BATCH = (
    PaymentStatus.PROCESSING,
    PaymentStatus.COMPLETED,
    PaymentStatus.REFUNDED,
    PaymentStatus.RETURNED,
    PaymentStatus.CHARGED_BACK,
)
#: Statuses whose payment is in no batch (not started yet, or cancelled: it left its batch).
IN_NO_BATCH = (PaymentStatus.SCHEDULED, PaymentStatus.CANCELLED)
#: The batch statuses a payment of each status may sit in (a return or chargeback may come
#: before or after the deposit, so those may sit in any).
BATCH_STATUS_OF: dict[PaymentStatus, tuple[BatchStatus, ...]] = {
    PaymentStatus.PROCESSING: (BatchStatus.OPEN, BatchStatus.CLOSED),
    PaymentStatus.COMPLETED: (BatchStatus.DEPOSITED,),
    PaymentStatus.REFUNDED: (BatchStatus.DEPOSITED,),
}
BATCH_ID_PATTERN = r"^[0-9]{16}$"


def batch_item_sources(workspace_id: str | None) -> list[Select[str, str | None, int]]:
    """``(workspace_id, batch_id, signed cents)`` of every item of every batch: the payments in
    it and the reversals booked in it (negative; a won dispute's credit positive)."""
    payments: Select[str, str | None, int] = select(
        col(Payment.workspace_id).label("workspace_id"),
        col(Payment.deposit_batch_id).label("batch_id"),
        col(Payment.amount_cents).label("cents"),
    ).where(col(Payment.deposit_batch_id).is_not(None))
    reversals: Select[str, str | None, int] = select(
        col(Reversal.workspace_id).label("workspace_id"),
        col(Reversal.deposit_batch_id).label("batch_id"),
        col(Reversal.amount_cents).label("cents"),
    ).where(col(Reversal.deposit_batch_id).is_not(None))
    return [
        scoped(payments, col(Payment.workspace_id), workspace_id),
        scoped(reversals, col(Reversal.workspace_id), workspace_id),
    ]


def batch_sums(session: Session, workspace_id: str | None) -> Iterator[Violation]:
    sources = batch_item_sources(workspace_id)
    items = (sources[0] if len(sources) == 1 else union_all(*sources)).subquery("items")
    sums = (
        select(
            items.c.workspace_id,
            items.c.batch_id,
            func.sum(items.c.cents).label("cents"),
            func.count().label("n"),
        )
        .group_by(items.c.workspace_id, items.c.batch_id)
        .subquery("sums")
    )
    cents = func.coalesce(sums.c.cents, 0)
    count = func.coalesce(sums.c.n, 0)
    query = (
        select(
            col(DepositBatch.workspace_id),
            col(DepositBatch.id),
            col(DepositBatch.kind),
            col(DepositBatch.total_cents),
            col(DepositBatch.item_count),
            cents,
            count,
        )
        .outerjoin(
            sums,
            and_(
                sums.c.workspace_id == col(DepositBatch.workspace_id),
                sums.c.batch_id == col(DepositBatch.id),
            ),
        )
        .where(or_(col(DepositBatch.total_cents) != cents, col(DepositBatch.item_count) != count))
        .order_by(col(DepositBatch.workspace_id), col(DepositBatch.id))
    )
    query = scoped(query, col(DepositBatch.workspace_id), workspace_id)
    for ws, batch_id, kind, total, item_count, summed, n in session.execute(query):
        subject = f"{kind} batch {batch_id}"
        if total != summed:
            yield Violation(
                ws,
                "batch_total",
                subject,
                f"total {format_usd(total)} but its {n} item(s) sum to {format_usd(int(summed))}",
            )
        if item_count != n:
            yield Violation(
                ws, "batch_item_count", subject, f"item_count {item_count} but it has {n} item(s)"
            )


def payment_batches(session: Session, workspace_id: str | None) -> Iterator[Violation]:
    """Membership, batch status and batch key of every payment, in one outer join."""
    join = and_(
        col(DepositBatch.workspace_id) == col(Payment.workspace_id),
        col(DepositBatch.id) == col(Payment.deposit_batch_id),
    )
    status_wrong = or_(
        *(
            and_(col(Payment.status) == status, col(DepositBatch.status).not_in(allowed))
            for status, allowed in BATCH_STATUS_OF.items()
        )
    )
    key_wrong = or_(
        col(Payment.business_date) != col(DepositBatch.business_date),
        col(Payment.deposit_account_id) != col(DepositBatch.deposit_account_id),
        col(Payment.type) != col(DepositBatch.deposit_type),
    )
    query: Select[*tuple[Any, ...]] = (
        select(
            col(Payment.workspace_id),
            col(Payment.id),
            col(Payment.transaction_id),
            col(Payment.status),
            col(Payment.deposit_batch_id),
            col(Payment.business_date),
            col(Payment.deposit_account_id),
            col(Payment.type),
            col(DepositBatch.id).label("found"),
            col(DepositBatch.status).label("batch_status"),
            col(DepositBatch.business_date).label("batch_date"),
            col(DepositBatch.deposit_account_id).label("batch_account"),
            col(DepositBatch.deposit_type).label("batch_type"),
        )
        .outerjoin(DepositBatch, join)
        .where(
            or_(
                and_(col(Payment.status).in_(IN_A_BATCH), col(DepositBatch.id).is_(None)),
                and_(
                    col(Payment.status).in_(IN_NO_BATCH), col(Payment.deposit_batch_id).is_not(None)
                ),
                and_(col(DepositBatch.id).is_not(None), or_(status_wrong, key_wrong)),
            )
        )
        .order_by(col(Payment.workspace_id), col(Payment.id))
    )
    query = scoped(query, col(Payment.workspace_id), workspace_id)
    for row in session.execute(query):
        subject = f"payment {row.id} (transaction {row.transaction_id}, {row.status})"
        if row.status in IN_NO_BATCH:
            if row.deposit_batch_id is not None:
                yield Violation(
                    row.workspace_id,
                    "payment_in_batch",
                    subject,
                    f"a {row.status} payment is in no batch, but it is in {row.deposit_batch_id}",
                )
            continue
        if row.found is None:
            where = (
                "no batch"
                if row.deposit_batch_id is None
                else f"batch {row.deposit_batch_id}, which does not exist"
            )
            yield Violation(row.workspace_id, "payment_not_in_batch", subject, f"points at {where}")
            continue
        allowed = BATCH_STATUS_OF.get(row.status)
        if allowed is not None and row.batch_status not in allowed:
            yield Violation(
                row.workspace_id,
                "payment_batch_status",
                subject,
                f"its batch {row.found} is {row.batch_status}; expected "
                + " or ".join(str(s) for s in allowed),
            )
        mismatches = [
            f"{what} {mine} vs the batch's {theirs}"
            for what, mine, theirs in (
                ("business date", row.business_date, row.batch_date),
                ("deposit account", row.deposit_account_id, row.batch_account),
                ("type", row.type, row.batch_type),
            )
            if str(mine) != str(theirs)
        ]
        if mismatches:
            yield Violation(
                row.workspace_id,
                "payment_batch_mismatch",
                subject,
                f"in batch {row.found} but " + "; ".join(mismatches),
            )


def batch_dates(session: Session, workspace_id: str | None) -> Iterator[Violation]:
    """The calendar is Python: check each distinct (business date, deposit date) pair once,
    then name the batches of the pairs that are wrong."""
    pairs = session.execute(
        scoped(
            select(col(DepositBatch.business_date), col(DepositBatch.deposit_date)).group_by(
                col(DepositBatch.business_date), col(DepositBatch.deposit_date)
            ),
            col(DepositBatch.workspace_id),
            workspace_id,
        )
    ).all()
    wrong: dict[tuple[date, date], str] = {}
    for business_date, deposit_date in pairs:
        if not calendar.is_banking_day(business_date):
            wrong[(business_date, deposit_date)] = (
                f"business date {business_date} is not a banking day"
            )
        elif deposit_date != (expected := calendar.next_banking_day(business_date)):
            wrong[(business_date, deposit_date)] = (
                f"deposit date {deposit_date} should be {expected}, the banking day after its "
                f"business date {business_date}"
            )
    if not wrong:
        return
    query = scoped(
        select(
            col(DepositBatch.workspace_id),
            col(DepositBatch.id),
            col(DepositBatch.kind),
            col(DepositBatch.business_date),
            col(DepositBatch.deposit_date),
        )
        .where(col(DepositBatch.business_date).in_({b for b, _ in wrong}))
        .order_by(col(DepositBatch.workspace_id), col(DepositBatch.id)),
        col(DepositBatch.workspace_id),
        workspace_id,
    )
    for ws, batch_id, kind, business_date, deposit_date in session.execute(query):
        reason = wrong.get((business_date, deposit_date))
        if reason is not None:
            yield Violation(ws, "batch_dates", f"{kind} batch {batch_id}", reason)
