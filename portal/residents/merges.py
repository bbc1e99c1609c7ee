"""Merging two records of one person (seed S3: "If this is the same user, then click on Yes
to merge"; domain.md §2.4): whether a merge is possible (``merge_refusal``, asked both when a
conflict offers it and when it runs), the conflict that offers it when a resident ID is taken,
and the merge itself, which moves the holder's leases and retires the holder."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from portal.core.ids import IdMinter
from portal.notifications import service as notifications
from portal.residents import leases as leases_service
from portal.residents.edits import check_place
from portal.residents.emails import merge_emails, send_approved
from portal.residents.leases import ResidentIdTaken
from portal.residents.models import (
    RESIDENT_MERGE_RETIREMENT,
    Lease,
    LeaseResident,
    LeaseStatus,
    Resident,
    ResidentStatus,
)
from portal.residents.service import MergeNotPossible, get_resident, set_status


@dataclass(frozen=True)
class Carried:
    """What a feature above residents moved from the retired resident to the one who stays on
    one lease: ``data`` goes into the lease's "merged" event, ``payments`` counts payments."""

    data: dict[str, Any] = field(default_factory=dict)
    payments: int = 0


@dataclass(frozen=True)
class MergeParticipant:
    """A feature above residents that keeps records per resident (payments). ``refusals``
    says, in sentences for the landlord, why the holder cannot be retired yet and what to do
    (none: safe); ``carry_over`` moves its records of one merged lease to the resident who
    stays. The app lists them (``portal.main``: ``app.state.merge_participants``): residents
    cannot import the features above it (import-linter)."""

    name: str
    refusals: Callable[[Session, str, Resident], list[str]]
    carry_over: Callable[[Session, str, Resident, Resident, Lease], Carried]


#: Who may receive a merge: a pending resident is approved by it (seed S3 "merge and
#: approve"); an approved or current one receives it after a manual approval, when the
#: landlord maps the accounting resident ID and finds it taken (seed S3 "Notes").
MERGE_RECEIVERS = (ResidentStatus.PENDING, ResidentStatus.APPROVED, ResidentStatus.CURRENT)


def _who(resident: Resident) -> str:
    return (
        f"{resident.name} <{resident.email or 'no e-mail'}> "
        f"(resident {resident.id}, {resident.status.value})"
    )


def _active_leases(session: Session, workspace_id: str, resident_id: str) -> list[Lease]:
    return [
        lease
        for lease in leases_service.leases_of(session, workspace_id, resident_id)
        if lease.status is LeaseStatus.ACTIVE
    ]


def merge_refusal(
    session: Session,
    workspace_id: str,
    into: Resident,
    holder: Resident,
    participants: Sequence[MergeParticipant],
) -> str | None:
    """The one answer to "can ``holder`` be merged into ``into``", asked both when a conflict
    offers the merge and when the merge runs, so an offered merge is never refused: None, or
    why not and what the landlord can do."""
    if holder.id == into.id:
        return "A resident cannot be merged with themselves."
    if into.status not in MERGE_RECEIVERS:
        return (
            f"{_who(into)} cannot receive a merge: only a pending resident (merged while "
            "approving) or an approved or current one can."
        )
    if holder.status is ResidentStatus.PENDING:
        return (
            f"{_who(holder)} is pending too and holds no lease: approve one of them and "
            f"delete the other (DELETE /v1/residents/{holder.id})."
        )
    if holder.status not in RESIDENT_MERGE_RETIREMENT:
        return (
            f"{_who(holder)} is {holder.status.value}; their lease has ended and an ended "
            "lease cannot be reopened (domain.md §2.6). Give the resident a lease of their own "
            "with a resident ID of their own."
        )
    if not _active_leases(session, workspace_id, holder.id):
        return f"{_who(holder)} has no active lease to merge."
    reasons = [
        reason
        for participant in participants
        for reason in participant.refusals(session, workspace_id, holder)
    ]
    if reasons:
        return f"{_who(holder)} cannot be retired yet: " + " ".join(reasons)
    return None


def merge_offer(into: Resident, holder: Resident) -> dict[str, Any]:
    """The exact request that merges ``holder`` into ``into``: the approval of a pending
    resident, or the merge of an approved one."""
    if into.status is ResidentStatus.PENDING:
        return {
            "method": "POST",
            "path": f"/v1/residents/{into.id}/approve",
            "body": {"mode": "merge", "merge_with": holder.id},
        }
    return {
        "method": "POST",
        "path": f"/v1/residents/{into.id}/merge",
        "body": {"merge_with": holder.id},
    }


def lease_id_taken(
    session: Session,
    workspace_id: str,
    value: str,
    into: Sequence[Resident],
    participants: Sequence[MergeParticipant],
) -> ResidentIdTaken:
    """The conflict when the accounting resident ID is held by another resident (seed S3:
    "a message with the name of the other user it is assigned to"; domain.md §2.4): it names
    each holder (ID, name, e-mail, status) and offers the merge when ``merge_refusal`` allows
    it, else says why not."""
    held = leases_service.holders_of_external_id(session, workspace_id, value)
    assert held is not None
    lease, residents = held
    into_ids = {r.id for r in into}
    others = [r for r in residents if r.id not in into_ids]
    offer: tuple[Resident, Resident] | None = None
    refusal: str | None = None
    for receiver in into:
        for holder in others:
            why = merge_refusal(session, workspace_id, receiver, holder, participants)
            if why is None:
                offer = (receiver, holder)
                break
            refusal = refusal or why
        if offer:
            break
    names = ", ".join(_who(r) for r in others) or "a removed record"
    detail = f"Resident ID {value!r} is already used by {names} on lease {lease.id}."
    if offer is not None:
        receiver, holder = offer
        request = merge_offer(receiver, holder)
        detail += (
            f" If that is the same person, merge: {request['method']} {request['path']} "
            f"{json.dumps(request['body'])} moves that lease (resident ID, rent, balance and "
            f"the payments made on it) to {receiver.name} and retires {holder.id}."
        )
        if receiver.status is not ResidentStatus.PENDING:
            detail += (
                f" {receiver.name} keeps their own lease; end it if it duplicates the merged one"
                " (POST /v1/leases/{id}/end)."
            )
    elif refusal is not None:
        detail += f" A merge is not possible: {refusal}"
    detail += (
        " If it is not the same person, each person needs a unique resident ID."
        if offer or refusal
        else " Each person needs a unique resident ID."
    )
    return ResidentIdTaken(
        detail,
        extra={
            "merge_with": offer[1].id if offer else None,
            "merge": merge_offer(*offer) if offer else None,
            "merge_refused": None if offer else refusal,
            "other_lease_id": lease.id,
            "other_residents": [
                {"id": r.id, "name": r.name, "email": r.email, "status": r.status.value}
                for r in others
            ],
        },
    )


