"""The MRI notices (issue 17; seed 002 "Canceled/Voided Payments": the property manager voids
the payment by hand in MRI): when a payment the portal posted to MRI is voided, every landlord
user gets an e-mail naming the receipt to void — the portal's transaction, the MRI receipt
(``TransactionID``, ``BatchId``, once MRI answered), the ``ExternalTransactionNumber`` and
batch it was posted with — and nothing is sent to MRI. A reversal the property does not post
(its ``post_reversals`` setting off) gets the same kind of notice, to enter it by hand."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from portal.auth import service as auth_service
from portal.auth.models import Integration
from portal.core.ids import IdMinter
from portal.core.money import format_usd
from portal.notifications import service as notifications
from portal.notifications.models import EmailKind
from portal.outbox.models import Delivery
from portal.payments.models import Payment, ReversalKind

_WHAT = {
    ReversalKind.VOID: "voided",
    ReversalKind.REFUND: "refunded",
    ReversalKind.RETURN: "returned",
    ReversalKind.CHARGEBACK: "charged back",
    ReversalKind.DISPUTE_WON: "credited back after a won dispute",
}


@dataclass(frozen=True)
class Notice:
    integration: Integration
    payment: Payment
    reversal_id: str
    reversal_transaction_id: str
    kind: ReversalKind
    voided: bool


def send(session: Session, ids: IdMinter, notices: Sequence[Notice], *, now: datetime) -> None:
    if not notices:
        return
    posted = _posted(session, ids.scope, notices)
    recipients = auth_service.landlord_emails(session, ids.scope)
    messages: list[notifications.Message] = []
    for notice in notices:
        delivery = posted.get((notice.integration.id, notice.payment.id))
        if delivery is None:
            continue  # never reported to MRI: nothing to undo there
        subject, body, data = _text(notice, delivery)
        messages.extend(
            notifications.Message(
                to=to,
                subject=subject,
                kind=EmailKind.CONNECTOR_NOTICE,
                body=body,
                data=data,
            )
            for to in recipients
        )
    notifications.send_many(session, ids, messages, now=now)


def _posted(
    session: Session, workspace_id: str, notices: Sequence[Notice]
) -> dict[tuple[str, str], Delivery]:
    """The payment deliveries of the notices' payments, per (integration, payment)."""
    keys = sorted({f"payment:{n.payment.id}" for n in notices})
    rows = session.scalars(
        select(Delivery).where(
            col(Delivery.workspace_id) == workspace_id,
            col(Delivery.key).in_(keys),
        )
    )
    return {(d.integration_id, d.subject_id): d for d in rows}


def _text(notice: Notice, delivery: Delivery) -> tuple[str, str, dict[str, Any]]:
    payment = notice.payment
    facts = delivery.facts
    answer = (delivery.last_response or {}).get("vendor_ids") or {}
    receipt = answer.get("TransactionID")
    mri_batch = answer.get("BatchId")
    request = (delivery.last_response or {}).get("request") or ""
    what = _WHAT[notice.kind]
    amount = format_usd(payment.amount_cents)
    where = f"ExternalBatchID {delivery.journal}"
    if mri_batch:
        where += f", MRI batch {mri_batch}"
    lines = [
        f"Payment {payment.transaction_id} of {amount} was {what} in the portal.",
        "",
    ]
    if notice.voided:
        subject = f"Void payment {payment.transaction_id} by hand in MRI"
        lines.append(
            "The portal had posted it to MRI; it does not post voids (seed 002): void the "
            "receipt by hand in MRI."
        )
    else:
        subject = f"Enter the reversal of payment {payment.transaction_id} by hand in MRI"
        lines.append(
            "The property does not post reversals to MRI (its post_reversals setting is off): "
            f"enter the reversal ({notice.reversal_transaction_id}) by hand in MRI."
        )
    lines += [
        "",
        f"MRI receipt: {receipt or '(MRI has not answered yet)'}; {where}.",
        f"Property {facts.get('property_external_id')}, ResidentNameID "
        f"{facts.get('resident_external_id')}.",
    ]
    if request:
        lines += ["", f"Posted as: {request}"]
    data = {
        "payment_id": payment.id,
        "transaction_id": payment.transaction_id,
        "reversal_id": notice.reversal_id,
        "delivery_id": delivery.id,
        "mri_transaction_id": receipt,
        "mri_batch_id": mri_batch,
        "external_batch_id": delivery.journal,
        "kind": notice.kind.value,
    }
    return subject, "\n".join(lines), data
