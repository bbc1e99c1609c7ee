"""The rules of ``POST /v1/resident/payments`` over HTTP (issue 5 acceptance 3): every refusal
with its status and stable ``code``, each leaving the database exactly as it was; the business
date and the daily limit around the cut-off; what a payment changes (resident status, receipt,
insufficient-payment alert)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlmodel import SQLModel

from portal_tests.factories import World, bearer, make_integration, make_token, make_world
from portal_tests.payments.helpers import (
    Payer,
    add_account,
    add_bank,
    add_card,
    make_payer,
    pay,
    post_payment,
    set_clock,
)
from portal_tests.residents.helpers import mailbox, make_unit, resident

PROBLEM_JSON = "application/problem+json"
PASSWORD = "s3cret-pass"
DECLINED_CARD = "4000000000000002"


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code, body
    return body


def dump(engine: Engine) -> dict[str, list[str]]:
    """Every row of every table, for before/after comparison."""
    with engine.connect() as connection:
        return {
            table.name: sorted(repr(tuple(row)) for row in connection.execute(select(table)))
            for table in SQLModel.metadata.sorted_tables
        }


def refused(
    engine: Engine, send: Callable[[], httpx.Response], status: int, code: str
) -> dict[str, Any]:
    """Send a request that must be refused with ``code`` and leave every table untouched: no
    payment, no batch or batch total, no e-mail, no alert, no resident status change, no ID
    counter moved, no idempotency record."""
    before = dump(engine)
    problem = assert_problem(send(), status, code)
    after = dump(engine)
    changed = sorted(name for name in before if before[name] != after[name])
    assert not changed, f"a refused payment changed {changed}"
    return problem


def relogin(client: TestClient, world: World, payer: Payer, email: str) -> None:
    """Resident sessions expire on the workspace clock, like the landlord's."""
    response = client.post(
        "/v1/resident/login",
        json={"email": email, "password": PASSWORD, "workspace_id": world.workspace_id},
    )
    assert response.status_code == 200, response.text
    payer.token = response.json()["access_token"]


def patch_lease(client: TestClient, world: World, lease_id: str, **body: Any) -> dict[str, Any]:
    response = client.patch(f"/v1/leases/{lease_id}", json=body, headers=world.landlord)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def landlord_payments(client: TestClient, world: World, **query: str) -> list[dict[str, Any]]:
    response = client.get("/v1/payments", params=query, headers=world.landlord)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def intake_payer(
    client: TestClient,
    world: World,
    *,
    payment_accepted: str = "allowed",
    rent: str = "980.00",
    balance: str = "0.00",
    disputed: str = "0.00",
    pay_full_balance_only: bool = False,
) -> Payer:
    """A resident the accounting system sent through "Send Balances" (so the lease carries the
    accounting flags), on the unit OAK/2118 whose property has a rent account, who accepted
    the invitation."""
    unit = make_unit(client, world)
    add_account(client, world, unit["property_id"], "rent")
    integration = make_integration(client, world)
    token = make_token(client, world, integration["id"])["token"]
    line = {
        "resident_id": "t0001",
        "property_id": "OAK",
        "unit_id": "2118",
        "unit": "2118",
        "name": "Philip Rivers",
        "email": "privers@example.com",
        "rent": rent,
        "balance": balance,
        "disputed": disputed,
        "pay_full_balance_only": pay_full_balance_only,
        "payment_accepted": payment_accepted,
        "lease_start": "2026-06-01",
    }
    sent = client.post(
        "/v1/integration/balances",
        json={"bank_account": {"account_number": "00037029011"}, "residents": [line]},
        headers=bearer(token),
    )
    assert sent.status_code == 200, sent.text
    [mail] = mailbox(client, world, kind="invitation", to="privers@example.com")
    accepted = client.post(
        f"/v1/resident/invites/{mail['data']['invite_code']}/accept", json={"password": PASSWORD}
    )
    assert accepted.status_code == 200, accepted.text
    session = accepted.json()
    [lease] = client.get("/v1/resident/leases", headers=bearer(session["access_token"])).json()[
        "data"
    ]
    assert lease["accounting_payments"] == payment_accepted
    assert lease["unit_id"] == unit["id"]
    return Payer(
        resident_id=session["resident_id"],
        lease_id=lease["id"],
        token=session["access_token"],
        unit_id=unit["id"],
        property_id=unit["property_id"],
    )


