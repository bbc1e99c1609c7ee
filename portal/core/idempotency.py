"""``Idempotency-Key`` for POSTs that move money or import data (architecture.md §5).

- The first request with a key runs; its status and body are stored with the work it did, in
  the same transaction, and kept for 24 hours of *workspace* time.
- The same key with the same request replays that response with ``Idempotent-Replayed: true``.
- The same key with a different method, path or body is 422 ``idempotency_key_reused``.
- While the first request is still running the key answers 409 ``idempotency_key_in_flight``.
- A request that fails stores nothing (its work was rolled back), so the client may retry
  with the same key. (Stripe keeps 4xx results; we prefer a retry that can succeed once the
  world has changed — e.g. after the landlord approves the resident. Recorded in docs/decisions.md.)

Keys are scoped to the caller: the workspace and the principal (a landlord user, an
integration, the operator), so two clients can never collide.

Secrets shown once (passwords, tokens, invite codes) are never stored: the kept copy has them
replaced by ``"[redacted]"``, so a replay says what was created without repeating the secret
(architecture.md §11: only hashes of tokens are stored).
"""

import hashlib
import json
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime, time, timedelta
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request, Response
from pydantic import BaseModel
from sqlalchemy import Text, delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col

from portal.core import calendar, jobs
from portal.core.clock import as_aware
from portal.core.db import SessionDep, UTCDateTime
from portal.core.errors import Conflict, Unprocessable

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
IN_FLIGHT = "in_flight"
DONE = "done"


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_key"

    #: The workspace, or "" for operator calls outside any workspace. No foreign key: the
    #: global scope has no workspace row; wiping a workspace deletes its keys by this column.
    workspace_id: str = Field(primary_key=True, max_length=64)
    principal: str = Field(primary_key=True, max_length=100)
    key: str = Field(primary_key=True, max_length=255)
    fingerprint: str = Field(max_length=64)
    state: str = Field(max_length=16)
    status_code: int | None = None
    body: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)


class IdempotencyKeyReused(Unprocessable):
    code = "idempotency_key_reused"


class IdempotencyKeyInFlight(Conflict):
    code = "idempotency_key_in_flight"


class Replay(Exception):
    """Raised by the dependency to answer with a stored response; never reaches a client raw."""

    def __init__(self, response: Response) -> None:
        self.response = response


class Caller(Protocol):
    """What a principal dependency offers to scope idempotency keys."""

    @property
    def idempotency_scope(self) -> tuple[str, str]: ...

    @property
    def now(self) -> datetime: ...


class Idempotency:
    """The idempotency state of one request; ``respond`` stores and returns the response."""

    def __init__(self, session: Session, record: IdempotencyRecord | None) -> None:
        self.session = session
        self.record = record

    def respond(self, model: BaseModel, *, status_code: int = 200) -> Response:
        body = model.model_dump_json()
        if self.record is not None:
            self.record.state = DONE
            self.record.status_code = status_code
            self.record.body = json.dumps(
                redact(json.loads(body)), separators=(",", ":"), ensure_ascii=False
            )
            self.session.add(self.record)
        return Response(body, status_code=status_code, media_type="application/json")


#: ``invite_code``: no kept response carries one today (the code is only e-mailed); listed so a
#: response that ever does keeps no plaintext code (only digests are stored).
SECRET_FIELDS = frozenset({"password", "token", "tokens", "access_token", "invite_code"})
REDACTED = "[redacted]"


