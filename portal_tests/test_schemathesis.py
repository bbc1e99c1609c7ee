"""Property-based API testing (issue 14): schemathesis over every operation of
``openapi/openapi.json``, in-process against the ASGI app, on the suite's database.

Each operation is sent as the principal its path belongs to (``/v1/sandbox`` the operator,
``/v1/integration`` the accounting client, ``/v1/resident`` a resident, the rest the landlord),
in a world where every kind of resource exists (``fuzz_world.py``).

- ``test_fixed_cases``: per operation, the spec's examples and schemathesis's deterministic
  coverage cases (boundary values, missing and mistyped members, unexpected methods);
- ``test_generated_cases``: per operation, Hypothesis-generated requests, valid and invalid; in
  the valid ones a path parameter or body member that names a resource names one of the world
  half of the time, so requests reach the rules behind the 404s;
- ``test_stateful``: sequences along the links schemathesis infers from the spec (the spec
  declares none; a list's or a create's IDs feed the reads and actions on one item).

Every response must pass: no server error; every error is ``application/problem+json`` with a
``code`` the README lists; content type, headers and body conform to the spec; authentication is
enforced; a request that violates the schema is refused (except for the type coercions pydantic
does on purpose, see ``schema_violations_refused``).

Reproducible and bounded: a fixed seed, derandomized Hypothesis, no example database, a fixed
number of examples (docs/decisions.md, "API fuzzing").
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hypothesis
import hypothesis.strategies as st
import pytest
import schemathesis
from fastapi import FastAPI
from schemathesis import BaseSchema
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import AcceptedNegativeData, FailureGroup
from schemathesis.core.mutations import OperatorKind
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.meta import CoveragePhaseData, CoverageScenario
from schemathesis.generation.stateful import run_state_machine_as_test
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ensure_resource_availability,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    use_after_free,
)
from sqlalchemy import Engine

from portal.core.clock import FixedClock
from portal.core.settings import Settings
from portal.main import create_app
from portal_tests import fuzz_world
from portal_tests.conftest import OPERATOR_KEY, SECRET_KEY, SYSTEM_NOW, wipe

pytestmark = pytest.mark.fuzz

ROOT = Path(__file__).resolve().parents[1]
SEED = 20261122
#: Fuzzing-phase examples per operation; the coverage phase adds its own deterministic cases.
MAX_EXAMPLES = 25
#: Stateful runs and the most steps in one run.
STATEFUL_EXAMPLES, STATEFUL_STEPS = 50, 10


def _load(*phases: str) -> BaseSchema:
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "base-url": f"http://{asgi.HOST}",
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
                # Credentials are the world's (see `credentials`); `ignored_auth` probes without.
                "with-security-parameters": False,
            },
            "phases": {
                phase: {"enabled": phase in phases} for phase in ("examples", "coverage", "fuzzing")
            },
            "operations": [
                # The scenario document is large: its coverage phase alone would take minutes.
                {
                    "include-operation-id": "load_scenario",
                    "phases": {"coverage": {"enabled": False}},
                },
            ],
        }
    )
    return schemathesis.openapi.from_path(ROOT / "openapi" / "openapi.json", config=config)


#: The spec's examples and schemathesis's deterministic coverage cases (boundaries, missing and
#: mistyped members, unexpected methods), drawn when the tests are collected.
fixed = _load("examples", "coverage")
#: Hypothesis-generated cases, valid and invalid, drawn while each test runs (so in the world).
generated = _load("fuzzing")


# --- checks -------------------------------------------------------------------------------------


def documented_codes() -> set[str]:
    """The error codes the README lists (between ``<!-- error-codes -->`` markers)."""
    readme = (ROOT / "README.md").read_text()
    listed = re.search(r"<!-- error-codes -->(.*?)<!-- /error-codes -->", readme, re.S)
    if listed:
        return set(re.findall(r"`([a-z][a-z0-9_]*)`", listed.group(1)))
    # Until the README has that list: every code the code base spells out.
    found: set[str] = set()
    for path in (ROOT / "portal").rglob("*.py"):
        text = path.read_text()
        found |= set(re.findall(r'\bcode(?::\s*str)?\s*=\s*"([a-z][a-z0-9_]*)"', text))
        found |= set(re.findall(r'^[A-Z][A-Z0-9_]* = "([a-z][a-z0-9_]*)"$', text, re.M))
    return found


DOCUMENTED_CODES = documented_codes()


@schemathesis.check
def problem_details(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """Every error is RFC 9457 problem+json with a documented ``code`` (architecture.md §5)."""
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.startswith("application/problem+json"), (
        f"{response.status_code} answered as {content_type!r}, not application/problem+json"
    )
    body = response.json()
    code = body.get("code") if isinstance(body, dict) else None
    assert isinstance(code, str), f"{response.status_code} without a code: {body!r}"
    assert code in DOCUMENTED_CODES, f"error code {code!r} is not in the README's list"
    return True


def _only_type_changes(case: schemathesis.Case) -> bool:
    meta = case.meta
    if meta is None:
        return False
    data = meta.phase.data
    if isinstance(data, CoveragePhaseData):
        return data.scenario == CoverageScenario.INCORRECT_TYPE
    mutations = getattr(data, "mutations", ())
    return bool(mutations) and all(m.operator == OperatorKind.CHANGE_TYPE for m in mutations)


@schemathesis.check
def schema_violations_refused(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """schemathesis's ``negative_data_rejection``, except where the only violation is a value of
    another JSON type that pydantic's lax mode converts (``0`` for ``false``, ``"12"`` for
    ``12``, ``?date=0`` as a Unix timestamp): documented leniency, not a missing rule."""
    try:
        return negative_data_rejection(ctx, response, case)
    except AcceptedNegativeData:
        if _only_type_changes(case):
            return None
        raise


CHECKS = [
    not_a_server_error,
    problem_details,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    schema_violations_refused,
    ignored_auth,
]
STATEFUL_CHECKS = [*CHECKS, use_after_free, ensure_resource_availability]


# --- principals and the world -------------------------------------------------------------------


def principal(path: str) -> str:
    for prefix, who in (
        ("/v1/sandbox/", "operator"),
        ("/v1/integration/", "integration"),
        ("/v1/resident/", "resident"),
    ):
        if path.startswith(prefix):
            return who
    return "landlord"


def credentials(world: fuzz_world.FuzzWorld, path: str) -> dict[str, str]:
    return {
        "operator": world.operator,
        "integration": world.integration,
        "resident": world.resident,
        "landlord": world.landlord,
    }[principal(path)]


@dataclass
class Current:
    """The world the module's tests share, rebuilt after an operation that takes it away."""

    world: fuzz_world.FuzzWorld | None = None
    dirty: bool = True
    #: A generated request changed the world (a write answered 2xx).
    changed: bool = False


