"""Deposit batches: one per deposit account, kind and business date (domain.md §5.1, §11).

A batch is ``open`` through its business date, ``closed`` at that day's cut-off and
``deposited`` on its deposit date, the next banking day (domain.md §4.2, §5.2). Every change is
set-based (architecture.md §4): adding a day's payments is one upsert of the batches and one
increment per batch; closing and settling are a few statements whatever the number of
payments. Totals move only by ``total_cents = total_cents + x`` so that concurrent payments
into one batch never lose an update.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from portal.core import calendar, transitions
from portal.core.db import expire_loaded, get_row
from portal.core.ids import IdMinter, reserve
from portal.core.pagination import keyset
from portal.events import service as events
from portal.payments.errors import BatchIdTaken, DepositBatchNotFound
from portal.payments.models import (
    BATCH_TRANSITIONS,
    PAYMENT_LABELS,
    PAYMENT_TRANSITIONS,
    BatchKind,
    BatchStatus,
    DepositBatch,
    Payment,
    PaymentStatus,
)
from portal.properties.models import DepositAccount, DepositAccountType
from portal.residents import leases as leases_service
from portal.residents.models import Lease


@dataclass(frozen=True)
class BatchKey:
    deposit_account_id: str
    deposit_type: DepositAccountType
    business_date: date
    kind: BatchKind = BatchKind.DEPOSIT


def deposit_date_of(business_date: date) -> date:
    """Funding is one banking day after the business date (domain.md §4.2)."""
    return calendar.next_banking_day(business_date)


def batch_ids(
    session: Session,
    ids: IdMinter,
    keys: Iterable[BatchKey],
    *,
    now: datetime,
    pinned: Mapping[BatchKey, str] | None = None,
) -> dict[BatchKey, str]:
    """The open batch for each key, created when missing. Safe under concurrency: a batch
    another transaction created meanwhile is found, not duplicated (ON CONFLICT DO NOTHING).
    ``pinned`` gives a batch about to be created a chosen ID (a scenario reproducing a seed's
    batch IDs); ``BatchIdTaken`` when the key's batch exists with another ID or the ID is used."""
    wanted = sorted(set(keys), key=lambda k: (k.business_date, k.deposit_account_id, k.kind))
    if not wanted:
        return {}
    found = _existing(session, ids.scope, wanted)
    for key, chosen in (pinned or {}).items():
        if key in found and found[key] != chosen:
            raise BatchIdTaken(
                f"The batch of {key.business_date.isoformat()} already has ID {found[key]}; "
                f"it cannot become {chosen}.",
            )
    missing = [k for k in wanted if k not in found]
    if missing:
        minted = iter(
            ids.many(
                "deposit_batch",
                sum(1 for k in missing if k not in (pinned or {})),
                shape="digits16",
            )
        )
        new_ids = [(pinned or {}).get(k) or next(minted) for k in missing]
        for chosen in (pinned or {}).values():
            if chosen in new_ids and get_batch_or_none(session, ids.scope, chosen) is not None:
                raise BatchIdTaken(f"Batch ID {chosen} is already used in this workspace.")
        first_seq = reserve(session, ids.scope, "batch_seq", len(missing))
        rows = [
            {
                "workspace_id": ids.scope,
                "id": batch_id,
                "kind": key.kind,
                "status": BatchStatus.OPEN,
                "deposit_account_id": key.deposit_account_id,
                "deposit_type": key.deposit_type,
                "business_date": key.business_date,
                "deposit_date": deposit_date_of(key.business_date),
                "total_cents": 0,
                "item_count": 0,
                "seq": first_seq + n,
                "created_at": now,
            }
            for n, (batch_id, key) in enumerate(zip(new_ids, missing, strict=True))
        ]
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        table = DepositBatch.__table__  # type: ignore[attr-defined]
        stmt = insert(table).on_conflict_do_nothing(
            index_elements=["workspace_id", "deposit_account_id", "kind", "business_date"]
        )
        session.connection().execute(stmt, rows)
        found.update(_existing(session, ids.scope, missing))
        # Those this transaction created (another may have created some meanwhile).
        made = {row["id"] for row in rows}
        for kind, event in (
            (BatchKind.DEPOSIT, "deposit_batch.opened"),
            (BatchKind.REVERSAL, "reversal_batch.created"),
        ):
            events.emit_many(
                session,
                ids.scope,
                event,
                [found[k] for k in missing if k.kind == kind and found[k] in made],
                now=now,
            )
    return found


