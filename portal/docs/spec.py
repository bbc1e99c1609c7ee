"""The OpenAPI document as the portal publishes it: FastAPI's, plus what a person trying the API
needs (issue 18, stumble 7), added once when the document is generated:

- **four security schemes**, one per principal (``OperatorKey``, ``LandlordSession``,
  ``IntegrationToken``, ``ResidentSession``), each operation naming the one it accepts, read
  off the principal dependency its route depends on (``portal.auth.dependencies``,
  ``portal.residents.dependencies``); all four are ``Authorization: Bearer`` on the wire;
- **the error codes of each operation** under each status (``portal.docs.errors``), with one
  problem example per code;
- **request examples** that Swagger UI's "Try it out" sends as they are
  (``portal.docs.examples``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from typing import Any, cast

import fastapi.routing
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from portal.auth.dependencies import (
    require_integration,
    require_landlord,
    require_operator,
    require_operator_in_workspace,
)
from portal.core.errors import PROBLEM_JSON, problem_body
from portal.core.idempotency import idempotent
from portal.docs import errors as error_table
from portal.docs.examples import EXAMPLES
from portal.events.router import require_event_reader
from portal.residents.dependencies import require_resident

OPERATOR = "OperatorKey"
LANDLORD = "LandlordSession"
INTEGRATION = "IntegrationToken"
RESIDENT = "ResidentSession"

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    OPERATOR: {
        "type": "http",
        "scheme": "bearer",
        "description": (
            "The operator key: `PORTAL_OPERATOR_KEY`, or the key `portal serve` prints. The "
            "tester's controls under `/v1/sandbox/**` (workspaces, clock, scenarios, mailbox, "
            "returns and chargebacks)."
        ),
    },
    LANDLORD: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": (
            "A landlord session: `access_token` of `POST /v1/auth/login` with the workspace's "
            "landlord login (answered by workspace creation and by a scenario load). It lasts "
            "`PORTAL_LANDLORD_TOKEN_MINUTES` (60) of workspace time: log in again after moving "
            "the clock."
        ),
    },
    INTEGRATION: {
        "type": "http",
        "scheme": "bearer",
        "description": (
            "An integration token, as the accounting client sends it: `token` of "
            "`POST /v1/integrations/{integration_id}/tokens` (landlord), or one a scenario "
            "minted. `/v1/integration/**`. It does not expire; a newer token of the same "
            "integration revokes it (401 `token_revoked`)."
        ),
    },
    RESIDENT: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": (
            "A resident session: `access_token` of `POST /v1/resident/login`, "
            "`POST /v1/resident/signup` or `POST /v1/resident/invites/{code}/accept`. "
            "`/v1/resident/**`."
        ),
    },
}

#: The principal dependencies and the scheme each stands for.
PRINCIPALS: Mapping[Callable[..., Any], str] = {
    require_operator: OPERATOR,
    require_operator_in_workspace: OPERATOR,
    require_landlord: LANDLORD,
    require_integration: INTEGRATION,
    require_resident: RESIDENT,
}
#: Dependencies that take any of several principals (``GET /v1/events``, ``/v1/webhooks``).
MULTI_PRINCIPALS: Mapping[Callable[..., Any], tuple[str, ...]] = {
    require_event_reader: (OPERATOR, LANDLORD, INTEGRATION),
}
#: Routes that check their principal in their body, without a dependency (the receipt reads'
#: fast path, ``portal.receipts.router``).
WITHOUT_DEPENDENCY: Mapping[str, str] = {
    "list_receipt_batches": INTEGRATION,
    "load_receipts": INTEGRATION,
    "lockbox_file": INTEGRATION,
}
#: The scheme FastAPI names for every bearer route before this module splits it in four.
_FASTAPI_BEARER = "HTTPBearer"
_IDEMPOTENCY_MODULE = idempotent.__module__


def api_routes(app: FastAPI) -> Iterator[APIRoute]:
    """Every route of the app that is in the document. FastAPI 0.16x nests included routers
    (``iter_route_contexts`` flattens them); older versions list routes flat."""
    flatten = getattr(fastapi.routing, "iter_route_contexts", iter)
    for route in flatten(app.routes):
        original = getattr(route, "original_route", route)
        if isinstance(original, APIRoute) and getattr(route, "include_in_schema", False):
            # A route context proxies the effective route's attributes (path with the
            # router's prefix, merged responses): an APIRoute to read.
            yield cast(APIRoute, route)


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def schemes_of(route: APIRoute) -> tuple[str, ...]:
    """The security schemes a route accepts (none: a public route)."""
    calls = list(_calls(route.dependant))
    found = {PRINCIPALS[c] for c in calls if c in PRINCIPALS}
    found.update(s for c in calls for s in MULTI_PRINCIPALS.get(c, ()))
    if route.name in WITHOUT_DEPENDENCY:
        found.add(WITHOUT_DEPENDENCY[route.name])
    return tuple(sorted(found))


def route_kind(route: APIRoute) -> error_table.RouteKind:
    dependant = route.dependant
    params = [
        *dependant.path_params,
        *dependant.query_params,
        *dependant.header_params,
        *dependant.cookie_params,
    ]
    for sub in _iter_dependants(dependant):
        params += [*sub.path_params, *sub.query_params, *sub.header_params, *sub.cookie_params]
    names = {p.name for p in params}
    calls = list(_calls(dependant))
    schemes = schemes_of(route)
    return error_table.RouteKind(
        schemes=schemes,
        operator_workspace=OPERATOR in schemes and "{workspace_id}" in route.path,
        json_body=route.body_field is not None,
        validated=bool(params) or route.body_field is not None,
        paged="cursor" in names,
        idempotent=any(getattr(c, "__module__", None) == _IDEMPOTENCY_MODULE for c in calls),
        write=bool(set(route.methods or ()) - {"GET", "HEAD", "OPTIONS"}),
    )


def _iter_dependants(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _iter_dependants(sub)


# --- the document -------------------------------------------------------------------------------


def decorate(spec: dict[str, Any], routes: list[APIRoute]) -> dict[str, Any]:
    """The published document: ``spec`` (FastAPI's) with the schemes, errors and examples."""
    spec = copy.deepcopy(spec)
    by_id = {route.name: route for route in routes}
    components = spec.setdefault("components", {})
    components["securitySchemes"] = {
        name: scheme
        for name, scheme in components.get("securitySchemes", {}).items()
        if name != _FASTAPI_BEARER
    } | SECURITY_SCHEMES
    # One example problem per code, in components, which each response refers to.
    problems: dict[str, Any] = {}
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            route = by_id[operation["operationId"]]
            kind = route_kind(route)
            _set_security(operation, kind.schemes)
            for status in error_table.NOT_ANSWERED.get(route.name, ()):
                operation.get("responses", {}).pop(str(status), None)
            _set_errors(operation, error_table.codes_of(route.name, kind), problems)
            _set_examples(operation)
    if problems:
        components["examples"] = dict(sorted(problems.items()))
    return spec


def _set_security(operation: dict[str, Any], schemes: tuple[str, ...]) -> None:
    if schemes:
        operation["security"] = [{scheme: []} for scheme in schemes]
    else:
        operation.pop("security", None)


#: What each error status means, before the list of its codes.
STATUS_TEXT = {
    400: "Bad request",
    401: "Missing or refused credentials",
    402: "Payment declined",
    403: "Not allowed for this caller",
    404: "Not found (in this workspace)",
    405: "Method not allowed",
    409: "Conflict with the current state",
    413: "Body too large",
    415: "Body not sent as JSON",
    422: "Refused as invalid",
}


def _set_errors(
    operation: dict[str, Any], errors: list[error_table.Error], problems: dict[str, Any]
) -> None:
    """One response per error status, listing its codes, each with an example problem. A
    status FastAPI's ``responses=`` declared keeps its place even if the table names no code
    for it (the tests fail then)."""
    responses: dict[str, Any] = operation.setdefault("responses", {})
    by_status: dict[int, list[error_table.Error]] = {}
    for error in errors:
        by_status.setdefault(error.status_code, []).append(error)
    # Client errors only: a 5xx a route declares (readyz's 503) keeps its own body.
    declared = {int(s) for s in responses if s.isdigit() and 400 <= int(s) < 500}
    for status in sorted(declared | set(by_status)):
        listed = by_status.get(status, [])
        text = STATUS_TEXT.get(status, "Error")
        codes = ", ".join(f"`{e.code}`" for e in listed)
        responses[str(status)] = {
            "description": f"{text}: {codes}." if listed else f"{text}.",
            "content": {
                PROBLEM_JSON: {
                    "schema": {"$ref": "#/components/schemas/Problem"},
                    "examples": {e.code: _problem_ref(e, problems) for e in listed},
                }
            },
        }


def _problem_ref(error: error_table.Error, problems: dict[str, Any]) -> dict[str, str]:
    problems.setdefault(error.code, _problem_example(error))
    return {"$ref": f"#/components/examples/{error.code}"}


def _problem_example(error: error_table.Error) -> dict[str, Any]:
    meaning = (
        error.meaning
        if isinstance(error, error_table.Adhoc)
        else error.code.replace("_", " ").capitalize() + "."
    )
    return {
        "summary": meaning,
        "value": problem_body(
            status=error.status_code, title=error.title, code=error.code, detail=meaning
        ),
    }


def _set_examples(operation: dict[str, Any]) -> None:
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    examples = EXAMPLES.get(operation["operationId"])
    if body is None or not examples:
        return
    body["examples"] = {name: example.as_openapi() for name, example in examples.items()}


def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` (and so ``/openapi.json``, ``/docs``, ``portal openapi``) return
    the decorated document, generated once per set of routes."""
    generate = app.openapi
    made: list[tuple[dict[str, Any], dict[str, Any]]] = []

    def openapi() -> dict[str, Any]:
        base = generate()
        if not made or made[0][0] is not base:
            made[:] = [(base, decorate(base, list(api_routes(app))))]
        return made[0][1]

    app.openapi = openapi  # type: ignore[method-assign]
