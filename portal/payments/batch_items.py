"""The items of deposit and reversal batches: the one read model behind every view of a batch's
contents (issue 15): the receipt-batch API and its lockbox files (``receipts``), the Batch
Deposit Report and the lockbox files of its e-mail (``reports``), and the landlord's
``GET /v1/deposit-batches/{id}`` (``payments``). What is in a batch is decided here once:

- its payments in the order they were made (a voided payment left its batch, domain.md §6.2;
  a cancelled one never had one), each positive;
- then, in the order they happened, the reversals booked in it: before the deposit in the
  payment's own batch, after it in a reversal batch of the reversal's day (domain.md §6.1),
  signed as the bank sees them (negative; a won dispute's credit positive);
- a reversal after the deposit of a property that does not post reversals (placement
  ``receipt_note``, seed 002) is in no batch: it is the ``note`` of its payment's item in the
  payment's original batch, which keeps its total.

So a batch's ``total_cents`` is the sum of its items' amounts, and its ``item_count`` their
number (``payments.check`` holds the stored figures to that).

This module sits in ``payments`` (which owns ``Reversal`` too) because it is the lowest layer
every consumer may import: the landlord's deposit-batch read lives here, and ``receipts`` and
``reports`` sit above it (pyproject's import-linter layers).

The read is one plain-SQL statement through ``RawReader`` for any number of batches: the
receipt-batch read is the client's polling loop, measured against a bare FastAPI read
(``bench/receipts_http.py``; perf-baseline.md §7: statement building and the ORM cost several
times the query). ORM callers pass ``raw_of(session)``: the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Literal

from portal.core.db import RawReader
from portal.core.money import format_usd
from portal.payments.models import (
    PaymentStatus,
    PaymentType,
    ReversalKind,
    ReversalPlacement,
    SourceType,
)
from portal.properties.places import place_label

ItemKind = Literal["payment", "reversal"]

#: Why a reversal after the deposit is only a note (seed 002: posting reversals as separate
#: debits "is a RentTrack setting"); the reversals' ledger entries say it too.
NOT_POSTED = "not posted as a separate debit: the property's post_reversals setting is off"


def receipt_note(reason: str, transaction_id: str, on: date, amount_cents: int) -> str:
    """The note a ``receipt_note`` reversal leaves on its payment's item (seed 002)."""
    return (
        f"{reason} on {on.isoformat()} ({format_usd(amount_cents)}, Trans #{transaction_id}): "
        f"{NOT_POSTED}"
    )


@dataclass(frozen=True, slots=True)
class BatchItem:
    """One item of one batch, with every fact any view of it shows."""

    batch_id: str
    item: ItemKind
    payment_id: str
    transaction_id: str
    """The payment's, or for a reversal item the reversal's own (domain.md §11: a reversal is
    a separate transaction row)."""
    amount_cents: int
    """As the bank sees it: a payment positive; a reversal negative, a won dispute's credit
    positive (architecture.md §11)."""
    status: PaymentStatus
    """The payment's status now (a reversal item's too)."""
    type: PaymentType
    method: SourceType
    resident_id: str
    """The payer (the portal's ID)."""
    resident_name: str
    lease_id: str
    external_resident_id: str | None
    """The accounting system's resident ID (the lease's); None for a landlord-managed lease."""
    balance_basis_cents: int
    """The lease's balance as last received from outside (the client's own figure)."""
    due_day: int
    property_id: str
    property_name: str
    property_external_id: str | None
    unit_id: str
    unit_name: str
    unit_external_id: str | None
    place: str
    """Street and unit, as accounting clients show them (``properties.places.place_label``)."""
    routing_number: str | None
    account_last4: str | None
    initiated_at: datetime
    """When the payment was initiated, or when the reversal happened."""
    business_date: date
    """The banking day it counts on: the payment's, or the reversal's own (seed 004: a weekend
    payment shows the banking day before its deposit)."""
    reversal_id: str | None = None
    reversal_kind: ReversalKind | None = None
    reason: str | None = None
    """A reversal's reason as booked: voided, refunded, NSF, CHARGE BACK..."""
    return_code: str | None = None
    reason_code: str | None = None
    original_transaction_id: str | None = None
    """A reversal's payment."""
    note: str | None = None
    """A payment reversed after the deposit without a separate debit (``post_reversals`` off,
    seed 002): what happened, to enter by hand."""


_FACTS = """
       p.id, p.status, p.type, p.method, p.resident_id, r.name, p.lease_id,
       l.external_resident_id, l.balance_basis_cents, l.due_day,
       p.property_id, pr.name, pr.street, pr.external_id, p.unit_id, u.name, u.external_id,
       s.routing_number, s.last4, p.transaction_id
"""
_JOINS = """
JOIN resident r ON r.workspace_id = p.workspace_id AND r.id = p.resident_id
JOIN lease l ON l.workspace_id = p.workspace_id AND l.id = p.lease_id
JOIN property pr ON pr.workspace_id = p.workspace_id AND pr.id = p.property_id
JOIN unit u ON u.workspace_id = p.workspace_id AND u.id = p.unit_id
JOIN payment_source s ON s.workspace_id = p.workspace_id AND s.id = p.source_id
"""
_REVERSAL = """
SELECT 1, {batch}, v.transaction_id, v.amount_cents, v.created_at,
       COALESCE(v.business_date, v.reversal_date), v.id, v.kind, v.placement, v.reason,
       v.return_code, v.reason_code, v.reversal_date,{facts}
FROM {tables}{joins}
WHERE {where}
"""


