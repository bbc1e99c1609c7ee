"""Sending (recording) e-mails and reading the mailbox."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from portal.core.db import bulk_insert
from portal.core.ids import IdMinter, reserve
from portal.core.pagination import keyset
from portal.notifications.models import Email, EmailAttachment, EmailKind


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    kind: EmailKind
    body: str = ""
    data: dict[str, Any] | None = None
    attachments: Sequence[Attachment] = ()


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: str


def send(session: Session, ids: IdMinter, message: Message, *, now: datetime) -> None:
    send_many(session, ids, [message], now=now)


def send_many(
    session: Session, ids: IdMinter, messages: Sequence[Message], *, now: datetime
) -> int:
    """Record e-mails in one statement (reminders and intake invitations go out by the
    thousand); returns how many."""
    if not messages:
        return 0
    first = reserve(session, ids.scope, "email_seq", len(messages))
    email_ids = ids.many("email", len(messages), "msg")
    rows: list[dict[str, Any]] = [
        {
            "workspace_id": ids.scope,
            "id": email_id,
            "seq": first + n,
            "to": m.to.strip().lower(),
            "subject": m.subject,
            "kind": m.kind,
            "body": m.body,
            "data": m.data or {},
            "sent_at": now,
        }
        for n, (email_id, m) in enumerate(zip(email_ids, messages, strict=True))
    ]
    bulk_insert(session, Email, rows)
    bulk_insert(
        session,
        EmailAttachment,
        [
            {
                "workspace_id": ids.scope,
                "email_id": email_id,
                "n": n,
                "filename": a.filename,
                "content_type": a.content_type,
                "content": a.content,
            }
            for email_id, m in zip(email_ids, messages, strict=True)
            for n, a in enumerate(m.attachments, start=1)
        ],
    )
    return len(rows)


def attachments_of(
    session: Session, workspace_id: str, email_ids: Sequence[str]
) -> dict[str, list[EmailAttachment]]:
    if not email_ids:
        return {}
    out: dict[str, list[EmailAttachment]] = {}
    for a in session.scalars(
        select(EmailAttachment)
        .where(
            col(EmailAttachment.workspace_id) == workspace_id,
            col(EmailAttachment.email_id).in_(list(email_ids)),
        )
        .order_by(col(EmailAttachment.email_id), col(EmailAttachment.n))
    ):
        out.setdefault(a.email_id, []).append(a)
    return out


def attachment(
    session: Session, workspace_id: str, email_id: str, n: int
) -> EmailAttachment | None:
    return session.get(EmailAttachment, (workspace_id, email_id, n))


def mailbox(
    session: Session,
    workspace_id: str,
    *,
    to: str | None,
    kind: EmailKind | None,
    after_seq: int | None,
    limit: int,
) -> list[Email]:
    query = select(Email).where(col(Email.workspace_id) == workspace_id)
    if to is not None:
        query = query.where(col(Email.to) == to.strip().lower())
    if kind is not None:
        query = query.where(col(Email.kind) == kind)
    return list(session.scalars(keyset(query, col(Email.seq), after=after_seq, limit=limit)))
