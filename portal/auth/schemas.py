"""Wire shapes for login, integrations and tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from portal.auth.models import Feature, IntegrationKind, LockboxFormat, PortalFlavor
from portal.core.pagination import Page


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=200)


class AccessToken(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime = Field(description="Measured on the workspace clock")


class ProcessingOptions(BaseModel):
    """The client's "Processing Options" (seed S4, Inosio Settings screen; domain.md §1), all
    six. All default off: the seed's "Restore All Defaults" does not say what the defaults are
    (docs/decisions.md).

    Who reads each (issue 15, "every option is read by the code it names"): the first five
    name moments only the client sees (its first logon of the day, its own background sending,
    its posting of a deposit slip or of scheduled receivables), so the client reads them and
    the portal keeps and reports them; ``send_maintenance_with_balances`` is read by balance
    intake (``portal.residents.maintenance``), which then keeps the maintenance information
    the lines carry."""

    model_config = ConfigDict(extra="forbid")

    sync_daily: bool = Field(
        default=False,
        description="Synchronize with Server Daily (the client, when its first user logs on)",
    )
    send_in_background: bool = Field(
        default=False, description="Send Data to the Server in the Background (the client)"
    )
    send_after_deposit_slip: bool = Field(
        default=False, description="Send Balances After Posting Deposit Slip (the client)"
    )
    send_after_scheduled_receivables: bool = Field(
        default=False,
        description="Send Balances After Posting Scheduled Receivables (the client)",
    )
    send_balances_automatically: bool = Field(
        default=False,
        description="Send balances automatically in the background (the client's setting; the "
        "portal keeps and reports it)",
    )
    send_maintenance_with_balances: bool = Field(
        default=False,
        description="Send Maintenance Information with Balances: the portal keeps each balance "
        "line's maintenance information (ignored while off)",
    )


def _property_ids(value: list[str]) -> list[str]:
    cleaned = [p.strip() for p in value]
    if any(not p or len(p) > 50 for p in cleaned):
        raise ValueError("a property ID is 1 to 50 characters")
    if len(set(cleaned)) != len(cleaned):
        raise ValueError("a property ID is listed twice")
    return cleaned


class ConnectionIn(BaseModel):
    """Where and how the portal reaches an AMSI eSite (issue 16; connectors.md §1.1, §1.2):
    the eSite URL, the login fields every call carries, the merchant of the payments and the
    properties whose residents are imported and whose payments are posted."""

    model_config = ConfigDict(extra="forbid", title="AmsiConnectionIn")

    url: str = Field(
        min_length=1,
        max_length=500,
        pattern=r"^https?://[^\s/?#]+[^\s]*$",
        description="The eSite base URL (the services are <url>/leasing.asmx, <url>/ledger.asmx)",
        examples=["http://127.0.0.1:8100/esite"],
    )
    portfolio: str = Field(min_length=1, max_length=100, description="PortfolioName")
    user_id: str = Field(min_length=1, max_length=100, description="UserID")
    password: str = Field(
        min_length=1, max_length=200, description="Password: write-only, never returned"
    )
    merchant_id: str = Field(default="", max_length=100, description="The payments' MerchantID")
    property_ids: list[str] = Field(
        default_factory=list,
        max_length=1000,
        description="The eSite property IDs enabled for import and posting",
    )
    timeout_seconds: float = Field(
        default=10,
        gt=0,
        le=120,
        description="How long a call may take before it counts as unanswered and is retried "
        "(the eSite may have done the work: the retry then reads as a duplicate)",
    )
    daily_sync: bool = Field(
        default=True,
        description="Import the enabled properties every day at 04:15 New York time, as "
        "RentTrack's balance sync did (connectors.md §0.1)",
    )

    @field_validator("property_ids")
    @classmethod
    def _properties(cls, value: list[str]) -> list[str]:
        return _property_ids(value)


#: One part of MRI's four-part Basic user name (connectors.md §2.2): no ``/`` (the separator)
#: and no ``:`` (Basic's).
_MRI_PART = r"^[^/:\s]+$"


class MriConnectionIn(BaseModel):
    """Where and how the portal reaches MRI's ``api.asp`` (issue 17; connectors.md §2.1, §2.2,
    §2.11: RT's ``MRISettings``): the endpoint, the four parts of the Basic user name and the
    password, the properties imported and posted for, and the end-of-day close (seed 002)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        min_length=1,
        max_length=500,
        pattern=r"^https?://[^\s/?#]+[^\s]*$",
        description="The full api.asp URL (MRISettings.url)",
        examples=["http://127.0.0.1:8200/mriapiservices/api.asp"],
    )
    client_id: str = Field(min_length=1, max_length=100, pattern=_MRI_PART, examples=["C000123"])
    database: str = Field(min_length=1, max_length=100, pattern=_MRI_PART, examples=["RTDB"])
    user: str = Field(min_length=1, max_length=100, pattern=_MRI_PART, examples=["RTAPI"])
    partner_key: str = Field(min_length=1, max_length=200, pattern=_MRI_PART)
    password: str = Field(
        min_length=1, max_length=200, description="Password: write-only, never returned"
    )
    property_ids: list[str] = Field(
        default_factory=list,
        max_length=1000,
        description="The MRI property IDs enabled for import and posting",
    )
    close_batches: bool = Field(
        default=True,
        description="Close each MRI batch at the end of the business day (seed 002); off: "
        "batches are never closed by the portal, as RentTrack's 2016 code (connectors.md §0.1)",
    )
    end_of_day: str = Field(
        default="17:00",
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
        description="The end of the business day, HH:MM New York time: the portal closes the "
        "day's MRI batches then, and posts what comes later to a batch of its own",
    )
    format: Literal["xml", "json"] = Field(
        default="xml",
        description="$format of every call: xml as RentTrack sent (connectors.md §2.1), or json",
    )
    site_id: str = Field(
        default="@", max_length=20, description="SiteID of each payment (RT's fixture: @)"
    )
    send_description: bool = Field(
        default=True,
        description="Send a Description (RT T#<transaction> B#<batch>, or RT T#<transaction> "
        "when that is over MRI's 30 characters)",
    )
    security_deposit_cash_type: str = Field(
        default="SD",
        min_length=1,
        max_length=10,
        description="CashType of security-deposit payments: the deposit ledger (seed 002)",
    )
    timeout_seconds: float = Field(
        default=10,
        gt=0,
        le=180,
        description="How long a call may take before it counts as unanswered and is retried "
        "(RT waited 180 s, connectors.md §2.3)",
    )
    daily_sync: bool = Field(
        default=True,
        description="Import the enabled properties every day at 04:15 New York time",
    )

    @field_validator("property_ids")
    @classmethod
    def _properties(cls, value: list[str]) -> list[str]:
        return _property_ids(value)