class TestLeaseMustBePayable:
    def test_ended_lease_is_lease_not_payable(self, client: TestClient, engine: Engine) -> None:
        world = make_world(client)
        payer = make_payer(client, world)
        source = add_bank(client, payer)
        ended = client.post(f"/v1/leases/{payer.lease_id}/end", headers=world.landlord)
        assert ended.status_code == 200, ended.text

        problem = refused(
            engine, lambda: post_payment(client, payer, source["id"]), 409, "lease_not_payable"
        )

        assert problem["lease_status"] == "finished"
        assert resident(client, world, payer.resident_id)["status"] == "finished"

    def test_lease_of_another_resident_is_lease_not_found(
        self, client: TestClient, engine: Engine
    ) -> None:
        world = make_world(client)
        anthony = make_payer(client, world)
        unit = make_unit(client, world, prop_external="ELM", unit_external="12", unit_name="12")
        add_account(client, world, unit["property_id"])
        karyl = make_payer(client, world, unit=unit, email="karyl@example.com")
        source = add_bank(client, anthony)

        refused(
            engine,
            lambda: post_payment(client, anthony, source["id"], lease_id=karyl.lease_id),
            404,
            "lease_not_found",
        )

    def test_unknown_lease_is_lease_not_found(self, client: TestClient, engine: Engine) -> None:
        payer = make_payer(client, make_world(client))
        source = add_bank(client, payer)

        refused(
            engine,
            lambda: post_payment(client, payer, source["id"], lease_id="lease_doesnotexist"),
            404,
            "lease_not_found",
        )

    def test_ended_lease_wins_over_every_later_rule(
        self, client: TestClient, engine: Engine
    ) -> None:
        # The most fundamental reason is given: not "card_declined" nor "amount_not_positive".
        world = make_world(client)
        payer = make_payer(client, world)
        declined = add_card(client, payer, DECLINED_CARD)
        client.post(f"/v1/leases/{payer.lease_id}/end", headers=world.landlord)

        refused(
            engine,
            lambda: post_payment(client, payer, declined["id"], "0.00"),
            409,
            "lease_not_payable",
        )


class TestPaymentsSwitch:
    @pytest.mark.parametrize("method", ["bank", "card"])
    def test_portal_blocked_is_payments_blocked(
        self, client: TestClient, engine: Engine, method: str
    ) -> None:
        world = make_world(client)
        payer = make_payer(client, world)
        source = add_bank(client, payer) if method == "bank" else add_card(client, payer)
        patch_lease(client, world, payer.lease_id, payments="blocked")

        refused(engine, lambda: post_payment(client, payer, source["id"]), 409, "payments_blocked")

    def test_unblocking_lets_the_resident_pay_again(self, client: TestClient) -> None:
        world = make_world(client)
        payer = make_payer(client, world)
        source = add_bank(client, payer)
        patch_lease(client, world, payer.lease_id, payments="blocked")
        assert post_payment(client, payer, source["id"]).status_code == 409

        patch_lease(client, world, payer.lease_id, payments="allowed")

        assert pay(client, payer, source["id"])["status"] == "processing"

    def test_cash_equivalent_refuses_bank_accounts(
        self, client: TestClient, engine: Engine
    ) -> None:
        world = make_world(client)
        payer = make_payer(client, world)
        source = add_bank(client, payer)
        patch_lease(client, world, payer.lease_id, payments="cash_equivalent")

        refused(
            engine, lambda: post_payment(client, payer, source["id"]), 409, "cash_equivalent_only"
        )

    def test_cash_equivalent_accepts_cards(self, client: TestClient) -> None:
        world = make_world(client)
        payer = make_payer(client, world)
        source = add_card(client, payer)
        patch_lease(client, world, payer.lease_id, payments="cash_equivalent")

        payment = pay(client, payer, source["id"])

        assert (payment["status"], payment["method"]) == ("processing", "card")

    @pytest.mark.parametrize(
        ("portal", "accounting", "bank_code", "card_code"),
        [
            ("allowed", "allowed", None, None),
            ("allowed", "cash_equivalent", "cash_equivalent_only", None),
            ("allowed", "blocked", "payments_blocked", "payments_blocked"),
            ("cash_equivalent", "allowed", "cash_equivalent_only", None),
            ("cash_equivalent", "blocked", "payments_blocked", "payments_blocked"),
            ("blocked", "allowed", "payments_blocked", "payments_blocked"),
            ("blocked", "cash_equivalent", "payments_blocked", "payments_blocked"),
        ],
    )
    def test_the_stricter_of_portal_and_accounting_flag_wins(
        self,
        client: TestClient,
        engine: Engine,
        portal: str,
        accounting: str,
        bank_code: str | None,
        card_code: str | None,
    ) -> None:
        world = make_world(client, settings={"payments_per_resident_per_day": 2})
        payer = intake_payer(client, world, payment_accepted=accounting)
        patch_lease(client, world, payer.lease_id, payments=portal)
        sources = {"bank": add_bank(client, payer)["id"], "card": add_card(client, payer)["id"]}

        for method, code in (("bank", bank_code), ("card", card_code)):
            if code is None:
                assert pay(client, payer, sources[method])["method"] == (
                    "bank_account" if method == "bank" else "card"
                )
            else:
                refused(engine, lambda m=method: post_payment(client, payer, sources[m]), 409, code)


