"""Cursor pagination (architecture.md §5): ``?limit=`` (default 50, max 500) and ``?cursor=``.

Cursors are opaque to clients: URL-safe base64 of the sort key of the last item returned.
Keyset pagination never skips or repeats an item when rows are added between pages.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated

from fastapi import Query

from portal.errors import BadRequest

LimitQuery = Annotated[int, Query(ge=1, le=500, description="Items per page")]
CursorQuery = Annotated[str | None, Query(description="`next_cursor` of the previous page")]
DEFAULT_LIMIT = 50


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
