"""A portal the tests talk to: ``portal serve`` started in a subprocess (SQLite in a temporary
folder, an operator key made up for the run), or a server already running elsewhere.

Nothing of the server is imported here: the process is started as the README starts it and
every call after that is HTTP, as an accounting client's own tests would make them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Self

import httpx

from portal.testing import _http
from portal.testing._http import expect, new_client, problem_code
from portal.testing.process import ServeProcess, free_port, new_operator_key
from portal.testing.workspace import LandlordLogin, PortalWorkspace

#: A scenario: a path to a ``seed_data/`` file, or the document itself.
ScenarioSource = str | os.PathLike[str] | Mapping[str, Any]


def _unique_tag() -> str:
    return os.urandom(4).hex()


class PortalServer:
    """A running portal: its ``url``, its ``operator_key``, and clients and workspaces on it.

    ``start()`` launches one; ``connect()`` uses one already running. ``close()`` stops a
    server this object started (a connected one is left running).
    """

    def __init__(self, url: str, operator_key: str, *, process: ServeProcess | None = None) -> None:
        self.url = url.rstrip("/")
        self.operator_key = operator_key
        self.process = process
        self._operator: httpx.Client | None = None

    @classmethod
    def start(
        cls,
        directory: Path,
        *,
        operator_key: str | None = None,
        database_url: str | None = None,
        host: str = "127.0.0.1",
        timeout: float = 60.0,
        env: Mapping[str, str] | None = None,
    ) -> Self:
        """``portal serve`` on a free port, its database (default: SQLite) and log in
        ``directory``, with ``env`` added to its environment (``PORTAL_*`` settings); returns
        once ``/healthz`` answers."""
        directory.mkdir(parents=True, exist_ok=True)
        key = operator_key or new_operator_key()
        url = database_url or f"sqlite:///{directory / 'portal.db'}"
        log_path = directory / "serve.log"
        for _attempt in range(3):
            process = ServeProcess(
                host=host,
                port=free_port(host),
                database_url=url,
                operator_key=key,
                log_path=log_path,
                env=env,
            )
            if process.wait_healthy(timeout):
                return cls(process.url, key, process=process)
            # Exited: another process may have taken the free port meanwhile; try another.
            if "in use" not in process.log().lower():
                break
        raise RuntimeError(f"portal serve exited; its log ({log_path}):\n{process.log()[-4000:]}")

    @classmethod
    def connect(cls, url: str, operator_key: str) -> Self:
        """A server someone else runs (``--portal-url``); checks that it answers and that the
        operator key is accepted."""
        server = cls(url, operator_key)
        try:
            _http.get(f"{server.url}/healthz", timeout=10).raise_for_status()
        except httpx.HTTPError as exc:
            raise RuntimeError(f"no portal answers at {server.url}/healthz: {exc}") from None
        expect(
            server.operator.get("/v1/sandbox/workspaces", params={"limit": 1}),
            "checking the operator key",
        )
        return server

    @property
    def log_path(self) -> Path | None:
        """The log of a server started here (``None`` for a connected one)."""
        return self.process.log_path if self.process else None

    def client(self, token: str | None = None, **kwargs: Any) -> httpx.Client:
        """A new ``httpx.Client`` on the portal (``base_url`` set), sending ``Authorization:
        Bearer token`` when given; extra keyword arguments go to ``httpx.Client``. Close it
        (or use it in a ``with`` block)."""
        return new_client(self.url, token=token, **kwargs)

    @property
    def operator(self) -> httpx.Client:
        """A client with the operator key (``/v1/sandbox/**``), shared and closed by ``close()``."""
        if self._operator is None:
            self._operator = self.client(self.operator_key)
        return self._operator

    def create_workspace(self, **body: Any) -> PortalWorkspace:
        """``POST /v1/sandbox/workspaces`` with ``body`` (``name``, ``seed``, ``clock``,
        ``settings``, ``landlord``...); the landlord's login is kept for its client."""
        created = expect(
            self.operator.post("/v1/sandbox/workspaces", json=body), "creating a workspace", 201
        )
        return self._workspace(created, created)

    def load_scenario(self, source: ScenarioSource, **workspace: Any) -> PortalWorkspace:
        """A new workspace from a scenario (a ``seed_data/`` file's path, or the document).

        The file's ``workspace`` section (seed, clock, settings, landlord password) is used,
        overridden by ``workspace``; its ``id`` is left out and the landlord's e-mail tagged
        (``manager+3f2a…@oakstreet.example``), so the same file loads into many workspaces of
        one server. Uses ``POST /v1/sandbox/scenarios`` where the server has it; otherwise
        creates the workspace with that section, then ``POST .../{ws}/scenario``.
        """
        document = _document(source)
        if not document.get("workspace") and not workspace:
            return self._load(document, {})
        section = {**(document.get("workspace") or {}), **workspace}
        section.pop("id", None)
        landlord = dict(section.get("landlord") or {})
        if landlord.get("email"):
            local, _, domain = str(landlord["email"]).partition("@")
            landlord["email"] = f"{local}+{_unique_tag()}@{domain}"
            section["landlord"] = landlord
        document["workspace"] = section
        return self._load(document, section)

    def _load(self, document: dict[str, Any], section: dict[str, Any]) -> PortalWorkspace:
        response = self.operator.post("/v1/sandbox/scenarios", json=document)
        if response.status_code in (404, 405) and problem_code(response) in (
            "not_found",
            "method_not_allowed",
            None,
        ):
            return self._load_into_new(document, section)
        loaded = expect(response, "loading a scenario", 200, 201)
        ws_id = loaded.get("workspace_id") or loaded["id"]
        return self._workspace({**loaded, "id": ws_id}, loaded, section)

    def _load_into_new(self, document: dict[str, Any], section: dict[str, Any]) -> PortalWorkspace:
        fields = ("name", "seed", "clock", "settings", "landlord")
        created = expect(
            self.operator.post(
                "/v1/sandbox/workspaces", json={k: section[k] for k in fields if k in section}
            ),
            "creating the scenario's workspace",
            201,
        )
        loaded = expect(
            self.operator.post(f"/v1/sandbox/workspaces/{created['id']}/scenario", json=document),
            "loading a scenario",
            200,
            201,
        )
        return self._workspace(created, loaded, section)

    def _workspace(
        self,
        created: dict[str, Any],
        loaded: dict[str, Any],
        section: dict[str, Any] | None = None,
    ) -> PortalWorkspace:
        landlord = created.get("landlord") or loaded.get("landlord") or {}
        # The scenario's own password, when the answer does not repeat it.
        given = (section or {}).get("landlord") or {}
        password = landlord.get("password") or given.get("password")
        return PortalWorkspace(
            self,
            created["id"],
            landlord=LandlordLogin(str(landlord["email"]), str(password)),
            keys=dict(loaded.get("keys") or {}),
            tokens=dict(loaded.get("tokens") or {}),
            created=loaded,
        )

    def delete_workspace(self, workspace_id: str) -> None:
        """``DELETE /v1/sandbox/workspaces/{ws}`` (an absent one is fine)."""
        expect(
            self.operator.delete(f"/v1/sandbox/workspaces/{workspace_id}"),
            "deleting a workspace",
            204,
            404,
        )

    def close(self) -> None:
        """Close the operator client; stop the server if this object started it."""
        if self._operator is not None:
            self._operator.close()
            self._operator = None
        if self.process is not None:
            self.process.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _document(source: ScenarioSource) -> dict[str, Any]:
    if isinstance(source, Mapping):
        # A deep copy: the caller's dict is not changed.
        copied: dict[str, Any] = json.loads(json.dumps(source))
        return copied
    loaded: dict[str, Any] = json.loads(Path(source).read_text())
    return loaded
