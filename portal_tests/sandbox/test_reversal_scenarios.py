"""Scenarios with reversals (architecture.md §9, issue 6): the ``reversals`` section's
validation, actions performed during the load (in time order with the payments), actions beyond
the load stored as ``reversals.scheduled`` events that fire on a later advance, and the shipped
``reversals-mix`` world."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from portal.core.errors import Unprocessable
from portal.payments import check as ledger
from portal.sandbox import scenarios
from portal_tests.factories import OPERATOR, advance, bearer, login, make_workspace

MIX = Path(__file__).resolve().parents[2] / "seed_data" / "reversals-mix.json"
NY = ZoneInfo("America/New_York")


def et(day: str, wall: str) -> str:
    """The UTC instant (RFC 3339, Z) at which New York shows ``wall`` on 2026-04-``day``."""
    local = datetime.fromisoformat(f"2026-04-{day}T{wall}:00").replace(tzinfo=NY)
    return local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- a small world: Monday 2026-04-06, 08:00 New York; Tuesday 04-07 is the deposit date ----


def world(**extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "scenario": "reversals-test",
        "workspace": {"seed": 41, "clock": {"now": et("06", "08:00")}},
        "properties": [
            {
                "key": "elm",
                "name": "Elm Court",
                "address": {"street": "12 Elm Court"},
                "units": [{"key": "elm-1", "name": "Unit 1"}, {"key": "elm-2", "name": "Unit 2"}],
            }
        ],
        "deposit_accounts": [
            {
                "key": "elm-rent",
                "type": "rent",
                "account_number": "0020021234",
                "routing_number": "110000000",
                "properties": ["elm"],
            }
        ],
        "residents": [
            {
                "key": "ann",
                "name": "Ann Payer",
                "email": "ann@example.com",
                "unit": "elm-1",
                "state": "approved",
                "password": "ann-password",
                "lease": {
                    "key": "ann-lease",
                    "rent": "900.00",
                    "start_date": "2026-01-01",
                    "external_resident_id": "E1",
                    "balance": "900.00",
                },
            },
            {
                "key": "bob",
                "name": "Bob Payer",
                "email": "bob@example.com",
                "unit": "elm-2",
                "state": "approved",
                "password": "bob-password",
                "lease": {
                    "rent": "800.00",
                    "start_date": "2026-01-01",
                    "external_resident_id": "E2",
                    "balance": "800.00",
                },
            },
        ],
        "payment_sources": [
            {
                "key": "ann-bank",
                "resident": "ann",
                "type": "bank_account",
                "routing_number": "110000000",
                "account_number": "000123456789",
            },
            {
                "key": "bob-card",
                "resident": "bob",
                "type": "card",
                "number": "4242424242424242",
                "exp_month": 12,
                "exp_year": 2030,
            },
        ],
        "payments": [
            # Monday 10:00: business date 04-06, deposited Tuesday 04-07 at 06:00.
            {
                "key": "ann-rent",
                "resident": "ann",
                "source": "ann-bank",
                "amount": "900.00",
                "at": et("06", "10:00"),
            },
            {
                "key": "bob-rent",
                "resident": "bob",
                "source": "bob-card",
                "amount": "800.00",
                "at": et("06", "10:00"),
            },
        ],
    }
    doc.update(extra)
    return doc


def rev(payment: str, action: str, at: str, **extra: Any) -> dict[str, Any]:
    return {"payment": payment, "action": action, "at": at, **extra}


def load(client: TestClient, doc: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """A workspace with the scenario's seed, clock and settings (the scenario route ignores the
    ``workspace`` section), and the load's response."""
    section = doc["workspace"]
    ws = make_workspace(
        client, seed=section["seed"], clock=section["clock"], settings=section.get("settings", {})
    )
    response = client.post(
        f"/v1/sandbox/workspaces/{ws['id']}/scenario", json=doc, headers=OPERATOR
    )
    return ws, response


def landlord(client: TestClient, ws: dict[str, Any]) -> dict[str, str]:
    # Logged in after the load: sessions expire on the workspace clock, which the load moves.
    return bearer(login(client, ws["landlord"]["email"], ws["landlord"]["password"]))


