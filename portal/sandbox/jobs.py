"""Every job the workspace clock runs, in one visible place (issue 15).

Features declare their calendar jobs and event handlers as module-level values and never
register themselves on import; this module lists them. A calendar job due at an instant runs
in ``(rank, name)`` order (``portal.core.jobs``); ``portal_tests/sandbox/test_job_registry.py``
checks that every ``EventKind`` declared anywhere in ``portal`` has its handler here.
"""

from __future__ import annotations

from portal.connectors import jobs as connector_jobs
from portal.core import idempotency
from portal.core.jobs import JobRegistry
from portal.payments import jobs as payment_jobs
from portal.reports import jobs as report_jobs
from portal.residents import reminders
from portal.reversals import jobs as reversal_jobs
from portal.webhooks import worker as webhooks_worker

REGISTRY = JobRegistry.of(
    calendar=[
        idempotency.PURGE_JOB,
        *payment_jobs.CALENDAR_JOBS,
        reminders.CALENDAR_JOB,
        report_jobs.CALENDAR_JOB,
        *reversal_jobs.CALENDAR_JOBS,
        *connector_jobs.CALENDAR_JOBS,
    ],
    handlers=[*reversal_jobs.HANDLERS, *connector_jobs.HANDLERS, *webhooks_worker.HANDLERS],
)
