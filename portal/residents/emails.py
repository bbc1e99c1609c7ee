"""What the residents feature tells people besides the invitation (``invitations``): the
approval (seed S3: "Your resident will receive an email"), what a merge tells each person
(seed S3; domain.md §9.2), and the landlords' pending-approval notices (domain.md §2.1)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session

from portal.auth import service as auth_service
from portal.core.ids import IdMinter
from portal.core.money import format_usd
from portal.notifications import service as notifications
from portal.notifications.models import EmailKind
from portal.residents.models import Lease, Resident


def send_approved(
    session: Session,
    ids: IdMinter,
    resident: Resident,
    now: datetime,
    *,
    merged: Sequence[Lease] = (),
) -> None:
    """Seed S3: "Your resident will receive an email and can now set up their first
    payment"; after a merge it says which lease came with the approval."""
    if resident.email:
        notifications.send(
            session,
            ids,
            notifications.Message(
                to=resident.email,
                subject="You can now pay rent online",
                kind=EmailKind.APPROVED,
                body=f"Hello {resident.name}, your property manager approved your account."
                + (f" {_leases_text(merged)}" if merged else ""),
                data={"resident_id": resident.id, "lease_ids": [lease.id for lease in merged]},
            ),
            now=now,
        )


def _leases_text(leases: Sequence[Lease]) -> str:
    described = "; ".join(
        f"lease {lease.id} (resident ID {lease.external_resident_id or 'not mapped'}, rent "
        f"{format_usd(lease.rent_cents)}, balance {format_usd(lease.balance_cents)})"
        for lease in leases
    )
    return (
        f"The lease details from the accounting system are now on your account: {described}. "
        "Payments already made on it stay with the lease, and you see them with your own."
    )


def merge_emails(
    into: Resident, retired: Resident, leases: Sequence[Lease], *, approval_sent: bool
) -> list[notifications.Message]:
    """What a merge tells each person (seed S3; domain.md §9.2): the resident who received
    the lease (the approval e-mail, or this one if they were approved already) and the retired
    record, if it had an e-mail, whose invitation or login no longer works."""
    out: list[notifications.Message] = []
    if into.email and not approval_sent:
        out.append(
            notifications.Message(
                to=into.email,
                subject="Your lease from the accounting system was added to your account",
                kind=EmailKind.LEASE_MERGED,
                body=f"Hello {into.name}, your property manager merged the record "
                f"{retired.name} into your account. {_leases_text(leases)}",
                data={
                    "resident_id": into.id,
                    "merged_from": retired.id,
                    "lease_ids": [lease.id for lease in leases],
                },
            )
        )
    if retired.email:
        login = (
            "Your login for this record no longer works"
            if retired.password_hash
            else "The invitation sent for this record no longer works"
        )
        out.append(
            notifications.Message(
                to=retired.email,
                subject="Your property manager merged your account",
                kind=EmailKind.MERGED,
                body=f"Hello {retired.name}, your property manager confirmed that you are the "
                f"same person as {into.name} <{into.email or 'no e-mail'}> and moved your lease "
                f"to that account. {login}; sign in as {into.email or 'that resident'} instead. "
                "Payments you made stay on the lease.",
                data={
                    "resident_id": retired.id,
                    "merged_into": into.id,
                    "lease_ids": [lease.id for lease in leases],
                },
            )
        )
    return out


def tell_landlords(
    session: Session, ids: IdMinter, residents: list[Resident], kind: EmailKind, now: datetime
) -> int:
    recipients = auth_service.landlord_emails(session, ids.scope)
    subject = (
        "A resident is pending your approval"
        if kind is EmailKind.PENDING_APPROVAL
        else "Reminder: a resident is still pending your approval"
    )
    messages = [
        notifications.Message(
            to=to,
            subject=subject,
            kind=kind,
            body=f"{r.name} <{r.email}> signed up and is pending your review.",
            data={"resident_id": r.id, "property_id": r.property_id, "unit_id": r.unit_id},
        )
        for r in residents
        for to in recipients
    ]
    notifications.send_many(session, ids, messages, now=now)
    return len(messages)
