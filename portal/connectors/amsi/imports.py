"""The AMSI import: "Sync Now" and the daily sync (issue 16; seed 001 "RentTrack can do the
initial import"; connectors.md §0.1, §1.3, §1.4, §1.9), and the import review it leaves.

A run reads first and writes after. For each property the connection enables it calls Leasing
``GetPropertyUnits`` and ``GetPropertyResidents`` for lease statuses ``C`` and ``N``, as RT's
04:15 sync and import wizard did (§0.1). If any call fails — the eSite cannot be reached or
answers what is not a Leasing document (``client.TransportError``), or refuses a call with an
error other than "no data" — the run is ``failed``, names the property and the reason, changes
nothing else and becomes the integration's last error. Otherwise every lease is applied
(``import_rows``: what a lease becomes; ``import_writes``: the writes) and the run is
``completed`` with its counts, the reason of each erred row and what each property held.

Services flush, never commit; the time is ``now`` and IDs come from ``ids``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element

from sqlalchemy import select
from sqlmodel import Session, col

from portal.auth import service as auth_service
from portal.auth.models import Integration, IntegrationKind
from portal.connectors.amsi import client, import_rows, import_writes, leasing
from portal.connectors.errors import (
    ImportRunNotFound,
    IntegrationNotConnected,
    IntegrationNotImportable,
)
from portal.connectors.models import ImportRun, ImportStatus
from portal.core import calendar
from portal.core.ids import IdMinter, reserve

#: ``ImportRun.trigger``: the landlord's or operator's "Sync Now", or the daily sync.
SYNC_NOW = "sync_now"
SCHEDULE = "schedule"
#: ``Integration.last_error["code"]`` of a failed run.
FAILED_CODE = "amsi_import_failed"


@dataclass(frozen=True)
class PropertyRead:
    """What eSite answered for one property."""

    property_id: str
    units: list[leasing.Unit]
    leases: list[leasing.Lease]


class _CallFailed(Exception):
    def __init__(self, reason: str, *, reachable: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        #: False: no usable answer from eSite at all (``client.TransportError``); the
        #: properties after this one are not asked.
        self.reachable = reachable


def sync(
    session: Session, ids: IdMinter, integration: Integration, *, now: datetime, trigger: str
) -> ImportRun:
    """Run one import of ``integration`` (the module docstring) and record it. Raises
    ``IntegrationNotImportable`` / ``IntegrationNotConnected`` before calling anything."""
    login, property_ids = _login(integration)
    reads, failures = fetch(login, property_ids)
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
    if failures:
        run.status = ImportStatus.FAILED
        run.counts = import_writes.Outcome().counts
        run.errors = failures
        run.properties = [_summary(r.property_id, len(r.units), len(r.leases)) for r in reads]
        # The shape the connector's other errors have (``worker``): no HTTP status, a code,
        # a sentence, and what to look at.
        integration.last_error = {
            "at": now.isoformat(),
            "source": "import",
            "status": None,
            "code": FAILED_CODE,
            "detail": f"The AMSI import {run.id} failed: {failures[0]['reason']}",
            "import_run_id": run.id,
            "errors": failures,
        }
        session.add(integration)
    else:
        today = calendar.local_date(now)
        plans = [import_rows.plan(r.property_id, r.units, r.leases, today) for r in reads]
        outcome = import_writes.apply(session, ids, integration, plans, now=now)
        run.counts = outcome.counts
        run.errors = outcome.errors
        run.properties = [_summary(p.property_id, len(p.units), p.leases_read) for p in plans]
    session.add(run)
    session.flush()
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


def _summary(property_id: str, units: int, leases: int) -> dict[str, Any]:
    return {"property_id": property_id, "units": units, "leases": leases}


def _login(integration: Integration) -> tuple[client.Login, list[str]]:
    """The eSite login and the enabled properties, or why this integration cannot be synced."""
    if integration.kind is not IntegrationKind.AMSI:
        raise IntegrationNotImportable(
            f"Integration {integration.id!r} is a {integration.kind.value} integration: it sends "
            "its data to the portal. Only an amsi integration is synced from its server."
        )
    connection = integration.connection or {}
    missing = [
        what
        for what, absent in (
            ("connection", not connection.get("url")),
            ("password", not integration.connection_password),
            ("property_ids", not connection.get("property_ids")),
        )
        if absent
    ]
    if missing:
        raise IntegrationNotConnected(
            f"Integration {integration.id!r} cannot reach its eSite: no "
            f"{', no '.join(missing)}. Set its connection (url, portfolio, user_id, password, "
            "property_ids) with PATCH /v1/integrations/{id}.",
            extra={"missing": missing},
        )
    return (
        client.Login.of(connection, integration.connection_password),
        [str(p) for p in connection["property_ids"]],
    )


# --- reading eSite ------------------------------------------------------------------------------


def fetch(
    login: client.Login, property_ids: Sequence[str]
) -> tuple[list[PropertyRead], list[dict[str, Any]]]:
    """Every property's units and current and notice leases, and the failures (one per
    property that failed). After a failure to reach eSite the later properties are not asked."""
    reads: list[PropertyRead] = []
    failures: list[dict[str, Any]] = []
    for property_id in property_ids:
        try:
            reads.append(_read_property(login, property_id))
        except _CallFailed as exc:
            failures.append(import_rows.error_entry(property_id, None, None, None, exc.reason))
            if not exc.reachable:
                break
    return reads, failures


def _read_property(login: client.Login, property_id: str) -> PropertyRead:
    units = leasing.parse_units(
        _leasing_call(login, "GetPropertyUnits", leasing.units_request(property_id))
    )
    leases: list[leasing.Lease] = []
    for status in leasing.LEASE_STATUSES:
        root = _leasing_call(
            login,
            "GetPropertyResidents",
            leasing.residents_request(property_id, status),
            label=f"GetPropertyResidents (leasestatus {status})",
        )
        leases.extend(leasing.parse_residents(root))
    return PropertyRead(property_id=property_id, units=units, leases=leases)


def _leasing_call(
    login: client.Login, operation: str, xml_data: str, *, label: str | None = None
) -> Element:
    """One Leasing call's result document; an ``InternetTrafficResponse`` saying "no data" is
    returned (the parsers read it as an empty list, §1.4), any other error raises."""
    label = label or operation
    try:
        answer = client.call(login, client.LEASING, operation, xml_data)
    except client.TransportError as exc:
        raise _CallFailed(f"{label}: {exc}", reachable=False) from None
    root = answer.root
    if leasing.is_error(root):
        code, description = client.error_of(root) or (-1, "")
        if not leasing.no_data(code, description):
            raise _CallFailed(
                f"{label}: eSite refused the call: {code} {description}".rstrip(), reachable=True
            )
        return root
    expected = leasing.UNITS_ROOT if operation == "GetPropertyUnits" else leasing.RESIDENTS_ROOT
    if leasing.local_name(root.tag) != expected:
        # RT: "Unknown AMSI response" (§1.4).
        raise _CallFailed(
            f"{label}: unknown answer <{root.tag}>, expected <{expected}>", reachable=True
        )
    return root


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
