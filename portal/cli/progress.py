"""Progress displays on stderr, for a person at a terminal only (``output.interactive``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from portal.cli.output import err


@contextmanager
def spinner(description: str, *, enabled: bool) -> Iterator[None]:
    """One long call: a spinner and the time it has taken so far."""
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not enabled,
    ) as progress:
        progress.add_task(description, total=None)
        yield


def bar(*, enabled: bool) -> Progress:
    """Steps of known number: a bar, how far, the current step's note, time spent and left."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[note]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=not enabled,
    )