class TestFullBalanceOnly:
    def test_amount_other_than_the_balance_is_amount_must_equal_balance(
        self, client: TestClient, engine: Engine
    ) -> None:
        world = make_world(client)
        payer = make_payer(client, world)
        source = add_bank(client, payer)
        patch_lease(client, world, payer.lease_id, pay_full_balance_only=True, balance="1200.00")

        for amount in ("980.00", "1200.01", "1199.99"):
            problem = refused(
                engine,
                lambda a=amount: post_payment(client, payer, source["id"], a),
                422,
                "amount_must_equal_balance",
            )
            assert problem["payable_balance"] == "1200.00"

    def test_amount_equal_to_the_balance_is_accepted(self, client: TestClient) -> None:
        world = make_world(client)
        payer = make_payer(client, world)
        source = add_bank(client, payer)
        patch_lease(client, world, payer.lease_id, pay_full_balance_only=True, balance="1200.00")

        assert pay(client, payer, source["id"], "1200.00")["amount"] == "1200.00"

    def test_disputed_part_is_not_payable(self, client: TestClient, engine: Engine) -> None:
        # Balance 1,200.00 of which 200.00 disputed: the payable balance is 1,000.00.
        world = make_world(client)
        payer = intake_payer(
            client,
            world,
            rent="1000.00",
            balance="1200.00",
            disputed="200.00",
            pay_full_balance_only=True,
        )
        source = add_bank(client, payer)

        problem = refused(
            engine,
            lambda: post_payment(client, payer, source["id"], "1200.00"),
            422,
            "amount_must_equal_balance",
        )

        assert problem["payable_balance"] == "1000.00"
        assert pay(client, payer, source["id"], "1000.00")["amount"] == "1000.00"

    def test_without_the_flag_any_amount_is_accepted(self, client: TestClient) -> None:
        world = make_world(client)
        payer = make_payer(client, world)
        source = add_bank(client, payer)
        patch_lease(client, world, payer.lease_id, balance="1200.00")

        assert pay(client, payer, source["id"], "17.00")["amount"] == "17.00"


