"""The import, the writes: find or create the places, then create or update each lease and its
residents (AMSI: connectors.md §1.9; MRI: §2.9; issue 16 "a second run of the same data changes
nothing"). The same for every vendor: the rows (``rows.Wanted``) say what each lease should be.

The workspace's state is read in a few queries (properties, units, the leases of the units read,
their residents), compared in memory, and only what differs is written: a second run of the same
answers writes no row, no event, no e-mail. IDs are minted per kind in one reservation each.

- **Places** (``places``): the property by its accounting ID, the unit by its key
  (``PropertyId|BldgID|UnitID``), found or created.
- **Leases.** Found by (unit key, lease ID) for any of the row's IDs (``Wanted.match_ids``: AMSI's
  ResiID; any ResidentNameID of an MRI lease): a lease this import created
  (``Lease.external_scope`` = the unit key), or one the landlord mapped to that ID on that unit
  (scope ""), which is then kept as it is. A lease the import created follows the row's lease ID
  (MRI: the primary's ResidentNameID, which may pass to a co-resident). Balance = the vendor's
  (AMSI ``EndBalance``, §0.7; MRI ``LeaseBalance``), the basis the ledger check replays from
  (``leases.rebase``'s rule, set-wise), plus what was posted and is still processing
  (``_posted_in_flight``); the accounting flag follows the vendor's block flag. A lease ended in
  the portal is not reopened (domain.md §2.6): that row errs.
- **Residents** (``residents``): one per person on a new lease, invited when the person has an
  e-mail; on an existing lease people are matched to its residents (e-mail, then name), matched
  ones follow the accounting system, unmatched ones join the lease. Residents it no longer
  lists are left alone, as leases are.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlmodel import Session, col

from portal.auth.models import Integration
from portal.connectors.imports import places as import_places
from portal.connectors.imports import residents as import_residents
from portal.connectors.imports.rows import Person, Plan, Wanted, error_entry
from portal.core import calendar
from portal.core.ids import IdMinter, reserve
from portal.notifications import service as notifications
from portal.outbox.models import Delivery, DeliveryState, Topic
from portal.payments.models import Payment, PaymentStatus
from portal.residents import leases as leases_service
from portal.residents.models import (
    Lease,
    LeaseEvent,
    LeaseResident,
    LeaseStatus,
    PaymentsSetting,
    Resident,
    ResidentStatus,
)

#: The lease columns the accounting system sets (a value None from it keeps the stored one,
#: except ``end_date``: None is month-to-month).
_KEEP_WHEN_NONE = ("start_date", "move_in")


@dataclass
class Outcome:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    erred: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "erred": self.erred,
        }


@dataclass
class _NewLease:
    wanted: Wanted
    unit_id: str
    property_id: str


@dataclass
class _Changed:
    lease: Lease
    property_id: str
    diff: dict[str, dict[str, Any]]
    added: list[Person]


@dataclass
class _Batch:
    """What the comparison decided; written by ``_write`` with IDs minted per kind."""

    origin: str
    new: list[_NewLease] = field(default_factory=list)
    changed: list[_Changed] = field(default_factory=list)
    messages: list[notifications.Message] = field(default_factory=list)


def apply(
    session: Session,
    ids: IdMinter,
    integration: Integration,
    plans: list[Plan],
    *,
    now: datetime,
    origin: str,
) -> Outcome:
    """Apply every property's wanted leases (the module docstring); erred rows are counted.
    ``origin`` names the import in the leases' history (``amsi_import``, ``mri_import``)."""
    out = Outcome()
    for p in plans:
        out.errors.extend(p.errors)
        out.erred += len(p.errors)
    wanted = [w for p in plans for w in p.wanted]
    if not wanted:
        return out
    places = import_places.places(session, ids, integration, plans, now=now)
    existing = _existing_leases(session, ids.scope, wanted, places)
    people = import_residents.residents_of(
        session, ids.scope, [lease.id for lease in existing.values()]
    )
    in_flight = _posted_in_flight(session, ids.scope, integration.id, existing.values())
    batch = _Batch(origin=origin)
    for w in wanted:
        unit_id, property_id = places[w.key]
        lease = _find(existing, w, unit_id)
        if lease is None:
            batch.new.append(_NewLease(w, unit_id, property_id))
            out.new += 1
        elif lease.status is not LeaseStatus.ACTIVE:
            out.erred += 1
            out.errors.append(
                error_entry(
                    w.property_id,
                    w.bldg_id,
                    w.unit_id,
                    w.resident_id,
                    f"the portal's lease {lease.id} is {lease.status.value}; an ended lease is "
                    "not reopened (domain.md §2.6), so the accounting system's data is not "
                    "applied",
                )
            )
        elif _compare(
            w,
            lease,
            property_id,
            people.get(lease.id, []),
            batch,
            now=now,
            in_flight=in_flight.get(lease.id, 0),
        ):
            out.updated += 1
        else:
            out.unchanged += 1
    _write(session, ids, batch, now=now)
    return out


