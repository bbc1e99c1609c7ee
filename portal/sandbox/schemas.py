"""Wire shapes of the operator's scenario loads, resets and checks (docs/scenarios-over-http.md).
The scenario document itself and a created workspace's result are in ``scenario_spec``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from portal.sandbox.scenario_spec import ScenarioLoaded
from portal.workspaces import schemas as ws_schemas

#: What ``reset`` returns a workspace to: the scenarios it was loaded from, or nothing.
ResetTarget = Literal["scenario", "empty"]


class ScenarioLandlord(BaseModel):
    """The landlord login a scenario defines, in the workspace it was loaded into."""

    email: str = Field(
        description="The scenario's e-mail; in a workspace other than the one the scenario "
        "names, with `+<workspace id>` added to its local part (logins are unique across "
        "workspaces)"
    )
    password: str | None = Field(
        description="The scenario's password (or one generated for a landlord it created); "
        "null when the user existed and the scenario names no password: it is unchanged"
    )


class ScenarioLoadedInto(ScenarioLoaded):
    """A scenario loaded into an existing workspace (``POST /workspaces/{ws}/scenario``)."""

    workspace: ws_schemas.WorkspaceRead = Field(description="The workspace after the load")
    landlord: ScenarioLandlord
    clock: ws_schemas.ClockRead = Field(description="Where the load left the clock")


class WorkspaceReset(ws_schemas.WorkspaceRead):
    """A workspace after ``reset``."""

    to: ResetTarget = Field(description="What the workspace was returned to")
    scenarios: list[str] = Field(
        default_factory=list,
        description="The scenarios loaded again, in their order (empty: nothing was loaded)",
    )
    keys: dict[str, str] = Field(
        default_factory=dict, description="Scenario key -> ID, as the original loads gave them"
    )


class ViolationRead(BaseModel):
    workspace_id: str
    rule: str = Field(examples=["batch_total"])
    subject: str = Field(description="What is wrong, e.g. `deposit batch 2732388606925747`")
    detail: str


class CheckReport(BaseModel):
    """What ``portal check`` verifies (architecture.md §11), over HTTP."""

    ok: bool = Field(description="No violation")
    workspaces: int = Field(description="How many workspaces were checked")
    batches: int = Field(description="Deposit batches checked")
    payments: int = Field(description="Payments checked")
    violations: list[ViolationRead]
