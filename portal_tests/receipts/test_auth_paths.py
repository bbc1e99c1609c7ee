"""The receipt reads' fast path authenticates exactly as the ordinary integration routes do
(issue 18 item 9: a fast path that accepted any ``Authorization`` scheme, not only ``Bearer``,
survived the suite).

The three reads (list, Load Receipts, lockbox) take no dependencies and read the header
themselves (``auth.dependencies.bearer_token``, ``authenticate_integration_raw``); Mark
Unprocessed and Show Last Error go through ``HTTPBearer`` and ``require_integration``. Every
header below is sent to all five, and each read must answer what its ordinary twin answers:
the same status, problem code and detail, and the same refusal kept as the last error.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from portal_tests.factories import bearer, make_integration, make_token
from portal_tests.receipts.test_receipt_batches import Client, closed_monday
from portal_tests.reversals.helpers import integrated_payer

BATCHES = "/v1/integration/receipt-batches"
#: ``(status, problem code or None, problem detail or None)``
Answer = tuple[int, str | None, str | None]
OK: Answer = (200, None, None)
SEND_BEARER = "Send 'Authorization: Bearer <token>'."


@dataclass
class Setup:
    c: Client
    batch_id: str
    headers: dict[str, dict[str, str]]
    #: Headers ``HTTPBearer`` reads with the spaces around the token stripped.
    spaced: dict[str, dict[str, str]]


def answer(response: Any) -> Answer:
    if response.status_code < 400:
        return (response.status_code, None, None)
    body = response.json()
    return (response.status_code, body["code"], body["detail"])


@pytest.fixture
def setup(client: TestClient) -> Setup:
    world, payer = integrated_payer(client)
    integration = make_integration(client, world)
    first = make_token(client, world, integration["id"])["token"]
    c = Client(world, payer, integration, bearer(first))
    [made] = closed_monday(client, c, "980.00")
    token = c.auth["Authorization"].removeprefix("Bearer ")
    # A token of the same integration, then superseded by a newer one (the newest is used for
    # the valid cases); and one of another integration, revoked by the landlord.
    superseded = token
    token = make_token(client, c.world, c.integration["id"])["token"]
    c.auth = bearer(token)
    other = make_integration(client, c.world, name="Revoked")
    revoked = make_token(client, c.world, other["id"])
    gone = client.delete(
        f"/v1/integrations/{other['id']}/tokens/{revoked['id']}", headers=c.world.landlord
    )
    assert gone.status_code == 204, gone.text
    stranger_world, _ = integrated_payer(client)
    stranger = make_integration(client, stranger_world)
    strangers = make_token(client, stranger_world, stranger["id"])["token"]
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    basic = base64.b64encode(f"landlord12:{token}".encode()).decode()
    headers = {
        "Bearer": {"Authorization": f"Bearer {token}"},
        "bearer (lower case)": {"Authorization": f"bearer {token}"},
        "BEARER (upper case)": {"Authorization": f"BEARER {token}"},
        "Basic with the token": {"Authorization": f"Basic {token}"},
        "Basic user:token": {"Authorization": f"Basic {basic}"},
        "Token scheme": {"Authorization": f"Token {token}"},
        "no scheme": {"Authorization": token},
        "Bearer, no token": {"Authorization": "Bearer "},
        "Bearer alone": {"Authorization": "Bearer"},
        "no header": {},
        "wrong token": {"Authorization": "Bearer not-a-token"},
        "tampered signature": {"Authorization": f"Bearer {tampered}"},
        "landlord session": c.world.landlord,
        "operator key": {"Authorization": "Bearer test-operator-key"},
        "superseded token": {"Authorization": f"Bearer {superseded}"},
        "revoked token": {"Authorization": f"Bearer {revoked['token']}"},
        "another workspace's token": {"Authorization": f"Bearer {strangers}"},
    }
    spaced = {
        "Bearer, two spaces": {"Authorization": f"Bearer  {token}"},
        "Bearer, a trailing space": {"Authorization": f"Bearer {token} "},
    }
    return Setup(c, made["deposit_batch_id"], headers, spaced)


def fast_and_slow(client: TestClient, s: Setup, headers: dict[str, str]) -> dict[str, Answer]:
    """Each fast read's answer and its ordinary twin's."""
    one = f"{BATCHES}/{s.batch_id}"
    return {
        "fast list": answer(client.get(BATCHES, headers=headers)),
        "fast load": answer(client.get(one, headers=headers)),
        "fast lockbox": answer(client.get(f"{one}/lockbox", headers=headers)),
        # Marking an unprocessed batch unprocessed changes nothing: a read that authenticates.
        "slow mark": answer(client.post(f"{one}/unprocessed", headers=headers)),
        "slow last-error": answer(client.get("/v1/integration/last-error", headers=headers)),
    }


ROUTES = ("fast list", "fast load", "fast lockbox", "slow mark", "slow last-error")


def everywhere(a: Answer) -> dict[str, Answer]:
    """The same answer on every route."""
    return dict.fromkeys(ROUTES, a)


class TestFastAndSlowPathsAuthenticateAlike:
    def test_each_header_gets_the_same_answer_on_both_paths(
        self, client: TestClient, setup: Setup
    ) -> None:
        seen = {name: fast_and_slow(client, setup, h) for name, h in setup.headers.items()}

        # Each read answers as its ordinary twin does: the list as Show Last Error, Load
        # Receipts and the lockbox file as Mark Unprocessed of the same batch.
        differing = {
            name: answers
            for name, answers in seen.items()
            if not (
                answers["fast list"] == answers["slow last-error"]
                and answers["fast load"] == answers["fast lockbox"] == answers["slow mark"]
            )
        }
        assert differing == {}
        # And what they answer: only a current token, sent as Bearer in any case, is let in.
        let_in = {name for name, answers in seen.items() if answers["fast list"] == OK}
        assert let_in == {
            "Bearer",
            "bearer (lower case)",
            "BEARER (upper case)",
            "another workspace's token",
        }
        no_bearer = everywhere((401, "unauthorized", SEND_BEARER))
        for name in (
            "Basic with the token",
            "Basic user:token",
            "Token scheme",
            "no scheme",
            "Bearer, no token",
            "Bearer alone",
            "no header",
        ):
            assert seen[name] == no_bearer, name
        for name in ("wrong token", "tampered signature", "landlord session", "operator key"):
            assert {a[:2] for a in seen[name].values()} == {(401, "token_invalid")}, name
        for name in ("superseded token", "revoked token"):
            assert {a[:2] for a in seen[name].values()} == {(401, "token_revoked")}, name

    def test_another_workspaces_token_sees_nothing_of_this_one(
        self, client: TestClient, setup: Setup
    ) -> None:
        headers = setup.headers["another workspace's token"]

        listed = client.get(BATCHES, headers=headers)
        seen = fast_and_slow(client, setup, headers)

        assert listed.json()["data"] == []
        assert {seen[k][:2] for k in ("fast load", "fast lockbox", "slow mark")} == {
            (404, "receipt_batch_not_found")
        }

    def test_a_revoked_token_is_kept_as_the_last_error_alike(
        self, client: TestClient, setup: Setup
    ) -> None:
        superseded = setup.headers["superseded token"]
        current = setup.headers["Bearer"]
        kept = {}
        for path, send in (
            (f"{BATCHES}/{setup.batch_id}", client.get),
            (f"{BATCHES}/{setup.batch_id}/unprocessed", client.post),
        ):
            assert send(path, headers=superseded).status_code == 401
            error = client.get("/v1/integration/last-error", headers=current).json()["error"]
            kept[path] = (error["status"], error["code"], error["detail"], error["path"])

        fast, slow = kept.values()
        assert fast[:3] == slow[:3]
        assert fast[:2] == (401, "token_revoked")
        assert [fast[3], slow[3]] == list(kept)

    def test_spaces_around_the_token_are_read_alike(self, client: TestClient, setup: Setup) -> None:
        seen = {name: fast_and_slow(client, setup, h) for name, h in setup.spaced.items()}

        assert seen == {name: everywhere(OK) for name in setup.spaced}
