"""The scrypt cost of password hashes (issue 18 item 8): production hashes at the full cost
(``n = 2**14``); the suite lowers it (``conftest.TEST_PASSWORD_HASH_COST``) to stay fast. Each
hash records its ``n`` and is checked at that cost, so a hash made at either cost verifies
under the other, and no setting can ask more of the server than the full cost."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import Engine, select
from sqlmodel import Session, col
from typer.testing import CliRunner

from portal.auth import service
from portal.auth.models import LandlordUser
from portal.cli import app as cli
from portal.core.settings import Settings
from portal.main import create_app
from portal_tests.conftest import TEST_PASSWORD_HASH_COST
from portal_tests.factories import login, make_world

FULL = 2**14
PASSWORD = "correct horse battery staple"


def cost_of(stored: str) -> int:
    scheme, n, _salt, _digest = stored.split("$")
    assert scheme == "scrypt"
    return int(n)


class TestProductionCost:
    @pytest.mark.smoke
    def test_the_setting_defaults_to_the_full_cost(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("PORTAL_PASSWORD_HASH_COST", raising=False)

        assert Settings().password_hash_cost == FULL == service.MAX_PASSWORD_HASH_COST

    def test_a_fresh_process_hashes_at_the_full_cost(self) -> None:
        # Not this process: the suite lowered the cost here. A server process as it starts,
        # with no PORTAL_* variable set, the app built from its default settings.
        program = textwrap.dedent(
            """
            from portal.auth import service
            from portal.core.settings import Settings
            from portal.main import create_app

            before = service.hash_password("pw")
            create_app(Settings(database_url="sqlite:///:memory:"))
            print(before.split("$")[1], service.hash_password("pw").split("$")[1])
            """
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}

        done = subprocess.run(
            [sys.executable, "-c", program], env=env, capture_output=True, text=True, check=True
        )

        assert done.stdout.split() == [str(FULL), str(FULL)]


class TestTheSettingReachesTheServer:
    """Found by profiling the suite: ``Settings.password_hash_cost`` was read by nobody, so every
    ``portal serve`` the suite started hashed its scenario passwords at the full cost."""

    def test_the_app_factory_applies_it(self, database_url: str) -> None:
        create_app(Settings(database_url=database_url, password_hash_cost=32))

        assert service.password_hash_cost() == 32
        assert cost_of(service.hash_password(PASSWORD)) == 32

    def test_portal_seed_on_a_database_applies_it(
        self, database_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("PORTAL_PASSWORD_HASH_COST", "64")
        scenario = Path(__file__).resolve().parents[2] / "seed_data" / "oak-street-landlord12.json"

        done = CliRunner().invoke(cli, ["seed", str(scenario), "--database-url", database_url])

        assert done.exit_code == 0, done.output
        assert service.password_hash_cost() == 64
        # The scenario's own passwords are hashed at the scenario cost, below the setting
        # (sandbox/test_scenario_passwords.py).
        with Session(engine) as session:
            stored = session.scalars(select(col(LandlordUser.password_hash))).one()
        assert cost_of(stored) == service.SCENARIO_PASSWORD_HASH_COST < 64


class TestCostsMeet:
    def test_the_suite_hashes_at_its_low_cost(self) -> None:
        stored = service.hash_password(PASSWORD)

        assert cost_of(stored) == TEST_PASSWORD_HASH_COST == service.password_hash_cost()
        assert service.verify_password(PASSWORD, stored)
        assert not service.verify_password(PASSWORD + "!", stored)

    def test_a_low_cost_hash_verifies_at_the_full_cost_and_back(self) -> None:
        low = service.hash_password(PASSWORD)
        service.set_password_hash_cost(FULL)  # the conftest fixture lowers it for the next test
        full = service.hash_password(PASSWORD)

        assert (cost_of(low), cost_of(full)) == (TEST_PASSWORD_HASH_COST, FULL)
        assert service.verify_password(PASSWORD, low)
        assert service.verify_password(PASSWORD, full)
        assert not service.verify_password("wrong", low)
        service.set_password_hash_cost(TEST_PASSWORD_HASH_COST)
        assert service.verify_password(PASSWORD, full)
        assert not service.verify_password("wrong", full)

    def test_the_landlord_of_a_test_workspace_logs_in(
        self, client: TestClient, engine: Engine
    ) -> None:
        world = make_world(client)

        with Session(engine) as session:
            stored = session.scalars(
                select(col(LandlordUser.password_hash)).where(
                    col(LandlordUser.workspace_id) == world.workspace_id
                )
            ).one()
        assert cost_of(stored) == TEST_PASSWORD_HASH_COST
        assert login(client, world.email, world.password)


class TestOnlyCostsTheServerTakes:
    @pytest.mark.parametrize("n", [0, 1, 3, 1000, 2**15])
    def test_refused_by_the_setting(self, n: int) -> None:
        with pytest.raises(ValidationError):
            Settings(password_hash_cost=n)
        with pytest.raises(ValueError, match="power of two"):
            service.set_password_hash_cost(n)

    def test_a_stored_hash_above_the_full_cost_never_verifies(self) -> None:
        stored = service.hash_password(PASSWORD)
        _scheme, _n, salt, digest = stored.split("$")

        assert not service.verify_password(PASSWORD, f"scrypt${2**15}${salt}${digest}")