class TestDailyLimit:
    def test_second_payment_on_one_business_date_is_daily_payment_limit_reached(
        self, client: TestClient, engine: Engine
    ) -> None:
        world = make_world(client)
        payer = make_payer(client, world)
        source = add_bank(client, payer)
        card = add_card(client, payer)
        first = pay(client, payer, source["id"])

        problem = refused(
            engine,
            lambda: post_payment(client, payer, card["id"], "10.00"),
            409,
            "daily_payment_limit_reached",
        )

        assert problem["business_date"] == first["business_date"] == "2026-07-02"

    def test_other_types_count_too(self, client: TestClient, engine: Engine) -> None:
        world = make_world(client)
        payer = make_payer(client, world, accounts=("rent", "security_deposit"))
        source = add_bank(client, payer)
        pay(client, payer, source["id"])

        refused(
            engine,
            lambda: post_payment(client, payer, source["id"], type="security_deposit"),
            409,
            "daily_payment_limit_reached",
        )

    def test_workspace_setting_allows_two_and_refuses_the_third(
        self, client: TestClient, engine: Engine
    ) -> None:
        world = make_world(client, settings={"payments_per_resident_per_day": 2})
        payer = make_payer(client, world)
        source = add_bank(client, payer)

        first = pay(client, payer, source["id"], "1200.00")
        second = pay(client, payer, source["id"], "1000.00")
        refused(
            engine,
            lambda: post_payment(client, payer, source["id"], "5.00"),
            409,
            "daily_payment_limit_reached",
        )

        assert first["deposit_batch_id"] == second["deposit_batch_id"]

    def test_a_payment_after_the_cutoff_counts_for_the_next_business_date(
        self, client: TestClient, engine: Engine
    ) -> None:
        world = make_world(client)  # Thursday 2026-07-02, 10:00 New York
        payer = make_payer(client, world)
        source = add_bank(client, payer)
        thursday = pay(client, payer, source["id"])

        set_clock(client, world, "2026-07-02T23:50:00Z")  # 19:50, after the 19:45 cut-off
        relogin(client, world, payer, "anthony@example.com")
        evening = pay(client, payer, source["id"])
        set_clock(client, world, "2026-07-03T14:00:00Z")  # Friday 10:00
        relogin(client, world, payer, "anthony@example.com")
        problem = refused(
            engine,
            lambda: post_payment(client, payer, source["id"]),
            409,
            "daily_payment_limit_reached",
        )

        assert (thursday["business_date"], evening["business_date"]) == (
            "2026-07-02",
            "2026-07-03",
        )
        assert problem["business_date"] == "2026-07-03"
        assert thursday["deposit_batch_id"] != evening["deposit_batch_id"]

    def test_pinless_debit_card_has_the_earlier_cutoff(self, client: TestClient) -> None:
        # 16:00 New York: after the 15:45 PINless-debit cut-off, before the 19:45 one.
        world = make_world(
            client,
            clock={"now": "2026-07-02T20:00:00Z"},
            settings={"payments_per_resident_per_day": 2},
        )
        payer = make_payer(client, world)
        debit = add_card(client, payer, "4000056655665556", funding="debit")
        credit = add_card(client, payer, "5555555555554444")

        assert pay(client, payer, debit["id"])["business_date"] == "2026-07-03"
        assert pay(client, payer, credit["id"])["business_date"] == "2026-07-02"

    def test_payments_scheduled_for_one_day_count_for_it(
        self, client: TestClient, engine: Engine
    ) -> None:
        world = make_world(client)
        payer = make_payer(client, world)
        source = add_bank(client, payer)
        pay(client, payer, source["id"], date="2026-07-10")

        refused(
            engine,
            lambda: post_payment(client, payer, source["id"], date="2026-07-10"),
            409,
            "daily_payment_limit_reached",
        )
        assert pay(client, payer, source["id"])["business_date"] == "2026-07-02"

    def test_the_limit_is_per_resident(self, client: TestClient) -> None:
        world = make_world(client)
        anthony = make_payer(client, world)
        unit = {"id": anthony.unit_id, "property_id": anthony.property_id}
        jerry = make_payer(client, world, unit=unit, email="jerry@example.com")

        first = pay(client, anthony, add_bank(client, anthony)["id"], "1200.00")
        other = pay(client, jerry, add_bank(client, jerry)["id"], "500.00")

        assert first["deposit_batch_id"] == other["deposit_batch_id"]


