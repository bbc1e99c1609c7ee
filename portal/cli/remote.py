"""The CLI's side of a running server: ``--url`` (``PORTAL_URL``) and the operator key.

Every failure to talk to the server becomes one line: no server at the URL (with what to do
about it), a key the server refuses, something at the URL that is not a portal; an answer in
``application/problem+json`` becomes a ``Problem``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from portal.cli.output import UNREACHABLE, USAGE, CliError, Problem
from portal.core import http

DEFAULT_URL = "http://127.0.0.1:8000"

#: A month of jobs on a large portfolio, or a 64 MiB scenario, takes a while: wait for it.
TIMEOUT = httpx.Timeout(900.0, connect=5.0)


class HttpBackend:
    """The operator API of the server at ``url``."""

    def __init__(self, url: str, operator_key: str | None) -> None:
        url = url.rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise CliError(f"--url {url!r} is not an http:// or https:// URL", USAGE)
        self.url = url
        self.where = url
        self.operator_key = operator_key
        headers = {"Authorization": f"Bearer {operator_key}"} if operator_key else {}
        self.client = http.client(base_url=url, headers=headers, timeout=TIMEOUT)

    def close(self) -> None:
        self.client.close()

    # --- HTTP -----------------------------------------------------------------------------

    def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The response, or a one-line ``CliError`` when the server cannot be reached."""
        try:
            return self.client.request(method, path, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout):
            raise CliError(
                f"no portal server answers at {self.url}: start one with `portal serve`, point "
                "--url (PORTAL_URL) at yours, or work on a database file with --database-url",
                UNREACHABLE,
            ) from None
        except httpx.TimeoutException:
            raise CliError(
                f"the server at {self.url} did not answer {method} {path} within "
                f"{TIMEOUT.read:.0f} s",
                UNREACHABLE,
            ) from None
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise CliError(f"--url {self.url!r}: {exc}", USAGE) from None
        except httpx.TransportError as exc:
            raise CliError(
                f"the connection to {self.url} failed during {method} {path}: {exc}", UNREACHABLE
            ) from None

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON body of a 2xx answer; a ``Problem`` for a problem answer."""
        response = self.send(method, path, **kwargs)
        if response.status_code < 400:
            return response.json() if response.content else None
        raise self.problem(response)

    def problem(self, response: httpx.Response) -> Exception:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or "code" not in body:
            return CliError(
                f"{self.url} answered {response.request.method} {response.request.url.path} "
                f"with {response.status_code} {response.reason_phrase} and no problem body: "
                "is it a portal server?"
            )
        if response.status_code == 401:
            given = "the operator key given" if self.operator_key else "no operator key"
            return CliError(
                f"the server at {self.url} refused {given} ({body['code']}): pass "
                "--operator-key or set PORTAL_OPERATOR_KEY (`portal serve` prints it)"
            )
        return Problem(
            response.status_code,
            str(body["code"]),
            str(body.get("detail") or body.get("title") or ""),
            errors=[e for e in body.get("errors") or [] if isinstance(e, dict)],
            where=self.url,
        )

    # --- operations -------------------------------------------------------------------------

    def workspace_path(self, workspace_id: str) -> str:
        return f"/v1/sandbox/workspaces/{workspace_id}"

    def clock_now(self, workspace_id: str) -> datetime:
        clock = self.call("GET", f"{self.workspace_path(workspace_id)}/clock")
        return datetime.fromisoformat(clock["now"])

    def advance(self, workspace_id: str, body: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self.call(
            "POST", f"{self.workspace_path(workspace_id)}/clock/advance", json=body
        )
        return result

    def workspace_ids(self) -> list[str]:
        ids: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 500, **({"cursor": cursor} if cursor else {})}
            page = self.call("GET", "/v1/sandbox/workspaces", params=params)
            ids += [w["id"] for w in page["data"]]
            cursor = page.get("next_cursor")
            if not cursor:
                return ids

    def check(self, workspace_id: str) -> dict[str, Any]:
        try:
            report: dict[str, Any] = self.call("GET", f"{self.workspace_path(workspace_id)}/check")
        except Problem as exc:
            if exc.route_missing:
                raise CliError(
                    f"the server at {self.url} has no check route (GET /v1/sandbox/workspaces/"
                    "{ws}/check; an older portal): update it, or run `portal check "
                    "--database-url URL` on its database"
                ) from None
            raise
        return report

    def seed(self, text: bytes, document: dict[str, Any], *, replace: bool) -> dict[str, Any]:
        """``POST /v1/sandbox/scenarios``; on a server without it, the same in two steps."""
        try:
            loaded: dict[str, Any] = self.call(
                "POST",
                "/v1/sandbox/scenarios",
                params={"replace": "true"} if replace else {},
                content=text,
                headers={"Content-Type": "application/json"},
            )
        except Problem as exc:
            if not exc.route_missing:
                raise
            return self._seed_in_steps(document, replace=replace)
        return loaded

    def _seed_in_steps(self, document: dict[str, Any], *, replace: bool) -> dict[str, Any]:
        """An older server: create the workspace the file describes (its ID, seed, clock,
        settings, landlord), then load the file into it; a refused load deletes it again."""
        section = document.get("workspace")
        section = section if isinstance(section, dict) else {}
        wanted = section.get("id")
        if replace and isinstance(wanted, str):
            gone = self.send("DELETE", self.workspace_path(wanted))
            if gone.status_code not in (204, 404):
                raise self.problem(gone)
        try:
            created = self.call("POST", "/v1/sandbox/workspaces", json=section)
        except Problem as exc:
            # Its fields are the file's ``$.workspace`` section.
            for error in exc.errors:
                if str(error.get("field", "")).startswith("$"):
                    error["field"] = "$.workspace" + str(error["field"])[1:]
            raise
        path = self.workspace_path(created["id"])
        try:
            loaded = self.call("POST", f"{path}/scenario", json=document)
        except BaseException:
            self.send("DELETE", path)
            raise
        clock = self.call("GET", f"{path}/clock")
        return {**loaded, "ignored": [], "landlord": created["landlord"], "clock": clock}
