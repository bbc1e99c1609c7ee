"""Leases: creation, the landlord's edits (resident-ID mapping, balance, payments switch),
ending, and their history (domain.md §2.4, §2.6, §2.7)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from portal.core.db import get_row
from portal.core.errors import Conflict, NotFound, Unprocessable
from portal.core.ids import IdMinter, reserve
from portal.residents.models import (
    LEASE_TRANSITIONS,
    PAYMENTS_STRICTNESS,
    Lease,
    LeaseEvent,
    LeaseResident,
    LeaseStatus,
    PaymentsSetting,
    Resident,
)


class LeaseNotFound(NotFound):
    code = "lease_not_found"


class LeaseFinished(Conflict):
    code = "lease_finished"


class ResidentIdTaken(Conflict):
    code = "resident_id_taken"


class AmsiResidentIdFormat(Unprocessable):
    code = "invalid_external_resident_id"


def effective_payments(lease: Lease) -> PaymentsSetting:
    """The stricter of the portal's switch and the accounting flag (domain.md §2.7)."""
    flags = [lease.payments] + ([lease.accounting_payments] if lease.accounting_payments else [])
    return max(flags, key=lambda f: PAYMENTS_STRICTNESS[f])


def get_lease(
    session: Session, workspace_id: str, lease_id: str, *, for_update: bool = False
) -> Lease:
    """One lease; ``for_update`` locks the row first (``db.get_row``) for a change (issue 14)."""
    lease = get_row(session, Lease, (workspace_id, lease_id), for_update=for_update)
    if lease is None:
        raise LeaseNotFound(f"No lease {lease_id!r}.")
    return lease


def record(
    session: Session, ids: IdMinter, lease: Lease, kind: str, data: dict[str, Any], now: datetime
) -> None:
    session.add(
        LeaseEvent(
            workspace_id=lease.workspace_id,
            id=ids.new("lease_event", "lev"),
            lease_id=lease.id,
            seq=reserve(session, ids.scope, "lease_event_seq"),
            kind=kind,
            data=data,
            at=now,
        )
    )


def history(session: Session, lease: Lease) -> list[LeaseEvent]:
    return list(
        session.scalars(
            select(LeaseEvent)
            .where(
                col(LeaseEvent.workspace_id) == lease.workspace_id,
                col(LeaseEvent.lease_id) == lease.id,
            )
            .order_by(col(LeaseEvent.seq))
        )
    )


def resident_ids_of(
    session: Session, workspace_id: str, lease_ids: Sequence[str]
) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {lease_id: [] for lease_id in lease_ids}
    rows = session.execute(
        select(col(LeaseResident.lease_id), col(LeaseResident.resident_id))
        .where(
            col(LeaseResident.workspace_id) == workspace_id,
            col(LeaseResident.lease_id).in_(lease_ids),
        )
        .order_by(col(LeaseResident.resident_id))
    )
    for lease_id, resident_id in rows:
        out[lease_id].append(resident_id)
    return out


def lease_ids_of(
    session: Session, workspace_id: str, resident_ids: Sequence[str]
) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {resident_id: [] for resident_id in resident_ids}
    rows = session.execute(
        select(col(LeaseResident.resident_id), col(LeaseResident.lease_id))
        .where(
            col(LeaseResident.workspace_id) == workspace_id,
            col(LeaseResident.resident_id).in_(resident_ids),
        )
        .order_by(col(LeaseResident.lease_id))
    )
    for resident_id, lease_id in rows:
        out[resident_id].append(lease_id)
    return out


def leases_of(session: Session, workspace_id: str, resident_id: str) -> list[Lease]:
    return list(
        session.scalars(
            select(Lease)
            .join(
                LeaseResident,
                (col(LeaseResident.workspace_id) == col(Lease.workspace_id))
                & (col(LeaseResident.lease_id) == col(Lease.id)),
            )
            .where(
                col(LeaseResident.workspace_id) == workspace_id,
                col(LeaseResident.resident_id) == resident_id,
            )
            .order_by(col(Lease.id))
        )
    )


