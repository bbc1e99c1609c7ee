"""``--database-url`` works on a database only if it exists (issue 18, stumble 4), and a bad
database URL is one line (stumble 6), for the data commands and for ``serve`` and
``migrate``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from portal_tests.cli.conftest import SEED_DATA, portal
from portal_tests.live import free_port

DATA_COMMANDS = [
    ("check",),
    ("seed", str(SEED_DATA / "oak-street-landlord12.json")),
    ("clock", "advance", "ws_x", "--by", "P1D"),
]


@pytest.mark.parametrize("args", DATA_COMMANDS, ids=lambda a: a[0])
def test_a_missing_sqlite_file_is_not_created(tmp_path: Path, args: tuple[str, ...]) -> None:
    missing = tmp_path / "portal.db"
    url = f"sqlite:///{missing}"

    result = portal(*args, "--database-url", url)

    assert result.exit_code == 3
    assert result.output.startswith(f"no database at {missing} (--database-url {url}); nothing")
    assert len(result.output.strip().splitlines()) == 1
    assert not missing.exists()


def test_a_file_that_is_not_a_portal_database_is_left_alone(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    create_engine(f"sqlite:///{other}").connect().close()
    size = other.stat().st_size

    result = portal("check", "--database-url", f"sqlite:///{other}")

    assert result.exit_code == 3
    assert "is not a portal database" in result.output
    assert other.stat().st_size == size
    assert inspect(create_engine(f"sqlite:///{other}")).get_table_names() == []


def test_an_existing_database_is_worked_on_directly(database_url: str) -> None:
    seeded = portal(
        "seed", str(SEED_DATA / "oak-street-landlord12.json"), "--database-url", database_url
    )
    checked = portal("check", "ws_oak_street", "--database-url", database_url, "--json")
    missing = portal("check", "ws_nope", "--database-url", database_url)

    assert seeded.exit_code == 0, seeded.output
    assert "seeded ws_oak_street" in seeded.stdout
    assert "at database sqlite" in seeded.stdout or "at database postgresql" in seeded.stdout
    assert json.loads(checked.stdout)["workspaces"] == ["ws_oak_street"]
    assert missing.exit_code == 2
    assert "workspace_not_found" in missing.output
    assert "(looked at database " in missing.output


BAD_URLS = {
    "unparseable": ("nonsense", "is not a database URL"),
    "unknown driver": ("nodb://host/db", "unknown database driver 'nodb'"),
    "unreachable host": (
        "postgresql+psycopg://tester:s3cret@127.0.0.1:1/portal",
        "cannot open the database postgresql+psycopg://tester:***@127.0.0.1:1/portal",
    ),
}


@pytest.mark.parametrize("case", BAD_URLS, ids=str)
@pytest.mark.parametrize("command", ["check", "migrate", "serve"])
def test_a_bad_database_url_is_one_line(case: str, command: str) -> None:
    url, said = BAD_URLS[case]
    port = ["--port", str(free_port())] if command == "serve" else []

    result = portal(command, "--database-url", url, *port)

    assert result.exit_code in (2, 3), result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert said in lines[0]
    assert "s3cret" not in result.output
    assert "listening on" not in result.output
