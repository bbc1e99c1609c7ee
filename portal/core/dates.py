"""A calendar date on the wire: ``YYYY-MM-DD`` and nothing else.

Pydantic's lax ``date`` also reads a number, or a numeric string such as ``0.0``, as a Unix
timestamp (``1970-01-01``): a query parameter typed so would accept ``?from=0.0`` (found by the
schemathesis run, issue 18). Query and body dates use ``IsoDate`` instead.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _iso_date(value: object) -> object:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value):
        return value
    raise PydanticCustomError("invalid_date", "a date must be YYYY-MM-DD, such as 2026-07-01")


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