def holders_of_external_id(
    session: Session, workspace_id: str, external_resident_id: str, *, scope: str = ""
) -> tuple[Lease, list[Resident]] | None:
    """The lease mapped to an accounting lease ID in ``scope`` (``Lease.external_scope``: the
    workspace, or an AMSI-imported lease's unit) and its residents."""
    lease = session.scalars(
        select(Lease).where(
            col(Lease.workspace_id) == workspace_id,
            col(Lease.external_scope) == scope,
            col(Lease.external_resident_id) == external_resident_id,
        )
    ).first()
    if lease is None:
        return None
    residents = list(
        session.scalars(
            select(Resident)
            .join(
                LeaseResident,
                (col(LeaseResident.workspace_id) == col(Resident.workspace_id))
                & (col(LeaseResident.resident_id) == col(Resident.id)),
            )
            .where(
                col(LeaseResident.workspace_id) == workspace_id,
                col(LeaseResident.lease_id) == lease.id,
            )
            .order_by(col(Resident.id))
        )
    )
    return lease, residents


# AMSI's full ID is Property-Building-Unit-ResiID (seed S1): four dash-separated segments.
_AMSI_FULL_ID = re.compile(r"^[^-\s]+-[^-\s]+-[^-\s]+-([^-\s]+)$")


def amsi_full_id_refusal(value: str) -> AmsiResidentIdFormat | None:
    """The AMSI ResiID rule, the one home of its check and advice (seed S1: "Do not provide
    the entire Property-Building-Unit-ResiID identifier ... only the last part", domain.md
    §2.4): the refusal for a whole AMSI identifier, None for an acceptable one. Every path
    that sets a lease ID for an AMSI integration asks it: manual add, approval, the mapping
    edit (``check_external_resident_id``) and balance intake
    (``intake_rows.check_resident_ids``)."""
    match = _AMSI_FULL_ID.match(value)
    if match is None:
        return None
    return AmsiResidentIdFormat(
        f"{value!r} looks like AMSI's full Property-Building-Unit-ResiID string; send only "
        f"the trailing ResiID segment ({match.group(1)!r}).",
        extra={"suggested": match.group(1)},
    )


def check_external_resident_id(
    session: Session,
    workspace_id: str,
    value: str,
    *,
    amsi: bool,
    lease: Lease | None,
    for_resident: Resident | None = None,
) -> None:
    """Refuse an AMSI full ID and an ID already mapped to another lease (domain.md §2.4)."""
    if amsi and (refusal := amsi_full_id_refusal(value)) is not None:
        raise refusal
    held = holders_of_external_id(session, workspace_id, value)
    if held is None or (lease is not None and held[0].id == lease.id):
        return
    other_lease, others = held
    people = [r for r in others if for_resident is None or r.id != for_resident.id]
    names = ", ".join(f"{r.name} <{r.email or 'no e-mail'}>" for r in people) or "nobody"
    # No merge offered here: whether one is possible is ``merges.merge_refusal``'s call,
    # and approvals and lease edits re-raise this with the offer (merges.lease_id_taken).
    raise ResidentIdTaken(
        f"Resident ID {value!r} is already used by {names} (lease {other_lease.id}); each "
        "person needs a unique resident ID.",
        extra={
            "merge_with": None,
            "other_lease_id": other_lease.id,
            "other_residents": [
                {"id": r.id, "name": r.name, "email": r.email, "status": r.status.value}
                for r in people
            ],
        },
    )


#: The counter of the workspace's ledger sequence (architecture.md §11 balances): every
#: change to a lease balance takes the next number, so ``portal check`` can replay each lease
#: from the balance last set from outside (the basis) through its completions and reversals.
LEDGER_SEQ = "ledger_seq"


def ledger_seq(session: Session, workspace_id: str, count: int = 1) -> int:
    """Reserve ``count`` ledger sequence numbers; returns the first. They start at 1: 0 is
    the basis of a lease set before anything happened (and of leases older than the ledger)."""
    return reserve(session, workspace_id, LEDGER_SEQ, count) + 1


def rebase(session: Session, lease: Lease) -> None:
    """The lease's balance was set from outside (or the lease became integrated): it is the
    new basis the ledger check replays from."""
    lease.balance_basis_cents = lease.balance_cents
    lease.balance_basis_seq = ledger_seq(session, lease.workspace_id)


