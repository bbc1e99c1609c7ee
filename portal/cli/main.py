"""The ``portal`` commands and their options (architecture.md §10).

Data commands (``seed``, ``clock advance``, ``check``, ``trigger``) talk to a running server
(``--url``, ``PORTAL_URL``, default http://127.0.0.1:8000; ``--operator-key``,
``PORTAL_OPERATOR_KEY``), or with ``--database-url`` work on an existing database in-process.
``serve``, ``migrate`` and ``reference`` start servers or prepare a database.
"""

from __future__ import annotations

import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from portal.cli import advance, checking, seeding, serving, trigger
from portal.cli.backend import AsJson, DatabaseUrl, OperatorKey, Url, connect
from portal.cli.output import USAGE, Problem, err, fail, handled, interactive
from portal.cli.progress import spinner
from portal.cli.remote import DEFAULT_URL

app = typer.Typer(help="Rent-payment portal simulator.", no_args_is_help=True, add_completion=False)
clock_app = typer.Typer(help="Move a workspace's clock.", no_args_is_help=True)
reference_app = typer.Typer(
    help="Reference vendor servers (docs/reference-amsi.md).", no_args_is_help=True
)
app.add_typer(clock_app, name="clock")
app.add_typer(trigger.app, name="trigger")
app.add_typer(reference_app, name="reference")


def _version(value: bool) -> None:
    if value:
        try:
            typer.echo(f"portal {version('portal')}")
        except PackageNotFoundError:  # run from a source tree that was never installed
            typer.echo("portal (not installed)")
        raise typer.Exit()