def get(client: TestClient, path: str, headers: dict[str, str]) -> Any:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def clock_now(client: TestClient, ws: dict[str, Any]) -> str:
    now: str = get(client, f"/v1/sandbox/workspaces/{ws['id']}/clock", OPERATOR)["now"]
    return now


def violations(engine: Engine, workspace_id: str) -> list[tuple[str, str, str]]:
    with Session(engine) as session:
        report = ledger.run(session, workspace_id)
    return [(v.rule, v.subject, v.detail) for v in report.violations]


def assert_nothing_left(client: TestClient, ws: dict[str, Any]) -> None:
    """The load was one transaction: no payment, no entity, no e-mail, the clock unmoved."""
    auth = landlord(client, ws)
    assert get(client, "/v1/payments?limit=200", auth)["data"] == []
    assert get(client, "/v1/properties", auth)["data"] == []
    assert get(client, f"/v1/sandbox/workspaces/{ws['id']}/mailbox", OPERATOR)["data"] == []
    assert clock_now(client, ws) == ws["clock"]["now"]


class TestValidation:
    """The document model checks the section before anything loads; each error names its JSON
    path (a field's own rule in ``field``, a cross-reference in the message, like the other
    sections)."""

    @pytest.mark.parametrize(
        ("reversal", "field"),
        [
            (rev("ann-rent", "return", et("07", "09:00")), "$.reversals[0].code"),
            (rev("ann-rent", "refund", et("07", "09:00"), code="R01"), "$.reversals[0].code"),
            (rev("ann-rent", "return", et("07", "09:00"), code="R00"), "$.reversals[0].code"),
            (rev("ann-rent", "return", et("07", "09:00"), code="r01"), "$.reversals[0].code"),
            (rev("bob-rent", "chargeback", et("07", "09:00")), "$.reversals[0].reason_code"),
            (
                rev("ann-rent", "return", et("07", "09:00"), code="R01", reason_code="10.4"),
                "$.reversals[0].reason_code",
            ),
            (
                rev("bob-rent", "chargeback", et("07", "09:00"), reason_code="99.9"),
                "$.reversals[0].reason_code",
            ),
            (
                rev("bob-rent", "challenge", et("07", "09:00"), outcome="won"),
                "$.reversals[0].outcome",
            ),
            (
                rev("bob-rent", "chargeback", et("07", "09:00"), reason_code="10.4", outcome="x"),
                "$.reversals[0].outcome",
            ),
            (
                rev("bob-rent", "accept", et("07", "09:00"), evidence="receipt"),
                "$.reversals[0].evidence",
            ),
            (rev("ann-rent", "cancel", et("07", "09:00")), "$.reversals[0].action"),
            (rev("ann-rent", "void", "2026-04-06T15:00:00"), "$.reversals[0].at"),  # no offset
            ({"payment": "ann-rent", "at": et("07", "09:00")}, "$.reversals[0].action"),
            (
                {**rev("ann-rent", "void", et("06", "15:00")), "amount": "1.00"},
                "$.reversals[0].amount",
            ),
        ],
    )
    def test_a_field_rule_names_the_field(
        self, client: TestClient, reversal: dict[str, Any], field: str
    ) -> None:
        ws, response = load(client, world(reversals=[reversal]))
        assert response.status_code == 422, response.text
        fields = [e["field"] for e in response.json()["errors"]]
        assert fields == [field]
        assert_nothing_left(client, ws)

    @pytest.mark.parametrize(
        ("reversal", "path"),
        [
            (rev("nobody", "void", et("06", "15:00")), "reversals[0].payment"),
            (rev("ann", "void", et("06", "15:00")), "reversals[0].payment"),  # not a payment key
            (rev("ann-rent", "void", et("06", "10:00")), "reversals[0].at"),  # the same instant
            (rev("ann-rent", "void", et("06", "09:00")), "reversals[0].at"),  # before it
            ({**rev("ann-rent", "void", et("06", "15:00")), "key": "bob"}, "reversals[0].key"),
        ],
    )
    def test_a_cross_reference_names_its_path(
        self, client: TestClient, reversal: dict[str, Any], path: str
    ) -> None:
        ws, response = load(client, world(reversals=[reversal]))
        assert response.status_code == 422, response.text
        assert path in response.json()["detail"]
        assert_nothing_left(client, ws)

    def test_a_keyless_payment_cannot_be_reversed(self, client: TestClient) -> None:
        doc = world(reversals=[rev("ann-rent", "void", et("06", "15:00"))])
        del doc["payments"][0]["key"]
        ws, response = load(client, doc)
        assert response.status_code == 422, response.text
        assert "reversals[0].payment" in response.json()["detail"]
        assert_nothing_left(client, ws)

    def test_an_action_beyond_the_longest_advance_is_refused(self, client: TestClient) -> None:
        """Stored actions too: no single advance could reach one more than five years on."""
        doc = world(reversals=[rev("ann-rent", "void", "2031-06-01T15:00:00Z")])
        ws, response = load(client, doc)
        assert response.status_code == 422, response.text
        problem = response.json()
        assert problem["code"] == "invalid_scenario"
        assert [e["field"] for e in problem["errors"]] == ["$.reversals[0].at"]
        assert_nothing_left(client, ws)

    def test_portal_seed_names_the_same_paths(self) -> None:
        """``portal seed`` parses with ``scenarios.parse``: the same JSON paths."""
        doc = world(reversals=[rev("ann-rent", "return", et("07", "09:00"))])
        with pytest.raises(Unprocessable) as raised:
            scenarios.parse(json.dumps(doc))
        assert [e.field for e in raised.value.errors] == ["$.reversals[0].code"]
        doc = world(reversals=[rev("nobody", "void", et("06", "15:00"))])
        with pytest.raises(Unprocessable) as raised:
            scenarios.parse(json.dumps(doc))
        assert "reversals[0].payment" in raised.value.detail

    def test_a_valid_section_parses(self) -> None:
        doc = world(
            reversals=[
                rev("ann-rent", "return", et("07", "09:00"), code="R01"),
                rev(
                    "bob-rent", "chargeback", et("07", "09:00"), reason_code="4837", outcome="lost"
                ),
                rev("bob-rent", "challenge", et("08", "09:00"), evidence="the lease"),
            ]
        )
        parsed = scenarios.parse(json.dumps(doc))
        assert [r.action for r in parsed.reversals] == ["return", "chargeback", "challenge"]
        assert parsed.reversals[1].action_payload("pay_x") == {
            "action": "chargeback",
            "payment_id": "pay_x",
            "reason_code": "4837",
            "outcome": "lost",
        }


