"""A scenario's payment sources and recurring schedules, set-based (issue 19, scope 1;
docs/decisions.md, "Scenario loads in bulk"): the rows ``sources.create_bank_account``,
``sources.create_card`` and ``recurring.create_schedule`` write one at a time, written with one
statement per table.

As ``scenario_bulk`` does for the residents: every source and schedule is checked first, with
the services' own checks (``sources.bank_account_values``, ``sources.card_values``,
``recurring.schedule_refusal``) on what the world holds at that point (a Send Balances call of
the scenario may have changed a lease), read in a handful of queries. A refusal makes
``load_sources`` return False before any ID is minted, and the caller runs the per-row path,
which raises it naming ``$.payment_sources[i]`` or ``$.recurring_payments[i]``. Then the IDs
are minted with one call per kind, in document order, as the per-row path mints them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from portal.core.db import bulk_insert_columns
from portal.core.errors import PortalError
from portal.core.ids import IdMinter
from portal.payments import recurring as recurring_service
from portal.payments import rules as payment_rules
from portal.payments import schemas as payments_schemas
from portal.payments import service as payments_service
from portal.payments import sources as sources_service
from portal.payments.models import PaymentSource, RecurringPayment
from portal.properties.models import Unit
from portal.residents.models import Lease, LeaseResident, Resident, ResidentStatus
from portal.sandbox.scenario_spec import BankSourceSpec, PaymentSourceSpec, RecurringPaymentSpec
from portal.workspaces.models import Workspace

#: The columns ``bank_account_values`` and ``card_values`` set (each some of them: a column a
#: source's values leave out is None).
_SOURCE_COLUMNS = (
    "type",
    "last4",
    "status",
    "routing_number",
    "brand",
    "funding",
    "exp_month",
    "exp_year",
    "magic",
)
#: Schedules judged at a time (SQLite takes 32,766 parameters a statement).
_CHUNK = 5_000


def load_sources(
    session: Session,
    ws: Workspace,
    ids: IdMinter,
    sources: Sequence[PaymentSourceSpec],
    schedules: Sequence[RecurringPaymentSpec],
    keys: dict[str, str],
    leases: dict[str, str],
    *,
    now: datetime,
) -> bool:
    """Add the payment sources, then set up the schedules; fills ``keys``. False, with
    nothing minted or written: one would be refused (the module docstring). Flushes, never
    commits."""
    if not sources:
        return True  # no schedule without a source (``Scenario._money_keys``)
    values = _source_values(sources, now)
    if values is None:
        return False
    if schedules and not _schedules_acceptable(
        session, ws, sources, values, schedules, keys, leases, now=now
    ):
        return False
    source_ids = ids.many("payment_source", len(sources), "src")
    # Column by column (``bulk_insert_columns``): no dict per row.
    bulk_insert_columns(
        session,
        PaymentSource,
        len(sources),
        {
            "workspace_id": (ids.scope,),
            "id": source_ids,
            "resident_id": [keys[s.resident] for s in sources],
            "disabled_reason": (None,),
            "created_at": (now,),
            **{name: [v.get(name) for v in values] for name in _SOURCE_COLUMNS},
        },
    )
    keys.update((s.key, sid) for s, sid in zip(sources, source_ids, strict=True))
    _write_schedules(session, ids, schedules, keys, leases, now=now)
    return True


def _source_values(
    specs: Sequence[PaymentSourceSpec], now: datetime
) -> list[dict[str, Any]] | None:
    """Each source's checked columns; None: the services refuse one."""
    out = []
    for s in specs:
        try:
            if isinstance(s, BankSourceSpec):
                values = sources_service.bank_account_values(
                    routing_number=s.routing_number, account_number=s.account_number
                )
            else:
                values = sources_service.card_values(
                    number=s.number,
                    exp_month=s.exp_month,
                    exp_year=s.exp_year,
                    funding=s.funding,
                    now=now,
                )
        except PortalError:
            return None
        out.append(values)
    return out


def _target(r: RecurringPaymentSpec, keys: dict[str, str], leases: dict[str, str]) -> str:
    """The schedule's lease: the one named, else the resident's own."""
    return keys[r.lease] if r.lease else leases[r.resident]


@dataclass
class _People:
    """What ``create_schedule`` reads of some schedules' leases and residents."""

    leases: dict[str, Lease]
    links: set[tuple[str, str]]
    statuses: dict[str, ResidentStatus]


