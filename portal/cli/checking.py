"""``portal check``: the ledger invariants (architecture.md §11), workspace by workspace.

Each workspace is checked on its own (``GET /v1/sandbox/workspaces/{ws}/check``, or the same
rules in-process with ``--database-url``), so a person sees a bar move over the workspaces; the
reports are added up into one, printed as before: ``ok`` and what was checked, or each
violation under its workspace (the first ``SHOWN``). Exit 1 on a violation.
"""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape

from portal.cli.backend import Backend
from portal.cli.output import REFUSED, out, print_json
from portal.cli.progress import bar

#: How many violations are listed before the rest are counted.
SHOWN = 200


def _count(value: Any) -> int:
    return len(value) if isinstance(value, list) else int(value or 0)


def run(backend: Backend, workspace_id: str | None, *, show_progress: bool) -> dict[str, Any]:
    ids = [workspace_id] if workspace_id else backend.workspace_ids()
    total: dict[str, Any] = {
        "ok": True,
        "workspaces": [],
        "batches": 0,
        "payments": 0,
        "violations": [],
    }
    with bar(enabled=show_progress) as progress:
        task = progress.add_task("checking", total=len(ids), note="")
        for n, ws in enumerate(ids, start=1):
            progress.update(task, note=ws)
            report = backend.check(ws)
            total["workspaces"].append(ws)
            total["batches"] += _count(report.get("batches"))
            total["payments"] += _count(report.get("payments"))
            total["violations"] += report.get("violations") or []
            progress.update(task, completed=n)
    total["ok"] = not total["violations"]
    return total


def report(total: dict[str, Any], *, as_json: bool) -> None:
    """Print the report; exit 1 when an invariant is broken."""
    if as_json:
        print_json(total)
    else:
        _print(total)
    if not total["ok"]:
        raise typer.Exit(REFUSED)


def _print(total: dict[str, Any]) -> None:
    violations: list[dict[str, Any]] = total["violations"]
    checked = (
        f"{len(total['workspaces']):,} workspace(s), {total['batches']:,} deposit batch(es), "
        f"{total['payments']:,} payment(s)"
    )
    if not violations:
        out.print(f"[green]ok[/green]: {checked}; every invariant holds", soft_wrap=True)
        return
    out.print(f"[red]{len(violations):,} violation(s)[/red] in {checked}:", soft_wrap=True)
    workspace_shown = None
    for v in violations[:SHOWN]:
        if v["workspace_id"] != workspace_shown:
            workspace_shown = v["workspace_id"]
            out.print(f"[bold]{escape(v['workspace_id'])}[/bold]", soft_wrap=True)
        out.print(
            f"  [red]✗[/red] [cyan]{escape(v['rule'])}[/cyan]  "
            f"{escape(v['subject'])}: {escape(v['detail'])}",
            soft_wrap=True,
        )
    if len(violations) > SHOWN:
        out.print(f"  … and {len(violations) - SHOWN:,} more")
