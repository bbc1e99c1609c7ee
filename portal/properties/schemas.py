"""Wire shapes for properties, units and deposit accounts (architecture.md §5, §7).

A deposit account is shown with the last four digits of its account number only, never the
whole number (formats.md §4). Routing and account numbers are checked here with the service's
pure validators, so a bad one is a 422 whose ``code`` says which (``invalid_routing_number``,
``invalid_account_number``) and whose message says which rule failed.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from portal.core.pagination import Page
from portal.properties import bank_numbers
from portal.properties.models import DepositAccount, DepositAccountType, Property, Unit

_ID_LIST_MAX = 5000


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AddressIn(_In):
    street: str = Field(min_length=1, max_length=200)
    city: str | None = Field(default=None, max_length=100)
    state: str | None = Field(
        default=None, pattern=r"^[A-Z]{2}$", description="Two-letter USPS code, capitals"
    )
    postal_code: str | None = Field(
        default=None,
        pattern=r"^[0-9]{5}(-[0-9]{4})?$",
        description="ZIP or ZIP+4",
        examples=["62704", "62704-1234"],
    )


class PropertyCreate(_In):
    name: str = Field(min_length=1, max_length=200)
    external_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="The accounting system's property ID; unique in the workspace",
    )
    address: AddressIn
    post_reversals: bool = Field(
        default=True,
        description="Post reversals after the deposit (refunds, returns, chargebacks) as "
        "separate debits, in a negative reversal batch; off: a note on the payment's receipt",
    )


class PropertyUpdate(_In):
    """Only the fields sent change; ``integration_id: null`` gives the property back to every
    integration of the workspace."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    post_reversals: bool | None = None
    integration_id: str | None = Field(
        default=None,
        max_length=40,
        description="The accounting client whose receipt batches hold this property's payments",
    )


class UnitCreate(_In):
    name: str = Field(min_length=1, max_length=100, description="Unique within the property")
    external_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="The accounting system's unit ID; unique in the workspace",
    )


class DepositAccountCreate(_In):
    type: DepositAccountType
    name: str | None = Field(default=None, max_length=200)
    account_number: str = Field(description="4 to 17 digits; only the last 4 are ever shown")
    routing_number: str = Field(
        description="9-digit ABA routing number (checksum and Fed prefix are checked)",
        examples=["110000000"],
    )
    property_ids: list[str] = Field(
        max_length=_ID_LIST_MAX,
        description="Properties whose payments of this type go to this account",
    )

    @field_validator("account_number")
    @classmethod
    def _account_number(cls, value: str) -> str:
        try:
            return bank_numbers.validate_account_number(value)
        except ValueError as exc:
            raise PydanticCustomError("invalid_account_number", str(exc)) from None

    @field_validator("routing_number")
    @classmethod
    def _routing_number(cls, value: str) -> str:
        try:
            return bank_numbers.validate_routing_number(value)
        except ValueError as exc:
            raise PydanticCustomError("invalid_routing_number", str(exc)) from None


class ServedProperties(_In):
    property_ids: list[str] = Field(
        max_length=_ID_LIST_MAX, description="The complete new list of properties served"
    )


class AddressRead(BaseModel):
    street: str
    city: str | None
    state: str | None
    postal_code: str | None


class DepositAccountsOfProperty(BaseModel):
    """The ID of the property's deposit account of each type, or null."""

    rent: str | None
    security_deposit: str | None
    application_fee: str | None


class UnitRead(BaseModel):
    id: str
    property_id: str
    name: str
    external_id: str | None
    created_at: datetime


UnitPage = Page[UnitRead]


class PropertyRead(BaseModel):
    id: str
    name: str
    external_id: str | None
    address: AddressRead
    units: list[UnitRead]
    deposit_accounts: DepositAccountsOfProperty
    post_reversals: bool = True
    integration_id: str | None = None
    created_at: datetime


PropertyPage = Page[PropertyRead]


class DepositAccountRead(BaseModel):
    id: str
    type: DepositAccountType
    name: str | None
    account_last4: str = Field(description="The last four digits of the account number")
    routing_number: str
    property_ids: list[str]
    created_at: datetime


DepositAccountPage = Page[DepositAccountRead]


def unit_read(unit: Unit) -> UnitRead:
    return UnitRead(
        id=unit.id,
        property_id=unit.property_id,
        name=unit.name,
        external_id=unit.external_id,
        created_at=unit.created_at,
    )


def property_read(
    prop: Property, units: list[Unit], accounts: dict[DepositAccountType, str]
) -> PropertyRead:
    return PropertyRead(
        id=prop.id,
        name=prop.name,
        external_id=prop.external_id,
        address=AddressRead(
            street=prop.street,
            city=prop.city or None,
            state=prop.state or None,
            postal_code=prop.postal_code or None,
        ),
        units=[unit_read(u) for u in units],
        deposit_accounts=DepositAccountsOfProperty(
            rent=accounts.get(DepositAccountType.RENT),
            security_deposit=accounts.get(DepositAccountType.SECURITY_DEPOSIT),
            application_fee=accounts.get(DepositAccountType.APPLICATION_FEE),
        ),
        post_reversals=prop.post_reversals,
        integration_id=prop.integration_id,
        created_at=prop.created_at,
    )


def deposit_account_read(account: DepositAccount, property_ids: list[str]) -> DepositAccountRead:
    return DepositAccountRead(
        id=account.id,
        type=account.type,
        name=account.name or None,
        account_last4=account.account_number[-4:],
        routing_number=account.routing_number,
        property_ids=property_ids,
        created_at=account.created_at,
    )
