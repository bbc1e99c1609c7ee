"""The end-of-day close of an MRI batch (issue 17; seed 002 "At the end of the business day,
RentTrack will automatically close the batch in MRI"): the event ``mri_batches.CLOSE``, set
when the batch got its first receipt, queues one ``CloseBatch`` delivery with the control total
and count of what the portal queued for it (``portal.payments.mri_batches`` says which batch a
receipt goes to, and why a receipt after the close goes to a batch of its own). The delivery is
sent behind the batch's receipts (an integration's deliveries go in order)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import col

from portal.auth.models import Integration, IntegrationKind
from portal.core import calendar, jobs
from portal.outbox import service as outbox
from portal.outbox.models import Delivery, DeliveryState, Topic
from portal.payments import mri_batches
from portal.payments.models import Payment, PaymentStatus

#: Deliveries that did not reach MRI are not in its batch.
_NOT_POSTED = (DeliveryState.REJECTED, DeliveryState.FAILED)


def close_batch(ctx: jobs.JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    integration_id = str(payload["integration_id"])
    property_id = str(payload["property_external_id"])
    journal = str(payload["journal"])
    out: dict[str, Any] = {"integration_id": integration_id, "batch": journal}
    integration = ctx.session.get(Integration, (ctx.workspace_id, integration_id))
    if (
        integration is None
        or integration.kind is not IntegrationKind.MRI
        or integration.connection is None
        or not mri_batches.closes(integration)
    ):
        return out | {"closing": False}
    # After any receipt that chose this batch has committed (``mri_batches.lock``).
    mri_batches.lock(ctx.session, ctx.workspace_id, integration)
    rows = ctx.session.execute(
        select(
            col(Delivery.subject_id),
            col(Delivery.amount_cents),
            col(Delivery.facts),
            col(Delivery.state),
        ).where(
            col(Delivery.workspace_id) == ctx.workspace_id,
            col(Delivery.integration_id) == integration_id,
            col(Delivery.journal) == journal,
            col(Delivery.topic).in_([Topic.PAYMENT.value, Topic.REVERSAL.value]),
        )
    ).all()
    voided = set(
        ctx.session.scalars(
            select(col(Payment.id)).where(
                col(Payment.workspace_id) == ctx.workspace_id,
                col(Payment.id).in_(sorted({row[0] for row in rows})),
                col(Payment.status) == PaymentStatus.CANCELLED,
            )
        )
    )
    # What the batch should hold: the receipts MRI took, less the payments voided in the
    # portal since (the landlord was told to void them by hand, seed 002).
    mine = [
        int(amount or 0)
        for subject, amount, facts, state in rows
        if (facts or {}).get("property_external_id") == property_id
        and state not in _NOT_POSTED
        and subject not in voided
    ]
    queued = outbox.enqueue(
        ctx.session,
        ctx.ids,
        [
            outbox.NewDelivery(
                integration=integration,
                topic=Topic.JOURNAL_CLOSE,
                subject_id=journal,
                key=f"close:{property_id}:{journal}",
                journal=journal,
                amount_cents=sum(mine),
                facts={
                    "journal": journal,
                    "property_external_id": property_id,
                    "amount_cents": sum(mine),
                    "receipt_count": len(mine),
                    "close_at": calendar.local_datetime(ctx.now).isoformat(),
                },
            )
        ],
        now=ctx.now,
    )
    return out | {"closing": bool(queued), "total_cents": sum(mine), "receipts": len(mine)}
