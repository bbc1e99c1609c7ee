"""What a connected accounting system is told about payments and reversals (issue 16), queued
in the transaction that made them (``portal.outbox``).

A payment is reported when it enters its deposit batch (seed 001: "post payments real-time ...
grouped by the batch deposit"); a reversal when it is recorded. Only payments of properties that
belong to an integration with a connection, and that the connection enables, are reported. The
facts are the vendor-neutral truth at that moment (amount without fee, the batch, the unit's and
lease's accounting IDs); the connector formats them when it sends (connectors.md §1.5, §1.6).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from portal.auth.models import Integration, IntegrationKind
from portal.core import calendar
from portal.core.ids import IdMinter
from portal.outbox import service as outbox
from portal.outbox.models import Delivery, Topic
from portal.payments import mri_notices
from portal.payments.models import (
    DepositBatch,
    Payment,
    ReversalKind,
    ReversalPlacement,
    SourceType,
)
from portal.payments.mri_batches import Batches
from portal.properties.models import Property, Unit
from portal.residents.models import Lease

#: connectors.md §1.6 (RT's ReversalReasonEnum, and S1's wording): an ACH return is a Return
#: with reason NSF; a card chargeback a negative payment coded CHARGE BACK; a refund or void a
#: negative payment (``Reverse``), described as refunded or voided.
_REASONS: dict[ReversalKind, str] = {
    ReversalKind.RETURN: "NSF",
    ReversalKind.CHARGEBACK: "ChargeBack",
    ReversalKind.REFUND: "Reverse",
    ReversalKind.VOID: "Reverse",
}
_DESCRIPTIONS: dict[ReversalKind, str] = {
    ReversalKind.CHARGEBACK: "CHARGE BACK",
    ReversalKind.REFUND: "refunded",
    ReversalKind.VOID: "voided",
}
#: ReturnPayment's ``Description`` is cut to 30 characters (connectors.md §1.6, RT).
DESCRIPTION_MAX = 30


def _enabled(integration: Integration, external_property_id: str | None) -> bool:
    """The connection's ``property_ids`` are the properties it posts for; none listed: all."""
    wanted = (integration.connection or {}).get("property_ids") or []
    return not wanted or external_property_id in wanted


