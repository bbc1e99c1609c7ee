"""Receipt batches as an accounting client loads them (domain.md §8; seeds 000 §E, 004 §D).

A receipt batch is a deposit or reversal batch the client may post: closed (the cut-off passed)
or deposited, with at least one item, whose deposit account serves only properties of this
integration or of none. Its receipts are the batch's items: each payment (positive) and each
reversal booked in it (negative; a won dispute's credit positive), described the way Landlord 12
renders them. The processed flag is the integration's (``ProcessedBatch``): two client
databases can each process one batch, and loading a processed batch again gives the same
receipts. Every read is a fixed number of queries, whatever the batch's size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, delete, exists, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from portal.auth.models import PortalFlavor
from portal.errors import NotFound
from portal.money import format_usd
from portal.payments.models import (
    BatchKind,
    BatchStatus,
    DepositBatch,
    Payment,
    PaymentSource,
    PaymentStatus,
    PaymentType,
    Reversal,
    SourceType,
)
from portal.properties.models import DepositAccountProperty, Property, Unit
from portal.receipts.models import ProcessedBatch
from portal.residents.models import Lease, Resident

#: A batch the client may post: the cut-off has passed (domain.md §5.2).
POSTABLE = (BatchStatus.CLOSED, BatchStatus.DEPOSITED)


class ReceiptBatchNotFound(NotFound):
    code = "receipt_batch_not_found"


@dataclass(frozen=True)
class ReceiptBatch:
    batch: DepositBatch
    processed_at: datetime | None

    @property
    def label(self) -> str:
        return label(self.batch)


def label(b: DepositBatch) -> str:
    """The dropdown line of Landlord 12's dialog (seed 004): ``Deposit on 2/23/2022, $2,700.00,
    3 items, Id: 2732388606925747``; a reversal batch says so and carries its negative total."""
    what = "Deposit" if b.kind is BatchKind.DEPOSIT else "Reversal"
    d = b.deposit_date
    items = f"{b.item_count} item{'' if b.item_count == 1 else 's'}"
    return f"{what} on {d.month}/{d.day}/{d.year}, {format_usd(b.total_cents)}, {items}, Id: {b.id}"


def _visible_accounts(session: Session, workspace_id: str, integration_id: str) -> Any:
    """Deposit accounts that serve at least one property and no property of another
    integration: their batches are this integration's to load."""
    foreign = exists().where(
        col(DepositAccountProperty.workspace_id) == workspace_id,
        col(DepositAccountProperty.deposit_account_id) == col(DepositBatch.deposit_account_id),
        col(Property.workspace_id) == col(DepositAccountProperty.workspace_id),
        col(Property.id) == col(DepositAccountProperty.property_id),
        col(Property.integration_id).is_not(None),
        col(Property.integration_id) != integration_id,
    )
    served = exists().where(
        col(DepositAccountProperty.workspace_id) == workspace_id,
        col(DepositAccountProperty.deposit_account_id) == col(DepositBatch.deposit_account_id),
    )
    return and_(served, ~foreign)


def _postable(session: Session, workspace_id: str, integration_id: str) -> list[Any]:
    return [
        col(DepositBatch.workspace_id) == workspace_id,
        col(DepositBatch.status).in_(POSTABLE),
        col(DepositBatch.item_count) > 0,
        _visible_accounts(session, workspace_id, integration_id),
    ]


def list_batches(
    session: Session,
    workspace_id: str,
    integration_id: str,
    *,
    processed: bool,
    after: tuple[int, str] | None,
    limit: int,
) -> list[ReceiptBatch]:
    """The integration's unprocessed (or processed) receipt batches, newest last (creation
    order), after the ``(seq, id)`` cursor."""
    mark = and_(
        col(ProcessedBatch.workspace_id) == col(DepositBatch.workspace_id),
        col(ProcessedBatch.integration_id) == integration_id,
        col(ProcessedBatch.batch_id) == col(DepositBatch.id),
    )
    query = (
        select(DepositBatch, col(ProcessedBatch.processed_at))
        .outerjoin(ProcessedBatch, mark)
        .where(*_postable(session, workspace_id, integration_id))
        .where(
            col(ProcessedBatch.batch_id).is_not(None)
            if processed
            else col(ProcessedBatch.batch_id).is_(None)
        )
    )
    if after is not None:
        seq, batch_id = after
        query = query.where(
            or_(
                col(DepositBatch.seq) > seq,
                and_(col(DepositBatch.seq) == seq, col(DepositBatch.id) > batch_id),
            )
        )
    rows = session.execute(
        query.order_by(col(DepositBatch.seq), col(DepositBatch.id)).limit(limit)
    ).all()
    return [ReceiptBatch(b, at) for b, at in rows]


def get_batch(
    session: Session, workspace_id: str, integration_id: str, batch_id: str
) -> ReceiptBatch:
    """One receipt batch of this integration; 404 for a batch still open, empty, of another
    integration's properties or of another workspace."""
    row = session.execute(
        select(DepositBatch, col(ProcessedBatch.processed_at))
        .outerjoin(
            ProcessedBatch,
            and_(
                col(ProcessedBatch.workspace_id) == col(DepositBatch.workspace_id),
                col(ProcessedBatch.integration_id) == integration_id,
                col(ProcessedBatch.batch_id) == col(DepositBatch.id),
            ),
        )
        .where(col(DepositBatch.id) == batch_id, *_postable(session, workspace_id, integration_id))
    ).first()
    if row is None:
        raise ReceiptBatchNotFound(
            f"No receipt batch {batch_id!r} for this integration (a batch is listed once its "
            "cut-off has passed)."
        )
    return ReceiptBatch(row[0], row[1])


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
    found = get_batch(session, workspace_id, integration_id, batch_id)
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
    at = session.scalar(
        select(col(ProcessedBatch.processed_at)).where(
            col(ProcessedBatch.workspace_id) == workspace_id,
            col(ProcessedBatch.integration_id) == integration_id,
            col(ProcessedBatch.batch_id) == batch_id,
        )
    )
    return ReceiptBatch(found.batch, at)


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


