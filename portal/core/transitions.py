"""State machines as transition tables (style.md B7), applied the same way row by row and
set-wise (issue 15: every status change — ORM or bulk UPDATE — goes through its feature's
table).

A table maps each status to the statuses it may move to. A row-wise change calls ``require``
before it assigns; a bulk UPDATE puts ``moving(column, table, frm, to)`` in its WHERE clause:
the statement's own rule (which statuses it moves) is checked against the table, and a row
in any other status is simply not changed (a compare-and-set: two concurrent runs never both
move one row).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import ColumnElement

from portal.core.errors import InvalidTransition

S = TypeVar("S", bound=StrEnum)
Table = Mapping[S, frozenset[S]]


def sources(table: Mapping[S, frozenset[S]], to: S) -> list[S]:
    """Every status ``to`` may be reached from, in a stable order."""
    return sorted((s for s, targets in table.items() if to in targets), key=str)


def moving(
    column: Any, table: Mapping[S, frozenset[S]], frm: Iterable[S], to: S
) -> ColumnElement[bool]:
    """``column IN (frm)`` for a bulk UPDATE to ``to``. Every status of ``frm`` must be one the
    table lets move to ``to``: a statement that broke the table is a bug, found on its first
    run (the suite runs every one), not a row silently changed."""
    frm = sorted(frm, key=str)
    illegal = [s for s in frm if to not in table[s]]
    if not frm or illegal:
        raise ValueError(f"the transition table does not allow {illegal or frm} -> {to!r}")
    clause: ColumnElement[bool] = column.in_(frm)
    return clause


def require(table: Mapping[S, frozenset[S]], entity: str, current: S, to: S) -> None:
    """409 ``invalid_transition`` unless the table allows ``current -> to``."""
    if to not in table[current]:
        raise InvalidTransition(entity, current.value, to.value)
