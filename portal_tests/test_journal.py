"""The request journal (issue 20): every ``/v1/...`` request journalled per workspace, listed by
filters, verified by count with near misses, bounded by retention, free of secrets."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, text
from sqlmodel import Session

from portal.core.clock import FixedClock
from portal.core.settings import Settings
from portal.journal.models import JournalBatch, JournalBody
from portal.main import create_app
from portal_tests.factories import (
    OPERATOR,
    World,
    advance,
    bearer,
    load_oak_street,
    make_integration,
    make_token,
    make_world,
)

BATCHES = "/v1/integration/receipt-batches"
BATCH = f"{BATCHES}/2732388606925747"


def journal(client: TestClient, workspace_id: str, **filters: Any) -> list[dict[str, Any]]:
    response = client.get(
        f"/v1/sandbox/workspaces/{workspace_id}/journal",
        params={"limit": 500, **filters},
        headers=OPERATOR,
    )
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def verify(client: TestClient, workspace_id: str, **body: Any) -> dict[str, Any]:
    response = client.post(
        f"/v1/sandbox/workspaces/{workspace_id}/journal/verify", json=body, headers=OPERATOR
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def operator_journal(client: TestClient, **filters: Any) -> list[dict[str, Any]]:
    response = client.get("/v1/sandbox/journal", params={"limit": 500, **filters}, headers=OPERATOR)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def app_with(settings: Settings, engine: Engine, clock: Any, **changes: Any) -> FastAPI:
    return create_app(settings.model_copy(update=changes), engine=engine, clock=clock)


@pytest.fixture
def world(client: TestClient) -> World:
    return make_world(client)


@pytest.fixture
def integration(client: TestClient, world: World) -> dict[str, str]:
    made = make_integration(client, world)
    return {"id": made["id"], "token": make_token(client, world, made["id"])["token"]}


class TestTwentyRequests:
    """Issue 20's acceptance: 20 requests, 3 of them failing, counted and filtered."""

    @pytest.fixture
    def twenty(self, client: TestClient, world: World, integration: dict[str, str]) -> str:
        caller = bearer(integration["token"])
        client.delete(f"/v1/sandbox/workspaces/{world.workspace_id}/journal", headers=OPERATOR)
        for _ in range(12):
            assert client.get("/v1/integration/last-error", headers=caller).status_code == 200
        for _ in range(5):
            assert client.get(BATCHES, headers=caller).status_code == 200
        assert client.get(f"{BATCHES}/1234", headers=caller).status_code == 404
        assert client.get(f"{BATCHES}/5678", headers=caller).status_code == 404
        refused = client.post(
            "/v1/integration/balances", content=b"{not json", headers=caller | _json()
        )
        assert refused.status_code == 400
        return world.workspace_id

    def test_every_request_is_journalled_in_order(self, client: TestClient, twenty: str) -> None:
        entries = journal(client, twenty)

        assert len(entries) == 20
        assert [e["seq"] for e in entries] == sorted(e["seq"] for e in entries)
        assert [e["status"] for e in entries].count(200) == 17
        assert {e["principal"].split(":")[0] for e in entries} == {"integration"}

    def test_filters(self, client: TestClient, twenty: str, integration: dict[str, str]) -> None:
        assert len(journal(client, twenty, status="4xx")) == 3
        assert len(journal(client, twenty, status="404")) == 2
        assert len(journal(client, twenty, path=f"{BATCHES}/*")) == 2
        assert len(journal(client, twenty, path="/v1/integration/**")) == 20
        assert len(journal(client, twenty, method="post")) == 1
        assert len(journal(client, twenty, principal="integration")) == 20
        assert len(journal(client, twenty, principal=f"integration:{integration['id']}")) == 20
        assert journal(client, twenty, principal="landlord") == []
        assert [e["code"] for e in journal(client, twenty, status="4xx")] == [
            "receipt_batch_not_found",
            "receipt_batch_not_found",
            "malformed_json",
        ]

    def test_verify_counts(self, client: TestClient, twenty: str) -> None:
        last_error = {"method": "GET", "path": "/v1/integration/last-error"}
        assert verify(client, twenty, request=last_error, exactly=12)["matched"] is True
        assert verify(client, twenty, request={"status": "4xx"}, at_least=3)["matched"] is True
        assert verify(client, twenty, request={"status": "4xx"}, at_most=3)["matched"] is True
        assert verify(client, twenty, request={"status": "4xx"}, at_most=2)["matched"] is False
        assert verify(client, twenty, request={"status": "5xx"})["matched"] is False  # >= 1
        found = verify(client, twenty, request={"code": "malformed_json"}, exactly=1)
        assert (found["matched"], found["count"], found["expected"]) == (True, 1, {"exactly": 1})
        assert found["near_misses"] == []

    def test_a_failed_verification_lists_the_near_misses_closest_first(
        self, client: TestClient, twenty: str
    ) -> None:
        result = verify(
            client, twenty, request={"method": "GET", "path": f"{BATCHES}/*", "status": "200"}
        )

        assert (result["matched"], result["count"], result["expected"]) == (
            False,
            0,
            {"at_least": 1},
        )
        closest = result["near_misses"]
        assert [m["missed"] for m in closest[:2]] == [["status"], ["status"]]
        assert {m["entry"]["path"] for m in closest[:2]} == {f"{BATCHES}/1234", f"{BATCHES}/5678"}
        assert all(len(m["missed"]) >= 1 for m in closest)
        assert len(closest) == 10


