"""A workspace's whole world as comparable rows: what two loads of one scenario (over HTTP and by
``portal seed``, or before and after a reset) must agree on."""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import Engine, select
from sqlmodel import SQLModel

#: Secrets drawn at random whenever they are made (salted password hashes, invite codes).
RANDOM_COLUMNS = frozenset(
    {
        ("resident", "password_hash"),
        ("resident", "invite_code"),
        ("landlord_user", "password_hash"),
    }
)
#: A fresh token is minted at each load (it carries a random nonce); only a reset restores one.
TOKEN_COLUMNS = frozenset(
    {
        ("integration_token", "digest"),
        ("integration_token", "last4"),
        ("workspace_scenario", "tokens"),
    }
)
#: Stamped by the process clock (the CLI's is the wall clock, the suite's a fixed one).
PROCESS_TIME_COLUMNS = frozenset({("workspace", "created_at")})
#: Sending state: a server's courier tries deliveries after the commit; ``portal seed`` does not.
DELIVERY_ATTEMPT_COLUMNS = frozenset(
    ("delivery", c)
    for c in (
        "state",
        "attempts",
        "next_attempt_at",
        "last_attempt_at",
        "claimed_until",
        "last_response",
        "sent_at",
    )
)
INVITE_CODE = re.compile(r'(invite code is |"invite_code": ")[A-Za-z0-9_-]+')


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        value = json.dumps(value, sort_keys=True, default=str)
    if isinstance(value, str):
        return INVITE_CODE.sub(r"\1<random>", value)
    return value


def snapshot(
    engine: Engine, workspace_id: str, *, without: frozenset[tuple[str, str]]
) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    """Table -> (columns, sorted rows) of everything ``workspace_id`` owns, its workspace row
    and ID counters included, without the ``without`` columns."""
    out: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = {}
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            if table.name == "workspace":
                where = table.c.id == workspace_id
            elif table.name == "id_counter":
                where = table.c.scope == workspace_id
            elif "workspace_id" in table.c:
                where = table.c.workspace_id == workspace_id
            else:
                continue
            columns = [c for c in table.c if (table.name, c.name) not in without]
            rows = [
                tuple(_cell(v) for v in row) for row in conn.execute(select(*columns).where(where))
            ]
            out[table.name] = ([c.name for c in columns], sorted(rows, key=repr))
    return out


def differences(
    expected: dict[str, tuple[list[str], list[tuple[Any, ...]]]],
    got: dict[str, tuple[list[str], list[tuple[Any, ...]]]],
) -> list[str]:
    """What differs, table by table (at most three rows each way)."""
    problems = []
    for name, (columns, rows) in expected.items():
        other = got[name][1]
        if rows == other:
            continue
        first = [r for r in rows if r not in other][:3]
        second = [r for r in other if r not in rows][:3]
        problems.append(
            f"{name} {columns}: {len(rows)} rows vs {len(other)}\n"
            + "".join(f"  only in the first: {r}\n" for r in first)
            + "".join(f"  only in the second: {r}\n" for r in second)
        )
    return problems


def counts(snap: dict[str, tuple[list[str], list[tuple[Any, ...]]]]) -> dict[str, int]:
    return {name: len(rows) for name, (_columns, rows) in snap.items() if rows}
