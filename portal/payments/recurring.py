"""Recurring payments: "Charge this payment on the __ of every month", a fixed amount, until
stopped or through an end month (domain.md §4.4).

A schedule charges at the start (00:00 New York) of its day each month; in a shorter month a
day 29-31 schedule charges on the month's last day. The first charge is the first such day
after the day the schedule is set up. Due schedules and due one-time scheduled payments run
together in one set-based job (architecture.md §4), so a month of autopay over thousands of
leases is a handful of statements per day.
"""

from __future__ import annotations

import calendar as gregorian
from collections.abc import Sequence
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlmodel import Session, col

from portal.core import calendar, faults, transitions
from portal.core.db import expire_loaded, get_row
from portal.core.errors import PortalError
from portal.core.ids import IdMinter
from portal.core.money import format_usd
from portal.core.pagination import keyset
from portal.events import service as events
from portal.notifications import service as notifications
from portal.notifications.models import EmailKind
from portal.payments import batching, postings, service, sources
from portal.payments import notices as payment_notices
from portal.payments import rules as payment_rules
from portal.payments.errors import RecurringNotActive, RecurringPaymentNotFound
from portal.payments.models import (
    PAYMENT_TRANSITIONS,
    RECURRING_TRANSITIONS,
    Payment,
    PaymentSource,
    PaymentStatus,
    PaymentType,
    RecurringPayment,
    RecurringStatus,
)
from portal.properties.models import Unit
from portal.residents.models import Lease, Resident, ResidentStatus
from portal.workspaces.schemas import WorkspaceSettings


def occurrence(year: int, month: int, day_of_month: int) -> date:
    return date(year, month, min(day_of_month, gregorian.monthrange(year, month)[1]))


def next_occurrence(day_of_month: int, after: date) -> date:
    """The first charging day strictly after ``after``."""
    this = occurrence(after.year, after.month, day_of_month)
    if this > after:
        return this
    year, month = (after.year + 1, 1) if after.month == 12 else (after.year, after.month + 1)
    return occurrence(year, month, day_of_month)


def _past_end(schedule_end: date | None, day: date) -> bool:
    return schedule_end is not None and day.replace(day=1) > schedule_end


def create_schedule(
    session: Session,
    ids: IdMinter,
    *,
    resident_id: str,
    lease_id: str,
    source_id: str,
    amount_cents: int,
    type: PaymentType,
    day_of_month: int,
    end_month: date | None,
    settings: Any,
    now: datetime,
) -> RecurringPayment:
    """Set up a schedule; the rules that do not depend on the day are checked now."""
    rules = payment_rules.rules_of(settings)
    lease = service.lease_of(session, ids.scope, resident_id, lease_id)
    source = sources.get_source(session, ids.scope, resident_id, source_id)
    resident = session.get(Resident, (ids.scope, resident_id))
    assert resident is not None
    unit = session.get(Unit, (ids.scope, lease.unit_id))
    assert unit is not None
    error = schedule_refusal(
        lease=lease,
        resident_status=resident.status,
        source=source,
        property_id=unit.property_id,
        account_id=service.deposit_accounts_by_property(session, ids.scope, {unit.property_id}).get(
            (unit.property_id, type.account_type.value)
        ),
        amount_cents=amount_cents,
        type=type,
        day_of_month=day_of_month,
        rules=rules,
        now=now,
    )
    if error is not None:
        raise error
    schedule = RecurringPayment(
        workspace_id=ids.scope,
        id=ids.new("recurring_payment", "rec"),
        lease_id=lease.id,
        resident_id=resident_id,
        source_id=source.id,
        type=type,
        amount_cents=amount_cents,
        day_of_month=day_of_month,
        end_month=end_month,
        created_at=now,
        **schedule_start(day_of_month, end_month, now),
    )
    session.add(schedule)
    session.flush()
    return schedule


