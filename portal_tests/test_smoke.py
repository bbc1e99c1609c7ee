"""The walkthrough of the README, end to end over HTTP."""

import pytest
from fastapi.testclient import TestClient

from portal_tests.factories import bearer, make_integration, make_token, make_world


class TestWalkthrough:
    @pytest.mark.smoke
    def test_workspace_login_integration_token_last_error(self, client: TestClient) -> None:
        world = make_world(client)
        integration = make_integration(client, world)
        token = make_token(client, world, integration["id"])
        response = client.get("/v1/integration/last-error", headers=bearer(token["token"]))
        assert response.status_code == 200
        assert response.json() == {"error": None}
