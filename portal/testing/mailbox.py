"""A workspace's mailbox, from a test: every e-mail the portal would have sent, and an
``assert_sent`` whose failure lists what was sent instead."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from portal.testing._http import PortalRequestError, expect

if TYPE_CHECKING:
    from portal.testing.workspace import PortalWorkspace

#: The mailbox's largest page.
_PAGE = 500


@dataclass(frozen=True)
class Email:
    """One e-mail: ``kind`` is the stable name (``invitation``, ``batch_deposit_report``...);
    ``data`` holds what a test needs (``invite_code``, ``lease_id``, ``deposit_date``...);
    ``attachments`` lists ``{"n", "filename", "content_type", "size"}``."""

    id: str
    to: str
    subject: str
    kind: str
    body: str
    sent_at: datetime
    data: dict[str, Any] = field(default_factory=dict)
    attachments: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def of(cls, item: dict[str, Any]) -> Email:
        return cls(
            id=item["id"],
            to=item["to"],
            subject=item["subject"],
            kind=item["kind"],
            body=item["body"],
            sent_at=datetime.fromisoformat(item["sent_at"].replace("Z", "+00:00")),
            data=item.get("data") or {},
            attachments=list(item.get("attachments") or []),
        )

    def line(self) -> str:
        """One line for a listing: when, kind, recipient, subject."""
        return f"{self.sent_at:%Y-%m-%d %H:%M}Z  {self.kind:<22} {self.to:<32} {self.subject!r}"


class PortalMailbox:
    """The e-mails of one workspace (``GET /v1/sandbox/workspaces/{ws}/mailbox``), oldest
    first. Read afresh on every call."""

    def __init__(self, workspace: PortalWorkspace) -> None:
        self._workspace = workspace

    def emails(self, *, to: str | None = None, kind: str | None = None) -> list[Email]:
        """Every e-mail sent so far, oldest first; only those to ``to`` / of ``kind`` if given."""
        ws = self._workspace
        found: list[Email] = []
        cursor: str | None = None
        while True:
            params = {"limit": str(_PAGE), **({"cursor": cursor} if cursor else {})}
            page = expect(
                ws.operator.get(f"{ws.path}/mailbox", params=params), "reading the mailbox"
            )
            found += [Email.of(item) for item in page["data"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        return [e for e in found if _matches(e, to=to, kind=kind)]

    def __len__(self) -> int:
        return len(self.emails())

    def assert_sent(
        self,
        *,
        to: str | None = None,
        kind: str | None = None,
        subject_contains: str | None = None,
        body_contains: str | None = None,
    ) -> Email:
        """The newest e-mail that matches every criterion given; fails listing every e-mail
        sent when none does. ``to`` compares without case."""
        __tracebackhide__ = True  # pytest shows the test's line, not this helper's
        sent = self.emails()
        criteria = {
            "to": to,
            "kind": kind,
            "subject_contains": subject_contains,
            "body_contains": body_contains,
        }
        matching = [e for e in sent if _matches(e, **criteria)]
        if matching:
            return matching[-1]
        wanted = ", ".join(f"{k}={v!r}" for k, v in criteria.items() if v is not None)
        listing = "\n".join(f"  {e.line()}" for e in sent) or "  (none)"
        raise AssertionError(
            f"no e-mail with {wanted or 'anything'} in workspace {self._workspace.id}; "
            f"{len(sent)} sent:\n{listing}"
        )

    def assert_not_sent(
        self,
        *,
        to: str | None = None,
        kind: str | None = None,
        subject_contains: str | None = None,
    ) -> None:
        """Fails, listing them, if any e-mail matches every criterion given."""
        __tracebackhide__ = True
        matching = [
            e
            for e in self.emails()
            if _matches(e, to=to, kind=kind, subject_contains=subject_contains)
        ]
        if matching:
            listing = "\n".join(f"  {e.line()}" for e in matching)
            raise AssertionError(f"{len(matching)} e-mail(s) sent that should not be:\n{listing}")

    def attachment(self, email: Email, n: int = 1) -> bytes:
        """The ``n``-th file (from 1) an e-mail carried, e.g. a lockbox file."""
        ws = self._workspace
        response = ws.operator.get(f"{ws.path}/mailbox/{email.id}/attachments/{n}")
        if not response.is_success:
            raise PortalRequestError(response, "reading an attachment")
        return response.content


def _matches(
    email: Email,
    *,
    to: str | None = None,
    kind: str | None = None,
    subject_contains: str | None = None,
    body_contains: str | None = None,
) -> bool:
    return (
        (to is None or email.to.lower() == to.lower())
        and (kind is None or email.kind == kind)
        and (subject_contains is None or subject_contains in email.subject)
        and (body_contains is None or body_contains in email.body)
    )