def schedule_refusal(
    *,
    lease: Lease,
    resident_status: ResidentStatus,
    source: PaymentSource,
    property_id: str,
    account_id: str | None,
    amount_cents: int,
    type: PaymentType,
    day_of_month: int,
    rules: WorkspaceSettings,
    now: datetime,
) -> PortalError | None:
    """The first rule a new schedule breaks, judged as a payment on its first charging day
    (the rules that do not depend on the day), or None. ``create_schedule`` and a scenario's
    bulk load both ask it."""
    today = calendar.local_date(now)
    attempt = payment_rules.Attempt(
        lease=lease,
        resident_status=resident_status,
        source=source,
        property_id=property_id,
        account_id=account_id,
        amount_cents=amount_cents,
        type=type,
        business_date=calendar.add_banking_days(next_occurrence(day_of_month, today), 0),
        made_that_day=0,
    )
    return payment_rules.refusal(attempt, rules, today)


def schedule_start(day_of_month: int, end_month: date | None, now: datetime) -> dict[str, Any]:
    """A new schedule's ``next_date`` and ``status``: its first charging day after today,
    unless that is already past ``end_month`` (then it has ended)."""
    first = next_occurrence(day_of_month, calendar.local_date(now))
    if _past_end(end_month, first):
        return {"next_date": None, "status": RecurringStatus.ENDED}
    return {"next_date": first, "status": RecurringStatus.ACTIVE}


def get_schedule(
    session: Session,
    workspace_id: str,
    resident_id: str | None,
    schedule_id: str,
    *,
    for_update: bool = False,
) -> RecurringPayment:
    """One schedule (the resident's own when ``resident_id`` is given); ``for_update`` locks
    it first (``db.get_row``) so a cancel checks the status it changes (issue 14)."""
    schedule = get_row(
        session, RecurringPayment, (workspace_id, schedule_id), for_update=for_update
    )
    if schedule is None or (resident_id is not None and schedule.resident_id != resident_id):
        raise RecurringPaymentNotFound(f"No recurring payment {schedule_id!r}.")
    return schedule


def list_schedules(
    session: Session, workspace_id: str, resident_id: str, *, after: str | None, limit: int
) -> list[RecurringPayment]:
    query = select(RecurringPayment).where(
        col(RecurringPayment.workspace_id) == workspace_id,
        col(RecurringPayment.resident_id) == resident_id,
    )
    return list(session.scalars(keyset(query, col(RecurringPayment.id), after=after, limit=limit)))


def cancel_schedule(schedule: RecurringPayment, *, now: datetime) -> RecurringPayment:
    if RecurringStatus.CANCELLED not in RECURRING_TRANSITIONS[schedule.status]:
        raise RecurringNotActive(f"This recurring payment is already {schedule.status.value}.")
    schedule.status = RecurringStatus.CANCELLED
    schedule.next_date = None
    schedule.ended_at = now
    return schedule


# --- the daily run ------------------------------------------------------------------------------


def run_due(session: Session, ids: IdMinter, *, settings: Any, now: datetime) -> dict[str, int]:
    """Start every scheduled payment and recurring charge due today (job at 00:00 ET)."""
    today = calendar.local_date(now)
    started, skipped_scheduled = _start_scheduled(
        session, ids, settings=settings, now=now, today=today
    )
    made, skipped_recurring = _charge_recurring(
        session, ids, settings=settings, now=now, today=today
    )
    return {
        "scheduled_started": started,
        "recurring_made": made,
        "skipped": skipped_scheduled + skipped_recurring,
    }


def _load(
    session: Session,
    workspace_id: str,
    lease_ids: set[str],
    resident_ids: set[str],
    source_ids: set[str],
) -> tuple[dict[str, Any], dict[str, ResidentStatus], dict[str, Any], dict[str, str]]:
    """The leases and sources the rules read, each resident's status and each unit's
    property, for a day's charges: one query per table.

    Leases and sources come back as plain rows with the models' attribute names and types (the
    rules only read attributes): building 50,000 ORM objects of each was a sixth of a
    50,000-lease month (issue 19, py-spy). Flushed first, so they are what the ORM would see."""
    session.flush()
    leases = {
        row.id: row
        for row in session.execute(
            select(Lease.__table__).where(  # type: ignore[attr-defined]
                col(Lease.workspace_id) == workspace_id, col(Lease.id).in_(lease_ids)
            )
        )
    }
    residents: dict[str, ResidentStatus] = dict(
        session.execute(
            select(col(Resident.id), col(Resident.status)).where(
                col(Resident.workspace_id) == workspace_id, col(Resident.id).in_(resident_ids)
            )
        ).all()
    )
    srcs = {
        row.id: row
        for row in session.execute(
            select(PaymentSource.__table__).where(  # type: ignore[attr-defined]
                col(PaymentSource.workspace_id) == workspace_id,
                col(PaymentSource.id).in_(source_ids),
            )
        )
    }
    unit_ids = {lease.unit_id for lease in leases.values()}
    property_of = dict(
        session.execute(
            select(col(Unit.id), col(Unit.property_id)).where(
                col(Unit.workspace_id) == workspace_id, col(Unit.id).in_(unit_ids)
            )
        ).all()
    )
    return leases, residents, srcs, property_of


