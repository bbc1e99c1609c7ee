"""A scenario's residents, set-based (issue 19, scope 1; docs/decisions.md, "Scenario loads in
bulk"): the rows ``invitations.invite``, ``leases.update_lease`` and
``invitations.accept_invited`` write one at a time, written one statement per table, as the
balance intake does (``residents.intake_writes``).

The same world as the per-row path, to the ID: every row is checked first, then each kind's IDs
and counter values are reserved with one call in the order the per-row path takes them (each
kind has its own counter, so interleaving does not matter), and the rows are built in Python.
A row the per-row path would refuse makes ``load_residents`` return False before anything is
reserved or written: the caller then runs the per-row path, which raises that refusal with its
own message, code and path (the one home of those texts). The payment sources and schedules
are ``scenario_bulk_money``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from itertools import groupby
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from portal.auth import service as auth_service
from portal.core.db import bulk_insert_columns
from portal.core.ids import IdMinter, new_secrets, reserve
from portal.events import service as events
from portal.properties.models import Unit
from portal.residents import leases as leases_service
from portal.residents.invitations import invite_digest, send_invitations
from portal.residents.models import (
    LEASE_TRANSITIONS,
    RESIDENT_TRANSITIONS,
    Lease,
    LeaseEvent,
    LeaseResident,
    LeaseStatus,
    PaymentsSetting,
    Resident,
    ResidentStatus,
)
from portal.residents.service import STATUS_EVENTS, normalize_email
from portal.sandbox.scenario_spec import ResidentSpec

#: What ``leases.create_lease`` sets and the scenario's ``update_lease`` call then changes,
#: in that call's order (the order of the "changed" lease event's data).
_LEASE_DEFAULTS: dict[str, Any] = {
    "balance_cents": 0,
    "payments": PaymentsSetting.ALLOWED,
    "pay_full_balance_only": False,
}


def load_residents(
    session: Session,
    ids: IdMinter,
    specs: Sequence[ResidentSpec],
    keys: dict[str, str],
    leases: dict[str, str],
    *,
    now: datetime,
) -> bool:
    """Invite the scenario's residents, set their leases and accept the approved ones'
    invitations; fills ``keys`` and ``leases`` (resident key -> lease ID). False, with nothing
    written: a row would be refused (the module docstring). Flushes, never commits."""
    if not specs:
        return True
    ws = ids.scope
    # The properties and units created before are ORM objects until flushed; they are read.
    session.flush()
    places = [keys[r.unit] for r in specs]
    unit_property = _unit_properties(session, ws)
    emails = [normalize_email(r.email) for r in specs]
    if not _acceptable(session, ws, specs, places, unit_property, emails):
        return False
    n = len(specs)
    resident_ids = ids.many("resident", n, "res")
    lease_ids = ids.many("lease", n, "lease")
    codes = [code if email else None for code, email in zip(new_secrets(n), emails, strict=True)]
    _write_residents(session, ws, specs, resident_ids, places, unit_property, emails, codes, now)
    _write_leases(session, ids, specs, lease_ids, resident_ids, places, now)
    # Only the digests are stored; the codes go out in the invitation e-mails.
    send_invitations(
        session,
        ids,
        names=[r.name for r in specs],
        emails=emails,
        resident_ids=resident_ids,
        lease_ids=lease_ids,
        codes=codes,
        now=now,
    )
    _announce(session, ws, specs, resident_ids, emails, now)
    for r, rid, lid in zip(specs, resident_ids, lease_ids, strict=True):
        keys[r.key] = rid
        leases[r.key] = lid
        if r.lease.key is not None:
            keys[r.lease.key] = lid
    return True


def _unit_properties(session: Session, ws: str) -> dict[str, str]:
    rows = session.execute(
        select(col(Unit.id), col(Unit.property_id)).where(col(Unit.workspace_id) == ws)
    )
    return {row[0]: row[1] for row in rows}


def _acceptable(
    session: Session,
    ws: str,
    specs: Sequence[ResidentSpec],
    places: list[str],
    unit_property: dict[str, str],
    emails: list[str | None],
) -> bool:
    """Whether the per-row path would take every row: the unit exists (``get_unit``), the
    lease ID is free in the workspace and not given twice (``check_external_resident_id``,
    not AMSI), an approved resident was invited, so has an e-mail (``accept_invited``), and
    the statuses may move as the per-row path moves them."""
    if any(place not in unit_property for place in places):
        return False
    taken = set(
        session.scalars(
            select(col(Lease.external_resident_id)).where(
                col(Lease.workspace_id) == ws,
                col(Lease.external_scope) == "",
                col(Lease.external_resident_id).is_not(None),
            )
        )
    )
    for r in specs:
        external = r.lease.external_resident_id
        if external:
            if external in taken:
                return False
            taken.add(external)
    if any(r.state == "approved" and not email for r, email in zip(specs, emails, strict=True)):
        return False
    return (
        ResidentStatus.APPROVED in RESIDENT_TRANSITIONS[ResidentStatus.INVITE]
        and LeaseStatus.FINISHED in LEASE_TRANSITIONS[LeaseStatus.ACTIVE]
    )


def _status(spec: ResidentSpec, email: str | None) -> ResidentStatus:
    """What ``invite`` makes the resident (``waiting`` without an e-mail), then
    ``accept_invited`` for an approved one."""
    if spec.state == "approved":
        return ResidentStatus.APPROVED
    return ResidentStatus.INVITE if email else ResidentStatus.WAITING


def _write_residents(
    session: Session,
    ws: str,
    specs: Sequence[ResidentSpec],
    resident_ids: list[str],
    places: list[str],
    unit_property: dict[str, str],
    emails: list[str | None],
    codes: list[str | None],
    now: datetime,
) -> None:
    bulk_insert_columns(
        session,
        Resident,
        len(specs),
        {
            "workspace_id": (ws,),
            "id": resident_ids,
            "name": [r.name for r in specs],
            "email": emails,
            "phone": [r.phone for r in specs],
            "status": [_status(r, email) for r, email in zip(specs, emails, strict=True)],
            "status_changed_at": (now,),
            # At the scenario cost (``auth_service.scenario_passwords``, set by the caller).
            "password_hash": [
                auth_service.hash_password(r.password)
                if r.password and r.state == "approved"
                else None
                for r in specs
            ],
            "invite_code": [invite_digest(code) if code else None for code in codes],
            "property_id": [unit_property[place] for place in places],
            "unit_id": places,
            "merged_into": (None,),
            "has_paid": (False,),
            "flagged_reason": (None,),
            "flagged_at": (None,),
            "created_at": (now,),
        },
    )


def _changes(spec: ResidentSpec) -> dict[str, Any]:
    """The "changed" lease event's data of the scenario's ``update_lease`` call (each changed
    field's old and new value, as ``update_lease`` records them); empty: no event."""
    wanted = {
        "balance_cents": spec.lease.balance,
        "payments": spec.lease.payments,
        "pay_full_balance_only": spec.lease.pay_full_balance_only,
    }
    return {
        field: {"from": _plain(_LEASE_DEFAULTS[field]), "to": _plain(value)}
        for field, value in wanted.items()
        if _LEASE_DEFAULTS[field] != value
    }


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, PaymentsSetting) else value