class ConnectionPatch(ConnectionIn):
    """A whole new connection; ``password`` left out keeps the stored one."""

    model_config = ConfigDict(title="AmsiConnectionPatch")

    password: str | None = Field(  # type: ignore[assignment]
        default=None, min_length=1, max_length=200, description="Left out: unchanged"
    )


class MriConnectionPatch(MriConnectionIn):
    """A whole new connection; ``password`` left out keeps the stored one."""

    password: str | None = Field(  # type: ignore[assignment]
        default=None, min_length=1, max_length=200, description="Left out: unchanged"
    )


def _connection_shape(value: Any) -> str:
    """Which connection a body is: MRI's names its four-part login, AMSI's does not."""
    if isinstance(value, MriConnectionIn):
        return "mri"
    if isinstance(value, ConnectionIn):
        return "amsi"
    if isinstance(value, dict) and ({"client_id", "partner_key", "database"} & set(value)):
        return "mri"
    return "amsi"


AnyConnectionIn = Annotated[
    Annotated[ConnectionIn, Tag("amsi")] | Annotated[MriConnectionIn, Tag("mri")],
    Discriminator(_connection_shape),
]
AnyConnectionPatch = Annotated[
    Annotated[ConnectionPatch, Tag("amsi")] | Annotated[MriConnectionPatch, Tag("mri")],
    Discriminator(_connection_shape),
]


