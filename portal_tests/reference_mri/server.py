"""The reference MRI as a real HTTP server on a free port, two ways (as
``portal_tests/reference/server.py`` does for the eSite):

- ``MriReferenceServer``: ``portal reference mri`` in a subprocess, started as the docs start it;
- ``ThreadedMriServer``: the same app factory under uvicorn in a thread of the test process:
  still real HTTP on loopback, and visible to coverage.

The test modules use the threaded one unless ``PORTAL_REFERENCE_VIA_CLI=1``;
``test_cli_server.py`` always goes through the CLI."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import uvicorn

from portal_tests.live import CliServer, free_port

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


class ThreadedMriServer:
    """uvicorn on ``create_app`` in a daemon thread; ``stop()`` asks it to exit."""

    def __init__(self) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.api_url = f"{self.base}{API_PATH}"
        self.server = uvicorn.Server(
            uvicorn.Config(
                "portal.reference.mri.app:create_app",
                factory=True,
                host="127.0.0.1",
                port=self.port,
                log_level="warning",
                lifespan="off",
                ws="none",
                timeout_graceful_shutdown=1,
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self, timeout: float = 30) -> ThreadedMriServer:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise AssertionError("the threaded reference MRI did not come up")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def __enter__(self) -> ThreadedMriServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
