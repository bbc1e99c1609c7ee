"""Ledger invariants of payments and deposit batches (architecture.md §11), behind ``portal check``.

Each rule is one set-based query (GROUP BY / joins over whole tables, never a query per row), so
the check runs in well under a second at tens of thousands of payments. A rule yields
``Violation``s; ``run`` collects them for every workspace or one. Rules:

- ``batch_total`` / ``batch_item_count``: a batch's ``total_cents`` and ``item_count`` equal the
  sum and count of its items: the payments that reference it and the reversals booked in it
  (signed: negative when money is taken back), so a reversal batch's total is minus the sum of
  its reversals;
- ``payment_not_in_batch``: a payment that was made (processing, completed, or reversed after
  being made) is in exactly one existing batch (``deposit_batch_id`` set and that batch exists
  in the workspace);
- ``payment_in_batch``: a scheduled or cancelled payment is in none (a void takes it out);
- ``payment_batch_status``: a completed or refunded payment's batch is deposited, a processing
  payment's is open or closed;
- ``payment_batch_mismatch``: a payment's business date, deposit account and deposit type are its
  batch's (one batch per deposit account, kind and business date);
- ``reversal_batch``: a void is in no batch, nor a receipt note (``post_reversals`` off); a
  reversal before the deposit is in its payment's own deposit batch; one after it in a reversal
  batch of its business date and of the payment's deposit account and type;
- ``balance``: an integrated lease's balance equals its basis (the balance last set from
  outside) minus the payments completed since plus the balance changes of the reversals since,
  in ledger order (architecture.md §11);
- ``batch_dates``: a batch's business date is a banking day and its deposit date the next one;
- ``batch_id_shape``: batch IDs are 16 digits; ``transaction_id_shape``: transaction IDs 12;
- ``transaction_id_unique``: transaction IDs (payments' and reversals') are unique per workspace;
- ``one_active_token`` / ``token_digest``: at most one active token per integration, and only
  SHA-256 digests are stored (64 hexadecimal characters);
- ``reversed_more_than_once``: a payment is taken back at most once at a time: at most one
  void, refund or return (each is final), never beside an unanswered chargeback, and no more
  chargebacks than won disputes plus one (a won dispute's credit makes a later chargeback
  possible); no credit without its chargeback (issue 14: concurrent refunds once refunded
  twice, and every other rule still held);
- ``reversed_above_amount``: what a payment's reversals took back, net of credits, is never
  more than the payment;
- ``reversal_status``: the payment's status agrees with its reversals (``refunded`` with its
  one refund, ``returned`` with its return, ``charged_back`` with an open chargeback,
  ``cancelled`` with at most a void, and a payment taken back is never ``completed`` or
  ``processing``);
- ``reversal_ledger``: a reversal that moved a balance carries its ledger number, and moved it
  by exactly the amount it took back (or credited); a void, or a reversal of a payment that never
  completed, moves no balance.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import and_, case, func, literal, or_, select, union_all
from sqlalchemy.sql import Select
from sqlmodel import Session, col

from portal.auth.models import IntegrationToken
from portal.core import calendar
from portal.core.money import format_usd
from portal.payments.models import (
    BatchKind,
    BatchStatus,
    DepositBatch,
    Payment,
    PaymentStatus,
    Reversal,
    ReversalKind,
    ReversalPlacement,
)
from portal.residents.models import Lease
from portal.workspaces.models import Workspace
from portal.workspaces.service import get_workspace

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
        _scoped(payments, col(Payment.workspace_id), workspace_id),
        _scoped(reversals, col(Reversal.workspace_id), workspace_id),
    ]


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
    # Payments and reversals each carry their own 12-digit transaction ID.
    for model, what in ((Payment, "payment"), (Reversal, "reversal")):
        rows = _scoped(
            select(col(model.workspace_id), col(model.id), col(model.transaction_id))
            .where(~col(model.transaction_id).regexp_match(TRANSACTION_ID_PATTERN))
            .order_by(col(model.workspace_id), col(model.id)),
            col(model.workspace_id),
            workspace_id,
        )
        for ws, item_id, transaction_id in session.execute(rows):
            yield Violation(
                ws,
                "transaction_id_shape",
                f"{what} {item_id}",
                f"transaction ID {transaction_id!r} is not 12 digits",
            )


def _unique_transaction_ids(session: Session, workspace_id: str | None) -> Iterator[Violation]:
    ids = union_all(
        _scoped(
            select(
                col(Payment.workspace_id).label("workspace_id"),
                col(Payment.transaction_id).label("transaction_id"),
            ),
            col(Payment.workspace_id),
            workspace_id,
        ),
        _scoped(
            select(
                col(Reversal.workspace_id).label("workspace_id"),
                col(Reversal.transaction_id).label("transaction_id"),
            ),
            col(Reversal.workspace_id),
            workspace_id,
        ),
    ).subquery("ids")
    query = (
        select(ids.c.workspace_id, ids.c.transaction_id, func.count())
        .group_by(ids.c.workspace_id, ids.c.transaction_id)
        .having(func.count() > literal(1))
        .order_by(ids.c.workspace_id, ids.c.transaction_id)
    )
    for ws, transaction_id, n in session.execute(query):
        yield Violation(
            ws,
            "transaction_id_unique",
            f"transaction {transaction_id}",
            f"used by {n} payments and reversals",
        )


def _reversal_batches(session: Session, workspace_id: str | None) -> Iterator[Violation]:
    """Where each reversal is booked (see the module docstring), in one outer join."""
    batch = DepositBatch.__table__.alias("b")  # type: ignore[attr-defined]
    query = _scoped(
        select(
            col(Reversal.workspace_id),
            col(Reversal.id),
            col(Reversal.kind),
            col(Reversal.placement),
            col(Reversal.deposit_batch_id),
            col(Reversal.business_date),
            col(Reversal.deposit_account_id),
            col(Reversal.payment_type),
            col(Payment.deposit_batch_id).label("payment_batch"),
            batch.c.id.label("found"),
            batch.c.kind.label("batch_kind"),
            batch.c.business_date.label("batch_date"),
            batch.c.deposit_account_id.label("batch_account"),
            batch.c.deposit_type.label("batch_type"),
        )
        .join(
            Payment,
            and_(
                col(Payment.workspace_id) == col(Reversal.workspace_id),
                col(Payment.id) == col(Reversal.payment_id),
            ),
        )
        .outerjoin(
            batch,
            and_(
                batch.c.workspace_id == col(Reversal.workspace_id),
                batch.c.id == col(Reversal.deposit_batch_id),
            ),
        )
        .order_by(col(Reversal.workspace_id), col(Reversal.id)),
        col(Reversal.workspace_id),
        workspace_id,
    )
    for row in session.execute(query):
        subject = f"{row.kind} reversal {row.id}"
        problem = None
        if row.placement in (ReversalPlacement.NONE, ReversalPlacement.RECEIPT_NOTE):
            # A void, or a note on the receipt (post_reversals off, seed 002): in no batch.
            if row.deposit_batch_id is not None:
                problem = f"a void is in no batch, but it is in {row.deposit_batch_id}"
        elif row.found is None:
            problem = f"points at batch {row.deposit_batch_id}, which does not exist"
        elif row.placement == ReversalPlacement.ORIGINAL_BATCH:
            if row.deposit_batch_id != row.payment_batch:
                problem = (
                    f"a reversal before the deposit belongs in its payment's batch "
                    f"{row.payment_batch}, not {row.deposit_batch_id}"
                )
        elif str(row.batch_kind) != BatchKind.REVERSAL or (
            str(row.batch_date),
            row.batch_account,
            str(row.batch_type),
        ) != (str(row.business_date), row.deposit_account_id, str(row.payment_type)):
            problem = (
                f"in {row.batch_kind} batch {row.found} ({row.batch_date}, {row.batch_account}, "
                f"{row.batch_type}) but it belongs in the reversal batch of {row.business_date}, "
                f"{row.deposit_account_id}, {row.payment_type}"
            )
        if problem is not None:
            yield Violation(row.workspace_id, "reversal_batch", subject, problem)


def _since_basis(model: Any, cents: Any, seq: Any, name: str) -> Any:
    """Per lease, the sum of ``cents`` over ``model`` rows entered after the lease's basis."""
    return (
        select(
            col(model.workspace_id).label("workspace_id"),
            col(model.lease_id).label("lease_id"),
            func.sum(col(cents)).label("cents"),
        )
        .join(
            Lease,
            and_(
                col(Lease.workspace_id) == col(model.workspace_id),
                col(Lease.id) == col(model.lease_id),
            ),
        )
        .where(col(seq) > col(Lease.balance_basis_seq))
        .group_by(col(model.workspace_id), col(model.lease_id))
        .subquery(name)
    )


