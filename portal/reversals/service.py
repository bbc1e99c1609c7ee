"""Reversing payments: the set-based core every kind goes through, voids and refunds
(domain.md §6; architecture.md §4 policies). ACH returns are in ``returns``, chargebacks and
disputes in ``disputes``.

Where a reversal lands (domain.md §6.1, seed 001):

- a **void** takes a processing payment out of its open batch: the batch shrinks, nothing is
  deposited or debited, the balance is untouched;
- a reversal **before the deposit** (a return or chargeback of a payment still processing) is an
  item of the payment's own batch, which then deposits the net;
- a reversal **after the deposit** (a refund, return or chargeback of a completed payment, and a
  won dispute's credit) is an item of the reversal batch of its deposit account and business
  date, which closes at the cut-off and is debited (or credited) on the next banking day: a
  separate debit from the bank (seed 002). That is the property's ``post_reversals`` setting
  (on by default); with it off, the reversal is in no batch and stays with the payment's
  receipt in its original batch as a note (``receipt_note``; seed 002: "your specific property
  may not have enabled this feature").

Balances: completing a payment lowered an integrated lease's balance (domain.md §11), so taking
a completed payment back raises it by the amount and a won dispute lowers it again; reversals of
payments that never completed change nothing. Every such change takes a ledger number, so
``portal check`` can replay it (architecture.md §11).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col

from portal.core import calendar, transitions
from portal.core.db import bulk_insert, expire_loaded
from portal.core.errors import ConcurrentUpdate
from portal.core.ids import IdMinter
from portal.core.money import format_cents
from portal.core.pagination import keyset
from portal.events import service as events
from portal.notifications import service as notifications
from portal.notifications.models import EmailKind
from portal.payments import batching, postings
from portal.payments import notices as payment_notices
from portal.payments import rules as payment_rules
from portal.payments.models import (
    PAYMENT_TRANSITIONS,
    REVERSAL_REASONS,
    BatchKind,
    Payment,
    PaymentStatus,
    PaymentType,
    Reversal,
    ReversalKind,
    ReversalPlacement,
)
from portal.properties.models import Property
from portal.residents import leases as leases_service
from portal.residents.models import Lease
from portal.reversals.codes import ChargebackReason, ReturnCode
from portal.reversals.errors import ReversalNotFound


@dataclass(frozen=True)
class Reverse:
    """One payment to reverse, and how."""

    payment: Payment
    kind: ReversalKind
    to_status: PaymentStatus
    return_code: ReturnCode | None = None
    chargeback: ChargebackReason | None = None
    dispute_id: str | None = None


def apply(
    session: Session,
    ids: IdMinter,
    items: Sequence[Reverse],
    *,
    settings: Any,
    now: datetime,
    initiated_by: str,
) -> list[Reversal]:
    """Record the reversals and move money, payments and balances for all ``items`` with a
    fixed number of statements (the daily magic-value run reverses many at once). Each item
    must be a legal move of ``PAYMENT_TRANSITIONS``; callers check their own rules first."""
    if not items:
        return []
    for it in items:
        transitions.require(PAYMENT_TRANSITIONS, "payment", it.payment.status, it.to_status)
    ws = ids.scope
    rules = payment_rules.rules_of(settings)
    day = calendar.local_date(now)
    reversal_day = calendar.business_date(now, rules.cutoff_time)
    posting = _posting(session, ws, items)
    placements = [placement_of(it, it.payment.property_id in posting) for it in items]
    keys: dict[int, batching.BatchKey] = {}
    for n, it in enumerate(items):
        if placements[n] is ReversalPlacement.REVERSAL_BATCH:
            keys[n] = batching.BatchKey(
                it.payment.deposit_account_id,
                it.payment.type.account_type,
                reversal_day,
                BatchKind.REVERSAL,
            )
    reversal_batches = batching.batch_ids(session, ids, keys.values(), now=now)
    integrated = _integrated(session, ws, {it.payment.lease_id for it in items})
    reversal_ids = ids.many("reversal", len(items), "rev")
    # The same counter as payments' transaction IDs: one 12-digit number space per workspace.
    transaction_ids = ids.many("transaction", len(items), shape="digits12")
    deltas: dict[str, int] = defaultdict(int)
    amounts: dict[str, tuple[int, int]] = defaultdict(lambda: (0, 0))
    rows: list[dict[str, Any]] = []
    for n, it in enumerate(items):
        p = it.payment
        signed = p.amount_cents if it.kind is ReversalKind.DISPUTE_WON else -p.amount_cents
        placement = placements[n]
        if placement is ReversalPlacement.RECEIPT_NOTE:
            # No batch moves: the note is read with the payment's receipt (seed 002).
            batch_id, business_date = None, None
        elif placement is ReversalPlacement.NONE:
            batch_id, business_date = None, None
            # The payment leaves its batch (domain.md §6.2): total and count shrink.
            if p.deposit_batch_id is not None:
                cents, count = amounts[p.deposit_batch_id]
                amounts[p.deposit_batch_id] = (cents - p.amount_cents, count - 1)
        else:
            batch_id = reversal_batches[keys[n]] if n in keys else p.deposit_batch_id
            business_date = reversal_day if n in keys else p.business_date
            assert batch_id is not None
            cents, count = amounts[batch_id]
            amounts[batch_id] = (cents + signed, count + 1)
        delta = _balance_delta(it, p.lease_id in integrated)
        deltas[p.lease_id] += delta
        rows.append(
            {
                "workspace_id": ws,
                "id": reversal_ids[n],
                "transaction_id": transaction_ids[n],
                "payment_id": p.id,
                "lease_id": p.lease_id,
                "resident_id": p.resident_id,
                "property_id": p.property_id,
                "unit_id": p.unit_id,
                "kind": it.kind,
                "reason": REVERSAL_REASONS[it.kind],
                "method": p.method,
                "payment_type": p.type,
                "amount_cents": signed,
                "placement": placement,
                "deposit_account_id": p.deposit_account_id,
                "deposit_batch_id": batch_id,
                "business_date": business_date,
                "reversal_date": day,
                "return_code": it.return_code.code if it.return_code else None,
                "return_name": it.return_code.name if it.return_code else None,
                "reason_code": it.chargeback.code if it.chargeback else None,
                "reason_name": it.chargeback.name if it.chargeback else None,
                "dispute_id": it.dispute_id,
                "balance_delta_cents": delta,
                "ledger_seq": None,
                "initiated_by": initiated_by,
                "created_at": now,
            }
        )
    moved = {lease_id: d for lease_id, d in deltas.items() if d}
    if moved:
        seq = leases_service.ledger_seq(session, ws)
        for row in rows:
            if row["balance_delta_cents"]:
                row["ledger_seq"] = seq
    bulk_insert(session, Reversal, rows)
    batching.add_to_batches(session, ws, dict(amounts))
    postings.post_reversals(session, ids, rows, now=now)
    _move_payments(session, ws, items, now=now)
    _move_balances(session, ws, moved, now=now)
    for it, row in zip(items, rows, strict=True):
        kind = PAYMENT_EVENTS.get(it.kind)
        if kind is None:
            continue  # a won dispute's credit: ``dispute.decided`` tells it
        facts: dict[str, Any] = {"status": it.to_status.value, "reversal_id": row["id"]}
        if it.return_code is not None:
            facts["return_code"] = it.return_code.code
        if it.chargeback is not None:
            facts["reason_code"] = it.chargeback.code
        events.emit(session, ws, kind, it.payment.id, now=now, data=facts)
    return list_by_id(session, ws, reversal_ids)


#: The event of each way money comes back (issue 20).
PAYMENT_EVENTS = {
    ReversalKind.VOID: "payment.voided",
    ReversalKind.REFUND: "payment.refunded",
    ReversalKind.RETURN: "payment.returned",
    ReversalKind.CHARGEBACK: "payment.charged_back",
}


def placement_of(it: Reverse, posts_reversals: bool) -> ReversalPlacement:
    """Where a reversal lands (see the module docstring): the one home of the rule, including
    the property's ``post_reversals`` setting (seed 002) for reversals after the deposit."""
    if it.kind is ReversalKind.VOID:
        return ReversalPlacement.NONE
    if it.payment.status is PaymentStatus.PROCESSING:
        return ReversalPlacement.ORIGINAL_BATCH
    if posts_reversals:
        return ReversalPlacement.REVERSAL_BATCH
    return ReversalPlacement.RECEIPT_NOTE