class TestAmount:
    @pytest.mark.parametrize("amount", ["0.00", "0", "-5.00", "-0.01"])
    def test_zero_or_negative_is_amount_not_positive(
        self, client: TestClient, engine: Engine, amount: str
    ) -> None:
        payer = make_payer(client, make_world(client))
        source = add_bank(client, payer)

        refused(
            engine,
            lambda: post_payment(client, payer, source["id"], amount),
            422,
            "amount_not_positive",
        )

    def test_above_the_workspace_limit_is_amount_over_limit(
        self, client: TestClient, engine: Engine
    ) -> None:
        world = make_world(client, settings={"payment_limit": "1000.00"})
        payer = make_payer(client, world)
        source = add_card(client, payer)

        problem = refused(
            engine,
            lambda: post_payment(client, payer, source["id"], "1000.01"),
            422,
            "amount_over_limit",
        )

        assert problem["payment_limit"] == "1000.00"
        assert pay(client, payer, source["id"], "1000.00")["amount"] == "1000.00"

    @pytest.mark.smoke
    def test_default_limit_is_ten_thousand(self, client: TestClient, engine: Engine) -> None:
        payer = make_payer(client, make_world(client))
        source = add_bank(client, payer)

        refused(
            engine,
            lambda: post_payment(client, payer, source["id"], "10000.01"),
            422,
            "amount_over_limit",
        )

    @pytest.mark.parametrize(
        "amount",
        [
            pytest.param("12.345", id="three-decimals-string"),
            pytest.param(12.345, id="three-decimals-float"),
            pytest.param(0.1 + 0.2, id="inexact-float"),
            pytest.param("1e3", id="exponent"),
            pytest.param("1,200.00", id="thousands-separator"),
            pytest.param("NaN", id="nan"),
            pytest.param(True, id="boolean"),
        ],
    )
    def test_inexact_amount_is_invalid_amount(
        self, client: TestClient, engine: Engine, amount: Any
    ) -> None:
        payer = make_payer(client, make_world(client))
        source = add_bank(client, payer)

        problem = refused(
            engine,
            lambda: post_payment(client, payer, source["id"], amount),
            422,
            "invalid_amount",
        )

        assert [e["field"] for e in problem["errors"]] == ["$.amount"]

    def test_exact_float_is_taken_at_its_exact_value(self, client: TestClient) -> None:
        # money.py: a float denoting exactly two decimals is accepted (architecture.md §5
        # refuses only "floats that are not exact"); it is never rounded.
        payer = make_payer(client, make_world(client))
        source = add_bank(client, payer)

        assert pay(client, payer, source["id"], 12.5)["amount"] == "12.50"  # type: ignore[arg-type]


class TestBadBodies:
    @pytest.mark.parametrize(
        ("change", "field"),
        [
            pytest.param({"tip": "1.00"}, "$.tip", id="unknown-field"),
            pytest.param({"type": "pet_fee"}, "$.type", id="unknown-type"),
            pytest.param({"date": "2026-13-01"}, "$.date", id="bad-date"),
            pytest.param({"lease_id": None}, "$.lease_id", id="null-lease"),
        ],
    )
    def test_malformed_body_is_validation_failed(
        self, client: TestClient, engine: Engine, change: dict[str, Any], field: str
    ) -> None:
        payer = make_payer(client, make_world(client))
        source = add_bank(client, payer)

        problem = refused(
            engine,
            lambda: post_payment(client, payer, source["id"], **change),
            422,
            "validation_failed",
        )

        assert [e["field"] for e in problem["errors"]] == [field]

    def test_missing_fields_are_each_named(self, client: TestClient, engine: Engine) -> None:
        payer = make_payer(client, make_world(client))

        problem = refused(
            engine,
            lambda: client.post("/v1/resident/payments", json={}, headers=payer.auth),
            422,
            "validation_failed",
        )

        assert sorted(e["field"] for e in problem["errors"]) == [
            "$.amount",
            "$.lease_id",
            "$.payment_source_id",
        ]

    def test_malformed_json_is_malformed_json(self, client: TestClient, engine: Engine) -> None:
        payer = make_payer(client, make_world(client))

        refused(
            engine,
            lambda: client.post(
                "/v1/resident/payments",
                content=b'{"amount": ',
                headers={**payer.auth, "Content-Type": "application/json"},
            ),
            400,
            "malformed_json",
        )