class TestDuringTheLoad:
    def test_each_action_happens_at_its_instant(self, client: TestClient, engine: Engine) -> None:
        """Ann's ACH payment is returned R01 on Wednesday, after Tuesday's deposit; Bob's card
        payment is charged back on Tuesday and the dispute challenged on Wednesday, decided
        (won) on Monday 04-13, 3 banking days later."""
        doc = world(
            reversals=[
                rev("ann-rent", "return", et("08", "09:00"), code="R01", key="ann-r01"),
                rev("bob-rent", "chargeback", et("07", "09:00"), reason_code="10.4", key="cb"),
                rev("bob-rent", "challenge", et("08", "10:00"), evidence="lease", key="dp"),
            ],
            advance_to=et("14", "12:00"),
        )
        ws, response = load(client, doc)
        assert response.status_code == 200, response.text
        loaded = response.json()
        keys = loaded["keys"]
        assert loaded["scheduled"] == []
        assert keys["ann-r01"].startswith("rev_")
        assert keys["cb"].startswith("rev_")
        assert keys["dp"].startswith("dp_")
        auth = landlord(client, ws)
        ann = get(client, f"/v1/payments/{keys['ann-rent']}", auth)
        assert ann["status"] == "returned"
        [returned] = ann["reversals"]
        assert (returned["id"], returned["return_code"], returned["placement"]) == (
            keys["ann-r01"],
            "R01",
            "reversal_batch",
        )
        assert (returned["date"], returned["initiated_by"]) == ("2026-04-08", "scenario")
        bob = get(client, f"/v1/payments/{keys['bob-rent']}", auth)
        assert bob["status"] == "completed"  # the won dispute credited it back
        assert [r["kind"] for r in bob["reversals"]] == ["chargeback", "dispute_won"]
        assert bob["reversals"][0]["id"] == keys["cb"]
        [dispute] = bob["disputes"]
        assert (dispute["id"], dispute["status"], dispute["evidence"]) == (
            keys["dp"],
            "won",
            "lease",
        )
        assert dispute["decision_at"] == et("13", "10:00")
        # Ann owes her rent again; Bob's won dispute leaves him paid up.
        assert get(client, f"/v1/leases/{keys['ann-lease']}", auth)["balance"] == "900.00"
        assert clock_now(client, ws) == doc["advance_to"]
        assert violations(engine, ws["id"]) == []

    def test_at_one_instant_the_payment_comes_first(self, client: TestClient) -> None:
        """A voided payment no longer counts against the daily limit of one. Ann's second
        payment at 15:00 is made before the void listed ahead of it at 15:00, so it is her
        second of the day and refused; with the void a second earlier it goes through."""
        doc = world(reversals=[rev("ann-rent", "void", et("06", "15:00"), key="void")])
        doc["payments"].append(
            {
                "key": "ann-again",
                "resident": "ann",
                "source": "ann-bank",
                "amount": "850.00",
                "at": et("06", "15:00"),
            }
        )
        ws, response = load(client, doc)
        assert response.status_code == 422, response.text
        [error] = response.json()["errors"]
        assert (error["field"], error["code"]) == ("$.payments[2]", "daily_payment_limit_reached")

        doc["reversals"][0]["at"] = et("06", "14:59")
        loaded = client.post(
            f"/v1/sandbox/workspaces/{ws['id']}/scenario", json=doc, headers=OPERATOR
        )
        assert loaded.status_code == 200, loaded.text
        keys = loaded.json()["keys"]
        auth = landlord(client, ws)
        voided = get(client, f"/v1/payments/{keys['ann-rent']}", auth)
        assert (voided["status"], voided["reversals"][0]["id"]) == ("cancelled", keys["void"])
        assert get(client, f"/v1/payments/{keys['ann-again']}", auth)["status"] == "processing"

    def test_the_load_runs_past_the_last_payment_to_a_reversal(self, client: TestClient) -> None:
        """An action at ``advance_to`` exactly is still the load's."""
        doc = world(
            reversals=[rev("ann-rent", "refund", et("07", "09:00"), key="refund")],
            advance_to=et("07", "09:00"),
        )
        ws, response = load(client, doc)
        assert response.status_code == 200, response.text
        loaded = response.json()
        assert loaded["scheduled"] == []
        refunded = get(client, f"/v1/payments/{loaded['keys']['ann-rent']}", landlord(client, ws))
        assert refunded["status"] == "refunded"
        assert refunded["reversals"][0]["id"] == loaded["keys"]["refund"]

    def test_an_r03_return_disables_the_source(self, client: TestClient) -> None:
        doc = world(
            reversals=[rev("ann-rent", "return", et("06", "16:00"), code="R03")],
            advance_to=et("07", "12:00"),
        )
        ws, response = load(client, doc)
        assert response.status_code == 200, response.text
        ann = client.post(
            "/v1/resident/login",
            json={"email": "ann@example.com", "password": "ann-password", "workspace_id": ws["id"]},
        )
        assert ann.status_code == 200, ann.text
        [source] = get(client, "/v1/resident/payment-sources", bearer(ann.json()["access_token"]))[
            "data"
        ]
        assert (source["status"], source["disabled_reason"]) == (
            "disabled",
            "R03 No Account/Unable to Locate Account",
        )


