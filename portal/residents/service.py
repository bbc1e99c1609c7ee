"""Residents: invite, sign up, accept, log in, edit, delete, end a lease (domain.md §2, seed S3).
Approval lives in ``approvals``, the daily reminders in ``reminders``.

Every status change goes through ``set_status`` and the transition table in ``models``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from portal.auth import service as auth_service
from portal.core.db import get_row
from portal.core.errors import Conflict, InvalidTransition, NotFound, Unprocessable
from portal.core.ids import IdMinter, new_secret
from portal.core.money import format_usd
from portal.core.pagination import keyset
from portal.notifications import service as notifications
from portal.notifications.models import EmailKind
from portal.properties import service as properties_service
from portal.properties.models import Property, Unit
from portal.residents import leases as leases_service
from portal.residents.models import (
    RESIDENT_MERGE_RETIREMENT,
    RESIDENT_TRANSITIONS,
    Lease,
    LeaseStatus,
    Resident,
    ResidentStatus,
)
from portal.workspaces.models import Workspace

INVITATION_SUBJECT = "Your property manager is inviting you to pay online"  # [H:2377813]


class ResidentNotFound(NotFound):
    code = "resident_not_found"


class ResidentNotPending(Conflict):
    code = "resident_not_pending"


class ResidentNotDeletable(Conflict):
    code = "resident_not_deletable"


class PropertyMissing(Conflict):
    code = "property_missing"


class UnitMissing(Conflict):
    code = "unit_missing"


class NoAccountingMatch(Conflict):
    code = "no_accounting_match"


class MergeNotPossible(Conflict):
    code = "merge_not_possible"


class AddressNotEditable(Conflict):
    code = "address_not_editable"


class ResidentEmailTaken(Conflict):
    code = "email_taken"


class InviteNotFound(NotFound):
    code = "invite_not_found"


class InviteAlreadyAccepted(Conflict):
    code = "invite_already_accepted"


class WorkspaceRequired(Unprocessable):
    code = "workspace_required"


def normalize_email(email: str | None) -> str | None:
    return email.strip().lower() if email and email.strip() else None


def set_status(
    resident: Resident, target: ResidentStatus, now: datetime, *, merged_into: str | None = None
) -> None:
    """The one place a resident's status changes (style.md B7). ``merged_into`` retires the
    resident by a merge: ``deleted`` from any status of ``RESIDENT_MERGE_RETIREMENT``, with
    the pointer its ID answers with from then on (seed S3)."""
    allowed = RESIDENT_TRANSITIONS[resident.status]
    if merged_into is not None:
        allowed = (
            frozenset({ResidentStatus.DELETED})
            if resident.status in RESIDENT_MERGE_RETIREMENT
            else frozenset()
        )
    if target not in allowed:
        raise InvalidTransition("resident", resident.status.value, target.value)
    resident.status = target
    resident.status_changed_at = now
    if merged_into is not None:
        resident.merged_into = merged_into


# --- reading ----------------------------------------------------------------------------------


def get_resident(
    session: Session, workspace_id: str, resident_id: str, *, for_update: bool = False
) -> Resident:
    """One live resident; ``for_update`` locks the row first (``db.get_row``) for a status
    change (issue 14)."""
    resident = get_row(session, Resident, (workspace_id, resident_id), for_update=for_update)
    if resident is None or resident.status is ResidentStatus.DELETED:
        if resident is not None and resident.merged_into:
            raise ResidentNotFound(
                f"Resident {resident_id} was merged into resident {resident.merged_into}.",
                extra={"merged_into": resident.merged_into},
            )
        raise ResidentNotFound(f"No resident {resident_id!r}.")
    return resident


def list_residents(
    session: Session,
    workspace_id: str,
    *,
    status: ResidentStatus | None,
    after: str | None,
    limit: int,
) -> list[Resident]:
    query = select(Resident).where(
        col(Resident.workspace_id) == workspace_id,
        col(Resident.status) != ResidentStatus.DELETED,
    )
    if status is not None:
        query = query.where(col(Resident.status) == status)
    query = keyset(query, col(Resident.id), after=after, limit=limit)
    return list(session.scalars(query))


# --- arriving ---------------------------------------------------------------------------------


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


def update_resident(
    session: Session,
    ids: IdMinter,
    resident: Resident,
    *,
    changes: Mapping[str, Any],
    now: datetime,
) -> Resident:
    """Edit name, e-mail, phone, and a pending or waiting resident's property and unit. A
    waiting resident who gets an e-mail is invited (§2.2)."""
    if "property_id" in changes or "unit_id" in changes:
        set_place(
            session,
            ids,
            resident,
            property_id=changes.get("property_id"),
            unit_id=changes.get("unit_id"),
            unit_given="unit_id" in changes,
            now=now,
        )
    if changes.get("name"):
        resident.name = changes["name"]
    if "phone" in changes:
        resident.phone = changes["phone"]
    if "email" in changes:
        email = normalize_email(changes["email"])
        if email != resident.email:
            resident.email = email
            if email and resident.status is ResidentStatus.WAITING:
                set_status(resident, ResidentStatus.INVITE, now)
                code, resident.invite_code = new_invite_code()
                lease_ids = leases_service.lease_ids_of(session, ids.scope, [resident.id])
                first = lease_ids[resident.id][0] if lease_ids[resident.id] else None
                notifications.send(session, ids, invite_email(resident, first, code), now=now)
    session.add(resident)
    session.flush()
    return resident


#: Whose property and unit the landlord may correct: before approval, "make sure the correct
#: address and unit are specified" (seed S3, domain.md §2.3); a waiting resident (no e-mail, no
#: login, never paid) moves with the lease they alone hold.
PLACE_EDITABLE = (ResidentStatus.PENDING, ResidentStatus.WAITING)


def set_place(
    session: Session,
    ids: IdMinter,
    resident: Resident,
    *,
    property_id: str | None,
    unit_id: str | None,
    unit_given: bool,
    now: datetime,
) -> None:
    """Correct where the resident lives: the unit must be a unit of the property, both of
    this workspace. Only the property: the unit is kept if it is in that property, else it
    is cleared (pick one before approving). A pending resident may be left without a unit
    ("UNASSIGNED", domain.md §2.1); a waiting one holds a lease, which needs a unit."""
    if resident.status not in PLACE_EDITABLE:
        raise AddressNotEditable(
            f"Resident {resident.id} is {resident.status.value}; the property and unit can be "
            "corrected only before approval (pending) or while waiting. To move an approved "
            "resident, end their lease (POST /v1/leases/{id}/end) and invite them to the new "
            "unit."
        )
    unit = properties_service.get_unit(session, ids.scope, unit_id) if unit_id else None
    target = property_id or (unit.property_id if unit else resident.property_id)
    if target is None:
        raise PropertyMissing(f"Resident {resident.id} has no property yet; send property_id.")
    prop = properties_service.get_property(session, ids.scope, target)
    if unit is not None and unit.property_id != prop.id:
        raise properties_service.UnitNotFound(
            f"Unit {unit.id!r} is not in property {prop.id!r}; pick a unit of that property "
            f"(GET /v1/properties/{prop.id}/units)."
        )
    if not unit_given:
        kept = session.get(Unit, (ids.scope, resident.unit_id)) if resident.unit_id else None
        unit = kept if kept is not None and kept.property_id == prop.id else None
    if resident.status is ResidentStatus.WAITING:
        _move_leases(session, ids, resident, unit.id if unit else None, now)
    resident.property_id = prop.id
    resident.unit_id = unit.id if unit else None
    session.add(resident)


def _move_leases(
    session: Session, ids: IdMinter, resident: Resident, unit_id: str | None, now: datetime
) -> None:
    """A waiting resident's lease goes where they go: it is theirs alone (a shared lease stays
    where the others live) and nothing has been paid on it, since they cannot log in."""
    if unit_id is None:
        raise AddressNotEditable(
            f"Resident {resident.id} is waiting with a lease, and a lease needs a unit; send "
            "unit_id."
        )
    leases = [
        lease
        for lease in leases_service.leases_of(session, ids.scope, resident.id)
        if lease.status is LeaseStatus.ACTIVE and lease.unit_id != unit_id
    ]
    holders = leases_service.resident_ids_of(session, ids.scope, [lease.id for lease in leases])
    for found in leases:
        if holders[found.id] != [resident.id]:
            raise AddressNotEditable(
                f"Lease {found.id} is shared with other residents; it stays in its unit. "
                "End it and invite the resident to the new unit instead."
            )
        lease = leases_service.get_lease(session, ids.scope, found.id, for_update=True)
        leases_service.update_lease(session, ids, lease, {"unit_id": unit_id}, amsi=False, now=now)


def resolve_workspace(session: Session, *, workspace_id: str | None, property_id: str) -> Workspace:
    """The workspace a public resident call means. Property IDs repeat across workspaces that
    share a seed, so an ambiguous one needs ``workspace_id`` (docs/decisions.md)."""
    query = select(col(Property.workspace_id)).where(col(Property.id) == property_id)
    if workspace_id is not None:
        query = query.where(col(Property.workspace_id) == workspace_id)
    found = list(session.scalars(query.limit(2)))
    if not found:
        raise properties_service.PropertyNotFound(f"No property {property_id!r}.")
    if len(found) > 1:
        raise WorkspaceRequired(
            f"Property {property_id!r} exists in several workspaces; send workspace_id too."
        )
    ws = session.get(Workspace, found[0])
    assert ws is not None
    return ws


def signup(
    session: Session,
    ids: IdMinter,
    *,
    email: str,
    password: str,
    name: str,
    phone: str | None,
    property_id: str,
    unit_id: str | None,
    now: datetime,
) -> Resident:
    """Self sign-up (domain.md §2.1): ``pending`` and the landlord is told, unless an invited or
    waiting resident of that unit has this e-mail, who is then approved at once (§2.3)."""
    prop = properties_service.get_property(session, ids.scope, property_id)
    unit = properties_service.get_unit(session, ids.scope, unit_id) if unit_id else None
    if unit is not None and unit.property_id != prop.id:
        raise properties_service.UnitNotFound(f"Unit {unit_id!r} is not in property {prop.id!r}.")
    email_n = normalize_email(email)
    assert email_n is not None
    same = list(
        session.scalars(
            select(Resident).where(
                col(Resident.workspace_id) == ids.scope,
                col(Resident.email) == email_n,
                col(Resident.status) != ResidentStatus.DELETED,
            )
        )
    )
    if any(r.password_hash for r in same):
        raise ResidentEmailTaken(f"{email_n} already has an account here; log in instead.")
    invited = [
        r
        for r in same
        if r.status in (ResidentStatus.INVITE, ResidentStatus.WAITING)
        and (unit is None or r.unit_id == unit.id)
    ]
    password_hash = auth_service.hash_password(password)
    if invited:
        resident = invited[0]
        resident.password_hash = password_hash
        resident.phone = resident.phone or phone
        set_status(resident, ResidentStatus.APPROVED, now)
        session.add(resident)
        send_approved(session, ids, resident, now)
        session.flush()
        return resident
    resident = Resident(
        workspace_id=ids.scope,
        id=ids.new("resident", "res"),
        name=name,
        email=email_n,
        phone=phone,
        status=ResidentStatus.PENDING,
        status_changed_at=now,
        password_hash=password_hash,
        property_id=prop.id,
        unit_id=unit.id if unit else None,
        created_at=now,
    )
    session.add(resident)
    session.flush()
    tell_landlords(session, ids, [resident], EmailKind.PENDING_APPROVAL, now)
    return resident


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


def find_login(
    session: Session, *, email: str, password: str, workspace_id: str | None
) -> Resident:
    query = select(Resident).where(
        col(Resident.email) == normalize_email(email),
        col(Resident.password_hash).is_not(None),
        col(Resident.status) != ResidentStatus.DELETED,
    )
    if workspace_id is not None:
        query = query.where(col(Resident.workspace_id) == workspace_id)
    matches = [
        r
        for r in session.scalars(query)
        if r.password_hash and auth_service.verify_password(password, r.password_hash)
    ]
    if not matches:
        raise auth_service.InvalidCredentials("The e-mail or password is wrong.")
    if len(matches) > 1:
        raise WorkspaceRequired("This login exists in several workspaces; send workspace_id too.")
    return matches[0]


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


# --- leaving ----------------------------------------------------------------------------------


def delete_resident(session: Session, ids: IdMinter, resident: Resident, *, now: datetime) -> None:
    """Pending, invited or waiting residents who never paid can be deleted, with the lease
    they alone hold ("yes, remove lease"); reminders stop (domain.md §2.6)."""
    deletable = (ResidentStatus.PENDING, ResidentStatus.INVITE, ResidentStatus.WAITING)
    if resident.status not in deletable or resident.has_paid:
        raise ResidentNotDeletable(
            f"Resident {resident.id} is {resident.status.value}"
            + (" and has paid" if resident.has_paid else "")
            + "; only pending, invited or waiting residents who never paid can be deleted. "
            "End their lease instead (POST /v1/leases/{id}/end)."
        )
    for lease in leases_service.leases_of(session, ids.scope, resident.id):
        others = leases_service.resident_ids_of(session, ids.scope, [lease.id])[lease.id]
        if lease.status is LeaseStatus.ACTIVE and others == [resident.id]:
            lease.status = LeaseStatus.REMOVED
            lease.ended_at = now
            session.add(lease)
            leases_service.record(session, ids, lease, "removed", {"resident_id": resident.id}, now)
    set_status(resident, ResidentStatus.DELETED, now)
    resident.invite_code = None
    session.add(resident)
    if resident.email:
        notifications.send(
            session,
            ids,
            notifications.Message(
                to=resident.email,
                subject="Your property manager removed your account",
                kind=EmailKind.DELETED,
                data={"resident_id": resident.id},
            ),
            now=now,
        )
    session.flush()


def end_lease(
    session: Session,
    ids: IdMinter,
    lease: Lease,
    *,
    uncollected_balance_cents: int | None,
    now: datetime,
) -> Lease:
    """Finish the lease; its residents with no other active lease become ``finished``."""
    leases_service.end_lease(
        session, ids, lease, uncollected_balance_cents=uncollected_balance_cents, now=now
    )
    for resident_id in leases_service.resident_ids_of(session, ids.scope, [lease.id])[lease.id]:
        resident = session.get(Resident, (ids.scope, resident_id))
        if resident is None or resident.status is ResidentStatus.DELETED:
            continue
        if leases_service.active_lease_count(session, ids.scope, resident.id) == 0:
            if ResidentStatus.FINISHED in RESIDENT_TRANSITIONS[resident.status]:
                set_status(resident, ResidentStatus.FINISHED, now)
                session.add(resident)
            if resident.email:
                notifications.send(
                    session,
                    ids,
                    notifications.Message(
                        to=resident.email,
                        subject="Your lease has ended; online payments have stopped",
                        kind=EmailKind.LEASE_ENDED,
                        data={"resident_id": resident.id, "lease_id": lease.id},
                    ),
                    now=now,
                )
    session.flush()
    return lease
