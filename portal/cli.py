"""The ``portal`` command (architecture.md §10): serve, seed, clock, check, openapi, migrate."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from portal.core.settings import Settings

app = typer.Typer(help="Rent-payment portal simulator.", no_args_is_help=True, add_completion=False)
clock_app = typer.Typer(help="Move a workspace's clock.", no_args_is_help=True)
app.add_typer(clock_app, name="clock")
console = Console(stderr=True)

#: How many violations ``portal check`` lists before summarising the rest.
CHECK_SHOWN = 200

DatabaseUrl = Annotated[
    str | None,
    typer.Option("--database-url", help="Overrides PORTAL_DATABASE_URL (default: ./portal.db)."),
]


def _settings(database_url: str | None) -> Settings:
    return Settings(database_url=database_url) if database_url else Settings()


def _prepared_engine(settings: Settings) -> Any:
    from portal import models  # noqa: F401
    from portal.core.db import make_engine
    from portal.core.migrate import upgrade

    engine = make_engine(settings.database_url)
    upgrade(engine)
    return engine


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, sort_keys=False, default=str))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="uvicorn worker processes.")] = 1,
    database_url: DatabaseUrl = None,
    scenario: Annotated[
        Path | None,
        typer.Option(help="Load this scenario first (skipped if its workspace exists)."),
    ] = None,
) -> None:
    """Upgrade the database to the newest migration and serve the API."""
    import uvicorn

    from portal.auth import service as auth_service
    from portal.core.db import session_scope

    if database_url:
        # Exported so uvicorn's worker processes build the same settings.
        os.environ["PORTAL_DATABASE_URL"] = database_url
    settings = _settings(database_url)
    engine = _prepared_engine(settings)
    with session_scope(engine) as session:
        operator_key = auth_service.ensure_secret(session, "operator_key", settings.operator_key)
        auth_service.ensure_secret(session, "signing_key", settings.secret_key)
    try:
        if scenario is not None:
            _seed(engine, scenario, replace=False, skip_existing=True)
    finally:
        engine.dispose()
    console.print(f"[bold]portal[/bold] listening on http://{host}:{port}  (docs: /docs)")
    console.print(f"database: {settings.database_url}")
    source = "PORTAL_OPERATOR_KEY" if settings.operator_key else "generated and stored"
    console.print(f"operator key ({source}): [bold]{operator_key}[/bold]")
    uvicorn.run(
        "portal.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=settings.access_log,
        log_level="info",
    )


def _seed(engine: Any, path: Path, *, replace: bool, skip_existing: bool = False) -> None:
    from portal.auth import service as auth_service
    from portal.core.clock import SystemClock
    from portal.core.db import session_scope
    from portal.core.errors import PortalError
    from portal.sandbox import scenarios
    from portal.sandbox import service as sandbox_service
    from portal.workspaces.models import Workspace

    try:
        scenario = scenarios.parse(path.read_bytes())
    except PortalError as exc:
        console.print(f"[red]{path}: {exc.detail}[/red]")
        for error in exc.errors:
            console.print(f"  {error.field}: {error.message}")
        raise typer.Exit(2) from None
    clock = SystemClock()
    with session_scope(engine) as session:
        existing = scenario.workspace.id and session.get(Workspace, scenario.workspace.id)
        if existing and skip_existing:
            console.print(f"workspace {scenario.workspace.id} exists; scenario not loaded again")
            return
        if existing and replace:
            sandbox_service.delete_workspace(session, existing.id)
        key = auth_service.ensure_secret(session, "signing_key", Settings().secret_key)
        try:
            result = scenarios.create_from(
                session, scenario, signing_key=key, system_now=clock.now(), system_clock=clock
            )
        except PortalError as exc:
            console.print(f"[red]{exc.code}: {exc.detail}[/red]")
            raise typer.Exit(1) from None
    _print_json(result.model_dump(mode="json"))


@app.command()
def seed(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Scenario JSON file.")],
    database_url: DatabaseUrl = None,
    replace: Annotated[
        bool, typer.Option(help="Delete the scenario's workspace first if it exists.")
    ] = False,
) -> None:
    """Create the workspace a scenario file describes; prints its IDs, login and tokens."""
    engine = _prepared_engine(_settings(database_url))
    try:
        _seed(engine, file, replace=replace)
    finally:
        engine.dispose()


@clock_app.command("advance")
def clock_advance(
    workspace: Annotated[str, typer.Argument(help="Workspace ID.")],
    by: Annotated[str | None, typer.Option(help="ISO 8601 duration, e.g. P1D.")] = None,
    to: Annotated[str | None, typer.Option(help="RFC 3339 instant.")] = None,
    banking_days: Annotated[int | None, typer.Option(help="Banking days.")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Advance a workspace's clock, running due jobs (same as the HTTP call)."""
    from pydantic import ValidationError

    from portal.core.clock import SystemClock
    from portal.core.db import session_scope
    from portal.core.errors import PortalError
    from portal.sandbox import service as sandbox_service
    from portal.workspaces.schemas import ClockAdvance

    try:
        body = ClockAdvance.model_validate({"by": by, "to": to, "banking_days": banking_days})
    except ValidationError as exc:
        console.print(f"[red]{exc.errors(include_url=False)[0]['msg']}[/red]")
        raise typer.Exit(2) from None
    engine = _prepared_engine(_settings(database_url))
    try:
        with session_scope(engine) as session, console.status("advancing…"):
            result = sandbox_service.advance(
                session, workspace, body, system=SystemClock(), checkpoint=session.commit
            )
    except PortalError as exc:
        console.print(f"[red]{exc.code}: {exc.detail}[/red]")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    _print_json(result.model_dump(mode="json"))