@lru_cache(maxsize=64)
def _statement(batches: int) -> str:
    """The items of ``batches`` batches (``:b0``, ``:b1``...) in one round trip: payments
    (part 0), the reversals booked in the batches and those left as notes on their payments
    (part 1). Unordered: ``_in_order`` sorts the rows."""
    ids = ", ".join(f":b{n}" for n in range(batches))
    payments = (
        "SELECT 0, p.deposit_batch_id, p.transaction_id, p.amount_cents, p.initiated_at, "
        "p.business_date, NULL, NULL, NULL, NULL, NULL, NULL, NULL," + _FACTS + "FROM payment p"
        f"{_JOINS}WHERE p.workspace_id = :ws AND p.deposit_batch_id IN ({ids}) "
        f"AND p.status <> '{PaymentStatus.CANCELLED.value}'"
    )
    booked = _REVERSAL.format(
        batch="v.deposit_batch_id",
        facts=_FACTS,
        tables="reversal v JOIN payment p ON p.workspace_id = v.workspace_id "
        "AND p.id = v.payment_id",
        joins=_JOINS,
        where=f"v.workspace_id = :ws AND v.deposit_batch_id IN ({ids})",
    )
    noted = _REVERSAL.format(
        batch="p.deposit_batch_id",
        facts=_FACTS,
        # CROSS JOIN: SQLite then reads the batches' payments first and their reversals by
        # ``ix_reversal_payment``, instead of every reversal of the workspace (no index holds
        # ``placement``); PostgreSQL plans it as the inner join it is.
        tables="payment p CROSS JOIN reversal v",
        joins=_JOINS,
        where=f"p.workspace_id = :ws AND p.deposit_batch_id IN ({ids}) "
        "AND v.workspace_id = p.workspace_id AND v.payment_id = p.id "
        f"AND v.placement = '{ReversalPlacement.RECEIPT_NOTE.value}'",
    )
    return f"{payments}\nUNION ALL{booked}UNION ALL{noted}"


def items_of_batches(
    raw: RawReader, workspace_id: str, batch_ids: Iterable[str]
) -> dict[str, list[BatchItem]]:
    """The items of each batch (every batch asked for is a key, an empty one too), in the
    order above. One statement, whatever the number of batches."""
    wanted = sorted(set(batch_ids))
    out: dict[str, list[BatchItem]] = {b: [] for b in wanted}
    if not wanted:
        return out
    params: dict[str, Any] = {f"b{n}": b for n, b in enumerate(wanted)}
    params["ws"] = workspace_id
    notes: dict[str, list[str]] = {}
    for row in _in_order(raw.rows(_statement(len(wanted)), params)):
        if row[8] == ReversalPlacement.RECEIPT_NOTE:
            notes.setdefault(row[13], []).append(
                receipt_note(row[9], row[2], raw.date(row[12]), int(row[3]))
            )
        else:
            out[row[1]].append(_item(raw, row))
    if notes:
        for items in out.values():
            items[:] = [
                replace(i, note="; ".join(notes[i.payment_id]))
                if i.item == "payment" and i.payment_id in notes
                else i
                for i in items
            ]
    return out


def _in_order(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Payments, then reversals and notes, each in the order things happened: by instant, then
    transaction ID (unique). Sorted here rather than by the statement's ORDER BY, which made
    SQLite sort each branch of the UNION in a temporary B-tree: a third of the receipt-batch
    read's query time. The values compare as the database's ORDER BY would: SQLite's instants
    are ISO text of one width, PostgreSQL's are datetimes."""
    rows.sort(key=lambda r: (r[0], r[4], r[2]))
    return rows


def items_of_batch(raw: RawReader, workspace_id: str, batch_id: str) -> list[BatchItem]:
    return items_of_batches(raw, workspace_id, [batch_id])[batch_id]


#: Enum members by stored value: a dict lookup, cheaper than the enum call on the hot path.
_STATUS = {m.value: m for m in PaymentStatus}
_TYPE = {m.value: m for m in PaymentType}
_METHOD = {m.value: m for m in SourceType}
_KIND = {m.value: m for m in ReversalKind}


def _item(raw: RawReader, row: tuple[Any, ...]) -> BatchItem:
    """A row of ``_statement`` as an item. Built positionally, in ``BatchItem``'s field order:
    the receipt-batch read is the client's polling loop (see the module docstring)."""
    instant = raw.instant(row[4])
    assert instant is not None
    reversal = row[0] == 1
    kind: ItemKind = "reversal" if reversal else "payment"
    facts = (
        row[1],  # batch_id
        kind,
        row[13],  # payment_id
        row[2],  # transaction_id: the payment's, or the reversal's own
        int(row[3]),  # amount_cents
        _STATUS[row[14]],
        _TYPE[row[15]],
        _METHOD[row[16]],
        row[17],  # resident_id
        row[18],  # resident_name
        row[19],  # lease_id
        row[20],  # external_resident_id
        int(row[21]),  # balance_basis_cents
        int(row[22]),  # due_day
        row[23],  # property_id
        row[24],  # property_name
        row[26],  # property_external_id
        row[27],  # unit_id
        row[28],  # unit_name
        row[29],  # unit_external_id
        place_label(row[25], row[28]),  # street and unit
        row[30],  # routing_number
        row[31],  # account_last4
        instant,  # initiated_at
        raw.date(row[5]),  # business_date
    )
    if not reversal:
        return BatchItem(*facts)
    # reversal_id, reversal_kind, reason, return_code, reason_code, original_transaction_id
    return BatchItem(*facts, row[6], _KIND[row[7]], row[9], row[10], row[11], row[32])
