"""``portal serve`` on a busy port says so before anything else (issue 18, stumble 6), and
``portal --version``."""

from __future__ import annotations

import socket
from importlib.metadata import version
from pathlib import Path

from portal_tests.cli.conftest import portal
from portal_tests.live import free_port


def test_a_busy_port_is_one_line_and_no_banner(tmp_path: Path) -> None:
    database = tmp_path / "portal.db"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", free_port()))
        taken.listen()
        port = taken.getsockname()[1]

        result = portal("serve", "--port", str(port), "--database-url", f"sqlite:///{database}")

    assert result.exit_code == 1
    assert result.output.strip() == (
        f"port {port} is in use on 127.0.0.1: another server is listening there; stop it, or "
        "choose another port with --port"
    )
    assert not database.exists()  # checked before the database is touched


def test_a_reference_server_on_a_busy_port_too() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", free_port()))
        taken.listen()
        port = taken.getsockname()[1]

        result = portal("reference", "amsi", "--port", str(port))

    assert result.exit_code == 1
    assert f"port {port} is in use" in result.output
    assert "reference AMSI eSite" not in result.output


def test_version() -> None:
    result = portal("--version")

    assert result.exit_code == 0
    assert result.stdout == f"portal {version('portal')}\n"
