"""Scenarios loaded into existing workspaces, and ``reset`` back to them
(docs/scenarios-over-http.md).

A load into an existing workspace (``POST /v1/sandbox/workspaces/{ws}/scenario``) is the load
of ``portal seed`` minus the workspace's creation:

- the file's ``workspace.settings`` are applied (the members it gives, over the workspace's);
- the clock moves forward to the file's ``workspace.clock.now``, running the jobs due on the
  way as an advance does (422 ``scenario_before_clock`` when that instant is before the
  workspace clock: a clock never moves backwards);
- the file's landlord login exists in the workspace (created if missing; its password set to
  the file's). In a workspace other than the one the file names, the e-mail gets
  ``+<workspace id>`` in its local part: a landlord e-mail is unique across workspaces (it
  names the workspace at login), and the same file may be loaded into many workspaces;
- the workspace's ID, name, seed and clock mode stay; those the file gives otherwise are listed
  in ``ignored`` (``workspace.seed``, ...).

All of it is one transaction with the load itself. ``reset`` wipes the workspace back to its
creation and replays every kept load in order, through the same steps; then each replayed
integration's token gets the digest of the token the original load answered, so that token
works again (``scenario_store``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from portal.auth import service as auth_service
from portal.auth.models import LandlordUser
from portal.core.clock import Clock, as_aware
from portal.core.errors import FieldError, Unprocessable
from portal.core.ids import new_secret
from portal.sandbox import clock as sandbox_clock
from portal.sandbox import scenario_store, scenarios
from portal.sandbox import service as sandbox_service
from portal.sandbox.scenario_spec import Scenario
from portal.sandbox.schemas import ResetTarget, ScenarioLandlord, ScenarioLoadedInto, WorkspaceReset
from portal.workspaces import schemas as ws_schemas
from portal.workspaces import service as workspaces_service
from portal.workspaces.models import Workspace

#: The longest landlord e-mail (the column's width).
EMAIL_MAX = 200


class ScenarioBeforeClock(Unprocessable):
    """The scenario starts (``workspace.clock.now``) before the workspace's clock."""

    code = "scenario_before_clock"


def load_into_workspace(
    session: Session,
    workspace_id: str,
    scenario: Scenario,
    *,
    signing_key: str,
    system: Clock,
) -> ScenarioLoadedInto:
    """Load ``scenario`` into an existing workspace (the module docstring) and keep the load for
    ``reset``. Flushes, never commits."""
    ws = workspaces_service.get_workspace(session, workspace_id)
    settings_before = dict(ws.settings)
    began = workspaces_service.now_of(ws, system)
    with auth_service.scenario_passwords():
        loaded = _load(session, ws, scenario, signing_key=signing_key, system=system, named=False)
    scenario_store.record(
        session,
        ws,
        scenario,
        tokens=loaded.tokens,
        settings_before=settings_before,
        created=False,
        now=began,
    )
    return loaded


def _load(
    session: Session,
    ws: Workspace,
    scenario: Scenario,
    *,
    signing_key: str,
    system: Clock,
    named: bool,
) -> ScenarioLoadedInto:
    """Settings, clock, landlord, then the entities. ``named``: treat ``ws`` as the workspace
    the file names (the one a create made), whatever its ID."""
    section = scenario.workspace
    ignored = _ignored(ws, section)
    given = (
        section.settings.model_dump(mode="json", exclude_unset=True)
        if "settings" in section.model_fields_set
        else {}
    )
    if given:
        ws.settings = {**ws.settings, **given}
        session.add(ws)
        session.flush()  # before the clock's lock re-reads the row
    _move_clock(session, ws, section, system)
    now = workspaces_service.now_of(ws, system)
    landlord = _landlord(session, ws, section, named=named or ws.id == section.id, now=now)
    loaded = scenarios.load_into(
        session, ws, scenario, signing_key=signing_key, now=now, system=system, ignored=ignored
    )
    return ScenarioLoadedInto(
        **loaded.model_dump(),
        workspace=sandbox_service.workspace_read(ws, system),
        landlord=landlord,
        clock=sandbox_service.clock_read(ws, system),
    )


def _ignored(ws: Workspace, section: ws_schemas.WorkspaceCreate) -> list[str]:
    """The members of the file's ``workspace`` that differ from the workspace's own and stay."""
    given = section.model_fields_set
    out = [
        f"workspace.{name}"
        for name, value in (("id", ws.id), ("name", ws.name), ("seed", ws.seed))
        if name in given and getattr(section, name) != value
    ]
    if (
        "clock" in given
        and "mode" in section.clock.model_fields_set
        and section.clock.mode != ws.clock_mode
    ):
        out.append("workspace.clock.mode")
    return out