def redact(value: Any) -> Any:
    """A copy of a JSON value with every secret field's value (or values) redacted."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key in SECRET_FIELDS and isinstance(item, dict):
                out[key] = dict.fromkeys(item, REDACTED)
            elif key in SECRET_FIELDS and item is not None:
                out[key] = REDACTED
            else:
                out[key] = redact(item)
        return out
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


def fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    h = hashlib.sha256()
    for part in (method.encode(), path.encode(), query.encode(), body):
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


def begin(
    session: Session,
    *,
    scope: tuple[str, str],
    key: str,
    print_: str,
    now: datetime,
    hours: int,
) -> IdempotencyRecord:
    """Claim the key (committed at once, so other workers see it in flight) or raise."""
    for _attempt in range(3):
        try:
            return _claim(session, scope=scope, key=key, print_=print_, now=now, hours=hours)
        except IntegrityError:
            # Another request inserted the same key between our read and our commit (two
            # PostgreSQL transactions racing; SQLite's BEGIN IMMEDIATE serializes them). Read
            # it again: it is in flight, done (a replay) or gone (abandoned: claim it anew).
            session.rollback()
    raise IdempotencyKeyInFlight(
        f"A request with Idempotency-Key {key!r} is still being processed; retry shortly."
    )


def _claim(
    session: Session,
    *,
    scope: tuple[str, str],
    key: str,
    print_: str,
    now: datetime,
    hours: int,
) -> IdempotencyRecord:
    workspace_id, principal = scope
    record = session.get(IdempotencyRecord, (workspace_id, principal, key))
    if record is not None and as_aware(record.expires_at) <= now:
        session.delete(record)
        session.flush()
        record = None
    if record is not None:
        if record.fingerprint != print_:
            raise IdempotencyKeyReused(
                f"The Idempotency-Key {key!r} was used for a different request; "
                "use a new key for a new request."
            )
        if record.state == IN_FLIGHT:
            raise IdempotencyKeyInFlight(
                f"A request with Idempotency-Key {key!r} is still being processed; retry shortly."
            )
        response = Response(
            record.body or "",
            status_code=record.status_code or 200,
            media_type="application/json",
            headers={REPLAYED_HEADER: "true"},
        )
        raise Replay(response)
    record = IdempotencyRecord(
        workspace_id=workspace_id,
        principal=principal,
        key=key,
        fingerprint=print_,
        state=IN_FLIGHT,
        created_at=now,
        expires_at=now + timedelta(hours=hours),
    )
    session.add(record)
    session.commit()
    return record


def _abandon(session: Session, record: IdempotencyRecord) -> None:
    session.rollback()
    session.execute(
        delete(IdempotencyRecord).where(
            col(IdempotencyRecord.workspace_id) == record.workspace_id,
            col(IdempotencyRecord.principal) == record.principal,
            col(IdempotencyRecord.key) == record.key,
            col(IdempotencyRecord.state) == IN_FLIGHT,
        )
    )
    session.commit()


def purge_expired(session: Session, workspace_id: str, now: datetime) -> int:
    result = session.execute(
        delete(IdempotencyRecord).where(
            col(IdempotencyRecord.workspace_id) == workspace_id,
            col(IdempotencyRecord.expires_at) <= now,
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _next_midnight(_settings: Mapping[str, Any], at_or_after: datetime) -> datetime:
    day = calendar.local_date(at_or_after)
    midnight = calendar.at_local(day, time(0, 0))
    return (
        midnight
        if midnight >= at_or_after
        else calendar.at_local(day + timedelta(days=1), time(0, 0))
    )


def _purge_job(ctx: jobs.JobContext) -> jobs.JobResult:
    return {"purged": purge_expired(ctx.session, ctx.workspace_id, ctx.now)}


# Nightly (New York midnight) housekeeping: keys older than 24 h of workspace time are dropped.
# Listed in ``portal.sandbox.jobs.REGISTRY``.
PURGE_JOB = jobs.CalendarJob(
    name="idempotency_keys.purge",
    rank=jobs.RANK_HOUSEKEEPING,
    next_due=_next_midnight,
    run=_purge_job,
)


def idempotent(caller_dep: Callable[..., Any]) -> Any:
    """Build the ``Idempotency`` dependency for routes whose principal is ``caller_dep``."""

    async def dependency(
        request: Request,
        session: SessionDep,
        caller: Annotated[Caller, Depends(caller_dep)],
    ) -> AsyncIterator[Idempotency]:
        key = request.headers.get(HEADER)
        if key is None:
            yield Idempotency(session, None)
            return
        if not 1 <= len(key) <= 255:
            raise Unprocessable(
                "An Idempotency-Key is 1 to 255 characters.", code="invalid_idempotency_key"
            )
        body = await request.body()
        print_ = fingerprint(request.method, request.url.path, request.url.query, body)
        hours: int = request.app.state.settings.idempotency_hours
        record = begin(
            session,
            scope=caller.idempotency_scope,
            key=key,
            print_=print_,
            now=caller.now,
            hours=hours,
        )
        try:
            yield Idempotency(session, record)
            if record.state == IN_FLIGHT:  # the route answered without storing a response
                session.delete(record)
            # Commit here, not in the session dependency, so a failed commit frees the key.
            session.commit()
        except BaseException:
            _abandon(session, record)
            raise

    return Depends(dependency, scope="function")
