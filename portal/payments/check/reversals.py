"""``portal check`` rules of reversals (architecture.md §11; issue 14): ``reversal_batch``,
``reversed_more_than_once``, ``reversed_above_amount``, ``reversal_status`` and
``reversal_ledger`` (see the package docstring for what each requires)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlmodel import Session, col

from portal.core.money import format_usd
from portal.payments.check.base import Violation, scoped
from portal.payments.models import (
    BatchKind,
    DepositBatch,
    Payment,
    PaymentStatus,
    Reversal,
    ReversalKind,
    ReversalPlacement,
)


def reversal_batches(session: Session, workspace_id: str | None) -> Iterator[Violation]:
    """Where each reversal is booked (see the module docstring), in one outer join."""
    batch = DepositBatch.__table__.alias("b")  # type: ignore[attr-defined]
    query = scoped(
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


def reversals_per_payment(session: Session, workspace_id: str | None) -> Iterator[Violation]:
    """How many times each reversed payment was taken back, against its status and amount: one
    grouped query over the reversals (issue 14)."""
    query = scoped(
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


def reversal_ledger(session: Session, workspace_id: str | None) -> Iterator[Violation]:
    """Each reversal's balance change and its ledger number (issue 14): a reversal that moved
    a balance is in the ledger, by exactly what it took back (or credited)."""
    delta = col(Reversal.balance_delta_cents)
    query = scoped(
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
