"""``portal seed FILE``: create the workspace a scenario file describes.

The file is read and checked as JSON here (a syntax error is ``file:line:col``), then sent whole
to the server (``POST /v1/sandbox/scenarios``) or loaded in-process (``--database-url``). The
portal's field errors name JSON paths; each is printed once, as ``file:line: $.path: message``
with the line of that path in the file, so an editor can jump to it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table

from portal.cli.jsonlines import line_of
from portal.cli.output import REFUSED, USAGE, CliError, Problem, out, print_json, say

#: The codes of a document that is not a valid scenario (over HTTP, or parsed in-process).
INVALID = frozenset({"invalid_scenario", "validation_failed", "malformed_json"})
#: Scenario keys listed after a load; a larger world is summarised (``--json`` lists all).
KEYS_SHOWN = 40


def read(path: Path) -> tuple[bytes, str, dict[str, Any]]:
    """The file's bytes, text and document; a ``CliError`` naming the place that is wrong."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CliError(f"{path}: {exc.strerror}", USAGE) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CliError(f"{path}: not UTF-8 text (byte {exc.start})", USAGE) from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(
            f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}", USAGE
        ) from None
    except RecursionError:
        raise CliError(f"{path}: nested too deeply to be a scenario", USAGE) from None
    if not isinstance(document, dict):
        raise CliError(f"{path}:1: a scenario is a JSON object", USAGE)
    return raw, text, document


def refused(path: Path, text: str, problem: Problem) -> CliError:
    """Print the refusal: each field error once, at its line; the error to end with."""
    if problem.code == "workspace_exists":
        hint = "" if "--replace" in problem.detail else " Pass --replace to load it again."
        return CliError(f"{problem.line()}{hint}", REFUSED)
    # A file that is not a valid scenario is bad input; a valid one the portal's rules refused
    # (``scenario_refused``: a payment over a limit) is a refusal.
    exit_code = USAGE if problem.code in INVALID or problem.status == 400 else REFUSED
    if not problem.errors:
        return CliError(f"{path}: {problem.line()}", exit_code)
    n = len(problem.errors)
    say(f"{path}: {problem.code} ({n} error{'' if n == 1 else 's'})", style="red")
    for error in problem.errors:
        field = str(error.get("field", ""))
        line = line_of(text, field)
        where = f"{path}:{line}" if line else str(path)
        message = str(error.get("message", ""))
        code = error.get("code")
        if code and code != "invalid" and str(code) not in message:
            message += f" ({code})"
        say(f"{where}: {field}: {message}")
    return CliError("", exit_code)


def report(path: Path, loaded: dict[str, Any], where: str, *, as_json: bool) -> None:
    if as_json:
        print_json(loaded)
        return
    line = f"seeded {loaded['workspace_id']} from {path}"
    if loaded.get("scenario"):
        line += f" (scenario {loaded['scenario']})"
    _print(f"{line} at {where}")
    clock = loaded.get("clock") or {}
    if clock:
        _print(
            f"  clock     {clock.get('now')} ({clock.get('mode', 'simulated')}; business date "
            f"{clock.get('business_date')})"
        )
    landlord = loaded.get("landlord") or {}
    if landlord:
        _print(f"  landlord  {landlord.get('email')} / {landlord.get('password')}")
    for key, token in (loaded.get("tokens") or {}).items():
        _print(f"  token     {key}: {token}")
    scheduled = loaded.get("scheduled") or []
    if scheduled:
        _print(f"  later     {len(scheduled)} reversal(s) happen when the clock passes them")
    keys: dict[str, str] = loaded.get("keys") or {}
    if len(keys) > KEYS_SHOWN:
        _print(f"  keys      {len(keys):,} scenario keys (--json lists them with their IDs)")
    elif keys:
        table = Table("key", "ID", header_style="bold", box=None, padding=(0, 2, 0, 2))
        for key, value in keys.items():
            table.add_row(escape(key), escape(value))
        out.print(table)


def _print(text: str) -> None:
    out.print(escape(text), soft_wrap=True, highlight=False)
