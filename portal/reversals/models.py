"""Card disputes (formats.md §5; domain.md §6.5): the object that follows a chargeback.

``needs_response`` (the landlord may accept or challenge it) -> ``under_review`` (challenged,
with evidence) -> ``won`` (the funds come back as a positive item of a reversal batch) or
``lost``; accepting it, or letting the response deadline pass, loses it at once. The funds
were taken when the chargeback arrived (the ``chargeback`` reversal), whatever the outcome.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Index, Text
from sqlmodel import Field, SQLModel

from portal.core.db import StrEnumType, UTCDateTime


class DisputeStatus(StrEnum):
    NEEDS_RESPONSE = "needs_response"
    UNDER_REVIEW = "under_review"
    WON = "won"
    LOST = "lost"


DISPUTE_TRANSITIONS: dict[DisputeStatus, frozenset[DisputeStatus]] = {
    DisputeStatus.NEEDS_RESPONSE: frozenset({DisputeStatus.UNDER_REVIEW, DisputeStatus.LOST}),
    DisputeStatus.UNDER_REVIEW: frozenset({DisputeStatus.WON, DisputeStatus.LOST}),
    DisputeStatus.WON: frozenset(),
    DisputeStatus.LOST: frozenset(),
}


class DisputeOutcome(StrEnum):
    WON = "won"
    LOST = "lost"


class Dispute(SQLModel, table=True):
    __tablename__ = "dispute"
    __table_args__ = (Index("ix_dispute_payment", "workspace_id", "payment_id"),)

    workspace_id: str = Field(foreign_key="workspace.id", primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=40)
    payment_id: str = Field(max_length=40)
    #: The ``chargeback`` reversal that took the funds.
    chargeback_id: str = Field(max_length=40)
    #: The ``dispute_won`` reversal that gave them back, once won.
    credit_id: str | None = Field(default=None, max_length=40)
    network: str = Field(max_length=16)
    reason_code: str = Field(max_length=8)
    reason_name: str = Field(max_length=200)
    amount_cents: int = Field(sa_type=BigInteger)
    status: DisputeStatus = Field(sa_type=StrEnumType(DisputeStatus))
    #: The landlord answers by then (Visa 30 days, Mastercard 45), or the dispute is lost.
    respond_by: datetime = Field(sa_type=UTCDateTime)
    #: When a challenged dispute is decided (and, if won, the funds credited back).
    decision_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: The outcome the sandbox will give a challenge: the operator's choice, else decided by
    #: the evidence (``losing_evidence`` in it loses, as in Stripe's test mode), else won.
    planned_outcome: DisputeOutcome | None = Field(
        default=None, sa_type=StrEnumType(DisputeOutcome)
    )
    evidence: str | None = Field(default=None, sa_type=Text)
    #: The scheduled event that loses the dispute at ``respond_by``; cancelled by an answer.
    expire_event_id: str | None = Field(default=None, max_length=40)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