def _write_leases(
    session: Session,
    ids: IdMinter,
    specs: Sequence[ResidentSpec],
    lease_ids: list[str],
    resident_ids: list[str],
    places: list[str],
    now: datetime,
) -> None:
    """The leases, their links and their history. Per resident the per-row path takes a
    ledger number and a lease event at creation, then another of each when the balance
    (ledger) or anything (event) changes; the same numbers are handed out here in that
    order."""
    ws = ids.scope
    n = len(specs)
    changes = [_changes(r) for r in specs]
    rebased = [r.lease.balance != 0 for r in specs]
    ledger = leases_service.ledger_seq(session, ws, n + sum(rebased))
    basis_seqs = []
    for moved in rebased:
        basis_seqs.append(ledger + moved)
        ledger += 1 + moved
    bulk_insert_columns(
        session,
        Lease,
        n,
        {
            "workspace_id": (ws,),
            "id": lease_ids,
            "unit_id": places,
            "status": (LeaseStatus.ACTIVE,),
            "rent_cents": [r.lease.rent for r in specs],
            "due_day": [r.lease.due_day for r in specs],
            "start_date": [r.lease.start_date for r in specs],
            "end_date": [r.lease.end_date for r in specs],
            "external_resident_id": [r.lease.external_resident_id for r in specs],
            "external_scope": ("",),
            "payments": [r.lease.payments for r in specs],
            "accounting_payments": (None,),
            "pay_full_balance_only": [r.lease.pay_full_balance_only for r in specs],
            "balance_cents": [r.lease.balance for r in specs],
            "disputed_cents": (0,),
            "move_in": (None,),
            # ``balance_set_at`` of a new lease: now (and a changed balance: now again).
            "balance_at": (now,),
            "uncollected_balance_cents": (None,),
            "balance_basis_cents": [r.lease.balance for r in specs],
            "balance_basis_seq": basis_seqs,
            "ended_at": (None,),
            "created_at": (now,),
        },
    )
    bulk_insert_columns(
        session,
        LeaseResident,
        n,
        {"workspace_id": (ws,), "lease_id": lease_ids, "resident_id": resident_ids},
    )
    history: list[tuple[str, str, dict[str, Any]]] = []
    for lid, rid, diff in zip(lease_ids, resident_ids, changes, strict=True):
        history.append((lid, "created", {"origin": "invite", "resident_ids": [rid]}))
        if diff:
            history.append((lid, "changed", diff))
    first = reserve(session, ws, "lease_event_seq", len(history))
    bulk_insert_columns(
        session,
        LeaseEvent,
        len(history),
        {
            "workspace_id": (ws,),
            "id": ids.many("lease_event", len(history), "lev"),
            "lease_id": [h[0] for h in history],
            "seq": list(range(first, first + len(history))),
            "kind": [h[1] for h in history],
            "data": [h[2] for h in history],
            "at": (now,),
        },
    )


def _announce(
    session: Session,
    ws: str,
    specs: Sequence[ResidentSpec],
    resident_ids: list[str],
    emails: list[str | None],
    now: datetime,
) -> None:
    """The status events in the per-row order (``announce``: invited, then approved, resident
    by resident; a waiting resident has none), one ``emit_many`` per run of one status."""
    statuses: list[tuple[ResidentStatus, str]] = []
    for r, rid, email in zip(specs, resident_ids, emails, strict=True):
        if email:
            statuses.append((ResidentStatus.INVITE, rid))
        if r.state == "approved":
            statuses.append((ResidentStatus.APPROVED, rid))
    for status, run in groupby(statuses, key=lambda s: s[0]):
        events.emit_many(
            session,
            ws,
            STATUS_EVENTS[status],
            [rid for _status, rid in run],
            now=now,
            data={"status": status.value},
        )
