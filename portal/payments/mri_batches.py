"""Which MRI batch a receipt goes to, and when the portal closes it (issue 17; seed 002; the
MRI rules of connectors.md §2.10).

MRI keys a cash batch by (property, ``ExternalBatchID``) and opens it with its first receipt;
the portal's ``ExternalBatchID`` is the deposit batch's ID ("grouped by the batch deposit").
With the connection's ``close_batches`` on (seed 002: "At the end of the business day,
RentTrack will automatically close the batch in MRI"), the first receipt of a batch schedules
its close at the next end-of-business-day hour (``end_of_day``, New York time), run on the
workspace clock (``portal.connectors.mri.closing``). The portal never adds to a batch it has
closed: a receipt of the same deposit batch made after the close (the deposit batch stays open
until the 19:45 cut-off) goes to a batch of its own, ``<batch>-2``, then ``-3``…, closed at the
next end of day in turn. With ``close_batches`` off (RentTrack's 2016 code, §0.1) nothing is
closed and every receipt goes to ``<batch>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlmodel import Session, col

from portal.auth.models import Integration
from portal.core import calendar, jobs
from portal.core.ids import IdMinter, reserve
from portal.outbox.models import Delivery, Topic

#: The close of one MRI batch at its end of day; handled by ``portal.connectors.mri.closing``.
CLOSE = jobs.EventKind("connectors.mri_close", jobs.RANK_DELIVERIES)
DEFAULT_END_OF_DAY = "17:00"


def closes(integration: Integration) -> bool:
    return bool((integration.connection or {}).get("close_batches", True))


def next_end_of_day(integration: Integration, now: datetime) -> datetime:
    """The first end of business day strictly after ``now``."""
    at = time.fromisoformat(
        str((integration.connection or {}).get("end_of_day") or DEFAULT_END_OF_DAY)
    )
    day = calendar.local_date(now)
    instant = calendar.at_local(day, at)
    return instant if instant > now else calendar.at_local(day + timedelta(days=1), at)


def lock(session: Session, workspace_id: str, integration: Integration) -> None:
    """Serialize the transactions that decide an integration's MRI batches: a receipt choosing
    its batch and the close of that batch (issue 17: "the portal never adds to a batch it has
    closed"; a row lock before the check, architecture.md invariants). The lock is a counter
    row of its own, so nothing else (a sync, the sender's claim) waits on it."""
    reserve(session, workspace_id, f"mri:{integration.id}", 0)


def part(batch: str, n: int) -> str:
    return batch if n == 1 else f"{batch}-{n}"


@dataclass
class Batches:
    """The MRI batches of one transaction's receipts (the module docstring)."""

    session: Session
    workspace_id: str
    _known: dict[tuple[str, str, str], tuple[str, bool]] = field(default_factory=dict)
    _opened: list[tuple[Integration, str, str]] = field(default_factory=list)
    _locked: set[str] = field(default_factory=set)

    def current(self, integration: Integration, property_id: str, batch: str) -> str:
        """The ``ExternalBatchID`` a new receipt of ``batch`` at ``property_id`` goes to."""
        key = (integration.id, property_id, batch)
        if key not in self._known:
            self._known[key] = self._load(integration, property_id, batch)
        name, used = self._known[key]
        if not used:
            self._known[key] = (name, True)
            self._opened.append((integration, property_id, name))
        return name

    def _load(self, integration: Integration, property_id: str, batch: str) -> tuple[str, bool]:
        if integration.id not in self._locked:
            lock(self.session, self.workspace_id, integration)
            self._locked.add(integration.id)
        closed: set[str] = set()
        used: set[str] = set()
        rows = self.session.execute(
            select(col(Delivery.topic), col(Delivery.journal), col(Delivery.facts)).where(
                col(Delivery.workspace_id) == self.workspace_id,
                col(Delivery.integration_id) == integration.id,
                # Batch IDs are digits: no LIKE wildcard in them.
                or_(col(Delivery.journal) == batch, col(Delivery.journal).like(f"{batch}-%")),
            )
        )
        for topic, journal, facts in rows:
            if (facts or {}).get("property_external_id") != property_id:
                continue
            (closed if topic == Topic.JOURNAL_CLOSE.value else used).add(journal)
        n = 1
        while part(batch, n) in closed:
            n += 1
        name = part(batch, n)
        return name, name in used

    def schedule_closes(self, ids: IdMinter, *, now: datetime) -> None:
        """Each batch opened in this transaction is closed at its end of day."""
        for integration, property_id, name in self._opened:
            if not closes(integration):
                continue
            payload: dict[str, Any] = {
                "integration_id": integration.id,
                "property_external_id": property_id,
                "journal": name,
            }
            jobs.schedule(
                self.session,
                ids,
                kind=CLOSE,
                due_at=next_end_of_day(integration, now),
                payload=payload,
                now=now,
            )
        self._opened.clear()
