"""Wire shapes of the receipt-batch API (issue 7's contract: fields may be added, not renamed).
Dates are ISO (``2022-02-22``); ``label`` and ``description`` are the client's own renderings."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from portal.auth.models import PortalFlavor
from portal.core.money import Cents
from portal.core.pagination import Page
from portal.payments.batch_items import BatchItem
from portal.payments.models import BatchKind, PaymentStatus, PaymentType, SourceType
from portal.properties.models import DepositAccountType
from portal.receipts import service
from portal.receipts.service import ReceiptBatch


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
    def of(cls, i: BatchItem, flavor: PortalFlavor) -> ReceiptRead:
        return cls(
            item=i.item,
            date=i.business_date,
            description=service.description(i),
            amount=i.amount_cents,
            memo=service.receipt_memo(i, flavor),
            transaction_id=i.transaction_id,
            payment_id=i.payment_id,
            resident_id=i.external_resident_id,
            property_id=i.property_external_id,
            unit_id=i.unit_external_id,
            method=i.method,
            type=i.type,
            status=i.status,
            unpaid_charges=i.balance_basis_cents,
            reason=i.reason,
            return_code=i.return_code,
            reason_code=i.reason_code,
            original_transaction_id=i.original_transaction_id,
            note=i.note,
        )


class ReceiptBatchDetail(ReceiptBatchSummary):
    receipts: list[ReceiptRead]
