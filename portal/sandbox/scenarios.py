"""Scenario files (``seed_data/*.json``, architecture.md §9): a whole world in one document.

Entities refer to each other by local ``key``s; loading returns key -> ID. Loading goes through
the same service functions as the API, in one transaction (all or nothing), and the same file
gives the same IDs every time for the same seed. Validation errors name the JSON path of the bad
field. Later features extend ``Scenario`` with their entities.

Format, version 1::

    {
      "scenario": "short-name", "description": "...",
      "workspace": {"id"?, "name", "seed", "clock": {"mode", "now"}, "settings": {...},
                    "landlord": {"email", "password", "name"}},
      "integrations": [{"key", "name", "kind", "features", "processing_options",
                        "issue_token": true}]
    }

``portal seed FILE`` creates the workspace the file describes. ``POST
/v1/sandbox/workspaces/{ws}/scenario`` loads the entities into an existing workspace and
ignores its ``workspace`` section (the workspace's seed and clock are already set).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlmodel import Session

from portal.auth import schemas as auth_schemas
from portal.auth import service as auth_service
from portal.clock import Clock
from portal.errors import FieldError, Unprocessable, json_path
from portal.sandbox import service as sandbox_service
from portal.workspaces import schemas as ws_schemas
from portal.workspaces import service as workspaces_service
from portal.workspaces.models import Workspace

KEY_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"


class IntegrationSpec(auth_schemas.IntegrationCreate):
    key: str = Field(pattern=KEY_PATTERN)
    issue_token: bool = Field(
        default=False, description="Issue a token now; it is returned once in the load result"
    )


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = 1
    scenario: str = Field(min_length=1, max_length=100)
    description: str = ""
    workspace: ws_schemas.WorkspaceCreate = Field(default_factory=ws_schemas.WorkspaceCreate)
    integrations: list[IntegrationSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_keys(self) -> Scenario:
        seen: set[str] = set()
        for index, spec in enumerate(self.integrations):
            if spec.key in seen:
                raise ValueError(f"integrations[{index}].key {spec.key!r} is used twice")
            seen.add(spec.key)
        return self


class ScenarioLoaded(BaseModel):
    workspace_id: str
    scenario: str
    keys: dict[str, str] = Field(description="Scenario key -> ID")
    tokens: dict[str, str] = Field(
        default_factory=dict, description="Integration key -> token (shown this once)"
    )
    ignored: list[str] = Field(default_factory=list)


class WorkspaceFromScenario(ScenarioLoaded):
    landlord: ws_schemas.LandlordLogin
    clock: ws_schemas.ClockRead


def load_into(
    session: Session,
    ws: Workspace,
    scenario: Scenario,
    *,
    signing_key: str,
    now: datetime,
    ignored: list[str] | None = None,
) -> ScenarioLoaded:
    """Create the scenario's entities in ``ws``; flushes, never commits."""
    ids = workspaces_service.minter(ws, session)
    keys: dict[str, str] = {}
    tokens: dict[str, str] = {}
    for spec in scenario.integrations:
        integration = auth_service.create_integration(
            session,
            ids,
            name=spec.name,
            kind=spec.kind,
            features=[f.value for f in spec.features],
            processing_options=spec.processing_options.model_dump(),
            now=now,
        )
        keys[spec.key] = integration.id
        if spec.issue_token:
            _row, token = auth_service.issue_token(
                session, ids, integration, key=signing_key, now=now
            )
            tokens[spec.key] = token
    return ScenarioLoaded(
        workspace_id=ws.id,
        scenario=scenario.scenario,
        keys=keys,
        tokens=tokens,
        ignored=ignored or [],
    )


def create_from(
    session: Session,
    scenario: Scenario,
    *,
    signing_key: str,
    system_now: datetime,
    system_clock: Clock,
) -> WorkspaceFromScenario:
    created = sandbox_service.create_workspace(session, scenario.workspace, system_now=system_now)
    ws = created.workspace
    now = workspaces_service.now_of(ws, system_clock)
    loaded = load_into(session, ws, scenario, signing_key=signing_key, now=now)
    return WorkspaceFromScenario(
        **loaded.model_dump(),
        landlord=ws_schemas.LandlordLogin(
            email=created.landlord_email, password=created.landlord_password
        ),
        clock=sandbox_service.clock_read(ws, system_clock),
    )


def parse(text: str | bytes) -> Scenario:
    """Validate a scenario document; errors name the JSON path (``$.integrations[0].kind``)."""
    try:
        return Scenario.model_validate_json(text)
    except ValidationError as exc:
        errors = [
            FieldError(json_path(e["loc"]), e["msg"], "invalid")
            for e in exc.errors(include_url=False)
        ]
        raise Unprocessable(
            "The scenario is not valid: "
            + "; ".join(f"{e.field}: {e.message}" for e in errors[:5]),
            code="invalid_scenario",
            errors=errors,
        ) from None