def balance_set_at(old_cents: int | None, new_cents: int, now: datetime) -> datetime | None:
    """The ``balance_at`` rule, its one home (style.md B17): when a lease's balance was last
    set moves only when the balance changes (docs/decisions.md, "Balance intake"); a new
    lease's (no old balance) is set ``now``. None: keep the instant already stored. The
    single-resident paths (``create_lease``, ``update_lease``) and the bulk intake
    (``intake.receive``) call it; a settlement or a reversal always changes the balance, so
    those stamp ``now``."""
    return now if old_cents is None or old_cents != new_cents else None


def create_lease(
    session: Session,
    ids: IdMinter,
    *,
    unit_id: str,
    residents: Sequence[Resident],
    rent_cents: int,
    start_date: date,
    end_date: date | None,
    due_day: int = 1,
    external_resident_id: str | None = None,
    balance_cents: int = 0,
    payments: PaymentsSetting = PaymentsSetting.ALLOWED,
    accounting_payments: PaymentsSetting | None = None,
    pay_full_balance_only: bool = False,
    now: datetime,
    origin: str,
) -> Lease:
    lease = Lease(
        workspace_id=ids.scope,
        id=ids.new("lease", "lease"),
        unit_id=unit_id,
        status=LeaseStatus.ACTIVE,
        rent_cents=rent_cents,
        due_day=due_day,
        start_date=start_date,
        end_date=end_date,
        external_resident_id=external_resident_id,
        payments=payments,
        accounting_payments=accounting_payments,
        pay_full_balance_only=pay_full_balance_only,
        balance_cents=balance_cents,
        balance_at=balance_set_at(None, balance_cents, now),
        created_at=now,
    )
    rebase(session, lease)
    session.add(lease)
    session.flush()
    for resident in residents:
        session.add(
            LeaseResident(workspace_id=ids.scope, lease_id=lease.id, resident_id=resident.id)
        )
    record(
        session,
        ids,
        lease,
        "created",
        {"origin": origin, "resident_ids": [r.id for r in residents]},
        now,
    )
    session.flush()
    return lease


def update_lease(
    session: Session,
    ids: IdMinter,
    lease: Lease,
    changes: dict[str, Any],
    *,
    amsi: bool,
    now: datetime,
) -> Lease:
    """Apply the landlord's edits; the history keeps each old and new value."""
    if LeaseStatus.FINISHED not in LEASE_TRANSITIONS[lease.status]:
        raise LeaseFinished(f"Lease {lease.id} is {lease.status.value}; it cannot be changed.")
    if changes.get("external_resident_id"):
        check_external_resident_id(
            session, lease.workspace_id, changes["external_resident_id"], amsi=amsi, lease=lease
        )
    old_balance_cents = lease.balance_cents
    diff: dict[str, Any] = {}
    for field, value in changes.items():
        old = getattr(lease, field)
        if old != value:
            setattr(lease, field, value)
            diff[field] = {"from": _plain(old), "to": _plain(value)}
    if (balance_at := balance_set_at(old_balance_cents, lease.balance_cents, now)) is not None:
        lease.balance_at = balance_at
    if "balance_cents" in diff or "external_resident_id" in diff:
        rebase(session, lease)
    if diff:
        session.add(lease)
        record(session, ids, lease, "changed", diff, now)
        session.flush()
    return lease


def _plain(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value.value if hasattr(value, "value") else value


def end_lease(
    session: Session,
    ids: IdMinter,
    lease: Lease,
    *,
    uncollected_balance_cents: int | None,
    now: datetime,
) -> Lease:
    if lease.status is not LeaseStatus.ACTIVE:
        raise LeaseFinished(
            f"Lease {lease.id} is already {lease.status.value}; an ended lease cannot be reopened."
        )
    lease.status = LeaseStatus.FINISHED
    lease.ended_at = now
    lease.uncollected_balance_cents = uncollected_balance_cents
    session.add(lease)
    record(
        session, ids, lease, "ended", {"uncollected_balance_cents": uncollected_balance_cents}, now
    )
    session.flush()
    return lease


def active_lease_count(session: Session, workspace_id: str, resident_id: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(LeaseResident)
            .join(
                Lease,
                (col(Lease.workspace_id) == col(LeaseResident.workspace_id))
                & (col(Lease.id) == col(LeaseResident.lease_id)),
            )
            .where(
                col(LeaseResident.workspace_id) == workspace_id,
                col(LeaseResident.resident_id) == resident_id,
                col(Lease.status) == LeaseStatus.ACTIVE,
            )
        )
        or 0
    )
