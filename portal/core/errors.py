"""The single error hierarchy and the RFC 9457 problem+json envelope (architecture.md §5).

    PortalError                 status, stable ``code``, title, detail, field errors
    ├── BadRequest              400
    ├── Unauthorized            401
    ├── PaymentRequired         402
    ├── Forbidden               403
    ├── NotFound                404
    ├── MethodNotAllowed        405
    ├── Conflict                409
    │   └── InvalidTransition   409 (state machines)
    ├── PayloadTooLarge         413
    ├── UnsupportedMediaType    415
    └── Unprocessable           422

Services raise these; one handler in ``portal.main`` renders them. Services never see HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from pydantic import BaseModel, Field

PROBLEM_JSON = "application/problem+json"


class FieldError:
    __slots__ = ("code", "field", "message", "row")

    def __init__(
        self, field: str, message: str, code: str | None = None, row: int | None = None
    ) -> None:
        self.field = field
        self.message = message
        self.code = code
        self.row = row

    def as_dict(self) -> dict[str, str | int]:
        out: dict[str, str | int] = {"field": self.field, "message": self.message}
        if self.code:
            out["code"] = self.code
        if self.row is not None:
            out["row"] = self.row
        return out


class PortalError(Exception):
    status_code: ClassVar[int] = 400
    code: str = "bad_request"
    title: ClassVar[str] = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        errors: Sequence[FieldError] = (),
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        self.errors = list(errors)
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})

    def problem(self) -> dict[str, Any]:
        return problem_body(
            status=self.status_code,
            title=self.title,
            code=self.code,
            detail=self.detail,
            errors=[e.as_dict() for e in self.errors],
            extra=self.extra,
        )


def problem_body(
    *,
    status: int,
    title: str,
    code: str,
    detail: str,
    errors: Sequence[Mapping[str, Any]] = (),
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        # A stable, dereferenceable-looking type per code; the code is the machine contract.
        "type": f"https://portal.local/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "errors": list(errors),
    }
    # Extra members never replace the standard ones: ``code`` is the contract.
    body.update({k: v for k, v in (extra or {}).items() if k not in body})
    return body


def json_path(loc: Sequence[Any]) -> str:
    """A pydantic error location as a JSON path into the body (``("body", "items", 0, "kind")``
    -> ``$.items[0].kind``); a parameter keeps its place (``("query", "limit")`` ->
    ``query.limit``)."""
    parts = list(loc)
    if parts and parts[0] in ("query", "path", "header", "cookie"):
        return ".".join(str(p) for p in parts)
    if parts and parts[0] == "body":
        parts = parts[1:]
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


class BadRequest(PortalError):
    status_code = 400
    code = "bad_request"
    title = "Bad request"


class Unauthorized(PortalError):
    status_code = 401
    code = "unauthorized"
    title = "Unauthorized"

    def __init__(self, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail, code=code, headers={"WWW-Authenticate": "Bearer"})


class PaymentRequired(PortalError):
    status_code = 402
    code = "payment_required"
    title = "Payment required"


class Forbidden(PortalError):
    status_code = 403
    code = "forbidden"
    title = "Forbidden"


class NotFound(PortalError):
    status_code = 404
    code = "not_found"
    title = "Not found"


class MethodNotAllowed(PortalError):
    status_code = 405
    code = "method_not_allowed"
    title = "Method not allowed"


class Conflict(PortalError):
    status_code = 409
    code = "conflict"
    title = "Conflict"


class InvalidTransition(Conflict):
    code = "invalid_transition"
    title = "Invalid status transition"

    def __init__(self, entity: str, current: str, target: str) -> None:
        super().__init__(
            f"A {entity} cannot go from {current!r} to {target!r}.",
            extra={"current_status": current, "target_status": target},
        )


class ConcurrentUpdate(Conflict):
    """A row changed between the check of its rule and the change (a compare-and-set lost):
    the request did nothing and may be retried (issue 14)."""

    code = "concurrent_update"
    title = "Concurrent update"


class PayloadTooLarge(PortalError):
    status_code = 413
    code = "payload_too_large"
    title = "Payload too large"


class UnsupportedMediaType(PortalError):
    """A body sent as something other than JSON (a form, multipart, text) to a route that
    takes JSON: answered as such rather than as a confusing 422 (issue 18)."""

    status_code = 415
    code = "unsupported_media_type"
    title = "Unsupported media type"


class Unprocessable(PortalError):
    status_code = 422
    code = "validation_failed"
    title = "Unprocessable request"


class FieldErrorModel(BaseModel):
    field: str
    message: str
    code: str | None = None


class Problem(BaseModel):
    """RFC 9457 problem details; ``code`` is the stable machine-readable reason."""

    type: str
    title: str
    status: int
    detail: str
    code: str = Field(
        description="The stable machine-readable reason; each operation lists the codes it "
        "can answer under each status."
    )
    errors: list[FieldErrorModel] = Field(default_factory=list)


_DESCRIPTIONS = {
    400: "Bad request (malformed JSON, bad cursor)",
    401: "Missing, invalid, expired or revoked credentials",
    402: "Payment declined",
    403: "Feature not enabled",
    404: "Not found in this workspace",
    405: "Method not allowed",
    409: "Conflict with the current state",
    413: "Body too large",
    415: "Body not sent as JSON",
    422: "Validation failed",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries documenting the problem+json errors a route can give."""
    return {
        status: {
            "model": Problem,
            "description": _DESCRIPTIONS[status],
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }
