"""``MRI_S-PMRM_CloseBatch`` (POST): **this simulator's own API**. MRI has no known batch-close
call (connectors.md §4.6, GAP; §2.10: RentTrack closed its batches at the end of the business
day), so a connector that wants to close its batch gets this one, with the payment POST's
endpoint, auth, formats, faults and journal (docs/reference-mri.md, "CloseBatch").

One batch per record: ``PropertyID`` and ``ExternalBatchID`` name it; ``ControlTotal``,
``ReceiptCount`` and ``CloseDatetime`` are optional. The checks, in order: the record's shape
(row 3), the property (13), the batch (14); then an already closed batch answers success with
its original close (a client retrying after a lost answer reads success, as the payment POST's
retry reads a duplicate); then the stated totals against MRI's own (15, only with
``control_total=reject``; otherwise a note). Closing dates the batch at the server clock with
``close_reason`` ``api`` and keeps what the client stated. ``CloseDatetime`` is checked and
journaled but not used: MRI's clock decides.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from portal.core.money import format_cents
from portal.reference.mri.state import (
    BATCH_NOT_FOUND,
    CONTROL_TOTAL_MISMATCH,
    INVALID_PAYLOAD,
    PROPERTY_NOT_FOUND,
    Batch,
    MriError,
    World,
    parse_vendor_amount,
)

#: The answer's fields, in order.
ANSWER_FIELDS = (
    "PropertyID",
    "ExternalBatchID",
    "BatchId",
    "Status",
    "ControlTotal",
    "ReceiptCount",
    "ClosedDatetime",
    "AlreadyClosed",
)
#: Request field names, matched case-insensitively (``ExternalBatchId`` too).
REQUEST_FIELDS = {
    name.lower(): name
    for name in ("PropertyID", "ExternalBatchID", "ControlTotal", "ReceiptCount", "CloseDatetime")
}
#: ``ExternalBatchID``'s length on the payment POST (§2.6): cut alike with ``over_length=truncate``.
EXTERNAL_BATCH_ID_LIMIT = 30

_AMOUNT = re.compile(r"^-?[0-9]{1,13}(?:\.[0-9]{1,2})?$")
_COUNT = re.compile(r"^[0-9]{1,9}$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9]{2}:[0-9]{2}:[0-9]{2})?$")


@dataclass
class Closing:
    """What one record came to. ``committed`` when this call closed the batch."""

    answer: dict[str, str | datetime | None]
    committed: bool
    notes: list[str] = field(default_factory=list)


def canonical(record: Mapping[str, str | None]) -> tuple[dict[str, str | None], list[str]]:
    """The record by this API's field names; unknown names are returned apart (ignored)."""
    known: dict[str, str | None] = {}
    unknown: list[str] = []
    for name, value in record.items():
        api_name = REQUEST_FIELDS.get(name.lower())
        if api_name is None:
            unknown.append(name)
        else:
            known[api_name] = (value.strip() or None) if isinstance(value, str) else value
    return known, unknown


