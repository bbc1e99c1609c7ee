"""The "Send Balances" call and the client's roster (issue 4's contract: fields may be added,
not renamed). Amounts are two-decimal strings."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from portal.core.money import Amount, Cents
from portal.core.pagination import Page
from portal.residents.maintenance import MaintenanceIn
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
    maintenance: MaintenanceIn | None = Field(
        default=None,
        description='Kept while the processing option "Send Maintenance Information with '
        'Balances" is on (a work order for the tenant starts with it), ignored while off',
    )


class PropertyAccountsIn(BaseModel):
    """What the client says of one of its properties beyond the rows (seed 000 §C: the
    account codes of the bank accounts its money goes to)."""

    model_config = ConfigDict(extra="ignore")

    property_id: str = Field(min_length=1, max_length=64, description="The client's ID")
    security_deposit_account: BankAccountIn | None = Field(
        default=None,
        description="Where the property's security deposits go (seed 002 'Security "
        "Deposits'): found or created; it serves the property unless that has one already",
    )


class BalancesIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    bank_account: BankAccountIn | None = None
    residents: list[BalanceLine] = Field(max_length=200_000)
    properties: list[PropertyAccountsIn] = Field(default=[], max_length=10_000)


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
    last_payment: Cents | None = Field(
        description="The amount of the lease's last completed payment; null before one"
    )
    last_payment_date: date | None = Field(
        description="Its business date (the receipt's date); null before one"
    )
    balance: Cents
    disputed: Cents


RosterPage = Page[RosterLineOut]


class SyncOut(BaseModel):
    residents: int
    active: int
    invite: int
    waiting: int
    balances_received_at: datetime | None
