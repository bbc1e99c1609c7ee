"""A scenario's residents, payment sources and schedules go in set-based (``scenario_bulk``,
``scenario_bulk_money``; issue 19, scope 1) and build the very world the per-row services build:
every shipped scenario and a generated mixed one, loaded both ways, give the same rows in every
table (IDs, counters, e-mails, events, later autopay runs), except the secrets drawn at random.
A row the portal refuses is still refused with the per-row path's status, code and JSON path,
and nothing is written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlmodel import Session, col

from portal.auth import service as auth_service
from portal.core.clock import FixedClock
from portal.core.db import make_engine
from portal.core.migrate import upgrade
from portal.residents.models import Resident
from portal.sandbox import scenario_bulk, scenario_bulk_money, scenarios
from portal_tests.factories import OPERATOR
from portal_tests.sandbox.worlds import RANDOM_COLUMNS, TOKEN_COLUMNS, differences, snapshot

SEED_DATA = Path(__file__).resolve().parents[2] / "seed_data"
SYSTEM_NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
WITHOUT = RANDOM_COLUMNS | TOKEN_COLUMNS


def per_row(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the load take the per-row services (the reference), as it does on a refusal."""
    monkeypatch.setattr(scenario_bulk, "load_residents", lambda *_a, **_k: False)
    monkeypatch.setattr(scenario_bulk_money, "load_sources", lambda *_a, **_k: False)


def mixed(n: int, ws_id: str = "ws_bulk_mixed") -> dict[str, Any]:
    """``n`` residents: approved, invited and waiting; balances, switches, lease IDs and keys
    varied; bank accounts (one magic) and cards; schedules, some ending before they start, on
    leases named or not; a property without a deposit account; a payment; a month's advance
    (autopay runs on the bulk-written schedules)."""
    per = (n + 3) // 4
    properties = [
        {
            "key": f"p{p}",
            "name": f"Property {p}",
            "external_id": f"P{p}",
            "address": {"street": f"{p} Main St", "city": "Austin", "state": "TX",
                        "postal_code": "78701"},
            "units": [{"key": f"u{i}", "name": f"#{i}", "external_id": f"U{i}"}
                      for i in range(p * per, min(n, (p + 1) * per))],
        }
        for p in range(4)
    ]  # fmt: skip
    residents = [_resident(i) for i in range(n)]
    sources, schedules = [], []
    for i, r in enumerate(residents):
        if r["state"] == "waiting":
            continue
        if i % 9 == 0:
            number = "5555555555554444" if i % 18 == 0 else "4242 4242 4242 4242"
            sources.append({"key": f"s{i}", "resident": f"r{i}", "type": "card",
                            "number": number, "exp_month": 1 + i % 12, "exp_year": 2030,
                            "funding": "debit" if i % 4 == 0 else "credit"})  # fmt: skip
        else:
            account = "1000000003" if i == 2 else f"{7000000000 + i}"
            sources.append({"key": f"s{i}", "resident": f"r{i}", "type": "bank_account",
                            "routing_number": "107000783", "account_number": account})  # fmt: skip
        lease = r["lease"]
        payable = lease["payments"] == "allowed" or (
            lease["payments"] == "cash_equivalent" and i % 9 == 0
        )
        if r["state"] == "approved" and payable and i < 3 * per:
            schedules.append({
                "key": f"auto{i}" if i % 2 else None, "resident": f"r{i}", "source": f"s{i}",
                **({"lease": lease["key"]} if "key" in lease else {}),
                "amount": lease["balance"] if lease["pay_full_balance_only"] else lease["rent"],
                "day_of_month": 1 + i % 31,
                **({"end_month": "2026-05" if i % 8 == 0 else "2027-06"} if i % 4 == 0 else {}),
            })  # fmt: skip
    for s in schedules:
        if s["key"] is None:
            del s["key"]
    return {
        "version": 1,
        "scenario": f"bulk-{n}",
        "workspace": {
            "id": ws_id,
            "name": "Bulk",
            "seed": 1919,
            "clock": {"mode": "simulated", "now": "2026-06-15T14:00:00Z"},
            "landlord": {"email": f"manager@{ws_id}.example", "password": "bulk-manager"},
        },
        "properties": properties,
        "deposit_accounts": [
            {
                "key": "rent",
                "type": "rent",
                "name": "Operating",
                "account_number": "0020021234",
                "routing_number": "110000000",
                "properties": ["p0", "p1", "p2"],
            },
        ],
        "residents": residents,
        "payment_sources": sources,
        "recurring_payments": schedules,
        "payments": [
            {
                "key": "pay1",
                "resident": "r3",
                "source": "s3",
                "amount": "10.00",
                "at": "2026-06-16T15:00:00Z",
            },
        ],
        "advance_to": "2026-07-20T12:00:00Z",
    }


def _resident(i: int) -> dict[str, Any]:
    state = ("approved", "invited", "waiting")[i % 3]
    balance = "0.00" if i % 4 == 0 else f"{100 + i}.50"
    lease: dict[str, Any] = {
        "rent": f"{700 + i % 500}.00",
        "due_day": 1 + i % 28,
        "start_date": "2026-01-01",
        "balance": balance,
        "payments": "blocked" if i % 7 == 0 else "cash_equivalent" if i % 11 == 0 else "allowed",
        "pay_full_balance_only": i % 5 == 0 and balance != "0.00",
    }
    if i % 6:
        lease["external_resident_id"] = f"T{i:05d}"
    if i % 10 == 0:
        lease["key"] = f"lease{i}"
    if i % 3 == 1:
        lease["end_date"] = "2027-05-31"
    out: dict[str, Any] = {"key": f"r{i}", "name": f"Resident {i}", "unit": f"u{i}",
                           "state": state, "lease": lease}  # fmt: skip
    if state != "waiting":
        # Mixed case and spaces: the e-mail is stored normalized, as ``invite`` does.
        out["email"] = f" Resident{i}@Example.com " if i % 8 == 1 else f"resident{i}@example.com"
    if i % 150 == 4:  # invited ones (150 is a multiple of 3)
        # Blank once normalized: ``invite`` makes such a resident waiting, with no e-mail.
        out["email"] = "   "
    if state == "approved":
        out["password"] = f"password-{i}"
    if i % 2:
        out["phone"] = f"+1512555{i:04d}"
    return out


