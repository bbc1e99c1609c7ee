"""``openapi/openapi.json`` is generated from the app and kept in step with it."""

from __future__ import annotations

from pathlib import Path

from portal_tests.spec import rendered, spec

SPEC = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"


class TestOpenApi:
    def test_committed_spec_is_current(self) -> None:
        # Against the committed file, an expected value rendered by another process (and
        # PYTHONHASHSEED): a render that varied from run to run fails here.
        assert SPEC.read_text() == rendered(), "openapi/openapi.json is stale: run `portal openapi`"

    def test_operation_ids_are_the_route_names(self) -> None:
        document = spec()
        ids = [op["operationId"] for path in document["paths"].values() for op in path.values()]
        assert len(ids) == len(set(ids))
        assert "create_workspace" in ids
        assert "advance_clock" in ids

    def test_errors_are_documented_as_problem_json(self) -> None:
        document = spec()
        responses = document["paths"]["/v1/integration/last-error"]["get"]["responses"]
        assert "application/problem+json" in responses["401"]["content"]