CURRENT = Current()

#: Operations after which the world is rebuilt: they delete it, empty it, move its clock (which
#: expires the sessions), or replace the integration's token.
WORLD_BREAKING = {
    "delete_workspace",
    "reset_workspace",
    "advance_clock",
    "load_scenario",
    "create_token",
    "revoke_token",
}


BREAKING_LABELS = {
    result.ok().label
    for result in generated.get_all_operations()
    if result.ok().definition.raw.get("operationId") in WORLD_BREAKING
}


#: Request-body members that name a resource, and the kind of ID each takes.
BODY_IDS = {
    "integration_id": "integration_id",
    "lease_id": "lease_id",
    "payment_source_id": "payment_source_id",
    "property_id": "property_id",
    "resident_id": "resident_id",
    "unit_id": "unit_id",
    "workspace_id": "workspace_id",
}


def _either(value: Any, known: list[str]) -> st.SearchStrategy[Any]:
    return st.one_of(st.just(value), st.sampled_from(known)) if known else st.just(value)


def use_world_ids(
    case: schemathesis.Case, world: fuzz_world.FuzzWorld, data: st.DataObject
) -> None:
    """Half of the time, a path parameter or a body member that names a resource names one that
    exists. Only in parts generated to be valid: a schema violation stays one."""
    meta = case.meta
    if meta is None:
        return
    if case.path_parameters and not meta.is_negative_at(ParameterLocation.PATH):
        case.path_parameters = {
            name: data.draw(_either(value, world.ids.get(name, [])), label=name)
            for name, value in case.path_parameters.items()
        }
    if isinstance(case.body, dict) and not meta.is_negative_at(ParameterLocation.BODY):
        body = dict(case.body)
        for name, value in body.items():
            if name in BODY_IDS:
                body[name] = data.draw(
                    _either(value, world.ids.get(BODY_IDS[name], [])), label=name
                )
            elif name == "property_ids":
                body[name] = data.draw(
                    st.sampled_from([value, world.ids["property_id"]]), label=name
                )
        case.body = body


@pytest.fixture(autouse=True, scope="module")
def _clean_database() -> None:
    """This module keeps its world from test to test (``fuzz_app`` wipes it at the end)."""


