"""Receipt batches as an accounting client loads them (domain.md §8; seeds 000 §E, 004 §D).

A receipt batch is a deposit or reversal batch the client may post: closed (the cut-off passed)
or deposited, with at least one item, whose deposit account serves only properties of this
integration or of none. Its receipts are the batch's items: each payment (positive) and each
reversal booked in it (negative; a won dispute's credit positive), described the way Landlord 12
renders them. The processed flag is the integration's (``ProcessedBatch``): two client
databases can each process one batch, and loading a processed batch again gives the same
receipts.

The reads are plain SQL through ``RawReader`` (one query for a batch or a page of batches, two
for the receipts): they serve the client's polling, which the issue measures against a bare
FastAPI read (perf-baseline.md §7: statement building and the ORM cost several times the query).
The same functions serve the ORM-session callers (``raw_of(session)``: its transaction).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from portal.auth.models import PortalFlavor
from portal.core.db import RawReader, raw_of
from portal.core.errors import NotFound
from portal.core.money import format_usd
from portal.payments.models import (
    BatchKind,
    BatchStatus,
    PaymentStatus,
    PaymentType,
    ReversalPlacement,
    SourceType,
)
from portal.properties import service as properties_service
from portal.properties.models import DepositAccountType
from portal.receipts.models import ProcessedBatch
from portal.reversals.ledger import receipt_note


class ReceiptBatchNotFound(NotFound):
    code = "receipt_batch_not_found"


@dataclass(frozen=True)
class ReceiptBatch:
    id: str
    kind: BatchKind
    status: BatchStatus
    business_date: date
    deposit_date: date
    deposit_type: DepositAccountType
    total_cents: int
    item_count: int
    seq: int
    processed_at: datetime | None

    @property
    def label(self) -> str:
        return label(self)


def label(b: ReceiptBatch) -> str:
    """The dropdown line of Landlord 12's dialog (seed 004): ``Deposit on 2/23/2022, $2,700.00,
    3 items, Id: 2732388606925747``; a reversal batch says so and carries its negative total."""
    what = "Deposit" if b.kind is BatchKind.DEPOSIT else "Reversal"
    d = b.deposit_date
    items = f"{b.item_count} item{'' if b.item_count == 1 else 's'}"
    return f"{what} on {d.month}/{d.day}/{d.year}, {format_usd(b.total_cents)}, {items}, Id: {b.id}"


# A batch the client may post (the cut-off passed, domain.md §5.2) whose deposit account serves
# at least one property and none of another integration.
_POSTABLE = """
    b.workspace_id = :ws
    AND b.status IN ('closed', 'deposited')
    AND b.item_count > 0
    AND EXISTS (
        SELECT 1 FROM deposit_account_property dap
        WHERE dap.workspace_id = b.workspace_id AND dap.deposit_account_id = b.deposit_account_id
    )
    AND NOT EXISTS (
        SELECT 1 FROM deposit_account_property dap
        JOIN property pr ON pr.workspace_id = dap.workspace_id AND pr.id = dap.property_id
        WHERE dap.workspace_id = b.workspace_id AND dap.deposit_account_id = b.deposit_account_id
          AND pr.integration_id IS NOT NULL AND pr.integration_id <> :integration
    )
"""
_BATCH_COLUMNS = """
SELECT b.id, b.kind, b.status, b.business_date, b.deposit_date, b.deposit_type,
       b.total_cents, b.item_count, b.seq, pb.processed_at
FROM deposit_batch b
LEFT JOIN processed_batch pb
  ON pb.workspace_id = b.workspace_id AND pb.integration_id = :integration AND pb.batch_id = b.id
