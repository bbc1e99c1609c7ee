"""Building the reversal and payment responses with the few extra facts they carry (the
original transaction ID, the property's MRI ``post_reversals`` setting): one query per kind of
fact for a whole page, shared by the landlord, resident and operator routes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from portal.payments import batching
from portal.payments import rules as payment_rules
from portal.payments.models import Payment, Reversal
from portal.payments.schemas import PaymentRead
from portal.properties.models import Property
from portal.reversals import disputes, service
from portal.reversals.models import Dispute
from portal.reversals.schemas import (
    ChargebackRead,
    DisputeRead,
    PaymentDetail,
    ReversalRead,
)


def reversal_reads(
    session: Session, workspace_id: str, reversals: Sequence[Reversal]
) -> list[ReversalRead]:
    if not reversals:
        return []
    transactions = dict(
        session.execute(
            select(col(Payment.id), col(Payment.transaction_id)).where(
                col(Payment.workspace_id) == workspace_id,
                col(Payment.id).in_({r.payment_id for r in reversals}),
            )
        ).all()
    )
    posting = dict(
        session.execute(
            select(col(Property.id), col(Property.post_reversals)).where(
                col(Property.workspace_id) == workspace_id,
                col(Property.id).in_({r.property_id for r in reversals}),
            )
        ).all()
    )
    return [
        ReversalRead.of(
            r,
            original_transaction_id=transactions[r.payment_id],
            post_reversals=posting.get(r.property_id, True),
        )
        for r in reversals
    ]


def reversal_read(session: Session, workspace_id: str, reversal: Reversal) -> ReversalRead:
    [read] = reversal_reads(session, workspace_id, [reversal])
    return read


def chargeback_read(
    session: Session, workspace_id: str, reversal: Reversal, dispute: Dispute
) -> ChargebackRead:
    base = reversal_read(session, workspace_id, reversal)
    return ChargebackRead(**dict(base), dispute=DisputeRead.of(dispute))


def payment_detail(session: Session, payment: Payment, settings: Any) -> PaymentDetail:
    ws = payment.workspace_id
    deadlines = payment_rules.void_deadlines(session, ws, [payment], settings)
    base = PaymentRead.of(
        payment, batching.batch_deposit_date(session, payment), deadlines.get(payment.id)
    )
    return PaymentDetail(
        **dict(base),
        reversals=reversal_reads(session, ws, service.reversals_of(session, ws, payment.id)),
        disputes=[DisputeRead.of(d) for d in disputes.disputes_of(session, ws, payment.id)],
    )
