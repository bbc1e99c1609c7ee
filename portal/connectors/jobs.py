"""The connectors' calendar (issues 16, 17), run by advancing a workspace clock:

- ``connectors.close_journals``, 22:30 every day: each AMSI journal (deposit batch) that payments
  were posted to, of a business date up to today, is closed with one UpdateSettlementData for
  its net: what was posted to it less what was reversed in it so far (connectors.md §1.7: RT's
  ``api:accounting:amsi:close-batches`` at 22:30; seed 001 "RentTrack will close batches on the
  day the transactions are posted"). The settlement date is the batch's deposit date (§1.7).
- ``connectors.daily_sync``, 04:15 every day: each connected AMSI or MRI integration whose
  connection keeps ``daily_sync`` on is imported, as RT's ``api:amsi:sync-balance`` cron did
  at 04:15 (§0.1; MRI had none, S2 speaks of "a scheduled sync"): balances, block flags, new
  residents. Its run is in the import review like Sync Now's.
- ``connectors.mri_close`` events: an MRI batch closed at its end of day (``mri.closing``);
- ``connectors.retry`` events: a delivery's next attempt (``worker.RETRY``); the pass after the
  job sends it.
"""

from __future__ import annotations

from datetime import time
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col

from portal.auth.models import IntegrationKind
from portal.core import calendar, jobs
from portal.outbox import service as outbox
from portal.outbox.models import Delivery, Topic
from portal.payments import mri_batches
from portal.payments.models import DepositBatch

from . import worker
from .imports import runs as imports
from .mri import closing

CLOSE_TIME = time(22, 30)
SYNC_TIME = time(4, 15)


def close_journals(ctx: jobs.JobContext) -> jobs.JobResult:
    integrations = outbox.connected(ctx.session, ctx.workspace_id)
    if not integrations:
        return None
    today = calendar.local_date(ctx.now)
    new: list[outbox.NewDelivery] = []
    for integration in integrations:
        if integration.kind is not IntegrationKind.AMSI:
            continue  # MRI closes each batch at its own end of day (mri.closing)
        closed = select(col(Delivery.journal)).where(
            col(Delivery.workspace_id) == ctx.workspace_id,
            col(Delivery.integration_id) == integration.id,
            col(Delivery.topic) == Topic.JOURNAL_CLOSE.value,
            col(Delivery.journal).is_not(None),
        )
        rows = ctx.session.execute(
            select(
                col(Delivery.journal),
                func.sum(col(Delivery.amount_cents)),
                func.count(),
                col(DepositBatch.deposit_date),
            )
            .join(
                DepositBatch,
                (col(DepositBatch.workspace_id) == col(Delivery.workspace_id))
                & (col(DepositBatch.id) == col(Delivery.journal)),
            )
            .where(
                col(Delivery.workspace_id) == ctx.workspace_id,
                col(Delivery.integration_id) == integration.id,
                col(Delivery.topic).in_([Topic.PAYMENT.value, Topic.REVERSAL.value]),
                col(DepositBatch.business_date) <= today,
                col(Delivery.journal).not_in(closed),
            )
            .group_by(col(Delivery.journal), col(DepositBatch.deposit_date))
            .order_by(col(Delivery.journal))
        ).all()
        for journal, net, _count, deposit_date in rows:
            new.append(
                outbox.NewDelivery(
                    integration=integration,
                    topic=Topic.JOURNAL_CLOSE,
                    subject_id=journal,
                    key=f"close:{journal}",
                    journal=journal,
                    amount_cents=int(net),
                    facts={
                        "journal": journal,
                        "amount_cents": int(net),
                        "settlement_date": deposit_date.isoformat(),
                    },
                )
            )
    queued = outbox.enqueue(ctx.session, ctx.ids, new, now=ctx.now)
    return {"journals_closing": queued} if queued else None


def daily_sync(ctx: jobs.JobContext) -> jobs.JobResult:
    """Import each AMSI and MRI integration whose connection keeps ``daily_sync`` on (RT's
    04:15 ``api:amsi:sync-balance``, §0.1; seed 002 "the next scheduled sync with MRI")."""
    runs: dict[str, Any] = {}
    for integration in imports.scheduled(ctx.session, ctx.workspace_id):
        run = imports.sync_now(
            ctx.session, ctx.ids, integration.id, now=ctx.now, trigger=imports.SCHEDULE
        )
        runs[integration.id] = {"run": run.id, "status": run.status.value, **run.counts}
    return {"imports": runs} if runs else None


def _retry(_ctx: jobs.JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    return {"delivery_id": payload.get("delivery_id"), "attempt": payload.get("attempt")}


CALENDAR_JOBS = (
    jobs.CalendarJob(
        "connectors.daily_sync", jobs.RANK_HOUSEKEEPING, jobs.daily(SYNC_TIME), daily_sync
    ),
    jobs.CalendarJob(
        "connectors.close_journals", jobs.RANK_DELIVERIES, jobs.daily(CLOSE_TIME), close_journals
    ),
)
HANDLERS = (
    jobs.EventHandler(worker.RETRY, _retry),
    jobs.EventHandler(mri_batches.CLOSE, closing.close_batch),
)
