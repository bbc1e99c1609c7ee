"""``examples/test_pull_flow.py`` (issue 18, acceptance 4) runs as a tester runs it: pytest in a
subprocess, with only the plugin, under this project's strict pytest settings; and the plugin
is inert in a run that does not use its fixtures."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from portal.testing import PortalServer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "test_pull_flow.py"
PLUGIN = "portal.testing.pytest_plugin"
INERT = """
import sys

import pytest

SERVER = ("portal.", "fastapi", "sqlalchemy", "uvicorn")


@pytest.mark.portal_scenario("nowhere.json")
@pytest.mark.portal_workspace(seed=1)
def test_nothing_started():
    loaded = [m for m in sys.modules if m.startswith(SERVER)]
    assert [m for m in loaded if not m.startswith("portal.testing")] == []
"""


def pytest_run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """``python -m pytest ARGS`` with the plugin and no other: installed plugins are not
    auto-loaded (faster, and the run proves the example needs nothing else)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_CORE_"))}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", PLUGIN, *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_the_example_drives_the_pull_flow_on_a_server_of_its_own() -> None:
    done = pytest_run("-q", str(EXAMPLE))

    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


def test_the_example_runs_against_a_running_portal(portal_server: PortalServer) -> None:
    def workspaces() -> dict[str, str]:
        page = portal_server.operator.get("/v1/sandbox/workspaces", params={"limit": 500})
        return {ws["id"]: ws["name"] for ws in page.json()["data"]}

    before = workspaces()
    url, key = portal_server.url, portal_server.operator_key
    done = pytest_run(
        "-q",
        str(EXAMPLE),
        "--portal-url",
        url,
        "--portal-operator-key",
        key,
        "--portal-keep-workspaces",
    )

    assert done.returncode == 0, done.stdout + done.stderr
    [(kept, name)] = [(i, n) for i, n in workspaces().items() if i not in before]
    assert name == "pytest test_pull_flow"
    # What the example asserted, seen from outside: the deposit report of 7 July was e-mailed.
    mailbox = portal_server.operator.get(f"/v1/sandbox/workspaces/{kept}/mailbox")
    kinds = [email["kind"] for email in mailbox.json()["data"]]
    assert kinds.count("batch_deposit_report") == 1
    portal_server.delete_workspace(kept)


def test_the_plugin_is_inert_until_a_fixture_is_used(tmp_path: Path) -> None:
    # Nothing listens on port 9: the run passes only if the plugin never starts or reaches a
    # server, and it imports none of the server's code (the tester's process talks HTTP only).
    (tmp_path / "test_inert.py").write_text(INERT)

    done = pytest_run(
        "-q",
        "--strict-markers",
        "-W",
        "error",
        "--portal-url",
        "http://127.0.0.1:9",
        str(tmp_path / "test_inert.py"),
        "--rootdir",
        str(tmp_path),
        cwd=tmp_path,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


def test_the_entry_point_is_named_after_the_module() -> None:
    # pytest registers an entry point under its name; ``-p portal.testing.pytest_plugin`` then
    # registers the module again under the module's name, and pytest refuses to start
    # ("Plugin already registered under a different name") unless the two names are one.
    names = [ep.name for ep in entry_points(group="pytest11") if ep.value == PLUGIN]
    if not names:
        pytest.skip("pytest11 entry point not registered (pyproject.toml, then pip install -e .)")
    assert names == [PLUGIN]
