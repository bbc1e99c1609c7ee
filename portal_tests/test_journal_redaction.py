"""What the journal may store (``portal.journal.redaction``): secrets out of bodies, query
strings and paths, at any depth, whole or cut."""

from __future__ import annotations

import json

import pytest

from portal.journal.redaction import REDACTED, Redactor, is_secret_name

JWT = (
    "eyJhbGciOiJIUzI1NiJ9.eyJ3cyI6IndzXzEiLCJzdWIiOiJ1c3JfMSIsInR5cCI6ImxhbmRsb3JkIn0.c2lnbmF0dXJl"
)


@pytest.fixture
def redactor() -> Redactor:
    return Redactor(limit=4096, known_secrets=("operator-key-123456",))


@pytest.mark.parametrize(
    "name",
    [
        "password",
        "new_password",
        "Password",
        "token",
        "access_token",
        "tokens",
        "secret",
        "client_secret",
        "api_key",
        "apiKey",
        "partner_key",
        "signing-key",
        "invite_code",
        "Authorization",
        "pin",
    ],
)
def test_secret_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize(
    "name", ["key", "keys", "token_id", "token_type", "last4", "name", "kind", "expires_at"]
)
def test_names_that_hold_no_secret(name: str) -> None:
    assert not is_secret_name(name)


def test_a_bare_key_is_a_secret_in_a_query_string(redactor: Redactor) -> None:
    assert is_secret_name("key", bare_key=True)
    assert (
        redactor.query(b"key=abc&limit=5")
        == f"key={REDACTED.replace('[', '%5B').replace(']', '%5D')}&limit=5"
    )


def test_json_secrets_at_any_depth_whole_values(redactor: Redactor) -> None:
    body = {
        "name": "Landlord 12",
        "connection": {"user_id": "rt", "password": "pw-1", "partner_key": "pk-1"},
        "tokens": {"landlord12": "t-1"},
        "items": [{"key": "p0", "secret": ["a", "b"]}],
        "note": f"sent {JWT} and operator-key-123456",
        "password_set": True,
        "token": None,
    }
    stored = redactor.body(json.dumps(body).encode(), truncated=False, media="application/json")

    assert json.loads(stored.text) == {
        "name": "Landlord 12",
        "connection": {"user_id": "rt", "password": REDACTED, "partner_key": REDACTED},
        "tokens": REDACTED,
        "items": [{"key": "p0", "secret": REDACTED}],
        "note": f"sent {REDACTED} and {REDACTED}",
        "password_set": True,
        "token": None,
    }


def test_a_cut_json_body_is_redacted_as_text(redactor: Redactor) -> None:
    raw = b'{"email": "a@b.c", "password": "pw-2", "pin": 1234, "name": "x", "token": "abc'
    stored = redactor.body(raw, truncated=True, media="application/json")

    assert "pw-2" not in stored.text
    assert "1234" not in stored.text
    assert "abc" not in stored.text
    assert stored.text.startswith('{"email": "a@b.c", "password":"[REDACTED]"')
    assert stored.truncated is True


def test_text_and_form_bodies(redactor: Redactor) -> None:
    form = redactor.body(
        b"user=rt&password=pw-3", truncated=False, media="application/x-www-form-urlencoded"
    )
    csv = redactor.body(f"a,b\n1,{JWT}\n".encode(), truncated=False, media="text/csv")

    assert "pw-3" not in form.text
    assert form.text.startswith("user=rt&password=")
    assert csv.text == f"a,b\n1,{REDACTED}\n"


def test_queries_and_paths(redactor: Redactor) -> None:
    query = redactor.query(f"state=unprocessed&access_token={JWT}&x=operator-key-123456".encode())

    assert JWT not in query
    assert "operator-key-123456" not in query
    assert query.startswith("state=unprocessed&access_token=")
    assert redactor.path("/v1/resident/invites/Zx81kq/accept") == (
        f"/v1/resident/invites/{REDACTED}/accept"
    )


def test_a_login_answer_names_its_session_and_keeps_no_token(redactor: Redactor) -> None:
    answer = json.dumps({"access_token": JWT, "expires_at": "2026-07-02T15:00:00Z"}).encode()
    stored = redactor.body(answer, truncated=False, media="application/json")

    assert stored.claims == {"ws": "ws_1", "sub": "usr_1", "typ": "landlord"}
    assert JWT not in stored.text


def test_the_problem_code_is_read_off_an_error(redactor: Redactor) -> None:
    problem = b'{"type": "x", "status": 404, "code": "workspace_not_found"}'
    stored = redactor.body(problem, truncated=False, media="application/problem+json")

    assert stored.code == "workspace_not_found"


def test_the_same_bytes_are_redacted_once(redactor: Redactor) -> None:
    raw = json.dumps({"password": "pw"}).encode()
    first = redactor.body(raw, truncated=False, media="application/json")

    assert redactor.body(raw, truncated=False, media="application/json") is first
    assert first.digest == redactor._body(raw, False, "application/json").digest


def test_what_a_database_refuses_is_replaced(redactor: Redactor) -> None:
    lone = redactor.body(
        b'{"name": "a\\ud800b\\u0000c"}', truncated=False, media="application/json"
    )

    assert json.loads(lone.text) == {"name": "a\ufffdb\x00c"}  # NUL stays an escape
    assert "\x00" not in lone.text
    assert redactor.path("/v1/x\x00y") == "/v1/x\ufffdy"