"""
_ONE_BATCH = _BATCH_COLUMNS + "WHERE b.id = :batch AND " + _POSTABLE
_PAGE = {
    (processed, paged): _BATCH_COLUMNS
    + "WHERE "
    + _POSTABLE
    + ("AND pb.batch_id IS NOT NULL " if processed else "AND pb.batch_id IS NULL ")
    + ("AND (b.seq > :seq OR (b.seq = :seq AND b.id > :after)) " if paged else "")
    + "ORDER BY b.seq, b.id LIMIT :limit"
    for processed in (False, True)
    for paged in (False, True)
}


def _batch(raw: RawReader, row: tuple[Any, ...]) -> ReceiptBatch:
    return ReceiptBatch(
        id=row[0],
        kind=BatchKind(row[1]),
        status=BatchStatus(row[2]),
        business_date=raw.date(row[3]),
        deposit_date=raw.date(row[4]),
        deposit_type=DepositAccountType(row[5]),
        total_cents=int(row[6]),
        item_count=int(row[7]),
        seq=int(row[8]),
        processed_at=raw.instant(row[9]),
    )


def list_batches(
    raw: RawReader,
    workspace_id: str,
    integration_id: str,
    *,
    processed: bool,
    after: tuple[int, str] | None,
    limit: int,
) -> list[ReceiptBatch]:
    """The integration's unprocessed (or processed) receipt batches, newest last (creation
    order), after the ``(seq, id)`` cursor."""
    params: dict[str, Any] = {"ws": workspace_id, "integration": integration_id, "limit": limit}
    if after is not None:
        params["seq"], params["after"] = after
    rows = raw.rows(_PAGE[(processed, after is not None)], params)
    return [_batch(raw, r) for r in rows]


def get_batch(
    raw: RawReader, workspace_id: str, integration_id: str, batch_id: str
) -> ReceiptBatch:
    """One receipt batch of this integration; 404 for a batch still open, empty, of another
    integration's properties or of another workspace."""
    rows = raw.rows(
        _ONE_BATCH, {"ws": workspace_id, "integration": integration_id, "batch": batch_id}
    )
    if not rows:
        raise ReceiptBatchNotFound(
            f"No receipt batch {batch_id!r} for this integration (a batch is listed once its "
            "cut-off has passed)."
        )
    return _batch(raw, rows[0])


def mark(
    session: Session,
    workspace_id: str,
    integration_id: str,
    batch_id: str,
    *,
    processed: bool,
    now: datetime,
) -> ReceiptBatch:
    """Mark Processed / Mark Unprocessed; either twice in a row changes nothing."""
    get_batch(raw_of(session), workspace_id, integration_id, batch_id)
    if processed:
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        table = ProcessedBatch.__table__  # type: ignore[attr-defined]
        session.execute(
            insert(table)
            .values(
                workspace_id=workspace_id,
                integration_id=integration_id,
                batch_id=batch_id,
                processed_at=now,
            )
            .on_conflict_do_nothing(index_elements=["workspace_id", "integration_id", "batch_id"])
        )
    else:
        session.execute(
            delete(ProcessedBatch).where(
                col(ProcessedBatch.workspace_id) == workspace_id,
                col(ProcessedBatch.integration_id) == integration_id,
                col(ProcessedBatch.batch_id) == batch_id,
            )
        )
    session.flush()
    return get_batch(raw_of(session), workspace_id, integration_id, batch_id)


# --- receipts -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    item: str
    """``payment`` or ``reversal``."""
    date: date
    description: str
    amount_cents: int
    memo: str
    transaction_id: str
    payment_id: str
    resident_id: str | None
    """The accounting system's resident ID (the lease's); None for a landlord-managed lease."""
    property_id: str | None
    unit_id: str | None
    method: SourceType
    type: PaymentType
    status: PaymentStatus
    unpaid_charges_cents: int
    """The lease's balance as last received from outside (the client's own figure)."""
    payer: str
    place: str
    routing_number: str | None
    account_last4: str | None
    due_day: int
    reason: str | None = None
    return_code: str | None = None
    reason_code: str | None = None
    original_transaction_id: str | None = None
    note: str | None = None
    """A payment reversed after the deposit without a separate debit (the property's
    ``post_reversals`` setting is off, seed 002): what happened, to enter by hand."""


def memo(flavor: PortalFlavor, transaction_id: str, batch_id: str) -> str:
    """The receipt memo: the portal's name, as seed 004 shows (``Inosio Transaction``), with the
    transaction and batch IDs the client needs to find the receipt again (domain.md §8.2)."""
    portal = "Inosio" if flavor is PortalFlavor.INOSIO else "RentTrack"
    return f"{portal} Transaction Trans #{transaction_id} Batch #{batch_id}"


