"""Voids and refunds (seed 001, domain.md §6.2): when a payment may still be voided or
cancelled (``void_refusal``, the deadline of ``payments.rules.void_deadline``), when it may be
refunded, and doing either through ``service.apply``. Moved out of ``service`` (issue 15)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from portal.core import calendar
from portal.core.ids import IdMinter
from portal.core.money import format_usd
from portal.events import service as events
from portal.notifications.models import EmailKind
from portal.payments import batching
from portal.payments import rules as payment_rules
from portal.payments.models import (
    BatchStatus,
    Payment,
    PaymentSource,
    PaymentStatus,
    Reversal,
    ReversalKind,
)
from portal.reversals.errors import PaymentNotRefundable, PaymentNotVoidable
from portal.reversals.service import Reverse, apply, describe, tell


def _source(session: Session, payment: Payment) -> PaymentSource:
    source = session.get(PaymentSource, (payment.workspace_id, payment.source_id))
    assert source is not None
    return source


def deposit_date_of(session: Session, payment: Payment) -> date:
    """The day a payment's batch deposits (or will): when a refund becomes possible."""
    return batching.batch_deposit_date(session, payment) or batching.deposit_date_of(
        payment.business_date
    )


def refund_path(payment: Payment) -> str:
    """The landlord's route that refunds ``payment`` once it is deposited."""
    return f"/v1/payments/{payment.id}/refund"


def void_refusal(
    session: Session, payment: Payment, *, settings: Any, now: datetime
) -> PaymentNotVoidable | None:
    """Why ``payment`` cannot be voided now, or None. A processing payment is voidable until
    ``payment_rules.void_deadline``: the end of the New York day it was made (seed 001:
    "only ... the same day they are made") or its business date's cut-off, whichever comes
    first (domain.md §6.2; architecture.md §4), and only while its batch is open. A scheduled
    payment that has not started may always be cancelled. Every refusal names the refund
    route and the day from which a refund is possible (domain.md §6.3)."""
    status = payment.status
    if status is PaymentStatus.SCHEDULED:
        return None
    if status is PaymentStatus.COMPLETED:
        return PaymentNotVoidable(
            f"The payment was already deposited; refund it instead: POST {refund_path(payment)}.",
            extra={
                "reason": "deposited",
                "refundable_from": deposit_date_of(session, payment).isoformat(),
                "refund_path": refund_path(payment),
            },
        )
    if status is not PaymentStatus.PROCESSING:
        return PaymentNotVoidable(
            f"The payment is already {status.value}.", extra={"reason": status.value}
        )
    cutoff_time = payment_rules.cutoff_for(
        _source(session, payment), payment_rules.rules_of(settings)
    )
    deadline = payment_rules.void_deadline(payment, cutoff_time)
    assert payment.deposit_batch_id is not None
    batch = batching.get_batch(session, payment.workspace_id, payment.deposit_batch_id)
    if now < deadline and batch.status is BatchStatus.OPEN:
        return None
    cutoff = calendar.at_local(payment.business_date, cutoff_time)
    refund = (
        f"It can be refunded from {batch.deposit_date.isoformat()}, once deposited: "
        f"POST {refund_path(payment)}."
    )
    extra = {
        "voidable_until": deadline.isoformat(),
        "cutoff": cutoff.isoformat(),
        "refundable_from": batch.deposit_date.isoformat(),
        "refund_path": refund_path(payment),
    }
    if deadline < cutoff:
        made_on = calendar.local_date(payment_rules.made_at(payment))
        return PaymentNotVoidable(
            "A payment can only be voided or cancelled the same day it is made; this one was "
            f"made on {made_on.isoformat()} (New York time) and is processing for "
            f"{payment.business_date.isoformat()}. {refund}",
            extra={"reason": "day_ended", "made_on": made_on.isoformat(), **extra},
        )
    return PaymentNotVoidable(
        f"The cut-off of its business date ({cutoff_time:%H:%M} New York time on "
        f"{payment.business_date.isoformat()}) has passed and its batch is "
        f"{batch.status.value}. {refund}",
        extra={"reason": "cutoff_passed", **extra},
    )


