"""The scenarios a workspace was loaded from, kept for ``reset`` (docs/scenarios-over-http.md).

Each load appends one row: the validated document, the settings before it, and per integration
key the SHA-256 digest (and last four characters) of the token it minted, never the token
(architecture.md §11: only hashes of tokens are stored). Wiping a workspace deletes its rows
with everything else (they carry ``workspace_id``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from portal.auth import service as auth_service
from portal.sandbox.scenario_spec import Scenario, parse
from portal.workspaces.models import Workspace, WorkspaceScenario


def token_digests(tokens: dict[str, str]) -> dict[str, dict[str, str]]:
    """What a reset needs to make a replayed integration answer to the same token."""
    return {
        key: {"digest": auth_service.digest(token), "last4": token[-4:]}
        for key, token in tokens.items()
    }


def record(
    session: Session,
    ws: Workspace,
    scenario: Scenario,
    *,
    tokens: dict[str, str],
    settings_before: dict[str, Any],
    created: bool,
    now: datetime,
) -> WorkspaceScenario:
    """Keep one load of ``scenario`` into ``ws`` (after the ones before it); ``now`` is the
    workspace instant it began."""
    last = session.scalar(
        select(func.max(col(WorkspaceScenario.seq))).where(
            col(WorkspaceScenario.workspace_id) == ws.id
        )
    )
    row = WorkspaceScenario(
        workspace_id=ws.id,
        seq=(last or 0) + 1,
        scenario=scenario.scenario,
        # Only what the file gave: defaults stay defaults, and "was it given" survives.
        document=scenario.model_dump_json(exclude_unset=True),
        tokens=token_digests(tokens),
        settings_before=settings_before,
        created=created,
        loaded_at=now,
    )
    session.add(row)
    session.flush()
    return row


def loads_of(session: Session, workspace_id: str) -> list[WorkspaceScenario]:
    """The workspace's loads, oldest first (detached copies: a reset wipes the rows)."""
    rows = list(
        session.scalars(
            select(WorkspaceScenario)
            .where(col(WorkspaceScenario.workspace_id) == workspace_id)
            .order_by(col(WorkspaceScenario.seq))
        )
    )
    return [WorkspaceScenario.model_validate(row.model_dump()) for row in rows]


def document_of(row: WorkspaceScenario) -> Scenario:
    return parse(row.document)


def keep(session: Session, row: WorkspaceScenario) -> None:
    """Put a kept load back after its replay."""
    session.add(WorkspaceScenario.model_validate(row.model_dump()))
    session.flush()


def restore_tokens(
    session: Session, workspace_id: str, kept: dict[str, Any], keys: dict[str, str]
) -> None:
    """Give each replayed integration's active token the digest of the token the original load
    answered: the replay minted a new one (a token carries a random nonce), which nobody holds."""
    for key, token in kept.items():
        auth_service.restore_token(
            session, workspace_id, keys[key], digest=token["digest"], last4=token["last4"]
        )
    session.flush()
