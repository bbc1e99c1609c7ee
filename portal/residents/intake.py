"""Balance intake, the residents side: upsert properties, units, residents, leases and the
accounting records from one "Send Balances" call, in bulk (domain.md §3).

Set-based on purpose (architecture.md §3, perf-baseline.md §8): the workspace's current state is
read in a handful of queries, compared in memory, and written with Core ``executemany``
statements (``intake_writes``); no per-row ORM objects. Rows (``intake_rows``) are keyed by the
accounting system's resident ID. A new resident with an e-mail is invited, one without is
``waiting``; enrolled residents keep their status and get the new balance; residents absent
from the call are left alone. The client's grid of what it sent is ``roster``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from portal.core.ids import IdMinter
from portal.notifications import service as notifications
from portal.properties import service as properties_service
from portal.residents import intake_writes
from portal.residents import leases as leases_service
from portal.residents.intake_rows import (
    CLIENT_STATUS,
    LEASE_FIELDS,
    Row,
    check_resident_ids,
    lease_values,
)
from portal.residents.invitations import invitation, new_invite_code
from portal.residents.models import Lease, LeaseResident, LeaseStatus, Resident, ResidentStatus
from portal.residents.service import normalize_email


@dataclass
class Outcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    invited: int = 0
    waiting: int = 0
    statuses: list[tuple[str, str]] = field(default_factory=list)
    property_ids: list[str] = field(default_factory=list)


def receive(
    session: Session,
    ids: IdMinter,
    rows: Sequence[Row],
    *,
    integration_id: str,
    amsi: bool,
    today: date,
    now: datetime,
) -> Outcome:
    """Upsert the call's rows (the module docstring); ``amsi``: the caller is an AMSI
    integration, whose resident IDs follow the ResiID rule."""
    check_resident_ids(rows, amsi=amsi)
    ws = ids.scope
    out = Outcome()
    unit_ids = _places(session, ids, rows, out, now=now)
    # The properties an accounting client sends balances for are its own (their receipt
    # batches are its to load), unless another client claimed them first.
    properties_service.claim_properties(session, ws, out.property_ids, integration_id)
    leases = _existing_leases(session, ws)
    people = _lease_people(session, ws)
    new_rows = [r for r in rows if r.resident_id not in leases]
    created = intake_writes.create(session, ids, new_rows, unit_ids, today=today, now=now)
    lease_updates: list[dict[str, Any]] = []
    resident_updates: list[dict[str, Any]] = []
    invitations: list[notifications.Message] = []
    for row in rows:
        if row.resident_id in created:
            status = created[row.resident_id]
            out.created += 1
            out.invited += status is ResidentStatus.INVITE
            out.waiting += status is ResidentStatus.WAITING
            out.statuses.append((row.resident_id, CLIENT_STATUS[status]))
            continue
        lease = leases[row.resident_id]
        # A row without dates keeps the lease's start: "today" must not change it daily.
        wanted = lease_values(row, unit_ids[row.unit_id], lease["start_date"])
        diff = {k: v for k, v in wanted.items() if lease[k] != v}
        person = people.get(lease["id"])
        changed_person, status, invited = _person_changes(row, person, resident_updates, now)
        if invited is not None:
            invitations.append(invited)
            out.invited += 1
        if diff and lease["status"] is LeaseStatus.ACTIVE:
            balance_at = leases_service.balance_set_at(
                lease["balance_cents"], wanted["balance_cents"], now
            )
            lease_updates.append(
                {"b_id": lease["id"], **{**lease, **wanted}, "balance_at": balance_at}
            )
        if (diff and lease["status"] is LeaseStatus.ACTIVE) or changed_person:
            out.updated += 1
        else:
            out.unchanged += 1
        out.waiting += status is ResidentStatus.WAITING
        out.statuses.append((row.resident_id, CLIENT_STATUS[status]))
    # Free the workspace snapshot before the records pass reads its own (peak memory).
    del leases, people, created
    intake_writes.write_lease_updates(session, ws, lease_updates, ids, now)
    intake_writes.write_resident_updates(session, ws, resident_updates)
    del lease_updates, resident_updates
    if invitations:
        notifications.send_many(session, ids, invitations, now=now)
    intake_writes.records(session, ids, rows, integration_id=integration_id, now=now)
    return out


def _places(
    session: Session, ids: IdMinter, rows: Sequence[Row], out: Outcome, *, now: datetime
) -> dict[str, str]:
    """Find or create every property and unit the rows name; external unit ID -> unit ID."""
    props = properties_service.properties_by_external_id(session, ids.scope)
    missing_props: dict[str, str] = {}
    for row in rows:
        if row.property_id not in props and row.property_id not in missing_props:
            missing_props[row.property_id] = row.property_address
    props.update(
        properties_service.bulk_create_properties(
            session, ids, list(missing_props.items()), now=now
        )
    )
    out.property_ids = list(dict.fromkeys(props[r.property_id] for r in rows))
    units = properties_service.units_by_external_id(session, ids.scope)
    missing_units: dict[str, tuple[str, str, str]] = {}
    for row in rows:
        if row.unit_id not in units and row.unit_id not in missing_units:
            missing_units[row.unit_id] = (row.unit_id, props[row.property_id], row.unit)
    found = {ext: uid for ext, (uid, _pid) in units.items()}
    found.update(
        properties_service.bulk_create_units(session, ids, list(missing_units.values()), now=now)
    )
    return found


def _existing_leases(session: Session, ws: str) -> dict[str, dict[str, Any]]:
    columns = [col(Lease.id), col(Lease.external_resident_id), col(Lease.status)] + [
        getattr(Lease, f) for f in LEASE_FIELDS
    ]
    rows = session.execute(
        select(*columns).where(
            col(Lease.workspace_id) == ws,
            # Send Balances keys by resident ID across the workspace; leases the AMSI import
            # keyed by unit are its own (``Lease.external_scope``).
            col(Lease.external_scope) == "",
            col(Lease.external_resident_id).is_not(None),
        )
    )
    # dict(zip(...)) per row, not ``.mappings()``: a third of the time for 50,000 leases.
    names = list(rows.keys())
    return {r[1]: dict(zip(names, r, strict=True)) for r in rows}


def _lease_people(session: Session, ws: str) -> dict[str, dict[str, Any]]:
    """Lease ID -> its first living resident (the one the accounting row describes)."""
    rows = session.execute(
        select(
            col(LeaseResident.lease_id),
            col(Resident.id),
            col(Resident.status),
            col(Resident.name),
            col(Resident.email),
            col(Resident.phone),
            col(Resident.invite_code),
        )
        .join(
            Resident,
            (col(Resident.workspace_id) == col(LeaseResident.workspace_id))
            & (col(Resident.id) == col(LeaseResident.resident_id)),
        )
        .where(
            col(LeaseResident.workspace_id) == ws,
            col(Resident.status) != ResidentStatus.DELETED,
        )
        .order_by(col(LeaseResident.lease_id), col(Resident.id))
    )
    names = list(rows.keys())
    people: dict[str, dict[str, Any]] = {}
    for r in rows:
        if r[0] not in people:
            people[r[0]] = dict(zip(names, r, strict=True))
    return people


def _person_changes(
    row: Row,
    person: dict[str, Any] | None,
    updates: list[dict[str, Any]],
    now: datetime,
) -> tuple[bool, ResidentStatus, notifications.Message | None]:
    """Name, e-mail and phone follow the accounting system; a waiting resident whose e-mail
    arrives is invited (domain.md §2.2): the new code's digest is stored, the code e-mailed."""
    if person is None:
        return False, ResidentStatus.DELETED, None
    status: ResidentStatus = person["status"]
    email = normalize_email(row.email)
    wanted = {
        "name": row.name,
        "email": email or person["email"],
        "phone": row.phone or person["phone"],
    }
    changed = {k: v for k, v in wanted.items() if person[k] != v}
    invited = None
    digest = person["invite_code"]
    if status is ResidentStatus.WAITING and wanted["email"]:
        status = ResidentStatus.INVITE
        code, digest = new_invite_code()
        invited = invitation(
            wanted["email"], wanted["name"], person["id"], person["lease_id"], code
        )
    if not changed and invited is None:
        return False, status, None
    updates.append(
        {
            "b_id": person["id"],
            **wanted,
            "status": status,
            "invite_code": digest,
            "status_changed_at": now if invited is not None else None,
        }
    )
    return True, status, invited
