"""Lockbox files of a receipt batch, for file-based clients (domain.md §5.3, §11; formats.md §2,
§6.2): what the Batch Deposit Report e-mail carries and ``.../lockbox?format=`` serves.

- **Promas** (RentTrack's Promas CSV, domain.md §11): no header; ``Date`` (YYYY-MM-DD), ``UNIT
  ID``, ``TotalAmount``, ``Memo`` (``Trans #<transaction> Batch #<batch>``), ``Tenant ID``.
- **Boston Post** (MRI "Standard Lockbox", formats.md §2): a header row and the nine documented
  columns; dates ``mmddyyyy``; the portal's transaction ID is the check number (the convention
  of formats.md §2: the portal's transaction ID goes in the document/check number); the
  payer's routing number and the last four digits of the account (the portal keeps no more);
  CRLF line ends.

Both are RFC 4180 CSV (fields quoted only when needed); a reversal is a negative amount.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date

from portal.auth.models import LockboxFormat
from portal.core.money import format_cents
from portal.payments.batch_items import BatchItem
from portal.payments.recurring import occurrence
from portal.receipts.service import ReceiptBatch

BOSTON_POST_HEADER = (
    "household_id",
    "unit_id",
    "total_pmt_amt",
    "due_date",
    "Route Number",
    "Account Number",
    "Check Number",
    "Check Amount",
    "Deposit Date",
)


def _csv(rows: Iterable[Sequence[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def _mmddyyyy(d: date) -> str:
    return f"{d.month:02d}{d.day:02d}{d.year:04d}"


def promas(batch: ReceiptBatch, items: Sequence[BatchItem]) -> str:
    return _csv(
        [
            i.business_date.isoformat(),
            i.unit_external_id or "",
            format_cents(i.amount_cents),
            f"Trans #{i.transaction_id} Batch #{batch.id}",
            i.external_resident_id or "",
        ]
        for i in items
    )


def bostonpost(batch: ReceiptBatch, items: Sequence[BatchItem]) -> str:
    def due(i: BatchItem) -> date:
        # The rent due date of the month the receipt pays in.
        return occurrence(i.business_date.year, i.business_date.month, i.due_day)

    return _csv(
        [
            BOSTON_POST_HEADER,
            *(
                (
                    i.external_resident_id or "",
                    i.unit_external_id or "",
                    format_cents(i.amount_cents),
                    _mmddyyyy(due(i)),
                    i.routing_number or "",
                    i.account_last4 or "",
                    i.transaction_id,
                    format_cents(i.amount_cents),
                    _mmddyyyy(batch.deposit_date),
                )
                for i in items
            ),
        ]
    )


def render(fmt: LockboxFormat, batch: ReceiptBatch, items: Sequence[BatchItem]) -> str:
    return (promas if fmt is LockboxFormat.PROMAS else bostonpost)(batch, items)


def filename(fmt: LockboxFormat, batch: ReceiptBatch) -> str:
    return f"{fmt.value}-{batch.id}.csv"