def _json() -> dict[str, str]:
    return {"Content-Type": "application/json"}


class TestWhoAndWhen:
    def test_principals_and_workspace_time(
        self, client: TestClient, world: World, integration: dict[str, str]
    ) -> None:
        ws = world.workspace_id
        client.get("/v1/integrations", headers=world.landlord)
        client.get(f"/v1/sandbox/workspaces/{ws}/clock", headers=OPERATOR)
        advance(client, ws, by="P1D")
        client.get("/v1/integration/last-error", headers=bearer(integration["token"]))

        entries = journal(client, ws)
        by_path = {(e["method"], e["path"]): e for e in entries}
        landlord = by_path[("GET", "/v1/integrations")]
        assert landlord["principal"].startswith("landlord:usr_")
        assert by_path[("GET", f"/v1/sandbox/workspaces/{ws}/clock")]["principal"] == "operator"
        read = by_path[("GET", "/v1/integration/last-error")]
        assert read["principal"] == f"integration:{integration['id']}"
        # The workspace clock, not the server's: a day later after the advance.
        assert landlord["workspace_at"] == "2026-07-02T14:00:00Z"
        assert read["workspace_at"] == "2026-07-03T14:00:00Z"
        assert read["at"] == landlord["at"] == "2026-11-22T12:00:00Z"  # the server's clock

    def test_a_login_belongs_to_the_workspace_of_the_session_it_issued(
        self, client: TestClient, world: World
    ) -> None:
        body = {"email": world.email, "password": world.password}
        assert client.post("/v1/auth/login", json=body).status_code == 200

        [login] = journal(client, world.workspace_id, path="/v1/auth/login")[-1:]
        assert login["principal"].startswith("landlord:usr_")

    def test_requests_no_workspace_can_be_named_for_go_to_the_operator_journal(
        self, client: TestClient, world: World
    ) -> None:
        client.get("/v1/integration/last-error", headers=bearer("forged"))
        client.post("/v1/auth/login", json={"email": world.email, "password": "wrong-password"})
        client.get("/v1/sandbox/workspaces/ws_nowhere/clock", headers=OPERATOR)

        unattributed = operator_journal(client)
        codes = [(e["path"], e["status"], e["code"], e["principal"]) for e in unattributed]
        assert ("/v1/integration/last-error", 401, "token_invalid", "anonymous") in codes
        assert ("/v1/auth/login", 401, "invalid_credentials", "anonymous") in codes
        nowhere = ("/v1/sandbox/workspaces/ws_nowhere/clock", 404, "workspace_not_found")
        assert (*nowhere, "operator") in codes
        assert ("/v1/sandbox/workspaces", 201, None, "operator") in codes  # made the world
        assert all(e["workspace_at"] is None for e in unattributed)

    def test_a_revoked_token_is_still_its_integrations(
        self, client: TestClient, world: World, integration: dict[str, str]
    ) -> None:
        make_token(client, world, integration["id"])  # supersedes the first
        client.get("/v1/integration/last-error", headers=bearer(integration["token"]))

        refused = journal(client, world.workspace_id, status="401")
        assert [(e["code"], e["principal"]) for e in refused] == [
            ("token_revoked", f"integration:{integration['id']}")
        ]

    def test_the_journal_routes_are_not_journalled(self, client: TestClient, world: World) -> None:
        for _ in range(3):
            journal(client, world.workspace_id)
            verify(client, world.workspace_id, request={})
            operator_journal(client)

        paths = [e["path"] for e in journal(client, world.workspace_id)]
        paths += [e["path"] for e in operator_journal(client)]
        assert not [p for p in paths if "journal" in p]