@app.command()
def check(
    database_url: DatabaseUrl = None,
    workspace: Annotated[
        str | None, typer.Option(help="Check this workspace only (default: every one).")
    ] = None,
) -> None:
    """Verify the ledger invariants (architecture.md §11); exit 1 on a violation."""
    from rich.markup import escape

    from portal.connectors import check as connectors_check
    from portal.core.db import session_scope
    from portal.core.errors import PortalError
    from portal.payments import check as ledger

    engine = _prepared_engine(_settings(database_url))
    try:
        with session_scope(engine) as session, console.status("checking…"):
            report = ledger.run(session, workspace)
            # And what a connected accounting system holds (a reference eSite's read-back).
            report.violations.extend(connectors_check.esite(session, workspace))
            report.violations.extend(connectors_check.mri(session, workspace))
    except PortalError as exc:
        console.print(f"[red]{exc.code}: {exc.detail}[/red]")
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    checked = (
        f"{len(report.workspaces):,} workspace(s), {report.batches:,} deposit batch(es), "
        f"{report.payments:,} payment(s)"
    )
    if report.ok:
        console.print(f"[green]ok[/green]: {checked}; every invariant holds", soft_wrap=True)
        return
    console.print(
        f"[red]{len(report.violations):,} violation(s)[/red] in {checked}:", soft_wrap=True
    )
    workspace_shown = None
    for v in report.violations[:CHECK_SHOWN]:
        if v.workspace_id != workspace_shown:
            workspace_shown = v.workspace_id
            console.print(f"[bold]{escape(v.workspace_id)}[/bold]")
        console.print(
            f"  [red]✗[/red] [cyan]{v.rule}[/cyan]  {escape(v.subject)}: {escape(v.detail)}",
            soft_wrap=True,
        )
    if len(report.violations) > CHECK_SHOWN:
        console.print(f"  … and {len(report.violations) - CHECK_SHOWN:,} more")
    raise typer.Exit(1)


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
    console.print(f"wrote {output}")


@app.command()
def migrate(database_url: DatabaseUrl = None) -> None:
    """Upgrade the database to the newest migration (serve does this too)."""
    _prepared_engine(_settings(database_url)).dispose()
    console.print("database is at the newest migration")


reference_app = typer.Typer(
    help="Reference vendor servers (docs/reference-amsi.md).", no_args_is_help=True
)
app.add_typer(reference_app, name="reference")


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
    from portal.reference.amsi import seeding
    from portal.reference.amsi.app import SEED_ENV
    from portal.reference.amsi.state import World

    _serve_reference(
        "portal.reference.amsi.app:create_app",
        host=host,
        port=port,
        seed=seed,
        seed_env=SEED_ENV,
        check_seed=lambda data, base: seeding.apply(World(), data, base=base),
        banner=f"[bold]reference AMSI eSite[/bold] on http://{host}:{port}\n"
        f"eSite URL: http://{host}:{port}/amsiweb/edexweb/esite  (admin: /_ref/docs)",
    )


def _serve_reference(
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

    if seed is not None:
        try:  # checked here, so a bad seed is one line, not a server that fails to start
            counts = check_seed(json.loads(seed.read_text()), seed.parent)
        except (ValueError, OSError) as exc:
            console.print(f"[red]{seed}: {exc}[/red]")
            raise typer.Exit(2) from None
        console.print(f"seed {seed}: {counts}")
        os.environ[seed_env] = str(seed.resolve())
    console.print(banner)
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
    from portal.reference.mri import seeding
    from portal.reference.mri.app import SEED_ENV
    from portal.reference.mri.state import World

    _serve_reference(
        "portal.reference.mri.app:create_app",
        host=host,
        port=port,
        seed=seed,
        seed_env=SEED_ENV,
        check_seed=lambda data, base: seeding.apply(
            World(), data, now=SystemClock().now(), base=base
        ),
        banner=f"[bold]reference MRI[/bold] on http://{host}:{port}\n"
        f"MRI URL: http://{host}:{port}/mriapiservices/api.asp  (admin: /_ref/docs)",
    )
