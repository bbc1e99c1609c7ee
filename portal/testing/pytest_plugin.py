"""The portal's pytest plugin: test an accounting client against a live portal, the way
LocalStack and WireMock users test against theirs (``docs/pytest-plugin.md``).

Fixtures:

- ``portal_server`` (session): ``portal serve`` on a free port, SQLite in a temporary folder,
  a generated operator key; or, with ``--portal-url URL`` (and ``--portal-operator-key`` or
  ``PORTAL_OPERATOR_KEY``), a server already running. A :class:`~portal.testing.PortalServer`.
- ``portal_workspace``: a fresh workspace per test, deleted afterwards; from a scenario with
  ``@pytest.mark.portal_scenario("seed_data/oak-street-landlord12.json")`` (a path or a dict),
  created with ``@pytest.mark.portal_workspace(seed=7, clock={"now": ...})``. A
  :class:`~portal.testing.PortalWorkspace`.
- ``portal_clock``: the workspace's :class:`~portal.testing.PortalClock` (``advance``, ``now``,
  ``freeze``).
- ``portal_mailbox``: the workspace's :class:`~portal.testing.PortalMailbox` (``emails``,
  ``assert_sent``).
- ``portal_journal``: the workspace's :class:`~portal.testing.PortalJournal` (``entries``,
  ``verify(exactly=/at_least=/at_most=)``, ``reset``): the requests the portal received.

Registered by ``pip install portal`` (entry point ``pytest11``); ``-p
portal.testing.pytest_plugin`` loads it from a checkout. Inert until a test asks for one of its
fixtures: no server starts at import or collection.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from portal.testing._http import PortalRequestError
from portal.testing.clock import PortalClock
from portal.testing.journal import PortalJournal
from portal.testing.mailbox import PortalMailbox
from portal.testing.server import PortalServer, ScenarioSource
from portal.testing.workspace import PortalWorkspace

MARKERS = (
    "portal_scenario(source): load the test's portal_workspace from a scenario: a path "
    "(absolute, or relative to the test file, the rootdir or the working directory) or a dict",
    "portal_workspace(**body): how to create the test's portal_workspace (the body of POST "
    "/v1/sandbox/workspaces: seed, clock, settings, name, landlord); with portal_scenario, "
    "overrides the scenario's workspace section",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("portal", "portal simulator (portal.testing)")
    group.addoption(
        "--portal-url",
        metavar="URL",
        default=None,
        help="Test against the portal running at URL instead of starting `portal serve`.",
    )
    group.addoption(
        "--portal-operator-key",
        metavar="KEY",
        default=None,
        help="Its operator key (default: $PORTAL_OPERATOR_KEY; generated for a started server).",
    )
    group.addoption(
        "--portal-database-url",
        metavar="URL",
        default=None,
        help="Database of the started server (default: SQLite in a temporary folder).",
    )
    group.addoption(
        "--portal-keep-workspaces",
        action="store_true",
        default=False,
        help="Do not delete each test's workspace afterwards (to look at it on --portal-url).",
    )


def pytest_configure(config: pytest.Config) -> None:
    for line in MARKERS:
        config.addinivalue_line("markers", line)


def _option(config: pytest.Config, name: str) -> Any:
    # getoption with a default: the plugin may have been registered after option parsing.
    return config.getoption(name, default=None)


@pytest.fixture(scope="session")
def portal_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PortalServer]:
    """A live portal for the whole session: started here, or ``--portal-url``'s."""
    config = request.config
    url = _option(config, "portal_url")
    key = _option(config, "portal_operator_key") or os.environ.get("PORTAL_OPERATOR_KEY")
    try:
        if url:
            if not key:
                raise RuntimeError(
                    "--portal-url needs --portal-operator-key or PORTAL_OPERATOR_KEY"
                )
            server = PortalServer.connect(url, key)
        else:
            server = PortalServer.start(
                tmp_path_factory.mktemp("portal"),
                operator_key=key,
                database_url=_option(config, "portal_database_url"),
            )
    except (RuntimeError, PortalRequestError) as exc:  # cannot start, or the key is refused
        pytest.fail(f"portal_server: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def portal_workspace(
    portal_server: PortalServer, request: pytest.FixtureRequest
) -> Iterator[PortalWorkspace]:
    """A fresh workspace for this test (``portal_scenario`` / ``portal_workspace`` markers, or
    a scenario given by indirect parametrization), deleted after it."""
    body_marker = request.node.get_closest_marker("portal_workspace")
    body: dict[str, Any] = dict(body_marker.kwargs) if body_marker else {}
    source = _scenario_source(request)
    if source is None:
        body.setdefault("name", f"pytest {request.node.name}"[:200])
        workspace = portal_server.create_workspace(**body)
    else:
        workspace = portal_server.load_scenario(source, **body)
    # Shown with a failure: which workspace to look at (--portal-keep-workspaces keeps it).
    log = f"; server log {portal_server.log_path}" if portal_server.log_path else ""
    where = f"workspace {workspace.id} on {portal_server.url}{log}\n"
    request.node.add_report_section("setup", "portal", where)
    try:
        yield workspace
    finally:
        workspace.close(delete=not _option(request.config, "portal_keep_workspaces"))


@pytest.fixture
def portal_clock(portal_workspace: PortalWorkspace) -> PortalClock:
    """The clock of this test's workspace."""
    return portal_workspace.clock


@pytest.fixture
def portal_mailbox(portal_workspace: PortalWorkspace) -> PortalMailbox:
    """The mailbox of this test's workspace."""
    return portal_workspace.mailbox


@pytest.fixture
def portal_journal(portal_workspace: PortalWorkspace) -> PortalJournal:
    """The request journal of this test's workspace."""
    return portal_workspace.journal


def _scenario_source(request: pytest.FixtureRequest) -> ScenarioSource | None:
    marker = request.node.get_closest_marker("portal_scenario")
    given: Any = getattr(request, "param", None)
    if given is None and marker is not None:
        if len(marker.args) != 1:
            raise pytest.UsageError("portal_scenario takes one argument: a path or a dict")
        given = marker.args[0]
    if given is None or isinstance(given, dict):
        return given
    path = Path(given)
    if path.is_absolute():
        return path
    bases = (request.path.parent, request.config.rootpath, Path.cwd())
    for base in bases:
        if (base / path).is_file():
            return base / path
    tried = ", ".join(str(base / path) for base in bases)
    raise pytest.UsageError(f"portal_scenario: no file {str(given)!r} (tried {tried})")