class TestWhatTheRouteNeverSaw:
    def test_a_body_refused_at_the_door_is_journalled_as_its_tokens(
        self, client: TestClient, world: World
    ) -> None:
        caller = world.landlord | _json()
        too_large = b'{"x": "' + b"a" * (1024 * 1024 + 10) + b'"}'
        assert client.post("/v1/integrations", content=too_large, headers=caller).status_code == 413
        latin = '{"name": "caf\xe9"}'.encode("latin-1")
        assert client.post("/v1/integrations", content=latin, headers=caller).status_code == 400
        anonymous = client.post("/v1/integrations", content=too_large, headers=_json())
        assert anonymous.status_code == 413

        refused = journal(client, world.workspace_id, path="/v1/integrations")
        assert [(e["status"], e["code"], e["principal"][:13]) for e in refused] == [
            (413, "payload_too_large", "landlord:usr_"),
            (400, "invalid_encoding", "landlord:usr_"),
        ]
        [elsewhere] = operator_journal(client, path="/v1/integrations")
        assert (elsewhere["status"], elsewhere["principal"]) == (413, "anonymous")
        big = refused[0]["request"]
        assert (big["size"], big["body"]) == (len(too_large), None)  # refused unread

    def test_a_body_beyond_the_size_setting_is_cut_and_says_so(
        self, client: TestClient, world: World
    ) -> None:
        long = json.dumps({"password": "pw-cut-secret", "name": "n" * 40_000, "kind": "x"})
        sent = client.post("/v1/integrations", content=long, headers=world.landlord | _json())
        assert sent.status_code == 422
        short = {"kind": "nope", "password": "pw-whole-secret", "name": "x"}
        assert (
            client.post("/v1/integrations", json=short, headers=world.landlord).status_code == 422
        )

        cut, whole = journal(client, world.workspace_id, path="/v1/integrations")
        assert cut["request"]["truncated"] is True
        assert cut["request"]["size"] == len(long)
        # Cut JSON cannot be parsed: its secret-named members are redacted as text.
        assert cut["request"]["body"].startswith('{"password":"[REDACTED]", "name": "nnn')
        assert len(cut["request"]["body"]) < Settings().journal_body_bytes
        assert whole["request"]["truncated"] is False
        assert json.loads(whole["request"]["body"])["password"] == "[REDACTED]"

    def test_an_answer_of_the_read_cache_is_journalled_with_its_principal(
        self, client: TestClient, engine: Engine
    ) -> None:
        if client.app.state.read_cache is None:  # type: ignore[attr-defined]
            pytest.skip("no read cache on this database")
        ws, oak = load_oak_street(client)
        for _ in range(3):
            assert client.get(BATCH, headers=oak).status_code == 200

        reads = journal(client, ws["id"], path=BATCH)
        assert len(reads) == 3
        assert reads[0]["cached"] is False
        # The journal's own write between reads moves the database version, so how many came
        # from the cache depends on when it wrote; each that did says so and keeps its caller.
        principal = reads[0]["principal"]
        assert principal.startswith("integration:int_")
        assert all(r["principal"] == principal for r in reads)
        assert all(r["response"]["body"] == reads[0]["response"]["body"] for r in reads)