def _posting(session: Session, workspace_id: str, items: Sequence[Reverse]) -> set[str]:
    """The properties among the items' that post reversals as separate debits (one query, and
    none when every item is a void or before the deposit)."""
    wanted = {
        it.payment.property_id
        for it in items
        if it.kind is not ReversalKind.VOID and it.payment.status is not PaymentStatus.PROCESSING
    }
    if not wanted:
        return set()
    return set(
        session.scalars(
            select(col(Property.id)).where(
                col(Property.workspace_id) == workspace_id,
                col(Property.id).in_(sorted(wanted)),
                col(Property.post_reversals).is_(True),
            )
        )
    )


def _balance_delta(it: Reverse, integrated: bool) -> int:
    """What the reversal does to an integrated lease's balance (see the module docstring)."""
    if not integrated:
        return 0
    if it.kind is ReversalKind.DISPUTE_WON:
        return -it.payment.amount_cents
    if it.payment.status is PaymentStatus.COMPLETED:
        return it.payment.amount_cents
    return 0


def _integrated(session: Session, workspace_id: str, lease_ids: set[str]) -> set[str]:
    """The leases the accounting system knows by its resident ID (domain.md §3)."""
    return set(
        session.scalars(
            select(col(Lease.id)).where(
                col(Lease.workspace_id) == workspace_id,
                col(Lease.id).in_(lease_ids),
                col(Lease.external_resident_id).is_not(None),
            )
        )
    )


