"""The "Send Balances" call and the client's roster (issue 4's contract: fields may be added,
not renamed). Amounts are two-decimal strings."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from portal.core.money import Amount, Cents
from portal.residents.models import PaymentsSetting

Short = Field(min_length=1, max_length=64)


class BankAccountIn(BaseModel):
    """Opaque strings: Landlord 12 sends e.g. ``00037029011`` or a 7-digit routing number
    (domain.md §1); only missing values are refused."""

    model_config = ConfigDict(extra="ignore")

    account_number: str | None = Field(default=None, max_length=17)
    routing_number: str | None = Field(default=None, max_length=9)


class BalanceLine(BaseModel):
    model_config = ConfigDict(extra="ignore")

    resident_id: str = Short
    property_id: str = Short
    property_address: str = Field(default="", max_length=200)
    unit_id: str = Short
    unit: str = Field(default="", max_length=100)
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    rent: Amount
    balance: Amount
    disputed: Amount = Field(default=0, description="Excluded from what the resident may pay")
    pay_full_balance_only: bool = False
    payment_accepted: PaymentsSetting = PaymentsSetting.ALLOWED
    lease_start: date | None = None
    lease_end: date | None = None
    move_in: date | None = None


class BalancesIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    bank_account: BankAccountIn | None = None
    residents: list[BalanceLine] = Field(max_length=200_000)


class ResidentStatusOut(BaseModel):
    resident_id: str
    status: str = Field(examples=["ACTIVE", "INVITE", "WAITING"])


class BalancesOut(BaseModel):
    created: int
    updated: int
    unchanged: int
    invited: int
    waiting: int
    received_at: datetime
    residents: list[ResidentStatusOut]


class RosterLineOut(BaseModel):
    resident_id: str
    status: str
    name: str
    email: str | None
    phone: str | None
    property: str
    amount: Cents = Field(description="Rent")
    last_payment: Cents | None = Field(description="Until payments exist: null")
    balance: Cents
    disputed: Cents


class RosterPage(BaseModel):
    data: list[RosterLineOut]
    next_cursor: str | None


class SyncOut(BaseModel):
    residents: int
    active: int
    invite: int
    waiting: int
    balances_received_at: datetime | None