class TestSecrets:
    def test_no_token_password_or_key_is_ever_stored(
        self, client: TestClient, engine: Engine, app: FastAPI
    ) -> None:
        """Log in, mint a token, call with it, create things with passwords, load a scenario
        with passwords and tokens; then search every stored column of the journal."""
        world = make_world(client, landlord={"password": "landlord-pass-7788"})
        made = make_integration(
            client,
            world,
            kind="amsi",
            connection={
                "url": "http://127.0.0.1:9/esite",
                "portfolio": "P1",
                "user_id": "esite-user",
                "password": "esite-secret-5544",
                "daily_sync": False,
            },
        )
        make_integration(
            client,
            world,
            kind="mri",
            connection={
                "url": "http://127.0.0.1:9/mriapiservices/api.asp",
                "client_id": "C000123",
                "database": "RTDB",
                "user": "RTAPI",
                "partner_key": "pk-0123456789abcdef",
                "password": "mri-secret-6655",
                "property_ids": ["500"],
            },
        )
        token = make_token(client, world, made["id"])["token"]
        client.get("/v1/integration/last-error", headers=bearer(token))
        client.get(f"/v1/integration/last-error?access_token={token}&api_key=k-9911-abcdefg")
        client.post(
            "/v1/resident/login",
            json={"email": "x@example.com", "password": "resident-pass-3322"},
        )
        _loaded, oak = load_oak_street(client)
        client.get(BATCHES, headers=oak)
        operator_journal(client)  # writes what is buffered
        secrets = [
            "landlord-pass-7788",
            "esite-secret-5544",
            "resident-pass-3322",
            "k-9911-abcdefg",
            "pk-0123456789abcdef",
            "mri-secret-6655",
            "oak-street-demo",  # the scenario's landlord password
            token,
            token.split(".")[2],
            oak["Authorization"].removeprefix("Bearer "),
            world.landlord_token,
            app.state.operator_key,
            app.state.signing_key,
        ]

        stored = _every_stored_text(engine)
        assert "esite-user" in stored  # the connection was journalled, its password not
        assert "[REDACTED]" in stored
        leaked = [s for s in secrets if s in stored]
        assert leaked == []


def _every_stored_text(engine: Engine) -> str:
    with Session(engine) as session:
        rows = [
            *session.execute(select(JournalBatch)).scalars(),
            *session.execute(select(JournalBody)).scalars(),
        ]
    return "\n".join(json.dumps(r.model_dump(mode="json")) for r in rows)


class TestRetention:
    def test_the_newest_entries_are_kept_and_numbering_goes_on(
        self, settings: Settings, engine: Engine, clock: FixedClock, world_id: str
    ) -> None:
        with TestClient(app_with(settings, engine, clock, journal_max_entries=5)) as client:
            for n in range(8):
                client.get(f"/v1/sandbox/workspaces/{world_id}/clock?n={n}", headers=OPERATOR)
            entries = journal(client, world_id)
            bodies = _count(engine, JournalBody, world_id)

        assert [e["query"] for e in entries] == [f"n={n}" for n in range(3, 8)]
        assert [e["seq"] for e in entries] == list(range(3, 8))
        assert bodies == 1  # the one clock body every kept entry shares

    def test_entries_past_the_age_limit_go(
        self, settings: Settings, engine: Engine, clock: FixedClock, world_id: str
    ) -> None:
        with TestClient(app_with(settings, engine, clock, journal_max_age_hours=1)) as client:
            client.get(f"/v1/sandbox/workspaces/{world_id}/clock?old=1", headers=OPERATOR)
            journal(client, world_id)
            clock.advance(timedelta(minutes=61))
            client.get(f"/v1/sandbox/workspaces/{world_id}/clock?new=1", headers=OPERATOR)
            entries = journal(client, world_id)

        assert [e["query"] for e in entries] == ["new=1"]

    def test_the_sweep_ages_out_a_journal_no_request_reaches(
        self, settings: Settings, engine: Engine, clock: FixedClock, world_id: str
    ) -> None:
        app = app_with(settings, engine, clock, journal_max_age_hours=1)
        with TestClient(app) as client:
            client.get(f"/v1/sandbox/workspaces/{world_id}/clock", headers=OPERATOR)
            journal(client, world_id)
            clock.advance(timedelta(hours=2))
            client.portal.call(app.state.journal.flush, app.state.journal._sweep)  # type: ignore[union-attr]

        assert _count(engine, JournalBatch, world_id) == 0
        assert _count(engine, JournalBody, world_id) == 0

    def test_a_full_buffer_drops_the_oldest_and_counts_them(
        self, settings: Settings, engine: Engine, clock: FixedClock, world_id: str
    ) -> None:
        with TestClient(app_with(settings, engine, clock, journal_buffer_entries=100)) as client:
            client.app.state.journal.flush_at = 10**9  # type: ignore[attr-defined]  # no write
            for n in range(130):
                client.get(f"/v1/sandbox/workspaces/{world_id}/clock?n={n}", headers=OPERATOR)
            result = verify(client, world_id, request={}, exactly=130)
            entries = journal(client, world_id)

        assert (result["matched"], result["count"], result["dropped"]) == (False, 100, 30)
        assert entries[0]["query"] == "n=30"

    def test_deleting_the_workspace_deletes_its_journal_and_a_reset_keeps_it(
        self, client: TestClient, engine: Engine, world: World
    ) -> None:
        ws = world.workspace_id
        client.get(f"/v1/sandbox/workspaces/{ws}/clock", headers=OPERATOR)
        before = journal(client, ws)
        assert (
            client.post(f"/v1/sandbox/workspaces/{ws}/reset", headers=OPERATOR).status_code == 200
        )
        client.get(f"/v1/sandbox/workspaces/{ws}/clock", headers=OPERATOR)
        after = journal(client, ws)

        assert after[: len(before)] == before
        assert [e["path"] for e in after[len(before) :]] == [
            f"/v1/sandbox/workspaces/{ws}/reset",
            f"/v1/sandbox/workspaces/{ws}/clock",
        ]
        assert [e["seq"] for e in after] == list(range(len(after)))

        assert client.delete(f"/v1/sandbox/workspaces/{ws}", headers=OPERATOR).status_code == 204
        operator_journal(client)  # writes what is buffered
        assert _count(engine, JournalBatch, ws) == 0
        assert _count(engine, JournalBody, ws) == 0

    def test_a_journal_reset_forgets_what_was_buffered_too(
        self, client: TestClient, world: World
    ) -> None:
        ws = world.workspace_id
        client.get(f"/v1/sandbox/workspaces/{ws}/clock", headers=OPERATOR)
        assert (
            client.delete(f"/v1/sandbox/workspaces/{ws}/journal", headers=OPERATOR).status_code
            == 204
        )
        client.get(f"/v1/sandbox/workspaces/{ws}/clock?after=1", headers=OPERATOR)

        assert [e["query"] for e in journal(client, ws)] == ["after=1"]