class TestRefusals:
    @pytest.mark.parametrize(
        ("reversal", "code"),
        [
            # 19:50 New York: the 19:45 cut-off has passed and the batch is closed.
            (rev("ann-rent", "void", et("06", "19:50")), "payment_not_voidable"),
            # Before Tuesday's deposit the payment can only be voided.
            (rev("ann-rent", "refund", et("06", "15:00")), "payment_not_refundable"),
            (rev("bob-rent", "return", et("07", "09:00"), code="R01"), "payment_not_returnable"),
            (
                rev("ann-rent", "chargeback", et("07", "09:00"), reason_code="10.4"),
                "payment_not_chargeable",
            ),
            (rev("bob-rent", "accept", et("07", "09:00")), "dispute_not_open"),
            # Deposited Tuesday 04-07: R01's window of 2 banking days closed on Thursday.
            (rev("ann-rent", "return", et("10", "09:00"), code="R01"), "return_window_closed"),
        ],
    )
    def test_a_refused_action_fails_the_whole_load(
        self, client: TestClient, reversal: dict[str, Any], code: str
    ) -> None:
        doc = world(
            reversals=[reversal],
            advance_to=et("10", "12:00"),
        )
        # A first, valid action, so the refused one is the second.
        doc["reversals"].insert(0, rev("bob-rent", "void", et("06", "11:00")))
        ws, response = load(client, doc)
        assert response.status_code == 422, response.text
        problem = response.json()
        assert problem["code"] == "scenario_refused"
        [error] = problem["errors"]
        assert (error["field"], error["code"]) == ("$.reversals[1]", code)
        assert "$.reversals[1]" in problem["detail"]
        assert_nothing_left(client, ws)

    def test_a_refused_action_leaves_ids_unused(self, client: TestClient) -> None:
        """After the refusal the corrected document loads to the IDs a first load gives."""
        bad = world(
            reversals=[rev("ann-rent", "void", et("06", "19:50"))], advance_to=et("06", "20:00")
        )
        ws, response = load(client, bad)
        assert response.status_code == 422, response.text
        fixed = copy.deepcopy(bad)
        fixed["reversals"][0]["at"] = et("06", "19:40")
        again = client.post(
            f"/v1/sandbox/workspaces/{ws['id']}/scenario", json=fixed, headers=OPERATOR
        )
        assert again.status_code == 200, again.text
        _, fresh = load(client, fixed)
        assert again.json()["keys"] == fresh.json()["keys"]


