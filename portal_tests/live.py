"""A real ``portal serve`` in a subprocess, on the suite's database, for tests that need what
an in-process client cannot give: several uvicorn workers racing each other (issue 14,
concurrency), a server killed with SIGKILL and restarted (crash safety), or a reference client
talking HTTP. The server is started exactly as the README starts it (``portal serve``), with
the operator key chosen by the test."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from portal.core.http import client as http_client
from portal_tests.conftest import TEST_PASSWORD_HASH_COST

ROOT = Path(__file__).resolve().parents[1]
OPERATOR_KEY = "live-operator-key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class CliServer:
    """A ``portal`` CLI command serving HTTP in a subprocess of its own process group, started
    as the docs start it; ``start()`` waits until ``health_path`` answers 200. Subclasses name
    the command (``command()``) and what else they need."""

    name = "portal"
    health_path = "/healthz"

    def __init__(self, log_path: Path, *, env: dict[str, str] | None = None) -> None:
        self.log_path = log_path
        self.env = dict(env or {})
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def settle(self) -> None:
        """Called once the health check answers (several workers need a moment more)."""

    def start(self, timeout: float = 60) -> Any:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from portal.cli import app; app()", *self.command()],
            cwd=ROOT,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own process group, so a kill reaches uvicorn's worker processes too.
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        # One client for the whole wait: each new httpx client loads the CA bundle (~20 ms).
        with http_client(timeout=1) as http:
            while time.monotonic() < deadline:
                try:
                    if http.get(f"{self.base}{self.health_path}").status_code == 200:
                        self.settle()
                        return self
                except httpx.HTTPError:
                    pass
                if self.proc.poll() is not None:
                    raise AssertionError(f"{self.name} exited: {self.log()}")
                time.sleep(0.05)
        self.stop()
        raise AssertionError(f"{self.name} did not come up: {self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL the whole process group: no shutdown handler, no rollback, as a crash."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        self.proc = None

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


class LiveServer(CliServer):
    """``portal serve --workers N`` on ``database_url``; ``start()`` waits for ``/healthz``."""

    name = "portal serve"

    def __init__(
        self,
        database_url: str,
        log_path: Path,
        *,
        workers: int = 1,
        env: dict[str, str] | None = None,
    ) -> None:
        super().__init__(
            log_path,
            env={
                "PORTAL_OPERATOR_KEY": OPERATOR_KEY,
                # The server hashes passwords at the suite's cheap cost too (conftest.py).
                "PORTAL_PASSWORD_HASH_COST": str(TEST_PASSWORD_HASH_COST),
                **(env or {}),
            },
        )
        self.database_url = database_url
        self.workers = workers

    @property
    def operator(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {OPERATOR_KEY}"}

    def command(self) -> list[str]:
        return [
            "serve",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--database-url",
            self.database_url,
        ]

    def settle(self) -> None:
        # With several workers, give each a moment to come up.
        if self.workers > 1:
            time.sleep(1.0)
