"""Mailbox items as the operator reads them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from portal.core.pagination import Page
from portal.notifications.models import Email, EmailAttachment, EmailKind


class AttachmentRead(BaseModel):
    n: int = Field(description="1, 2, ...: GET .../mailbox/{email_id}/attachments/{n}")
    filename: str
    content_type: str
    size: int = Field(description="Characters")


class EmailRead(BaseModel):
    id: str
    to: str
    subject: str
    kind: EmailKind
    body: str
    sent_at: datetime
    data: dict[str, Any]
    attachments: list[AttachmentRead] = Field(default_factory=list)

    @classmethod
    def of(cls, email: Email, attachments: list[EmailAttachment] | None = None) -> EmailRead:
        return cls(
            id=email.id,
            to=email.to,
            subject=email.subject,
            kind=email.kind,
            body=email.body,
            sent_at=email.sent_at,
            data=email.data,
            attachments=[
                AttachmentRead(
                    n=a.n, filename=a.filename, content_type=a.content_type, size=len(a.content)
                )
                for a in attachments or []
            ],
        )


MailboxPage = Page[EmailRead]
