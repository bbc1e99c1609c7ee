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
from portal.payments.recurring import occurrence
from portal.receipts.service import Receipt, ReceiptBatch

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


def promas(batch: ReceiptBatch, receipts: Sequence[Receipt]) -> str:
    return _csv(
        [
            r.date.isoformat(),
            r.unit_id or "",
            format_cents(r.amount_cents),
            f"Trans #{r.transaction_id} Batch #{batch.id}",
            r.resident_id or "",
        ]
        for r in receipts
    )


def bostonpost(batch: ReceiptBatch, receipts: Sequence[Receipt]) -> str:
    def due(r: Receipt) -> date:
        # The rent due date of the month the receipt pays in.
        return occurrence(r.date.year, r.date.month, r.due_day)

    return _csv(
        [
            BOSTON_POST_HEADER,
            *(
                (
                    r.resident_id or "",
                    r.unit_id or "",
                    format_cents(r.amount_cents),
                    _mmddyyyy(due(r)),
                    r.routing_number or "",
                    r.account_last4 or "",
                    r.transaction_id,
                    format_cents(r.amount_cents),
                    _mmddyyyy(batch.deposit_date),
                )
                for r in receipts
            ),
        ]
    )


def render(fmt: LockboxFormat, batch: ReceiptBatch, receipts: Sequence[Receipt]) -> str:
    return (promas if fmt is LockboxFormat.PROMAS else bostonpost)(batch, receipts)


def filename(fmt: LockboxFormat, batch: ReceiptBatch) -> str:
    return f"{fmt.value}-{batch.id}.csv"