def void(
    session: Session,
    ids: IdMinter,
    payment: Payment,
    *,
    settings: Any,
    now: datetime,
    initiated_by: str,
) -> Reversal | None:
    """Void a processing payment (it leaves its batch) or cancel a scheduled one. Returns the
    ``void`` reversal (None for a scheduled payment: nothing had moved yet). E-mails the
    resident and every landlord user (domain.md §6.2, §9.2)."""
    if payment.status is PaymentStatus.PROCESSING and payment.deposit_batch_id is not None:
        # The batch's status is part of the rule: lock it before the check (issue 14).
        batching.get_batch(session, payment.workspace_id, payment.deposit_batch_id, for_update=True)
    if (refused := void_refusal(session, payment, settings=settings, now=now)) is not None:
        raise refused
    if payment.status is PaymentStatus.SCHEDULED:
        payment.status = PaymentStatus.CANCELLED
        session.add(payment)
        session.flush()
        events.emit(
            session,
            payment.workspace_id,
            "payment.cancelled",
            payment.id,
            now=now,
            data={"status": PaymentStatus.CANCELLED.value},
        )
        reversal = None
    else:
        [reversal] = apply(
            session,
            ids,
            [Reverse(payment, ReversalKind.VOID, PaymentStatus.CANCELLED)],
            settings=settings,
            now=now,
            initiated_by=initiated_by,
        )
    tell(
        session,
        ids,
        payment,
        reversal,
        kind=EmailKind.PAYMENT_CANCELLED,
        subject="Payment Cancelled",
        text=(
            f"The {describe(payment)} of {format_usd(payment.amount_cents)} (transaction "
            f"{payment.transaction_id}) was cancelled by the {initiated_by}; it will not be "
            "withdrawn or deposited."
        ),
        resident=True,
        now=now,
    )
    return reversal


def refund_refusal(session: Session, payment: Payment) -> PaymentNotRefundable | None:
    """Why ``payment`` cannot be refunded, or None: only once it completed (domain.md §6.3;
    before that the portal names the day from which it can be)."""
    status = payment.status
    if status is PaymentStatus.COMPLETED:
        return None
    if status is PaymentStatus.PROCESSING:
        when = deposit_date_of(session, payment)
        return PaymentNotRefundable(
            f"The payment has not been deposited yet; it can be refunded from "
            f"{when.isoformat()} (the day it was made, before its cut-off, it can be voided "
            "instead).",
            extra={"refundable_from": when.isoformat()},
        )
    if status is PaymentStatus.SCHEDULED:
        return PaymentNotRefundable(
            "The payment has not been made yet; cancel it instead.",
            extra={"refundable_from": None},
        )
    return PaymentNotRefundable(
        f"The payment is already {status.value}.", extra={"refundable_from": None}
    )


def refund(
    session: Session,
    ids: IdMinter,
    payment: Payment,
    *,
    settings: Any,
    now: datetime,
    initiated_by: str,
) -> Reversal:
    """Send a completed payment back: a separate debit in the reversal batch of today's
    business date; the balance rises; both sides are told "refund is processing"."""
    if (refused := refund_refusal(session, payment)) is not None:
        raise refused
    [reversal] = apply(
        session,
        ids,
        [Reverse(payment, ReversalKind.REFUND, PaymentStatus.REFUNDED)],
        settings=settings,
        now=now,
        initiated_by=initiated_by,
    )
    tell(
        session,
        ids,
        payment,
        reversal,
        kind=EmailKind.REFUND_PROCESSING,
        subject="Refund Processing",
        text=(
            f"A refund of {format_usd(payment.amount_cents)} for the {describe(payment)} of "
            f"{payment.initiated_at.date().isoformat()} (transaction {payment.transaction_id}) "
            "is processing."
        ),
        resident=True,
        now=now,
    )
    return reversal
