"""Making payments: the refusal rules, the business date and joining a deposit batch.

Rules (issue 5; domain.md §2.7, §4.2-§4.3; architecture.md §4 policies), checked in this order
so a request that breaks several gets the most fundamental reason:

1. the lease is active and a resident on it is approved or current (``lease_not_payable``);
2. the source is usable (``payment_source_disabled``, ``card_expired``);
3. 0 < amount <= the workspace's per-payment limit (``amount_not_positive``,
   ``amount_over_limit``);
4. the stricter of the portal's and the accounting system's flag allows it
   (``payments_blocked``; ``cash_equivalent_only`` refuses bank debits);
5. ``pay_full_balance_only``: a rent payment equals the payable balance
   (``amount_must_equal_balance``);
6. the property has a deposit account of the payment's type (``no_deposit_account``);
7. at most ``payments_per_resident_per_day`` payments per resident and business date
   (``daily_payment_limit_reached``);
8. the processor accepts the card (the declined magic card: 402 ``card_declined``).

The same rules run for scheduled and recurring payments when they come due; there a refusal
skips the payment and e-mails the resident instead of answering an error.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlmodel import Session, col

from portal.core import calendar, transitions
from portal.core.db import bulk_insert, get_row, unindexed
from portal.core.ids import IdMinter
from portal.core.pagination import keyset
from portal.events import service as events
from portal.payments import batching, postings, sources
from portal.payments.errors import (
    DateInPast,
    DateTooFar,
    LeaseNotFound,
    PaymentNotFound,
)
from portal.payments.models import (
    Payment,
    PaymentSource,
    PaymentStatus,
    PaymentType,
)
from portal.payments.notices import alert_insufficient, send_receipts
from portal.payments.rules import (
    MAX_SCHEDULE_AHEAD,
    NOT_COUNTED,
    PAYABLE_RESIDENT,
    Attempt,
    cutoff_for,
    refusal,
    rules_of,
)
from portal.properties.models import DepositAccountProperty, Unit
from portal.residents.models import (
    RESIDENT_TRANSITIONS,
    Lease,
    LeaseResident,
    LeaseStatus,
    Resident,
    ResidentStatus,
)

# --- lookups ------------------------------------------------------------------------------------


def get_payment(
    session: Session, workspace_id: str, payment_id: str, *, for_update: bool = False
) -> Payment:
    """One payment. ``for_update`` locks its row first (PostgreSQL ``FOR UPDATE``; SQLite's
    transactions already hold the write lock) and reads it afresh: every change of a payment's
    status checks its rule on the locked row, so two concurrent requests never both pass it
    (issue 14; architecture.md §11)."""
    payment = get_row(session, Payment, (workspace_id, payment_id), for_update=for_update)
    if payment is None:
        raise PaymentNotFound(f"No payment {payment_id!r}.")
    return payment


def list_payments(
    session: Session,
    workspace_id: str,
    *,
    resident_id: str | None = None,
    status: PaymentStatus | None = None,
    lease_id: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    after: str | None,
    limit: int,
) -> list[Payment]:
    """Newest business date first would reorder pages as payments arrive; the order is the
    payment ID (stable) and the filters narrow it."""
    query = select(Payment).where(col(Payment.workspace_id) == workspace_id)
    if resident_id is not None:
        query = query.where(col(Payment.resident_id) == resident_id)
    if status is not None:
        query = query.where(col(Payment.status) == status)
    if lease_id is not None:
        query = query.where(col(Payment.lease_id) == lease_id)
    if date_from is not None:
        query = query.where(col(Payment.business_date) >= date_from)
    if date_to is not None:
        query = query.where(col(Payment.business_date) <= date_to)
    return list(session.scalars(keyset(query, col(Payment.id), after=after, limit=limit)))


def deposit_accounts_by_property(
    session: Session, workspace_id: str, property_ids: set[str]
) -> dict[tuple[str, str], str]:
    """``(property_id, type) -> deposit account ID`` for the given properties."""
    if not property_ids:
        return {}
    rows = session.execute(
        select(
            col(DepositAccountProperty.property_id),
            col(DepositAccountProperty.type),
            col(DepositAccountProperty.deposit_account_id),
        ).where(
            col(DepositAccountProperty.workspace_id) == workspace_id,
            col(DepositAccountProperty.property_id).in_(property_ids),
        )
    ).all()
    return {(p, str(t)): a for p, t, a in rows}


def made_on(
    session: Session, workspace_id: str, keys: set[tuple[str, date]]
) -> dict[tuple[str, date], int]:
    """How many counted payments each ``(resident, business date)`` already has."""
    if not keys:
        return {}
    residents = {r for r, _ in keys}
    days = {d for _, d in keys}
    rows = session.execute(
        select(col(Payment.resident_id), col(Payment.business_date), func.count())
        .where(
            col(Payment.workspace_id) == workspace_id,
            col(Payment.resident_id).in_(residents),
            col(Payment.business_date).in_(days),
            col(Payment.status).not_in(NOT_COUNTED),
        )
        .group_by(col(Payment.resident_id), col(Payment.business_date))
    ).all()
    return {(r, d): n for r, d, n in rows}


# --- creating -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewPayment:
    lease_id: str
    resident_id: str
    property_id: str
    unit_id: str
    source: PaymentSource
    account_id: str
    deposit_type: str
    type: PaymentType
    amount_cents: int
    business_date: date
    scheduled_for: date
    status: PaymentStatus
    recurring_id: str | None = None


def insert_payments(
    session: Session,
    ids: IdMinter,
    new: Sequence[NewPayment],
    *,
    now: datetime,
    batch_id: str | None = None,
) -> list[str]:
    """Insert payments in one statement; processing ones join their day's batches.
    ``batch_id`` (one payment, from a scenario) is the ID its batch gets if it opens one."""
    return [row["id"] for row in insert_payment_rows(session, ids, new, now=now, batch_id=batch_id)]


def insert_payment_rows(
    session: Session,
    ids: IdMinter,
    new: Sequence[NewPayment],
    *,
    now: datetime,
    batch_id: str | None = None,
) -> list[dict[str, Any]]:
    """``insert_payments``, returning the rows as written (the model's column names), in the
    order of ``new``: a caller that only reads them need not load them back."""
    if not new:
        return []
    payment_ids = ids.many("payment", len(new), "pay")
    transaction_ids = ids.many("transaction", len(new), shape="digits12")
    keys = {
        i: batching.BatchKey(n.account_id, n.deposit_type, n.business_date)  # type: ignore[arg-type]
        for i, n in enumerate(new)
        if n.status is PaymentStatus.PROCESSING
    }
    pinned = dict.fromkeys(keys.values(), batch_id) if batch_id is not None else None
    batch_of = batching.batch_ids(session, ids, keys.values(), now=now, pinned=pinned)
    amounts: dict[str, tuple[int, int]] = defaultdict(lambda: (0, 0))
    rows: list[dict[str, Any]] = []
    for i, n in enumerate(new):
        batch_id = batch_of[keys[i]] if i in keys else None
        if batch_id is not None:
            cents, count = amounts[batch_id]
            amounts[batch_id] = (cents + n.amount_cents, count + 1)
        rows.append(
            {
                "workspace_id": ids.scope,
                "id": payment_ids[i],
                "transaction_id": transaction_ids[i],
                "lease_id": n.lease_id,
                "resident_id": n.resident_id,
                "property_id": n.property_id,
                "unit_id": n.unit_id,
                "source_id": n.source.id,
                "method": n.source.type,
                "type": n.type,
                "amount_cents": n.amount_cents,
                "status": n.status,
                "business_date": n.business_date,
                "scheduled_for": n.scheduled_for,
                "deposit_account_id": n.account_id,
                "deposit_batch_id": batch_id,
                "recurring_id": n.recurring_id,
                "initiated_at": now,
                "processed_at": now if batch_id is not None else None,
                "completed_at": None,
                "created_at": now,
            }
        )
    bulk_insert(session, Payment, rows)
    for status, run in itertools.groupby(rows, key=lambda r: r["status"]):
        events.emit_many(
            session,
            ids.scope,
            "payment.created",
            [r["id"] for r in run],
            now=now,
            data={"status": status.value},
        )
    batching.add_to_batches(session, ids.scope, amounts)
    postings.post_payments(
        session, ids, [r["id"] for r in rows if r["deposit_batch_id"] is not None], now=now
    )
    return rows


def mark_paying(
    session: Session,
    workspace_id: str,
    paid: Sequence[tuple[str, PaymentType, PaymentStatus]],
    *,
    now: datetime,
) -> None:
    """Residents who paid (``(resident_id, type, status)``) cannot be deleted; a first rent
    payment makes them ``current`` (domain.md §11: a contract becomes current with its first
    rent payment)."""
    payers = sorted({resident_id for resident_id, _, _ in paid})
    rent_payers = sorted(
        {
            resident_id
            for resident_id, type, status in paid
            if type is PaymentType.RENT and status is PaymentStatus.PROCESSING
        }
    )
    for chunk in _chunks(payers):
        session.execute(
            update(Resident)
            .where(
                col(Resident.workspace_id) == workspace_id,
                col(Resident.id).in_(chunk),
                # Once a resident has paid, every later month's payment rewrote the row anyway.
                col(Resident.has_paid).is_(False),
            )
            .values(has_paid=True)
            .execution_options(synchronize_session=False)
        )
    for chunk in _chunks(rent_payers):
        session.execute(
            update(Resident)
            .where(
                col(Resident.workspace_id) == workspace_id,
                col(Resident.id).in_(chunk),
                transitions.moving(
                    unindexed(col(Resident.status)),
                    RESIDENT_TRANSITIONS,
                    [ResidentStatus.APPROVED],
                    ResidentStatus.CURRENT,
                ),
            )
            .values(status=ResidentStatus.CURRENT, status_changed_at=now)
            .execution_options(synchronize_session=False)
        )


def _chunks(items: Sequence[str], size: int = 500) -> list[Sequence[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _lock_resident(session: Session, workspace_id: str, resident_id: str) -> Resident:
    """Serialize one resident's payments (the per-day limit under concurrency, issue 5 #6): a
    row lock on PostgreSQL; SQLite's BEGIN IMMEDIATE already serializes writers."""
    return session.scalars(
        select(Resident)
        .where(col(Resident.workspace_id) == workspace_id, col(Resident.id) == resident_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def lease_of(session: Session, workspace_id: str, resident_id: str, lease_id: str) -> Lease:
    on_lease = session.get(LeaseResident, (workspace_id, lease_id, resident_id))
    lease = session.get(Lease, (workspace_id, lease_id)) if on_lease else None
    if lease is None:
        raise LeaseNotFound(f"You have no lease {lease_id!r}.")
    return lease


def make_payment(
    session: Session,
    ids: IdMinter,
    *,
    resident_id: str,
    lease_id: str,
    source_id: str,
    amount_cents: int,
    type: PaymentType,
    on: date | None,
    settings: Any,
    now: datetime,
    batch_id: str | None = None,
) -> Payment:
    """A resident's one-time payment, now or on a future date (then ``scheduled``).
    ``batch_id``: a scenario's choice of ID for the batch this payment opens."""
    ws_id = ids.scope
    rules = rules_of(settings)
    resident = _lock_resident(session, ws_id, resident_id)
    lease = lease_of(session, ws_id, resident_id, lease_id)
    source = sources.get_source(session, ws_id, resident_id, source_id)
    today = calendar.local_date(now)
    if on is not None and on < today:
        raise DateInPast(
            f"A payment cannot be dated in the past (today is {today.isoformat()}).",
            extra={"today": today.isoformat()},
        )
    if on is not None and on > today + MAX_SCHEDULE_AHEAD:
        raise DateTooFar("A payment can be scheduled at most a year ahead.")
    scheduled = on is not None and on > today
    business_date = (
        calendar.add_banking_days(on, 0)
        if scheduled and on is not None
        else calendar.business_date(now, cutoff_for(source, rules))
    )
    unit = session.get(Unit, (ws_id, lease.unit_id))
    assert unit is not None
    account_id = deposit_accounts_by_property(session, ws_id, {unit.property_id}).get(
        (unit.property_id, type.account_type.value)
    )
    attempt = Attempt(
        lease=lease,
        resident_status=resident.status,
        source=source,
        property_id=unit.property_id,
        account_id=account_id,
        amount_cents=amount_cents,
        type=type,
        business_date=business_date,
        made_that_day=made_on(session, ws_id, {(resident_id, business_date)}).get(
            (resident_id, business_date), 0
        ),
    )
    if (error := refusal(attempt, rules, today)) is not None:
        raise error
    assert account_id is not None
    new = NewPayment(
        lease_id=lease.id,
        resident_id=resident_id,
        property_id=unit.property_id,
        unit_id=unit.id,
        source=source,
        account_id=account_id,
        deposit_type=type.account_type.value,
        type=type,
        amount_cents=amount_cents,
        business_date=business_date,
        scheduled_for=on if scheduled and on is not None else today,
        status=PaymentStatus.SCHEDULED if scheduled else PaymentStatus.PROCESSING,
    )
    (payment_id,) = insert_payments(session, ids, [new], now=now, batch_id=batch_id)
    mark_paying(session, ws_id, [(resident_id, type, new.status)], now=now)
    session.expire(resident)
    payment = get_payment(session, ws_id, payment_id)
    send_receipts(session, ids, [payment], now=now)
    alert_insufficient(session, ids, [payment], now=now)
    return payment


def payable_leases_query(workspace_id: str) -> Any:
    """Leases some resident can pay through the portal (approved or current, active lease)."""
    return (
        select(col(Lease.id))
        .join(
            LeaseResident,
            and_(
                col(LeaseResident.workspace_id) == col(Lease.workspace_id),
                col(LeaseResident.lease_id) == col(Lease.id),
            ),
        )
        .join(
            Resident,
            and_(
                col(Resident.workspace_id) == col(LeaseResident.workspace_id),
                col(Resident.id) == col(LeaseResident.resident_id),
            ),
        )
        .where(
            col(Lease.workspace_id) == workspace_id,
            col(Lease.status) == LeaseStatus.ACTIVE,
            col(Resident.status).in_(PAYABLE_RESIDENT),
        )
    )
