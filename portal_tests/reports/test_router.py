"""The reports over HTTP, as a landlord reads them: Batch Deposit Report (JSON and CSV) and
AMSI External Deposits, with payments made and the clock moved through cut-off and settlement."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from portal.reports.router import wants_csv
from portal.reports.schemas import BATCH_DEPOSIT_COLUMNS, EXTERNAL_DEPOSITS_COLUMNS
from portal_tests.factories import World, make_world
from portal_tests.payments.helpers import pay, set_clock
from portal_tests.reports.helpers import (
    ACCOUNTS,
    MONDAY_1400,
    TUESDAY,
    TUESDAY_0700,
    WEDNESDAY,
    Portfolio,
    build,
    external,
    parse_csv,
    pay_after_cutoff,
    report,
)


def cents(amount: str) -> Decimal:
    return Decimal(amount)


def transaction(p: Portfolio, key: str, payer: str, unit: str, prop: str) -> dict[str, Any]:
    """What the report must say about one payment, from what the payment call answered."""
    paid = p.payments[key]
    return {
        "transaction_id": paid["transaction_id"],
        "payment_id": paid["id"],
        "type": paid["type"],
        "method": paid["method"],
        "resident_id": p.payers[payer].resident_id,
        "resident_name": {
            "anthony": "Anthony Kmetz",
            "jerry": "Jerry Rodriguez",
            "karyl": "Karyl Rodriguez",
        }[payer],
        "lease_id": p.payers[payer].lease_id,
        "property_id": p.property_ids[prop],
        "property_name": {"oak": "Oak Street", "maple": "Maple Court"}[prop],
        "unit_id": p.units[unit]["id"],
        "unit_name": unit,
        "initiated_at": paid["initiated_at"],
        "initiated_date": "2026-07-06",
        "amount": paid["amount"],
        "item": "payment",
        "reason": None,
        "return_code": None,
        "original_transaction_id": None,
        "note": None,
    }


def total_of(p: Portfolio, *keys: str) -> str:
    return str(sum(cents(p.payments[k]["amount"]) for k in keys))


def expected_batches(p: Portfolio) -> list[dict[str, Any]]:
    """Tuesday's batches in report order: by account type (rent, security deposit,
    application fee), then masked account number."""
    pay_ = p.payments
    return [
        {
            "batch_id": pay_["anthony_rent"]["deposit_batch_id"],
            "deposit_type": "rent",
            "deposit_type_label": "Rent",
            "account_number": "****1111",
            "item_count": 1,
            "total": total_of(p, "anthony_rent"),
            "transactions": [transaction(p, "anthony_rent", "anthony", "2118", "oak")],
        },
        {
            "batch_id": pay_["jerry_rent"]["deposit_batch_id"],
            "deposit_type": "rent",
            "deposit_type_label": "Rent",
            "account_number": "****3333",
            "item_count": 2,
            "total": total_of(p, "jerry_rent", "karyl_rent"),
            "transactions": [
                transaction(p, "jerry_rent", "jerry", "5B", "maple"),
                transaction(p, "karyl_rent", "karyl", "6C", "maple"),
            ],
        },
        {
            "batch_id": pay_["anthony_deposit"]["deposit_batch_id"],
            "deposit_type": "security_deposit",
            "deposit_type_label": "Security Deposit",
            "account_number": "****2222",
            "item_count": 1,
            "total": total_of(p, "anthony_deposit"),
            "transactions": [transaction(p, "anthony_deposit", "anthony", "2118", "oak")],
        },
        {
            "batch_id": pay_["jerry_fee"]["deposit_batch_id"],
            "deposit_type": "application_fee",
            "deposit_type_label": "Application Fee",
            "account_number": "****4444",
            "item_count": 1,
            "total": total_of(p, "jerry_fee"),
            "transactions": [transaction(p, "jerry_fee", "jerry", "5B", "maple")],
        },
    ]


def strip_status(batch: dict[str, Any]) -> dict[str, Any]:
    """A report batch without the fields that change with time (checked separately)."""
    out = {
        k: v
        for k, v in batch.items()
        if k not in ("status", "kind", "business_date", "deposit_date", "deposit_account_id")
    }
    out["transactions"] = [
        {k: v for k, v in t.items() if k not in ("status", "status_label")}
        for t in batch["transactions"]
    ]
    return out


@pytest.fixture
def world(client: TestClient) -> World:
    """A workspace with no payments (enough for input checks)."""
    return make_world(client, clock={"now": MONDAY_1400})


@pytest.fixture
def portfolio(client: TestClient) -> Portfolio:
    p = build(client)
    pay_after_cutoff(client, p)
    return p


class TestBatchDepositReport:
    def test_every_field_once_deposited(self, client: TestClient, portfolio: Portfolio) -> None:
        p = portfolio
        set_clock(client, p.world, TUESDAY_0700)

        body = report(client, p.world, TUESDAY)

        assert body["deposit_date"] == TUESDAY
        assert body["generated_at"] == TUESDAY_0700
        assert [strip_status(b) for b in body["batches"]] == expected_batches(p)
        assert [b["total"] for b in body["batches"]] == ["1200.00", "1650.25", "500.00", "50.00"]
        for b in body["batches"]:
            assert (b["kind"], b["status"]) == ("deposit", "deposited")
            assert (b["business_date"], b["deposit_date"]) == ("2026-07-06", TUESDAY)
            assert [(t["status"], t["status_label"]) for t in b["transactions"]] == [
                ("completed", "Paid")
            ] * b["item_count"]
            assert cents(b["total"]) == sum(cents(t["amount"]) for t in b["transactions"])
            assert b["item_count"] == len(b["transactions"])
        assert body["reversals"] == []
        assert (body["deposits_total"], body["reversals_total"]) == ("3400.25", "0.00")
        assert body["total"] == "3400.25"
        assert cents(body["total"]) == sum(cents(b["total"]) for b in body["batches"])
        assert body["item_count"] == 5

    @pytest.mark.smoke
    def test_batches_match_the_deposit_batch_api(
        self, client: TestClient, portfolio: Portfolio
    ) -> None:
        p = portfolio
        set_clock(client, p.world, TUESDAY_0700)

        body = report(client, p.world, TUESDAY)

        listed = client.get(
            "/v1/deposit-batches", params={"date": TUESDAY}, headers=p.world.landlord
        ).json()["data"]
        assert {b["batch_id"]: b["total"] for b in body["batches"]} == {
            b["id"]: b["total"] for b in listed
        }
        for b in body["batches"]:
            [account] = [a for a in listed if a["id"] == b["batch_id"]]
            assert b["deposit_account_id"] == account["deposit_account_id"]
            assert b["account_number"] == "****" + account["account_last4"]

    def test_before_settlement_lists_open_then_closed_batches(
        self, client: TestClient, portfolio: Portfolio
    ) -> None:
        p = portfolio  # the clock is Monday 19:50: the cut-off has closed Monday's batches
        closed = report(client, p.world, TUESDAY)
        assert {b["status"] for b in closed["batches"]} == {"closed"}
        assert {t["status_label"] for b in closed["batches"] for t in b["transactions"]} == {
            "Processing"
        }
        # Karyl's 19:50 payment joined Tuesday's still-open batch, deposited Wednesday.
        wednesday = report(client, p.world, WEDNESDAY)
        [late] = wednesday["batches"]
        assert (late["status"], late["business_date"], late["total"]) == (
            "open",
            TUESDAY,
            "100.00",
        )
        assert late["batch_id"] == p.payments["karyl_late"]["deposit_batch_id"]
        assert late["batch_id"] not in {b["batch_id"] for b in closed["batches"]}

    def test_a_day_without_deposits_is_empty(
        self, client: TestClient, portfolio: Portfolio
    ) -> None:
        body = report(client, portfolio.world, "2026-07-09")
        assert (body["batches"], body["reversals"], body["total"], body["item_count"]) == (
            [],
            [],
            "0.00",
            0,
        )

    def test_account_numbers_never_leave_whole(
        self, client: TestClient, portfolio: Portfolio
    ) -> None:
        json_text = client.get(
            "/v1/reports/batch-deposits",
            params={"date": TUESDAY},
            headers=portfolio.world.landlord,
        ).text
        csv_text = report(client, portfolio.world, TUESDAY, accept="text/csv").text
        for number in ACCOUNTS.values():
            assert number not in json_text
            assert number not in csv_text


class TestBatchDepositCsv:
    @pytest.mark.smoke
    def test_one_row_per_transaction_with_batch_columns(
        self, client: TestClient, portfolio: Portfolio
    ) -> None:
        p = portfolio
        set_clock(client, p.world, TUESDAY_0700)

        response = report(client, p.world, TUESDAY, accept="text/csv")

        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert response.headers["content-disposition"] == (
            f'attachment; filename="batch-deposits-{TUESDAY}.csv"'
        )
        assert "Accept" in response.headers["vary"]
        text = response.text
        assert text.endswith("\r\n")
        assert text.count("\r\n") == 6  # header + five transactions
        header, *rows = parse_csv(text)
        assert header == list(BATCH_DEPOSIT_COLUMNS)
        as_json = report(client, p.world, TUESDAY)
        expected = [
            [
                TUESDAY,
                "deposit",
                b["batch_id"],
                "deposited",
                b["deposit_type_label"],
                b["account_number"],
                "2026-07-06",
                str(b["item_count"]),
                b["total"],
                t["transaction_id"],
                "Paid",
                t["resident_name"],
                t["resident_id"],
                t["property_name"],
                t["property_id"],
                t["unit_name"],
                t["unit_id"],
                t["lease_id"],
                t["type"],
                t["method"],
                "2026-07-06",
                t["initiated_at"],
                t["amount"],
                "payment",
                "",
                "",
                "",
                "",
            ]
            for b in as_json["batches"]
            for t in b["transactions"]
        ]
        assert rows == expected
        assert [r[-6] for r in rows] == ["1200.00", "950.00", "700.25", "500.00", "50.00"]

    def test_accept_decides_the_format(self, client: TestClient, world: World) -> None:
        for accept in ("text/csv", "text/csv; charset=utf-8", "application/json;q=0.5, text/csv"):
            response = report(client, world, TUESDAY, accept=accept)
            assert response.headers["content-type"] == "text/csv; charset=utf-8", accept
            assert parse_csv(response.text) == [list(BATCH_DEPOSIT_COLUMNS)]
        for accept in ("application/json", "*/*", "text/csv;q=0"):
            response = report(client, world, TUESDAY, accept=accept)
            assert response.headers["content-type"] == "application/json", accept
            assert response.json()["batches"] == []


class TestExternalDeposits:
    def test_one_row_per_batch_in_amsi_columns(
        self, client: TestClient, portfolio: Portfolio
    ) -> None:
        p = portfolio
        # Friday 2026-07-31 14:00: deposited Monday 2026-08-03, so in August's report only.
        set_clock(client, p.world, "2026-07-31T18:00:00Z")
        august = pay(client, p.relogin(client, "jerry"), p.banks["jerry"], "975.00")

        body = external(client, p.world, "2026-07")

        pay_ = p.payments
        assert body["month"] == "2026-07"
        assert [
            (r["external_batch"], r["deposit_date"], r["deposit_type"], r["total"])
            for r in body["rows"]
        ] == sorted(
            [
                (pay_["anthony_rent"]["deposit_batch_id"], TUESDAY, "rent", "1200.00"),
                (pay_["jerry_rent"]["deposit_batch_id"], TUESDAY, "rent", "1650.25"),
                (
                    pay_["anthony_deposit"]["deposit_batch_id"],
                    TUESDAY,
                    "security_deposit",
                    "500.00",
                ),
                (pay_["jerry_fee"]["deposit_batch_id"], TUESDAY, "application_fee", "50.00"),
                (pay_["karyl_late"]["deposit_batch_id"], WEDNESDAY, "rent", "100.00"),
            ],
            key=lambda r: (r[1], r[0]),
        )
        columns = ("rent_other", "security_deposits", "misc", "returns")
        by_type = {
            "rent": "rent_other",
            "security_deposit": "security_deposits",
            "application_fee": "misc",
        }
        for r in body["rows"]:
            assert r["esite_batch"] is None
            assert (r["kind"], r["status"]) == ("deposit", "deposited")
            for column in columns:
                expected = r["total"] if column == by_type[r["deposit_type"]] else "0.00"
                assert r[column] == expected, (r, column)
            assert cents(r["total"]) == sum(cents(r[c]) for c in columns)
        assert body["totals"] == {
            "rent_other": "2950.25",
            "security_deposits": "500.00",
            "misc": "50.00",
            "returns": "0.00",
            "total": "3500.25",
        }
        for column in (*columns, "total"):
            assert cents(body["totals"][column]) == sum(cents(r[column]) for r in body["rows"])
        [aug] = external(client, p.world, "2026-08")["rows"]
        assert (aug["external_batch"], aug["deposit_date"], aug["status"]) == (
            august["deposit_batch_id"],
            "2026-08-03",
            "open",
        )
        assert external(client, p.world, "2026-06")["rows"] == []

    def test_csv_has_amsi_header_rows_and_a_total_row(
        self, client: TestClient, portfolio: Portfolio
    ) -> None:
        p = portfolio
        set_clock(client, p.world, "2026-07-08T12:00:00Z")
        as_json = external(client, p.world, "2026-07")

        response = client.get(
            "/v1/reports/external-deposits",
            params={"month": "2026-07"},
            headers={**p.world.landlord, "Accept": "text/csv"},
        )

        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        header, *rows, total = parse_csv(response.text)
        assert header == [
            "External Batch",
            "eSite Batch",
            "Deposit Date",
            "Status",
            "Rent/Other",
            "Security Deposits",
            "Misc",
            "Return",
            "Total",
        ]
        assert header == list(EXTERNAL_DEPOSITS_COLUMNS)
        assert rows == [
            [
                r["external_batch"],
                "",
                r["deposit_date"],
                r["status"],
                r["rent_other"],
                r["security_deposits"],
                r["misc"],
                r["returns"],
                r["total"],
            ]
            for r in as_json["rows"]
        ]
        t = as_json["totals"]
        assert total == [
            "Total",
            "",
            "",
            "",
            t["rent_other"],
            t["security_deposits"],
            t["misc"],
            t["returns"],
            t["total"],
        ]
        assert total[-1] == "3500.25"


class TestBadInput:
    @pytest.mark.parametrize(
        "month", ["2026-13", "2026-00", "2026-7", "26-07", "2026/07", "0000-01", "", "2026-07-01"]
    )
    def test_bad_month_is_422_invalid_month(
        self, client: TestClient, world: World, month: str
    ) -> None:
        response = client.get(
            "/v1/reports/external-deposits",
            params={"month": month},
            headers=world.landlord,
        )
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        body = response.json()
        assert body["code"] == "invalid_month"
        assert body["errors"][0]["field"] == "query.month"

    def test_missing_month_is_422(self, client: TestClient, world: World) -> None:
        response = client.get("/v1/reports/external-deposits", headers=world.landlord)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "query.month"

    @pytest.mark.parametrize("params", [{}, {"date": "2026-02-30"}, {"date": "07/07/2026"}])
    def test_missing_or_bad_date_is_422(
        self, client: TestClient, world: World, params: dict[str, str]
    ) -> None:
        response = client.get("/v1/reports/batch-deposits", params=params, headers=world.landlord)
        assert response.status_code == 422, response.text
        body = response.json()
        assert body["code"] == "validation_failed"
        assert body["errors"][0]["field"] == "query.date"

    def test_landlords_only(self, client: TestClient, portfolio: Portfolio) -> None:
        resident = portfolio.payers["anthony"].auth
        for path in (
            "/v1/reports/batch-deposits?date=2026-07-07",
            "/v1/reports/external-deposits?month=2026-07",
        ):
            assert client.get(path).status_code == 401
            assert client.get(path, headers=resident).status_code == 401
            assert client.get(path, headers=portfolio.world.landlord).status_code == 200


class TestIsolation:
    def test_another_workspaces_batches_never_show(self, client: TestClient) -> None:
        # The same seed: both workspaces mint the very same batch and transaction IDs.
        a = build(client, seed=7)
        b = build(client, seed=7, amounts_scale=2)
        assert (
            a.payments["anthony_rent"]["deposit_batch_id"]
            == (b.payments["anthony_rent"]["deposit_batch_id"])
        )
        set_clock(client, a.world, TUESDAY_0700)
        set_clock(client, b.world, TUESDAY_0700)

        report_a = report(client, a.world, TUESDAY)
        report_b = report(client, b.world, TUESDAY)

        assert [strip_status(x) for x in report_a["batches"]] == expected_batches(a)
        assert [strip_status(x) for x in report_b["batches"]] == expected_batches(b)
        assert (report_a["total"], report_b["total"]) == ("3400.25", "6800.25")
        assert external(client, a.world, "2026-07")["totals"]["total"] == "3400.25"
        assert external(client, b.world, "2026-07")["totals"]["total"] == "6800.25"


@pytest.mark.parametrize(
    ("accept", "csv"),
    [
        (None, False),
        ("", False),
        ("text/csv", True),
        ("text/csv;q=0", False),
        ("text/csv;q=bogus", False),
        ("application/json, text/csv", True),
        ("application/json;q=0.9, text/csv;q=0.8", False),
        ("text/html, */*", False),
    ],
)
def test_wants_csv(accept: str | None, csv: bool) -> None:
    assert wants_csv(accept) is csv
