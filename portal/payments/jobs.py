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

from portal import calendar, jobs
from portal.money import format_usd
from portal.notifications import service as notifications
from portal.notifications.models import EmailKind
from portal.payments import batching, recurring, service
from portal.payments.models import Payment, PaymentStatus, PaymentType
from portal.residents.models import Lease, LeaseResident, LeaseStatus, Resident

RUN_DUE_TIME = time(0, 0)
SETTLEMENT_TIME = time(6, 0)
LATE_ALERT_TIME = time(9, 0)


def _daily(at: time) -> Any:
    def next_due(_settings: Mapping[str, Any], at_or_after: datetime) -> datetime:
        day = calendar.local_date(at_or_after)
        while (instant := calendar.at_local(day, at)) < at_or_after:
            day += timedelta(days=1)
        return instant

    return next_due


def _banking(at: time) -> Any:
    def next_due(_settings: Mapping[str, Any], at_or_after: datetime) -> datetime:
        day = calendar.add_banking_days(calendar.local_date(at_or_after), 0)
        while (instant := calendar.at_local(day, at)) < at_or_after:
            day = calendar.next_banking_day(day)
        return instant

    return next_due


def _next_cutoff(settings: Mapping[str, Any], at_or_after: datetime) -> datetime:
    next_due: Callable[[Mapping[str, Any], datetime], datetime] = _banking(
        service.rules_of(settings).cutoff_time
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


def _late_alerts(ctx: jobs.JobContext) -> jobs.JobResult:
    """Once per lease per month: no rent payment made in the month by its due day + grace
    (domain.md §4.5)."""
    rules = service.rules_of(ctx.settings)
    today = calendar.local_date(ctx.now)
    month = today.replace(day=1)
    paid = exists().where(
        col(Payment.workspace_id) == col(Lease.workspace_id),
        col(Payment.lease_id) == col(Lease.id),
        col(Payment.type) == PaymentType.RENT,
        col(Payment.status).not_in((PaymentStatus.CANCELLED,)),
        col(Payment.business_date) >= month,
    )
    # The payable leases (service.payable_leases_query) spelt as conditions on each lease, so
    # every subquery is an index lookup by lease: as an IN-list join, PostgreSQL without
    # statistics yet (a freshly loaded workspace) nested-looped the whole join per lease.
    someone_can_pay = exists().where(
        col(LeaseResident.workspace_id) == col(Lease.workspace_id),
        col(LeaseResident.lease_id) == col(Lease.id),
        col(Resident.workspace_id) == col(LeaseResident.workspace_id),
        col(Resident.id) == col(LeaseResident.resident_id),
        col(Resident.status).in_(service.PAYABLE_RESIDENT),
    )
    candidates = ctx.session.execute(
        select(col(Lease.id), col(Lease.due_day), col(Lease.rent_cents))
        .where(
            col(Lease.workspace_id) == ctx.workspace_id,
            col(Lease.status) == LeaseStatus.ACTIVE,
            col(Lease.start_date) <= today,
            someone_can_pay,
            ~paid,
        )
        .order_by(col(Lease.id))
    ).all()
    late: dict[str, tuple[date, str | None]] = {
        lease_id: (month, None)
        for lease_id, due_day, _rent in candidates
        if late_date(due_day, month, rules.late_payment_grace_days) <= today
    }
    fresh = service.record_alerts(ctx.session, ctx.ids, "late", late, now=ctx.now)
    if not fresh:
        return None
    rents = {lease_id: rent for lease_id, _due, rent in candidates}
    recipients = service.landlord_emails(ctx.session, ctx.workspace_id)
    messages = [
        notifications.Message(
            to=to,
            subject="Late rent payment",
            kind=EmailKind.LATE_PAYMENT,
            body=f"No rent payment ({format_usd(rents[lease_id])}) has been made for lease "
            f"{lease_id} for {month:%B %Y}.",
            data={"lease_id": lease_id, "month": month.isoformat()[:7]},
        )
        for lease_id in sorted(fresh)
        for to in recipients
    ]
    sent = notifications.send_many(ctx.session, ctx.ids, messages, now=ctx.now)
    return {"late_leases": len(fresh), "emails": sent}


for job in (
    jobs.CalendarJob("payments.run_due", jobs.RANK_PAYMENTS, _daily(RUN_DUE_TIME), _run_due),
    jobs.CalendarJob("payments.cutoff", jobs.RANK_CUTOFF, _next_cutoff, _cutoff),
    jobs.CalendarJob(
        "payments.settlement", jobs.RANK_SETTLEMENT, _banking(SETTLEMENT_TIME), _settle
    ),
    jobs.CalendarJob(
        "payments.late_alerts", jobs.RANK_DELIVERIES, _daily(LATE_ALERT_TIME), _late_alerts
    ),
):
    jobs.registry.add_calendar_job(job)
