"""Balance intake, the set-wise writes (domain.md §3; architecture.md §3, perf-baseline.md
§8): new residents, leases, links and history one statement per table, the changed leases and
residents in ``executemany`` UPDATEs, and the latest accounting record per resident ID; no
per-row ORM objects. A new resident with an e-mail is invited (``invitations.invitation``,
the one home of its text), one without is ``waiting``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlmodel import Session, col

from portal.core import transitions
from portal.core.db import UTCDateTime, bulk_insert, bulk_insert_columns
from portal.core.ids import IdMinter, new_secrets, reserve
from portal.events import service as events
from portal.properties.models import Unit
from portal.residents import leases as leases_service
from portal.residents.intake_rows import LEASE_FIELDS, Row, lease_values
from portal.residents.invitations import invite_digest, send_invitations
from portal.residents.models import (
    RESIDENT_TRANSITIONS,
    AccountingRecord,
    Lease,
    LeaseEvent,
    LeaseResident,
    LeaseStatus,
    PaymentsSetting,
    Resident,
    ResidentStatus,
)
from portal.residents.service import normalize_email

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


def create(
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
    emails = [normalize_email(row.email) for row in rows]
    codes = [
        code if email else None for code, email in zip(new_secrets(len(rows)), emails, strict=True)
    ]
    # Only the digests are stored; the codes themselves go out in the e-mails below.
    digests = [invite_digest(code) if code else None for code in codes]
    places = [unit_ids[row.unit_id] for row in rows]
    unit_property = _unit_properties(session, ws)
    # Column by column (``bulk_insert_columns``): no dict per resident.
    bulk_insert_columns(
        session,
        Resident,
        len(rows),
        {
            "workspace_id": (ws,),
            "id": resident_ids,
            "name": [row.name for row in rows],
            "email": emails,
            "phone": [row.phone for row in rows],
            "status": [
                ResidentStatus.INVITE if email else ResidentStatus.WAITING for email in emails
            ],
            "status_changed_at": (now,),
            "password_hash": (None,),
            "invite_code": digests,
            "property_id": [unit_property.get(place) for place in places],
            "unit_id": places,
            "merged_into": (None,),
            "has_paid": (False,),
            "created_at": (now,),
        },
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
                **lease_values(row, places[n], today),
            }
            for n, row in enumerate(rows)
        ],
    )
    bulk_insert_columns(
        session,
        LeaseResident,
        len(rows),
        {"workspace_id": (ws,), "lease_id": lease_ids, "resident_id": resident_ids},
    )
    first_seq = reserve(session, ws, "lease_event_seq", len(rows))
    bulk_insert_columns(
        session,
        LeaseEvent,
        len(rows),
        {
            "workspace_id": (ws,),
            "id": ids.many("lease_event", len(rows), "lev"),
            "lease_id": lease_ids,
            "seq": list(range(first_seq, first_seq + len(rows))),
            "kind": ("created",),
            "data": [{"origin": "balances", "resident_ids": [rid]} for rid in resident_ids],
            "at": (now,),
        },
    )
    send_invitations(
        session,
        ids,
        names=[row.name for row in rows],
        emails=emails,
        resident_ids=resident_ids,
        lease_ids=lease_ids,
        codes=codes,
        now=now,
    )
    events.emit_many(
        session,
        ws,
        "resident.invited",
        [resident_ids[n] for n, email in enumerate(emails) if email],
        now=now,
        data={"status": ResidentStatus.INVITE.value},
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


def write_lease_updates(
    session: Session, ws: str, updates: list[dict[str, Any]], ids: IdMinter, now: datetime
) -> None:
    if not updates:
        return
    stmt = (
        update(Lease)
        .where(col(Lease.workspace_id) == ws, col(Lease.id) == bindparam("b_id"))
        .values(
            {f: bindparam(f) for f in LEASE_FIELDS}
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
        stmt, [{k: u[k] for k in (*LEASE_FIELDS, "b_id", "balance_at")} for u in updates]
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


def write_resident_updates(session: Session, ws: str, updates: list[dict[str, Any]]) -> None:
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
        # A waiting resident the client now gives an e-mail is invited (seed S0).
        more = (*fields, "status", "invite_code", "status_changed_at")
        session.connection().execute(
            base.where(
                transitions.moving(
                    col(Resident.status),
                    RESIDENT_TRANSITIONS,
                    [ResidentStatus.WAITING],
                    ResidentStatus.INVITE,
                )
            ).values({f: bindparam(f) for f in more}),
            [{k: u[k] for k in (*more, "b_id")} for u in invited],
        )
        events.emit_many(
            session,
            ws,
            "resident.invited",
            [u["b_id"] for u in invited],
            now=invited[0]["status_changed_at"],
            data={"status": ResidentStatus.INVITE.value},
        )


def records(
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
        # In _RECORD_FIELDS' order; a dict only for a record that is new or changed (a repeated
        # call of 50,000 unchanged residents built 50,000 of them for nothing).
        values = (
            integration_id,
            row.property_id,
            row.unit_id,
            row.name,
            normalize_email(row.email),
            row.phone,
            row.rent_cents,
            row.balance_cents,
            row.disputed_cents,
            row.property_address,
            row.unit,
            row.lease_start,
            row.lease_end,
            row.move_in,
            row.payment_accepted,
            row.pay_full_balance_only,
        )
        old = existing.get(row.resident_id)
        if old is None:
            new.append(
                {
                    "workspace_id": ws,
                    "external_resident_id": row.resident_id,
                    "received_at": now,
                    **dict(zip(_RECORD_FIELDS, values, strict=True)),
                }
            )
        elif old[1] != values:
            changed.append(
                {
                    "b_id": old[0],
                    "received_at": now,
                    **dict(zip(_RECORD_FIELDS, values, strict=True)),
                }
            )
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