class TestLaterActions:
    def test_an_action_after_the_load_fires_when_the_clock_passes_it(
        self, client: TestClient, engine: Engine
    ) -> None:
        """The load ends Tuesday noon; Ann's R01 return on Wednesday is stored and happens on
        the tester's advance."""
        at = et("08", "09:00")
        doc = world(
            reversals=[rev("ann-rent", "return", at, code="R01", key="later")],
            advance_to=et("07", "12:00"),
        )
        ws, response = load(client, doc)
        assert response.status_code == 200, response.text
        loaded = response.json()
        keys = loaded["keys"]
        [scheduled] = loaded["scheduled"]
        assert scheduled["event_id"].startswith("evt_")
        assert {k: scheduled[k] for k in ("index", "key", "action", "payment_id", "at")} == {
            "index": 0,
            "key": "later",
            "action": "return",
            "payment_id": keys["ann-rent"],
            "at": at,
        }
        assert "later" not in keys  # nothing to name yet
        auth = landlord(client, ws)
        assert get(client, f"/v1/payments/{keys['ann-rent']}", auth)["status"] == "completed"

        advanced = advance(client, ws["id"], to=et("08", "12:00"))

        [job] = [j for j in advanced["jobs"] if j["name"] == "reversals.scheduled"]
        assert (job["source"], job["due_at"], job["ran_at"]) == ("event", at, at)
        assert job["result"]["action"] == "return"
        assert job["result"]["payment_id"] == keys["ann-rent"]
        assert job["result"]["reversal_id"].startswith("rev_")
        paid = get(client, f"/v1/payments/{keys['ann-rent']}", landlord(client, ws))
        assert paid["status"] == "returned"
        [returned] = paid["reversals"]
        assert (returned["id"], returned["initiated_by"]) == (
            job["result"]["reversal_id"],
            "scenario",
        )
        assert violations(engine, ws["id"]) == []

    def test_without_advance_to_a_reversal_of_the_last_payment_is_stored(
        self, client: TestClient
    ) -> None:
        """The load ends at its last payment, so any reversal of that payment comes later."""
        doc = world(reversals=[rev("bob-rent", "void", et("06", "11:00"))])
        ws, response = load(client, doc)
        assert response.status_code == 200, response.text
        [scheduled] = response.json()["scheduled"]
        assert (scheduled["index"], scheduled["key"]) == (0, None)
        assert clock_now(client, ws) == et("06", "10:00")
        advanced = advance(client, ws["id"], to=et("06", "12:00"))
        [job] = [j for j in advanced["jobs"] if j["name"] == "reversals.scheduled"]
        assert job["result"]["payment_id"] == response.json()["keys"]["bob-rent"]
        bob = get(client, f"/v1/payments/{job['result']['payment_id']}", landlord(client, ws))
        assert bob["status"] == "cancelled"

    def test_a_later_refusal_is_reported_not_raised(self, client: TestClient) -> None:
        """By the time the stored void falls due the cut-off has passed: the advance goes on
        and its job list says why nothing happened."""
        doc = world(
            reversals=[rev("ann-rent", "void", et("07", "09:00"))],
            advance_to=et("06", "12:00"),
        )
        ws, response = load(client, doc)
        assert response.status_code == 200, response.text
        keys = response.json()["keys"]
        advanced = advance(client, ws["id"], to=et("07", "12:00"))
        assert advanced["now"] == et("07", "12:00")
        [job] = [j for j in advanced["jobs"] if j["name"] == "reversals.scheduled"]
        assert job["result"]["refused"] == "payment_not_voidable"
        paid = get(client, f"/v1/payments/{keys['ann-rent']}", landlord(client, ws))
        assert (paid["status"], paid["reversals"]) == ("completed", [])


