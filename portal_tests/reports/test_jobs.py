"""The 07:00 New York Batch Deposit Report e-mail (domain.md §5.3, §11), driven by advancing
the workspace clock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from portal.auth import service as auth_service
from portal.reports.jobs import JOB_NAME, next_report
from portal.workspaces import service as workspaces_service
from portal.workspaces.models import Workspace
from portal_tests.payments.helpers import set_clock
from portal_tests.reports.helpers import (
    ACCOUNTS,
    TUESDAY,
    TUESDAY_0700,
    WEDNESDAY,
    Portfolio,
    build,
    pay_after_cutoff,
    report,
    report_mails,
)


@pytest.fixture
def portfolio(client: TestClient) -> Portfolio:
    p = build(client)
    pay_after_cutoff(client, p)
    return p


def expected_data(body: dict[str, Any]) -> dict[str, Any]:
    """The e-mail's data, derived from the JSON report of the same date."""

    def batch(b: dict[str, Any]) -> dict[str, Any]:
        return {
            "batch_id": b["batch_id"],
            "kind": b["kind"],
            "status": b["status"],
            "deposit_type": b["deposit_type"],
            "account_number": b["account_number"],
            "business_date": b["business_date"],
            "item_count": b["item_count"],
            "total": b["total"],
            "transaction_ids": [t["transaction_id"] for t in b["transactions"]],
        }

    return {
        "deposit_date": body["deposit_date"],
        "batches": [batch(b) for b in body["batches"]],
        "reversals": [batch(b) for b in body["reversals"]],
        "deposits_total": body["deposits_total"],
        "reversals_total": body["reversals_total"],
        "total": body["total"],
        "item_count": body["item_count"],
    }


def report_runs(advanced: dict[str, Any]) -> list[dict[str, Any]]:
    return [j for j in advanced["jobs"] if j["name"] == JOB_NAME]


