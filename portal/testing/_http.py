"""HTTP plumbing shared by the test helpers: clients, the error raised on an unexpected answer,
and a bearer auth that logs in again when a session expired on the workspace clock."""

from __future__ import annotations

import functools
import ssl
from collections.abc import Callable, Generator
from typing import Any

import httpx

#: Generous: a scenario load or a month of clock jobs can take seconds; a connect that does not
#: happen quickly means the server is gone.
DEFAULT_TIMEOUT = httpx.Timeout(120.0, connect=10.0)


class PortalRequestError(AssertionError):
    """The portal answered a helper's request with an unexpected status.

    An ``AssertionError``, so pytest shows it as a failed test (not an error in the helper) with
    the problem's ``code`` and ``detail``. ``response`` is the httpx response.
    """

    def __init__(self, response: httpx.Response, action: str) -> None:
        self.response = response
        self.code = problem_code(response)
        request = response.request
        super().__init__(
            f"{action}: {request.method} {request.url} answered {response.status_code}"
            f"{f' {self.code}' if self.code else ''}: {_detail(response)}"
        )


def problem_code(response: httpx.Response) -> str | None:
    """The problem+json ``code`` of an error response, if it has one."""
    try:
        body = response.json()
    except ValueError:
        return None
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, str) else None


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:500]
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return str(body["detail"])
    return response.text[:500]


def expect(response: httpx.Response, action: str, *statuses: int) -> Any:
    """The JSON body of ``response`` if its status is one of ``statuses`` (default: 2xx)."""
    __tracebackhide__ = True  # pytest shows the test's line, not this helper's
    ok = response.status_code in statuses if statuses else response.is_success
    if not ok:
        raise PortalRequestError(response, action)
    if response.status_code == 204 or not response.content:
        return None
    return response.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def new_client(base_url: str, *, token: str | None = None, **kwargs: Any) -> httpx.Client:
    """An ``httpx.Client`` on the portal, with ``Authorization: Bearer token`` when given."""
    headers = {**(bearer(token) if token else {}), **kwargs.pop("headers", {})}
    kwargs.setdefault("timeout", DEFAULT_TIMEOUT)
    kwargs.setdefault("verify", tls_context())
    return httpx.Client(base_url=base_url, headers=headers, **kwargs)


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for every client of the process: building one loads the CA bundle
    (~23 ms), which each new client paid (this package imports nothing of the server's, so it
    does not share ``portal.core.http``'s)."""
    return httpx.create_ssl_context()


def get(url: str, *, timeout: float) -> httpx.Response:
    with httpx.Client(verify=tls_context(), timeout=timeout) as http:
        return http.get(url)


class SessionAuth(httpx.Auth):
    """``Authorization: Bearer`` with a session token that ``login()`` returns; logs in again once
    when the portal answers 401 ``token_expired`` (landlord and resident sessions expire on the
    *workspace* clock, so advancing it ends them)."""

    requires_response_body = True

    def __init__(self, login: Callable[[], str], token: str | None = None) -> None:
        self._login = login
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._token is None:
            self._token = self._login()
        request.headers["Authorization"] = f"Bearer {self._token}"
        response = yield request
        if response.status_code == 401 and problem_code(response) == "token_expired":
            self._token = self._login()
            request.headers["Authorization"] = f"Bearer {self._token}"
            yield request
