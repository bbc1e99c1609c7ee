"""What a payment tells people (domain.md §4.4, §11): receipts, insufficient-funds and late
alerts, recorded once per resident and month. Moved out of ``service`` (issue 15)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime

from sqlalchemy import select
from sqlmodel import Session, col

from portal.auth import service as auth_service
from portal.core.db import bulk_insert
from portal.core.ids import IdMinter
from portal.core.money import format_cents, format_usd
from portal.notifications import service as notifications
from portal.notifications.models import EmailKind
from portal.payments.models import (
    Payment,
    PaymentAlert,
    PaymentStatus,
    PaymentType,
)
from portal.residents.models import (
    Lease,
    Resident,
)


def resident_contacts(
    session: Session, workspace_id: str, resident_ids: set[str]
) -> dict[str, tuple[str, str | None]]:
    if not resident_ids:
        return {}
    rows = session.execute(
        select(col(Resident.id), col(Resident.name), col(Resident.email)).where(
            col(Resident.workspace_id) == workspace_id, col(Resident.id).in_(resident_ids)
        )
    ).all()
    return {r: (name, email) for r, name, email in rows}


def send_receipts(
    session: Session, ids: IdMinter, payments: Sequence[Payment], *, now: datetime
) -> int:
    """ "Rent Payment Initiated" (domain.md §4.3) or a scheduling confirmation, to the payer."""
    who = resident_contacts(session, ids.scope, {p.resident_id for p in payments})
    messages = []
    for p in payments:
        name, email = who[p.resident_id]
        if not email:
            continue
        what = "Rent Payment" if p.type is PaymentType.RENT else "Payment"
        if p.status is PaymentStatus.SCHEDULED:
            subject = f"{what} Scheduled for {p.scheduled_for:%m/%d/%Y}"
            kind = EmailKind.PAYMENT_SCHEDULED
        else:
            subject = f"{what} Initiated"
            kind = EmailKind.PAYMENT_RECEIPT
        messages.append(
            notifications.Message(
                to=email,
                subject=subject,
                kind=kind,
                body=(
                    f"Hello {name}, your {p.type.value.replace('_', ' ')} payment of "
                    f"{format_usd(p.amount_cents)} (transaction {p.transaction_id}) "
                    + (
                        f"will be made on {p.scheduled_for.isoformat()}."
                        if p.status is PaymentStatus.SCHEDULED
                        else f"is processing; business date {p.business_date.isoformat()}."
                    )
                ),
                data={
                    "payment_id": p.id,
                    "transaction_id": p.transaction_id,
                    "amount": format_cents(p.amount_cents),
                    "business_date": p.business_date.isoformat(),
                },
            )
        )
    return notifications.send_many(session, ids, messages, now=now)


def _first_of_month(d: date) -> date:
    return d.replace(day=1)


def record_alerts(
    session: Session,
    ids: IdMinter,
    kind: str,
    wanted: Mapping[tuple[str, date], str | None],
    *,
    now: datetime,
) -> set[tuple[str, date]]:
    """Keep only the ``(lease, month)`` pairs not yet alerted of ``kind``; record them with
    their payment. Returns the pairs to alert (once per lease per month, issue 5)."""
    if not wanted:
        return set()
    seen = set(
        session.execute(
            select(col(PaymentAlert.lease_id), col(PaymentAlert.month)).where(
                col(PaymentAlert.workspace_id) == ids.scope,
                col(PaymentAlert.kind) == kind,
                col(PaymentAlert.month).in_({month for _, month in wanted}),
                col(PaymentAlert.lease_id).in_({lease for lease, _ in wanted}),
            )
        ).all()
    )
    fresh = {pair: payment_id for pair, payment_id in wanted.items() if pair not in seen}
    bulk_insert(
        session,
        PaymentAlert,
        [
            {
                "workspace_id": ids.scope,
                "lease_id": lease,
                "kind": kind,
                "month": month,
                "payment_id": payment_id,
                "sent_at": now,
            }
            for (lease, month), payment_id in sorted(fresh.items())
        ],
    )
    return set(fresh)


def alert_insufficient(
    session: Session, ids: IdMinter, payments: Sequence[Payment], *, now: datetime
) -> int:
    """A rent payment below the lease's rent alerts the landlord users (domain.md §4.5: "alerts
    PMs immediately"), once per lease per month."""
    short = [p for p in payments if p.type is PaymentType.RENT]
    if not short:
        return 0
    rents = dict(
        session.execute(
            select(col(Lease.id), col(Lease.rent_cents)).where(
                col(Lease.workspace_id) == ids.scope,
                col(Lease.id).in_({p.lease_id for p in short}),
            )
        ).all()
    )
    short = [p for p in short if p.amount_cents < rents[p.lease_id]]
    # The first short payment of a lease and month is the one alerted (two payers of one lease
    # may both pay short in one run).
    wanted: dict[tuple[str, date], str | None] = {}
    for p in short:
        wanted.setdefault((p.lease_id, _first_of_month(p.business_date)), p.id)
    fresh = record_alerts(session, ids, "insufficient", wanted, now=now)
    alerted = {payment_id for pair, payment_id in wanted.items() if pair in fresh}
    recipients = landlord_emails(session, ids.scope)
    who = resident_contacts(session, ids.scope, {p.resident_id for p in short})
    messages = [
        notifications.Message(
            to=to,
            subject=f"Insufficient payment from {who[p.resident_id][0]}",
            kind=EmailKind.INSUFFICIENT_PAYMENT,
            body=(
                f"{who[p.resident_id][0]} paid {format_usd(p.amount_cents)} towards a rent of "
                f"{format_usd(rents[p.lease_id])} (transaction {p.transaction_id})."
            ),
            data={"lease_id": p.lease_id, "payment_id": p.id, "resident_id": p.resident_id},
        )
        for p in short
        if p.id in alerted
        for to in recipients
    ]
    return notifications.send_many(session, ids, messages, now=now)


def landlord_emails(session: Session, workspace_id: str) -> list[str]:
    return auth_service.landlord_emails(session, workspace_id)
