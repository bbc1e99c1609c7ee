"""``portal clock advance``: a long advance in steps, with progress, summarised by job kind.

An advance of more than a month is sent as one request per month (``{"to": …}`` at each
monthly boundary, computed with the kernel's own calendar arithmetic from the workspace's
clock), and one of more than ``STEP_BANKING_DAYS`` banking days as steps of that many: every
step runs the jobs that fall due in it and commits, so the result is the one a single request
gives, and a person sees a bar move instead of waiting in silence. The output is a table of
job kinds (how many ran, what their results add up to); ``--json`` prints every job.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rich.markup import escape
from rich.table import Table

from portal.cli.backend import Backend
from portal.cli.output import REFUSED, USAGE, CliError, Problem, out, print_json, say
from portal.cli.progress import bar
from portal.core import calendar
from portal.workspaces.schemas import ClockAdvance

STEP_MONTHS = 1
STEP_BANKING_DAYS = 21
_MONEY = re.compile(r"^-?\d+\.\d{2}$")


@dataclass(frozen=True)
class Step:
    body: dict[str, Any]
    done: float
    """How far along the whole advance this step ends (in the plan's ``unit``)."""


@dataclass(frozen=True)
class Plan:
    steps: list[Step]
    total: float
    unit: str


def plan(backend: Backend, workspace_id: str, body: ClockAdvance) -> Plan:
    """The requests that make up ``body``: one when it covers a month or less."""
    if body.banking_days is not None:
        n = body.banking_days
        if n <= STEP_BANKING_DAYS:
            return Plan([Step({"banking_days": n}, n)], n, "banking days")
        sizes = [STEP_BANKING_DAYS] * (n // STEP_BANKING_DAYS)
        sizes += [n % STEP_BANKING_DAYS] if n % STEP_BANKING_DAYS else []
        done = [sum(sizes[: i + 1]) for i in range(len(sizes))]
        return Plan(
            [Step({"banking_days": s}, d) for s, d in zip(sizes, done, strict=True)],
            n,
            "banking days",
        )
    verbatim = Plan([Step(body.model_dump(mode="json", exclude_none=True), 1)], 1, "request")
    now = backend.clock_now(workspace_id)
    try:
        if body.by is not None:
            target = calendar.add_duration(now, calendar.parse_duration(body.by))
        else:
            assert body.to is not None
            target = body.to
        boundaries = []
        k = STEP_MONTHS
        while (b := calendar.add_duration(now, calendar.Duration(months=k))) < target:
            boundaries.append(b)
            k += STEP_MONTHS
    except ValueError:
        return verbatim  # beyond the calendar: the server says so
    if not boundaries:
        return verbatim
    total = (target - now).total_seconds()
    return Plan(
        [Step({"to": b.isoformat()}, (b - now).total_seconds()) for b in [*boundaries, target]],
        total,
        "seconds",
    )


def run(
    backend: Backend, workspace_id: str, body: ClockAdvance, *, show_progress: bool
) -> dict[str, Any]:
    """Every step of the plan; the merged result ``{"now", "previous", "jobs"}``."""
    steps = plan(backend, workspace_id, body)
    merged: dict[str, Any] = {"now": None, "previous": None, "jobs": []}
    with bar(enabled=show_progress) as progress:
        task = progress.add_task(f"advancing {workspace_id}", total=steps.total, note="")
        for step in steps.steps:
            try:
                result = backend.advance(workspace_id, step.body)
            except (Problem, CliError, KeyboardInterrupt) as exc:
                if merged["now"] is not None:
                    say(
                        f"{workspace_id} stands at {merged['now']}: every job up to then ran "
                        f"({len(merged['jobs']):,} job(s))"
                    )
                if isinstance(exc, Problem):
                    raise CliError(exc.line(), USAGE if exc.status == 422 else REFUSED) from None
                raise
            merged["previous"] = merged["previous"] or result["previous"]
            merged["now"] = result["now"]
            merged["jobs"] += result["jobs"]
            progress.update(
                task,
                completed=step.done,
                note=f"{result['now'][:10]}  {len(merged['jobs']):,} jobs",
            )
    return merged


def _number(total: int | Decimal) -> str:
    return f"{total:,.2f}" if isinstance(total, Decimal) else f"{total:,}"


def notable(results: Iterable[dict[str, Any]]) -> str:
    """What a kind of job's results add up to: numbers (and money) summed, other values
    listed when few (``deposit_date 2022-03-02, 2022-04-01``), else their range."""
    sums: dict[str, int | Decimal] = {}
    values: dict[str, list[str]] = {}
    for result in results:
        for key, value in result.items():
            if isinstance(value, bool):
                sums[key] = sums.get(key, 0) + int(value)
            elif isinstance(value, int):
                sums[key] = sums.get(key, 0) + value
            elif isinstance(value, str) and _MONEY.match(value):
                sums[key] = Decimal(sums.get(key, 0)) + Decimal(value)
            elif isinstance(value, list):
                sums[key] = sums.get(key, 0) + len(value)
            elif isinstance(value, str):
                seen = values.setdefault(key, [])
                if value not in seen:
                    seen.append(value)
    parts = [f"{k} {_number(v)}" for k, v in sums.items() if v]
    for key, seen in values.items():
        shown = ", ".join(seen) if len(seen) <= 3 else f"{seen[0]} … {seen[-1]} ({len(seen):,})"
        parts.append(f"{key} {shown}")
    return "; ".join(parts) or "–"


def summary(workspace_id: str, result: dict[str, Any]) -> None:
    jobs: list[dict[str, Any]] = result["jobs"]
    out.print(
        f"{escape(workspace_id)}: {result['previous']} → {result['now']}, {len(jobs):,} job(s) ran",
        soft_wrap=True,
        highlight=False,
    )
    if not jobs:
        return
    kinds: dict[str, list[dict[str, Any]]] = {}
    for job in jobs:
        kinds.setdefault(job["name"], []).append(job["result"])
    table = Table("job", "runs", "results", header_style="bold")
    table.columns[1].justify = "right"
    for name, results in kinds.items():
        table.add_row(escape(name), f"{len(results):,}", escape(notable(results)))
    out.print(table)


def report(workspace_id: str, result: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        print_json(result)
    else:
        summary(workspace_id, result)