def _existing(session: Session, workspace_id: str, keys: list[BatchKey]) -> dict[BatchKey, str]:
    dates = {k.business_date for k in keys}
    accounts = {k.deposit_account_id for k in keys}
    rows = session.execute(
        select(
            col(DepositBatch.id),
            col(DepositBatch.deposit_account_id),
            col(DepositBatch.deposit_type),
            col(DepositBatch.business_date),
            col(DepositBatch.kind),
        ).where(
            col(DepositBatch.workspace_id) == workspace_id,
            col(DepositBatch.business_date).in_(dates),
            col(DepositBatch.deposit_account_id).in_(accounts),
        )
    ).all()
    wanted = set(keys)
    out: dict[BatchKey, str] = {}
    for batch_id, account_id, deposit_type, business_date, kind in rows:
        key = BatchKey(account_id, deposit_type, business_date, kind)
        if key in wanted:
            out[key] = batch_id
    return out


def add_to_batches(
    session: Session, workspace_id: str, amounts: Mapping[str, tuple[int, int]]
) -> None:
    """Add ``(cents, items)`` to each batch, in batch-ID order (a fixed lock order).

    One Core ``executemany``: an ORM ``UPDATE`` per batch would also search the session's
    identity map (thousands of leases, residents and schedules during the daily run) for
    objects to synchronise, once per batch. Batches loaded in this session are expired
    instead, so they are read again."""
    if not amounts:
        return
    table = DepositBatch.__table__  # type: ignore[attr-defined]
    session.connection().execute(
        update(table)
        .where(table.c.workspace_id == workspace_id, table.c.id == bindparam("batch_id"))
        .values(
            total_cents=table.c.total_cents + bindparam("cents"),
            item_count=table.c.item_count + bindparam("count"),
        ),
        [
            {"batch_id": batch_id, "cents": amounts[batch_id][0], "count": amounts[batch_id][1]}
            for batch_id in sorted(amounts)
        ],
    )
    expire_loaded(session, DepositBatch, workspace_id, amounts)


def close_batches(session: Session, workspace_id: str, *, day: date, now: datetime) -> int:
    """The cut-off: every open batch of ``day`` (or earlier) closes (domain.md §5.2)."""
    result = session.execute(
        update(DepositBatch)
        .where(
            col(DepositBatch.workspace_id) == workspace_id,
            transitions.moving(
                col(DepositBatch.status), BATCH_TRANSITIONS, [BatchStatus.OPEN], BatchStatus.CLOSED
            ),
            col(DepositBatch.business_date) <= day,
        )
        .values(status=BatchStatus.CLOSED, closed_at=now)
        .returning(col(DepositBatch.id))
    )
    closed = sorted(result.scalars())
    events.emit_many(session, workspace_id, "deposit_batch.closed", closed, now=now)
    return len(closed)


@dataclass(frozen=True)
class Settled:
    batches: int
    payments: int
    cents: int