def _move_clock(
    session: Session, ws: Workspace, section: ws_schemas.WorkspaceCreate, system: Clock
) -> None:
    """Forward to the file's start, running the jobs due on the way (one transaction)."""
    if section.clock.now is None:
        return
    target = as_aware(section.clock.now)
    now = workspaces_service.now_of(ws, system)
    field = "$.workspace.clock.now"
    if target < now:
        message = (
            f"the scenario starts at {target.isoformat()}, before the clock of workspace "
            f"{ws.id} ({now.isoformat()}), and a clock never moves backwards"
        )
        raise ScenarioBeforeClock(
            f"The scenario cannot be loaded here: {message}. Load it into a workspace of its "
            "own with POST /v1/sandbox/scenarios (portal seed FILE), which starts the clock "
            "at workspace.clock.now; or create a workspace whose clock starts at or before "
            'it (POST /v1/sandbox/workspaces {"clock": {"now": "' + target.isoformat() + '"}}) '
            "and load it there; or remove workspace.clock.now from the file to load it at "
            "the workspace's current instant.",
            errors=[FieldError(field, message, "outside_clock")],
            extra={"now": now.isoformat(), "scenario_now": target.isoformat()},
        )
    if target - now > sandbox_clock.MAX_ADVANCE:
        raise sandbox_clock.AdvanceTooFar(
            f"The scenario starts at {target.isoformat()}, {(target - now).days} days after "
            f"the clock of workspace {ws.id} ({now.isoformat()}); a load moves the clock at "
            f"most {sandbox_clock.MAX_ADVANCE.days} days. Advance the workspace in steps "
            "first, or load the scenario into a workspace of its own (POST "
            "/v1/sandbox/scenarios).",
            errors=[FieldError(field, "too far after the workspace clock", "outside_clock")],
            extra={"max_days": sandbox_clock.MAX_ADVANCE.days},
        )
    if target > now:
        scenarios.advance_in_load(session, ws, target, system)


def _landlord(
    session: Session,
    ws: Workspace,
    section: ws_schemas.WorkspaceCreate,
    *,
    named: bool,
    now: datetime,
) -> ScenarioLandlord:
    """The file's landlord login in ``ws``: found or created, its password the file's. Outside
    the workspace the file names, the e-mail is tagged with the workspace's ID unless the
    workspace has a landlord of that very e-mail. A file without an e-mail means the
    workspace's first landlord (``portal seed`` would have created it)."""
    given = section.landlord
    users = list(
        session.scalars(
            select(LandlordUser)
            .where(col(LandlordUser.workspace_id) == ws.id)
            .order_by(col(LandlordUser.created_at), col(LandlordUser.id))
        )
    )
    if given.email is None:
        email = users[0].email if users else f"landlord+{ws.id}@portal.test"
    else:
        email = given.email.strip().lower()
        if not named and all(u.email != email for u in users):
            email = _tagged(email, ws.id)
    user = next((u for u in users if u.email == email), None)
    if user is None:
        password = given.password or new_secret(12)
        auth_service.create_landlord(
            session,
            workspaces_service.minter(ws, session),
            email=email,
            name=given.name or "Property Manager",
            password_hash=auth_service.hash_password(password),
            now=now,
        )
        return ScenarioLandlord(email=email, password=password)
    if given.password is not None and not auth_service.verify_password(
        given.password, user.password_hash
    ):
        user.password_hash = auth_service.hash_password(given.password)
        session.add(user)
        session.flush()
    return ScenarioLandlord(email=email, password=given.password)


def _tagged(email: str, workspace_id: str) -> str:
    """``manager@oak.example`` in workspace ``ws_x``: ``manager+ws_x@oak.example``."""
    local, domain = email.rsplit("@", 1)
    room = EMAIL_MAX - len(domain) - len(workspace_id) - 2
    return f"{local[:room]}+{workspace_id}@{domain}"


def reset(
    session: Session,
    workspace_id: str,
    *,
    to: ResetTarget,
    signing_key: str,
    system: Clock,
) -> WorkspaceReset:
    """Wipe the workspace back to its creation, then (``to="scenario"``) load its kept
    scenarios again, in order: the same IDs, and each minted token's digest put back. ``empty``
    (or a workspace never loaded) stays empty, and forgets the loads. Flushes, never commits."""
    workspaces_service.get_workspace(session, workspace_id)
    kept = scenario_store.loads_of(session, workspace_id)
    ws = sandbox_service.reset_workspace(
        session,
        workspace_id,
        system_now=system.now(),
        settings=kept[0].settings_before if kept else None,
    )
    names: list[str] = []
    keys: dict[str, str] = {}
    if to == "scenario":
        for row in kept:
            with auth_service.scenario_passwords():
                loaded = _load(
                    session,
                    ws,
                    scenario_store.document_of(row),
                    signing_key=signing_key,
                    system=system,
                    named=row.created,
                )
            scenario_store.restore_tokens(session, ws.id, row.tokens, loaded.keys)
            scenario_store.keep(session, row)
            names.append(row.scenario)
            keys.update(loaded.keys)
    read: dict[str, Any] = dict(sandbox_service.workspace_read(ws, system))
    return WorkspaceReset(**read, to=to, scenarios=names, keys=keys)
