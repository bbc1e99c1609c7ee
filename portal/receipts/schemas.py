"""Wire shapes of the receipt-batch API (issue 7's contract: fields may be added, not renamed).
Dates are ISO (``2022-02-22``); ``label`` and ``description`` are the client's own renderings."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from portal.core.money import Cents
from portal.core.pagination import Page
from portal.payments.models import BatchKind, PaymentStatus, PaymentType, SourceType
from portal.properties.models import DepositAccountType
from portal.receipts.service import Receipt, ReceiptBatch


class ReceiptBatchSummary(BaseModel):
    id: str = Field(description="16 digits")
    kind: BatchKind = Field(description="deposit, or reversal (a negative batch)")
    deposit_date: date
    business_date: date
    total: Cents
    item_count: int
    deposit_type: DepositAccountType
    label: str = Field(
        description="As Landlord 12 renders it",
        examples=["Deposit on 2/23/2022, $2,700.00, 3 items, Id: 2732388606925747"],
    )
    processed: bool
    processed_at: datetime | None

    @classmethod
    def of(cls, b: ReceiptBatch) -> ReceiptBatchSummary:
        return cls(
            id=b.id,
            kind=b.kind,
            deposit_date=b.deposit_date,
            business_date=b.business_date,
            total=b.total_cents,
            item_count=b.item_count,
            deposit_type=b.deposit_type,
            label=b.label,
            processed=b.processed_at is not None,
            processed_at=b.processed_at,
        )


ReceiptBatchPage = Page[ReceiptBatchSummary]


class ReceiptRead(BaseModel):
    item: str = Field(description="payment or reversal")
    date: date
    description: str = Field(examples=["Anthony Kmetz for 2118 Oak Street"])
    amount: Cents = Field(description="Negative for a reversal (positive: a won dispute)")
    memo: str
    transaction_id: str = Field(description="12 digits: the payment's, or the reversal's own")
    payment_id: str
    resident_id: str | None = Field(description="The accounting system's resident (tenant) ID")
    property_id: str | None = Field(description="The accounting system's property ID")
    unit_id: str | None = Field(description="The accounting system's unit ID")
    method: SourceType
    type: PaymentType
    status: PaymentStatus = Field(description="The payment's status now")
    unpaid_charges: Cents = Field(
        description="The resident's balance as last received from the accounting system "
        "(the client's 'Unpaid charges are $980.00')"
    )
    reason: str | None = Field(default=None, description="voided, refunded, NSF, CHARGE BACK...")
    return_code: str | None = None
    reason_code: str | None = None
    original_transaction_id: str | None = None
    note: str | None = Field(
        default=None,
        description="A payment reversed after the deposit with no separate debit (the "
        "property's post_reversals setting is off): the reversal, to enter by hand",
    )

    @classmethod
    def of(cls, r: Receipt) -> ReceiptRead:
        return cls(
            item=r.item,
            date=r.date,
            description=r.description,
            amount=r.amount_cents,
            memo=r.memo,
            transaction_id=r.transaction_id,
            payment_id=r.payment_id,
            resident_id=r.resident_id,
            property_id=r.property_id,
            unit_id=r.unit_id,
            method=r.method,
            type=r.type,
            status=r.status,
            unpaid_charges=r.unpaid_charges_cents,
            reason=r.reason,
            return_code=r.return_code,
            reason_code=r.reason_code,
            original_transaction_id=r.original_transaction_id,
            note=r.note,
        )


class ReceiptBatchDetail(ReceiptBatchSummary):
    receipts: list[ReceiptRead]
