"""``compose.yaml`` (issue 18, "Beyond the anchors"): Docker does not run here, so the file is
checked for what ``docker compose up`` relies on: its services and image, PostgreSQL with a
healthcheck the portal waits for, the database URL the portal's settings read, published ports,
and every command and healthcheck path answered by this checkout's CLI and apps."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import make_url
from typer.testing import CliRunner

from portal.cli import app as cli
from portal.core.settings import Settings
from portal.reference.amsi import app as amsi_app
from portal.reference.mri import app as mri_app

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
#: The portal service runs the image's own command.
IMAGE_CMD: list[str] = json.loads(re.findall(r"^CMD (\[.*\])$", DOCKERFILE, re.M)[-1])
COMMANDS = {"portal": IMAGE_CMD, **{s: SERVICES[s]["command"] for s in ("esite", "mri")}}
REFERENCE_APPS = {"esite": amsi_app, "mri": mri_app}


def option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def health_url(service: str) -> str:
    test = SERVICES[service]["healthcheck"]["test"]
    found = re.search(r"http://127\.0\.0\.1:\d+/[\w/]+", " ".join(test))
    assert found, test
    return found[0]


class TestServices:
    def test_postgres_the_portal_and_both_reference_servers(self) -> None:
        assert set(SERVICES) == {"postgres", "portal", "esite", "mri"}

    @pytest.mark.parametrize("service", ["portal", "esite", "mri"])
    def test_each_runs_the_image_built_from_the_dockerfile_beside_it(self, service: str) -> None:
        assert SERVICES[service]["build"] == "."
        assert SERVICES[service]["image"] == "portal:compose"
        # Relative paths in the commands are the image's /app, where seed_data/ is copied.
        assert "WORKDIR /app" in DOCKERFILE
        assert "COPY seed_data ./seed_data" in DOCKERFILE

    def test_the_portal_waits_for_a_healthy_postgres(self) -> None:
        postgres = SERVICES["postgres"]
        assert postgres["image"].startswith("postgres:")
        assert postgres["healthcheck"]["test"][0] == "CMD-SHELL"
        assert "pg_isready" in postgres["healthcheck"]["test"][1]
        assert SERVICES["portal"]["depends_on"]["postgres"] == {"condition": "service_healthy"}

    def test_the_portal_database_url_names_that_postgres(self) -> None:
        env = SERVICES["portal"]["environment"]
        assert "database_url" in Settings.model_fields
        assert Settings.model_config.get("env_prefix") == "PORTAL_"
        url = make_url(env["PORTAL_DATABASE_URL"])
        pg = SERVICES["postgres"]["environment"]
        assert (url.drivername, url.host, url.port) == ("postgresql+psycopg", "postgres", 5432)
        assert (url.username, url.password, url.database) == (
            pg["POSTGRES_USER"],
            pg["POSTGRES_PASSWORD"],
            pg["POSTGRES_DB"],
        )

    @pytest.mark.parametrize("service", ["esite", "mri"])
    def test_reference_servers_answer_on_the_portals_network_at_the_scenarios_urls(
        self, service: str
    ) -> None:
        # Sharing the portal's network, they are at 127.0.0.1 for it, as the shipped
        # scenarios' connections say; so their ports are published on the portal service.
        assert SERVICES[service]["network_mode"] == "service:portal"
        port = option(COMMANDS[service], "--port")
        assert f"{port}:{port}" in SERVICES["portal"]["ports"]
        scenario = {"esite": "amsi-newport.json", "mri": "mri-acklin.json"}[service]
        text = (ROOT / "seed_data" / scenario).read_text()
        assert f'"url": "http://127.0.0.1:{port}/' in text

    @pytest.mark.parametrize("service", ["postgres", "portal", "esite", "mri"])
    def test_every_service_has_a_healthcheck(self, service: str) -> None:
        check = SERVICES[service]["healthcheck"]
        assert check["test"][0] in ("CMD", "CMD-SHELL")
        assert {"interval", "timeout", "retries"} <= set(check)
        if check["test"][:3] == ["CMD", "python", "-c"]:
            compile(check["test"][3], f"{service} healthcheck", "exec")


class TestCommands:
    @pytest.mark.parametrize("service", sorted(COMMANDS))
    def test_the_cli_takes_the_command(self, service: str) -> None:
        command = COMMANDS[service]
        assert command[0] == "portal"
        # Click refuses an unknown option even with --help, which stops before serving.
        done = CliRunner().invoke(cli, [*command[1:], "--help"])
        assert done.exit_code == 0, done.output
        if "--seed" in command:
            assert (ROOT / option(command, "--seed")).is_file()
        assert option(command, "--host") == "0.0.0.0"
        assert health_url(service).startswith(f"http://127.0.0.1:{option(command, '--port')}/")

    @pytest.mark.parametrize("service", sorted(REFERENCE_APPS))
    def test_the_reference_health_path_answers_with_the_seed_loaded(
        self, service: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        module = REFERENCE_APPS[service]
        seed = ROOT / option(COMMANDS[service], "--seed")
        monkeypatch.setenv(module.SEED_ENV, str(seed))
        with TestClient(module.create_app()) as client:
            path = "/" + health_url(service).split("/", 3)[3]
            assert client.get(path).status_code == 200

    def test_the_portal_health_path_answers_ready(self, client: TestClient) -> None:
        path = "/" + health_url("portal").split("/", 3)[3]
        assert path == "/readyz"
        answer = client.get(path)
        assert (answer.status_code, answer.json()["status"]) == (200, "ok")