# --- what is there ----------------------------------------------------------------------------


def _existing_leases(
    session: Session, ws: str, wanted: list[Wanted], places: dict[str, tuple[str, str]]
) -> dict[tuple[str, str], Lease]:
    """(unit key, lease ID) for the leases this import keyed; (unit ID, lease ID) for the ones
    the landlord mapped to a lease ID on that unit (scope "")."""
    scopes = sorted({w.key for w in wanted})
    unit_ids = sorted({places[w.key][0] for w in wanted})
    rows = session.scalars(
        select(Lease).where(
            col(Lease.workspace_id) == ws,
            col(Lease.external_resident_id).in_(sorted({i for w in wanted for i in w.match_ids})),
            or_(
                col(Lease.external_scope).in_(scopes),
                and_(col(Lease.external_scope) == "", col(Lease.unit_id).in_(unit_ids)),
            ),
        )
    )
    out: dict[tuple[str, str], Lease] = {}
    for lease in rows:
        assert lease.external_resident_id is not None
        out[(lease.external_scope or lease.unit_id, lease.external_resident_id)] = lease
    return out


def _find(existing: dict[tuple[str, str], Lease], w: Wanted, unit_id: str) -> Lease | None:
    """The lease of ``w``: by its own ID first, then by the others it may be keyed by."""
    for resident_id in w.match_ids:
        lease = existing.get((w.key, resident_id)) or existing.get((unit_id, resident_id))
        if lease is not None:
            return lease
    return None


def _posted_in_flight(
    session: Session, ws: str, integration_id: str, leases: Iterable[Lease]
) -> dict[str, int]:
    """Per lease, what the portal already posted to the accounting system (AMSI's AddPayment,
    MRI's payment POST sent) of payments still processing. The vendor took them off its balance
    when they arrived; the portal takes them off its balance when they complete (domain.md
    §11). Added back here, so an import between the two does not count them twice (seen: a
    lease at -1,605.00 from the deposit until the next morning's sync)."""
    lease_ids = sorted({lease.id for lease in leases})
    if not lease_ids:
        return {}
    rows = session.execute(
        select(col(Payment.lease_id), func.sum(col(Payment.amount_cents)))
        .join(
            Delivery,
            (col(Delivery.workspace_id) == col(Payment.workspace_id))
            & (col(Delivery.subject_id) == col(Payment.id)),
        )
        .where(
            col(Payment.workspace_id) == ws,
            col(Payment.lease_id).in_(lease_ids),
            col(Payment.status) == PaymentStatus.PROCESSING,
            col(Delivery.integration_id) == integration_id,
            col(Delivery.topic) == Topic.PAYMENT.value,
            col(Delivery.state) == DeliveryState.SENT,
        )
        .group_by(col(Payment.lease_id))
    )
    return {lease_id: int(cents) for lease_id, cents in rows}


# --- comparing ----------------------------------------------------------------------------------


def _lease_values(w: Wanted, lease: Lease, in_flight: int = 0) -> dict[str, Any]:
    values: dict[str, Any] = {
        "rent_cents": w.rent_cents,
        "balance_cents": w.balance_cents + in_flight,
        "accounting_payments": w.accounting_payments,
        "start_date": w.start_date,
        "end_date": w.end_date,
        "move_in": w.move_in,
    }
    if lease.external_scope == w.key:
        # A lease the import keyed follows the row's lease ID (MRI: the primary's
        # ResidentNameID, which the payment POST sends); a landlord's mapping is kept.
        values["external_resident_id"] = w.resident_id
    return values


