"""One sandbox workspace on a test server: its ID, its landlord's login, the scenario's keys and
tokens, and clients for each principal (landlord, accounting client, resident, operator).

Every client made here is closed by ``close()``; landlord and resident clients log in again when
their session expires on the workspace clock, so a test can advance the clock and keep calling.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from portal.testing._http import SessionAuth, expect
from portal.testing.clock import PortalClock
from portal.testing.journal import PortalJournal
from portal.testing.mailbox import Email, PortalMailbox

if TYPE_CHECKING:
    from portal.testing.server import PortalServer


@dataclass(frozen=True)
class LandlordLogin:
    """The workspace landlord's e-mail and password (``POST /v1/auth/login``)."""

    email: str
    password: str


@dataclass(frozen=True)
class Integration:
    """An integration with a freshly minted token, and a client that sends the token."""

    id: str
    token: str
    data: dict[str, Any]
    client: httpx.Client


class PortalWorkspace:
    """A workspace of ``server``: ``id``, ``landlord_login``, the scenario's ``keys``
    (scenario key -> ID) and ``tokens`` (integration key -> token), and ``created`` (the
    server's answer as JSON). ``clock``, ``mailbox`` and ``journal`` are its clock, mailbox and
    request-journal helpers."""

    def __init__(
        self,
        server: PortalServer,
        workspace_id: str,
        *,
        landlord: LandlordLogin,
        keys: dict[str, str] | None = None,
        tokens: dict[str, str] | None = None,
        created: dict[str, Any] | None = None,
    ) -> None:
        self.server = server
        self.id = workspace_id
        self.landlord_login = landlord
        self.keys = keys or {}
        self.tokens = tokens or {}
        self.created = created or {}
        #: ``/v1/sandbox/workspaces/{id}``: the operator routes of this workspace start here.
        self.path = f"/v1/sandbox/workspaces/{workspace_id}"
        self.clock = PortalClock(self)
        self.mailbox = PortalMailbox(self)
        self.journal = PortalJournal(self)
        self._clients: list[httpx.Client] = []
        self._landlord: httpx.Client | None = None

    def __repr__(self) -> str:
        return f"<PortalWorkspace {self.id} on {self.server.url}>"

    @property
    def operator(self) -> httpx.Client:
        """The server's operator client (paths are absolute: ``f"{ws.path}/events"``)."""
        return self.server.operator

    def client(self, token: str | None = None, **kwargs: Any) -> httpx.Client:
        """A new client on the server sending ``Authorization: Bearer token`` (e.g. a scenario's
        integration token: ``ws.client(ws.tokens["landlord12"])``); closed with the workspace."""
        made = self.server.client(token, **kwargs)
        self._clients.append(made)
        return made

    @property
    def landlord(self) -> httpx.Client:
        """A client logged in as the workspace's landlord (logs in again after expiry)."""
        if self._landlord is None:
            login = self.landlord_login
            self._landlord = self._session_client(
                "/v1/auth/login", {"email": login.email, "password": login.password}
            )
        return self._landlord

    def resident(self, email: str, password: str) -> httpx.Client:
        """A client logged in as a resident of this workspace (logs in again after expiry)."""
        body = {"email": email, "password": password, "workspace_id": self.id}
        return self._session_client("/v1/resident/login", body)

    def accept_invite(self, invitation: Email | str, password: str) -> httpx.Client:
        """Accept an invitation (the ``invitation`` e-mail from the mailbox, or its invite
        code) with ``password``: the resident is approved; returns their logged-in client."""
        code = invitation.data["invite_code"] if isinstance(invitation, Email) else invitation
        with self.server.client() as anonymous:
            accepted = expect(
                anonymous.post(f"/v1/resident/invites/{code}/accept", json={"password": password}),
                "accepting an invitation",
            )
        if isinstance(invitation, Email):  # the e-mail names the login: it can log in again
            body = {"email": invitation.to, "password": password, "workspace_id": self.id}
            return self._session_client("/v1/resident/login", body, accepted["access_token"])
        return self.client(accepted["access_token"])

    def _session_client(
        self, path: str, body: dict[str, Any], token: str | None = None
    ) -> httpx.Client:
        def login() -> str:
            with self.server.client() as anonymous:
                token: str = expect(anonymous.post(path, json=body), f"logging in ({path})")[
                    "access_token"
                ]
            return token

        return self.client(auth=SessionAuth(login, token))

    def create_integration(
        self, *, name: str = "Accounting client", kind: str = "landlord12", **fields: Any
    ) -> dict[str, Any]:
        """``POST /v1/integrations`` as the landlord (``features``, ``processing_options``,
        ``lockbox_format``, ``connection``... in ``fields``); returns the integration."""
        body = {"name": name, "kind": kind, **fields}
        created: dict[str, Any] = expect(
            self.landlord.post("/v1/integrations", json=body), "creating an integration", 201
        )
        return created

    def mint_token(self, integration_id: str) -> str:
        """``POST /v1/integrations/{id}/tokens``: a new token (the previous one is revoked)."""
        minted = expect(
            self.landlord.post(f"/v1/integrations/{integration_id}/tokens"), "minting a token", 201
        )
        token: str = minted["token"]
        return token

    def integration(
        self, *, name: str = "Accounting client", kind: str = "landlord12", **fields: Any
    ) -> Integration:
        """An integration, its token, and a client that calls ``/v1/integration/**`` with it."""
        data = self.create_integration(name=name, kind=kind, **fields)
        token = self.mint_token(data["id"])
        return Integration(data["id"], token, data, self.client(token))

    def return_payment(self, payment_id: str, code: str = "R01") -> dict[str, Any]:
        """The bank returns an ACH payment (``POST .../payments/{id}/return``)."""
        returned: dict[str, Any] = expect(
            self.operator.post(f"{self.path}/payments/{payment_id}/return", json={"code": code}),
            "returning a payment",
            201,
        )
        return returned

    def charge_back(self, payment_id: str, reason_code: str = "10.4") -> dict[str, Any]:
        """The card network charges a payment back (``POST .../payments/{id}/chargeback``)."""
        body = {"reason_code": reason_code}
        charged: dict[str, Any] = expect(
            self.operator.post(f"{self.path}/payments/{payment_id}/chargeback", json=body),
            "charging a payment back",
            201,
        )
        return charged

    def read(self) -> dict[str, Any]:
        """``GET /v1/sandbox/workspaces/{ws}``: the workspace, its clock and settings."""
        found: dict[str, Any] = expect(self.operator.get(self.path), "reading the workspace")
        return found

    def close(self, *, delete: bool = True) -> None:
        """Close every client made here, then delete the workspace unless ``delete=False``."""
        for made in self._clients:
            made.close()
        self._clients.clear()
        self._landlord = None
        if delete:
            self.server.delete_workspace(self.id)