@pytest.fixture(scope="module")
def fuzz_app(database_url: str, engine: Engine) -> Iterator[FastAPI]:
    settings = Settings(
        database_url=database_url,
        operator_key=OPERATOR_KEY,
        secret_key=SECRET_KEY,
        run_real_clocks=False,
    )
    app = create_app(settings, engine=engine, clock=FixedClock(SYSTEM_NOW))
    wipe(engine)
    yield app
    asgi.shutdown_lifespans()
    CURRENT.world, CURRENT.dirty = None, True
    wipe(engine)


@pytest.fixture(scope="module")
def http(fuzz_app: FastAPI) -> Iterator[asgi.ASGIClient]:
    with asgi.get_client(fuzz_app) as client:
        yield client


@pytest.fixture(autouse=True)
def _rebuild_after_breaking(request: pytest.FixtureRequest) -> Iterator[None]:
    """The next test gets a new world after one whose operation takes it away (within the test,
    the examples after the first success meet what is left of it, as a client would)."""
    CURRENT.changed = False
    yield
    if CURRENT.changed or getattr(request.node, "operation_label", None) in BREAKING_LABELS:
        CURRENT.dirty = True


def current_world(http: asgi.ASGIClient, engine: Engine) -> fuzz_world.FuzzWorld:
    if CURRENT.dirty or CURRENT.world is None:
        wipe(engine)
        CURRENT.world = fuzz_world.build(http)
        CURRENT.dirty = False
    return CURRENT.world


# --- the tests ----------------------------------------------------------------------------------


def check_operation(
    case: schemathesis.Case, app: FastAPI, world: fuzz_world.FuzzWorld
) -> schemathesis.Response:
    case.operation.app = case.operation.schema.app = app
    return case.call_and_validate(headers=credentials(world, case.path), checks=CHECKS)


@fixed.parametrize()
def test_fixed_cases(
    case: schemathesis.Case, fuzz_app: FastAPI, http: asgi.ASGIClient, engine: Engine
) -> None:
    check_operation(case, fuzz_app, current_world(http, engine))


@generated.parametrize()
@generated.given(data=st.data())
def test_generated_cases(
    case: schemathesis.Case,
    data: st.DataObject,
    fuzz_app: FastAPI,
    http: asgi.ASGIClient,
    engine: Engine,
) -> None:
    world = current_world(http, engine)
    use_world_ids(case, world, data)
    response = check_operation(case, fuzz_app, world)
    if case.method.upper() != "GET" and response.status_code < 300:
        CURRENT.changed = True


def test_stateful(fuzz_app: FastAPI, http: asgi.ASGIClient, engine: Engine) -> None:
    """Sequences along the spec's inferred links, in one world that each step changes.

    A step's response depends on the steps before it, also those of earlier runs, so Hypothesis
    may find that one choice of rules drew differently the second time (its
    ``FlakyStrategyDefinition``); schemathesis's own runner ends its stateful phase there too.
    Check failures are collected rather than raised, so they never depend on a replay."""
    world = current_world(http, engine)
    CURRENT.dirty = True
    linked = generated.exclude(operation_id=sorted(WORLD_BREAKING))
    linked.app = fuzz_app
    failures: list[str] = []
    steps: list[str] = []

    class Workflow(linked.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return {"headers": credentials(world, case.path)}

        def validate_response(
            self,
            response: schemathesis.Response,
            case: schemathesis.Case,
            additional_checks: Any = None,
            **kwargs: Any,
        ) -> None:
            steps.append(case.operation.label)
            try:
                case.validate_response(
                    response,
                    checks=STATEFUL_CHECKS,
                    transport_kwargs=kwargs or None,
                    recorder=getattr(self, "recorder", None),
                )
            except FailureGroup as group:
                failures.append(f"{case.operation.label} -> {response.status_code}: {group}")

    with contextlib.suppress(hypothesis.errors.FlakyStrategyDefinition):
        run_state_machine_as_test(
            Workflow,
            settings=hypothesis.settings(
                max_examples=STATEFUL_EXAMPLES,
                stateful_step_count=STATEFUL_STEPS,
                derandomize=True,
                database=None,
                deadline=None,
                phases=[hypothesis.Phase.generate],
                suppress_health_check=list(hypothesis.HealthCheck),
            ),
        )
    assert not failures, "\n\n".join(failures)
    # The runs did reach the API (a flaky draw ends them, so guard against it ending them early).
    assert len(steps) >= STATEFUL_EXAMPLES, steps
