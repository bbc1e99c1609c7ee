"""``portal serve``, ``portal migrate`` and ``portal reference amsi|mri``: the commands that
start servers or prepare a database (and may create one).

Before anything is printed, ``serve`` checks that its port is free and that the database URL
opens: a busy port or a bad URL is one line and a non-zero exit, never a banner followed by a
traceback.
"""

from __future__ import annotations

import errno
import json
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from portal.cli import local, seeding
from portal.cli.output import REFUSED, USAGE, CliError, Problem, err, fail, say
from portal.cli.remote import DEFAULT_URL
from portal.core.settings import Settings


def port_free(host: str, port: int) -> None:
    """Bind ``host:port`` as uvicorn will (``SO_REUSEADDR``); a ``CliError`` if that fails."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise CliError(f"--host {host!r}: {exc.strerror}", USAGE) from None
    with socket.socket(family, kind, proto) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise CliError(
                    f"port {port} is in use on {host}: another server is listening there; "
                    "stop it, or choose another port with --port",
                    REFUSED,
                ) from None
            raise CliError(f"cannot listen on {host}:{port}: {exc.strerror}", REFUSED) from None


def settings_for(database_url: str | None) -> Settings:
    try:
        return Settings(database_url=database_url) if database_url else Settings()
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        name = "_".join(str(p) for p in first["loc"]).upper()
        raise CliError(f"PORTAL_{name}: {first['msg']}", USAGE) from None


def prepared_engine(url: str, option: str | None) -> Engine:
    """An engine on ``url`` (created if it is a new SQLite file) at the newest migration;
    ``option`` is the --database-url given, if any (else the URL came from the settings)."""
    from portal import models  # noqa: F401
    from portal.core.migrate import upgrade

    label = "--database-url" if option else "PORTAL_DATABASE_URL"
    engine = local.engine_for(url, label)
    try:
        upgrade(engine)
    except DBAPIError as exc:
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise CliError(f"cannot migrate {local.shown(url)}: {reason}", REFUSED) from None
    return engine


def cli_url(host: str, port: int) -> str:
    """The URL the CLI reaches a server bound to ``host`` at (any interface: loopback)."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    shown = f"[{shown}]" if ":" in shown else shown
    return f"http://{shown}:{port}"


def banner(host: str, port: int, settings: Settings, operator_key: str) -> None:
    err.print(f"[bold]portal[/bold] listening on http://{host}:{port}  (docs: /docs)")
    err.print(f"database: {local.shown(settings.database_url)}", soft_wrap=True)
    source = "PORTAL_OPERATOR_KEY" if settings.operator_key else "generated and stored"
    err.print(f"operator key ({source}): [bold]{operator_key}[/bold]", soft_wrap=True)
    url = cli_url(host, port)
    env = "" if url == DEFAULT_URL else f"PORTAL_URL={url} "
    if not settings.operator_key:
        env += f"PORTAL_OPERATOR_KEY={operator_key} "
    if env:
        say(f"portal seed / clock / check / trigger from another shell: export {env.strip()}")


def seed_at_start(database_url: str, path: Path) -> None:
    """``serve --scenario FILE``: load it unless its workspace exists."""
    raw, text, document = seeding.read(path)
    backend = local.DatabaseBackend(database_url)
    try:
        loaded = backend.seed(raw, document, replace=False)
    except Problem as exc:
        if exc.code == "workspace_exists":
            say(f"{path}: its workspace exists; scenario not loaded again")
            return
        raise seeding.refused(path, text, exc) from None
    finally:
        backend.close()
    seeding.report(path, loaded, backend.where, as_json=False)


def serve_reference(
    app_path: str,
    *,
    host: str,
    port: int,
    seed: Path | None,
    seed_env: str,
    check_seed: Callable[[Any, Path], Any],
    banner: str,
) -> None:
    """Run a reference server's app under uvicorn, with its seed file checked first."""
    import uvicorn

    try:
        port_free(host, port)
    except CliError as exc:
        fail(exc.message, exc.exit_code)
    if seed is not None:
        try:  # checked here, so a bad seed is one line, not a server that fails to start
            counts = check_seed(json.loads(seed.read_text()), seed.parent)
        except (ValueError, OSError) as exc:
            err.print(f"[red]{seed}: {exc}[/red]")
            raise typer.Exit(2) from None
        err.print(f"seed {seed}: {counts}")
        os.environ[seed_env] = str(seed.resolve())
    err.print(banner)
    # One process: the state is in its memory. A hung call (timeout fault) must not hold up
    # a shutdown for long.
    uvicorn.run(
        app_path,
        factory=True,
        host=host,
        port=port,
        log_level="info",
        timeout_graceful_shutdown=2,
    )
