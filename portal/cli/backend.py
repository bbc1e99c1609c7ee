"""Where a data command works: the server at ``--url`` (the default), or with
``--database-url`` an existing database, in-process. Both offer the same operations and raise
the same errors (``Problem``, ``CliError``), so each command is written once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any, Protocol

import typer

from portal.cli.remote import DEFAULT_URL

Url = Annotated[
    str,
    typer.Option(
        "--url",
        envvar="PORTAL_URL",
        show_envvar=True,
        help="The running portal server to talk to.",
    ),
]
OperatorKey = Annotated[
    str | None,
    typer.Option(
        "--operator-key",
        envvar="PORTAL_OPERATOR_KEY",
        show_envvar=True,
        show_default=False,
        help="The server's operator key (`portal serve` prints it).",
    ),
]
DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        show_default=False,
        help="Work on this database directly instead of a server; it must exist "
        "(nothing is created).",
    ),
]
AsJson = Annotated[
    bool,
    typer.Option("--json", help="Print the full result as JSON (no progress display)."),
]


class Backend(Protocol):
    where: str
    """The server's URL, or ``database <url>``: what messages name."""

    def clock_now(self, workspace_id: str) -> datetime: ...

    def advance(self, workspace_id: str, body: dict[str, Any]) -> dict[str, Any]: ...

    def workspace_ids(self) -> list[str]: ...

    def check(self, workspace_id: str) -> dict[str, Any]: ...

    def seed(self, text: bytes, document: dict[str, Any], *, replace: bool) -> dict[str, Any]: ...

    def close(self) -> None: ...


@contextmanager
def connect(
    url: str = DEFAULT_URL, operator_key: str | None = None, database_url: str | None = None
) -> Iterator[Backend]:
    from portal.cli.local import DatabaseBackend
    from portal.cli.remote import HttpBackend

    backend: Backend = (
        DatabaseBackend(database_url) if database_url else HttpBackend(url, operator_key)
    )
    try:
        yield backend
    finally:
        backend.close()