def _move_payments(
    session: Session, workspace_id: str, items: Sequence[Reverse], *, now: datetime
) -> None:
    table = Payment.__table__  # type: ignore[attr-defined]
    # Compare-and-set (issue 14): each row changes only if it still has the status the caller
    # checked its rule against. Callers lock the payments before checking, so a mismatch means
    # a path that forgot to: refuse the whole request rather than reverse a payment twice.
    where = (
        table.c.workspace_id == workspace_id,
        table.c.id == bindparam("pid"),
        table.c.status == bindparam("from_status"),
    )
    voided = [
        {"pid": it.payment.id, "from_status": it.payment.status}
        for it in items
        if it.kind is ReversalKind.VOID
    ]
    # A won dispute completes a payment charged back before its deposit for the first time:
    # it gets its completion instant (not a ledger number: the credit's reversal carries the
    # balance change).
    won = [
        {"pid": it.payment.id, "from_status": it.payment.status}
        for it in items
        if it.kind is ReversalKind.DISPUTE_WON and it.payment.completed_at is None
    ]
    others = [
        {"pid": it.payment.id, "from_status": it.payment.status, "status": it.to_status}
        for it in items
        if it.kind is not ReversalKind.VOID
    ]
    conn = session.connection()
    if won:
        _expect(conn.execute(update(table).where(*where).values(completed_at=now), won), won)
    if voided:
        _expect(
            conn.execute(
                update(table)
                .where(*where)
                .values(status=PaymentStatus.CANCELLED, deposit_batch_id=None),
                voided,
            ),
            voided,
        )
    if others:
        _expect(
            conn.execute(update(table).where(*where).values(status=bindparam("status")), others),
            others,
        )
    # The objects the callers hold take the new values as committed state (no reload, no
    # second UPDATE at the next flush).
    for it in items:
        p = it.payment
        set_committed_value(p, "status", it.to_status)
        if it.kind is ReversalKind.VOID:
            set_committed_value(p, "deposit_batch_id", None)
        elif it.kind is ReversalKind.DISPUTE_WON and p.completed_at is None:
            set_committed_value(p, "completed_at", now)


def _expect(result: Any, params: list[dict[str, Any]]) -> None:
    if result.rowcount != len(params):
        raise ConcurrentUpdate(
            "A payment changed while this request was handling it; nothing was done. "
            "Read the payment again and retry if its rules still allow it.",
            extra={"payment_ids": sorted({p["pid"] for p in params})},
        )


