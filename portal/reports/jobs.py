"""``reports.batch_deposit_report``: at 07:00 New York on each banking day, every landlord user
gets that day's Batch Deposit Report by e-mail, when some batch was deposited that day
(domain.md §5.3, §11). The e-mail's body is a text rendering of the report, bounded to what
the mailbox keeps; its ``data`` is the report per batch, for machines.

Settlement runs at 06:00 (``payments.settlement``), so the day's batches are deposited by
then; the rank (``RANK_REPORTS``) keeps the order at any shared instant.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time
from typing import Any

from sqlmodel import Session

from portal.auth import service as auth_service
from portal.auth.models import LockboxFormat
from portal.core import calendar, jobs
from portal.core.db import raw_of
from portal.core.money import format_cents, format_usd
from portal.notifications import service as notifications
from portal.notifications.models import EmailKind
from portal.payments.models import PAYMENT_LABELS
from portal.receipts import lockbox
from portal.receipts import service as receipts
from portal.reports import service
from portal.reports.schemas import TYPE_LABELS, us_date
from portal.reports.service import BatchDepositReport, ReportBatch

REPORT_TIME = time(7, 0)
JOB_NAME = "reports.batch_deposit_report"


def next_report(_settings: Mapping[str, Any], at_or_after: datetime) -> datetime:
    """07:00 New York on the first banking day whose 07:00 is not before ``at_or_after``."""
    day = calendar.add_banking_days(calendar.local_date(at_or_after), 0)
    while (instant := calendar.at_local(day, REPORT_TIME)) < at_or_after:
        day = calendar.next_banking_day(day)
    return instant


#: The mailbox keeps at most this many characters of a body (the ``email.body`` column).
EMAIL_BODY_LIMIT = 4000


def email_subject(r: BatchDepositReport) -> str:
    return f"Batch Deposit Report for {us_date(r.deposit_date)}"


def email_data(r: BatchDepositReport) -> dict[str, Any]:
    """The report for machines, per batch (transactions by ID only, so a busy day stays small;
    the full rows are at ``GET /v1/reports/batch-deposits``)."""

    def batch(b: ReportBatch) -> dict[str, Any]:
        return {
            "batch_id": b.id,
            "kind": b.kind.value,
            "status": b.status.value,
            "deposit_type": b.deposit_type.value,
            "account_number": b.account_number,
            "business_date": b.business_date.isoformat(),
            "item_count": b.item_count,
            "total": format_cents(b.total_cents),
            "transaction_ids": [i.transaction_id for i in b.items],
        }

    return {
        "deposit_date": r.deposit_date.isoformat(),
        "batches": [batch(b) for b in r.deposits],
        "reversals": [batch(b) for b in r.reversals],
        "deposits_total": format_cents(r.deposits_total_cents),
        "reversals_total": format_cents(r.reversals_total_cents),
        "total": format_cents(r.total_cents),
        "item_count": r.item_count,
    }


def _text_batch(b: ReportBatch, *, with_items: bool) -> list[str]:
    lines = [
        f"{TYPE_LABELS[b.deposit_type]} account {b.account_number} - Batch ID {b.id} "
        f"({b.status.value})"
    ]
    if with_items:
        lines += [
            f"  Trans #{i.transaction_id}  {PAYMENT_LABELS[i.status]}  {i.resident_name}  "
            f"{i.property_name} / {i.unit_name}  "
            f"initiated {us_date(calendar.local_date(i.initiated_at))}  "
            f"{format_usd(i.amount_cents)}"
            + (
                f"  {i.reason}{' ' + i.return_code if i.return_code else ''} of Trans "
                f"#{i.original_transaction_id}"
                if i.item == "reversal"
                else ""
            )
            + (f"  Note: {i.note}" if i.note else "")
            for i in b.items
        ]
    items = "item" if b.item_count == 1 else "items"
    lines.append(f"  Total: {format_usd(b.total_cents)} ({b.item_count} {items})")
    return lines


def _text(r: BatchDepositReport, *, with_items: bool) -> list[str]:
    lines = [f"Batch Deposit Report - deposits on {us_date(r.deposit_date)}", ""]
    for b in r.deposits:
        lines += [*_text_batch(b, with_items=with_items), ""]
    if r.reversals:
        lines += ["Reversals", ""]
        for b in r.reversals:
            lines += [*_text_batch(b, with_items=with_items), ""]
    lines += [
        f"Deposits: {format_usd(r.deposits_total_cents)}",
        f"Reversals: {format_usd(r.reversals_total_cents)}",
        f"Net total: {format_usd(r.total_cents)}",
    ]
    return lines


def email_body(r: BatchDepositReport, limit: int = EMAIL_BODY_LIMIT) -> str:
    """The report as text: every transaction when it fits in ``limit`` characters, else the
    batches and totals only (and, past that, as many batch lines as fit) with a pointer to
    the full report."""
    full = "\n".join(_text(r, with_items=True))
    if len(full) <= limit:
        return full
    note = (
        f"\n\n{r.item_count} transactions: see GET /v1/reports/batch-deposits"
        f"?date={r.deposit_date.isoformat()}"
    )
    summary = "\n".join(_text(r, with_items=False))
    if len(summary) + len(note) > limit:
        summary = summary[: limit - len(note) - 4].rsplit("\n", 1)[0] + "\n..."
    return summary + note


def lockbox_files(
    session: Session, workspace_id: str, report: service.BatchDepositReport
) -> list[notifications.Attachment]:
    """For each file-based integration, one lockbox file per batch of the day it may load
    (domain.md §5.3: "one lockbox file per batch deposit"). RentTrack sent them zipped; here
    each file is its own attachment, since a zip has to be unpacked before importing anyway.
    A file lists the report's own items of the batch (``payments.batch_items``): nothing is
    read again per integration but whether it may load the batch."""
    out: list[notifications.Attachment] = []
    raw = raw_of(session)
    for integration in auth_service.list_all_integrations(session, workspace_id):
        if integration.lockbox_format is None:
            continue
        fmt = LockboxFormat(integration.lockbox_format)
        for b in (*report.deposits, *report.reversals):
            try:
                rb = receipts.get_batch(raw, workspace_id, integration.id, b.id)
            except receipts.ReceiptBatchNotFound:
                continue
            out.append(
                notifications.Attachment(
                    filename=lockbox.filename(fmt, rb),
                    content_type="text/csv",
                    content=lockbox.render(fmt, rb, b.items),
                )
            )
    return out


def send_batch_deposit_report(ctx: jobs.JobContext) -> jobs.JobResult:
    """E-mail today's report; nothing (None) on a day with no deposited batch or no recipient."""
    report = service.batch_deposit_report(
        ctx.session, ctx.workspace_id, calendar.local_date(ctx.now), now=ctx.now
    )
    recipients = auth_service.landlord_emails(ctx.session, ctx.workspace_id)
    if not report.any_deposited or not recipients:
        return None
    subject, body, data = email_subject(report), email_body(report), email_data(report)
    files = lockbox_files(ctx.session, ctx.workspace_id, report)
    messages = [
        notifications.Message(
            to=to,
            subject=subject,
            kind=EmailKind.BATCH_DEPOSIT_REPORT,
            body=body,
            data=data,
            attachments=files,
        )
        for to in recipients
    ]
    sent = notifications.send_many(ctx.session, ctx.ids, messages, now=ctx.now)
    return {
        "deposit_date": report.deposit_date.isoformat(),
        "batches": len(report.deposits) + len(report.reversals),
        "total": format_cents(report.total_cents),
        "emails": sent,
    }


#: Listed in ``portal.sandbox.jobs.REGISTRY``.
CALENDAR_JOB = jobs.CalendarJob(JOB_NAME, jobs.RANK_REPORTS, next_report, send_batch_deposit_report)