def _places(
    session: Session, workspace_id: str, rows: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """Lease ID -> (property, unit external ID, lease external ID) of the rows' leases."""
    lease_ids = sorted({r["lease_id"] for r in rows})
    out: dict[str, Any] = {}
    for start in range(0, len(lease_ids), 500):
        chunk = lease_ids[start : start + 500]
        for row in session.execute(
            select(
                col(Lease.id),
                col(Lease.external_resident_id),
                col(Unit.external_id),
                col(Property.id),
                col(Property.external_id),
                col(Property.integration_id),
            )
            .join(
                Unit,
                (col(Unit.workspace_id) == col(Lease.workspace_id))
                & (col(Unit.id) == col(Lease.unit_id)),
            )
            .join(
                Property,
                (col(Property.workspace_id) == col(Unit.workspace_id))
                & (col(Property.id) == col(Unit.property_id)),
            )
            .where(col(Lease.workspace_id) == workspace_id, col(Lease.id).in_(chunk))
        ):
            out[row[0]] = row
    return out


def _deposit_dates(session: Session, workspace_id: str, batch_ids: set[str]) -> dict[str, date]:
    if not batch_ids:
        return {}
    return {
        row[0]: row[1]
        for row in session.execute(
            select(col(DepositBatch.id), col(DepositBatch.deposit_date)).where(
                col(DepositBatch.workspace_id) == workspace_id,
                col(DepositBatch.id).in_(sorted(batch_ids)),
            )
        )
    }


def post_payments(
    session: Session, ids: IdMinter, payment_ids: Sequence[str], *, now: datetime
) -> int:
    """Queue the report of payments that just entered their deposit batches."""
    ws = ids.scope
    integrations = {i.id: i for i in outbox.connected(session, ws)}
    if not integrations or not payment_ids:
        return 0
    payments: list[Payment] = []
    for start in range(0, len(payment_ids), 500):
        payments += session.scalars(
            select(Payment).where(
                col(Payment.workspace_id) == ws,
                col(Payment.id).in_(list(payment_ids[start : start + 500])),
                col(Payment.deposit_batch_id).is_not(None),
            )
        )
    order = {payment_id: n for n, payment_id in enumerate(payment_ids)}
    payments.sort(key=lambda p: order[p.id])
    places = _places(session, ws, [{"lease_id": p.lease_id} for p in payments])
    deposit = _deposit_dates(
        session, ws, {p.deposit_batch_id for p in payments if p.deposit_batch_id}
    )
    new = []
    mri = Batches(session, ws)
    for p in payments:
        _lease_id, resi_id, unit_ext, _prop, prop_ext, integration_id = places[p.lease_id]
        integration = integrations.get(integration_id)
        if integration is None or not _enabled(integration, prop_ext):
            continue
        assert p.deposit_batch_id is not None
        journal = p.deposit_batch_id
        if integration.kind is IntegrationKind.MRI:
            journal = mri.current(integration, prop_ext, journal)
        new.append(
            outbox.NewDelivery(
                integration=integration,
                topic=Topic.PAYMENT,
                subject_id=p.id,
                key=f"payment:{p.id}",
                journal=journal,
                amount_cents=p.amount_cents,
                facts={
                    "payment_id": p.id,
                    "transaction_id": p.transaction_id,
                    "amount_cents": p.amount_cents,
                    "signed_amount_cents": p.amount_cents,
                    "method": p.method.value,
                    "payment_type": p.type.value,
                    # MRI's PaymentInitiationDatetime: the creation, New York wall time (§4.12).
                    "made_at": calendar.local_datetime(p.created_at).isoformat(),
                    # ClientTransactionDate is the order's creation date (connectors.md §1.5),
                    # in the portal's business time zone (§4.12).
                    "made_on": calendar.local_date(p.created_at).isoformat(),
                    "business_date": p.business_date.isoformat(),
                    "journal": journal,
                    "deposit_batch_id": p.deposit_batch_id,
                    "deposit_date": deposit[p.deposit_batch_id].isoformat(),
                    "lease_id": p.lease_id,
                    "property_external_id": prop_ext,
                    "unit_external_id": unit_ext,
                    "resident_external_id": resi_id,
                },
            )
        )
    queued = outbox.enqueue(session, ids, new, now=now)
    mri.schedule_closes(ids, now=now)
    return queued


def three_business_days(day: date) -> date:
    """RT's settlement date without a deposit date: 3 business days later, weekends only, no
    holidays (connectors.md §1.7, its tests: 2014-12-24 -> 12-29)."""
    d = day
    added = 0
    while added < 3:
        d += timedelta(days=1)
        if d.weekday() < 5:
            added += 1
    return d


def post_reversals(
    session: Session, ids: IdMinter, rows: Sequence[Mapping[str, Any]], *, now: datetime
) -> int:
    """Queue the report of reversals just recorded (``rows``: the reversal rows as inserted).

    Returned, charged back, refunded or voided: ReturnPayment of the original transaction in
    its original journal (RT, connectors.md §1.6); once that journal has been closed, the
    vendor books it in a journal of its own, which RT then settled by the transaction ID with
    the positive amount (§1.6 "Follow-up", §4.4): that settlement is queued behind it. A won
    dispute's credit is posted as a new payment with its own transaction ID."""
    ws = ids.scope
    integrations = {i.id: i for i in outbox.connected(session, ws)}
    if not integrations or not rows:
        return 0
    originals = {
        p.id: p
        for p in session.scalars(
            select(Payment).where(
                col(Payment.workspace_id) == ws,
                col(Payment.id).in_(sorted({r["payment_id"] for r in rows})),
            )
        )
    }
    places = _places(session, ws, rows)
    deposit = _deposit_dates(
        session, ws, {r["deposit_batch_id"] for r in rows if r["deposit_batch_id"]}
    )
    closed = _closed_journals(
        session, ws, {p.deposit_batch_id for p in originals.values() if p.deposit_batch_id}
    )
    new: list[outbox.NewDelivery] = []
    mri = Batches(session, ws)
    notices: list[mri_notices.Notice] = []
    for r in rows:
        payment = originals[r["payment_id"]]
        _lease_id, resi_id, unit_ext, _prop, prop_ext, integration_id = places[r["lease_id"]]
        integration = integrations.get(integration_id)
        if (
            integration is None
            or not _enabled(integration, prop_ext)
            or not payment.deposit_batch_id
        ):
            continue
        if integration.kind is IntegrationKind.MRI:
            _mri_reversal(r, payment, integration, prop_ext, resi_id, unit_ext, mri, new, notices)
            continue
        kind = ReversalKind(r["kind"])
        base = {
            "reversal_id": r["id"],
            "payment_id": payment.id,
            "lease_id": r["lease_id"],
            "property_external_id": prop_ext,
            "unit_external_id": unit_ext,
            "resident_external_id": resi_id,
            "kind": kind.value,
            "method": payment.method.value,
        }
        if kind is ReversalKind.DISPUTE_WON:
            journal = r["deposit_batch_id"] or payment.deposit_batch_id
            new.append(
                outbox.NewDelivery(
                    integration=integration,
                    topic=Topic.PAYMENT,
                    subject_id=r["id"],
                    key=f"reversal:{r['id']}",
                    journal=journal,
                    amount_cents=r["amount_cents"],
                    facts={
                        **base,
                        "transaction_id": r["transaction_id"],
                        "amount_cents": r["amount_cents"],
                        "made_on": calendar.local_date(now).isoformat(),
                        "journal": journal,
                        "deposit_date": (
                            deposit.get(journal) or three_business_days(r["reversal_date"])
                        ).isoformat(),
                    },
                )
            )
            continue
        if kind is ReversalKind.RETURN:
            description = f"{r['return_code']} {r['return_name'] or ''}".strip()
        else:
            description = _DESCRIPTIONS[kind]
        reason = _REASONS[kind]
        if kind is ReversalKind.RETURN and payment.method is SourceType.CARD:
            reason = "ChargeBack"  # RT: a returned card payment (§1.6 table)
        journal = payment.deposit_batch_id
        new.append(
            outbox.NewDelivery(
                integration=integration,
                topic=Topic.REVERSAL,
                subject_id=r["id"],
                key=f"reversal:{r['id']}",
                journal=journal,
                amount_cents=r["amount_cents"] if r["amount_cents"] < 0 else -payment.amount_cents,
                facts={
                    **base,
                    "transaction_id": payment.transaction_id,
                    "reversal_transaction_id": r["transaction_id"],
                    "reason": reason,
                    "description": description[:DESCRIPTION_MAX],
                    "journal": journal,
                    "placement": str(r["placement"]),
                    "amount_cents": payment.amount_cents,
                },
            )
        )
        if (integration.id, journal) in closed:
            settle_on = (
                deposit[r["deposit_batch_id"]]
                if r["deposit_batch_id"] in deposit and r["deposit_batch_id"] != journal
                else three_business_days(r["reversal_date"])
            )
            new.append(
                outbox.NewDelivery(
                    integration=integration,
                    topic=Topic.JOURNAL_CLOSE,
                    subject_id=r["id"],
                    key=f"close:{payment.transaction_id}:{r['id']}",
                    journal=payment.transaction_id,
                    amount_cents=payment.amount_cents,
                    facts={
                        "journal": payment.transaction_id,
                        "amount_cents": payment.amount_cents,
                        "settlement_date": settle_on.isoformat(),
                        "reversal_id": r["id"],
                    },
                )
            )
    queued = outbox.enqueue(session, ids, new, now=now)
    mri.schedule_closes(ids, now=now)
    mri_notices.send(session, ids, notices, now=now)
    return queued


def _mri_reversal(
    r: Mapping[str, Any],
    payment: Payment,
    integration: Integration,
    prop_ext: str,
    resi_id: str | None,
    unit_ext: str | None,
    mri: Batches,
    new: list[outbox.NewDelivery],
    notices: list[mri_notices.Notice],
) -> None:
    """MRI's reversal rules (seed 002; connectors.md §2.10): a void (a cancelled payment) is a
    notice to void the receipt by hand in MRI, and nothing is posted; with the property's
    ``post_reversals`` off (placement ``receipt_note``) the reversal is a notice to enter it by
    hand; otherwise it is posted as a separate receipt of its own — a negative one for money
    taken back, a positive one for a won dispute's credit — in the MRI batch of its deposit
    batch (``mri_batches``)."""
    kind = ReversalKind(r["kind"])
    placement = ReversalPlacement(r["placement"])
    if kind is ReversalKind.VOID or placement is ReversalPlacement.RECEIPT_NOTE:
        notices.append(
            mri_notices.Notice(
                integration=integration,
                payment=payment,
                reversal_id=r["id"],
                reversal_transaction_id=r["transaction_id"],
                kind=kind,
                voided=kind is ReversalKind.VOID,
            )
        )
        return
    batch = str(r["deposit_batch_id"] or payment.deposit_batch_id)
    journal = mri.current(integration, prop_ext, batch)
    credit = kind is ReversalKind.DISPUTE_WON
    new.append(
        outbox.NewDelivery(
            integration=integration,
            topic=Topic.PAYMENT if credit else Topic.REVERSAL,
            subject_id=r["id"],
            key=f"reversal:{r['id']}",
            journal=journal,
            amount_cents=r["amount_cents"],
            facts={
                "reversal_id": r["id"],
                "payment_id": payment.id,
                "lease_id": r["lease_id"],
                "kind": kind.value,
                "method": payment.method.value,
                "payment_type": payment.type.value,
                "transaction_id": r["transaction_id"] if credit else payment.transaction_id,
                "reversal_transaction_id": r["transaction_id"],
                "amount_cents": payment.amount_cents,
                "signed_amount_cents": r["amount_cents"],
                "made_at": calendar.local_datetime(r["created_at"]).isoformat(),
                "journal": journal,
                "deposit_batch_id": batch,
                "property_external_id": prop_ext,
                "unit_external_id": unit_ext,
                "resident_external_id": resi_id,
            },
        )
    )


def _closed_journals(
    session: Session, workspace_id: str, journals: set[str]
) -> set[tuple[str, str | None]]:
    """(integration, journal) pairs whose close has been queued."""
    if not journals:
        return set()
    return {
        (row[0], row[1])
        for row in session.execute(
            select(col(Delivery.integration_id), col(Delivery.journal)).where(
                col(Delivery.workspace_id) == workspace_id,
                col(Delivery.topic) == Topic.JOURNAL_CLOSE.value,
                col(Delivery.journal).in_(sorted(journals)),
            )
        )
    }