class ConnectionRead(BaseModel):
    model_config = ConfigDict(title="AmsiConnectionRead")

    url: str
    portfolio: str
    user_id: str
    merchant_id: str
    property_ids: list[str]
    timeout_seconds: float = 10
    daily_sync: bool = True
    password_set: bool = Field(description="Whether a password is stored (it is never returned)")


class MriConnectionRead(BaseModel):
    url: str
    client_id: str
    database: str
    user: str
    partner_key: str
    property_ids: list[str]
    close_batches: bool = True
    end_of_day: str = "17:00"
    format: str = "xml"
    site_id: str = "@"
    send_description: bool = True
    security_deposit_cash_type: str = "SD"
    timeout_seconds: float = 10
    daily_sync: bool = True
    password_set: bool = Field(description="Whether a password is stored (it is never returned)")


#: The kinds of integration whose server the portal calls (the others call the portal), with
#: the connection each takes.
CONNECTION_MODELS: dict[IntegrationKind, type[BaseModel]] = {
    IntegrationKind.AMSI: ConnectionIn,
    IntegrationKind.MRI: MriConnectionIn,
}
CONNECTED_KINDS = frozenset(CONNECTION_MODELS)


def connection_refusal(kind: IntegrationKind, connection: object) -> str | None:
    """Why ``connection`` does not suit an integration of ``kind``, or None."""
    if connection is None:
        return None
    if kind not in CONNECTED_KINDS:
        return (
            f"a {kind.value} integration calls the portal; only amsi and mri integrations "
            "take a connection"
        )
    if not isinstance(connection, CONNECTION_MODELS[kind]):
        wanted = {
            IntegrationKind.AMSI: "url, portfolio, user_id, password",
            IntegrationKind.MRI: "url, client_id, database, user, partner_key, password",
        }[kind]
        return f"an {kind.value} integration takes an {kind.value} connection ({wanted})"
    return None


def _connection_allowed(kind: IntegrationKind | None, connection: object) -> None:
    if kind is not None and (reason := connection_refusal(kind, connection)) is not None:
        raise ValueError(reason)


class IntegrationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kind: IntegrationKind
    flavor: PortalFlavor = Field(
        default=PortalFlavor.RENTTRACK,
        description="renttrack: the bank account number is required with balances; "
        "inosio: the routing number too",
    )
    features: list[Feature] = Field(default_factory=list)
    processing_options: ProcessingOptions = Field(default_factory=ProcessingOptions)
    lockbox_format: LockboxFormat | None = Field(
        default=None,
        description="A file-based client: the Batch Deposit Report e-mail carries one lockbox "
        "file per batch in this format (promas or bostonpost)",
    )
    connection: AnyConnectionIn | None = Field(
        default=None,
        description="amsi: how the portal reaches the eSite; mri: how it reaches api.asp",
    )

    @field_validator("features")
    @classmethod
    def _unique(cls, value: list[Feature]) -> list[Feature]:
        return sorted(set(value))

    @model_validator(mode="after")
    def _connection_kind(self) -> IntegrationCreate:
        _connection_allowed(self.kind, self.connection)
        return self