def close_batch(
    world: World, record: Mapping[str, str | None], now: datetime, *, commit: bool
) -> Closing:
    fields, unknown = canonical(record)
    notes = [f"ignored unknown field {name}" for name in unknown]
    property_id, external_batch_id = _keys(fields)
    stated_total, stated_count = _stated(fields)
    if (
        len(external_batch_id) > EXTERNAL_BATCH_ID_LIMIT
        and world.switches.over_length == "truncate"
    ):
        external_batch_id = external_batch_id[:EXTERNAL_BATCH_ID_LIMIT]
        notes.append(
            f"ExternalBatchID cut to {EXTERNAL_BATCH_ID_LIMIT} characters (over_length=truncate)"
        )
    prop = world.property(property_id)
    if prop is None:
        raise MriError(PROPERTY_NOT_FOUND, f"no property {property_id!r}")
    batch = world.batches.get((prop.key, external_batch_id))
    if batch is None:
        raise MriError(
            BATCH_NOT_FOUND,
            f"no batch {external_batch_id!r} on property {prop.property_id}",
        )
    mismatch = _mismatch(batch, stated_total, stated_count)
    if batch.closed_at is not None:
        notes.append("already closed")
        if mismatch:
            notes.append(f"control total mismatch: {mismatch} (already closed)")
        return Closing(_answer(world, property_id, batch, already=True), False, notes)
    if mismatch:
        if world.switches.control_total == "reject":
            raise MriError(CONTROL_TOTAL_MISMATCH, mismatch)
        notes.append(f"control total mismatch: {mismatch} (control_total=ignore)")
    if not commit:
        return Closing(_answer(world, property_id, batch, already=False), False, notes)
    batch.closed_at, batch.close_reason = now, "api"
    batch.stated_control_total_cents, batch.stated_receipt_count = stated_total, stated_count
    return Closing(_answer(world, property_id, batch, already=False), True, notes)


def _keys(fields: Mapping[str, str | None]) -> tuple[str, str]:
    property_id = fields.get("PropertyID") or ""
    external_batch_id = fields.get("ExternalBatchID") or ""
    if not property_id or not external_batch_id:
        missing = "PropertyID" if not property_id else "ExternalBatchID"
        raise MriError(INVALID_PAYLOAD, f"{missing} is missing")
    return property_id, external_batch_id


def _stated(fields: Mapping[str, str | None]) -> tuple[int | None, int | None]:
    """``ControlTotal`` (a decimal, ≤ 2 places, possibly zero or negative), ``ReceiptCount`` (a
    non-negative integer) and ``CloseDatetime`` (``Y-m-d`` or ``Y-m-dTHH:MM:SS``): row 3."""
    total_text = fields.get("ControlTotal")
    total = None
    if total_text is not None:
        if not _AMOUNT.match(total_text):
            raise MriError(
                INVALID_PAYLOAD, f"ControlTotal {total_text!r} is not an amount (≤ 2 places)"
            )
        total = parse_vendor_amount(total_text)
    count_text = fields.get("ReceiptCount")
    count = None
    if count_text is not None:
        if not _COUNT.match(count_text):
            raise MriError(
                INVALID_PAYLOAD, f"ReceiptCount {count_text!r} is not a non-negative integer"
            )
        count = int(count_text)
    when = fields.get("CloseDatetime")
    if when is not None:
        try:
            if not _DATE.match(when):
                raise ValueError(when)
            datetime.fromisoformat(when)
        except ValueError:
            raise MriError(
                INVALID_PAYLOAD, f"CloseDatetime {when!r} is neither Y-m-d nor Y-m-dTHH:MM:SS"
            ) from None
    return total, count


def _mismatch(batch: Batch, total: int | None, count: int | None) -> str | None:
    """What differs between the stated totals and MRI's own (posted, not voided, receipts)."""
    differences = []
    if total is not None and total != batch.total_cents:
        differences.append(
            f"ControlTotal {format_cents(total)}, batch {batch.batch_id} holds "
            f"{format_cents(batch.total_cents)}"
        )
    if count is not None and count != batch.count:
        differences.append(
            f"ReceiptCount {count}, batch {batch.batch_id} holds {batch.count} receipts"
        )
    return "; ".join(differences) or None


def _answer(
    world: World, property_id: str, batch: Batch, *, already: bool
) -> dict[str, str | datetime | None]:
    closed = batch.closed_at
    return {
        "PropertyID": property_id,
        "ExternalBatchID": batch.external_batch_id,
        "BatchId": batch.batch_id,
        "Status": "Closed" if closed is not None else "Open",
        "ControlTotal": format_cents(batch.total_cents),
        "ReceiptCount": str(batch.count),
        "ClosedDatetime": None if closed is None else world.local(closed),
        "AlreadyClosed": "Y" if already else "N",
    }
