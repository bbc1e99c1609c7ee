"""The job registry is explicit (issue 15): ``portal.sandbox.jobs.REGISTRY`` lists every job,
and nothing declared in a feature is left out of it."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from types import ModuleType

import portal
from portal.core import jobs
from portal.sandbox.jobs import REGISTRY


def _modules() -> Iterator[ModuleType]:
    for info in pkgutil.walk_packages(portal.__path__, "portal."):
        if ".migrations" in info.name:
            continue
        yield importlib.import_module(info.name)


def _declared(kind: type) -> dict[str, object]:
    found: dict[str, object] = {}
    for module in _modules():
        for value in vars(module).values():
            values = value if isinstance(value, tuple) else (value,)
            for v in values:
                if isinstance(v, kind):
                    found[f"{module.__name__}:{getattr(v, 'name', v)}"] = v
    return found


def test_every_event_kind_declared_in_portal_has_its_handler() -> None:
    kinds = {k.name for k in _declared(jobs.EventKind).values()}  # type: ignore[attr-defined]
    assert kinds, "no EventKind found: the walk is broken"
    assert kinds == set(REGISTRY.handlers)


def test_every_calendar_job_declared_in_portal_is_registered() -> None:
    declared = {j.name for j in _declared(jobs.CalendarJob).values()}  # type: ignore[attr-defined]
    assert declared == set(REGISTRY.calendar)
    assert {"payments.cutoff", "payments.settlement", "idempotency_keys.purge"} <= declared


def test_importing_the_models_registers_nothing() -> None:
    # The old registry filled itself through side-effect imports in portal/models.py; the
    # kernel now holds no process-wide registry at all.
    assert not hasattr(jobs, "registry")
