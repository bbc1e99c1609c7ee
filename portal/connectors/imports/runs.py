"""Import runs, whatever the vendor: "Sync Now" and the daily sync (issue 16; issue 17 "Sync
Now plus the scheduled sync on the workspace clock; the same import review as AMSI"), and the
import review they leave.

A run reads first and writes after. The integration's kind picks its ``Source`` (AMSI's eSite,
MRI's ``api.asp``), which reads every property the connection enables into plans. If any
property could not be read — the server cannot be reached or answers what is not a document of
the kind asked for, or refuses a call — the run is ``failed``, names the property and the
reason, changes nothing else and becomes the integration's last error. Otherwise every plan is
applied (``writes``) and the run is ``completed`` with its counts, the reason of each erred row
and what each property held.

Services flush, never commit; the time is ``now`` and IDs come from ``ids``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from portal.auth import service as auth_service
from portal.auth.models import Integration, IntegrationKind
from portal.connectors.amsi import imports as amsi_imports
from portal.connectors.errors import ImportRunNotFound, IntegrationNotImportable
from portal.connectors.imports import writes
from portal.connectors.imports.source import Source
from portal.connectors.models import ImportRun, ImportStatus
from portal.connectors.mri import imports as mri_imports
from portal.core import calendar
from portal.core.ids import IdMinter, reserve
from portal.events import service as events

#: ``ImportRun.trigger``: the landlord's or operator's "Sync Now", or the daily sync.
SYNC_NOW = "sync_now"
SCHEDULE = "schedule"
#: The kinds whose server the portal reads, each with its source.
SOURCES: dict[IntegrationKind, Callable[[Integration], Source]] = {
    IntegrationKind.AMSI: amsi_imports.source,
    IntegrationKind.MRI: mri_imports.source,
}


def sync(
    session: Session, ids: IdMinter, integration: Integration, *, now: datetime, trigger: str
) -> ImportRun:
    """Run one import of ``integration`` (the module docstring) and record it. Raises
    ``IntegrationNotImportable`` / ``IntegrationNotConnected`` before calling anything."""
    source = _source(integration)
    read = source.read(calendar.local_date(now))
    run = ImportRun(
        workspace_id=ids.scope,
        id=ids.new("import_run", "imp"),
        seq=reserve(session, ids.scope, "import_seq") + 1,
        integration_id=integration.id,
        trigger=trigger,
        status=ImportStatus.COMPLETED,
        started_at=now,
        finished_at=now,
    )
    run.properties = [_summary(p.property_id, p.units_read, p.leases_read) for p in read.plans]
    if read.failures:
        run.status = ImportStatus.FAILED
        run.counts = writes.Outcome().counts
        run.errors = read.failures
        # The shape the connector's other errors have (``worker``): no HTTP status, a code,
        # a sentence, and what to look at.
        integration.last_error = {
            "at": now.isoformat(),
            "source": "import",
            "status": None,
            "code": source.failed_code,
            "detail": f"The {source.vendor} import {run.id} failed: {read.failures[0]['reason']}",
            "import_run_id": run.id,
            "errors": read.failures,
        }
        session.add(integration)
    else:
        outcome = writes.apply(session, ids, integration, read.plans, now=now, origin=source.origin)
        run.counts = outcome.counts
        run.errors = outcome.errors
    session.add(run)
    session.flush()
    events.emit(
        session,
        ids.scope,
        "connector.import_completed",
        now=now,
        integration_id=integration.id,
        data={
            "import_run_id": run.id,
            "status": run.status.value,
            "trigger": trigger,
            "counts": run.counts,
            "errors": len(run.errors or []),
        },
    )
    return run


def sync_now(
    session: Session,
    ids: IdMinter,
    integration_id: str,
    *,
    now: datetime,
    trigger: str = SYNC_NOW,
) -> ImportRun:
    """Sync Now (landlord or operator), or the daily sync, of one of the workspace's
    integrations (404 for another workspace's). Its row is locked first: two syncs of one
    integration run one after the other, and the second finds the first's work done."""
    integration = auth_service.get_integration(session, ids.scope, integration_id, for_update=True)
    return sync(session, ids, integration, now=now, trigger=trigger)


def scheduled(session: Session, workspace_id: str) -> list[Integration]:
    """The integrations the daily sync imports: a kind the portal reads, a connection that
    keeps ``daily_sync`` on (the default) and names properties (without any, Sync Now says
    what is missing; the schedule stays quiet). One indexed read."""
    rows = session.scalars(
        select(Integration)
        .where(
            col(Integration.workspace_id) == workspace_id,
            col(Integration.kind).in_(list(SOURCES)),
            col(Integration.connection).is_not(None),
        )
        .order_by(col(Integration.id))
    )
    return [
        integration
        for integration in rows
        if (connection := integration.connection or {}).get("daily_sync", True)
        and connection.get("property_ids")
    ]


def _source(integration: Integration) -> Source:
    make = SOURCES.get(integration.kind)
    if make is None:
        raise IntegrationNotImportable(
            f"Integration {integration.id!r} is a {integration.kind.value} integration: it sends "
            "its data to the portal. Only amsi and mri integrations are synced from their "
            "servers."
        )
    return make(integration)


def _summary(property_id: str, units: int, leases: int) -> dict[str, Any]:
    return {"property_id": property_id, "units": units, "leases": leases}


# --- the import review --------------------------------------------------------------------------


def list_runs(
    session: Session,
    workspace_id: str,
    integration_id: str,
    *,
    before_seq: int | None,
    limit: int,
) -> list[ImportRun]:
    """The integration's runs, newest first (keyset on ``seq``, descending)."""
    query = select(ImportRun).where(
        col(ImportRun.workspace_id) == workspace_id,
        col(ImportRun.integration_id) == integration_id,
    )
    if before_seq is not None:
        query = query.where(col(ImportRun.seq) < before_seq)
    return list(session.scalars(query.order_by(col(ImportRun.seq).desc()).limit(limit)))


def get_run(session: Session, workspace_id: str, integration_id: str, run_id: str) -> ImportRun:
    run = session.get(ImportRun, (workspace_id, run_id))
    if run is None or run.integration_id != integration_id:
        raise ImportRunNotFound(f"No import run {run_id!r} of integration {integration_id!r}.")
    return run