def _balances(session: Session, workspace_id: str | None) -> Iterator[Violation]:
    """Replay every integrated lease from its basis: two grouped sums joined to the leases."""
    completed = _since_basis(Payment, Payment.amount_cents, Payment.completed_seq, "completed")
    reversed_ = _since_basis(
        Reversal, Reversal.balance_delta_cents, Reversal.ledger_seq, "reversed"
    )
    paid = func.coalesce(completed.c.cents, 0)
    back = func.coalesce(reversed_.c.cents, 0)
    expected = col(Lease.balance_basis_cents) - paid + back
    query = _scoped(
        select(
            col(Lease.workspace_id),
            col(Lease.id),
            col(Lease.balance_cents),
            col(Lease.balance_basis_cents),
            paid,
            back,
        )
        .outerjoin(
            completed,
            and_(
                completed.c.workspace_id == col(Lease.workspace_id),
                completed.c.lease_id == col(Lease.id),
            ),
        )
        .outerjoin(
            reversed_,
            and_(
                reversed_.c.workspace_id == col(Lease.workspace_id),
                reversed_.c.lease_id == col(Lease.id),
            ),
        )
        .where(col(Lease.external_resident_id).is_not(None), col(Lease.balance_cents) != expected)
        .order_by(col(Lease.workspace_id), col(Lease.id)),
        col(Lease.workspace_id),
        workspace_id,
    )
    for ws, lease_id, balance, basis, paid_cents, back_cents in session.execute(query):
        yield Violation(
            ws,
            "balance",
            f"lease {lease_id}",
            f"balance {format_usd(balance)} but the basis {format_usd(basis)} minus "
            f"{format_usd(int(paid_cents))} completed plus {format_usd(int(back_cents))} "
            f"reversed is {format_usd(basis - int(paid_cents) + int(back_cents))}",
        )


