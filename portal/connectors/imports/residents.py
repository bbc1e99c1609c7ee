"""The import, the residents: every person of an imported lease is a resident (AMSI's
occupants, connectors.md §1.9; MRI's entries, §2.9), and on a later run each person is found
again among the lease's residents.

- A new resident is ``invite`` with an e-mail (the invitation of seed 003,
  ``invitations.invitation``, the one home of its text), else ``waiting`` (domain.md §2.2).
- People are matched to the lease's residents by e-mail, then by name (``match``); a matched
  resident follows the accounting system's name, e-mail and phone (an e-mail or phone it leaves
  out is kept); a waiting one whose e-mail arrives is invited; nobody is invited twice. Deleted
  residents take part in matching (the landlord removed that person, who is not added back) but
  never change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from portal.connectors.imports.rows import Person, name_key
from portal.notifications import service as notifications
from portal.residents import service as residents_service
from portal.residents.invitations import invitation, new_invite_code
from portal.residents.models import LeaseResident, Resident, ResidentStatus


def residents_of(session: Session, ws: str, lease_ids: list[str]) -> dict[str, list[Resident]]:
    """Each lease's residents, the living ones first, then by age: the order people are
    matched in."""
    out: dict[str, list[Resident]] = {lease_id: [] for lease_id in lease_ids}
    if not lease_ids:
        return out
    rows = session.execute(
        select(col(LeaseResident.lease_id), Resident)
        .join(
            Resident,
            (col(Resident.workspace_id) == col(LeaseResident.workspace_id))
            & (col(Resident.id) == col(LeaseResident.resident_id)),
        )
        .where(col(LeaseResident.workspace_id) == ws, col(LeaseResident.lease_id).in_(lease_ids))
        .order_by(col(Resident.created_at), col(Resident.id))
    )
    for lease_id, resident in rows:
        out[lease_id].append(resident)
    for residents in out.values():
        residents.sort(key=lambda r: r.status is ResidentStatus.DELETED)
    return out


def match(
    people: tuple[Person, ...], residents: list[Resident]
) -> list[tuple[Person, Resident | None]]:
    """Pair people with the lease's residents, each resident at most once: first by e-mail
    (the same address), then by name (case and spacing aside), in document and resident order.
    A stable rule: the same answers pair the same way on every run. eSite's ``OccuSeqNo`` or
    MRI's ``ResidentNameID`` would be a better key, but the portal keeps no per-resident
    accounting ID (§1.8: RT's AMSI import kept none either)."""
    free = list(residents)
    paired: list[Resident | None] = [None] * len(people)
    for by_email in (True, False):
        for n, person in enumerate(people):
            if paired[n] is not None or (by_email and not person.email):
                continue
            found = next((r for r in free if _same(r, person, by_email=by_email)), None)
            if found is not None:
                paired[n] = found
                free.remove(found)
    return list(zip(people, paired, strict=True))


def _same(resident: Resident, person: Person, *, by_email: bool) -> bool:
    if by_email:
        return resident.email == person.email
    return name_key(resident.name) == name_key(person.name)


def follow(
    resident: Resident,
    person: Person,
    lease_id: str,
    messages: list[notifications.Message],
    *,
    now: datetime,
) -> bool:
    """The accounting system's name, e-mail and phone for a matched resident; a waiting one
    whose e-mail arrives is invited (domain.md §2.2, as balance intake does). Whether anything
    changed."""
    wanted = {
        "name": person.name,
        "email": person.email or resident.email,
        "phone": person.phone or resident.phone,
    }
    changed = False
    for name, value in wanted.items():
        if getattr(resident, name) != value:
            setattr(resident, name, value)
            changed = True
    if resident.status is ResidentStatus.WAITING and resident.email:
        residents_service.set_status(resident, ResidentStatus.INVITE, now)
        code, resident.invite_code = new_invite_code()
        messages.append(invitation(resident.email, resident.name, resident.id, lease_id, code))
        changed = True
    return changed


@dataclass
class Made:
    """A resident just created, with the invitation code its e-mail carries (not stored)."""

    id: str
    name: str
    email: str | None
    code: str | None


def new_resident(
    session: Session,
    ws: str,
    resident_id: str,
    person: Person,
    unit_id: str,
    property_id: str,
    *,
    now: datetime,
) -> Made:
    """A person's resident: ``invite`` with an e-mail, else ``waiting`` (domain.md §2.2)."""
    code, digest = new_invite_code() if person.email else (None, None)
    session.add(
        Resident(
            workspace_id=ws,
            id=resident_id,
            name=person.name,
            email=person.email,
            phone=person.phone,
            status=ResidentStatus.INVITE if person.email else ResidentStatus.WAITING,
            status_changed_at=now,
            invite_code=digest,
            property_id=property_id,
            unit_id=unit_id,
            created_at=now,
        )
    )
    return Made(resident_id, person.name, person.email, code)


def links(ws: str, lease_id: str, made: list[Made]) -> list[LeaseResident]:
    return [LeaseResident(workspace_id=ws, lease_id=lease_id, resident_id=r.id) for r in made]


def invitations(made: list[Made], lease_id: str) -> list[notifications.Message]:
    """The invitation e-mail of seed 003, the one every path that invites sends."""
    return [
        invitation(r.email, r.name, r.id, lease_id, r.code)
        for r in made
        if r.email is not None and r.code is not None
    ]
