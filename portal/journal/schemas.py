"""The journal on the wire: entries, the request pattern of a verification and its answer."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator
from pydantic_core import PydanticCustomError

from portal.core.pagination import Page
from portal.journal import service
from portal.journal.models import JournalBody
from portal.workspaces.schemas import Instant

PathPattern = str
STATUS_DESCRIPTION = "A status (`404`) or a class (`4xx`)"
PATH_DESCRIPTION = (
    "A glob over the path: `*` within one segment, `**` across segments, `?` one character "
    "(`/v1/integration/receipt-batches/*`)"
)
PRINCIPAL_DESCRIPTION = (
    "A principal (`integration:int_…`, `landlord:usr_…`, `resident:res_…`, `operator`, "
    "`anonymous`) or a kind (`integration`)"
)


class JournalBodyRead(BaseModel):
    content_type: str | None
    size: int = Field(description="Bytes the body had")
    body: str | None = Field(
        description="As stored: secrets redacted, cut at `PORTAL_JOURNAL_BODY_BYTES`"
    )
    truncated: bool

    @classmethod
    def of(cls, content_type: str | None, size: int, stored: JournalBody | None) -> JournalBodyRead:
        return cls(
            content_type=content_type,
            size=size,
            body=stored.content if stored is not None else None,
            truncated=stored.truncated if stored is not None else False,
        )


class JournalEntryRead(BaseModel):
    seq: int = Field(description="Order of the entry in this journal")
    at: datetime = Field(description="When the request arrived (the server's real time)")
    workspace_at: datetime | None = Field(description="The workspace clock then")
    principal: str = Field(description=PRINCIPAL_DESCRIPTION)
    method: str
    path: str
    query: str = Field(description="The query string, secret-looking parameters redacted")
    status: int
    code: str | None = Field(description="The problem `code` of an error answer")
    latency_ms: float
    idempotency_key: str | None
    cached: bool = Field(description="Answered by the read cache, without the route")
    request: JournalBodyRead
    response: JournalBodyRead

    @classmethod
    def of(cls, row: service.EntryRow) -> JournalEntryRead:
        e = row.entry
        return cls(
            seq=e.seq,
            at=e.at,
            workspace_at=e.workspace_at,
            principal=e.principal,
            method=e.method,
            path=e.path,
            query=e.query,
            status=e.status,
            code=e.code,
            latency_ms=round(e.latency_us / 1000, 3),
            idempotency_key=e.idempotency_key,
            cached=e.cached,
            request=JournalBodyRead.of(e.request_type, e.request_size, row.request),
            response=JournalBodyRead.of(e.response_type, e.response_size, row.response),
        )


JournalPage = Page[JournalEntryRead]


class RequestPattern(BaseModel):
    """Every criterion given must hold; none given matches every request."""

    model_config = ConfigDict(extra="forbid")

    method: str | None = Field(default=None, max_length=16, examples=["GET"])
    path: str | None = Field(
        default=None,
        max_length=2048,
        description=PATH_DESCRIPTION,
        examples=["/v1/integration/receipt-batches/*"],
    )
    status: str | None = Field(
        default=None, pattern=service.STATUS_PATTERN, description=STATUS_DESCRIPTION
    )
    principal: str | None = Field(default=None, max_length=120, description=PRINCIPAL_DESCRIPTION)
    code: str | None = Field(default=None, max_length=64, description="The problem `code`")
    idempotency_key: str | None = Field(default=None, max_length=255)
    query_contains: str | None = Field(default=None, max_length=2048)
    body_contains: str | None = Field(
        default=None, max_length=2048, description="Text of the (redacted) request body"
    )
    since: Instant | None = Field(default=None, description="Arrived at or after (real time)")
    until: Instant | None = Field(default=None, description="Arrived before (real time)")

    def criteria(self) -> service.Criteria:
        return service.Criteria(**self.model_dump())


class VerifyIn(BaseModel):
    """A request pattern and how often it should have occurred: ``exactly``, or ``at_least``
    and / or ``at_most``; none of them means at least once."""

    model_config = ConfigDict(extra="forbid")

    request: RequestPattern = Field(default_factory=RequestPattern)
    exactly: StrictInt | None = Field(default=None, ge=0)
    at_least: StrictInt | None = Field(default=None, ge=0)
    at_most: StrictInt | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _counts(self) -> VerifyIn:
        if self.exactly is not None and (self.at_least is not None or self.at_most is not None):
            raise PydanticCustomError(
                "exactly_one_required", "give 'exactly', or 'at_least' and/or 'at_most'"
            )
        if self.at_least is not None and self.at_most is not None and self.at_least > self.at_most:
            raise ValueError("'at_least' is more than 'at_most'")
        return self

    def expected(self) -> dict[str, int]:
        if self.exactly is not None:
            return {"exactly": self.exactly}
        if self.at_least is None and self.at_most is None:
            return {"at_least": 1}
        counts = {"at_least": self.at_least, "at_most": self.at_most}
        return {k: v for k, v in counts.items() if v is not None}

    def holds(self, count: int) -> bool:
        expected = self.expected()
        return (
            expected.get("exactly", count) == count
            and count >= expected.get("at_least", 0)
            and count <= expected.get("at_most", count)
        )


class NearMiss(BaseModel):
    missed: list[str] = Field(description="The criteria this request did not meet")
    entry: JournalEntryRead


class VerifyResult(BaseModel):
    matched: bool = Field(description="The count is what was expected")
    count: int = Field(description="Requests that meet every criterion")
    expected: dict[str, int]
    near_misses: list[NearMiss] = Field(
        description="When not matched: the closest other requests, fewest criteria missed first"
    )
    dropped: int = Field(
        description="Entries this server process could not journal (its buffer overflowed)"
    )