def place(street: str, unit: str) -> str:
    """Where the payer lives, as the client shows it: the address, with the unit when the
    address does not already name it (``2118 Oak Street``; ``4500 Candelaria Rd NE Apt 101``)."""
    if not unit or unit in street:
        return street or unit
    if street and street in unit:
        return unit
    return f"{street} {unit}" if street else unit


def memo(flavor: PortalFlavor, transaction_id: str, batch_id: str) -> str:
    """The receipt memo: the portal's name, as seed 004 shows (``Inosio Transaction``), with the
    transaction and batch IDs the client needs to find the receipt again (domain.md §8.2)."""
    portal = "Inosio" if flavor is PortalFlavor.INOSIO else "RentTrack"
    return f"{portal} Transaction Trans #{transaction_id} Batch #{batch_id}"


def receipts(session: Session, batch: DepositBatch, *, flavor: PortalFlavor) -> list[Receipt]:
    """The batch's receipts: payments in the order they were made, then reversals in the
    order they happened. Two queries."""
    ws = batch.workspace_id
    columns = (
        Payment,
        col(Resident.name),
        col(Lease.external_resident_id),
        col(Lease.balance_basis_cents),
        col(Lease.due_day),
        col(Property.street),
        col(Property.external_id),
        col(Unit.name),
        col(Unit.external_id),
        col(PaymentSource.routing_number),
        col(PaymentSource.last4),
    )

    def joined(query: Any) -> Any:
        return (
            query.join(
                Resident,
                and_(
                    col(Resident.workspace_id) == col(Payment.workspace_id),
                    col(Resident.id) == col(Payment.resident_id),
                ),
            )
            .join(
                Lease,
                and_(
                    col(Lease.workspace_id) == col(Payment.workspace_id),
                    col(Lease.id) == col(Payment.lease_id),
                ),
            )
            .join(
                Property,
                and_(
                    col(Property.workspace_id) == col(Payment.workspace_id),
                    col(Property.id) == col(Payment.property_id),
                ),
            )
            .join(
                Unit,
                and_(
                    col(Unit.workspace_id) == col(Payment.workspace_id),
                    col(Unit.id) == col(Payment.unit_id),
                ),
            )
            .join(
                PaymentSource,
                and_(
                    col(PaymentSource.workspace_id) == col(Payment.workspace_id),
                    col(PaymentSource.id) == col(Payment.source_id),
                ),
            )
        )

    out: list[Receipt] = []
    paid = session.execute(
        joined(select(*columns))
        .where(
            col(Payment.workspace_id) == ws,
            col(Payment.deposit_batch_id) == batch.id,
            col(Payment.status) != PaymentStatus.CANCELLED,
        )
        .order_by(col(Payment.initiated_at), col(Payment.transaction_id))
    ).all()
    for p, *facts in paid:
        out.append(_receipt(p, facts, batch, flavor, None))
    reversed_ = session.execute(
        joined(select(Reversal, *columns))
        .join(
            Reversal,
            and_(
                col(Reversal.workspace_id) == col(Payment.workspace_id),
                col(Reversal.payment_id) == col(Payment.id),
            ),
        )
        .where(col(Payment.workspace_id) == ws, col(Reversal.deposit_batch_id) == batch.id)
        .order_by(col(Reversal.created_at), col(Reversal.transaction_id))
    ).all()
    for r, p, *facts in reversed_:
        out.append(_receipt(p, facts, batch, flavor, r))
    return out


def _receipt(
    p: Payment,
    facts: Sequence[Any],
    batch: DepositBatch,
    flavor: PortalFlavor,
    reversal: Reversal | None,
) -> Receipt:
    payer, external_resident, basis, due_day, street, external_property = facts[:6]
    unit_name, external_unit, routing, last4 = facts[6:]
    where = place(street, unit_name)
    common: dict[str, Any] = {
        "description": f"{payer} for {where}",
        "payment_id": p.id,
        "resident_id": external_resident,
        "property_id": external_property,
        "unit_id": external_unit,
        "method": p.method,
        "type": p.type,
        "status": p.status,
        "unpaid_charges_cents": basis,
        "payer": payer,
        "place": where,
        "routing_number": routing,
        "account_last4": last4,
        "due_day": due_day,
    }
    if reversal is None:
        return Receipt(
            item="payment",
            # The banking day it was processed (seed 004: weekend payments show 2/22/2022, the
            # day before their 2/23 deposit).
            date=p.business_date,
            amount_cents=p.amount_cents,
            memo=memo(flavor, p.transaction_id, batch.id),
            transaction_id=p.transaction_id,
            **common,
        )
    return Receipt(
        item="reversal",
        date=reversal.business_date or reversal.reversal_date,
        amount_cents=reversal.amount_cents,
        memo=f"{memo(flavor, reversal.transaction_id, batch.id)} {reversal.reason} of Trans "
        f"#{p.transaction_id}",
        transaction_id=reversal.transaction_id,
        reason=reversal.reason,
        return_code=reversal.return_code,
        reason_code=reversal.reason_code,
        original_transaction_id=p.transaction_id,
        **common,
    )