@app.callback()
def main(
    _version_flag: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Rent-payment portal simulator: serve it, seed scenarios, move clocks, check ledgers."""


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="uvicorn worker processes.")] = 1,
    database_url: Annotated[
        str | None,
        typer.Option(help="Overrides PORTAL_DATABASE_URL (default: ./portal.db; created)."),
    ] = None,
    scenario: Annotated[
        Path | None,
        typer.Option(help="Load this scenario first (skipped if its workspace exists)."),
    ] = None,
) -> None:
    """Upgrade the database to the newest migration and serve the API."""
    import uvicorn

    from portal.auth import service as auth_service
    from portal.core.db import session_scope

    with handled():
        serving.port_free(host, port)
        if database_url:
            # Exported so uvicorn's worker processes build the same settings.
            os.environ["PORTAL_DATABASE_URL"] = database_url
        settings = serving.settings_for(database_url)
        engine = serving.prepared_engine(settings.database_url, database_url)
        try:
            with session_scope(engine) as session:
                key = auth_service.ensure_secret(session, "operator_key", settings.operator_key)
                auth_service.ensure_secret(session, "signing_key", settings.secret_key)
        finally:
            engine.dispose()
        if scenario is not None:
            serving.seed_at_start(settings.database_url, scenario)
    serving.banner(host, port, settings, key)
    uvicorn.run(
        "portal.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=settings.access_log,
        log_level="info",
    )


@app.command()
def seed(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Scenario JSON file.")],
    replace: Annotated[
        bool, typer.Option(help="Delete the scenario's workspace first if it exists.")
    ] = False,
    url: Url = DEFAULT_URL,
    operator_key: OperatorKey = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Create the workspace a scenario file describes; prints its login, tokens and IDs."""
    with handled():
        raw, text, document = seeding.read(file)
        with connect(url, operator_key, database_url) as backend:
            try:
                with spinner(f"loading {file} at {backend.where}", enabled=interactive(as_json)):
                    loaded = backend.seed(raw, document, replace=replace)
            except Problem as exc:
                raise seeding.refused(file, text, exc) from None
    seeding.report(file, loaded, backend.where, as_json=as_json)


@clock_app.command("advance")
def clock_advance(
    workspace: Annotated[str, typer.Argument(help="Workspace ID.")],
    by: Annotated[str | None, typer.Option(help="ISO 8601 duration, e.g. P1D, P1M, P5Y.")] = None,
    to: Annotated[str | None, typer.Option(help="RFC 3339 instant.")] = None,
    banking_days: Annotated[int | None, typer.Option(help="Banking days.")] = None,
    url: Url = DEFAULT_URL,
    operator_key: OperatorKey = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Advance a workspace's clock, running due jobs (a month per request); prints a summary
    by job kind, or every job with --json."""
    from portal.workspaces.schemas import ClockAdvance

    try:
        body = ClockAdvance.model_validate({"by": by, "to": to, "banking_days": banking_days})
    except ValidationError as exc:
        fail(exc.errors(include_url=False)[0]["msg"], USAGE)
    with handled(), connect(url, operator_key, database_url) as backend:
        result = advance.run(backend, workspace, body, show_progress=interactive(as_json))
    advance.report(workspace, result, as_json=as_json)


@app.command()
def check(
    workspace_arg: Annotated[
        str | None,
        typer.Argument(metavar="[WORKSPACE]", help="Check this workspace only (default: all)."),
    ] = None,
    workspace: Annotated[
        str | None, typer.Option("--workspace", help="The same as WORKSPACE.", hidden=True)
    ] = None,
    url: Url = DEFAULT_URL,
    operator_key: OperatorKey = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Verify the ledger invariants (architecture.md §11); exit 1 on a violation."""
    with handled(problem_exit=USAGE), connect(url, operator_key, database_url) as backend:
        total = checking.run(
            backend, workspace_arg or workspace, show_progress=interactive(as_json)
        )
    checking.report(total, as_json=as_json)


@app.command()
def openapi(
    output: Annotated[Path, typer.Option(help="Where to write the spec.")] = Path(
        "openapi/openapi.json"
    ),
) -> None:
    """Write the OpenAPI document (sorted keys, two-space indent)."""
    from portal.openapi import render

    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render())
    err.print(f"wrote {output}")


@app.command()
def migrate(
    database_url: Annotated[
        str | None,
        typer.Option(help="Overrides PORTAL_DATABASE_URL (default: ./portal.db; created)."),
    ] = None,
) -> None:
    """Create or upgrade the database to the newest migration (serve does this too)."""
    with handled():
        url = serving.settings_for(database_url).database_url
        serving.prepared_engine(url, database_url).dispose()
    err.print("database is at the newest migration")


@reference_app.command("amsi")
def reference_amsi(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8100,
    seed: Annotated[
        Path | None,
        typer.Option(
            help="A seed file to start with: portfolios, units, leases "
            "(docs/reference-amsi.md, 'Seeding from a file').",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Serve the reference AMSI eSite: SOAP Leasing and Ledger, admin API under /_ref."""
    from portal.reference.amsi import seeding as amsi_seeding
    from portal.reference.amsi.app import SEED_ENV
    from portal.reference.amsi.state import World

    serving.serve_reference(
        "portal.reference.amsi.app:create_app",
        host=host,
        port=port,
        seed=seed,
        seed_env=SEED_ENV,
        check_seed=lambda data, base: amsi_seeding.apply(World(), data, base=base),
        banner=f"[bold]reference AMSI eSite[/bold] on http://{host}:{port}\n"
        f"eSite URL: http://{host}:{port}/amsiweb/edexweb/esite  (admin: /_ref/docs)",
    )


@reference_app.command("mri")
def reference_mri(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8200,
    seed: Annotated[
        Path | None,
        typer.Option(
            help="A seed file to start with: credentials, properties, settings "
            "(docs/reference-mri.md, 'Seeding from a file').",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Serve the reference MRI: api.asp (XML and JSON), admin API under /_ref."""
    from portal.core.clock import SystemClock
    from portal.reference.mri import seeding as mri_seeding
    from portal.reference.mri.app import SEED_ENV
    from portal.reference.mri.state import World

    serving.serve_reference(
        "portal.reference.mri.app:create_app",
        host=host,
        port=port,
        seed=seed,
        seed_env=SEED_ENV,
        check_seed=lambda data, base: mri_seeding.apply(
            World(), data, now=SystemClock().now(), base=base
        ),
        banner=f"[bold]reference MRI[/bold] on http://{host}:{port}\n"
        f"MRI URL: http://{host}:{port}/mriapiservices/api.asp  (admin: /_ref/docs)",
    )
