"""The reference eSite as a real HTTP server on a free port, two ways:

- ``ReferenceServer``: ``portal reference amsi`` in a subprocess, started exactly as the docs
  start it (the CLI), as ``live.py`` starts ``portal serve``;
- ``ThreadedReferenceServer``: the same app factory under uvicorn in a thread of the test
  process: still real HTTP on loopback, and visible to coverage (code run in a subprocess is
  not measured, and the reference server is a seventh of the package).

The test modules use the threaded one unless ``PORTAL_REFERENCE_VIA_CLI=1``;
``test_cli_server.py`` always goes through the CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from portal_tests.live import ROOT, free_port

#: Where the fixture's eSite URL puts the services (connectors.md §1.1).
ESITE_PATH = "/amsiweb/edexweb/esite"


class ReferenceServer:
    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.esite_url = f"{self.base}{ESITE_PATH}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> ReferenceServer:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from portal.cli import app; app()",
                "reference",
                "amsi",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            cwd=ROOT,
            env=dict(os.environ),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/_ref/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                raise AssertionError(f"portal reference amsi exited: {self.log()}")
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"portal reference amsi did not come up: {self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def __enter__(self) -> ReferenceServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


class ThreadedReferenceServer:
    """uvicorn on ``create_app`` in a daemon thread; ``stop()`` asks it to exit."""

    def __init__(self) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.esite_url = f"{self.base}{ESITE_PATH}"
        self.server = uvicorn.Server(
            uvicorn.Config(
                "portal.reference.amsi.app:create_app",
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

    def start(self, timeout: float = 30) -> ThreadedReferenceServer:
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

    def __enter__(self) -> ThreadedReferenceServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
