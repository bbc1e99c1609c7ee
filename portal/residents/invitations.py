"""Inviting a resident and accepting the invitation (domain.md §2.1, §2.2, seed S3): the
invitation code (only its digest is stored) and the invitation e-mail, the one home of its
text (style.md B17) that every path that invites sends, the bulk intake too."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from portal.auth import service as auth_service
from portal.core.ids import IdMinter, new_secret
from portal.notifications import service as notifications
from portal.notifications.models import EmailKind
from portal.properties import service as properties_service
from portal.residents import leases as leases_service
from portal.residents.models import Lease, Resident, ResidentStatus
from portal.residents.service import (
    InviteAlreadyAccepted,
    InviteNotFound,
    announce,
    normalize_email,
    set_status,
)

INVITATION_SUBJECT = "Your property manager is inviting you to pay online"  # [H:2377813]


def invite_digest(code: str) -> str:
    """What is stored for an invitation code: its SHA-256, as for integration tokens. The code
    itself is only e-mailed (the mailbox keeps the tester's copy of that e-mail)."""
    return auth_service.digest(code)


def new_invite_code() -> tuple[str, str]:
    """A fresh invitation code and its digest (store the digest, e-mail the code)."""
    code = new_secret(12)
    return code, invite_digest(code)


def invite_email(resident: Resident, lease_id: str | None, code: str) -> notifications.Message:
    assert resident.email is not None
    return invitation(resident.email, resident.name, resident.id, lease_id, code)


def invitation(
    to: str, name: str, resident_id: str, lease_id: str | None, code: str
) -> notifications.Message:
    """The invitation e-mail, the one home of its text (style.md B17): every path that
    invites sends this, the bulk intake too (``intake``: no Resident objects there)."""
    return notifications.Message(
        to=to,
        subject=INVITATION_SUBJECT,
        kind=EmailKind.INVITATION,
        body=(
            f"Hello {name}, your property manager invites you to pay rent online. "
            f"Your invite code is {code}."
        ),
        data={"invite_code": code, "resident_id": resident_id, "lease_id": lease_id},
    )


def send_invitations(
    session: Session,
    ids: IdMinter,
    *,
    names: Sequence[str],
    emails: Sequence[str | None],
    resident_ids: Sequence[str],
    lease_ids: Sequence[str],
    codes: Sequence[str | None],
    now: datetime,
) -> None:
    """The invitation e-mails of residents added in bulk (Send Balances, a scenario's load), in
    their order: one to each that has an e-mail and an invite code."""
    notifications.send_many(
        session,
        ids,
        [
            invitation(email, name, resident_id, lease_id, code)
            for name, email, resident_id, lease_id, code in zip(
                names, emails, resident_ids, lease_ids, codes, strict=True
            )
            if email and code
        ],
        now=now,
    )


def invite(
    session: Session,
    ids: IdMinter,
    *,
    name: str,
    email: str | None,
    phone: str | None,
    unit_id: str,
    rent_cents: int,
    due_day: int,
    start_date: date,
    end_date: date | None,
    external_resident_id: str | None,
    amsi: bool,
    now: datetime,
) -> tuple[Resident, Lease]:
    """The landlord adds a resident with a lease: ``invite`` with an invitation e-mail, or
    ``waiting`` when there is no e-mail yet (domain.md §2.1, §2.2)."""
    unit = properties_service.get_unit(session, ids.scope, unit_id)
    email = normalize_email(email)
    if external_resident_id:
        leases_service.check_external_resident_id(
            session, ids.scope, external_resident_id, amsi=amsi, lease=None
        )
    code, digest = new_invite_code() if email else (None, None)
    resident = Resident(
        workspace_id=ids.scope,
        id=ids.new("resident", "res"),
        name=name,
        email=email,
        phone=phone,
        status=ResidentStatus.INVITE if email else ResidentStatus.WAITING,
        status_changed_at=now,
        invite_code=digest,
        property_id=unit.property_id,
        unit_id=unit.id,
        created_at=now,
    )
    session.add(resident)
    announce(session, resident, now)
    session.flush()
    lease = leases_service.create_lease(
        session,
        ids,
        unit_id=unit.id,
        residents=[resident],
        rent_cents=rent_cents,
        start_date=start_date,
        end_date=end_date,
        due_day=due_day,
        external_resident_id=external_resident_id,
        now=now,
        origin="invite",
    )
    if code:
        notifications.send(session, ids, invite_email(resident, lease.id, code), now=now)
    return resident, lease


def accept_invite(session: Session, *, code: str, password: str, now_of: Any) -> Resident:
    """Invitation acceptance: the resident sets a password and is ``approved``. The code is
    found by its digest (only digests are stored), the row locked as ``db.get_row`` does, so
    of two concurrent acceptances one wins and the other is ``invite_already_accepted``."""
    resident = session.scalars(
        select(Resident).where(col(Resident.invite_code) == invite_digest(code)).with_for_update()
    ).first()
    if resident is None or resident.status is ResidentStatus.DELETED:
        raise InviteNotFound("This invite code is not valid.")
    return accept_invited(session, resident, password=password, now=now_of(resident.workspace_id))


def accept_invited(
    session: Session, resident: Resident, *, password: str, now: datetime
) -> Resident:
    """The invited ``resident`` sets a password and is ``approved`` (what accepting the
    invitation does; a scenario's approved resident is made so without the code)."""
    if resident.password_hash is not None:
        raise InviteAlreadyAccepted("This invitation was already accepted; log in instead.")
    if resident.status is not ResidentStatus.INVITE:
        raise InviteNotFound("This invite code is no longer valid.")
    resident.password_hash = auth_service.hash_password(password)
    set_status(resident, ResidentStatus.APPROVED, now)
    session.add(resident)
    session.flush()
    return resident
