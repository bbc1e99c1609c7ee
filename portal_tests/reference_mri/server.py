"""The reference MRI as a real HTTP server on a free port, two ways (as
``portal_tests/reference/server.py`` does for the eSite):

- ``MriReferenceServer``: ``portal reference mri`` in a subprocess, started as the docs start it;
- ``ThreadedMriServer``: the same app factory under uvicorn in a thread of the test process:
  still real HTTP on loopback, and visible to coverage.

The test modules use the threaded one unless ``PORTAL_REFERENCE_VIA_CLI=1``;
``test_cli_server.py`` always goes through the CLI."""

from __future__ import annotations

from pathlib import Path

from portal_tests.live import CliServer
from portal_tests.reference.server import ThreadedReferenceServer

#: Where MRI's URL puts the endpoint (connectors.md §2.1).
API_PATH = "/mriapiservices/api.asp"


class MriReferenceServer(CliServer):
    """``portal reference mri`` on a free port; ``start()`` waits for ``/_ref/health``."""

    name = "portal reference mri"
    health_path = "/_ref/health"

    def __init__(self, log_path: Path, *, seed: Path | None = None) -> None:
        super().__init__(log_path)
        self.seed = seed
        self.api_url = f"{self.base}{API_PATH}"

    def command(self) -> list[str]:
        seed = ["--seed", str(self.seed)] if self.seed is not None else []
        return ["reference", "mri", "--host", "127.0.0.1", "--port", str(self.port), *seed]


class ThreadedMriServer(ThreadedReferenceServer):
    """uvicorn on the MRI app in a daemon thread (the eSite launcher's mechanics)."""

    app_path = "portal.reference.mri.app:create_app"

    def __init__(self) -> None:
        super().__init__()
        self.api_url = f"{self.base}{API_PATH}"
