"""Card chargebacks and their disputes (domain.md §6.5; formats.md §5).

A chargeback takes the funds at once: a ``chargeback`` reversal (reason "CHARGE BACK") in the
payment's own batch when it has not been deposited yet, else in the reversal batch of the day.
A dispute opens with it, ``needs_response`` until ``respond_by`` (Visa 30 days, Mastercard 45):

- the landlord **accepts** it: ``lost`` at once (the cardholder keeps the money);
- the landlord **challenges** it with evidence: ``under_review``; it is decided
  ``dispute_credit_banking_days`` banking days later (setting, 3-5, default 3: "a provisional
  credit usually appears in 3-5 business days"). The outcome is the operator's, if one was given
  with the chargeback, else ``lost`` when the evidence contains ``losing_evidence`` (as in
  Stripe's test mode), else ``won``. A won dispute credits the amount back as a positive item of
  that day's reversal batch and the payment is ``completed`` again;
- nobody answers by ``respond_by``: ``lost``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import object_session
from sqlmodel import Session, col

from portal.core import calendar, jobs
from portal.core.db import get_row
from portal.core.ids import IdMinter
from portal.core.money import format_usd
from portal.core.pagination import keyset
from portal.events import service as events
from portal.notifications.models import EmailKind
from portal.payments import rules as payment_rules
from portal.payments import service as payments_service
from portal.payments.models import Payment, PaymentStatus, Reversal, ReversalKind, SourceType
from portal.reversals import service
from portal.reversals.codes import ChargebackReason, chargeback_reason
from portal.reversals.errors import (
    DisputeNotFound,
    DisputeNotOpen,
    InvalidReasonCode,
    PaymentNotChargeable,
)
from portal.reversals.models import (
    DISPUTE_TRANSITIONS,
    Dispute,
    DisputeOutcome,
    DisputeStatus,
)

EXPIRE_EVENT = jobs.EventKind("disputes.expire", jobs.RANK_RETURNS)
DECIDE_EVENT = jobs.EventKind("disputes.decide", jobs.RANK_RETURNS)
LOSING_EVIDENCE = "losing_evidence"


def parse_reason(code: str) -> ChargebackReason:
    found = chargeback_reason(code)
    if found is None:
        raise InvalidReasonCode(
            f"{code!r} is not a Visa (10.1-13.9) or Mastercard (4808-4871) chargeback reason code.",
            extra={"reason_code": code},
        )
    return found


def chargeback_refusal(payment: Payment) -> PaymentNotChargeable | None:
    if payment.method is not SourceType.CARD:
        return PaymentNotChargeable(
            "Only card payments are charged back; an ACH payment is returned.",
            extra={"method": payment.method.value},
        )
    if payment.status not in (PaymentStatus.PROCESSING, PaymentStatus.COMPLETED):
        return PaymentNotChargeable(
            f"The payment is {payment.status.value}; only a processing or completed payment "
            "can be charged back.",
            extra={"status": payment.status.value},
        )
    return None


def charge_back(
    session: Session,
    ids: IdMinter,
    payment: Payment,
    reason: ChargebackReason,
    *,
    settings: Any,
    now: datetime,
    initiated_by: str,
    outcome: DisputeOutcome | None = None,
) -> tuple[Reversal, Dispute]:
    if (refused := chargeback_refusal(payment)) is not None:
        raise refused
    [(reversal, dispute)] = charge_back_many(
        session,
        ids,
        [(payment, reason, outcome)],
        settings=settings,
        now=now,
        initiated_by=initiated_by,
    )
    return reversal, dispute


def charge_back_many(
    session: Session,
    ids: IdMinter,
    items: Sequence[tuple[Payment, ChargebackReason, DisputeOutcome | None]],
    *,
    settings: Any,
    now: datetime,
    initiated_by: str,
) -> list[tuple[Reversal, Dispute]]:
    """Charge back payments already known to be chargeable: the funds go, a dispute opens."""
    if not items:
        return []
    dispute_ids = ids.many("dispute", len(items), "dp")
    reversals = service.apply(
        session,
        ids,
        [
            service.Reverse(
                p,
                ReversalKind.CHARGEBACK,
                PaymentStatus.CHARGED_BACK,
                chargeback=reason,
                dispute_id=dispute_id,
            )
            for (p, reason, _), dispute_id in zip(items, dispute_ids, strict=True)
        ],
        settings=settings,
        now=now,
        initiated_by=initiated_by,
    )
    disputes = []
    for (p, reason, outcome), reversal, dispute_id in zip(
        items, reversals, dispute_ids, strict=True
    ):
        respond_by = now + timedelta(days=reason.response_days)
        expiry = jobs.schedule(
            session,
            ids,
            kind=EXPIRE_EVENT,
            due_at=respond_by,
            payload={"dispute_id": dispute_id},
            now=now,
        )
        dispute = Dispute(
            workspace_id=ids.scope,
            id=dispute_id,
            payment_id=p.id,
            chargeback_id=reversal.id,
            network=reason.network.value,
            reason_code=reason.code,
            reason_name=reason.name,
            amount_cents=p.amount_cents,
            status=DisputeStatus.NEEDS_RESPONSE,
            respond_by=respond_by,
            planned_outcome=outcome,
            expire_event_id=expiry.id,
            created_at=now,
            updated_at=now,
        )
        session.add(dispute)
        disputes.append(dispute)
    events.emit_many(
        session,
        ids.scope,
        "dispute.opened",
        [d.id for d in disputes],
        now=now,
        data={"status": DisputeStatus.NEEDS_RESPONSE.value},
    )
    session.flush()
    notices = []
    for (p, reason, _), reversal in zip(items, reversals, strict=True):
        notices.append(
            (
                p,
                reversal,
                f"the card payment of {format_usd(p.amount_cents)} (transaction "
                f"{p.transaction_id}) was charged back ({reason.network.value} {reason.code} "
                f"{reason.name}); the funds were taken. Accept or challenge the dispute by "
                f"{calendar.local_date(now + timedelta(days=reason.response_days)).isoformat()}.",
            )
        )
    service.tell_many(
        session,
        ids,
        notices,
        kind=EmailKind.CHARGEBACK_RECEIVED,
        subject="Chargeback Received",
        resident=False,
        now=now,
    )
    return list(zip(reversals, disputes, strict=True))


# --- the dispute's lifecycle --------------------------------------------------------------------


def get_dispute(
    session: Session, workspace_id: str, dispute_id: str, *, for_update: bool = False
) -> Dispute:
    """One dispute; ``for_update`` locks its row and reads it afresh, so the status a decision
    checks is the one it changes (issue 14: two concurrent answers never both pass)."""
    dispute = get_row(session, Dispute, (workspace_id, dispute_id), for_update=for_update)
    if dispute is None:
        raise DisputeNotFound(f"No dispute {dispute_id!r}.")
    return dispute


def disputes_of(session: Session, workspace_id: str, payment_id: str) -> list[Dispute]:
    return list(
        session.scalars(
            select(Dispute)
            .where(col(Dispute.workspace_id) == workspace_id, col(Dispute.payment_id) == payment_id)
            .order_by(col(Dispute.created_at), col(Dispute.id))
        )
    )


def list_disputes(
    session: Session,
    workspace_id: str,
    *,
    status: DisputeStatus | None,
    after: str | None,
    limit: int,
) -> list[Dispute]:
    query = select(Dispute).where(col(Dispute.workspace_id) == workspace_id)
    if status is not None:
        query = query.where(col(Dispute.status) == status)
    return list(session.scalars(keyset(query, col(Dispute.id), after=after, limit=limit)))


def _move(dispute: Dispute, to: DisputeStatus, now: datetime) -> None:
    if to not in DISPUTE_TRANSITIONS[dispute.status]:
        raise DisputeNotOpen(
            f"Dispute {dispute.id} is {dispute.status.value}; it cannot become {to.value}.",
            extra={"from": dispute.status.value, "to": to.value},
        )
    dispute.status = to
    dispute.updated_at = now
    if not DISPUTE_TRANSITIONS[to]:
        dispute.closed_at = now
        session = object_session(dispute)
        if session is not None:
            events.emit(
                session,  # type: ignore[arg-type]  # sqlmodel's Session
                dispute.workspace_id,
                "dispute.decided",
                dispute.id,
                now=now,
                data={"status": to.value},
            )


def _cancel_expiry(session: Session, dispute: Dispute) -> None:
    if dispute.expire_event_id is not None:
        session.execute(
            update(jobs.ScheduledEvent)
            .where(
                col(jobs.ScheduledEvent.workspace_id) == dispute.workspace_id,
                col(jobs.ScheduledEvent.id) == dispute.expire_event_id,
                col(jobs.ScheduledEvent.status) == "pending",
            )
            .values(status="cancelled")
            .execution_options(synchronize_session="fetch")
        )


def accept(session: Session, ids: IdMinter, dispute: Dispute, *, now: datetime) -> Dispute:
    """The landlord accepts the chargeback: the dispute is lost, the money stays with the
    cardholder. Only while it needs a response: once challenged, the network decides."""
    if dispute.status is not DisputeStatus.NEEDS_RESPONSE:
        raise DisputeNotOpen(
            f"Dispute {dispute.id} is {dispute.status.value}; only a dispute that needs a "
            "response can be accepted.",
            extra={"from": dispute.status.value, "to": DisputeStatus.LOST.value},
        )
    _move(dispute, DisputeStatus.LOST, now)
    _cancel_expiry(session, dispute)
    session.add(dispute)
    session.flush()
    _tell_closed(session, ids, dispute, "accepted by the landlord", now=now)
    return dispute


def challenge(
    session: Session,
    ids: IdMinter,
    dispute: Dispute,
    *,
    evidence: str | None,
    settings: Any,
    now: datetime,
) -> Dispute:
    """The landlord challenges with evidence; the decision falls due after the configured
    banking days."""
    _move(dispute, DisputeStatus.UNDER_REVIEW, now)
    _cancel_expiry(session, dispute)
    days = payment_rules.rules_of(settings).dispute_credit_banking_days
    # The same New York time of day, that many banking days on.
    decision_day = calendar.add_banking_days(calendar.local_date(now), days)
    dispute.decision_at = calendar.at_local(decision_day, _wall_time(now))
    dispute.evidence = evidence
    session.add(dispute)
    session.flush()
    jobs.schedule(
        session,
        ids,
        kind=DECIDE_EVENT,
        due_at=dispute.decision_at,
        payload={"dispute_id": dispute.id},
        now=now,
    )
    return dispute


def _wall_time(now: datetime) -> time:
    return now.astimezone(calendar.TZ).time().replace(tzinfo=None, fold=0)


def outcome_of(dispute: Dispute) -> DisputeOutcome:
    if dispute.planned_outcome is not None:
        return dispute.planned_outcome
    if dispute.evidence and LOSING_EVIDENCE in dispute.evidence:
        return DisputeOutcome.LOST
    return DisputeOutcome.WON


def decide(
    session: Session, ids: IdMinter, dispute: Dispute, *, settings: Any, now: datetime
) -> Dispute:
    """The network's decision on a challenged dispute; a win credits the funds back. A
    dispute no longer under review (nothing else closes one today) is left as it is: a stored
    decision must never stop the clock."""
    if dispute.status is not DisputeStatus.UNDER_REVIEW:
        return dispute
    outcome = outcome_of(dispute)
    if outcome is DisputeOutcome.LOST:
        _move(dispute, DisputeStatus.LOST, now)
        session.add(dispute)
        session.flush()
        _tell_closed(session, ids, dispute, "lost: the cardholder keeps the funds", now=now)
        return dispute
    _move(dispute, DisputeStatus.WON, now)
    payment = payments_service.get_payment(session, ids.scope, dispute.payment_id, for_update=True)
    [credit] = service.apply(
        session,
        ids,
        [
            service.Reverse(
                payment, ReversalKind.DISPUTE_WON, PaymentStatus.COMPLETED, dispute_id=dispute.id
            )
        ],
        settings=settings,
        now=now,
        initiated_by="network",
    )
    dispute.credit_id = credit.id
    session.add(dispute)
    session.flush()
    _tell_closed(
        session,
        ids,
        dispute,
        f"won: {format_usd(dispute.amount_cents)} is credited back "
        + (
            f"in reversal batch {credit.deposit_batch_id}"
            if credit.deposit_batch_id is not None
            # post_reversals off (seed 002): no batch, a note on the payment's receipt.
            else "with no separate credit (the property does not post reversals): enter it by hand"
        ),
        now=now,
    )
    return dispute


def expire(session: Session, ids: IdMinter, dispute: Dispute, *, now: datetime) -> Dispute:
    """Nobody answered by ``respond_by``: the dispute is lost."""
    if dispute.status is DisputeStatus.NEEDS_RESPONSE:
        _move(dispute, DisputeStatus.LOST, now)
        session.add(dispute)
        session.flush()
        _tell_closed(session, ids, dispute, "lost: no response by the deadline", now=now)
    return dispute


def _tell_closed(
    session: Session, ids: IdMinter, dispute: Dispute, what: str, *, now: datetime
) -> None:
    payment = payments_service.get_payment(session, ids.scope, dispute.payment_id)
    service.tell(
        session,
        ids,
        payment,
        None,
        kind=EmailKind.DISPUTE_CLOSED,
        subject=f"Dispute {dispute.status.value.title()}",
        text=(
            f"the dispute {dispute.id} over the card payment of "
            f"{format_usd(dispute.amount_cents)} (transaction {payment.transaction_id}, "
            f"{dispute.network} {dispute.reason_code}) is {what}."
        ),
        resident=False,
        now=now,
    )
