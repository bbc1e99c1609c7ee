"""The payments side of a resident merge (seed S3, domain.md §2.4): what makes a merge unsafe
for the money, and the re-pointing of a merged lease's payments to the resident who stays.

Money never moves in a merge: payments, their batches and the lease balance stay as they were;
only the payer of each payment made on a merged lease (and of its reversals) becomes the
resident who stays, so that they see the lease's history, and the lease's "merged" event lists
every payment re-pointed.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlmodel import Session, col

from portal.core.money import format_usd
from portal.payments import batching
from portal.payments.models import (
    Payment,
    PaymentStatus,
    RecurringPayment,
    RecurringStatus,
    Reversal,
)
from portal.residents.merges import Carried, MergeParticipant
from portal.residents.models import Lease, Resident


def refusals(session: Session, workspace_id: str, holder: Resident) -> list[str]:
    """A payment still on its way, or an autopay, must finish or stop under the person who
    authorised it: its void, return or skip notice goes to them and its source is theirs
    (domain.md §4.4, §6), and a schedule of a retired resident would skip every month
    unnoticed. The landlord voids or waits; only the resident can stop their autopay."""
    out: list[str] = []
    for p in session.scalars(
        select(Payment)
        .where(
            col(Payment.workspace_id) == workspace_id,
            col(Payment.resident_id) == holder.id,
            col(Payment.status).in_((PaymentStatus.SCHEDULED, PaymentStatus.PROCESSING)),
        )
        .order_by(col(Payment.id))
    ):
        amount = format_usd(p.amount_cents)
        if p.status is PaymentStatus.SCHEDULED:
            out.append(
                f"Payment {p.transaction_id} of {amount} is scheduled for {p.scheduled_for}: "
                f"cancel it (POST /v1/payments/{p.id}/void), or merge once it has completed."
            )
        else:
            deposit = batching.batch_deposit_date(session, p)
            out.append(
                f"Payment {p.transaction_id} of {amount} is still processing: merge once it "
                f"has completed (deposit date {deposit}), or void it while it can be voided "
                f"(POST /v1/payments/{p.id}/void)."
            )
    for r in session.scalars(
        select(RecurringPayment)
        .where(
            col(RecurringPayment.workspace_id) == workspace_id,
            col(RecurringPayment.resident_id) == holder.id,
            col(RecurringPayment.status) == RecurringStatus.ACTIVE,
        )
        .order_by(col(RecurringPayment.id))
    ):
        out.append(
            f"Autopay {r.id} ({format_usd(r.amount_cents)} on day {r.day_of_month} of every "
            f"month) is active: ask {holder.name} to stop it, then merge; the resident who "
            "stays sets up their own."
        )
    return out


def carry_over(
    session: Session, workspace_id: str, holder: Resident, into: Resident, lease: Lease
) -> Carried:
    """Re-point the payer of the holder's payments on ``lease`` (and of their reversals) to
    ``into``, listing each in the lease's "merged" event; amounts, batches and the balance
    are untouched. The holder's payment sources stay theirs."""
    moved = list(
        session.scalars(
            select(Payment)
            .where(
                col(Payment.workspace_id) == workspace_id,
                col(Payment.lease_id) == lease.id,
                col(Payment.resident_id) == holder.id,
            )
            .order_by(col(Payment.id))
        )
    )
    if not moved:
        return Carried()
    for model in (Payment, Reversal):
        session.execute(
            update(model)
            .where(
                col(model.workspace_id) == workspace_id,
                col(model.lease_id) == lease.id,
                col(model.resident_id) == holder.id,
            )
            .values(resident_id=into.id)
            .execution_options(synchronize_session="fetch")
        )
    return Carried(
        data={
            "payments_repointed": [
                {
                    "payment_id": p.id,
                    "transaction_id": p.transaction_id,
                    "amount_cents": p.amount_cents,
                    "status": p.status.value,
                    "from_payer": holder.id,
                    "to_payer": into.id,
                }
                for p in moved
            ]
        },
        payments=len(moved),
    )


PARTICIPANT = MergeParticipant(name="payments", refusals=refusals, carry_over=carry_over)
