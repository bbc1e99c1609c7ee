"""Pending-approval reminders: each banking day until the resident is approved or deleted
[H:490649] (domain.md §2.3)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from portal.core import calendar, jobs
from portal.notifications.models import EmailKind
from portal.residents.emails import tell_landlords
from portal.residents.models import Resident, ResidentStatus

REMINDER_TIME = time(9, 0)  # New York; the reminder goes out each banking day morning


def _next_reminder(_settings: Mapping[str, Any], at_or_after: datetime) -> datetime:
    day = calendar.local_date(at_or_after)
    if calendar.is_banking_day(day) and calendar.at_local(day, REMINDER_TIME) >= at_or_after:
        return calendar.at_local(day, REMINDER_TIME)
    return calendar.at_local(calendar.next_banking_day(day), REMINDER_TIME)


def _send_reminders(ctx: jobs.JobContext) -> jobs.JobResult:
    pending = list(
        ctx.session.scalars(
            select(Resident)
            .where(
                col(Resident.workspace_id) == ctx.workspace_id,
                col(Resident.status) == ResidentStatus.PENDING,
            )
            .order_by(col(Resident.created_at), col(Resident.id))
        )
    )
    if not pending:
        return None
    sent = tell_landlords(ctx.session, ctx.ids, pending, EmailKind.PENDING_REMINDER, ctx.now)
    return {"pending_residents": len(pending), "emails": sent}


# Reminders continue each banking day until the resident is approved or deleted [H:490649].
# Listed in ``portal.sandbox.jobs.REGISTRY``.
CALENDAR_JOB = jobs.CalendarJob(
    name="residents.pending_reminders",
    rank=jobs.RANK_DELIVERIES,
    next_due=_next_reminder,
    run=_send_reminders,
)