def _compare(
    w: Wanted,
    lease: Lease,
    property_id: str,
    residents: list[Resident],
    batch: _Batch,
    *,
    now: datetime,
    in_flight: int = 0,
) -> bool:
    """Bring an existing lease and its residents to the accounting system's values; whether
    anything changed.
    The lease's changes are assigned here and its event written by ``_write``."""
    diff: dict[str, dict[str, Any]] = {}
    for name, value in _lease_values(w, lease, in_flight).items():
        old = getattr(lease, name)
        if (value is None and name in _KEEP_WHEN_NONE) or old == value:
            continue
        diff[name] = {"from": _plain(old), "to": _plain(value)}
        setattr(lease, name, value)
    if "balance_cents" in diff:
        # ``leases.balance_set_at``: the balance moved, so it was set now (the basis is
        # written by ``_write``, one ledger number for the run).
        lease.balance_at = now
    added: list[Person] = []
    changed_people = False
    for person, resident in import_residents.match(w.people, residents):
        if resident is None:
            added.append(person)
        elif resident.status is not ResidentStatus.DELETED:
            changed_people |= import_residents.follow(
                resident, person, lease.id, batch.messages, now=now
            )
    if diff or added:
        batch.changed.append(_Changed(lease, property_id, diff, added))
    return bool(diff or added or changed_people)


def _plain(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value.value if isinstance(value, StrEnum) else value


# --- writing ----------------------------------------------------------------------------------


def _write(session: Session, ids: IdMinter, batch: _Batch, *, now: datetime) -> None:
    ws = ids.scope
    today = calendar.local_date(now)
    count = sum(len(n.wanted.people) for n in batch.new) + sum(len(c.added) for c in batch.changed)
    resident_ids = iter(ids.many("resident", count, "res") if count else [])
    lease_ids = iter(ids.many("lease", len(batch.new), "lease") if batch.new else [])
    rebased = any("balance_cents" in c.diff for c in batch.changed)
    # One ledger number for every balance this run sets (``leases.rebase``, set-wise, as
    # balance intake does).
    basis_seq = leases_service.ledger_seq(session, ws) if batch.new or rebased else 0
    links: list[LeaseResident] = []
    events: list[tuple[str, str, dict[str, Any]]] = []
    for new in batch.new:
        w = new.wanted
        lease = Lease(
            workspace_id=ws,
            id=next(lease_ids),
            unit_id=new.unit_id,
            status=LeaseStatus.ACTIVE,
            rent_cents=w.rent_cents,
            start_date=w.start_date or today,
            end_date=w.end_date,
            move_in=w.move_in,
            external_resident_id=w.resident_id,
            external_scope=w.key,
            payments=PaymentsSetting.ALLOWED,
            accounting_payments=w.accounting_payments,
            balance_cents=w.balance_cents,
            balance_at=leases_service.balance_set_at(None, w.balance_cents, now),
            balance_basis_cents=w.balance_cents,
            balance_basis_seq=basis_seq,
            created_at=now,
        )
        session.add(lease)
        made = [
            import_residents.new_resident(
                session, ws, next(resident_ids), p, new.unit_id, new.property_id, now=now
            )
            for p in w.people
        ]
        links.extend(import_residents.links(ws, lease.id, made))
        batch.messages.extend(import_residents.invitations(made, lease.id))
        ids_made = [r.id for r in made]
        # The portal has no primary-resident column: the history names it (§1.9, §2.9, §4.11).
        data: dict[str, Any] = {
            "origin": batch.origin,
            "resident_ids": ids_made,
            "primary_resident_id": ids_made[0],
        }
        events.append((lease.id, "created", data))
    for changed in batch.changed:
        lease = changed.lease
        if "balance_cents" in changed.diff:
            lease.balance_basis_cents = lease.balance_cents
            lease.balance_basis_seq = basis_seq
        made = [
            import_residents.new_resident(
                session, ws, next(resident_ids), p, lease.unit_id, changed.property_id, now=now
            )
            for p in changed.added
        ]
        links.extend(import_residents.links(ws, lease.id, made))
        batch.messages.extend(import_residents.invitations(made, lease.id))
        data = {"origin": batch.origin, "changes": changed.diff}
        if made:
            data["added_resident_ids"] = [r.id for r in made]
        events.append((lease.id, "changed", data))
    session.flush()  # residents and leases before their links
    session.add_all(links)
    _record_events(session, ids, events, now=now)
    session.flush()
    notifications.send_many(session, ids, batch.messages, now=now)


def _record_events(
    session: Session,
    ids: IdMinter,
    events: list[tuple[str, str, dict[str, Any]]],
    *,
    now: datetime,
) -> None:
    """The leases' history, as ``leases.record`` writes it, numbered in one reservation."""
    if not events:
        return
    first_seq = reserve(session, ids.scope, "lease_event_seq", len(events))
    event_ids = ids.many("lease_event", len(events), "lev")
    session.add_all(
        LeaseEvent(
            workspace_id=ids.scope,
            id=event_id,
            lease_id=lease_id,
            seq=first_seq + n,
            kind=kind,
            data=data,
            at=now,
        )
        for n, (event_id, (lease_id, kind, data)) in enumerate(zip(event_ids, events, strict=True))
    )
