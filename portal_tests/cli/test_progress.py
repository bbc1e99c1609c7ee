"""Long work shows progress in a terminal, and only there (issue 18, stumble 5): ``portal
clock advance``, ``portal seed`` and ``portal check`` run in a pseudo-terminal draw a rich
progress display on it; with ``--json``, or when stdout is not a terminal, nothing but the
result is printed."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

from portal.cli.advance import plan
from portal.workspaces.schemas import ClockAdvance
from portal_tests.cli.conftest import ROOT, SEED_DATA, at, new_workspace
from portal_tests.live import OPERATOR_KEY, LiveServer


def in_terminal(*args: str, timeout: float = 120) -> tuple[int, str]:
    """``portal ARGS`` with stdout and stderr on a pseudo-terminal: its exit code and all it
    drew (control sequences included)."""
    main, child = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
    for quiet in ("NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "FORCE_COLOR"):
        env.pop(quiet, None)
    proc = subprocess.Popen(
        [sys.executable, "-c", "from portal.cli import app; app()", *args],
        cwd=ROOT,
        stdin=child,
        stdout=child,
        stderr=child,
        env=env,
    )
    os.close(child)
    drawn = b""
    try:
        while select.select([main], [], [], timeout)[0]:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(main)
    return proc.wait(timeout=timeout), drawn.decode(errors="replace")


def url(server: LiveServer) -> list[str]:
    return ["--url", server.base, "--operator-key", OPERATOR_KEY]


def test_advance_draws_a_bar_in_a_terminal(server: LiveServer) -> None:
    ws = new_workspace(server)

    code, drawn = in_terminal("clock", "advance", ws["id"], "--by", "P2M", *url(server))

    assert code == 0, drawn
    assert f"advancing {ws['id']}" in drawn
    assert "━" in drawn.split("job(s) ran")[0]  # the bar, drawn before the summary
    assert "100%" in drawn
    assert "2026-09-02T14:00:00Z, 62 job(s) ran" in drawn


def test_seed_and_check_show_progress_in_a_terminal(server: LiveServer) -> None:
    scenario = SEED_DATA / "work-orders-inosio.json"

    seeded, seed_drawn = in_terminal("seed", str(scenario), *url(server))
    checked, check_drawn = in_terminal("check", *url(server))

    assert seeded == 0, seed_drawn
    assert f"loading {scenario} at {server.base}" in seed_drawn
    assert checked == 0, check_drawn
    assert "checking" in check_drawn
    assert "100%" in check_drawn


def test_json_in_a_terminal_is_only_json(server: LiveServer) -> None:
    ws = new_workspace(server)

    code, drawn = in_terminal("clock", "advance", ws["id"], "--by", "P2M", "--json", *url(server))

    assert code == 0, drawn
    result = json.loads(drawn)
    assert result["now"] == "2026-09-02T14:00:00Z"
    assert len(result["jobs"]) == 62


def test_no_progress_when_stdout_is_not_a_terminal(server: LiveServer, tmp_path: Path) -> None:
    ws = new_workspace(server)

    result = at(server, "clock", "advance", ws["id"], "--by", "P2M")

    assert result.exit_code == 0, result.output
    assert "advancing" not in result.output
    assert "\r" not in result.output
    assert "\x1b" not in result.output


class FixedClock:
    """A backend that only knows the workspace's clock (``plan`` asks nothing else)."""

    where = "test"

    def __init__(self, now: str) -> None:
        from datetime import datetime

        self.now = datetime.fromisoformat(now)

    def clock_now(self, workspace_id: str) -> object:
        return self.now


class TestPlan:
    def test_five_years_is_sixty_monthly_steps(self) -> None:
        steps = plan(FixedClock("2022-02-25T13:00:00+00:00"), "ws", ClockAdvance(by="P5Y"))

        assert len(steps.steps) == 60
        # New York wall-clock months: 08:00 EST, then 08:00 EDT (12:00 UTC) after 13 March.
        assert steps.steps[0].body == {"to": "2022-03-25T12:00:00+00:00"}
        assert steps.steps[1].body == {"to": "2022-04-25T12:00:00+00:00"}
        assert steps.steps[-1].body == {"to": "2027-02-25T13:00:00+00:00"}
        assert steps.steps[-1].done == steps.total

    def test_a_month_or_less_is_the_request_itself(self) -> None:
        fixed = FixedClock("2022-01-31T13:00:00+00:00")

        assert [s.body for s in plan(fixed, "ws", ClockAdvance(by="P1M")).steps] == [{"by": "P1M"}]
        assert [s.body for s in plan(fixed, "ws", ClockAdvance(by="PT2H")).steps] == [
            {"by": "PT2H"}
        ]

    def test_banking_days_go_in_steps_of_21(self) -> None:
        steps = plan(FixedClock("2022-01-31T13:00:00+00:00"), "ws", ClockAdvance(banking_days=50))

        assert [s.body for s in steps.steps] == [
            {"banking_days": 21},
            {"banking_days": 21},
            {"banking_days": 8},
        ]
        assert [s.done for s in steps.steps] == [21, 42, 50]
