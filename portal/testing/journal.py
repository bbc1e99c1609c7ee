"""A workspace's request journal, from a test: what the client sent and what it got, and a
``verify`` whose failure lists the near misses (WireMock's verify, for the portal)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from portal.testing._http import expect

if TYPE_CHECKING:
    from portal.testing.workspace import PortalWorkspace

#: The journal's largest page.
_PAGE = 500


@dataclass(frozen=True)
class JournalEntry:
    """One journalled request: ``principal`` is ``integration:int_…``, ``landlord:usr_…``,
    ``resident:res_…``, ``operator`` or ``anonymous``; ``code`` the problem code of an error;
    bodies as stored (secrets redacted, cut at the server's size setting)."""

    seq: int
    at: datetime
    workspace_at: datetime | None
    principal: str
    method: str
    path: str
    query: str
    status: int
    code: str | None
    latency_ms: float
    idempotency_key: str | None
    cached: bool
    request_body: str | None
    response_body: str | None
    data: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, item: dict[str, Any]) -> JournalEntry:
        def instant(value: str | None) -> datetime | None:
            return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))

        return cls(
            seq=item["seq"],
            at=instant(item["at"]),  # type: ignore[arg-type]
            workspace_at=instant(item.get("workspace_at")),
            principal=item["principal"],
            method=item["method"],
            path=item["path"],
            query=item.get("query") or "",
            status=item["status"],
            code=item.get("code"),
            latency_ms=item["latency_ms"],
            idempotency_key=item.get("idempotency_key"),
            cached=item.get("cached", False),
            request_body=(item.get("request") or {}).get("body"),
            response_body=(item.get("response") or {}).get("body"),
            data=item,
        )

    def line(self) -> str:
        """One line for a listing: order, method, path, status and code, principal."""
        target = self.path + (f"?{self.query}" if self.query else "")
        code = f" {self.code}" if self.code else ""
        return f"#{self.seq:<5} {self.method:<6} {target}  {self.status}{code}  {self.principal}"


class PortalJournal:
    """The requests journalled in one workspace (``GET /v1/sandbox/workspaces/{ws}/journal``),
    oldest first. Read afresh on every call; the server writes its own buffer first, so the
    requests of the responses a test has received are there."""

    def __init__(self, workspace: PortalWorkspace) -> None:
        self._workspace = workspace

    def entries(
        self,
        *,
        path: str | None = None,
        method: str | None = None,
        status: int | str | None = None,
        principal: str | None = None,
        code: str | None = None,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
    ) -> list[JournalEntry]:
        """Every entry matching the filters given: ``path`` a glob (``*`` within a segment,
        ``**`` across), ``status`` ``404`` or ``"4xx"``, ``principal`` a principal or a kind."""
        ws = self._workspace
        filters = _query(
            path=path,
            method=method,
            status=status,
            principal=principal,
            code=code,
            since=since,
            until=until,
        )
        found: list[JournalEntry] = []
        cursor: str | None = None
        while True:
            params = {**filters, "limit": str(_PAGE), **({"cursor": cursor} if cursor else {})}
            page = expect(
                ws.operator.get(f"{ws.path}/journal", params=params), "reading the journal"
            )
            found += [JournalEntry.of(item) for item in page["data"]]
            cursor = page["next_cursor"]
            if cursor is None:
                return found

    def __len__(self) -> int:
        return len(self.entries())

    def verify(
        self,
        *,
        exactly: int | None = None,
        at_least: int | None = None,
        at_most: int | None = None,
        **request: Any,
    ) -> int:
        """The number of requests matching ``request`` (``method``, ``path``, ``status``,
        ``principal``, ``code``, ``idempotency_key``, ``query_contains``, ``body_contains``,
        ``since``, ``until``); fails listing the near misses unless it is ``exactly`` /
        ``at_least`` / ``at_most`` (none given: at least once)."""
        __tracebackhide__ = True  # pytest shows the test's line, not this helper's
        ws = self._workspace
        counts = {"exactly": exactly, "at_least": at_least, "at_most": at_most}
        pattern = _pattern(request)
        body: dict[str, Any] = {"request": pattern}
        body.update({k: v for k, v in counts.items() if v is not None})
        result = expect(
            ws.operator.post(f"{ws.path}/journal/verify", json=body), "verifying the journal"
        )
        if result["matched"]:
            count: int = result["count"]
            return count
        wanted = ", ".join(f"{k}={v!r}" for k, v in pattern.items()) or "any request"
        expected = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in result["expected"].items())
        misses = [
            f"  {JournalEntry.of(m['entry']).line()}   missed: {', '.join(m['missed'])}"
            for m in result["near_misses"]
        ]
        dropped = (
            f"\n({result['dropped']} entries were dropped by the server)"
            if result["dropped"]
            else ""
        )
        raise AssertionError(
            f"expected {expected} request(s) with {wanted} in workspace {ws.id}, "
            f"found {result['count']}; near misses:\n" + ("\n".join(misses) or "  (none)") + dropped
        )

    def reset(self) -> None:
        """Forget every journalled request of the workspace (``DELETE .../journal``)."""
        ws = self._workspace
        expect(ws.operator.delete(f"{ws.path}/journal"), "resetting the journal", 204)


def _text(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _query(**filters: Any) -> dict[str, str]:
    return {k: str(_text(v)) for k, v in filters.items() if v is not None}


def _pattern(request: dict[str, Any]) -> dict[str, Any]:
    return {k: str(v) if k == "status" else _text(v) for k, v in request.items() if v is not None}
