"""Fault injection for the crash-safety tests (issue 14): with ``PORTAL_FAULT_KILL_AT`` set to
``<job>[:<point>]``, the process kills itself with ``SIGKILL`` when a clock advance reaches that
point of that job, as a power cut or the OOM killer would: no rollback, no shutdown handler, no
response. The test then restarts the server and checks that finishing the advance gives the
world an uninterrupted advance gives (architecture.md §4: a crash leaves the world consistent at
the last completed job).

``<job>`` is a calendar job's name or a stored event's kind (``payments.run_due``,
``reversals.scheduled``). Points:

- ``start`` (the default): the job is about to run; every job before it is committed;
- ``end``: the job's work is done and flushed, its commit (with the clock and the job cursor)
  not yet made;
- ``payments.run_due:charged``: the day's autopay payments are inserted, the schedules not yet
  moved on, the receipts not yet sent.

Only this process dies: with one uvicorn worker that is the server; with several, uvicorn's
supervisor starts a new worker. The variable is read once, at import; unset (always, outside
those tests) a point costs one comparison. Test-only (docs/decisions.md, "Clock and jobs").
"""

from __future__ import annotations

import os
import signal

ENV = "PORTAL_FAULT_KILL_AT"


def parse(value: str | None) -> str | None:
    """``job`` or ``job:point`` -> ``job:point``; empty or unset -> None."""
    if not value or not value.strip():
        return None
    value = value.strip()
    return value if ":" in value else f"{value}:start"


#: The point to die at (``job:point``), or None.
KILL_AT = parse(os.environ.get(ENV))


def reached(job: str, point: str) -> None:
    """The advance has reached ``point`` of ``job``: die here if that is ``KILL_AT``."""
    if KILL_AT is None or f"{job}:{point}" != KILL_AT:
        return
    # Straight to the file descriptor: nothing buffered survives a SIGKILL.
    os.write(2, f"portal: {ENV}: SIGKILL at {KILL_AT} (pid {os.getpid()})\n".encode())
    os.kill(os.getpid(), signal.SIGKILL)
