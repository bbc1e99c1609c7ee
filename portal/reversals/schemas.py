"""Wire shapes of reversals and disputes (issue 6's contract: fields may be added, not
renamed)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from portal.core.money import Cents
from portal.core.pagination import Page
from portal.payments.models import (
    PaymentType,
    Reversal,
    ReversalKind,
    ReversalPlacement,
    SourceType,
)
from portal.payments.schemas import PaymentRead
from portal.reversals import ledger
from portal.reversals.models import Dispute, DisputeOutcome, DisputeStatus


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReturnIn(_In):
    code: str = Field(max_length=8, examples=["R01"], description="A NACHA return code, R01-R99")


class ChargebackIn(_In):
    reason_code: str = Field(
        max_length=8,
        examples=["10.4", "4837"],
        description="Visa (10.1-13.9) or Mastercard (4808-4871) reason code",
    )
    outcome: DisputeOutcome | None = Field(
        default=None,
        description="How the dispute ends if the landlord challenges it (default: won, or lost "
        "when the evidence contains 'losing_evidence')",
    )


class ChallengeIn(_In):
    evidence: str | None = Field(
        default=None,
        max_length=20_000,
        description="The landlord's evidence; 'losing_evidence' in it loses (sandbox)",
    )


class LedgerEntryRead(BaseModel):
    integration_kind: str = Field(description="landlord12, amsi or mri")
    entry: str
    reason: str | None
    batch: str | None = Field(description="original, reversal or null")
    note: str

    @classmethod
    def of(cls, e: ledger.LedgerEntry) -> LedgerEntryRead:
        return cls(
            integration_kind=e.integration_kind,
            entry=e.entry,
            reason=e.reason,
            batch=e.batch,
            note=e.note,
        )


class ReversalRead(BaseModel):
    id: str
    transaction_id: str = Field(description="The reversal's own 12-digit transaction ID")
    payment_id: str
    original_transaction_id: str
    kind: ReversalKind
    reason: str = Field(description="As the accounting side books it: voided, refunded, NSF...")
    amount: Cents = Field(description="Signed as the landlord's bank sees it: negative when taken")
    method: SourceType
    payment_type: PaymentType
    placement: ReversalPlacement
    deposit_batch_id: str | None
    business_date: date | None
    date: date
    return_code: str | None
    return_name: str | None
    reason_code: str | None
    reason_name: str | None
    dispute_id: str | None
    balance_change: Cents = Field(description="What it did to the lease's balance")
    lease_id: str
    resident_id: str
    property_id: str
    unit_id: str
    initiated_by: str
    created_at: datetime
    ledger: list[LedgerEntryRead] = Field(
        description="The entry each kind of accounting system should book"
    )

    @classmethod
    def of(cls, r: Reversal, *, original_transaction_id: str, post_reversals: bool) -> ReversalRead:
        return cls(
            id=r.id,
            transaction_id=r.transaction_id,
            payment_id=r.payment_id,
            original_transaction_id=original_transaction_id,
            kind=r.kind,
            reason=r.reason,
            amount=r.amount_cents,
            method=r.method,
            payment_type=r.payment_type,
            placement=r.placement,
            deposit_batch_id=r.deposit_batch_id,
            business_date=r.business_date,
            date=r.reversal_date,
            return_code=r.return_code,
            return_name=r.return_name,
            reason_code=r.reason_code,
            reason_name=r.reason_name,
            dispute_id=r.dispute_id,
            balance_change=r.balance_delta_cents,
            lease_id=r.lease_id,
            resident_id=r.resident_id,
            property_id=r.property_id,
            unit_id=r.unit_id,
            initiated_by=r.initiated_by,
            created_at=r.created_at,
            ledger=[
                LedgerEntryRead.of(e) for e in ledger.entries(r, post_reversals=post_reversals)
            ],
        )


ReversalPage = Page[ReversalRead]


class DisputeRead(BaseModel):
    id: str
    payment_id: str
    chargeback_id: str
    credit_id: str | None
    network: str
    reason_code: str
    reason_name: str
    amount: Cents
    status: DisputeStatus
    respond_by: datetime
    decision_at: datetime | None
    evidence: str | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None

    @classmethod
    def of(cls, d: Dispute) -> DisputeRead:
        return cls(
            id=d.id,
            payment_id=d.payment_id,
            chargeback_id=d.chargeback_id,
            credit_id=d.credit_id,
            network=d.network,
            reason_code=d.reason_code,
            reason_name=d.reason_name,
            amount=d.amount_cents,
            status=d.status,
            respond_by=d.respond_by,
            decision_at=d.decision_at,
            evidence=d.evidence,
            created_at=d.created_at,
            updated_at=d.updated_at,
            closed_at=d.closed_at,
        )


DisputePage = Page[DisputeRead]


class ChargebackRead(ReversalRead):
    dispute: DisputeRead


class PaymentDetail(PaymentRead):
    """A payment with its reversal history and disputes (``GET /v1/payments/{id}``)."""

    reversals: list[ReversalRead] = Field(default_factory=list)
    disputes: list[DisputeRead] = Field(default_factory=list)
