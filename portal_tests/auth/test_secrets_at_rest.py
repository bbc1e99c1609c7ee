"""Server secrets at rest (issue 14, scope 8; docs/decisions.md, Auth).

- ``PORTAL_SECRET_KEY`` / ``PORTAL_OPERATOR_KEY`` set: the key is never written to the
  database, and one generated and stored earlier is deleted at start-up (credentials made with
  it then answer 401 ``token_invalid`` / ``invalid_operator_key``).
- Unset: generated once, stored, and reused by every later start.

Either way landlord, resident and integration tokens keep verifying across a restart.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlmodel import Session, col

from portal.auth.models import ServerSecret
from portal.core.clock import FixedClock
from portal.core.settings import Settings
from portal.main import create_app
from portal_tests.conftest import OPERATOR_KEY
from portal_tests.factories import bearer, make_integration, make_token, make_world
from portal_tests.residents.helpers import invite, mailbox, make_unit

ENV_KEY = "signing-key-from-the-environment"


def stored(engine: Engine) -> dict[str, str]:
    """The ``server_secret`` table, read straight from the database."""
    with Session(engine) as session:
        rows = session.execute(select(col(ServerSecret.name), col(ServerSecret.value))).all()
    return dict(rows)


@contextmanager
def started(
    engine: Engine,
    database_url: str,
    clock: FixedClock,
    *,
    secret_key: str | None,
    operator_key: str | None = OPERATOR_KEY,
) -> Iterator[TestClient]:
    """One start of the server (its lifespan loads the secrets) on the suite's database."""
    settings = Settings(
        database_url=database_url,
        operator_key=operator_key,
        secret_key=secret_key,
        run_real_clocks=False,
    )
    with TestClient(create_app(settings, engine=engine, clock=clock)) as client:
        yield client


def credentials(client: TestClient) -> dict[str, dict[str, str]]:
    """A landlord session, an integration token and a resident session, as headers."""
    world = make_world(client)
    integration = make_integration(client, world)
    token = make_token(client, world, integration["id"])["token"]
    invite(client, world, make_unit(client, world)["id"])
    code = mailbox(client, world, kind="invitation")[0]["data"]["invite_code"]
    accepted = client.post(f"/v1/resident/invites/{code}/accept", json={"password": "s3cret-pw"})
    assert accepted.status_code == 200, accepted.text
    return {
        "landlord": world.landlord,
        "integration": bearer(token),
        "resident": bearer(accepted.json()["access_token"]),
    }


PROBES = {
    "landlord": "/v1/residents",
    "integration": "/v1/integration/residents",
    "resident": "/v1/resident/leases",
}


def answers(client: TestClient, creds: dict[str, dict[str, str]]) -> dict[str, Any]:
    """Principal -> 200, or the problem code its call answered."""
    out: dict[str, Any] = {}
    for who, path in PROBES.items():
        response = client.get(path, headers=creds[who])
        out[who] = 200 if response.status_code == 200 else response.json()["code"]
    return out


ALL_OK = {"landlord": 200, "integration": 200, "resident": 200}


class TestSigningKeyFromTheEnvironment:
    def test_no_signing_key_is_written_and_tokens_verify_after_a_restart(
        self, engine: Engine, database_url: str, clock: FixedClock
    ) -> None:
        with started(engine, database_url, clock, secret_key=ENV_KEY) as client:
            creds = credentials(client)
            assert answers(client, creds) == ALL_OK
        assert "signing_key" not in stored(engine)

        with started(engine, database_url, clock, secret_key=ENV_KEY) as client:
            assert answers(client, creds) == ALL_OK
        assert "signing_key" not in stored(engine)

    def test_a_stored_key_is_deleted_and_its_tokens_are_refused(
        self, engine: Engine, database_url: str, clock: FixedClock
    ) -> None:
        with started(engine, database_url, clock, secret_key=None) as client:
            creds = credentials(client)
        assert "signing_key" in stored(engine)

        with started(engine, database_url, clock, secret_key=ENV_KEY) as client:
            assert "signing_key" not in stored(engine)
            assert answers(client, creds) == {
                "landlord": "token_invalid",
                "integration": "token_invalid",
                "resident": "token_invalid",
            }
            # New credentials are signed with the environment's key.
            assert answers(client, credentials(client)) == ALL_OK

    def test_another_key_in_the_environment_refuses_the_old_tokens(
        self, engine: Engine, database_url: str, clock: FixedClock
    ) -> None:
        with started(engine, database_url, clock, secret_key=ENV_KEY) as client:
            creds = credentials(client)

        with started(engine, database_url, clock, secret_key="a-rotated-key") as client:
            assert set(answers(client, creds).values()) == {"token_invalid"}
        assert stored(engine) == {}


class TestGeneratedSigningKey:
    def test_generated_once_stored_and_reused_so_tokens_verify_after_a_restart(
        self, engine: Engine, database_url: str, clock: FixedClock
    ) -> None:
        with started(engine, database_url, clock, secret_key=None) as client:
            creds = credentials(client)
            assert answers(client, creds) == ALL_OK
        key = stored(engine)["signing_key"]
        assert key

        with started(engine, database_url, clock, secret_key=None) as client:
            assert answers(client, creds) == ALL_OK
        assert stored(engine)["signing_key"] == key

    def test_an_empty_setting_counts_as_unset(
        self, engine: Engine, database_url: str, clock: FixedClock
    ) -> None:
        with started(engine, database_url, clock, secret_key="") as client:
            creds = credentials(client)
        assert stored(engine)["signing_key"]
        with started(engine, database_url, clock, secret_key=None) as client:
            assert answers(client, creds) == ALL_OK


class TestOperatorKey:
    def test_a_configured_operator_key_is_not_stored_and_an_old_one_is_deleted(
        self, engine: Engine, database_url: str, clock: FixedClock
    ) -> None:
        with started(engine, database_url, clock, secret_key=ENV_KEY, operator_key=None) as c:
            generated = stored(engine)["operator_key"]
            ok = c.get("/v1/sandbox/workspaces", headers=bearer(generated))
            assert ok.status_code == 200, ok.text

        with started(engine, database_url, clock, secret_key=ENV_KEY) as c:
            assert stored(engine) == {}
            old = c.get("/v1/sandbox/workspaces", headers=bearer(generated))
            assert old.status_code == 401
            assert old.json()["code"] == "invalid_operator_key"
            configured = c.get("/v1/sandbox/workspaces", headers=bearer(OPERATOR_KEY))
            assert configured.status_code == 200

    def test_a_generated_operator_key_survives_a_restart(
        self, engine: Engine, database_url: str, clock: FixedClock
    ) -> None:
        with started(engine, database_url, clock, secret_key=ENV_KEY, operator_key=None):
            generated = stored(engine)["operator_key"]
        with started(engine, database_url, clock, secret_key=ENV_KEY, operator_key=None) as c:
            assert stored(engine) == {"operator_key": generated}
            response = c.get("/v1/sandbox/workspaces", headers=bearer(generated))
            assert response.status_code == 200, response.text