def settle_batches(session: Session, workspace_id: str, *, day: date, now: datetime) -> Settled:
    """The deposit date: closed batches due by ``day`` are deposited, their payments complete,
    and the balances of integrated leases drop by what was paid (domain.md §11: completion
    lowers the integrated balance)."""
    due = (
        select(col(DepositBatch.id))
        .where(
            col(DepositBatch.workspace_id) == workspace_id,
            transitions.moving(
                col(DepositBatch.status),
                BATCH_TRANSITIONS,
                [BatchStatus.CLOSED],
                BatchStatus.DEPOSITED,
            ),
            col(DepositBatch.deposit_date) <= day,
        )
        .scalar_subquery()
    )
    batch_count = session.scalar(
        select(func.count())
        .select_from(DepositBatch)
        .where(
            col(DepositBatch.workspace_id) == workspace_id,
            transitions.moving(
                col(DepositBatch.status),
                BATCH_TRANSITIONS,
                [BatchStatus.CLOSED],
                BatchStatus.DEPOSITED,
            ),
            col(DepositBatch.deposit_date) <= day,
        )
    )
    if not batch_count:
        return Settled(0, 0, 0)
    completing = and_(
        col(Payment.workspace_id) == workspace_id,
        transitions.moving(
            col(Payment.status),
            PAYMENT_TRANSITIONS,
            [PaymentStatus.PROCESSING],
            PaymentStatus.COMPLETED,
        ),
        col(Payment.deposit_batch_id).in_(due),
    )
    if session.get_bind().dialect.name == "postgresql":
        # Lock the payments about to complete, in a fixed order, before anything is summed:
        # a return or void racing the settlement either finishes first (its payment drops
        # out: PostgreSQL re-checks the filter on a row it waited for) or waits for it. The
        # sums, the balances and the status change below then see one stable set (issue 14).
        # SQLite needs nothing: its transactions already hold the write lock.
        session.execute(
            select(col(Payment.id)).where(completing).order_by(col(Payment.id)).with_for_update()
        )
    # The ledger number before any balance moves: every balance change takes it first, so
    # two of them never wait for each other's leases in opposite orders.
    seq = leases_service.ledger_seq(session, workspace_id)
    count, cents = session.execute(
        select(func.count(), func.coalesce(func.sum(col(Payment.amount_cents)), 0)).where(
            completing
        )
    ).one()
    # What each lease paid, grouped once; the leases join it (UPDATE ... FROM). A correlated
    # sum per lease made SQLite scan the day's payments once per lease: quadratic.
    paid = (
        select(
            col(Payment.lease_id).label("lease_id"),
            func.sum(col(Payment.amount_cents)).label("cents"),
        )
        .where(completing)
        .group_by(col(Payment.lease_id))
        .subquery("paid")
    )
    # Integrated leases are those the accounting system knows by its resident ID (domain.md §3).
    # Every paid sum is positive, so each balance moves: ``balance_at`` is now
    # (``leases.balance_set_at``).
    session.execute(
        update(Lease)
        .where(
            col(Lease.workspace_id) == workspace_id,
            col(Lease.id) == paid.c.lease_id,
            col(Lease.external_resident_id).is_not(None),
        )
        .values(balance_cents=col(Lease.balance_cents) - paid.c.cents, balance_at=now)
        .execution_options(synchronize_session=False)
    )
    # One ledger number for the whole settlement (taken above): the check replays each lease's
    # balance from its basis through completions and reversals in this order
    # (architecture.md §11).
    completed = session.execute(
        update(Payment)
        .where(completing)
        .values(status=PaymentStatus.COMPLETED, completed_at=now, completed_seq=seq)
        .returning(col(Payment.id))
        .execution_options(synchronize_session=False)
    )
    events.emit_many(
        session,
        workspace_id,
        "payment.completed",
        sorted(completed.scalars()),
        now=now,
        data={"status": PaymentStatus.COMPLETED.value},
    )
    deposited = session.execute(
        update(DepositBatch)
        .where(
            col(DepositBatch.workspace_id) == workspace_id,
            transitions.moving(
                col(DepositBatch.status),
                BATCH_TRANSITIONS,
                [BatchStatus.CLOSED],
                BatchStatus.DEPOSITED,
            ),
            col(DepositBatch.deposit_date) <= day,
        )
        .values(status=BatchStatus.DEPOSITED, deposited_at=now)
        .returning(col(DepositBatch.id))
        .execution_options(synchronize_session=False)
    )
    events.emit_many(
        session, workspace_id, "deposit_batch.deposited", sorted(deposited.scalars()), now=now
    )
    return Settled(int(batch_count), int(count), int(cents))


# --- reading ------------------------------------------------------------------------------------

#: The statuses that count as paid: the ones the resident and landlord screens call "Paid"
#: (``PAYMENT_LABELS``; domain.md §11: RentTrack's ``complete`` is PAID). A payment refunded,
#: returned or charged back after completing no longer counts.
PAID_STATUSES = frozenset(s for s, label in PAYMENT_LABELS.items() if label == "Paid")


