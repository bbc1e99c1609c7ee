"""The payments calendar: the jobs advancing a workspace clock runs (architecture.md §4).

- ``payments.run_due``, 00:00 every day: starts scheduled payments and recurring charges due;
- ``payments.cutoff``, the cut-off (19:45) on banking days: closes the day's open batches;
- ``payments.settlement``, 06:00 on banking days: deposits the closed batches due that day;
- ``payments.late_alerts``, 09:00 every day: alerts landlords of leases with no rent payment
  by the due day plus the grace days.

Settlement runs before the 07:00 Batch Deposit Report of the same day (domain.md §11).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlmodel import col

from portal.core import calendar, jobs
from portal.core.money import format_usd
from portal.notifications import service as notifications
from portal.notifications.models import EmailKind
from portal.payments import batching, recurring
from portal.payments import notices as payment_notices
from portal.payments import rules as payment_rules
from portal.payments.models import Payment, PaymentStatus, PaymentType
from portal.residents.models import Lease, LeaseResident, LeaseStatus, Resident

RUN_DUE_TIME = time(0, 0)
SETTLEMENT_TIME = time(6, 0)
LATE_ALERT_TIME = time(9, 0)


def _banking(at: time) -> Any:
    def next_due(_settings: Mapping[str, Any], at_or_after: datetime) -> datetime:
        day = calendar.add_banking_days(calendar.local_date(at_or_after), 0)
        while (instant := calendar.at_local(day, at)) < at_or_after:
            day = calendar.next_banking_day(day)
        return instant

    return next_due


def _next_cutoff(settings: Mapping[str, Any], at_or_after: datetime) -> datetime:
    next_due: Callable[[Mapping[str, Any], datetime], datetime] = _banking(
        payment_rules.rules_of(settings).cutoff_time
    )
    return next_due(settings, at_or_after)


def _cutoff(ctx: jobs.JobContext) -> jobs.JobResult:
    closed = batching.close_batches(
        ctx.session, ctx.workspace_id, day=calendar.local_date(ctx.now), now=ctx.now
    )
    return {"batches_closed": closed} if closed else None


def _settle(ctx: jobs.JobContext) -> jobs.JobResult:
    settled = batching.settle_batches(
        ctx.session, ctx.workspace_id, day=calendar.local_date(ctx.now), now=ctx.now
    )
    if not settled.batches:
        return None
    return {
        "batches_deposited": settled.batches,
        "payments_completed": settled.payments,
        "amount": f"{settled.cents / 100:.2f}",
    }


def _run_due(ctx: jobs.JobContext) -> jobs.JobResult:
    result = recurring.run_due(ctx.session, ctx.ids, settings=ctx.settings, now=ctx.now)
    return result if any(result.values()) else None


def late_date(lease_due_day: int, month: date, grace_days: int) -> date:
    """The day a lease's rent for ``month`` counts as late: its due day (the month's last day
    when shorter) plus the grace days."""
    return recurring.occurrence(month.year, month.month, lease_due_day) + timedelta(days=grace_days)


def late_today(today: date, grace_days: int) -> dict[date, list[int]]:
    """The rent months whose late date is ``today``, each with the due days that make it so.

    At most two months: this one, and the last one when its due day plus grace runs into this
    month (due on the 28th with 5 grace days: late on the 2nd or 3rd of the next month; the
    grace is at most 27 days, so never further). Several due days can share a late date when
    the month is short (29, 30 and 31 all fall on February's last day)."""
    this_month = today.replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    live: dict[date, list[int]] = {}
    for month in (last_month, this_month):
        days = [d for d in range(1, 32) if late_date(d, month, grace_days) == today]
        if days:
            live[month] = days
    return live


def _late_alerts(ctx: jobs.JobContext) -> jobs.JobResult:
    """Once per lease per month, on the day its rent becomes late (due day + grace): no rent
    payment with a business date from the 1st of the rent's month through that day
    (domain.md §4.5). A payment scheduled for later, or made before the month began, does not
    count: the portal cannot tell which month a payment is for, so it goes by its date.

    The job runs every day, so each lease is looked at on its own late day only: a few leases
    a day (those with that due day), each checked by an index lookup on its payments, never a
    scan of the month's payments."""
    rules = payment_rules.rules_of(ctx.settings)
    today = calendar.local_date(ctx.now)
    # The payable leases (service.payable_leases_query) spelt as conditions on each lease, so
    # every subquery is an index lookup by lease: as an IN-list join, PostgreSQL without
    # statistics yet (a freshly loaded workspace) nested-looped the whole join per lease.
    someone_can_pay = exists().where(
        col(LeaseResident.workspace_id) == col(Lease.workspace_id),
        col(LeaseResident.lease_id) == col(Lease.id),
        col(Resident.workspace_id) == col(LeaseResident.workspace_id),
        col(Resident.id) == col(LeaseResident.resident_id),
        col(Resident.status).in_(payment_rules.PAYABLE_RESIDENT),
    )
    late: dict[tuple[str, date], str | None] = {}
    rents: dict[str, int] = {}
    for month, due_days in late_today(today, rules.late_payment_grace_days).items():
        due = today - timedelta(days=rules.late_payment_grace_days)
        paid = exists().where(
            col(Payment.workspace_id) == col(Lease.workspace_id),
            col(Payment.lease_id) == col(Lease.id),
            col(Payment.type) == PaymentType.RENT,
            col(Payment.status).not_in((PaymentStatus.CANCELLED,)),
            col(Payment.business_date) >= month,
            col(Payment.business_date) <= today,
        )
        rows = ctx.session.execute(
            select(col(Lease.id), col(Lease.rent_cents))
            .where(
                col(Lease.workspace_id) == ctx.workspace_id,
                col(Lease.status) == LeaseStatus.ACTIVE,
                col(Lease.due_day).in_(due_days),
                # A lease that began after this rent's due day owes its first rent later.
                col(Lease.start_date) <= due,
                someone_can_pay,
                ~paid,
            )
            .order_by(col(Lease.id))
        ).all()
        for lease_id, rent in rows:
            late[(lease_id, month)] = None
            rents[lease_id] = rent
    fresh = payment_notices.record_alerts(ctx.session, ctx.ids, "late", late, now=ctx.now)
    if not fresh:
        return None
    recipients = payment_notices.landlord_emails(ctx.session, ctx.workspace_id)
    messages = [
        notifications.Message(
            to=to,
            subject="Late rent payment",
            kind=EmailKind.LATE_PAYMENT,
            body=f"No rent payment ({format_usd(rents[lease_id])}) has been made for lease "
            f"{lease_id} for {month:%B %Y}.",
            data={"lease_id": lease_id, "month": month.isoformat()[:7]},
        )
        for lease_id, month in sorted(fresh, key=lambda pair: (pair[1], pair[0]))
        for to in recipients
    ]
    sent = notifications.send_many(ctx.session, ctx.ids, messages, now=ctx.now)
    return {"late_leases": len(fresh), "emails": sent}


#: Listed in ``portal.sandbox.jobs.REGISTRY``.
CALENDAR_JOBS = (
    jobs.CalendarJob("payments.run_due", jobs.RANK_PAYMENTS, jobs.daily(RUN_DUE_TIME), _run_due),
    jobs.CalendarJob("payments.cutoff", jobs.RANK_CUTOFF, _next_cutoff, _cutoff),
    jobs.CalendarJob(
        "payments.settlement", jobs.RANK_SETTLEMENT, _banking(SETTLEMENT_TIME), _settle
    ),
    jobs.CalendarJob(
        "payments.late_alerts", jobs.RANK_DELIVERIES, jobs.daily(LATE_ALERT_TIME), _late_alerts
    ),
)
