"""Tokens are listed in the order they were issued, even when the workspace clock stands still."""

from fastapi.testclient import TestClient

from portal_tests.factories import make_integration, make_token, make_world


class TestTokenOrder:
    def test_listed_oldest_first_with_a_frozen_clock(self, client: TestClient) -> None:
        world = make_world(client)
        integration = make_integration(client, world)
        issued = [make_token(client, world, integration["id"])["id"] for _ in range(4)]
        listed = client.get(
            f"/v1/integrations/{integration['id']}/tokens", headers=world.landlord
        ).json()["data"]
        assert [t["id"] for t in listed] == issued
        assert [t["active"] for t in listed] == [False, False, False, True]
        assert len({t["created_at"] for t in listed}) == 1  # the clock did not move