def _tokens(session: Session, workspace_id: str | None) -> Iterator[Violation]:
    active = _scoped(
        select(
            col(IntegrationToken.workspace_id),
            col(IntegrationToken.integration_id),
            func.count(),
        )
        .where(col(IntegrationToken.active).is_(True))
        .group_by(col(IntegrationToken.workspace_id), col(IntegrationToken.integration_id))
        .having(func.count() > literal(1))
        .order_by(col(IntegrationToken.workspace_id), col(IntegrationToken.integration_id)),
        col(IntegrationToken.workspace_id),
        workspace_id,
    )
    for ws, integration_id, n in session.execute(active):
        yield Violation(
            ws, "one_active_token", f"integration {integration_id}", f"{n} active tokens"
        )
    digests = _scoped(
        select(col(IntegrationToken.workspace_id), col(IntegrationToken.id))
        .where(~col(IntegrationToken.digest).regexp_match("^[0-9a-f]{64}$"))
        .order_by(col(IntegrationToken.workspace_id), col(IntegrationToken.id)),
        col(IntegrationToken.workspace_id),
        workspace_id,
    )
    for ws, token_id in session.execute(digests):
        yield Violation(
            ws, "token_digest", f"token {token_id}", "stores something other than a SHA-256 digest"
        )


#: Reversal kinds that end a payment: it cannot be voided, refunded or returned again.
FINAL_REVERSALS = (ReversalKind.VOID, ReversalKind.REFUND, ReversalKind.RETURN)
#: The status a payment has when its reversals net to one of each kind.
STATUS_OF_FINAL = {
    ReversalKind.VOID: PaymentStatus.CANCELLED,
    ReversalKind.REFUND: PaymentStatus.REFUNDED,
    ReversalKind.RETURN: PaymentStatus.RETURNED,
}


def _count(kind: ReversalKind | tuple[ReversalKind, ...]) -> Any:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return func.sum(case((col(Reversal.kind).in_(kinds), 1), else_=0))


