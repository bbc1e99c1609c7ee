"""Ledger invariants of payments and deposit batches (architecture.md §11), behind ``portal check``.

Each rule is one set-based query (GROUP BY / joins over whole tables, never a query per row), so
the check runs in well under a second at tens of thousands of payments. A rule yields
``Violation``s; ``run`` collects them for every workspace or one. Rules:

- ``batch_total`` / ``batch_item_count``: a batch's ``total_cents`` and ``item_count`` equal the
  sum and count of its items. The items of a batch come from ``batch_item_sources()``: today the
  payments that reference it (kind ``deposit``, and kind ``reversal`` holds whatever references
  it); the reversals issue adds its reversals there with negative amounts, so a reversal batch's
  total becomes minus the sum of its reversals with no change to the rule.
- ``payment_not_in_batch``: a processing or completed payment is in exactly one existing batch
  (``deposit_batch_id`` set and that batch exists in the workspace);
- ``payment_in_batch``: a scheduled or cancelled payment is in none (a cancelled payment leaves
  its batch);
- ``payment_batch_status``: a completed payment's batch is deposited, a processing payment's is
  open or closed;
- ``payment_batch_mismatch``: a payment's business date, deposit account and deposit type are its
  batch's (one batch per deposit account, kind and business date);
- ``batch_dates``: a batch's business date is a banking day and its deposit date the next one;
- ``batch_id_shape``: batch IDs are 16 digits; ``transaction_id_shape``: transaction IDs 12;
- ``transaction_id_unique``: transaction IDs are unique per workspace.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import and_, func, literal, or_, select, union_all
from sqlalchemy.sql import Select
from sqlmodel import Session, col

from portal import calendar
from portal.money import format_usd
from portal.payments.models import (
    BatchStatus,
    DepositBatch,
    Payment,
    PaymentStatus,
)
from portal.workspaces.models import Workspace
from portal.workspaces.service import get_workspace

#: Statuses whose payment sits in exactly one deposit batch.
IN_A_BATCH = (PaymentStatus.PROCESSING, PaymentStatus.COMPLETED)
#: Statuses whose payment is in no batch (not started yet, or cancelled: it left its batch).
IN_NO_BATCH = (PaymentStatus.SCHEDULED, PaymentStatus.CANCELLED)
#: The batch statuses a payment of each status may sit in.
BATCH_STATUS_OF: dict[PaymentStatus, tuple[BatchStatus, ...]] = {
    PaymentStatus.PROCESSING: (BatchStatus.OPEN, BatchStatus.CLOSED),
    PaymentStatus.COMPLETED: (BatchStatus.DEPOSITED,),
}
BATCH_ID_PATTERN = r"^[0-9]{16}$"
TRANSACTION_ID_PATTERN = r"^[0-9]{12}$"


@dataclass(frozen=True)
class Violation:
    workspace_id: str
    rule: str
    subject: str
    """What is wrong, e.g. ``deposit batch 2732388606925747``."""
    detail: str


@dataclass
class Report:
    workspaces: list[str]
    batches: int = 0
    payments: int = 0
    violations: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations


Rule = Callable[[Session, str | None], Iterator[Violation]]


Q = TypeVar("Q", bound=Select[*tuple[Any, ...]])


def _scoped(query: Q, column: Any, workspace_id: str | None) -> Q:
    """Narrow a whole-database query to one workspace when asked."""
    return query if workspace_id is None else query.where(column == workspace_id)


def batch_item_sources(workspace_id: str | None) -> list[Select[str, str | None, int]]:
    """``(workspace_id, batch_id, signed cents)`` of every item of every batch. A deposit
    batch's items are its payments; the reversals issue appends its reversals (negative
    amounts, in reversal batches) here."""
    payments: Select[str, str | None, int] = select(
        col(Payment.workspace_id).label("workspace_id"),
        col(Payment.deposit_batch_id).label("batch_id"),
        col(Payment.amount_cents).label("cents"),
    ).where(col(Payment.deposit_batch_id).is_not(None))
    return [_scoped(payments, col(Payment.workspace_id), workspace_id)]


def _batch_sums(session: Session, workspace_id: str | None) -> Iterator[Violation]:
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
    query = _scoped(query, col(DepositBatch.workspace_id), workspace_id)
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


def _payment_batches(session: Session, workspace_id: str | None) -> Iterator[Violation]:
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
    query = _scoped(query, col(Payment.workspace_id), workspace_id)
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


def _batch_dates(session: Session, workspace_id: str | None) -> Iterator[Violation]:
    """The calendar is Python: check each distinct (business date, deposit date) pair once,
    then name the batches of the pairs that are wrong."""
    pairs = session.execute(
        _scoped(
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
    query = _scoped(
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


def _id_shapes(session: Session, workspace_id: str | None) -> Iterator[Violation]:
    batches = _scoped(
        select(col(DepositBatch.workspace_id), col(DepositBatch.id))
        .where(~col(DepositBatch.id).regexp_match(BATCH_ID_PATTERN))
        .order_by(col(DepositBatch.workspace_id), col(DepositBatch.id)),
        col(DepositBatch.workspace_id),
        workspace_id,
    )
    for ws, batch_id in session.execute(batches):
        yield Violation(ws, "batch_id_shape", f"batch {batch_id!r}", "a batch ID is 16 digits")
    payments = _scoped(
        select(col(Payment.workspace_id), col(Payment.id), col(Payment.transaction_id))
        .where(~col(Payment.transaction_id).regexp_match(TRANSACTION_ID_PATTERN))
        .order_by(col(Payment.workspace_id), col(Payment.id)),
        col(Payment.workspace_id),
        workspace_id,
    )
    for ws, payment_id, transaction_id in session.execute(payments):
        yield Violation(
            ws,
            "transaction_id_shape",
            f"payment {payment_id}",
            f"transaction ID {transaction_id!r} is not 12 digits",
        )


def _unique_transaction_ids(session: Session, workspace_id: str | None) -> Iterator[Violation]:
    query = _scoped(
        select(col(Payment.workspace_id), col(Payment.transaction_id), func.count())
        .group_by(col(Payment.workspace_id), col(Payment.transaction_id))
        .having(func.count() > literal(1))
        .order_by(col(Payment.workspace_id), col(Payment.transaction_id)),
        col(Payment.workspace_id),
        workspace_id,
    )
    for ws, transaction_id, n in session.execute(query):
        yield Violation(
            ws, "transaction_id_unique", f"transaction {transaction_id}", f"used by {n} payments"
        )


#: The rules ``run`` applies, in order. Later issues append theirs.
RULES: list[Rule] = [
    _batch_sums,
    _payment_batches,
    _batch_dates,
    _id_shapes,
    _unique_transaction_ids,
]


def run(session: Session, workspace_id: str | None = None) -> Report:
    """Check every workspace, or one (``WorkspaceNotFound`` if it does not exist)."""
    if workspace_id is not None:
        workspaces = [get_workspace(session, workspace_id).id]
    else:
        workspaces = list(session.scalars(select(col(Workspace.id)).order_by(col(Workspace.id))))
    report = Report(workspaces=workspaces)
    report.batches = int(
        session.scalar(
            _scoped(
                select(func.count()).select_from(DepositBatch),
                col(DepositBatch.workspace_id),
                workspace_id,
            )
        )
        or 0
    )
    report.payments = int(
        session.scalar(
            _scoped(
                select(func.count()).select_from(Payment), col(Payment.workspace_id), workspace_id
            )
        )
        or 0
    )
    for rule in RULES:
        report.violations.extend(rule(session, workspace_id))
    return report
