"""The polling reads' response cache (``portal.core.read_cache``, issue 19 scope 3): a repeated
read is answered from memory while the database is unchanged, and any commit, through this
process or any other connection, makes the next read run its queries again."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from portal.core import read_cache
from portal.core.db import make_engine
from portal.core.read_cache import ReadCache
from portal.core.settings import Settings
from portal.main import create_app
from portal.receipts import service as receipts_service
from portal_tests.factories import bearer, load_oak_street

BATCH = "/v1/integration/receipt-batches/2732388606925747"
LIST = "/v1/integration/receipt-batches"


@pytest.fixture
def oak(client: TestClient) -> dict[str, str]:
    return load_oak_street(client)[1]


@pytest.fixture
def batch_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The batch IDs the route itself read (a cached answer reads none)."""
    seen: list[str] = []
    real = receipts_service.get_batch

    def counting(raw: Any, workspace_id: str, integration_id: str, batch_id: str) -> Any:
        seen.append(batch_id)
        return real(raw, workspace_id, integration_id, batch_id)

    monkeypatch.setattr(receipts_service, "get_batch", counting)
    return seen


@pytest.fixture
def quiet_database(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL's version is the cluster's snapshot, which the suite's other workers (their own
    databases, the same server) move all the time: there, hold it still for a test that needs
    two reads with no commit between them. SQLite's is this database's own."""
    if engine.dialect.name != "sqlite":
        monkeypatch.setattr(ReadCache, "version", lambda _self: "quiet")


def test_a_repeated_read_is_answered_from_the_cache_with_the_same_bytes(
    client: TestClient, oak: dict[str, str], batch_reads: list[str], quiet_database: None
) -> None:
    first = client.get(BATCH, headers=oak)
    again = client.get(BATCH, headers=oak)

    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert again.headers["content-type"] == first.headers["content-type"] == "application/json"
    assert batch_reads == ["2732388606925747"]  # the second read ran no query


def test_a_write_through_the_api_shows_on_the_next_read(
    client: TestClient, oak: dict[str, str]
) -> None:
    before = [b["id"] for b in client.get(LIST, headers=oak).json()["data"]]
    marked = client.post(f"{BATCH}/processed", headers=oak)
    assert marked.status_code == 200, marked.text

    after = [b["id"] for b in client.get(LIST, headers=oak).json()["data"]]
    loaded = client.get(BATCH, headers=oak).json()

    assert before[0] == "2732388606925747"
    assert len(before) == 8
    assert after == before[1:]
    assert loaded["processed"] is True


def test_a_commit_on_another_connection_shows_on_the_next_read(
    client: TestClient, oak: dict[str, str], database_url: str, batch_reads: list[str]
) -> None:
    """Another worker process commits on a connection of its own: the cache of this one must
    not answer from before it (the token revoked there is refused here)."""
    assert client.get(BATCH, headers=oak).status_code == 200
    assert client.get(BATCH, headers=oak).status_code == 200
    reads = len(batch_reads)
    other = make_engine(database_url)
    try:
        with other.begin() as connection:
            connection.execute(text("UPDATE integration_token SET active = false"))
    finally:
        other.dispose()

    refused = client.get(BATCH, headers=oak)

    assert refused.status_code == 401, refused.text
    assert refused.json()["code"] == "token_revoked"
    assert len(batch_reads) == reads  # refused by the token check, before the batch is read


def test_an_answer_is_kept_for_its_token_only(
    client: TestClient, oak: dict[str, str], batch_reads: list[str]
) -> None:
    assert client.get(BATCH, headers=oak).status_code == 200

    stranger = client.get(BATCH, headers=bearer("not-a-token"))

    assert stranger.status_code == 401
    assert stranger.json()["code"] == "token_invalid"


def test_refusals_are_not_kept(client: TestClient, oak: dict[str, str]) -> None:
    """Each refused call runs the route: it is recorded as the integration's last error."""
    missing = "/v1/integration/receipt-batches/9999999999999999"
    assert client.get(missing, headers=oak).status_code == 404
    cache = client.app.state.read_cache  # type: ignore[attr-defined]
    assert cache is None or not cache.entries
    assert client.get(missing, headers=oak).status_code == 404


def test_the_setting_turns_it_off(
    settings: Settings, engine: Engine, clock: Any, oak: dict[str, str]
) -> None:
    app: FastAPI = create_app(
        settings.model_copy(update={"read_cache": False}), engine=engine, clock=clock
    )
    with TestClient(app) as client:
        assert app.state.read_cache is None
        assert client.get(BATCH, headers=oak).status_code == 200


def test_the_version_moves_with_every_commit_and_only_then(engine: Engine) -> None:
    cache = ReadCache.for_engine(engine)
    assert cache is not None
    try:
        quiet = cache.version()
        with engine.connect() as connection:
            connection.execute(text("SELECT count(*) FROM workspace"))
        if engine.dialect.name == "sqlite":  # PostgreSQL's moves with the other databases too
            assert cache.version() == quiet  # a read changes nothing
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = version_num"))
        assert cache.version() != quiet
    finally:
        cache.close()


def test_an_in_memory_database_has_no_version() -> None:
    memory = make_engine("sqlite://")
    try:
        assert ReadCache.for_engine(memory) is None
    finally:
        memory.dispose()


def test_the_least_recently_used_answer_goes_first(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(read_cache, "MAX_ENTRIES", 2)
    cache = ReadCache.for_engine(engine)
    assert cache is not None
    try:
        for n in (1, 2):
            cache.put((b"t", f"/{n}", b""), 7, [])
        assert cache.get((b"t", "/1", b""), 7) == []  # /1 is now the most recent
        cache.put((b"t", "/3", b""), 7, [])

        assert [path for _token, path, _q in cache.entries] == ["/1", "/3"]
        assert cache.get((b"t", "/1", b""), 8) is None  # another version: a miss
    finally:
        cache.close()


def test_requests_arriving_together_share_one_version_read(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One read (one round trip on PostgreSQL) for the requests waiting on it; a request that
    arrives once it has started waits for the next, so it sees every commit before it."""
    cache = ReadCache.for_engine(engine)
    assert cache is not None
    reads: list[int] = []

    def counted() -> int:
        reads.append(len(reads))
        return len(reads)

    monkeypatch.setattr(cache, "version", counted)

    async def scenario() -> tuple[list[Any], Any]:
        together = await asyncio.gather(*(cache.current() for _ in range(5)))
        later = await cache.current()
        return together, later

    try:
        together, later = asyncio.run(scenario())
    finally:
        cache.close()

    assert together == [1] * 5
    assert later == 2
    assert len(reads) == 2


def test_a_lost_version_connection_is_replaced_and_the_cache_emptied(engine: Engine) -> None:
    """A database restart breaks the cache's own connection: the next read opens a new one,
    and nothing kept under the old connection's versions is served."""
    cache = ReadCache.for_engine(engine)
    assert cache is not None
    try:
        cache.put((b"t", "/x", b""), cache.version(), [])
        cache._connection.close()  # what a restart does to it

        after = cache.version()

        assert after is not None
        assert not cache.entries
    finally:
        cache.close()