class TestProcessorAndAccounts:
    def test_declined_magic_card_is_card_declined(self, client: TestClient, engine: Engine) -> None:
        payer = make_payer(client, make_world(client))
        declined = add_card(client, payer, DECLINED_CARD)

        refused(engine, lambda: post_payment(client, payer, declined["id"]), 402, "card_declined")

    def test_card_that_expired_since_it_was_added_is_card_expired(
        self, client: TestClient, engine: Engine
    ) -> None:
        world = make_world(client)
        payer = make_payer(client, world)
        source = add_card(client, payer, exp_month=7, exp_year=2026)  # good through July
        set_clock(client, world, "2026-08-03T14:00:00Z")
        relogin(client, world, payer, "anthony@example.com")

        refused(engine, lambda: post_payment(client, payer, source["id"]), 422, "card_expired")

    def test_a_declined_attempt_does_not_use_up_the_day(self, client: TestClient) -> None:
        payer = make_payer(client, make_world(client))
        declined = add_card(client, payer, DECLINED_CARD)
        assert post_payment(client, payer, declined["id"]).status_code == 402

        assert pay(client, payer, add_card(client, payer)["id"])["status"] == "processing"

    @pytest.mark.parametrize("type", ["security_deposit", "application_fee"])
    def test_property_without_that_account_is_no_deposit_account(
        self, client: TestClient, engine: Engine, type: str
    ) -> None:
        payer = make_payer(client, make_world(client))  # a rent account only
        source = add_bank(client, payer)

        refused(
            engine,
            lambda: post_payment(client, payer, source["id"], type=type),
            409,
            "no_deposit_account",
        )

    def test_property_with_no_account_at_all_is_no_deposit_account(
        self, client: TestClient, engine: Engine
    ) -> None:
        payer = make_payer(client, make_world(client), accounts=())
        source = add_bank(client, payer)

        refused(
            engine, lambda: post_payment(client, payer, source["id"]), 409, "no_deposit_account"
        )

    def test_security_deposit_goes_to_its_own_account_and_batch(self, client: TestClient) -> None:
        world = make_world(client, settings={"payments_per_resident_per_day": 2})
        payer = make_payer(client, world, accounts=("rent", "security_deposit"))
        source = add_bank(client, payer)

        rent = pay(client, payer, source["id"])
        deposit = pay(client, payer, source["id"], "500.00", type="security_deposit")

        assert deposit["deposit_batch_id"] != rent["deposit_batch_id"]
        batch = client.get(
            f"/v1/deposit-batches/{deposit['deposit_batch_id']}", headers=world.landlord
        ).json()
        assert (batch["deposit_type"], batch["total"]) == ("security_deposit", "500.00")


class TestDate:
    def test_a_past_date_is_date_in_past(self, client: TestClient, engine: Engine) -> None:
        payer = make_payer(client, make_world(client))
        source = add_bank(client, payer)

        problem = refused(
            engine,
            lambda: post_payment(client, payer, source["id"], date="2026-07-01"),
            422,
            "date_in_past",
        )

        assert problem["today"] == "2026-07-02"

    def test_today_pays_now(self, client: TestClient) -> None:
        payer = make_payer(client, make_world(client))
        source = add_bank(client, payer)

        payment = pay(client, payer, source["id"], date="2026-07-02")

        assert (payment["status"], payment["business_date"]) == ("processing", "2026-07-02")
        assert payment["deposit_batch_id"] is not None

    def test_a_future_date_is_scheduled_outside_any_batch(self, client: TestClient) -> None:
        world = make_world(client)
        payer = make_payer(client, world)
        source = add_bank(client, payer)

        payment = pay(client, payer, source["id"], date="2026-07-10")

        assert payment["status"] == "scheduled"
        assert payment["status_label"] == "Pending"
        assert (payment["scheduled_for"], payment["business_date"]) == (
            "2026-07-10",
            "2026-07-10",
        )
        assert (payment["deposit_batch_id"], payment["deposit_date"]) == (None, None)
        batches = client.get("/v1/deposit-batches", headers=world.landlord).json()["data"]
        assert batches == []
        [mail] = mailbox(client, world, kind="payment_scheduled")
        assert mail["subject"] == "Rent Payment Scheduled for 07/10/2026"

    def test_a_date_on_a_weekend_has_the_next_banking_day_as_business_date(
        self, client: TestClient
    ) -> None:
        payer = make_payer(client, make_world(client))
        source = add_bank(client, payer)

        payment = pay(client, payer, source["id"], date="2026-07-11")  # a Saturday

        assert (payment["scheduled_for"], payment["business_date"]) == (
            "2026-07-11",
            "2026-07-13",
        )

    def test_more_than_a_year_ahead_is_date_too_far(
        self, client: TestClient, engine: Engine
    ) -> None:
        payer = make_payer(client, make_world(client))
        source = add_bank(client, payer)

        refused(
            engine,
            lambda: post_payment(client, payer, source["id"], date="2027-07-04"),
            422,
            "date_too_far",
        )

    def test_the_past_follows_the_workspace_clock(self, client: TestClient) -> None:
        # The suite's process clock is 2026-11-22; the workspace lives in July 2026.
        payer = make_payer(client, make_world(client))
        source = add_bank(client, payer)

        assert pay(client, payer, source["id"], date="2026-08-01")["status"] == "scheduled"


