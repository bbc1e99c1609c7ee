"""Landlord users, integrations and integration tokens.

Only a SHA-256 digest of an integration token is stored (architecture.md §6, §11); passwords
only as salted scrypt hashes. At most one token per integration is active: issuing a new one
deactivates the previous one (domain.md §1, seed S4: "makes the old token inactive").
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, ForeignKeyConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from portal.core.db import StrEnumType, UTCDateTime


class IntegrationKind(StrEnum):
    LANDLORD12 = "landlord12"
    """Promas Landlord 12, a pull-style client (seed S0, S4)."""
    AMSI = "amsi"
    """AMSI eSite (seed S1)."""
    MRI = "mri"
    """MRI (seed S2)."""


class LockboxFormat(StrEnum):
    """The lockbox files a file-based client imports (domain.md §5.3; formats.md §2, §6.2)."""

    PROMAS = "promas"
    """Promas / Landlord 12's legacy lockbox: no header; date, unit, amount, memo, tenant."""
    BOSTONPOST = "bostonpost"
    """MRI / Boston Post "Standard Lockbox": a header row and nine columns, CRLF."""


class PortalFlavor(StrEnum):
    RENTTRACK = "renttrack"
    """RentTrack: the bank account number is required, the routing number optional (seed S0)."""
    INOSIO = "inosio"
    """Inosio: both account and routing number are required (seed S4)."""


class Feature(StrEnum):
    APPLICANT_SCREENING = "applicant_screening"
    """The applicants feed (seed S4, "Enabled Features")."""
    DOCUMENT_PORTAL = "document_portal"
    """Document portal (seed S4)."""
    MAINTENANCE_COORDINATION = "maintenance_coordination"
    """The work-orders feed (seed S4)."""

    @property
    def label(self) -> str:
        """The checkbox's name on the client's "Enabled Features" (seed S4), for sentences: a
        refusal names the feature in words, never the enum (issue 15)."""
        return _FEATURE_LABELS[self]


_FEATURE_LABELS = {
    Feature.APPLICANT_SCREENING: "applicant screening",
    Feature.DOCUMENT_PORTAL: "document portal",
    Feature.MAINTENANCE_COORDINATION: "maintenance coordination",
}


class ServerSecret(SQLModel, table=True):
    """Server-wide secrets generated on first start (operator key, signing key)."""

    __tablename__ = "server_secret"

    name: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=200)


class LandlordUser(SQLModel, table=True):
    __tablename__ = "landlord_user"

    workspace_id: str = Field(foreign_key="workspace.id", primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=40)
    #: Unique across workspaces: the login names one user, so one workspace.
    email: str = Field(unique=True, max_length=200)
    name: str = Field(max_length=200)
    password_hash: str = Field(max_length=300)
    created_at: datetime = Field(sa_type=UTCDateTime)


class Integration(SQLModel, table=True):
    __tablename__ = "integration"

    workspace_id: str = Field(foreign_key="workspace.id", primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=200)
    kind: IntegrationKind = Field(sa_type=StrEnumType(IntegrationKind))
    features: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    processing_options: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    flavor: PortalFlavor = Field(default=PortalFlavor.RENTTRACK, sa_type=StrEnumType(PortalFlavor))
    #: The bank account the client last sent with balances (where its rent is deposited).
    bank_account_number: str | None = Field(default=None, max_length=17)
    bank_routing_number: str | None = Field(default=None, max_length=20)
    balances_received_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: File-based clients get lockbox files with the Batch Deposit Report e-mail (domain.md
    #: §5.3): ``promas`` or ``bostonpost``; None for an API client.
    lockbox_format: str | None = Field(default=None, max_length=16)
    #: How the portal reaches the accounting system's own server (issue 16: AMSI eSite's URL,
    #: portfolio, user, merchant, enabled properties), or None for a client that calls in.
    connection: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    #: The password of ``connection``: write-only, never echoed (the connector must send it
    #: as it is, so it is kept as given; docs/decisions.md "AMSI connection settings").
    connection_password: str | None = Field(default=None, max_length=200)
    #: The last error this integration met (``GET /v1/integration/last-error``), or None.
    last_error: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = Field(sa_type=UTCDateTime)


class IntegrationToken(SQLModel, table=True):
    __tablename__ = "integration_token"
    __table_args__ = (
        ForeignKeyConstraint(
            ["workspace_id", "integration_id"], ["integration.workspace_id", "integration.id"]
        ),
        UniqueConstraint("workspace_id", "integration_id", "seq"),
    )

    workspace_id: str = Field(foreign_key="workspace.id", primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=40)
    integration_id: str = Field(max_length=40, index=True)
    #: 1, 2, 3... per integration: the order tokens were issued in (the clock may stand still).
    seq: int
    #: SHA-256 (hex) of the token; the token itself is never stored.
    digest: str = Field(unique=True, max_length=64)
    last4: str = Field(max_length=4)
    active: bool = True
    created_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
