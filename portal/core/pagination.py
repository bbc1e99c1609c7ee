"""Cursor pagination (architecture.md §5): ``?limit=`` (default 50, max 500) and ``?cursor=``.

Cursors are opaque to clients: URL-safe base64 of the sort key of the last item returned.
Keyset pagination never skips or repeats an item when rows are added between pages.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field
from sqlalchemy import Select

from portal.core.errors import BadRequest

LimitQuery = Annotated[int, Query(ge=1, le=500, description="Items per page")]
CursorQuery = Annotated[str | None, Query(description="`next_cursor` of the previous page")]
DEFAULT_LIMIT = 50
T = TypeVar("T")
SelectT = TypeVar("SelectT", bound=Select[*tuple[Any, ...]])


def encode_cursor(key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str | None) -> str | None:
    """The last ID of the previous page; anything this server could not have issued is 400."""
    if cursor is None:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        key = None
    if not isinstance(key, str) or not key:
        raise BadRequest("The cursor is not one this server issued.", code="invalid_cursor")
    return key


def split_page(
    rows: Sequence[T], limit: int, key: Callable[[T], str]
) -> tuple[list[T], str | None]:
    """The page and the next cursor from ``limit + 1`` rows fetched in key order: the extra row
    only says that another page exists."""
    page = list(rows[:limit])
    return page, encode_cursor(key(page[-1])) if len(rows) > limit else None


#: Sequence numbers are per-workspace counters, and the mailbox's and event log's are 32-bit
#: columns on PostgreSQL: a larger number was never issued (and would not even bind).
MAX_SEQ = 2**31 - 1


def decode_seq_cursor(cursor: str | None) -> int | None:
    """A cursor over a sequence number (mailbox, events, the work-order and applicant feeds)."""
    key = decode_cursor(cursor)
    if key is None:
        return None
    # ASCII digits only (str.isdigit() also takes "²", which int() refuses), and few enough for
    # int() (it refuses more than 4,300).
    if not (key.isascii() and key.isdigit()) or len(key) > 10 or int(key) > MAX_SEQ:
        raise BadRequest("The cursor is not one this server issued.", code="invalid_cursor")
    return int(key)


class Page(BaseModel, Generic[T]):
    """Every list's page (issue 15: one generic schema, not a class per list)."""

    data: list[T]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` for the next page; null on the last page"
    )


def keyset(query: SelectT, key: Any, *, after: str | int | None, limit: int) -> SelectT:
    """Order ``query`` by ``key`` and take ``limit`` rows after the cursor's key (an ID, or a
    sequence number): the one keyset-pagination clause every cursor list shares."""
    if after is not None:
        query = query.where(key > after)
    return query.order_by(key).limit(limit)