@dataclass(frozen=True)
class LastPaid:
    business_date: date
    amount_cents: int


def last_paid(session: Session, workspace_id: str, lease_ids: Sequence[str]) -> dict[str, LastPaid]:
    """Each lease's last completed payment (the latest business date, then the latest made),
    for a page of leases in one query: the Send Balances roster's Last Payment (seed 000
    §D). Leases never paid are absent."""
    if not lease_ids:
        return {}
    rank = (
        func.row_number()
        .over(
            partition_by=col(Payment.lease_id),
            order_by=(
                col(Payment.business_date).desc(),
                col(Payment.initiated_at).desc(),
                col(Payment.transaction_id).desc(),
            ),
        )
        .label("rank")
    )
    ranked = (
        select(col(Payment.lease_id), col(Payment.business_date), col(Payment.amount_cents), rank)
        .where(
            col(Payment.workspace_id) == workspace_id,
            col(Payment.lease_id).in_(list(lease_ids)),
            col(Payment.status).in_(PAID_STATUSES),
        )
        .subquery()
    )
    rows = session.execute(
        select(ranked.c.lease_id, ranked.c.business_date, ranked.c.amount_cents).where(
            ranked.c.rank == 1
        )
    )
    return {lease_id: LastPaid(day, cents) for lease_id, day, cents in rows}


def batch_deposit_date(session: Session, payment: Payment) -> date | None:
    """The deposit date of the batch a payment is in; None for one in no batch."""
    if payment.deposit_batch_id is None:
        return None
    return get_batch(session, payment.workspace_id, payment.deposit_batch_id).deposit_date


def get_batch_or_none(session: Session, workspace_id: str, batch_id: str) -> DepositBatch | None:
    return session.get(DepositBatch, (workspace_id, batch_id))


def get_batch(
    session: Session, workspace_id: str, batch_id: str, *, for_update: bool = False
) -> DepositBatch:
    """One batch; ``for_update`` locks it and reads it afresh (a void checks that its batch is
    still open on the locked row, so the cut-off cannot close it in between: issue 14)."""
    batch = get_row(session, DepositBatch, (workspace_id, batch_id), for_update=for_update)
    if batch is None:
        raise DepositBatchNotFound(f"No deposit batch {batch_id!r}.")
    return batch


def list_batches(
    session: Session,
    workspace_id: str,
    *,
    deposit_date: date | None = None,
    business_date: date | None = None,
    status: BatchStatus | None = None,
    kind: BatchKind | None = None,
    after: str | None,
    limit: int,
) -> list[DepositBatch]:
    query = select(DepositBatch).where(col(DepositBatch.workspace_id) == workspace_id)
    if deposit_date is not None:
        query = query.where(col(DepositBatch.deposit_date) == deposit_date)
    if business_date is not None:
        query = query.where(col(DepositBatch.business_date) == business_date)
    if status is not None:
        query = query.where(col(DepositBatch.status) == status)
    if kind is not None:
        query = query.where(col(DepositBatch.kind) == kind)
    return list(session.scalars(keyset(query, col(DepositBatch.id), after=after, limit=limit)))


def account_last4s(session: Session, workspace_id: str, account_ids: set[str]) -> dict[str, str]:
    if not account_ids:
        return {}
    rows = session.execute(
        select(col(DepositAccount.id), col(DepositAccount.account_number)).where(
            col(DepositAccount.workspace_id) == workspace_id,
            col(DepositAccount.id).in_(account_ids),
        )
    ).all()
    return {account_id: number[-4:] for account_id, number in rows}


def list_batches_by_id(
    session: Session, workspace_id: str, batch_ids: Sequence[str]
) -> list[DepositBatch]:
    if not batch_ids:
        return []
    return list(
        session.scalars(
            select(DepositBatch).where(
                col(DepositBatch.workspace_id) == workspace_id,
                col(DepositBatch.id).in_(batch_ids),
            )
        )
    )
