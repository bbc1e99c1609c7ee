"""Residents: the feature's errors, reading a resident, its status, and leaving: delete a
resident, end a lease (domain.md §2, §2.6, seed S3).

Every status change goes through ``set_status`` and the transition table in ``models``. The
rest of the feature is split along its rules: ``invitations`` (the landlord invites, the
resident accepts; the invitation text), ``signups`` (self sign-up, log-in), ``edits`` (the
landlord's corrections, the address checked before approval), ``emails`` (approval, merge and
landlord notices), ``approvals`` and ``merges`` (seed S3's outcomes), ``reminders`` (daily),
and balance intake in ``intake``, ``intake_rows``, ``intake_writes`` and ``roster``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import object_session
from sqlmodel import Session, col

from portal.core.db import get_row
from portal.core.errors import Conflict, InvalidTransition, NotFound, Unprocessable
from portal.core.ids import IdMinter
from portal.core.pagination import keyset
from portal.events import service as events
from portal.notifications import service as notifications
from portal.notifications.models import EmailKind
from portal.residents import leases as leases_service
from portal.residents.models import (
    LEASE_TRANSITIONS,
    RESIDENT_MERGE_RETIREMENT,
    RESIDENT_TRANSITIONS,
    Lease,
    LeaseStatus,
    Resident,
    ResidentStatus,
)


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
    session = object_session(resident)
    if session is not None:
        announce(session, resident, now)  # type: ignore[arg-type]  # sqlmodel's Session


#: The statuses a client is told of (issue 20), and the event each is.
STATUS_EVENTS = {
    ResidentStatus.INVITE: "resident.invited",
    ResidentStatus.PENDING: "resident.pending",
    ResidentStatus.APPROVED: "resident.approved",
    ResidentStatus.DELETED: "resident.deleted",
}


def announce(session: Session, resident: Resident, now: datetime) -> None:
    """The event of the status the resident has just taken (a new resident's too)."""
    kind = STATUS_EVENTS.get(resident.status)
    if kind is None:
        return
    data: dict[str, Any] = {"status": resident.status.value}
    if resident.merged_into is not None and resident.status is ResidentStatus.DELETED:
        kind, data["merged_into"] = "resident.merged", resident.merged_into
    events.emit(session, resident.workspace_id, kind, resident.id, now=now, data=data)


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
        if LeaseStatus.REMOVED in LEASE_TRANSITIONS[lease.status] and others == [resident.id]:
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
