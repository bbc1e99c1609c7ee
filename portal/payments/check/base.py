"""What a ``portal check`` rule is (architecture.md §11): a function of a session and a
workspace (None: every workspace) that yields ``Violation``s from one set-based query."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.sql import Select
from sqlmodel import Session


@dataclass(frozen=True)
class Violation:
    workspace_id: str
    rule: str
    subject: str
    """What is wrong, e.g. ``deposit batch 2732388606925747``."""
    detail: str


Rule = Callable[[Session, str | None], Iterator[Violation]]


Q = TypeVar("Q", bound=Select[*tuple[Any, ...]])


def scoped(query: Q, column: Any, workspace_id: str | None) -> Q:
    """Narrow a whole-database query to one workspace when asked."""
    return query if workspace_id is None else query.where(column == workspace_id)
