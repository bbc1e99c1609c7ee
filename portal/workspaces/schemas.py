"""Wire shapes of workspaces, their settings and their clock."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from portal.core import calendar
from portal.core.clock import ClockMode
from portal.core.money import Amount
from portal.core.pagination import Page

#: The years a workspace clock may show: the banking calendar's rules hold from 2000 on, and a
#: bounded range keeps every date computation (and every advance) finite.
MIN_YEAR, MAX_YEAR = 1990, 2199


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise PydanticCustomError(
            "invalid_datetime",
            "an instant must be RFC 3339 with an offset, such as 2026-03-02T14:00:00Z",
        )
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise PydanticCustomError(
            "invalid_datetime",
            f"a workspace clock runs from {MIN_YEAR} to {MAX_YEAR}",
        )
    return value


def _duration(value: str) -> str:
    try:
        calendar.parse_duration(value)
    except ValueError:
        raise PydanticCustomError(
            "invalid_duration",
            "a duration must be ISO 8601 such as P1D, PT2H, P1M or P1DT12H",
        ) from None
    return value


def _text_only(value: object) -> object:
    # A JSON number is not an instant (pydantic would read it as a Unix timestamp).
    if not isinstance(value, str | datetime):
        raise PydanticCustomError(
            "invalid_datetime", "an instant must be an RFC 3339 string such as 2026-03-02T14:00:00Z"
        )
    return value


Instant = Annotated[datetime, BeforeValidator(_text_only), AfterValidator(_aware)]


def _wall_clock(value: time) -> time:
    # Cut-offs are New York wall-clock times (domain.md §4.2); an offset would be ambiguous.
    if value.tzinfo is not None:
        raise PydanticCustomError(
            "invalid_time", "a New York wall-clock time without an offset, such as 19:45"
        )
    return value


#: Described by its shape: JSON Schema's ``format: time`` is RFC 3339's full-time, which has an
#: offset, so a client validating against that format would refuse every value the portal sends.
WallTime = Annotated[
    time,
    AfterValidator(_wall_clock),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$",
            "examples": ["19:45"],
        }
    ),
]
DurationText = Annotated[str, AfterValidator(_duration)]


class WorkspaceSettings(BaseModel):
    """Per-workspace policies (architecture.md §4 table). Unknown keys are refused."""

    model_config = ConfigDict(extra="forbid")

    cutoff_time: WallTime = Field(
        default=time(19, 45), description="Same-day cut-off, New York time"
    )
    pinless_debit_cutoff_time: WallTime = Field(default=time(15, 45))
    payments_per_resident_per_day: int = Field(default=1, ge=1, le=100)
    payment_limit: Amount = Field(default=1_000_000, description="Largest single payment")
    late_payment_grace_days: int = Field(
        default=5,
        ge=0,
        le=27,
        description="Days after the rent due day before landlords get a late-payment alert",
    )
    dispute_credit_banking_days: int = Field(
        default=3,
        ge=3,
        le=5,
        description="Banking days from a challenge to the dispute's decision (and a won "
        "dispute's credit): 3-5, as card networks take",
    )


class ClockIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: ClockMode = ClockMode.SIMULATED
    now: Instant | None = Field(
        default=None, description="Start instant; defaults to the current time, to the second"
    )


class LandlordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str | None = Field(
        default=None, min_length=3, max_length=200, pattern=r"^[^@\s]+@[^@\s]+$"
    )
    password: str | None = Field(default=None, min_length=8, max_length=200)
    name: str | None = Field(default=None, max_length=200)


class WorkspaceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(
        default=None,
        pattern=r"^ws_[a-z0-9_]{1,60}$",
        description="Choose the workspace ID (handy for fixtures); minted when absent",
    )
    name: str = Field(default="Sandbox", min_length=1, max_length=200)
    seed: StrictInt | None = Field(default=None, ge=0, le=2**62, description="ID seed")
    clock: ClockIn = Field(default_factory=ClockIn)
    settings: WorkspaceSettings = Field(default_factory=WorkspaceSettings)
    landlord: LandlordIn = Field(default_factory=LandlordIn)


class ClockRead(BaseModel):
    mode: ClockMode
    now: datetime
    timezone: str = "America/New_York"
    business_date: str = Field(description="Business date a payment made now would get")
    is_banking_day: bool = Field(description="Whether today (New York) is a banking day")


class LandlordLogin(BaseModel):
    email: str
    password: str


class WorkspaceRead(BaseModel):
    id: str
    name: str
    seed: int
    clock: ClockRead
    settings: WorkspaceSettings
    created_at: datetime


class WorkspaceCreated(WorkspaceRead):
    landlord: LandlordLogin


WorkspacePage = Page[WorkspaceRead]


class ClockAdvance(BaseModel):
    """Exactly one of ``to``, ``by`` or ``banking_days``."""

    model_config = ConfigDict(extra="forbid")

    to: Instant | None = None
    by: DurationText | None = Field(default=None, examples=["P1D", "PT2H"])
    banking_days: StrictInt | None = Field(default=None, ge=0, le=2600)

    @model_validator(mode="after")
    def _exactly_one(self) -> ClockAdvance:
        given = [n for n in ("to", "by", "banking_days") if getattr(self, n) is not None]
        if len(given) != 1:
            raise PydanticCustomError(
                "exactly_one_required",
                "give exactly one of 'to', 'by' or 'banking_days'",
            )
        return self


class JobRunRead(BaseModel):
    name: str
    source: str = Field(description="'calendar' (computed) or 'event' (scheduled)")
    due_at: datetime
    ran_at: datetime
    result: dict[str, Any]


class ClockAdvanced(BaseModel):
    now: datetime
    previous: datetime
    jobs: list[JobRunRead]
