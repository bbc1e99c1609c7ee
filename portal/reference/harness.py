"""The harness every reference server shares (connectors.md §3.1): its clock, the fault
switches, the call journal and the admin routes for them, under ``/_ref/…``.

The harness knows nothing of a vendor's wire format. A server asks it, per call, whether it is
down (``FaultSwitches.down``), how long to wait (``latency``) and which fault, if any, this call
gets (``draw``), then applies that fault in its own protocol: a vendor error inside a 200
(``reject``), a SOAP Fault, an HTTP error, a commit followed by a hang past the client's
timeout (``timeout``), or a broken body (``malformed``). It records every call in the journal,
accepted or not.

Determinism: a count-based fault fires on the next ``count`` matching calls; a
probability-based one fires on the k-th matching call when ``draw(seed, k) < probability``,
a pure function of (seed, k) (SHA-256, not ``random``), so the same spec against the same
sequence of calls fires on the same calls every run. Time comes from the server's own clock,
which a test or scenario sets over the admin API to follow a workspace clock; by default it is
the system time.

The state is in memory and the server runs on one event loop: handlers are ``async`` and do not
await between reading and changing state, so each call is applied atomically.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from portal.core.clock import FixedClock, SystemClock, to_utc
from portal.core.errors import PROBLEM_JSON, json_path, problem_body

#: Where every admin route lives; the vendor never had it.
ADMIN_PREFIX = "/_ref"
#: Matches every operation of the server.
ANY_OPERATION = "*"
#: How long a ``timeout`` fault hangs when its spec gives no ``seconds`` (past any sane client
#: timeout; tests give a short one).
DEFAULT_HANG_SECONDS = 30.0
#: The journal keeps this many calls (the oldest go first); read-back pages by ``since``.
JOURNAL_LIMIT = 100_000
#: A stored response is cut to this many characters.
RESPONSE_KEPT = 100_000


def draw(seed: int, n: int) -> float:
    """The ``n``-th number in [0, 1) of the stream ``seed``: a pure function, so a
    probability-based fault is reproducible (§3.1 "deterministic by … seeded probability")."""
    digest = hashlib.sha256(f"reference-fault/{seed}/{n}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


class FaultKind(StrEnum):
    REJECT = "reject"
    """A vendor-level error inside a 200 (AMSI: ``ErrorCode`` ≠ 0 in the operation's shape)."""
    HTTP_ERROR = "http_error"
    """An HTTP error status with a plain body."""
    SOAP_FAULT = "soap_fault"
    """A SOAP Fault (HTTP 500); SOAP servers only."""
    TIMEOUT = "timeout"
    """Commit, then hang past the client's timeout before answering (RT's duplicate-on-retry)."""
    MALFORMED = "malformed"
    """A broken answer: the body cut in half, or (AMSI) a double-escaped result string."""
    LATENCY = "latency"
    """Every matching call waits ``ms`` (+ a seeded share of ``jitter_ms``) first."""
    DOWNTIME = "downtime"
    """Between ``from`` and ``to`` on the server clock every vendor path answers 503."""
    SLOW_PAGE = "slow_page"
    """A paged read waits ``ms`` before serving page ``page`` (1-based; every page after the
    first when not given): §3.1 ``slow_page(n)``. Servers without paged reads never ask."""


#: Kinds that decide a call's answer; at most one fires per call (the oldest switch first).
VERDICT_KINDS = frozenset(
    {
        FaultKind.REJECT,
        FaultKind.HTTP_ERROR,
        FaultKind.SOAP_FAULT,
        FaultKind.TIMEOUT,
        FaultKind.MALFORMED,
    }
)
#: Whether the server applies the call's effects before answering with the fault, unless the
#: spec says otherwise: a timeout or a broken body follows the work (the vendor did post),
#: an error answer means nothing was done.
COMMITS_BY_DEFAULT = frozenset({FaultKind.TIMEOUT, FaultKind.MALFORMED})


def _kind(value: Any) -> Any:
    # connectors.md §3.1 names the switches reject_next, timeout_next, …: take those too.
    if isinstance(value, str) and value.endswith("_next"):
        return value.removesuffix("_next")
    return value


class FaultSpec(BaseModel):
    """One fault switch, as the admin API takes it (``POST /_ref/faults``)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    kind: Annotated[FaultKind, BeforeValidator(_kind)]
    operation: str = ANY_OPERATION
    count: int | None = Field(default=None, ge=1, le=1_000_000)
    probability: float | None = Field(default=None, gt=0, le=1)
    seed: int = 0
    commit: bool | None = None
    code: int | None = Field(default=None, ge=1, description="reject: the vendor error code")
    message: str | None = Field(default=None, max_length=500)
    status: int = Field(default=500, ge=400, le=599, description="http_error: the status")
    seconds: float | None = Field(default=None, ge=0, le=3600, description="timeout: hang")
    form: Literal["truncated", "double_escaped"] = "truncated"
    ms: int = Field(default=0, ge=0, le=600_000, description="latency")
    jitter_ms: int = Field(default=0, ge=0, le=600_000, description="latency")
    page: int | None = Field(default=None, ge=1, description="slow_page: the page, 1-based")
    start: datetime | None = Field(default=None, alias="from", description="downtime")
    end: datetime | None = Field(default=None, alias="to", description="downtime")

    @model_validator(mode="after")
    def _consistent(self) -> FaultSpec:
        if self.count is not None and self.probability is not None:
            raise ValueError("give count or probability, not both")
        if self.kind is FaultKind.DOWNTIME and (self.count or self.probability):
            raise ValueError("downtime is a window (from, to), not a count")
        if self.kind in VERDICT_KINDS and self.count is None and self.probability is None:
            self.count = 1
        for name in ("start", "end"):
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, to_utc(value))
        if self.start and self.end and self.end <= self.start:
            raise ValueError("downtime: 'to' must be after 'from'")
        return self


@dataclass
class Fault:
    id: int
    spec: FaultSpec
    remaining: int | None
    calls_seen: int = 0
    fired: int = 0

    @property
    def commits(self) -> bool:
        if self.spec.commit is not None:
            return self.spec.commit
        return self.spec.kind in COMMITS_BY_DEFAULT

    def matches(self, operation: str) -> bool:
        return self.spec.operation in (ANY_OPERATION, operation)

    def _fires(self) -> bool:
        """Consumes one matching call: True when the fault applies to it."""
        n = self.calls_seen
        self.calls_seen += 1
        if self.spec.probability is not None:
            fires = draw(self.spec.seed, n) < self.spec.probability
        else:
            fires = self.remaining is None or self.remaining > 0
        if fires:
            self.fired += 1
            if self.remaining is not None:
                self.remaining -= 1
        return fires

    @property
    def spent(self) -> bool:
        return self.remaining == 0

    def read(self) -> dict[str, Any]:
        return {
            "id": self.id,
            **self.spec.model_dump(mode="json", by_alias=True, exclude_none=True),
            "commit": self.commits,
            "remaining": self.remaining,
            "fired": self.fired,
            "calls_seen": self.calls_seen,
        }


class FaultSwitches:
    """The active fault switches of one server, in the order they were set."""

    def __init__(self, operations: Iterable[str]) -> None:
        self.operations = frozenset(operations)
        self._faults: dict[int, Fault] = {}
        self._next_id = 1

    def add(self, spec: FaultSpec) -> Fault:
        if spec.operation != ANY_OPERATION and spec.operation not in self.operations:
            known = ", ".join(sorted(self.operations))
            raise ValueError(f"unknown operation {spec.operation!r}; one of {known} or '*'")
        fault = Fault(id=self._next_id, spec=spec, remaining=spec.count)
        self._faults[fault.id] = fault
        self._next_id += 1
        return fault

    def remove(self, fault_id: int) -> bool:
        return self._faults.pop(fault_id, None) is not None

    def clear(self) -> None:
        self._faults.clear()

    def active(self) -> list[Fault]:
        return list(self._faults.values())

    def down(self, now: datetime) -> Fault | None:
        """The downtime window the server is in at ``now``, if any."""
        for fault in self._faults.values():
            spec = fault.spec
            started = spec.start is None or spec.start <= now
            if spec.kind is FaultKind.DOWNTIME and started and (spec.end is None or now < spec.end):
                fault.fired += 1
                return fault
        return None

    def latency(self, operation: str) -> float:
        """Seconds this call waits before it is handled (the sum of the matching switches)."""
        seconds = 0.0
        for fault in list(self._faults.values()):
            spec = fault.spec
            if spec.kind is FaultKind.LATENCY and fault.matches(operation) and fault._fires():
                jitter = draw(spec.seed, fault.calls_seen - 1) * spec.jitter_ms
                seconds += (spec.ms + jitter) / 1000
                self._drop_if_spent(fault)
        return seconds

    def page_delay(self, operation: str, page: int) -> float:
        """Seconds a paged read waits before serving ``page`` (1-based): the sum of the
        matching ``slow_page`` switches. Only a call serving a matching page consumes a count."""
        seconds = 0.0
        for fault in list(self._faults.values()):
            spec = fault.spec
            if spec.kind is not FaultKind.SLOW_PAGE or not fault.matches(operation):
                continue
            wanted = page == spec.page if spec.page is not None else page >= 2
            if not wanted:
                continue
            if fault._fires():
                seconds += spec.ms / 1000
                self._drop_if_spent(fault)
        return seconds

    def draw(self, operation: str) -> Fault | None:
        """The fault this call gets: the oldest verdict switch that matches and fires. A
        count-based switch is removed once spent; later switches are not consumed."""
        for fault in list(self._faults.values()):
            if fault.spec.kind in VERDICT_KINDS and fault.matches(operation) and fault._fires():
                self._drop_if_spent(fault)
                return fault
        return None

    def _drop_if_spent(self, fault: Fault) -> None:
        if fault.spent:
            self._faults.pop(fault.id, None)

    # The switches by the names connectors.md §3.1 gives them.

    def reject_next(
        self,
        n: int = 1,
        *,
        operation: str = ANY_OPERATION,
        code: int | None = None,
        message: str | None = None,
    ) -> Fault:
        return self.add(
            FaultSpec(
                kind=FaultKind.REJECT, operation=operation, count=n, code=code, message=message
            )
        )

    def http_error_next(
        self, n: int = 1, status: int = 500, *, operation: str = ANY_OPERATION
    ) -> Fault:
        return self.add(
            FaultSpec(kind=FaultKind.HTTP_ERROR, operation=operation, count=n, status=status)
        )

    def soap_fault_next(self, n: int = 1, *, operation: str = ANY_OPERATION) -> Fault:
        return self.add(FaultSpec(kind=FaultKind.SOAP_FAULT, operation=operation, count=n))

    def timeout_next(
        self, n: int = 1, *, operation: str = ANY_OPERATION, seconds: float | None = None
    ) -> Fault:
        return self.add(
            FaultSpec(kind=FaultKind.TIMEOUT, operation=operation, count=n, seconds=seconds)
        )

    def malformed_next(
        self,
        n: int = 1,
        *,
        operation: str = ANY_OPERATION,
        form: Literal["truncated", "double_escaped"] = "truncated",
    ) -> Fault:
        return self.add(
            FaultSpec(kind=FaultKind.MALFORMED, operation=operation, count=n, form=form)
        )

    def set_latency(
        self, ms: int, jitter_ms: int = 0, *, operation: str = ANY_OPERATION, seed: int = 0
    ) -> Fault:
        return self.add(
            FaultSpec(
                kind=FaultKind.LATENCY, operation=operation, ms=ms, jitter_ms=jitter_ms, seed=seed
            )
        )

    def slow_page(
        self, page: int | None = None, ms: int = 0, *, operation: str = ANY_OPERATION
    ) -> Fault:
        return self.add(FaultSpec(kind=FaultKind.SLOW_PAGE, operation=operation, page=page, ms=ms))

    def downtime(self, start: datetime | None, end: datetime | None) -> Fault:
        return self.add(FaultSpec.model_validate({"kind": "downtime", "from": start, "to": end}))


@dataclass
class CallRecord:
    """One call the server received, whatever became of it."""

    seq: int
    at: datetime
    service: str
    operation: str | None
    protocol: str | None
    payload: dict[str, Any]
    verdict: str
    """``accepted``, ``validated`` (nothing committed: a dry run), ``rejected`` (a vendor
    error inside a 200), ``fault`` (SOAP Fault), ``http_error``, ``down``."""
    http_status: int
    error_codes: list[int] = field(default_factory=list)
    fault: dict[str, Any] | None = None
    committed: bool = False
    notes: list[str] = field(default_factory=list)
    result: str | None = None
    response: str = ""

    def read(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at.isoformat().replace("+00:00", "Z"),
            "service": self.service,
            "operation": self.operation,
            "protocol": self.protocol,
            "payload": self.payload,
            "verdict": self.verdict,
            "error_codes": self.error_codes,
            "committed": self.committed,
            "fault": self.fault,
            "notes": self.notes,
            "http_status": self.http_status,
            "result": self.result,
            "response": self.response,
        }


class CallJournal:
    def __init__(self) -> None:
        self._calls: list[CallRecord] = []
        self._seq = 0

    def record(self, **fields: Any) -> CallRecord:
        self._seq += 1
        response = fields.pop("response", "")
        call = CallRecord(seq=self._seq, response=response[:RESPONSE_KEPT], **fields)
        self._calls.append(call)
        if len(self._calls) > JOURNAL_LIMIT:
            del self._calls[: len(self._calls) - JOURNAL_LIMIT]
        return call

    def select(self, *, operation: str | None = None, since: int = 0) -> list[CallRecord]:
        return [
            c
            for c in self._calls
            if c.seq > since and (operation is None or c.operation == operation)
        ]

    def clear(self) -> None:
        self._calls.clear()


class RefClock:
    """The server's clock: the system time, or an instant the tester sets and advances
    (to follow a workspace's simulated clock, §3.1 "Clock")."""

    def __init__(self) -> None:
        self._fixed: FixedClock | None = None
        self._system = SystemClock()

    @property
    def mode(self) -> str:
        return "system" if self._fixed is None else "fixed"

    def now(self) -> datetime:
        return self._system.now() if self._fixed is None else self._fixed.now()

    def set(self, instant: datetime) -> None:
        self._fixed = FixedClock(instant)

    def advance(self, delta: timedelta) -> None:
        if self._fixed is None:
            self._fixed = FixedClock(self._system.now())
        self._fixed.advance(delta)

    def use_system(self) -> None:
        self._fixed = None


class Harness:
    def __init__(self, operations: Iterable[str]) -> None:
        self.clock = RefClock()
        self.faults = FaultSwitches(operations)
        self.calls = CallJournal()

    def reset(self) -> None:
        self.faults.clear()
        self.calls.clear()


class AdminError(Exception):
    """An admin-API error, rendered as problem+json like the portal's (architecture.md §5)."""

    def __init__(self, *, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail


_TITLES = {
    400: "Bad request",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Unprocessable entity",
}


def problem_response(
    status: int, code: str, detail: str, errors: list[dict[str, Any]] | None = None
) -> JSONResponse:
    return JSONResponse(
        problem_body(
            status=status,
            title=_TITLES.get(status, "Error"),
            code=code,
            detail=detail,
            errors=errors or [],
        ),
        status_code=status,
        media_type=PROBLEM_JSON,
    )


def harness_of(request: Request) -> Harness:
    harness: Harness = request.app.state.harness
    return harness


class ClockSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    now: datetime | None = None
    advance_seconds: float | None = Field(default=None, ge=0)
    system: bool = False

    @model_validator(mode="after")
    def _one(self) -> ClockSet:
        given = [self.now is not None, self.advance_seconds is not None, self.system]
        if sum(given) != 1:
            raise ValueError("give exactly one of now, advance_seconds, system")
        if self.now is not None:
            self.now = to_utc(self.now)
        return self


def _clock_read(harness: Harness) -> dict[str, Any]:
    return {
        "now": harness.clock.now().isoformat().replace("+00:00", "Z"),
        "mode": harness.clock.mode,
    }


def admin_router() -> APIRouter:
    """The admin routes every reference server has: health, clock, calls and faults."""
    router = APIRouter(prefix=ADMIN_PREFIX, tags=["harness"])

    @router.get("/health")
    async def health() -> dict[str, str]:
        """The server is up."""
        return {"status": "ok"}

    @router.get("/clock")
    async def get_clock(request: Request) -> dict[str, Any]:
        """The server's clock."""
        return _clock_read(harness_of(request))

    @router.put("/clock")
    async def set_clock(request: Request, body: ClockSet) -> dict[str, Any]:
        """Set the clock to an instant, advance it, or make it follow the system time."""
        clock = harness_of(request).clock
        if body.now is not None:
            clock.set(body.now)
        elif body.advance_seconds is not None:
            clock.advance(timedelta(seconds=body.advance_seconds))
        else:
            clock.use_system()
        return _clock_read(harness_of(request))

    @router.get("/calls")
    async def list_calls(
        request: Request,
        operation: Annotated[str | None, Query()] = None,
        since: Annotated[int, Query(ge=0)] = 0,
    ) -> dict[str, Any]:
        """Every call received after ``since`` (a ``seq``), oldest first."""
        calls = harness_of(request).calls.select(operation=operation, since=since)
        return {"data": [c.read() for c in calls]}

    @router.delete("/calls", status_code=204)
    async def clear_calls(request: Request) -> Response:
        """Forget the calls received so far."""
        harness_of(request).calls.clear()
        return Response(status_code=204)

    @router.get("/faults")
    async def list_faults(request: Request) -> dict[str, Any]:
        """The active fault switches (a count-based one goes once spent)."""
        return {"data": [f.read() for f in harness_of(request).faults.active()]}

    @router.post("/faults", status_code=201)
    async def add_fault(request: Request, body: FaultSpec) -> dict[str, Any]:
        """Set a fault switch (connectors.md §3.1)."""
        try:
            fault = harness_of(request).faults.add(body)
        except ValueError as exc:
            raise AdminError(status=422, code="validation_failed", detail=str(exc)) from None
        return fault.read()

    @router.delete("/faults/{fault_id}", status_code=204)
    async def remove_fault(request: Request, fault_id: int) -> Response:
        """Remove one fault switch."""
        if not harness_of(request).faults.remove(fault_id):
            raise AdminError(status=404, code="not_found", detail=f"no fault switch {fault_id}")
        return Response(status_code=204)

    @router.delete("/faults", status_code=204)
    async def clear_faults(request: Request) -> Response:
        """Remove every fault switch."""
        harness_of(request).faults.clear()
        return Response(status_code=204)

    return router


# --- the admin API's error answers (both servers) -----------------------------------------------


def install_error_handlers(app: FastAPI) -> None:
    """problem+json for the admin API's refusals, schema errors and unknown routes."""
    app.add_exception_handler(AdminError, _admin_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)


async def _admin_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AdminError)
    return problem_response(exc.status, exc.code, exc.detail)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": json_path(e["loc"]), "message": e["msg"], "code": "invalid"} for e in exc.errors()
    ]
    return problem_response(422, "validation_failed", "the request breaks the schema", errors)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "bad_request")
    return problem_response(exc.status_code, code, str(exc.detail))
