"""``openapi/openapi.json`` is generated from the app and kept in step with it."""

from __future__ import annotations

import json
from pathlib import Path

from portal.openapi import render

SPEC = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"


class TestOpenApi:
    def test_committed_spec_is_current(self) -> None:
        assert SPEC.read_text() == render(), "openapi/openapi.json is stale: run `portal openapi`"

    def test_rendering_is_deterministic(self) -> None:
        assert render() == render()

    def test_operation_ids_are_the_route_names(self) -> None:
        spec = json.loads(render())
        ids = [op["operationId"] for path in spec["paths"].values() for op in path.values()]
        assert len(ids) == len(set(ids))
        assert "create_workspace" in ids
        assert "advance_clock" in ids

    def test_errors_are_documented_as_problem_json(self) -> None:
        spec = json.loads(render())
        responses = spec["paths"]["/v1/integration/last-error"]["get"]["responses"]
        assert "application/problem+json" in responses["401"]["content"]
