"""The landlord's reports (``/v1/reports``): JSON by default, CSV when ``Accept`` asks for
``text/csv`` (architecture.md §7)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response

from portal.auth.dependencies import LandlordDep
from portal.core.dates import IsoDate
from portal.core.db import SessionDep
from portal.core.errors import problem_responses
from portal.reports import schemas, service

router = APIRouter(prefix="/v1/reports", tags=["landlord: reports"])

CSV = "text/csv"
AcceptHeader = Annotated[
    str | None, Header(description="`text/csv` for a CSV file; JSON otherwise")
]


def _responses(csv_description: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "description": "The report as JSON, or as CSV when Accept asks for text/csv",
            "content": {CSV: {"schema": {"type": "string", "description": csv_description}}},
        },
        **problem_responses(401, 422),
    }


def wants_csv(accept: str | None) -> bool:
    """True when ``Accept`` lists ``text/csv`` (q > 0) at least as high as ``application/json``."""
    weights: dict[str, float] = {}
    for part in (accept or "").split(","):
        media, *params = (p.strip().lower() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        weights[media] = max(weights.get(media, 0.0), q)
    csv_q = weights.get(CSV, 0.0)
    return csv_q > 0 and csv_q >= weights.get("application/json", 0.0)


def _csv(text: str, filename: str) -> Response:
    return Response(
        text,
        media_type=f"{CSV}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Vary": "Accept"},
    )


@router.get(
    "/batch-deposits",
    response_model=schemas.BatchDepositReportRead,
    responses=_responses("One row per transaction, batch columns repeated; CRLF line ends"),
)
async def batch_deposit_report(
    landlord: LandlordDep,
    session: SessionDep,
    response: Response,
    date: Annotated[IsoDate, Query(description="Deposit date, YYYY-MM-DD")],
    accept: AcceptHeader = None,
) -> Any:
    """The Batch Deposit Report of one deposit date, as of now: each batch with its account
    type, masked account, batch ID, transactions and total; reversal batches apart, negative."""
    report = service.batch_deposit_report(session, landlord.workspace.id, date, now=landlord.now)
    if wants_csv(accept):
        return _csv(schemas.batch_deposit_csv(report), f"batch-deposits-{date.isoformat()}.csv")
    response.headers["Vary"] = "Accept"
    return schemas.BatchDepositReportRead.of(report)


@router.get(
    "/external-deposits",
    response_model=schemas.ExternalDepositsRead,
    responses=_responses("AMSI External Deposits columns, then a Total row; CRLF line ends"),
)
async def external_deposits_report(
    landlord: LandlordDep,
    session: SessionDep,
    response: Response,
    month: Annotated[str, Query(description="YYYY-MM", examples=["2026-07"])],
    accept: AcceptHeader = None,
) -> Any:
    """AMSI-style External Deposits for a month: one row per batch deposited in it, keyed by
    batch ID, with Rent/Other, Security Deposits, Misc and Return columns and totals."""
    first = schemas.parse_month(month)
    report = service.external_deposits_report(
        session, landlord.workspace.id, first, now=landlord.now
    )
    if wants_csv(accept):
        return _csv(schemas.external_deposits_csv(report), f"external-deposits-{month}.csv")
    response.headers["Vary"] = "Accept"
    return schemas.ExternalDepositsRead.of(report)