@pytest.fixture
def world_id(client: TestClient) -> str:
    """A workspace made through the suite's app, whose journal another app then writes."""
    return make_world(client).workspace_id


def _count(engine: Engine, model: type[Any], workspace_id: str) -> int:
    with Session(engine) as session:
        return int(
            session.scalar(
                select(func.count()).select_from(model).where(model.workspace_id == workspace_id)
            )
            or 0
        )


class TestWriting:
    def test_the_buffer_is_written_on_a_timer(
        self, settings: Settings, engine: Engine, clock: FixedClock, world_id: str
    ) -> None:
        app = app_with(settings, engine, clock, journal_flush_seconds=0.05)
        with TestClient(app) as client:
            client.get(f"/v1/sandbox/workspaces/{world_id}/clock", headers=OPERATOR)
            for _ in range(200):  # no journal read: only the timer writes
                if _count(engine, JournalBatch, world_id):
                    break
                client.portal.call(_sleep, 0.02)  # type: ignore[union-attr]
            written = _count(engine, JournalBatch, world_id)

        assert written == 1

    def test_a_stopping_server_writes_what_it_buffered(
        self, settings: Settings, engine: Engine, clock: FixedClock, world_id: str
    ) -> None:
        with TestClient(app_with(settings, engine, clock)) as client:
            client.get(f"/v1/sandbox/workspaces/{world_id}/clock", headers=OPERATOR)
            assert _count(engine, JournalBatch, world_id) == 0

        assert _count(engine, JournalBatch, world_id) == 1

    def test_off_records_nothing_and_the_routes_say_so(
        self, settings: Settings, engine: Engine, clock: FixedClock, world_id: str
    ) -> None:
        app = app_with(settings, engine, clock, journal=False)
        with TestClient(app) as client:
            assert app.state.journal is None
            client.get(f"/v1/sandbox/workspaces/{world_id}/clock", headers=OPERATOR)
            answers = [
                client.get(f"/v1/sandbox/workspaces/{world_id}/journal", headers=OPERATOR),
                client.post(
                    f"/v1/sandbox/workspaces/{world_id}/journal/verify", json={}, headers=OPERATOR
                ),
                client.delete("/v1/sandbox/journal", headers=OPERATOR),
            ]

        assert [(a.status_code, a.json()["code"]) for a in answers] == [
            (409, "journal_disabled")
        ] * 3
        assert _count(engine, JournalBatch, world_id) == 0
        assert all(type(m.cls).__name__ != "JournalMiddleware" for m in app.user_middleware)


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


