"""Mailbox items as the operator reads them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from portal.notifications.models import Email, EmailKind


class EmailRead(BaseModel):
    id: str
    to: str
    subject: str
    kind: EmailKind
    body: str
    sent_at: datetime
    data: dict[str, Any]

    @classmethod
    def of(cls, email: Email) -> EmailRead:
        return cls(
            id=email.id,
            to=email.to,
            subject=email.subject,
            kind=email.kind,
            body=email.body,
            sent_at=email.sent_at,
            data=email.data,
        )


class MailboxPage(BaseModel):
    data: list[EmailRead]
    next_cursor: str | None


class EventRead(BaseModel):
    id: str
    kind: str
    at: datetime
    data: dict[str, Any]


class EventPage(BaseModel):
    data: list[EventRead]
    next_cursor: str | None