@pytest.fixture
def databases(tmp_path: Path) -> Iterator[tuple[Engine, Engine]]:
    engines = []
    for name in ("bulk", "per-row"):
        engine = make_engine(f"sqlite:///{tmp_path / name}.db")
        upgrade(engine)
        engines.append(engine)
    yield engines[0], engines[1]
    for engine in engines:
        engine.dispose()


def load(engine: Engine, doc: dict[str, Any]) -> dict[str, Any]:
    clock = FixedClock(SYSTEM_NOW)
    with Session(engine, expire_on_commit=False) as session:
        loaded = scenarios.create_from(
            session,
            scenarios.parse(json.dumps(doc)),
            signing_key="bulk-test-key",
            system_now=SYSTEM_NOW,
            system_clock=clock,
        )
        session.commit()
    return loaded.model_dump(mode="json")


def shipped() -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in sorted(SEED_DATA.glob("*.json"))]


def test_bulk_load_builds_the_per_row_world(
    databases: tuple[Engine, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    bulk, reference = databases
    docs = [*shipped(), mixed(600)]
    with monkeypatch.context() as m:
        # Set-based for real: no file falls back to the per-row path.
        m.setattr(scenarios, "_residents_one_by_one", _not_called)
        m.setattr(scenarios, "_sources_one_by_one", _not_called)
        answers = [load(bulk, doc) for doc in docs]
    per_row(monkeypatch)
    expected = [load(reference, doc) for doc in docs]

    for doc, got, want in zip(docs, answers, expected, strict=True):
        ws_id = doc["workspace"]["id"]
        assert got["keys"] == want["keys"], ws_id
        assert got["scheduled"] == want["scheduled"], ws_id
        by_rows = snapshot(reference, ws_id, without=WITHOUT)
        by_bulk = snapshot(bulk, ws_id, without=WITHOUT)
        problems = differences(by_rows, by_bulk)
        assert not problems, f"{ws_id}:\n" + "\n".join(problems)
    # A real comparison: the generated world has its residents, invitations and autopay runs.
    world = snapshot(bulk, "ws_bulk_mixed", without=WITHOUT)
    sizes = {name: len(rows) for name, (_columns, rows) in world.items()}
    assert sizes["resident"] == sizes["lease"] == 600
    assert sizes["email"] >= 400
    assert sizes["recurring_payment"] > 100
    assert sizes["payment"] > 100


def _not_called(*_args: Any, **_kwargs: Any) -> None:
    raise AssertionError("the per-row path ran")


def test_approved_residents_get_the_scenario_cost(databases: tuple[Engine, Engine]) -> None:
    auth_service.set_password_hash_cost(1024)
    load(databases[0], mixed(12))
    with Session(databases[0]) as session:
        hashes = session.scalars(
            select(col(Resident.password_hash)).where(col(Resident.password_hash).is_not(None))
        ).all()
    assert len(hashes) == 4
    assert {int(h.split("$")[1]) for h in hashes if h} == {auth_service.SCENARIO_PASSWORD_HASH_COST}


# --- refusals -------------------------------------------------------------------------------


def small(case: str) -> dict[str, Any]:
    """Twelve residents with one refused row (``case``, one of ``REFUSED``)."""
    doc = mixed(12, ws_id="ws_bulk_refused")
    doc.pop("payments")
    doc.pop("advance_to")
    if case == "duplicate-lease-id":
        doc["residents"][4]["lease"]["external_resident_id"] = "T00001"
    elif case == "approved-without-email":
        # Spaces only: no e-mail once normalized, so never invited, so it cannot be accepted.
        doc["residents"][3]["email"] = "   "
    elif case == "luhn":
        doc["payment_sources"][1] = {"key": "s1", "resident": "r1", "type": "card",
                                     "number": "4242424242424241", "exp_month": 1,
                                     "exp_year": 2030}  # fmt: skip
    else:
        doc["recurring_payments"][1]["amount"] = "999999.00"
    return doc


#: Case -> status, code, and the JSON path the error names (None: the per-row path names none).
REFUSED: dict[str, tuple[int, str, str | None]] = {
    "duplicate-lease-id": (409, "resident_id_taken", None),
    "approved-without-email": (404, "invite_not_found", None),
    "luhn": (422, "scenario_refused", "$.payment_sources[1]"),
    "schedule-over-limit": (422, "scenario_refused", "$.recurring_payments[1]"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refusals_keep_their_answer_and_write_nothing(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, engine: Engine, case: str
) -> None:
    status, code, path = REFUSED[case]
    doc = small(case)
    got = client.post("/v1/sandbox/scenarios", json=doc, headers=OPERATOR)
    with monkeypatch.context() as m:
        per_row(m)
        want = client.post("/v1/sandbox/scenarios", json=doc, headers=OPERATOR)

    assert got.status_code == want.status_code == status, got.text
    body = got.json()
    assert body["code"] == code, body
    if path is not None:
        assert [e["field"][: len(path)] for e in body["errors"]] == [path], body
    assert _without_request(body) == _without_request(want.json())
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Resident)) == 0


def _without_request(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in ("request_id", "instance")}
