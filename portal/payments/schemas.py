"""Wire shapes of payment sources, payments, recurring schedules and deposit batches (issue 5's
contract: fields may be added, not renamed)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from portal.core.dates import IsoDate
from portal.core.money import Amount, Cents
from portal.core.pagination import Page
from portal.payments import batch_items
from portal.payments.models import (
    PAYMENT_LABELS,
    BatchKind,
    BatchStatus,
    CardFunding,
    DepositBatch,
    Payment,
    PaymentSource,
    PaymentStatus,
    PaymentType,
    RecurringPayment,
    RecurringStatus,
    ReversalKind,
    SourceStatus,
    SourceType,
)
from portal.properties.models import DepositAccountType


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BankAccountIn(_In):
    type: Literal["bank_account"]
    routing_number: str = Field(max_length=40, examples=["110000000"])
    account_number: str = Field(max_length=40, examples=["0020021234"])


class CardIn(_In):
    type: Literal["card"]
    number: str = Field(max_length=40, examples=["4242424242424242"])
    exp_month: int = Field(ge=1, le=12)
    exp_year: int = Field(ge=2000, le=2199)
    funding: CardFunding = Field(
        default=CardFunding.CREDIT, description="'debit': a PINless debit card (15:45 cut-off)"
    )


SourceIn = Annotated[BankAccountIn | CardIn, Field(discriminator="type")]


class SourceRead(BaseModel):
    id: str
    type: SourceType
    last4: str
    status: SourceStatus
    disabled_reason: str | None = None
    brand: str | None = None
    funding: CardFunding | None = None
    exp_month: int | None = None
    exp_year: int | None = None
    routing_number: str | None = None
    created_at: datetime

    @classmethod
    def of(cls, s: PaymentSource) -> SourceRead:
        return cls(
            id=s.id,
            type=s.type,
            last4=s.last4,
            status=s.status,
            disabled_reason=s.disabled_reason,
            brand=s.brand,
            funding=s.funding,
            exp_month=s.exp_month,
            exp_year=s.exp_year,
            routing_number=s.routing_number,
            created_at=s.created_at,
        )


SourcePage = Page[SourceRead]


class PaymentIn(_In):
    lease_id: str = Field(max_length=40)
    payment_source_id: str = Field(max_length=40)
    amount: Amount
    type: PaymentType = PaymentType.RENT
    date: IsoDate | None = Field(
        default=None, description="A future day schedules the payment; today or none: now"
    )


class PaymentRead(BaseModel):
    id: str
    transaction_id: str
    status: PaymentStatus
    status_label: str = Field(description="As the portal shows it: Pending, Processing, Paid...")
    amount: Cents
    type: PaymentType
    method: SourceType
    business_date: date
    scheduled_for: date
    deposit_batch_id: str | None
    deposit_date: date | None = None
    lease_id: str
    resident_id: str
    property_id: str
    unit_id: str
    payment_source_id: str
    recurring_payment_id: str | None = None
    initiated_at: datetime
    completed_at: datetime | None = None
    voidable_until: datetime | None = Field(
        default=None,
        description="A processing payment: the instant from which it can no longer be voided "
        "or cancelled (the earlier of the end of the New York day it was made and its business "
        "date's cut-off); it is refunded once deposited instead. Null for other statuses",
    )

    @classmethod
    def of(
        cls,
        p: Payment,
        deposit_date: date | None = None,
        voidable_until: datetime | None = None,
    ) -> PaymentRead:
        return cls(
            id=p.id,
            transaction_id=p.transaction_id,
            status=p.status,
            status_label=PAYMENT_LABELS[p.status],
            amount=p.amount_cents,
            type=p.type,
            method=p.method,
            business_date=p.business_date,
            scheduled_for=p.scheduled_for,
            deposit_batch_id=p.deposit_batch_id,
            deposit_date=deposit_date,
            lease_id=p.lease_id,
            resident_id=p.resident_id,
            property_id=p.property_id,
            unit_id=p.unit_id,
            payment_source_id=p.source_id,
            recurring_payment_id=p.recurring_id,
            initiated_at=p.initiated_at,
            completed_at=p.completed_at,
            voidable_until=voidable_until,
        )


PaymentPage = Page[PaymentRead]


_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")


def parse_month(value: str) -> date:
    if not _MONTH.fullmatch(value):
        raise PydanticCustomError("invalid_month", "a month is YYYY-MM, such as 2026-12")
    return date(int(value[:4]), int(value[5:7]), 1)


Month = Annotated[str, AfterValidator(lambda v: (parse_month(v), v)[1])]


class RecurringIn(_In):
    lease_id: str = Field(max_length=40)
    payment_source_id: str = Field(max_length=40)
    amount: Amount
    type: PaymentType = PaymentType.RENT
    day_of_month: int = Field(ge=1, le=31, description="29-31 charge on a shorter month's last day")
    end_month: Month | None = Field(
        default=None, description="Last month charged; none: until stopped"
    )


class RecurringRead(BaseModel):
    id: str
    lease_id: str
    payment_source_id: str
    amount: Cents
    type: PaymentType
    day_of_month: int
    end_month: str | None
    next_date: date | None
    status: RecurringStatus
    last_payment_id: str | None
    created_at: datetime

    @classmethod
    def of(cls, r: RecurringPayment) -> RecurringRead:
        return cls(
            id=r.id,
            lease_id=r.lease_id,
            payment_source_id=r.source_id,
            amount=r.amount_cents,
            type=r.type,
            day_of_month=r.day_of_month,
            end_month=r.end_month.isoformat()[:7] if r.end_month else None,
            next_date=r.next_date,
            status=r.status,
            last_payment_id=r.last_payment_id,
            created_at=r.created_at,
        )


RecurringPage = Page[RecurringRead]


class BatchItem(BaseModel):
    item: Literal["payment", "reversal"] = Field(
        default="payment",
        description="A payment, or a reversal (negative; positive for a won dispute's credit)",
    )
    payment_id: str
    transaction_id: str = Field(description="The payment's, or the reversal's own")
    status: PaymentStatus = Field(description="The payment's status")
    status_label: str
    amount: Cents
    type: PaymentType
    method: SourceType
    resident_id: str
    resident_name: str
    lease_id: str
    property_id: str
    unit_id: str
    initiated_at: datetime
    reversal_id: str | None = None
    reversal_kind: ReversalKind | None = None
    reason: str | None = Field(default=None, description="voided, refunded, NSF, CHARGE BACK")
    return_code: str | None = None
    reason_code: str | None = None
    original_transaction_id: str | None = None
    note: str | None = Field(
        default=None,
        description="A payment reversed after the deposit with no separate debit (the "
        "property's post_reversals setting is off): the reversal, to enter by hand",
    )

    @classmethod
    def of(cls, i: batch_items.BatchItem) -> BatchItem:
        return cls(
            item=i.item,
            payment_id=i.payment_id,
            transaction_id=i.transaction_id,
            status=i.status,
            status_label=PAYMENT_LABELS[i.status],
            amount=i.amount_cents,
            type=i.type,
            method=i.method,
            resident_id=i.resident_id,
            resident_name=i.resident_name,
            lease_id=i.lease_id,
            property_id=i.property_id,
            unit_id=i.unit_id,
            initiated_at=i.initiated_at,
            reversal_id=i.reversal_id,
            reversal_kind=i.reversal_kind,
            reason=i.reason,
            return_code=i.return_code,
            reason_code=i.reason_code,
            original_transaction_id=i.original_transaction_id,
            note=i.note,
        )


class BatchRead(BaseModel):
    id: str = Field(description="16 digits, as Landlord 12 shows it")
    kind: BatchKind
    status: BatchStatus
    business_date: date
    deposit_date: date
    deposit_type: DepositAccountType
    deposit_account_id: str
    account_last4: str
    total: Cents
    item_count: int
    closed_at: datetime | None
    deposited_at: datetime | None
    items: list[BatchItem] | None = Field(
        default=None, description="The payments; only on GET /v1/deposit-batches/{id}"
    )

    @classmethod
    def of(
        cls, b: DepositBatch, account_last4: str, items: list[BatchItem] | None = None
    ) -> BatchRead:
        return cls(
            id=b.id,
            kind=b.kind,
            status=b.status,
            business_date=b.business_date,
            deposit_date=b.deposit_date,
            deposit_type=b.deposit_type,
            deposit_account_id=b.deposit_account_id,
            account_last4=account_last4,
            total=b.total_cents,
            item_count=b.item_count,
            closed_at=b.closed_at,
            deposited_at=b.deposited_at,
            items=items,
        )


BatchPage = Page[BatchRead]