def _reversals_per_payment(session: Session, workspace_id: str | None) -> Iterator[Violation]:
    """How many times each reversed payment was taken back, against its status and amount: one
    grouped query over the reversals (issue 14)."""
    query = _scoped(
        select(
            col(Reversal.workspace_id),
            col(Reversal.payment_id),
            col(Payment.status),
            col(Payment.amount_cents),
            _count(ReversalKind.VOID).label("voids"),
            _count(ReversalKind.REFUND).label("refunds"),
            _count(ReversalKind.RETURN).label("returns"),
            _count(ReversalKind.CHARGEBACK).label("chargebacks"),
            _count(ReversalKind.DISPUTE_WON).label("credits"),
            func.sum(col(Reversal.amount_cents)).label("net"),
        )
        .join(
            Payment,
            and_(
                col(Payment.workspace_id) == col(Reversal.workspace_id),
                col(Payment.id) == col(Reversal.payment_id),
            ),
        )
        .group_by(
            col(Reversal.workspace_id),
            col(Reversal.payment_id),
            col(Payment.status),
            col(Payment.amount_cents),
        )
        .order_by(col(Reversal.workspace_id), col(Reversal.payment_id)),
        col(Reversal.workspace_id),
        workspace_id,
    )
    for row in session.execute(query):
        subject = f"payment {row.payment_id}"
        finals = {
            ReversalKind.VOID: int(row.voids),
            ReversalKind.REFUND: int(row.refunds),
            ReversalKind.RETURN: int(row.returns),
        }
        open_chargebacks = int(row.chargebacks) - int(row.credits)
        taken = sum(finals.values()) + open_chargebacks
        if sum(finals.values()) > 1 or taken > 1 or open_chargebacks < 0:
            listed = ", ".join(
                f"{n} {kind.value}{'s' if n > 1 else ''}"
                for kind, n in (
                    *finals.items(),
                    (ReversalKind.CHARGEBACK, int(row.chargebacks)),
                    (ReversalKind.DISPUTE_WON, int(row.credits)),
                )
                if n
            )
            yield Violation(
                row.workspace_id,
                "reversed_more_than_once",
                subject,
                f"taken back {taken} times ({listed}); a payment is reversed at most once",
            )
        if -int(row.net) > int(row.amount_cents):
            yield Violation(
                row.workspace_id,
                "reversed_above_amount",
                subject,
                f"its reversals took back {format_usd(-int(row.net))}, more than the payment's "
                f"{format_usd(int(row.amount_cents))}",
            )
        status = PaymentStatus(row.status)
        expected: set[PaymentStatus]
        if taken == 0:
            expected = {PaymentStatus.COMPLETED}
        elif open_chargebacks == 1:
            expected = {PaymentStatus.CHARGED_BACK}
        else:
            expected = {STATUS_OF_FINAL[k] for k, n in finals.items() if n}
        if status not in expected:
            yield Violation(
                row.workspace_id,
                "reversal_status",
                subject,
                f"is {status.value}, but its reversals make it "
                + " or ".join(sorted(s.value for s in expected)),
            )


def _reversal_ledger(session: Session, workspace_id: str | None) -> Iterator[Violation]:
    """Each reversal's balance change and its ledger number (issue 14): a reversal that moved
    a balance is in the ledger, by exactly what it took back (or credited)."""
    delta = col(Reversal.balance_delta_cents)
    query = _scoped(
        select(
            col(Reversal.workspace_id),
            col(Reversal.id),
            col(Reversal.kind),
            col(Reversal.placement),
            col(Reversal.amount_cents),
            delta,
            col(Reversal.ledger_seq),
        )
        .where(
            or_(
                and_(delta != 0, col(Reversal.ledger_seq).is_(None)),
                and_(delta != 0, delta != -col(Reversal.amount_cents)),
                and_(
                    delta != 0,
                    or_(
                        col(Reversal.kind) == ReversalKind.VOID,
                        col(Reversal.placement) == ReversalPlacement.ORIGINAL_BATCH,
                    ),
                ),
            )
        )
        .order_by(col(Reversal.workspace_id), col(Reversal.id)),
        col(Reversal.workspace_id),
        workspace_id,
    )
    for row in session.execute(query):
        subject = f"{ReversalKind(row.kind).value} reversal {row.id}"
        moved = format_usd(int(row.balance_delta_cents))
        if row.ledger_seq is None:
            detail = f"moved the balance by {moved} but has no ledger number"
        elif ReversalKind(row.kind) is ReversalKind.VOID or (
            ReversalPlacement(row.placement) is ReversalPlacement.ORIGINAL_BATCH
        ):
            detail = f"moved the balance by {moved}, but the payment never completed"
        else:
            detail = (
                f"moved the balance by {moved}, not by the "
                f"{format_usd(abs(int(row.amount_cents)))} it took back or credited"
            )
        yield Violation(row.workspace_id, "reversal_ledger", subject, detail)


#: The rules ``run`` applies, in order. Later issues append theirs.
RULES: list[Rule] = [
    _batch_sums,
    _payment_batches,
    _reversal_batches,
    _balances,
    _batch_dates,
    _id_shapes,
    _unique_transaction_ids,
    _tokens,
    _reversals_per_payment,
    _reversal_ledger,
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