class TestReversalsMix:
    """The shipped world: every kind of reversal happens during its load."""

    @staticmethod
    def doc() -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(MIX.read_text())
        return loaded

    def test_every_kind_happens_and_the_ledger_holds(
        self, client: TestClient, engine: Engine
    ) -> None:
        doc = self.doc()
        ws, response = load(client, doc)
        assert response.status_code == 200, response.text
        loaded = response.json()
        assert loaded["scheduled"] == []  # everything happened within the load
        keys = loaded["keys"]
        auth = landlord(client, ws)

        def detail(key: str) -> dict[str, Any]:
            found: dict[str, Any] = get(client, f"/v1/payments/{keys[key]}", auth)
            return found

        def kinds(key: str) -> list[tuple[str, str, str | None]]:
            return [
                (r["kind"], r["placement"], r["return_code"] or r["reason_code"])
                for r in detail(key)["reversals"]
            ]

        assert detail("ann-april")["status"] == "cancelled"
        assert kinds("ann-april") == [("void", "none", None)]
        assert detail("ben-deposit")["status"] == "refunded"
        assert detail("ben-deposit")["type"] == "security_deposit"
        assert kinds("ben-deposit") == [("refund", "reversal_batch", None)]
        assert kinds("cara-april") == [("return", "reversal_batch", "R01")]
        assert kinds("dan-april") == [("return", "original_batch", "R08")]
        assert kinds("eve-april") == [("return", "reversal_batch", "R03")]
        assert kinds("hal-april") == [("return", "reversal_batch", "R01")]
        assert detail("hal-april")["reversals"][0]["initiated_by"] == "magic"
        assert detail("finn-april")["status"] == "completed"
        assert kinds("finn-april") == [
            ("chargeback", "reversal_batch", "13.1"),
            ("dispute_won", "reversal_batch", None),
        ]
        assert [d["status"] for d in detail("finn-april")["disputes"]] == ["won"]
        assert detail("gia-april")["status"] == "charged_back"
        assert [d["status"] for d in detail("gia-april")["disputes"]] == ["lost"]
        assert detail("ivy-april")["status"] == "completed"
        assert detail("ivy-april")["reversals"] == []

        eve = client.post(
            "/v1/resident/login",
            json={
                "email": "eve@maplerow.example",
                "password": "eve-demo-pass",
                "workspace_id": ws["id"],
            },
        )
        assert eve.status_code == 200, eve.text
        [source] = get(client, "/v1/resident/payment-sources", bearer(eve.json()["access_token"]))[
            "data"
        ]
        assert source["status"] == "disabled"

        # Every batch, the reversal batches and the won dispute's credit included, deposited.
        listed = get(client, "/v1/deposit-batches?limit=200", auth)["data"]
        assert {b["status"] for b in listed} == {"deposited"}
        assert clock_now(client, ws) == doc["advance_to"]
        assert violations(engine, ws["id"]) == []

    def test_same_seed_gives_same_keys(self, client: TestClient) -> None:
        doc = self.doc()
        results = []
        for _ in range(2):
            _ws, response = load(client, doc)
            assert response.status_code == 200, response.text
            results.append(response.json()["keys"])
        assert results[0] == results[1]