def check_lease_id(
    session: Session,
    ids: IdMinter,
    value: str,
    *,
    amsi: bool,
    into: Sequence[Resident],
    participants: Sequence[MergeParticipant],
) -> None:
    """The lease-ID rules (``leases.check_external_resident_id``), with the merge offer when
    the ID is taken."""
    try:
        leases_service.check_external_resident_id(session, ids.scope, value, amsi=amsi, lease=None)
    except ResidentIdTaken:
        raise lease_id_taken(session, ids.scope, value, into, participants) from None


def update_lease(
    session: Session,
    ids: IdMinter,
    lease: Lease,
    changes: dict[str, Any],
    *,
    amsi: bool,
    participants: Sequence[MergeParticipant],
    now: datetime,
) -> Lease:
    """The landlord's lease edit; mapping a resident ID another resident holds offers to merge
    that resident into this lease's (seed S3: "If you have manually approved a resident ...
    click 'edit' to add their resident ID ... click on Yes to merge")."""
    try:
        return leases_service.update_lease(session, ids, lease, changes, amsi=amsi, now=now)
    except ResidentIdTaken:
        on_lease = leases_service.resident_ids_of(session, ids.scope, [lease.id])[lease.id]
        into = [
            r
            for r in (session.get(Resident, (ids.scope, rid)) for rid in on_lease)
            if r is not None and r.status in MERGE_RECEIVERS
        ]
        raise lease_id_taken(
            session, ids.scope, changes["external_resident_id"], into, participants
        ) from None


def merge(
    session: Session,
    ids: IdMinter,
    into: Resident,
    *,
    merge_with: str,
    participants: Sequence[MergeParticipant],
    now: datetime,
) -> Resident:
    """The landlord confirmed "this is the same user" (seed S3): every active lease of the
    other resident, with its accounting details (resident ID, rent, balance, ledger basis)
    and the payments made on it, moves to ``into``, who stays; the other record is retired
    whatever its state and its ID answers 404 naming ``into`` (domain.md §2.4). A pending
    ``into`` is approved by it. Money does not move: payments stay on their lease, and each
    one whose payer is re-pointed is listed in the lease's "merged" event. ``into`` is locked
    by the caller; the other resident and the leases are locked here."""
    approving = into.status is ResidentStatus.PENDING
    if approving:
        check_place(session, into)
    if merge_with == into.id:
        raise MergeNotPossible("A resident cannot be merged with themselves.")
    holder = get_resident(session, ids.scope, merge_with, for_update=True)
    refusal = merge_refusal(session, ids.scope, into, holder, participants)
    if refusal is not None:
        raise MergeNotPossible(refusal, extra={"merge_with": holder.id})
    moved = [
        leases_service.get_lease(session, ids.scope, lease.id, for_update=True)
        for lease in _active_leases(session, ids.scope, holder.id)
    ]
    paid = 0
    for lease in moved:
        paid += _move_lease(session, ids, lease, holder, into, participants, now)
    into.phone = into.phone or holder.phone
    into.has_paid = into.has_paid or paid > 0
    holder_was_current = holder.status is ResidentStatus.CURRENT
    set_status(holder, ResidentStatus.DELETED, now, merged_into=into.id)
    holder.invite_code = None
    session.add(holder)
    if approving:
        set_status(into, ResidentStatus.APPROVED, now)
    # The lease is being paid through the portal already (domain.md §2.2 CURRENT).
    if holder_was_current and paid and into.status is ResidentStatus.APPROVED:
        set_status(into, ResidentStatus.CURRENT, now)
    session.add(into)
    if approving:
        send_approved(session, ids, into, now, merged=moved)
    notifications.send_many(
        session, ids, merge_emails(into, holder, moved, approval_sent=approving), now=now
    )
    session.flush()
    return into


def _move_lease(
    session: Session,
    ids: IdMinter,
    lease: Lease,
    holder: Resident,
    into: Resident,
    participants: Sequence[MergeParticipant],
    now: datetime,
) -> int:
    link = session.get(LeaseResident, (ids.scope, lease.id, holder.id))
    if link is not None:
        session.delete(link)
    session.flush()
    if session.get(LeaseResident, (ids.scope, lease.id, into.id)) is None:
        session.add(LeaseResident(workspace_id=ids.scope, lease_id=lease.id, resident_id=into.id))
    data: dict[str, Any] = {"from_resident": holder.id, "into_resident": into.id}
    paid = 0
    for participant in participants:
        carried = participant.carry_over(session, ids.scope, holder, into, lease)
        data.update(carried.data)
        paid += carried.payments
    leases_service.record(session, ids, lease, "merged", data, now)
    return paid
