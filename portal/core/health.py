"""Operational probes: ``/healthz`` (the process answers) and ``/readyz`` (database reachable,
schema at the newest migration)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError

from portal.core.db import EngineDep
from portal.core.migrate import current_revision, head_revision

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    database: str
    migration: str | None
    head: str | None


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """The process is up."""
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
async def readyz(engine: EngineDep) -> JSONResponse:
    """Ready when the database answers and its schema is at the newest migration."""
    head = head_revision()
    try:
        with engine.connect() as connection:
            current = current_revision(connection)
    except SQLAlchemyError:
        body = Readiness(status="unavailable", database="unreachable", migration=None, head=head)
        return JSONResponse(body.model_dump(), status_code=503)
    ready = current == head
    body = Readiness(
        status="ok" if ready else "migrations_pending",
        database="ok",
        migration=current,
        head=head,
    )
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)
