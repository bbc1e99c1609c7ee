"""``portal check`` as a service (architecture.md §11): the ledger invariants
(``portal.payments.check``) and what connected accounting systems hold (the reference eSite's
and MRI's read-back, ``portal.connectors.check``), for one workspace or every one. Both the CLI
and ``GET /v1/sandbox/check`` run it; the read-back calls those servers over HTTP."""

from __future__ import annotations

from dataclasses import asdict

from sqlmodel import Session

from portal.connectors import check as connectors_check
from portal.payments import check as ledger
from portal.sandbox.schemas import CheckReport, ViolationRead


def run(session: Session, workspace_id: str | None = None) -> ledger.Report:
    """Every rule, then the read-backs (``WorkspaceNotFound`` for an unknown workspace)."""
    report = ledger.run(session, workspace_id)
    report.violations.extend(connectors_check.esite(session, workspace_id))
    report.violations.extend(connectors_check.mri(session, workspace_id))
    return report


def report_read(report: ledger.Report) -> CheckReport:
    return CheckReport(
        ok=report.ok,
        workspaces=len(report.workspaces),
        batches=report.batches,
        payments=report.payments,
        violations=[ViolationRead(**asdict(v)) for v in report.violations],
    )