_FACTS = """
       r.name, l.external_resident_id, l.balance_basis_cents, l.due_day,
       pr.street, pr.external_id, u.name, u.external_id, s.routing_number, s.last4
"""
_JOINS = """
JOIN resident r ON r.workspace_id = p.workspace_id AND r.id = p.resident_id
JOIN lease l ON l.workspace_id = p.workspace_id AND l.id = p.lease_id
JOIN property pr ON pr.workspace_id = p.workspace_id AND pr.id = p.property_id
JOIN unit u ON u.workspace_id = p.workspace_id AND u.id = p.unit_id
JOIN payment_source s ON s.workspace_id = p.workspace_id AND s.id = p.source_id
"""
# Payments in the order they were made, then reversals in the order they happened.
_PAYMENTS = (
    "SELECT p.id, p.transaction_id, p.business_date, p.amount_cents, p.method, p.type, p.status,"
    + _FACTS
    + "FROM payment p"
    + _JOINS
    + "WHERE p.workspace_id = :ws AND p.deposit_batch_id = :batch AND p.status <> 'cancelled' "
    "ORDER BY p.initiated_at, p.transaction_id"
)
_REVERSAL_COLUMNS = (
    "SELECT p.id, p.transaction_id, p.business_date, p.amount_cents, p.method, p.type, p.status,"
    + _FACTS
    + ", v.transaction_id, v.business_date, v.reversal_date, v.amount_cents, v.reason, "
    "v.return_code, v.reason_code, v.placement, v.created_at "
)
# The reversals booked in the batch, and (second part) the notes left on its payments' receipts
# by reversals after the deposit of a property that does not post reversals (seed 002): one
# round trip, in the order they happened (columns 26 and 18: created_at, transaction ID).
_REVERSALS = (
    _REVERSAL_COLUMNS
    + "FROM reversal v JOIN payment p ON p.workspace_id = v.workspace_id AND p.id = v.payment_id"
    + _JOINS
    + "WHERE v.workspace_id = :ws AND v.deposit_batch_id = :batch "
    "UNION ALL "
    + _REVERSAL_COLUMNS
    + "FROM payment p JOIN reversal v ON v.workspace_id = p.workspace_id AND v.payment_id = p.id"
    + _JOINS
    + "WHERE p.workspace_id = :ws AND p.deposit_batch_id = :batch "
    f"AND v.placement = '{ReversalPlacement.RECEIPT_NOTE.value}' "
    "ORDER BY 26, 18"
)


def receipts(
    raw: RawReader, workspace_id: str, batch_id: str, *, flavor: PortalFlavor
) -> list[Receipt]:
    """The batch's receipts: payments in the order they were made, then the reversals booked
    in it in the order they happened; a payment reversed after the deposit without a separate
    debit (``receipt_note``) carries the reversal as its ``note``. Two queries."""
    params = {"ws": workspace_id, "batch": batch_id}
    out = [_receipt(raw, row, batch_id, flavor) for row in raw.rows(_PAYMENTS, params)]
    notes: dict[str, list[str]] = {}
    for row in raw.rows(_REVERSALS, params):
        if row[24] == ReversalPlacement.RECEIPT_NOTE.value:
            notes.setdefault(row[0], []).append(
                receipt_note(row[21], row[17], raw.date(row[19]), int(row[20]))
            )
        else:
            out.append(_receipt(raw, row, batch_id, flavor))
    if notes:
        out = [
            replace(r, note="; ".join(notes[r.payment_id]))
            if r.item == "payment" and r.payment_id in notes
            else r
            for r in out
        ]
    return out


def _receipt(raw: RawReader, row: Sequence[Any], batch_id: str, flavor: PortalFlavor) -> Receipt:
    payment_id, transaction_id, business_date, amount, method, type_, status = row[:7]
    payer, external_resident, basis, due_day, street, external_property = row[7:13]
    unit_name, external_unit, routing, last4 = row[13:17]
    where = properties_service.place_label(street, unit_name)
    common: dict[str, Any] = {
        "description": f"{payer} for {where}",
        "payment_id": payment_id,
        "resident_id": external_resident,
        "property_id": external_property,
        "unit_id": external_unit,
        "method": SourceType(method),
        "type": PaymentType(type_),
        "status": PaymentStatus(status),
        "unpaid_charges_cents": int(basis),
        "payer": payer,
        "place": where,
        "routing_number": routing,
        "account_last4": last4,
        "due_day": int(due_day),
    }
    if len(row) == 17:
        return Receipt(
            item="payment",
            # The banking day it was processed (seed 004: weekend payments show 2/22/2022, the
            # day before their 2/23 deposit).
            date=raw.date(business_date),
            amount_cents=int(amount),
            memo=memo(flavor, transaction_id, batch_id),
            transaction_id=transaction_id,
            **common,
        )
    own_transaction, own_business, own_day, own_amount, reason, return_code, reason_code = row[
        17:24
    ]
    return Receipt(
        item="reversal",
        date=raw.date(own_business if own_business is not None else own_day),
        amount_cents=int(own_amount),
        memo=f"{memo(flavor, own_transaction, batch_id)} {reason} of Trans #{transaction_id}",
        transaction_id=own_transaction,
        reason=reason,
        return_code=return_code,
        reason_code=reason_code,
        original_transaction_id=transaction_id,
        **common,
    )
