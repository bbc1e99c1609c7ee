"""The rules a payment must pass and the instants that bound it (domain.md §4, §6.2): the
workspace's rules, the cut-off of a source, whether a payment may be made (``refusal``), and
until when it may be voided (``void_deadline``, seed 001). Moved out of ``service`` (issue 15)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from portal.core import calendar
from portal.core.errors import PortalError
from portal.core.money import format_cents, format_usd
from portal.payments import sources
from portal.payments.errors import (
    AmountMustEqualBalance,
    AmountNotPositive,
    AmountOverLimit,
    CardDeclined,
    CardExpired,
    CashEquivalentOnly,
    DailyPaymentLimitReached,
    LeaseNotPayable,
    NoDepositAccount,
    PaymentsBlocked,
    PaymentSourceDisabled,
)
from portal.payments.models import (
    CardFunding,
    Payment,
    PaymentSource,
    PaymentStatus,
    PaymentType,
    SourceStatus,
    SourceType,
)
from portal.residents import leases as leases_service
from portal.residents.models import (
    Lease,
    LeaseStatus,
    PaymentsSetting,
    ResidentStatus,
)
from portal.workspaces.schemas import WorkspaceSettings

#: How far ahead a resident may schedule a one-time payment.
MAX_SCHEDULE_AHEAD = timedelta(days=366)
PAYABLE_RESIDENT = (ResidentStatus.APPROVED, ResidentStatus.CURRENT)
NOT_COUNTED = (PaymentStatus.CANCELLED,)


def rules_of(settings: Any) -> WorkspaceSettings:
    return WorkspaceSettings.model_validate(settings)


def cutoff_for(source: PaymentSource, rules: WorkspaceSettings) -> time:
    """PINless debit cards have the earlier cut-off (domain.md §4.2)."""
    if source.type is SourceType.CARD and source.funding is CardFunding.DEBIT:
        return rules.pinless_debit_cutoff_time
    return rules.cutoff_time


def made_at(payment: Payment) -> datetime:
    """When a payment was made, for the void rule: when it started processing (when the
    resident paid, or the morning a scheduled payment ran)."""
    return payment.processed_at or payment.initiated_at


def void_deadline(payment: Payment, cutoff_time: time) -> datetime:
    """The instant from which a processing payment can no longer be voided or cancelled: the
    earlier of midnight New York time after the day it was made (seed 001: "Payments can only
    be voided/canceled the same day they are made"; domain.md §6.2) and its business date's
    cut-off (domain.md §4.2: from then its batch has gone to the bank). Made: ``made_at``.
    ``cutoff_time`` is ``cutoff_for`` its source. The one home of the rule: voids, cancels and
    the payment reads' ``voidable_until`` all call it."""
    made_on = calendar.local_date(made_at(payment))
    day_ends = calendar.at_local(made_on + timedelta(days=1), time(0))
    return min(day_ends, calendar.at_local(payment.business_date, cutoff_time))


def void_deadlines(
    session: Session, workspace_id: str, payments: Sequence[Payment], settings: Any
) -> dict[str, datetime]:
    """``void_deadline`` of each processing payment among ``payments`` (one query for their
    sources' cut-offs, whatever their number); other statuses have none."""
    processing = [p for p in payments if p.status is PaymentStatus.PROCESSING]
    if not processing:
        return {}
    rules = rules_of(settings)
    srcs = {
        s.id: s
        for s in session.scalars(
            select(PaymentSource).where(
                col(PaymentSource.workspace_id) == workspace_id,
                col(PaymentSource.id).in_(sorted({p.source_id for p in processing})),
            )
        )
    }
    return {p.id: void_deadline(p, cutoff_for(srcs[p.source_id], rules)) for p in processing}


def payable_cents(lease: Lease) -> int:
    """What a full-balance-only resident must pay: the balance less any disputed part."""
    return lease.balance_cents - lease.disputed_cents


@dataclass
class Attempt:
    """Everything the rules need about one payment about to be made."""

    lease: Lease
    resident_status: ResidentStatus
    source: PaymentSource
    property_id: str
    account_id: str | None
    amount_cents: int
    type: PaymentType
    business_date: date
    made_that_day: int


def refusal(a: Attempt, rules: WorkspaceSettings, today: date) -> PortalError | None:
    """The first rule the attempt breaks (see the module docstring), or None."""
    if a.lease.status is not LeaseStatus.ACTIVE or a.resident_status not in PAYABLE_RESIDENT:
        return LeaseNotPayable(
            "Only an active lease of an approved or current resident can be paid "
            f"(lease {a.lease.status.value}, resident {a.resident_status.value}).",
            extra={"lease_status": a.lease.status.value},
        )
    if a.source.status is SourceStatus.DISABLED:
        return PaymentSourceDisabled(
            f"This payment source is disabled ({a.source.disabled_reason or 'by a return'}); "
            "add another one."
        )
    if a.source.type is SourceType.CARD and sources.card_expired(
        a.source.exp_month or 0, a.source.exp_year or 0, today
    ):
        return CardExpired(f"The card ending {a.source.last4} has expired.")
    if a.amount_cents <= 0:
        return AmountNotPositive("A payment amount must be more than 0.00.")
    if a.amount_cents > rules.payment_limit:
        return AmountOverLimit(
            f"A single payment is at most {format_usd(rules.payment_limit)} in this workspace.",
            extra={"payment_limit": format_cents(rules.payment_limit)},
        )
    flag = leases_service.effective_payments(a.lease)
    if flag is PaymentsSetting.BLOCKED:
        return PaymentsBlocked("Online payments are blocked for this lease.")
    if flag is PaymentsSetting.CASH_EQUIVALENT and a.source.type is SourceType.BANK_ACCOUNT:
        return CashEquivalentOnly(
            "This lease accepts only certified funds (cards); bank debits are refused."
        )
    if (
        a.lease.pay_full_balance_only
        and a.type is PaymentType.RENT
        and a.amount_cents != payable_cents(a.lease)
    ):
        payable = payable_cents(a.lease)
        return AmountMustEqualBalance(
            f"This lease must be paid in full: {format_usd(payable)}.",
            extra={"payable_balance": format_cents(payable)},
        )
    if a.account_id is None:
        return NoDepositAccount(
            f"The property has no {a.type.value} deposit account; the landlord must add one."
        )
    if a.made_that_day >= rules.payments_per_resident_per_day:
        return DailyPaymentLimitReached(
            f"At most {rules.payments_per_resident_per_day} payment(s) per resident per "
            f"business date; {a.business_date.isoformat()} already has "
            f"{a.made_that_day}.",
            extra={"business_date": a.business_date.isoformat()},
        )
    if a.source.magic == "declined":
        return CardDeclined("The card issuer declined the payment.")
    return None