class TestReportEmail:
    @pytest.mark.smoke
    def test_sent_at_exactly_0700_new_york_on_the_deposit_date(
        self, client: TestClient, portfolio: Portfolio
    ) -> None:
        p = portfolio
        before = set_clock(client, p.world, "2026-07-07T10:59:59Z")  # 06:59:59 EDT
        assert report_runs(before) == []
        assert report_mails(client, p.world) == []
        # Settlement at 06:00 has already deposited the day's batches.
        assert {b["status"] for b in report(client, p.world, TUESDAY)["batches"]} == {"deposited"}

        advanced = set_clock(client, p.world, TUESDAY_0700)

        [run] = report_runs(advanced)
        assert run["due_at"] == run["ran_at"] == TUESDAY_0700
        assert run["result"] == {
            "deposit_date": TUESDAY,
            "batches": 4,
            "total": "3400.25",
            "emails": 1,
        }
        [mail] = report_mails(client, p.world)
        assert mail["to"] == p.world.email
        assert mail["sent_at"] == TUESDAY_0700
        assert mail["subject"] == "Batch Deposit Report for 7/7/2026"
        assert mail["data"] == expected_data(report(client, p.world, TUESDAY))

    def test_body_is_a_readable_rendering(self, client: TestClient, portfolio: Portfolio) -> None:
        p = portfolio
        set_clock(client, p.world, TUESDAY_0700)

        [mail] = report_mails(client, p.world)

        body = mail["body"]
        assert body.startswith("Batch Deposit Report - deposits on 7/7/2026")
        for b in report(client, p.world, TUESDAY)["batches"]:
            assert (
                f"{b['deposit_type_label']} account {b['account_number']} - "
                f"Batch ID {b['batch_id']} (deposited)"
            ) in body
            for t in b["transactions"]:
                assert f"Trans #{t['transaction_id']}  Paid  {t['resident_name']}" in body
        assert "Oak Street / 2118  initiated 7/6/2026  $1,200.00" in body
        assert "  Total: $1,650.25 (2 items)" in body
        assert "  Total: $50.00 (1 item)" in body
        assert body.endswith("Deposits: $3,400.25\nReversals: $0.00\nNet total: $3,400.25")
        for number in ACCOUNTS.values():
            assert number not in body
            assert number not in str(mail["data"])

    def test_none_on_days_without_deposits(self, client: TestClient, portfolio: Portfolio) -> None:
        p = portfolio
        set_clock(client, p.world, TUESDAY_0700)

        # Wednesday: Karyl's after-cut-off payment; Thursday and Friday: nothing deposited.
        advanced = set_clock(client, p.world, "2026-07-10T20:00:00Z")

        assert [r["due_at"] for r in report_runs(advanced)] == ["2026-07-08T11:00:00Z"]
        mails = report_mails(client, p.world)
        assert [(m["data"]["deposit_date"], m["sent_at"]) for m in mails] == [
            (TUESDAY, TUESDAY_0700),
            (WEDNESDAY, "2026-07-08T11:00:00Z"),
        ]
        assert mails[1]["data"]["batches"][0]["transaction_ids"] == [
            p.payments["karyl_late"]["transaction_id"]
        ]
        assert mails[1]["data"]["total"] == "100.00"

    def test_every_landlord_user_gets_it(
        self, client: TestClient, portfolio: Portfolio, session: Session
    ) -> None:
        p = portfolio
        ws = session.get(Workspace, p.world.workspace_id)
        assert ws is not None
        auth_service.create_landlord(
            session,
            workspaces_service.minter(ws, session),
            email="Second.Manager@example.com",
            name="Second Manager",
            password_hash=auth_service.hash_password("second-password"),
            now=ws.clock_now,
        )
        session.commit()

        set_clock(client, p.world, TUESDAY_0700)

        mails = report_mails(client, p.world)
        assert sorted(m["to"] for m in mails) == sorted(
            [p.world.email, "second.manager@example.com"]
        )
        assert mails[0]["body"] == mails[1]["body"]
        assert mails[0]["data"] == mails[1]["data"]

    def test_other_workspaces_are_not_reported(self, client: TestClient) -> None:
        a = build(client, seed=7)
        b = build(client, seed=7, amounts_scale=2)  # the same batch IDs, other amounts
        set_clock(client, a.world, TUESDAY_0700)

        [mail] = report_mails(client, a.world)

        assert mail["data"]["total"] == "3400.25"
        assert report_mails(client, b.world) == []


@pytest.mark.parametrize(
    ("at_or_after", "due"),
    [
        # Tuesday 06:00 EDT -> that day's 07:00 EDT.
        (datetime(2026, 7, 7, 10, 0, tzinfo=UTC), datetime(2026, 7, 7, 11, 0, tzinfo=UTC)),
        # Exactly 07:00 is due at that instant.
        (datetime(2026, 7, 7, 11, 0, tzinfo=UTC), datetime(2026, 7, 7, 11, 0, tzinfo=UTC)),
        # Friday 2026-07-03 is a banking day (Saturday's July 4th is not moved).
        (datetime(2026, 7, 2, 11, 1, tzinfo=UTC), datetime(2026, 7, 3, 11, 0, tzinfo=UTC)),
        # Friday after 07:00 -> Monday, skipping the weekend.
        (datetime(2026, 7, 10, 12, 0, tzinfo=UTC), datetime(2026, 7, 13, 11, 0, tzinfo=UTC)),
        # Winter (EST): 07:00 New York is 12:00 UTC; Friday 2026-12-25 is Christmas.
        (datetime(2026, 12, 24, 13, 0, tzinfo=UTC), datetime(2026, 12, 28, 12, 0, tzinfo=UTC)),
    ],
)
def test_next_report_is_0700_new_york_on_banking_days(at_or_after: datetime, due: datetime) -> None:
    assert next_report({}, at_or_after) == due
