"""ACH returns with NACHA R-codes (domain.md §6.4; formats.md §3.3; architecture.md §4).

A return is accepted for a processing ACH payment (before the deposit: it nets inside the
payment's batch) or a completed one within the code's return window after settlement: two
banking days for most codes, 60 calendar days for the consumer "unauthorized"-type ones.
Every code is booked as reason "NSF" (AMSI, seed 001) and keeps its code and name.

Consequences (architecture.md §4 policies; domain.md §4.4, §11):

- R02, R03 and R04 disable the payment source: its next payment is refused with
  ``payment_source_disabled``;
- the unauthorized codes (R05, R07, R10, R11, R29, R51) flag the resident for review and stop
  every recurring payment of theirs;
- any return closes the recurring schedules paying from that source (RentTrack's
  ``recurring_returned``), the payment's own schedule included;
- resident and landlord users are e-mailed the day of the return.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, or_, update
from sqlmodel import Session, col

from portal.core import calendar, transitions
from portal.core.db import expire_loaded
from portal.core.errors import PortalError
from portal.core.ids import IdMinter
from portal.core.money import format_usd
from portal.notifications.models import EmailKind
from portal.payments.models import (
    RECURRING_TRANSITIONS,
    SOURCE_TRANSITIONS,
    Payment,
    PaymentSource,
    PaymentStatus,
    RecurringPayment,
    RecurringStatus,
    Reversal,
    ReversalKind,
    ReversalPlacement,
    SourceStatus,
    SourceType,
)
from portal.residents.models import Resident
from portal.reversals import service
from portal.reversals.codes import ReturnCode, WindowKind, return_code
from portal.reversals.errors import InvalidReturnCode, PaymentNotReturnable, ReturnWindowClosed


def parse_code(code: str) -> ReturnCode:
    found = return_code(code)
    if found is None:
        raise InvalidReturnCode(
            f"{code!r} is not a NACHA return code: R01 to R99 (seed 001's range).",
            extra={"return_code": code},
        )
    return found


def settlement_date(payment: Payment) -> date:
    """The day the payment settled (its batch was deposited)."""
    assert payment.completed_at is not None
    return calendar.local_date(payment.completed_at)


def window_closes(payment: Payment, code: ReturnCode) -> date:
    """The last day a return with ``code`` is accepted for a completed payment."""
    settled = settlement_date(payment)
    if code.window_kind is WindowKind.CALENDAR_DAYS:
        return settled + timedelta(days=code.window_length)
    return calendar.add_banking_days(settled, code.window_length)


def return_refusal(payment: Payment, code: ReturnCode, now: datetime) -> PortalError | None:
    """Why ``payment`` cannot be returned with ``code`` now, or None."""
    if payment.method is not SourceType.BANK_ACCOUNT:
        return PaymentNotReturnable(
            "Only ACH (bank account) payments are returned; a card payment is charged back.",
            extra={"method": payment.method.value},
        )
    if payment.status is PaymentStatus.PROCESSING:
        return None
    if payment.status is not PaymentStatus.COMPLETED:
        return PaymentNotReturnable(
            f"The payment is {payment.status.value}; only a processing or completed payment "
            "can be returned.",
            extra={"status": payment.status.value},
        )
    closes = window_closes(payment, code)
    if calendar.local_date(now) > closes:
        unit = "banking" if code.window_kind is WindowKind.BANKING_DAYS else "calendar"
        return ReturnWindowClosed(
            f"{code.code} ({code.name}) may be returned up to {code.window_length} {unit} days "
            f"after settlement on {settlement_date(payment).isoformat()}: the window closed on "
            f"{closes.isoformat()}.",
            extra={"return_code": code.code, "window_closed_on": closes.isoformat()},
        )
    return None


def return_payment(
    session: Session,
    ids: IdMinter,
    payment: Payment,
    code: ReturnCode,
    *,
    settings: Any,
    now: datetime,
    initiated_by: str,
) -> Reversal:
    """One return, refused with a 409 when the rules say no."""
    if (refused := return_refusal(payment, code, now)) is not None:
        raise refused
    [reversal] = return_many(
        session, ids, [(payment, code)], settings=settings, now=now, initiated_by=initiated_by
    )
    return reversal


def return_many(
    session: Session,
    ids: IdMinter,
    items: Sequence[tuple[Payment, ReturnCode]],
    *,
    settings: Any,
    now: datetime,
    initiated_by: str,
) -> list[Reversal]:
    """Return payments already known to be returnable (``return_refusal`` is None), with a
    fixed number of statements whatever their number."""
    if not items:
        return []
    reversals = service.apply(
        session,
        ids,
        [
            service.Reverse(p, ReversalKind.RETURN, PaymentStatus.RETURNED, return_code=code)
            for p, code in items
        ],
        settings=settings,
        now=now,
        initiated_by=initiated_by,
    )
    ws = ids.scope
    _disable_sources(
        session, ws, {p.source_id: code for p, code in items if code.disables_source}, now
    )
    flagged = {p.resident_id: code for p, code in items if code.unauthorized}
    _flag_residents(session, ws, flagged, now)
    _close_schedules(
        session,
        ws,
        source_ids={p.source_id for p, _ in items},
        resident_ids=set(flagged),
        schedule_ids={p.recurring_id for p, _ in items if p.recurring_id},
        now=now,
    )
    notices = []
    for (p, code), reversal in zip(items, reversals, strict=True):
        when = (
            "before it was deposited"
            if reversal.placement is ReversalPlacement.ORIGINAL_BATCH
            else "after it was deposited"
        )
        notices.append(
            (
                p,
                reversal,
                f"the {service.describe(p)} of {format_usd(p.amount_cents)} (transaction "
                f"{p.transaction_id}) was returned by the bank {when}: {code.code} {code.name}.",
            )
        )
    service.tell_many(
        session,
        ids,
        notices,
        kind=EmailKind.PAYMENT_RETURNED,
        subject="Payment Returned",
        resident=True,
        now=now,
    )
    return reversals


def _disable_sources(
    session: Session, workspace_id: str, codes: dict[str, ReturnCode], now: datetime
) -> None:
    """R02/R03/R04: one ``executemany`` for all the day's sources."""
    _mark(
        session,
        PaymentSource,
        workspace_id,
        {"status": SourceStatus.DISABLED, "disabled_reason": bindparam("reason")},
        [{"oid": sid, "reason": f"{c.code} {c.name}"} for sid, c in sorted(codes.items())],
        # A source already disabled keeps the return that disabled it first.
        only=lambda t: transitions.moving(
            t.c.status, SOURCE_TRANSITIONS, [SourceStatus.ACTIVE], SourceStatus.DISABLED
        ),
    )


