"""What the ``portal`` command prints and how it fails.

Results go to stdout (a summary for people, ``--json`` for programs); messages, errors and
progress displays go to stderr. A failure a person meets is one line, never a traceback, and
ends the command with one of these exit codes:

- 1 ``REFUSED``: the server or database refused (a problem such as ``workspace_not_found``),
  or ``portal check`` found a violation;
- 2 ``USAGE``: bad input: an option, a scenario file, a database URL;
- 3 ``UNREACHABLE``: no server answers at ``--url``, or no database at ``--database-url``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

REFUSED = 1
USAGE = 2
UNREACHABLE = 3

#: Messages, errors and progress (stderr); results (stdout). Both follow sys.stdout/sys.stderr
#: as they are when printing, so typer's CliRunner captures them.
err = Console(stderr=True)
out = Console()


class CliError(Exception):
    """A failure told in one line, with the exit code it ends the command with."""

    def __init__(self, message: str, exit_code: int = REFUSED) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class Problem(Exception):
    """An ``application/problem+json`` answer (or the same error raised in-process with
    ``--database-url``), with where it came from: the server's URL or the database."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        where: str = "",
    ) -> None:
        super().__init__(f"{code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.errors = list(errors or [])
        self.where = where

    @property
    def route_missing(self) -> bool:
        """The server has no such route (an older portal): a plain 404 from the router."""
        return self.status == 404 and self.code == "not_found" and self.detail == "Not Found"

    def line(self) -> str:
        text = f"{self.code}: {self.detail}"
        if self.status == 404 and self.where:
            text += f" (looked at {self.where})"
        return text


def say(message: str, *, style: str | None = None) -> None:
    """One message line on stderr, never wrapped (a path or a token stays whole)."""
    text = escape(message)
    err.print(f"[{style}]{text}[/{style}]" if style else text, soft_wrap=True, highlight=False)


def fail(message: str, exit_code: int = REFUSED) -> NoReturn:
    say(message, style="red")
    raise typer.Exit(exit_code)


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


def interactive(as_json: bool = False) -> bool:
    """Progress displays only for a person watching: stdout and stderr both a terminal, and
    no ``--json``."""
    return not as_json and sys.stdout.isatty() and err.is_terminal


@contextmanager
def handled(problem_exit: int = REFUSED) -> Iterator[None]:
    """Turn the CLI's errors into one line and an exit code (a problem the server answered
    ends with ``problem_exit``, or 2 for a request it could not accept)."""
    try:
        yield
    except CliError as exc:
        if exc.message:
            say(exc.message, style="red")
        raise typer.Exit(exc.exit_code) from None
    except Problem as exc:
        say(exc.line(), style="red")
        raise typer.Exit(USAGE if exc.status in (400, 422) else problem_exit) from None
    except KeyboardInterrupt:
        say("interrupted", style="red")
        raise typer.Exit(130) from None