def _read_people(session: Session, ws: str, lease_ids: set[str], resident_ids: set[str]) -> _People:
    leases = {
        lease.id: lease
        for lease in session.scalars(
            select(Lease).where(col(Lease.workspace_id) == ws, col(Lease.id).in_(lease_ids))
        )
    }
    links = {
        (row[0], row[1])
        for row in session.execute(
            select(col(LeaseResident.lease_id), col(LeaseResident.resident_id)).where(
                col(LeaseResident.workspace_id) == ws, col(LeaseResident.lease_id).in_(lease_ids)
            )
        )
    }
    statuses = {
        row[0]: row[1]
        for row in session.execute(
            select(col(Resident.id), col(Resident.status)).where(
                col(Resident.workspace_id) == ws, col(Resident.id).in_(resident_ids)
            )
        )
    }
    return _People(leases, links, statuses)


def _schedules_acceptable(
    session: Session,
    ws: Workspace,
    sources: Sequence[PaymentSourceSpec],
    values: list[dict[str, Any]],
    schedules: Sequence[RecurringPaymentSpec],
    keys: dict[str, str],
    leases: dict[str, str],
    *,
    now: datetime,
) -> bool:
    """Whether ``create_schedule`` takes every schedule: the resident is on the lease
    (``lease_of``), the source is theirs (``get_source``), and ``schedule_refusal`` finds no
    broken rule, each judged on the lease and resident as they are now (a Send Balances call
    of the scenario may have changed a lease) and on the source about to be added. Read and
    judged ``_CHUNK`` schedules at a time: a bounded ``IN`` list, and at most that many lease
    objects held at once (peak memory at 50,000 residents)."""
    unit_property: dict[str, str] = {
        row[0]: row[1]
        for row in session.execute(
            select(col(Unit.id), col(Unit.property_id)).where(col(Unit.workspace_id) == ws.id)
        )
    }
    accounts = payments_service.deposit_accounts_by_property(
        session, ws.id, set(unit_property.values())
    )
    rules = payment_rules.rules_of(ws.settings)
    by_key = {s.key: (s, v) for s, v in zip(sources, values, strict=True)}
    for start in range(0, len(schedules), _CHUNK):
        part = schedules[start : start + _CHUNK]
        people = _read_people(
            session,
            ws.id,
            {_target(r, keys, leases) for r in part},
            {keys[r.resident] for r in part},
        )
        for r in part:
            lease_id, resident_id = _target(r, keys, leases), keys[r.resident]
            spec, source = by_key[r.source]
            lease = people.leases.get(lease_id)
            if lease is None or (lease_id, resident_id) not in people.links:
                return False
            if spec.resident != r.resident:
                return False
            property_id = unit_property[lease.unit_id]
            error = recurring_service.schedule_refusal(
                lease=lease,
                resident_status=people.statuses[resident_id],
                source=PaymentSource(**source),
                property_id=property_id,
                account_id=accounts.get((property_id, r.type.account_type.value)),
                amount_cents=r.amount,
                type=r.type,
                day_of_month=r.day_of_month,
                rules=rules,
                now=now,
            )
            if error is not None:
                return False
    return True


def _write_schedules(
    session: Session,
    ids: IdMinter,
    schedules: Sequence[RecurringPaymentSpec],
    keys: dict[str, str],
    leases: dict[str, str],
    *,
    now: datetime,
) -> None:
    if not schedules:
        return
    schedule_ids = ids.many("recurring_payment", len(schedules), "rec")
    ends = [payments_schemas.parse_month(r.end_month) if r.end_month else None for r in schedules]
    starts = [
        recurring_service.schedule_start(r.day_of_month, end, now)
        for r, end in zip(schedules, ends, strict=True)
    ]
    bulk_insert_columns(
        session,
        RecurringPayment,
        len(schedules),
        {
            "workspace_id": (ids.scope,),
            "id": schedule_ids,
            "lease_id": [_target(r, keys, leases) for r in schedules],
            "resident_id": [keys[r.resident] for r in schedules],
            "source_id": [keys[r.source] for r in schedules],
            "type": [r.type for r in schedules],
            "amount_cents": [r.amount for r in schedules],
            "day_of_month": [r.day_of_month for r in schedules],
            "end_month": ends,
            "next_date": [start["next_date"] for start in starts],
            "status": [start["status"] for start in starts],
            "last_payment_id": (None,),
            "created_at": (now,),
            "ended_at": (None,),
        },
    )
    keys.update((r.key, sid) for r, sid in zip(schedules, schedule_ids, strict=True) if r.key)
