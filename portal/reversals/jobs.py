"""The reversals calendar (architecture.md §4, §8):

- ``reversals.magic``, 05:00 New York on banking days (the bank's overnight return file): the
  sandbox magic values. ACH account ``20000000NN``: returned with ``RNN`` before the deposit
  (on the deposit date, before the 06:00 settlement); ``10000000NN``: returned with ``RNN`` 2
  banking days after the payment's business date (after the deposit; domain.md §6.4's Monday
  payment, Tuesday settlement, Wednesday return); card ``4000000000000259``: charged back
  (Visa 10.4) 3 banking days after the deposit. A magic ``NN`` that is not a NACHA code is an
  ordinary account. Each kind is one query and one set-based reversal, however many payments.
- stored events: a dispute's deadline (``disputes.expire``), a challenged dispute's decision
  (``disputes.decide``), and actions a scenario scheduled for later (``reversals.scheduled``).
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlalchemy import and_, select
from sqlmodel import Session, col

from portal.core import calendar, jobs
from portal.core.errors import PortalError
from portal.core.ids import IdMinter
from portal.payments import service as payments_service
from portal.payments.models import (
    DepositBatch,
    Payment,
    PaymentSource,
    PaymentStatus,
    SourceType,
)
from portal.reversals import disputes, returns, voids
from portal.reversals.codes import ReturnCode, chargeback_reason, return_code
from portal.reversals.errors import DisputeNotOpen
from portal.reversals.models import DisputeOutcome, DisputeStatus

MAGIC_TIME = time(5, 0)
SCHEDULED_EVENT = jobs.EventKind("reversals.scheduled", jobs.RANK_RETURNS)
#: The reason a magic card's chargeback carries: fraud in a card-absent environment, the usual
#: one for a rent payment made with a stolen card (formats.md §5).
MAGIC_CHARGEBACK_REASON = "10.4"


def _at_magic_time(_settings: Any, at_or_after: datetime) -> datetime:
    day = calendar.add_banking_days(calendar.local_date(at_or_after), 0)
    while (instant := calendar.at_local(day, MAGIC_TIME)) < at_or_after:
        day = calendar.next_banking_day(day)
    return instant


def _all_codes(prefix: str) -> list[str]:
    """Every magic tag of one kind (``return_after:R00`` ... ``R99``), for an IN-list lookup."""
    return [f"{prefix}:R{n:02d}" for n in range(100)]


def _magic_payments(
    session: Session, workspace_id: str, *, status: PaymentStatus, magic: list[str], batch: Any
) -> list[tuple[Payment, str]]:
    # From the magic sources (an index lookup: they are few) to their payments, never a scan
    # of the workspace's payments.
    rows = session.execute(
        select(Payment, col(PaymentSource.magic))
        .select_from(PaymentSource)
        .join(
            Payment,
            and_(
                col(Payment.workspace_id) == col(PaymentSource.workspace_id),
                col(Payment.source_id) == col(PaymentSource.id),
            ),
        )
        .join(
            DepositBatch,
            and_(
                col(DepositBatch.workspace_id) == col(Payment.workspace_id),
                col(DepositBatch.id) == col(Payment.deposit_batch_id),
            ),
        )
        .where(
            col(PaymentSource.workspace_id) == workspace_id,
            col(PaymentSource.magic).in_(magic),
            col(Payment.status) == status,
        )
        .where(batch)
        .order_by(col(Payment.transaction_id))
        # Locked in a fixed order, and the status filter re-checked on the locked rows
        # (PostgreSQL re-reads a row it waited for): a payment a landlord or operator reversed
        # meanwhile drops out instead of being reversed twice (issue 14).
        .with_for_update(of=Payment)
        .execution_options(populate_existing=True)
    ).all()
    return [(p, m) for p, m in rows]


def _coded(rows: list[tuple[Payment, str]]) -> list[tuple[Payment, ReturnCode]]:
    out = []
    for payment, magic in rows:
        code = return_code(magic.partition(":")[2])
        if code is not None and payment.method is SourceType.BANK_ACCOUNT:
            out.append((payment, code))
    return out


def _magic(ctx: jobs.JobContext) -> jobs.JobResult:
    session, ws, today = ctx.session, ctx.workspace_id, calendar.local_date(ctx.now)
    # Most worlds have no magic source at all: one index probe, and the day's run is over.
    any_magic = session.scalar(
        select(col(PaymentSource.id))
        .where(
            col(PaymentSource.workspace_id) == ws,
            col(PaymentSource.magic).in_(
                [*_all_codes("return_before"), *_all_codes("return_after"), "chargeback"]
            ),
        )
        .limit(1)
    )
    if any_magic is None:
        return None
    before = _coded(
        _magic_payments(
            session,
            ws,
            status=PaymentStatus.PROCESSING,
            magic=_all_codes("return_before"),
            batch=col(DepositBatch.deposit_date) == today,
        )
    )
    after = _coded(
        _magic_payments(
            session,
            ws,
            status=PaymentStatus.COMPLETED,
            magic=_all_codes("return_after"),
            batch=col(Payment.business_date) == calendar.add_banking_days(today, -2),
        )
    )
    # A return the window no longer allows (a payment deposited long ago in a world that
    # started late) is left alone.
    after = [(p, c) for p, c in after if returns.return_refusal(p, c, ctx.now) is None]
    cards = _magic_payments(
        session,
        ws,
        status=PaymentStatus.COMPLETED,
        magic=["chargeback"],
        batch=col(DepositBatch.deposit_date) == calendar.add_banking_days(today, -3),
    )
    reason = chargeback_reason(MAGIC_CHARGEBACK_REASON)
    assert reason is not None
    returned = returns.return_many(
        session, ctx.ids, before + after, settings=ctx.settings, now=ctx.now, initiated_by="magic"
    )
    charged = disputes.charge_back_many(
        session,
        ctx.ids,
        [(p, reason, None) for p, _ in cards],
        settings=ctx.settings,
        now=ctx.now,
        initiated_by="magic",
    )
    if not returned and not charged:
        return None
    return {
        "returns_before_deposit": len(before),
        "returns_after_deposit": len(after),
        "chargebacks": len(charged),
    }


def _expire(ctx: jobs.JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    dispute = disputes.get_dispute(
        ctx.session, ctx.workspace_id, payload["dispute_id"], for_update=True
    )
    disputes.expire(ctx.session, ctx.ids, dispute, now=ctx.now)
    return {"dispute_id": dispute.id, "status": dispute.status.value}


def _decide(ctx: jobs.JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    dispute = disputes.get_dispute(
        ctx.session, ctx.workspace_id, payload["dispute_id"], for_update=True
    )
    disputes.decide(ctx.session, ctx.ids, dispute, settings=ctx.settings, now=ctx.now)
    return {"dispute_id": dispute.id, "status": dispute.status.value}


def perform(
    session: Session,
    ids: IdMinter,
    action: dict[str, Any],
    *,
    settings: Any,
    now: datetime,
    initiated_by: str,
) -> dict[str, Any]:
    """One reversal action, as a scenario names it (``void``, ``refund``, ``return``,
    ``chargeback``, ``accept``, ``challenge``) on a payment ID. Raises the refusal."""
    kind = action["action"]
    payment = payments_service.get_payment(
        session, ids.scope, action["payment_id"], for_update=True
    )
    out: dict[str, Any] = {"action": kind, "payment_id": payment.id}
    if kind == "void":
        reversal = voids.void(
            session, ids, payment, settings=settings, now=now, initiated_by=initiated_by
        )
        out["reversal_id"] = reversal.id if reversal else None
    elif kind == "refund":
        out["reversal_id"] = voids.refund(
            session, ids, payment, settings=settings, now=now, initiated_by=initiated_by
        ).id
    elif kind == "return":
        out["reversal_id"] = returns.return_payment(
            session,
            ids,
            payment,
            returns.parse_code(action["code"]),
            settings=settings,
            now=now,
            initiated_by=initiated_by,
        ).id
    elif kind == "chargeback":
        outcome = action.get("outcome")
        reversal, dispute = disputes.charge_back(
            session,
            ids,
            payment,
            disputes.parse_reason(action["reason_code"]),
            settings=settings,
            now=now,
            initiated_by=initiated_by,
            outcome=DisputeOutcome(outcome) if outcome else None,
        )
        out |= {"reversal_id": reversal.id, "dispute_id": dispute.id}
    else:
        open_dispute = next(
            (
                d
                for d in disputes.disputes_of(session, ids.scope, payment.id)
                if d.status in (DisputeStatus.NEEDS_RESPONSE, DisputeStatus.UNDER_REVIEW)
            ),
            None,
        )
        if open_dispute is None:
            raise DisputeNotOpen(f"Payment {payment.id} has no open dispute.")
        open_dispute = disputes.get_dispute(session, ids.scope, open_dispute.id, for_update=True)
        if kind == "accept":
            disputes.accept(session, ids, open_dispute, now=now)
        else:
            disputes.challenge(
                session,
                ids,
                open_dispute,
                evidence=action.get("evidence"),
                settings=settings,
                now=now,
            )
        out |= {"dispute_id": open_dispute.id, "status": open_dispute.status.value}
    return out


def _scheduled(ctx: jobs.JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """A scenario's action that fell due after the load; a refusal is reported, not raised
    (the tester sees it in the advance's job list)."""
    savepoint = ctx.session.begin_nested()
    try:
        out = perform(
            ctx.session,
            ctx.ids,
            payload,
            settings=ctx.settings,
            now=ctx.now,
            initiated_by="scenario",
        )
    except PortalError as exc:
        savepoint.rollback()
        return {
            "action": payload["action"],
            "payment_id": payload["payment_id"],
            "refused": exc.code,
            "detail": exc.detail,
        }
    savepoint.commit()
    return out


#: Listed in ``portal.sandbox.jobs.REGISTRY``.
CALENDAR_JOBS = (jobs.CalendarJob("reversals.magic", jobs.RANK_RETURNS, _at_magic_time, _magic),)
HANDLERS = (
    jobs.EventHandler(disputes.EXPIRE_EVENT, _expire),
    jobs.EventHandler(disputes.DECIDE_EVENT, _decide),
    jobs.EventHandler(SCHEDULED_EVENT, _scheduled),
)