def _flag_residents(
    session: Session, workspace_id: str, codes: dict[str, ReturnCode], now: datetime
) -> None:
    """Unauthorized returns flag their residents for review."""
    _mark(
        session,
        Resident,
        workspace_id,
        {"flagged_reason": bindparam("reason"), "flagged_at": now},
        [{"oid": rid, "reason": f"{c.code} {c.name}"} for rid, c in sorted(codes.items())],
    )


def _mark(
    session: Session,
    model: Any,
    workspace_id: str,
    values: dict[str, Any],
    rows: list[dict[str, Any]],
    *,
    only: Callable[[Any], Any] | None = None,
) -> None:
    """One ``executemany`` over ``rows``; ``only(table)`` narrows the rows changed (a status
    change's ``transitions.moving``)."""
    if not rows:
        return
    table = model.__table__
    extra = () if only is None else (only(table),)
    session.connection().execute(
        update(table)
        .where(table.c.workspace_id == workspace_id, table.c.id == bindparam("oid"), *extra)
        .values(values),
        rows,
    )
    expire_loaded(session, model, workspace_id, (r["oid"] for r in rows))


def _close_schedules(
    session: Session,
    workspace_id: str,
    *,
    source_ids: set[str],
    resident_ids: set[str],
    schedule_ids: set[str],
    now: datetime,
) -> None:
    """``recurring_returned`` (domain.md §11): the schedules that paid from a returned source,
    and every schedule of a resident flagged by an unauthorized return."""
    session.execute(
        update(RecurringPayment)
        .where(
            col(RecurringPayment.workspace_id) == workspace_id,
            transitions.moving(
                col(RecurringPayment.status),
                RECURRING_TRANSITIONS,
                [RecurringStatus.ACTIVE],
                RecurringStatus.RETURNED,
            ),
            or_(
                col(RecurringPayment.source_id).in_(source_ids),
                col(RecurringPayment.resident_id).in_(resident_ids),
                col(RecurringPayment.id).in_(schedule_ids),
            ),
        )
        .values(status=RecurringStatus.RETURNED, next_date=None, ended_at=now)
        .execution_options(synchronize_session="fetch")
    )