def _move_balances(
    session: Session, workspace_id: str, deltas: dict[str, int], *, now: datetime
) -> None:
    if not deltas:
        return
    table = Lease.__table__  # type: ignore[attr-defined]
    session.connection().execute(
        update(table)
        .where(table.c.workspace_id == workspace_id, table.c.id == bindparam("lid"))
        .values(balance_cents=table.c.balance_cents + bindparam("delta"), balance_at=now),
        [{"lid": lease_id, "delta": d} for lease_id, d in sorted(deltas.items())],
    )
    expire_loaded(session, Lease, workspace_id, deltas)


# --- reading ------------------------------------------------------------------------------------


def list_by_id(session: Session, workspace_id: str, reversal_ids: Sequence[str]) -> list[Reversal]:
    if not reversal_ids:
        return []
    found = {
        r.id: r
        for r in session.scalars(
            select(Reversal).where(
                col(Reversal.workspace_id) == workspace_id,
                col(Reversal.id).in_(list(reversal_ids)),
            )
        )
    }
    return [found[r] for r in reversal_ids]


def get_reversal(session: Session, workspace_id: str, reversal_id: str) -> Reversal:
    reversal = session.get(Reversal, (workspace_id, reversal_id))
    if reversal is None:
        raise ReversalNotFound(f"No reversal {reversal_id!r}.")
    return reversal


def reversals_of(session: Session, workspace_id: str, payment_id: str) -> list[Reversal]:
    """A payment's reversal history, oldest first."""
    return list(
        session.scalars(
            select(Reversal)
            .where(
                col(Reversal.workspace_id) == workspace_id, col(Reversal.payment_id) == payment_id
            )
            .order_by(col(Reversal.created_at), col(Reversal.transaction_id))
        )
    )


def list_reversals(
    session: Session,
    workspace_id: str,
    *,
    on: date | None = None,
    kind: ReversalKind | None = None,
    payment_id: str | None = None,
    after: str | None,
    limit: int,
) -> list[Reversal]:
    query = select(Reversal).where(col(Reversal.workspace_id) == workspace_id)
    if on is not None:
        query = query.where(col(Reversal.reversal_date) == on)
    if kind is not None:
        query = query.where(col(Reversal.kind) == kind)
    if payment_id is not None:
        query = query.where(col(Reversal.payment_id) == payment_id)
    return list(session.scalars(keyset(query, col(Reversal.id), after=after, limit=limit)))


# --- notices ------------------------------------------------------------------------------------


def describe(payment: Payment) -> str:
    return "rent payment" if payment.type is PaymentType.RENT else f"{payment.type.value} payment"


def tell(
    session: Session,
    ids: IdMinter,
    payment: Payment,
    reversal: Reversal | None,
    *,
    kind: EmailKind,
    subject: str,
    text: str,
    resident: bool,
    now: datetime,
) -> int:
    """The same notice to every landlord user and, when ``resident``, to the payer."""
    return tell_many(
        session,
        ids,
        [(payment, reversal, text)],
        kind=kind,
        subject=subject,
        resident=resident,
        now=now,
    )


def tell_many(
    session: Session,
    ids: IdMinter,
    notices: Sequence[tuple[Payment, Reversal | None, str]],
    *,
    kind: EmailKind,
    subject: str,
    resident: bool,
    now: datetime,
) -> int:
    if not notices:
        return 0
    landlords = payment_notices.landlord_emails(session, ids.scope)
    who = payment_notices.resident_contacts(
        session, ids.scope, {p.resident_id for p, _, _ in notices}
    )
    messages: list[notifications.Message] = []
    for payment, reversal, text in notices:
        name, email = who[payment.resident_id]
        data = {
            "payment_id": payment.id,
            "transaction_id": payment.transaction_id,
            "amount": format_cents(payment.amount_cents),
            "reversal_id": reversal.id if reversal else None,
            "reversal_transaction_id": reversal.transaction_id if reversal else None,
            "resident_id": payment.resident_id,
        }
        if reversal is not None and reversal.return_code:
            data["return_code"] = reversal.return_code
        recipients = list(landlords)
        if resident and email:
            recipients.append(email)
        for to in recipients:
            greeting = f"Hello {name}, " if to == email else f"{name}: "
            messages.append(
                notifications.Message(
                    to=to, subject=subject, kind=kind, body=greeting + text, data=data
                )
            )
    return notifications.send_many(session, ids, messages, now=now)
