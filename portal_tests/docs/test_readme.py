"""The README stays current (issue 18, item 10): one curl for every route family, every job and
stored event a clock advance runs, every e-mail kind and operator event kind. A route, job or
e-mail added without its README line fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from portal.events.service import TYPES as EVENT_TYPES
from portal.notifications.models import EmailKind
from portal.sandbox.jobs import REGISTRY
from portal_tests.spec import spec

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.index("\n## ", start + 1)
    return README[start:end]


def family(path: str) -> str:
    """``/v1/integrations/{id}/tokens`` -> ``/v1/integrations``; ``/healthz`` -> ``/healthz``."""
    parts = path.split("/")
    return "/".join(parts[:3]) if parts[1] == "v1" else "/".join(parts[:2])


CURLS = section("Every route family, one curl each")
CURLED = {
    family(match) for match in re.findall(r"\$BASE(/[\w/.$-]*)", CURLS) if match.startswith("/")
}
JOBS = section("What happens on its own (jobs and events)")


@pytest.mark.parametrize("name", sorted({family(p) for p in spec()["paths"]} - {"/readyz"}))
def test_every_route_family_has_a_curl(name: str) -> None:
    assert name in CURLED, f"README: no curl for {name} under 'Every route family, one curl each'"


def test_the_curls_name_only_real_families() -> None:
    assert {family(p) for p in spec()["paths"]} >= CURLED


@pytest.mark.parametrize("name", sorted([*REGISTRY.calendar, *REGISTRY.handlers]))
def test_every_job_and_stored_event_is_listed(name: str) -> None:
    assert f"`{name}`" in JOBS


@pytest.mark.parametrize("kind", [k.value for k in EmailKind])
def test_every_email_kind_is_listed(kind: str) -> None:
    assert f"`{kind}`" in JOBS


@pytest.mark.parametrize("kind", sorted(EVENT_TYPES))
def test_every_event_type_is_listed(kind: str) -> None:
    assert f"`{kind}`" in JOBS


def _sources() -> str:
    root = Path(__file__).resolve().parents[2] / "portal"
    return "\n".join(p.read_text() for p in sorted(root.rglob("*.py")))


def shell_blocks() -> list[str]:
    """The README's ``sh`` blocks without their comment lines."""
    blocks = re.findall(r"```sh\n(.*?)```", README, flags=re.S)
    return [
        "\n".join(line for line in b.splitlines() if not line.lstrip().startswith("#"))
        for b in blocks
    ]


def test_no_command_writes_a_secret_into_the_checkout() -> None:
    """Stumble 10: the walkthrough once wrote ``ws.json`` (the landlord's password) into the
    repository root. Every file a README command writes goes under ``$TMPDIR`` (or /tmp)."""
    blocks = shell_blocks()
    assert blocks, "the README has no sh blocks: the pattern is stale"
    outs = {m for b in blocks for m in re.findall(r'^\s*OUT="([^"]+)"', b, flags=re.M)}
    assert outs == {"${TMPDIR:-/tmp}/oak.json"}
    targets = [t for b in blocks for t in re.findall(r"(?<![0-9&])>\s*(\S+)", b)]
    assert targets, "no redirection found: the pattern is stale"
    for target in targets:
        assert target.startswith(('"${TMPDIR:-/tmp}/', '"$OUT"', "/dev/null")), target
