"""Receipt batches as an accounting client loads them (domain.md §8; seeds 000 §E, 004 §D).

A receipt batch is a deposit or reversal batch the client may post: closed (the cut-off passed)
or deposited, with at least one item, whose deposit account serves only properties of this
integration or of none. Its receipts are the batch's items (``payments.batch_items``, the one
read model every view of a batch shares): each payment (positive) and each reversal booked in it
(negative; a won dispute's credit positive), described the way Landlord 12 renders them. The
processed flag is the integration's (``ProcessedBatch``): two client databases can each process
one batch, and loading a processed batch again gives the same receipts.

The reads are plain SQL through ``RawReader`` (one query for a batch or a page of batches, one
for the receipts): they serve the client's polling, which the issue measures against a bare
FastAPI read (perf-baseline.md §7: statement building and the ORM cost several times the query).
The same functions serve the ORM-session callers (``raw_of(session)``: its transaction).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from portal.auth.models import PortalFlavor
from portal.core.db import RawReader, raw_of
from portal.core.errors import NotFound
from portal.core.money import format_usd
from portal.payments import batch_items
from portal.payments.batch_items import BatchItem
from portal.payments.models import BatchKind, BatchStatus
from portal.properties.models import DepositAccountType
from portal.receipts.models import ProcessedBatch


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
# A receipt is a batch item (``payments.batch_items``: the one read model of a batch's
# contents) as Landlord 12 renders it (domain.md §8.2).


def receipts(raw: RawReader, workspace_id: str, batch_id: str) -> list[BatchItem]:
    """The batch's receipts: payments in the order they were made, then the reversals booked
    in it in the order they happened; a payment reversed after the deposit without a separate
    debit (``receipt_note``) carries the reversal as its ``note``. One query."""
    return batch_items.items_of_batch(raw, workspace_id, batch_id)


def memo(flavor: PortalFlavor, transaction_id: str, batch_id: str) -> str:
    """The receipt memo: the portal's name, as seed 004 shows (``Inosio Transaction``), with the
    transaction and batch IDs the client needs to find the receipt again (domain.md §8.2)."""
    portal = "Inosio" if flavor is PortalFlavor.INOSIO else "RentTrack"
    return f"{portal} Transaction Trans #{transaction_id} Batch #{batch_id}"


def receipt_memo(i: BatchItem, flavor: PortalFlavor) -> str:
    """A reversal's memo also names what it reverses (``... CHARGE BACK of Trans #...``)."""
    own = memo(flavor, i.transaction_id, i.batch_id)
    if i.item == "payment":
        return own
    return f"{own} {i.reason} of Trans #{i.original_transaction_id}"


def description(i: BatchItem) -> str:
    """Seed 004's description column: ``Anthony Kmetz for 2118 Oak Street``."""
    return f"{i.resident_name} for {i.place}"