class TestResidentStatus:
    def test_first_rent_payment_makes_an_approved_resident_current(
        self, client: TestClient
    ) -> None:
        world = make_world(client)
        payer = make_payer(client, world)
        source = add_bank(client, payer)
        assert resident(client, world, payer.resident_id)["status"] == "approved"

        pay(client, payer, source["id"])

        assert resident(client, world, payer.resident_id)["status"] == "current"

    def test_security_deposit_leaves_the_resident_approved(self, client: TestClient) -> None:
        world = make_world(client)
        payer = make_payer(client, world, accounts=("rent", "security_deposit"))
        source = add_bank(client, payer)

        pay(client, payer, source["id"], type="security_deposit")

        assert resident(client, world, payer.resident_id)["status"] == "approved"

    def test_a_scheduled_rent_payment_leaves_the_resident_approved(
        self, client: TestClient
    ) -> None:
        world = make_world(client)
        payer = make_payer(client, world)
        source = add_bank(client, payer)

        pay(client, payer, source["id"], date="2026-07-10")

        assert resident(client, world, payer.resident_id)["status"] == "approved"


class TestNotifications:
    def test_resident_gets_rent_payment_initiated(self, client: TestClient) -> None:
        world = make_world(client)
        payer = make_payer(client, world)
        source = add_bank(client, payer)

        payment = pay(client, payer, source["id"])

        [mail] = mailbox(client, world, kind="payment_receipt")
        assert (mail["to"], mail["subject"]) == ("anthony@example.com", "Rent Payment Initiated")
        assert mail["data"]["transaction_id"] == payment["transaction_id"]
        assert mail["data"]["amount"] == "980.00"

    def test_full_rent_alerts_nobody(self, client: TestClient) -> None:
        world = make_world(client)
        payer = make_payer(client, world)

        pay(client, payer, add_bank(client, payer)["id"], "980.00")

        assert mailbox(client, world, kind="insufficient_payment") == []

    def test_short_rent_payment_alerts_the_landlord_once_a_month(self, client: TestClient) -> None:
        world = make_world(client, settings={"payments_per_resident_per_day": 3})
        payer = make_payer(client, world)  # rent 980.00
        source = add_bank(client, payer)

        first = pay(client, payer, source["id"], "500.00")
        pay(client, payer, source["id"], "400.00")
        pay(client, payer, source["id"], "80.00")

        [alert] = mailbox(client, world, kind="insufficient_payment")
        assert alert["to"] == world.email
        assert alert["subject"] == "Insufficient payment from Anthony Kmetz"
        assert (alert["data"]["lease_id"], alert["data"]["payment_id"]) == (
            payer.lease_id,
            first["id"],
        )

    def test_a_new_month_alerts_again(self, client: TestClient) -> None:
        world = make_world(client)
        payer = make_payer(client, world)
        source = add_bank(client, payer)
        pay(client, payer, source["id"], "500.00")
        pay(client, payer, source["id"], "500.00", date="2026-07-06")  # same month, scheduled

        set_clock(client, world, "2026-08-03T14:00:00Z")
        relogin(client, world, payer, "anthony@example.com")
        august = pay(client, payer, source["id"], "100.00")

        alerts = mailbox(client, world, kind="insufficient_payment")
        assert [a["data"]["payment_id"] for a in alerts][-1] == august["id"]
        assert len(alerts) == 2

    def test_security_deposit_below_the_rent_alerts_nobody(self, client: TestClient) -> None:
        world = make_world(client)
        payer = make_payer(client, world, accounts=("rent", "security_deposit"))

        pay(client, payer, add_bank(client, payer)["id"], "100.00", type="security_deposit")

        assert mailbox(client, world, kind="insufficient_payment") == []