class TestRoutes:
    def test_pages_follow_the_cursor(self, client: TestClient, world: World) -> None:
        ws = world.workspace_id
        for n in range(5):
            client.get(f"/v1/sandbox/workspaces/{ws}/clock?n={n}", headers=OPERATOR)
        seen: list[str] = []
        cursor = None
        while True:
            params = {"limit": 2, "path": "/v1/sandbox/workspaces/*/clock"}
            if cursor:
                params["cursor"] = cursor
            page = client.get(
                f"/v1/sandbox/workspaces/{ws}/journal", params=params, headers=OPERATOR
            ).json()
            seen += [e["query"] for e in page["data"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break

        assert seen == [f"n={n}" for n in range(5)]

    def test_refusals(self, client: TestClient, world: World) -> None:
        ws = world.workspace_id
        base = f"/v1/sandbox/workspaces/{ws}/journal"
        answers = {
            "cursor": client.get(f"{base}?cursor=bm9wZQ", headers=OPERATOR),
            "status": client.get(f"{base}?status=4x", headers=OPERATOR),
            "workspace": client.get("/v1/sandbox/workspaces/ws_none/journal", headers=OPERATOR),
            "key": client.get(base, headers=bearer("wrong")),
            "both": client.post(
                f"{base}/verify", json={"exactly": 1, "at_least": 1}, headers=OPERATOR
            ),
            "order": client.post(
                f"{base}/verify", json={"at_least": 3, "at_most": 1}, headers=OPERATOR
            ),
            "unknown": client.post(
                f"{base}/verify", json={"request": {"colour": "red"}}, headers=OPERATOR
            ),
        }

        assert {k: (a.status_code, a.json()["code"]) for k, a in answers.items()} == {
            "cursor": (400, "invalid_cursor"),
            "status": (422, "validation_failed"),
            "workspace": (404, "workspace_not_found"),
            "key": (401, "invalid_operator_key"),
            "both": (422, "exactly_one_required"),
            "order": (422, "validation_failed"),
            "unknown": (422, "validation_failed"),
        }

    def test_an_entry_on_the_wire(
        self, client: TestClient, world: World, integration: dict[str, str]
    ) -> None:
        body = {"name": "Second", "kind": "landlord12"}
        headers = world.landlord | {"Idempotency-Key": "k-1"}
        assert client.post("/v1/integrations", json=body, headers=headers).status_code == 201

        [entry] = journal(client, world.workspace_id, method="POST", path="/v1/integrations")[-1:]
        assert entry["idempotency_key"] == "k-1"
        assert entry["request"]["content_type"] == "application/json"
        assert json.loads(entry["request"]["body"]) == body
        assert entry["request"]["size"] > 0
        assert entry["request"]["truncated"] is False
        assert json.loads(entry["response"]["body"])["name"] == "Second"
        assert entry["latency_ms"] > 0
        assert entry["cached"] is False


def test_a_write_packs_its_requests_in_one_row_and_each_body_once(
    client: TestClient, engine: Engine
) -> None:
    world = make_world(client)
    journal(client, world.workspace_id)  # the setup's requests written
    for _ in range(10):
        client.get(f"/v1/sandbox/workspaces/{world.workspace_id}/clock", headers=OPERATOR)
    before = _count(engine, JournalBatch, world.workspace_id)
    entries = journal(client, world.workspace_id, path="/v1/sandbox/workspaces/*/clock")

    assert len(entries) == 10
    assert _count(engine, JournalBatch, world.workspace_id) == before + 1
    assert len({e["response"]["body"] for e in entries}) == 1
    with engine.connect() as conn:
        bodies = conn.execute(
            text("SELECT count(*) FROM journal_body WHERE workspace_id = :ws"),
            {"ws": world.workspace_id},
        ).scalar_one()
    assert bodies <= 4  # the workspace's creation, the login and the clock: each once
