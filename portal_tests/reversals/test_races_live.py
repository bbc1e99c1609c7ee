"""Issue 14's table re-run as its reporter ran it: black-box over HTTP against ``portal serve
--workers 2`` (two uvicorn processes, each with its own connections), twenty requests released
at once at one payment (``bench/races_http.py``). Every row makes exactly one change, and
``portal check`` finds the world whole."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from bench.races_http import race
from portal.payments import check as ledger
from portal_tests.live import OPERATOR_KEY, LiveServer


def test_two_workers_racing_move_money_once(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    with LiveServer(database_url, tmp_path / "serve.log", workers=2) as server:
        ws_id, rows = race(server.base, OPERATOR_KEY)

    for name, counts in rows:
        assert sum(n for status, n in counts.items() if status < 300) == 1, (name, counts)
        assert set(counts) <= {200, 201, 409}, (name, counts)
    with Session(engine) as session:
        report = ledger.run(session, ws_id)
    assert report.violations == []