def _start_scheduled(
    session: Session, ids: IdMinter, *, settings: Any, now: datetime, today: date
) -> tuple[int, int]:
    due = list(
        session.scalars(
            select(Payment)
            .where(
                col(Payment.workspace_id) == ids.scope,
                col(Payment.status) == PaymentStatus.SCHEDULED,
                col(Payment.scheduled_for) <= today,
            )
            .order_by(col(Payment.id))
            # Locked, the status filter re-checked on the locked rows: a payment its resident
            # cancels meanwhile is not started anyway (issue 14).
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
    if not due:
        return 0, 0
    rules = payment_rules.rules_of(settings)
    leases, residents, srcs, property_of = _load(
        session,
        ids.scope,
        {p.lease_id for p in due},
        {p.resident_id for p in due},
        {p.source_id for p in due},
    )
    accounts = service.deposit_accounts_by_property(session, ids.scope, set(property_of.values()))
    starting: list[tuple[Payment, date]] = []
    skipped: list[tuple[Payment, PortalError]] = []
    for p in due:
        source = srcs[p.source_id]
        lease = leases[p.lease_id]
        business_date = calendar.business_date(now, payment_rules.cutoff_for(source, rules))
        attempt = payment_rules.Attempt(
            lease=lease,
            resident_status=residents[p.resident_id],
            source=source,
            property_id=property_of[lease.unit_id],
            account_id=accounts.get((property_of[lease.unit_id], p.type.value)),
            amount_cents=p.amount_cents,
            type=p.type,
            business_date=business_date,
            made_that_day=0,  # counted when it was scheduled
        )
        error = payment_rules.refusal(attempt, rules, today)
        if error is None:
            starting.append((p, business_date))
        else:
            skipped.append((p, error))
    keys = {
        p.id: batching.BatchKey(p.deposit_account_id, p.type.account_type, bd) for p, bd in starting
    }
    batch_of = batching.batch_ids(session, ids, keys.values(), now=now)
    amounts: dict[str, tuple[int, int]] = {}
    params = []
    for p, bd in starting:
        batch_id = batch_of[keys[p.id]]
        cents, count = amounts.get(batch_id, (0, 0))
        amounts[batch_id] = (cents + p.amount_cents, count + 1)
        params.append({"pid": p.id, "bd": bd, "batch": batch_id})
    table = Payment.__table__  # type: ignore[attr-defined]
    if params:
        session.connection().execute(
            update(table)
            .where(
                table.c.workspace_id == ids.scope,
                table.c.id == bindparam("pid"),
                transitions.moving(
                    table.c.status,
                    PAYMENT_TRANSITIONS,
                    [PaymentStatus.SCHEDULED],
                    PaymentStatus.PROCESSING,
                ),
            )
            .values(
                status=PaymentStatus.PROCESSING,
                business_date=bindparam("bd"),
                deposit_batch_id=bindparam("batch"),
                processed_at=now,
            ),
            params,
        )
    batching.add_to_batches(session, ids.scope, amounts)
    postings.post_payments(session, ids, [p.id for p, _ in starting], now=now)
    if skipped:
        session.connection().execute(
            update(table)
            .where(
                table.c.workspace_id == ids.scope,
                table.c.id == bindparam("pid"),
                transitions.moving(
                    table.c.status,
                    PAYMENT_TRANSITIONS,
                    [PaymentStatus.SCHEDULED],
                    PaymentStatus.CANCELLED,
                ),
            )
            .values(status=PaymentStatus.CANCELLED),
            [{"pid": p.id} for p, _ in skipped],
        )
        events.emit_many(
            session,
            ids.scope,
            "payment.cancelled",
            [p.id for p, _ in skipped],
            now=now,
            data={"status": PaymentStatus.CANCELLED.value, "reason": "skipped"},
        )
    session.expire_all()
    started = [service.get_payment(session, ids.scope, p.id) for p, _ in starting]
    service.mark_paying(
        session, ids.scope, [(p.resident_id, p.type, p.status) for p in started], now=now
    )
    payment_notices.send_receipts(session, ids, started, now=now)
    payment_notices.alert_insufficient(session, ids, started, now=now)
    _tell_skipped(session, ids, [(p.resident_id, p.amount_cents, e) for p, e in skipped], now=now)
    return len(starting), len(skipped)


def _charge_recurring(
    session: Session, ids: IdMinter, *, settings: Any, now: datetime, today: date
) -> tuple[int, int]:
    # Rows, not ORM objects: thousands of schedules are read and moved on each month, and
    # the ORM's per-object load and flush would cost more than the charges themselves.
    due = session.execute(
        select(
            col(RecurringPayment.id),
            col(RecurringPayment.lease_id),
            col(RecurringPayment.resident_id),
            col(RecurringPayment.source_id),
            col(RecurringPayment.type),
            col(RecurringPayment.amount_cents),
            col(RecurringPayment.day_of_month),
            col(RecurringPayment.end_month),
        )
        .where(
            col(RecurringPayment.workspace_id) == ids.scope,
            col(RecurringPayment.status) == RecurringStatus.ACTIVE,
            col(RecurringPayment.next_date) <= today,
        )
        .order_by(col(RecurringPayment.id))
        # A schedule its resident stops meanwhile makes no payment (issue 14).
        .with_for_update()
    ).all()
    if not due:
        return 0, 0
    rules = payment_rules.rules_of(settings)
    leases, residents, srcs, property_of = _load(
        session,
        ids.scope,
        {r.lease_id for r in due},
        {r.resident_id for r in due},
        {r.source_id for r in due},
    )
    accounts = service.deposit_accounts_by_property(session, ids.scope, set(property_of.values()))
    dates = {
        r.id: calendar.business_date(now, payment_rules.cutoff_for(srcs[r.source_id], rules))
        for r in due
    }
    counts = service.made_on(session, ids.scope, {(r.resident_id, dates[r.id]) for r in due})
    new: list[service.NewPayment] = []
    charged: list[str] = []
    skipped: list[tuple[str, int, PortalError]] = []
    for r in due:
        lease = leases[r.lease_id]
        source = srcs[r.source_id]
        property_id = property_of[lease.unit_id]
        account_id = accounts.get((property_id, r.type.value))
        key = (r.resident_id, dates[r.id])
        attempt = payment_rules.Attempt(
            lease=lease,
            resident_status=residents[r.resident_id],
            source=source,
            property_id=property_id,
            account_id=account_id,
            amount_cents=r.amount_cents,
            type=r.type,
            business_date=dates[r.id],
            made_that_day=counts.get(key, 0),
        )
        error = payment_rules.refusal(attempt, rules, today)
        if error is not None:
            skipped.append((r.resident_id, r.amount_cents, error))
        else:
            assert account_id is not None
            counts[key] = counts.get(key, 0) + 1
            charged.append(r.id)
            new.append(
                service.NewPayment(
                    lease_id=lease.id,
                    resident_id=r.resident_id,
                    property_id=property_id,
                    unit_id=lease.unit_id,
                    source=source,
                    account_id=account_id,
                    deposit_type=r.type.value,
                    type=r.type,
                    amount_cents=r.amount_cents,
                    business_date=dates[r.id],
                    scheduled_for=today,
                    status=PaymentStatus.PROCESSING,
                    recurring_id=r.id,
                )
            )
    inserted = service.insert_payment_rows(session, ids, new, now=now)
    payment_ids = [row["id"] for row in inserted]
    service.mark_paying(
        session, ids.scope, [(n.resident_id, n.type, n.status) for n in new], now=now
    )
    faults.reached(
        "payments.run_due", "charged"
    )  # the crash tests' kill point (portal/core/faults.py)
    _move_on(
        session,
        ids.scope,
        [(r.id, r.day_of_month, r.end_month) for r in due],
        dict(zip(charged, payment_ids, strict=True)),
        now=now,
        today=today,
    )
    if payment_ids:
        # In ID order, never the order rows happen to come back in: e-mail IDs are minted in
        # this order, and PostgreSQL's order changes with the plan (a resumed advance, a bigger
        # table), which made a month resumed after a crash mail its receipts in another order.
        # The rows as written, not loaded back (the notices only read them; see ``_load``).
        made: list[Any] = sorted(
            (SimpleNamespace(**row) for row in inserted), key=lambda payment: payment.id
        )
        payment_notices.send_receipts(session, ids, made, now=now)
        payment_notices.alert_insufficient(session, ids, made, now=now)
    _tell_skipped(session, ids, skipped, now=now)
    return len(new), len(skipped)


def _move_on(
    session: Session,
    workspace_id: str,
    schedules: Sequence[tuple[str, int, date | None]],
    last: dict[str, str],
    *,
    now: datetime,
    today: date,
) -> None:
    """Each schedule run today (``(id, day_of_month, end_month)``) moves to its next charging
    day, or ends past its end month; ``last`` is the payment each one made. Three
    ``executemany`` statements at most, whatever the number of schedules: a schedule that goes
    on and made its payment (nearly all of them) is moved and given it in one."""
    moved_and_paid: list[dict[str, Any]] = []
    moved: list[dict[str, Any]] = []
    ended: list[dict[str, Any]] = []
    for schedule_id, day_of_month, end_month in schedules:
        day = next_occurrence(day_of_month, today)
        if _past_end(end_month, day):
            ended.append({"rid": schedule_id})
        elif schedule_id in last:
            moved_and_paid.append({"rid": schedule_id, "next": day, "last": last[schedule_id]})
        else:
            moved.append({"rid": schedule_id, "next": day})
    table = RecurringPayment.__table__  # type: ignore[attr-defined]
    conn = session.connection()
    where = (table.c.workspace_id == workspace_id, table.c.id == bindparam("rid"))
    ending = transitions.moving(
        table.c.status, RECURRING_TRANSITIONS, [RecurringStatus.ACTIVE], RecurringStatus.ENDED
    )
    for values, rows, extra in (
        (
            {"next_date": bindparam("next"), "last_payment_id": bindparam("last")},
            moved_and_paid,
            (),
        ),
        ({"next_date": bindparam("next")}, moved, ()),
        ({"status": RecurringStatus.ENDED, "next_date": None, "ended_at": now}, ended, (ending,)),
        (
            {"last_payment_id": bindparam("last")},
            [{"rid": r["rid"], "last": last[r["rid"]]} for r in ended if r["rid"] in last],
            (),
        ),
    ):
        if rows:
            conn.execute(update(table).where(*where, *extra).values(**values), rows)
    expire_loaded(session, RecurringPayment, workspace_id, (s[0] for s in schedules))


def _tell_skipped(
    session: Session,
    ids: IdMinter,
    skipped: Sequence[tuple[str, int, PortalError]],
    *,
    now: datetime,
) -> None:
    if not skipped:
        return
    who = payment_notices.resident_contacts(session, ids.scope, {r for r, _, _ in skipped})
    messages = [
        notifications.Message(
            to=who[resident_id][1] or "",
            subject="Your payment could not be made",
            kind=EmailKind.PAYMENT_SKIPPED,
            body=f"Hello {who[resident_id][0]}, a payment of {format_usd(cents)} was not made: "
            f"{error.detail}",
            data={"resident_id": resident_id, "code": error.code},
        )
        for resident_id, cents, error in skipped
        if who[resident_id][1]
    ]
    notifications.send_many(session, ids, messages, now=now)
