"""Balance intake, the residents side: upsert properties, units, residents, leases and the
accounting records from one "Send Balances" call, in bulk (domain.md §3).

Set-based on purpose (architecture.md §3, perf-baseline.md §8): the workspace's current state is
read in a handful of queries, compared in memory, and written with Core ``executemany``
statements; no per-row ORM objects. Rows are keyed by the accounting system's resident ID.
A new resident with an e-mail is invited, one without is ``waiting``; enrolled residents keep
their status and get the new balance; residents absent from the call are left alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlmodel import Session, col

from portal.core.db import UTCDateTime, bulk_insert
from portal.core.errors import FieldError
from portal.core.ids import IdMinter, new_secrets, reserve
from portal.core.pagination import keyset
from portal.notifications import service as notifications
from portal.properties import service as properties_service
from portal.properties.models import Unit
from portal.residents import leases as leases_service
from portal.residents.models import (
    AccountingRecord,
    Lease,
    LeaseEvent,
    LeaseResident,
    LeaseStatus,
    PaymentsSetting,
    Resident,
    ResidentStatus,
)
from portal.residents.service import invitation, invite_digest, new_invite_code

#: The status the client's grid shows (seed S0: ACTIVE, INVITE, WAITING).
CLIENT_STATUS = {
    ResidentStatus.APPROVED: "ACTIVE",
    ResidentStatus.CURRENT: "ACTIVE",
    ResidentStatus.INVITE: "INVITE",
    ResidentStatus.WAITING: "WAITING",
    ResidentStatus.PENDING: "PENDING",
    ResidentStatus.FINISHED: "FINISHED",
    ResidentStatus.DELETED: "DELETED",
}


@dataclass(frozen=True)
class Row:
    """One validated line of the call (amounts in cents)."""

    resident_id: str
    property_id: str
    property_address: str
    unit_id: str
    unit: str
    name: str
    email: str | None
    phone: str | None
    rent_cents: int
    balance_cents: int
    disputed_cents: int
    pay_full_balance_only: bool
    payment_accepted: PaymentsSetting
    lease_start: date | None
    lease_end: date | None
    move_in: date | None


@dataclass
class Outcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    invited: int = 0
    waiting: int = 0
    statuses: list[tuple[str, str]] = field(default_factory=list)
    property_ids: list[str] = field(default_factory=list)


_LEASE_FIELDS = (
    "unit_id",
    "rent_cents",
    "balance_cents",
    "disputed_cents",
    "accounting_payments",
    "pay_full_balance_only",
    "start_date",
    "end_date",
    "move_in",
)
_RECORD_FIELDS = (
    "integration_id",
    "external_property_id",
    "external_unit_id",
    "name",
    "email",
    "phone",
    "rent_cents",
    "balance_cents",
    "disputed_cents",
    "property_address",
    "unit_name",
    "lease_start",
    "lease_end",
    "move_in",
    "payment_accepted",
    "pay_full_balance_only",
)


def _email(value: str | None) -> str | None:
    return value.strip().lower() if value and value.strip() else None


def check_resident_ids(rows: Sequence[Row], *, amsi: bool) -> None:
    """The lease-ID rules of the single-resident paths, for a whole call (the same function,
    ``leases.amsi_full_id_refusal``, per row): an AMSI client's whole
    Property-Building-Unit-ResiID identifier refuses the call, as any other bad row does
    (422, nothing written), each such row named with its index (seed S1, domain.md §2.4)."""
    if not amsi:
        return
    refused = [
        (n, refusal)
        for n, row in enumerate(rows)
        if (refusal := leases_service.amsi_full_id_refusal(row.resident_id)) is not None
    ]
    if not refused:
        return
    first = refused[0][1]
    more = f" ({len(refused)} rows send such IDs; see errors.)" if len(refused) > 1 else ""
    raise leases_service.AmsiResidentIdFormat(
        first.detail + more,
        errors=[
            FieldError(f"$.residents[{n}].resident_id", refusal.detail, refusal.code, row=n)
            for n, refusal in refused[:100]
        ],
        extra=first.extra,
    )


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
    created = _create(session, ids, new_rows, unit_ids, today=today, now=now)
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
        wanted = _lease_values(row, unit_ids[row.unit_id], lease["start_date"])
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
    _write_lease_updates(session, ws, lease_updates, ids, now)
    _write_resident_updates(session, ws, resident_updates)
    del lease_updates, resident_updates
    if invitations:
        notifications.send_many(session, ids, invitations, now=now)
    _records(session, ids, rows, integration_id=integration_id, now=now)
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
        getattr(Lease, f) for f in _LEASE_FIELDS
    ]
    rows = session.execute(
        select(*columns).where(
            col(Lease.workspace_id) == ws, col(Lease.external_resident_id).is_not(None)
        )
    ).mappings()
    return {r["external_resident_id"]: dict(r) for r in rows}


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
    ).mappings()
    people: dict[str, dict[str, Any]] = {}
    for r in rows:
        people.setdefault(r["lease_id"], dict(r))
    return people


def _lease_values(row: Row, unit_id: str, today: date) -> dict[str, Any]:
    return {
        "unit_id": unit_id,
        "rent_cents": row.rent_cents,
        "balance_cents": row.balance_cents,
        "disputed_cents": row.disputed_cents,
        "accounting_payments": row.payment_accepted,
        "pay_full_balance_only": row.pay_full_balance_only,
        "start_date": row.lease_start or row.move_in or today,
        "end_date": row.lease_end,
        "move_in": row.move_in,
    }


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
    email = _email(row.email)
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


def _create(
    session: Session,
    ids: IdMinter,
    rows: Sequence[Row],
    unit_ids: dict[str, str],
    *,
    today: date,
    now: datetime,
) -> dict[str, ResidentStatus]:
    """New residents, leases, links and history, one statement per table, each table's rows
    built just before its insert and dropped after it (peak memory stays bounded at 50,000
    rows); invitations go out."""
    if not rows:
        return {}
    ws = ids.scope
    resident_ids = ids.many("resident", len(rows), "res")
    lease_ids = ids.many("lease", len(rows), "lease")
    emails = [_email(row.email) for row in rows]
    codes = [
        code if email else None for code, email in zip(new_secrets(len(rows)), emails, strict=True)
    ]
    # Only the digests are stored; the codes themselves go out in the e-mails below.
    digests = [invite_digest(code) if code else None for code in codes]
    places = [unit_ids[row.unit_id] for row in rows]
    unit_property = _unit_properties(session, ws)
    bulk_insert(
        session,
        Resident,
        [
            {
                "workspace_id": ws,
                "id": resident_ids[n],
                "name": row.name,
                "email": emails[n],
                "phone": row.phone,
                "status": ResidentStatus.INVITE if emails[n] else ResidentStatus.WAITING,
                "status_changed_at": now,
                "password_hash": None,
                "invite_code": digests[n],
                "property_id": unit_property.get(places[n]),
                "unit_id": places[n],
                "merged_into": None,
                "has_paid": False,
                "created_at": now,
            }
            for n, row in enumerate(rows)
        ],
    )
    del digests
    basis_seq = leases_service.ledger_seq(session, ws)
    bulk_insert(
        session,
        Lease,
        [
            {
                "workspace_id": ws,
                "id": lease_ids[n],
                "balance_basis_cents": row.balance_cents,
                "balance_basis_seq": basis_seq,
                "status": LeaseStatus.ACTIVE,
                "due_day": 1,
                "external_resident_id": row.resident_id,
                "payments": PaymentsSetting.ALLOWED,
                "balance_at": leases_service.balance_set_at(None, row.balance_cents, now),
                "uncollected_balance_cents": None,
                "ended_at": None,
                "created_at": now,
                **_lease_values(row, places[n], today),
            }
            for n, row in enumerate(rows)
        ],
    )
    bulk_insert(
        session,
        LeaseResident,
        [
            {"workspace_id": ws, "lease_id": lid, "resident_id": rid}
            for lid, rid in zip(lease_ids, resident_ids, strict=True)
        ],
    )
    first_seq = reserve(session, ws, "lease_event_seq", len(rows))
    bulk_insert(
        session,
        LeaseEvent,
        [
            {
                "workspace_id": ws,
                "id": eid,
                "lease_id": lease_ids[n],
                "seq": first_seq + n,
                "kind": "created",
                "data": {"origin": "balances", "resident_ids": [resident_ids[n]]},
                "at": now,
            }
            for n, eid in enumerate(ids.many("lease_event", len(rows), "lev"))
        ],
    )
    notifications.send_many(
        session,
        ids,
        [
            invitation(email, row.name, resident_ids[n], lease_ids[n], code)
            for n, (row, email, code) in enumerate(zip(rows, emails, codes, strict=True))
            if email and code
        ],
        now=now,
    )
    return {
        row.resident_id: ResidentStatus.INVITE if emails[n] else ResidentStatus.WAITING
        for n, row in enumerate(rows)
    }


def _unit_properties(session: Session, ws: str) -> dict[str, str]:
    rows = session.execute(
        select(col(Unit.id), col(Unit.property_id)).where(col(Unit.workspace_id) == ws)
    )
    return {row[0]: row[1] for row in rows}


def _write_lease_updates(
    session: Session, ws: str, updates: list[dict[str, Any]], ids: IdMinter, now: datetime
) -> None:
    if not updates:
        return
    stmt = (
        update(Lease)
        .where(col(Lease.workspace_id) == ws, col(Lease.id) == bindparam("b_id"))
        .values(
            {f: bindparam(f) for f in _LEASE_FIELDS}
            # What the accounting system sent is the basis the ledger check replays from.
            | {
                # None from ``leases.balance_set_at``: the balance did not move, keep it.
                "balance_at": func.coalesce(
                    bindparam("balance_at", type_=UTCDateTime()), col(Lease.balance_at)
                ),
                "balance_basis_cents": bindparam("balance_cents"),
                "balance_basis_seq": leases_service.ledger_seq(session, ws),
            }
        )
    )
    session.connection().execute(
        stmt, [{k: u[k] for k in (*_LEASE_FIELDS, "b_id", "balance_at")} for u in updates]
    )
    first_seq = reserve(session, ws, "lease_event_seq", len(updates))
    event_ids = ids.many("lease_event", len(updates), "lev")
    bulk_insert(
        session,
        LeaseEvent,
        [
            {
                "workspace_id": ws,
                "id": eid,
                "lease_id": u["b_id"],
                "seq": first_seq + n,
                "kind": "changed",
                "data": {"origin": "balances"},
                "at": now,
            }
            for n, (eid, u) in enumerate(zip(event_ids, updates, strict=True))
        ],
    )


def _write_resident_updates(session: Session, ws: str, updates: list[dict[str, Any]]) -> None:
    if not updates:
        return
    plain = [u for u in updates if u["status_changed_at"] is None]
    invited = [u for u in updates if u["status_changed_at"] is not None]
    base = update(Resident).where(
        col(Resident.workspace_id) == ws, col(Resident.id) == bindparam("b_id")
    )
    fields = ("name", "email", "phone")
    if plain:
        session.connection().execute(
            base.values({f: bindparam(f) for f in fields}),
            [{k: u[k] for k in (*fields, "b_id")} for u in plain],
        )
    if invited:
        more = (*fields, "status", "invite_code", "status_changed_at")
        session.connection().execute(
            base.values({f: bindparam(f) for f in more}),
            [{k: u[k] for k in (*more, "b_id")} for u in invited],
        )


def _records(
    session: Session, ids: IdMinter, rows: Sequence[Row], *, integration_id: str, now: datetime
) -> None:
    """Keep the latest accounting record per resident ID (what "approve by sync" reads)."""
    ws = ids.scope
    # Tuples, not dicts: this snapshot holds one entry per resident the workspace knows.
    existing = {
        r[1]: (r[0], tuple(r[2:]))
        for r in session.execute(
            select(
                col(AccountingRecord.id),
                col(AccountingRecord.external_resident_id),
                *[getattr(AccountingRecord, f) for f in _RECORD_FIELDS],
            ).where(col(AccountingRecord.workspace_id) == ws)
        )
    }
    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for row in rows:
        values = {
            "integration_id": integration_id,
            "external_property_id": row.property_id,
            "external_unit_id": row.unit_id,
            "name": row.name,
            "email": _email(row.email),
            "phone": row.phone,
            "rent_cents": row.rent_cents,
            "balance_cents": row.balance_cents,
            "disputed_cents": row.disputed_cents,
            "property_address": row.property_address,
            "unit_name": row.unit,
            "lease_start": row.lease_start,
            "lease_end": row.lease_end,
            "move_in": row.move_in,
            "payment_accepted": row.payment_accepted,
            "pay_full_balance_only": row.pay_full_balance_only,
        }
        old = existing.get(row.resident_id)
        if old is None:
            new.append(
                {
                    "workspace_id": ws,
                    "external_resident_id": row.resident_id,
                    "received_at": now,
                    **values,
                }
            )
        elif old[1] != tuple(values[f] for f in _RECORD_FIELDS):
            changed.append({"b_id": old[0], "received_at": now, **values})
    if new:
        for record, rid in zip(new, ids.many("accounting_record", len(new), "acr"), strict=True):
            record["id"] = rid
        bulk_insert(session, AccountingRecord, new)
    if changed:
        stmt = (
            update(AccountingRecord)
            .where(
                col(AccountingRecord.workspace_id) == ws,
                col(AccountingRecord.id) == bindparam("b_id"),
            )
            .values({f: bindparam(f) for f in (*_RECORD_FIELDS, "received_at")})
        )
        session.connection().execute(stmt, changed)


@dataclass(frozen=True)
class RosterLine:
    resident_id: str
    lease_id: str
    status: str
    name: str
    email: str | None
    phone: str | None
    property: str
    rent_cents: int
    balance_cents: int
    disputed_cents: int


def roster(
    session: Session, ws: str, integration_id: str, *, after: str | None, limit: int
) -> list[RosterLine]:
    """The client's grid (seed S0: Status, Resident, Email, Phone, Property, Amount, Last
    Payment, Balance) for the residents this integration sent, by resident ID."""
    query = (
        select(AccountingRecord, Lease)
        .join(
            Lease,
            (col(Lease.workspace_id) == col(AccountingRecord.workspace_id))
            & (col(Lease.external_resident_id) == col(AccountingRecord.external_resident_id)),
        )
        .where(
            col(AccountingRecord.workspace_id) == ws,
            col(AccountingRecord.integration_id) == integration_id,
        )
    )
    query = keyset(query, col(AccountingRecord.external_resident_id), after=after, limit=limit)
    page = list(session.execute(query))
    people = _people_of(session, ws, [lease.id for _record, lease in page])
    lines = []
    for record, lease in page:
        person = people.get(lease.id)
        lines.append(
            RosterLine(
                resident_id=record.external_resident_id,
                lease_id=lease.id,
                status=CLIENT_STATUS[person.status] if person else "DELETED",
                name=person.name if person else record.name,
                email=person.email if person else record.email,
                phone=person.phone if person else record.phone,
                property=properties_service.place_label(record.property_address, record.unit_name),
                rent_cents=lease.rent_cents,
                balance_cents=lease.balance_cents,
                disputed_cents=lease.disputed_cents,
            )
        )
    return lines


def _people_of(session: Session, ws: str, lease_ids: list[str]) -> dict[str, Resident]:
    """Lease ID -> its first living resident, for one page of leases."""
    rows = session.execute(
        select(col(LeaseResident.lease_id), Resident)
        .join(
            Resident,
            (col(Resident.workspace_id) == col(LeaseResident.workspace_id))
            & (col(Resident.id) == col(LeaseResident.resident_id)),
        )
        .where(
            col(LeaseResident.workspace_id) == ws,
            col(LeaseResident.lease_id).in_(lease_ids),
            col(Resident.status) != ResidentStatus.DELETED,
        )
        .order_by(col(LeaseResident.lease_id), col(Resident.id))
    )
    people: dict[str, Resident] = {}
    for lease_id, resident in rows:
        people.setdefault(lease_id, resident)
    return people
