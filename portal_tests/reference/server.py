"""The reference eSite as a real HTTP server on a free port, two ways:

- ``ReferenceServer``: ``portal reference amsi`` in a subprocess, started exactly as the docs
  start it (the CLI), as ``live.py`` starts ``portal serve``;
- ``ThreadedReferenceServer``: the same app factory under uvicorn in a thread of the test
  process: still real HTTP on loopback, and visible to coverage (code run in a subprocess is
  not measured, and the reference server is a seventh of the package).

The test modules use the threaded one unless ``PORTAL_REFERENCE_VIA_CLI=1``;
``test_cli_server.py`` always goes through the CLI."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Self

import uvicorn

from portal_tests.live import CliServer, free_port

#: Where the fixture's eSite URL puts the services (connectors.md §1.1).
ESITE_PATH = "/amsiweb/edexweb/esite"


class ReferenceServer(CliServer):
    """``portal reference amsi`` on a free port; ``start()`` waits for ``/_ref/health``."""

    name = "portal reference amsi"
    health_path = "/_ref/health"

    def __init__(self, log_path: Path) -> None:
        super().__init__(log_path)
        self.esite_url = f"{self.base}{ESITE_PATH}"

    def command(self) -> list[str]:
        return ["reference", "amsi", "--host", "127.0.0.1", "--port", str(self.port)]


class ThreadedReferenceServer:
    """uvicorn on ``create_app`` in a daemon thread; ``stop()`` asks it to exit. Another
    reference server's launcher names its own ``app_path`` (reference_mri/server.py)."""

    app_path = "portal.reference.amsi.app:create_app"

    def __init__(self) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.esite_url = f"{self.base}{ESITE_PATH}"
        self.server = uvicorn.Server(
            uvicorn.Config(
                self.app_path,
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

    def start(self, timeout: float = 30) -> Self:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise AssertionError("the threaded reference server did not come up")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
