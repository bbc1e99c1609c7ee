"""``portal serve`` in a subprocess, started with the interpreter running the tests (where
``portal`` is installed) as the README starts it, and stopped with its whole process group."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from importlib.metadata import entry_points
from pathlib import Path

import httpx

from portal.testing import _http


def new_operator_key() -> str:
    """A fresh operator key for a server started by the tests."""
    return "op-" + os.urandom(16).hex()


def _cli() -> list[str]:
    """The ``portal`` command run by the interpreter running the tests (where ``portal`` is
    installed): the console script's own target, so no PATH lookup is needed."""
    target = next(iter(entry_points(group="console_scripts", name="portal")), None)
    module, attr = (target.module, target.attr) if target else ("portal.cli", "app")
    return [sys.executable, "-c", f"from {module} import {attr}; {attr}()"]


def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class ServeProcess:
    """``portal serve`` in a subprocess of its own process group, logging to ``log_path``."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        database_url: str,
        operator_key: str,
        log_path: Path,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.url = f"http://{host}:{port}"
        self.log_path = log_path
        command = [*_cli(), "serve", "--host", host, "--port", str(port)]
        command += ["--database-url", database_url]
        environ = {
            **os.environ,
            **(env or {}),
            "PORTAL_OPERATOR_KEY": operator_key,
            "PORTAL_BASE_URL": self.url,
        }
        with log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                command,
                # Not the tests' folder: ``-c`` puts the working directory first on sys.path.
                cwd=log_path.parent,
                env=environ,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own process group, so stopping it reaches uvicorn's children too.
                start_new_session=True,
            )

    def wait_healthy(self, timeout: float) -> bool:
        """True once ``/healthz`` answers 200; False if the process exited first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                if _http.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"portal serve did not answer {self.url}/healthz in {timeout:.0f} s")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._signal(getattr(signal, "SIGKILL", signal.SIGTERM))
                self.proc.wait()

    def _signal(self, sig: signal.Signals) -> None:
        try:
            if hasattr(os, "killpg"):
                os.killpg(self.proc.pid, sig)
            else:  # pragma: no cover - Windows
                self.proc.terminate()
        except ProcessLookupError:
            pass
