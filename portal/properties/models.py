"""Properties, units and deposit accounts (architecture.md §7, domain.md §5).

External IDs are the accounting system's (Landlord 12's property and unit IDs) and are unique
per workspace. A deposit account serves properties for one payment type; a property has at most
one account per type, and must have a ``rent`` account before residents can pay rent.
Account numbers are stored whole (the bank side needs them) but never leave the server whole.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKeyConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from portal.core.db import StrEnumType, UTCDateTime


class DepositAccountType(StrEnum):
    RENT = "rent"
    """Rent and other charges."""
    SECURITY_DEPOSIT = "security_deposit"
    """Security deposits, often held in a separate trust account."""
    APPLICATION_FEE = "application_fee"
    """Application fees."""


class Property(SQLModel, table=True):
    __tablename__ = "property"
    __table_args__ = (UniqueConstraint("workspace_id", "external_id"),)

    workspace_id: str = Field(foreign_key="workspace.id", primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=200)
    #: The accounting system's property ID; None for a property it does not know.
    external_id: str | None = Field(default=None, max_length=64)
    street: str = Field(max_length=200)
    city: str = Field(default="", max_length=100)
    state: str = Field(default="", max_length=2)
    postal_code: str = Field(default="", max_length=10)
    #: MRI: the portal posts reversals as separate debits only when this is on (seed 002,
    #: "This is a RentTrack setting, your specific property may not have enabled this").
    post_reversals: bool = True
    #: The integration (accounting client) the property belongs to: set by the first Send
    #: Balances that names it, a scenario or the landlord. None: every integration of the
    #: workspace sees its receipt batches.
    integration_id: str | None = Field(default=None, max_length=40)
    created_at: datetime = Field(sa_type=UTCDateTime)


class Unit(SQLModel, table=True):
    __tablename__ = "unit"
    __table_args__ = (
        ForeignKeyConstraint(
            ["workspace_id", "property_id"], ["property.workspace_id", "property.id"]
        ),
        UniqueConstraint("workspace_id", "property_id", "name"),
        UniqueConstraint("workspace_id", "external_id"),
    )

    workspace_id: str = Field(foreign_key="workspace.id", primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=40)
    property_id: str = Field(max_length=40, index=True)
    name: str = Field(max_length=100)
    external_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)


class DepositAccount(SQLModel, table=True):
    __tablename__ = "deposit_account"

    workspace_id: str = Field(foreign_key="workspace.id", primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=40)
    type: DepositAccountType = Field(sa_type=StrEnumType(DepositAccountType))
    name: str = Field(default="", max_length=200)
    account_number: str = Field(max_length=17)
    routing_number: str = Field(max_length=9)
    created_at: datetime = Field(sa_type=UTCDateTime)


class DepositAccountProperty(SQLModel, table=True):
    """Which properties an account serves; one account per (property, type)."""

    __tablename__ = "deposit_account_property"
    __table_args__ = (
        ForeignKeyConstraint(
            ["workspace_id", "deposit_account_id"],
            ["deposit_account.workspace_id", "deposit_account.id"],
        ),
        ForeignKeyConstraint(
            ["workspace_id", "property_id"], ["property.workspace_id", "property.id"]
        ),
        UniqueConstraint("workspace_id", "property_id", "type"),
    )

    workspace_id: str = Field(foreign_key="workspace.id", primary_key=True, max_length=64)
    deposit_account_id: str = Field(primary_key=True, max_length=40)
    property_id: str = Field(primary_key=True, max_length=40)
    type: DepositAccountType = Field(sa_type=StrEnumType(DepositAccountType))
