"""The reference client shows the problem's ``code`` and ``detail``, not an httpx traceback,
and ``--help`` works even where httpx is not installed (issue 18, stumble 6)."""

from __future__ import annotations

import subprocess
import sys

from portal_tests.cli.conftest import ROOT
from portal_tests.live import LiveServer, free_port

CLIENT = ROOT / "examples" / "landlord12_client.py"


def client(*args: str, without_httpx: bool = False) -> subprocess.CompletedProcess[str]:
    """``python examples/landlord12_client.py ARGS``, optionally as on a Python without httpx."""
    hide = "import sys; sys.modules['httpx'] = None; " if without_httpx else "import sys; "
    code = (
        f"{hide}import runpy; sys.argv = [{str(CLIENT)!r}, *sys.argv[1:]]; "
        f"runpy.run_path({str(CLIENT)!r}, run_name='__main__')"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )


def test_help_needs_no_httpx() -> None:
    done = client("--help", without_httpx=True)

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: landlord12_client.py [-h] [--base BASE]")
    assert "--token TOKEN" in done.stdout
    assert "--balances BALANCES" in done.stdout


def test_without_httpx_it_says_what_to_install() -> None:
    done = client("--token", "x", without_httpx=True)

    assert done.returncode == 2
    assert done.stderr.strip().startswith("landlord12_client.py needs httpx: `pip install httpx`")


def test_a_refused_call_shows_the_problem(server: LiveServer) -> None:
    done = client("--base", server.base, "--token", "not-a-token")

    assert done.returncode == 1
    assert done.stderr.strip() == (
        "Check Server for More Batches failed: 401 token_invalid: The bearer token is not valid."
    )
    assert "Traceback" not in done.stderr


def test_no_server_is_one_line() -> None:
    base = f"http://127.0.0.1:{free_port()}"

    done = client("--base", base, "--token", "x")

    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"cannot reach the portal at {base}: [Errno 111] Connection refused"
    ]