class IntegrationPatch(BaseModel):
    """The settings a landlord may change after creation (seed S4: the client's settings screen
    is edited and saved again), validated as at creation. A field left out, or null, keeps its
    value (as the other PATCH routes do); ``lockbox_format: null`` makes it an API client.
    ``processing_options`` changes only the options it names; ``features`` is the whole new
    list of enabled features. The kind never changes (its ID rules hold the data received)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    flavor: PortalFlavor | None = None
    features: list[Feature] | None = Field(
        default=None, description="The whole list of enabled features ([] for none)"
    )
    processing_options: ProcessingOptions | None = Field(
        default=None, description="Only the options sent change"
    )
    lockbox_format: LockboxFormat | None = Field(
        default=None, description="null: an API client (no lockbox files)"
    )
    connection: AnyConnectionPatch | None = Field(
        default=None,
        description="amsi, mri: the whole new connection (password left out: unchanged); "
        "null removes it",
    )

    @field_validator("features")
    @classmethod
    def _unique(cls, value: list[Feature] | None) -> list[Feature] | None:
        return None if value is None else sorted(set(value))

    def changes(self) -> dict[str, Any]:
        """The fields sent, as model values: features as strings, the options sent."""
        out: dict[str, Any] = {}
        sent = self.model_fields_set
        if self.name is not None:
            out["name"] = self.name
        if self.flavor is not None:
            out["flavor"] = self.flavor
        if self.features is not None:
            out["features"] = [f.value for f in self.features]
        if self.processing_options is not None:
            out["processing_options"] = self.processing_options.model_dump(exclude_unset=True)
        if "lockbox_format" in sent:
            out["lockbox_format"] = self.lockbox_format.value if self.lockbox_format else None
        if "connection" in sent:
            out["connection"] = self.connection
        return out


class TokenRead(BaseModel):
    id: str
    last4: str
    active: bool
    created_at: datetime
    revoked_at: datetime | None


class TokenCreated(BaseModel):
    id: str
    token: str = Field(description="Shown this once; only a digest is kept")
    created_at: datetime


TokenPage = Page[TokenRead]


class BankAccountRead(BaseModel):
    account_last4: str
    routing_number: str | None


class IntegrationRead(BaseModel):
    id: str
    name: str
    kind: IntegrationKind
    flavor: PortalFlavor
    bank_account: BankAccountRead | None = Field(
        description="The account the client last sent with balances (its rent deposits)"
    )
    balances_received_at: datetime | None
    features: list[Feature]
    processing_options: ProcessingOptions
    lockbox_format: LockboxFormat | None = None
    connection: ConnectionRead | MriConnectionRead | None = None
    last_error: dict[str, Any] | None = Field(
        default=None,
        description="The last error this integration met: a refused call of the client's, or "
        "a posting its accounting system refused or never answered (issue 16); null if none",
    )
    active_token: TokenRead | None
    created_at: datetime


IntegrationPage = Page[IntegrationRead]


class LastError(BaseModel):
    error: dict[str, Any] | None = Field(
        description="The last error this integration met, or null",
        examples=[None],
    )


def token_read(row: Any) -> TokenRead:
    return TokenRead(
        id=row.id,
        last4=row.last4,
        active=row.active,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def integration_read(integration: Any, active: Any | None) -> IntegrationRead:
    return IntegrationRead(
        id=integration.id,
        name=integration.name,
        kind=integration.kind,
        flavor=integration.flavor,
        bank_account=BankAccountRead(
            account_last4=integration.bank_account_number[-4:],
            routing_number=integration.bank_routing_number,
        )
        if integration.bank_account_number
        else None,
        balances_received_at=integration.balances_received_at,
        features=[Feature(f) for f in integration.features],
        processing_options=ProcessingOptions.model_validate(integration.processing_options),
        lockbox_format=integration.lockbox_format,
        connection=_connection_read(integration),
        last_error=integration.last_error,
        active_token=token_read(active) if active is not None else None,
        created_at=integration.created_at,
    )


def _connection_read(integration: Any) -> ConnectionRead | MriConnectionRead | None:
    if integration.connection is None:
        return None
    model = MriConnectionRead if integration.kind == IntegrationKind.MRI else ConnectionRead
    return model(**integration.connection, password_set=integration.connection_password is not None)
