"""Report rules below the HTTP surface: reversal batches (none exist before the reversals issue,
so one is stored by hand), set-based reading, and the e-mail body's size bound."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlmodel import Session

from portal.payments.batch_items import BatchItem
from portal.payments.models import (
    BatchKind,
    BatchStatus,
    DepositBatch,
    PaymentStatus,
    PaymentType,
    SourceType,
)
from portal.properties.models import DepositAccountType
from portal.reports import jobs, service
from portal.reports.service import BatchDepositReport, ReportBatch
from portal.workspaces import service as workspaces_service
from portal.workspaces.models import Workspace
from portal_tests.payments.helpers import set_clock
from portal_tests.reports.helpers import (
    TUESDAY,
    TUESDAY_0700,
    Portfolio,
    build,
    external,
    parse_csv,
    pay_after_cutoff,
    report,
    report_mails,
)


@pytest.fixture
def portfolio(client: TestClient) -> Portfolio:
    p = build(client)
    pay_after_cutoff(client, p)
    return p


def add_reversal_batch(
    session: Session, p: Portfolio, *, stored_total: int, deposit_date: date
) -> str:
    """A reversal batch as the reversals issue will create it: a returned 950.00 payment of
    Jerry's, debited from the Maple rent account."""
    ws = session.get(Workspace, p.world.workspace_id)
    assert ws is not None
    [batch_id] = workspaces_service.minter(ws, session).many("deposit_batch", 1, shape="digits16")
    jerry_batch = session.get(DepositBatch, (ws.id, p.payments["jerry_rent"]["deposit_batch_id"]))
    assert jerry_batch is not None
    session.add(
        DepositBatch(
            workspace_id=ws.id,
            id=batch_id,
            kind=BatchKind.REVERSAL,
            status=BatchStatus.DEPOSITED,
            deposit_account_id=jerry_batch.deposit_account_id,
            deposit_type=jerry_batch.deposit_type,
            business_date=date(2026, 7, 6),
            deposit_date=deposit_date,
            total_cents=stored_total,
            item_count=1,
            created_at=ws.clock_now,
        )
    )
    session.commit()
    return batch_id


class TestReversalBatches:
    @pytest.mark.parametrize("stored_total", [-95000])
    def test_listed_apart_and_negative(
        self, client: TestClient, portfolio: Portfolio, session: Session, stored_total: int
    ) -> None:
        p = portfolio
        set_clock(client, p.world, "2026-07-07T10:30:00Z")  # settled, before the 07:00 report
        reversal = add_reversal_batch(
            session, p, stored_total=stored_total, deposit_date=date(2026, 7, 7)
        )

        body = report(client, p.world, TUESDAY)

        assert reversal not in {b["batch_id"] for b in body["batches"]}
        [listed] = body["reversals"]
        assert (listed["batch_id"], listed["kind"], listed["total"]) == (
            reversal,
            "reversal",
            "-950.00",
        )
        assert (listed["account_number"], listed["deposit_type_label"]) == ("****3333", "Rent")
        assert (body["deposits_total"], body["reversals_total"]) == ("3400.25", "-950.00")
        assert body["total"] == "2450.25"
        assert body["item_count"] == 6

        header, *rows = parse_csv(report(client, p.world, TUESDAY, accept="text/csv").text)
        last = dict(zip(header, rows[-1], strict=True))
        assert (last["Batch Kind"], last["Batch ID"], last["Batch Total"]) == (
            "reversal",
            reversal,
            "-950.00",
        )
        assert last["Transaction ID"] == last["Amount"] == ""

        set_clock(client, p.world, TUESDAY_0700)
        [mail] = report_mails(client, p.world)
        assert mail["data"]["reversals_total"] == "-950.00"
        assert mail["data"]["reversals"][0]["batch_id"] == reversal
        assert (
            f"Reversals\n\nRent account ****3333 - Batch ID {reversal} (deposited)"
            in (mail["body"])
        )
        assert mail["body"].endswith(
            "Deposits: $3,400.25\nReversals: -$950.00\nNet total: $2,450.25"
        )

    def test_in_the_return_column_of_external_deposits(
        self, client: TestClient, portfolio: Portfolio, session: Session
    ) -> None:
        p = portfolio
        reversal = add_reversal_batch(
            session, p, stored_total=-95000, deposit_date=date(2026, 7, 9)
        )

        body = external(client, p.world, "2026-07")

        [row] = [r for r in body["rows"] if r["external_batch"] == reversal]
        assert (row["kind"], row["deposit_date"]) == ("reversal", "2026-07-09")
        assert (row["rent_other"], row["security_deposits"], row["misc"]) == (
            "0.00",
            "0.00",
            "0.00",
        )
        assert (row["returns"], row["total"]) == ("-950.00", "-950.00")
        assert body["rows"][-1] == row  # deposit-date order
        assert body["totals"]["returns"] == "-950.00"
        assert body["totals"]["rent_other"] == "2950.25"
        assert body["totals"]["total"] == "2550.25"


@pytest.fixture
def selects(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    yield seen
    event.remove(engine, "before_cursor_execute", count)


class TestSetBased:
    def test_query_count_does_not_grow_with_payments_or_batches(
        self, client: TestClient, portfolio: Portfolio, session: Session, selects: list[str]
    ) -> None:
        ws_id, now = portfolio.world.workspace_id, datetime(2026, 7, 8, 12, tzinfo=UTC)

        small = service.batch_deposit_report(session, ws_id, date(2026, 7, 8), now=now)
        small_count = len(selects)
        selects.clear()
        big = service.batch_deposit_report(session, ws_id, date(2026, 7, 7), now=now)

        assert (len(small.deposits), small.item_count) == (1, 1)
        assert (len(big.deposits), big.item_count) == (4, 5)
        # Batches and account numbers (the items are one plain-SQL read, outside the ORM:
        # portal_tests/receipts/test_batch_items.py counts it).
        assert len(selects) == small_count == 2

    def test_external_deposits_is_one_query(
        self, client: TestClient, portfolio: Portfolio, session: Session, selects: list[str]
    ) -> None:
        now = datetime(2026, 7, 8, 12, tzinfo=UTC)
        month = service.external_deposits_report(
            session, portfolio.world.workspace_id, date(2026, 7, 1), now=now
        )
        assert len(month.rows) == 5
        assert len(selects) == 1


# --- the e-mail body bound (pure) ---------------------------------------------------------------

AT = datetime(2026, 7, 6, 18, tzinfo=UTC)


def item(n: int) -> BatchItem:
    return BatchItem(
        batch_id=f"{n // 10_000:016d}",
        item="payment",
        payment_id=f"pay_{n}",
        transaction_id=f"{n:012d}",
        status=PaymentStatus.COMPLETED,
        type=PaymentType.RENT,
        method=SourceType.BANK_ACCOUNT,
        resident_id=f"res_{n}",
        resident_name=f"Resident Number {n}",
        lease_id=f"lease_{n}",
        property_id="prop_1",
        property_name="Oak Street",
        unit_id=f"unit_{n}",
        unit_name=str(n),
        initiated_at=AT,
        amount_cents=98000,
        external_resident_id=None,
        balance_basis_cents=0,
        due_day=1,
        property_external_id=None,
        unit_external_id=None,
        place=f"Oak Street {n}",
        routing_number=None,
        account_last4=None,
        business_date=AT.date(),
    )


def synthetic(batches: int, items_each: int) -> BatchDepositReport:
    return BatchDepositReport(
        deposit_date=date(2026, 7, 7),
        generated_at=AT,
        deposits=tuple(
            ReportBatch(
                id=f"{b:016d}",
                kind=BatchKind.DEPOSIT,
                status=BatchStatus.DEPOSITED,
                deposit_type=DepositAccountType.RENT,
                deposit_account_id=f"dacct_{b}",
                account_number=service.mask_account(f"99000{b:05d}"),
                business_date=date(2026, 7, 6),
                deposit_date=date(2026, 7, 7),
                item_count=items_each,
                total_cents=98000 * items_each,
                items=tuple(item(b * 10_000 + n) for n in range(items_each)),
            )
            for b in range(batches)
        ),
        reversals=(),
    )


class TestEmailBody:
    @pytest.mark.smoke
    def test_small_report_lists_every_transaction(self) -> None:
        body = jobs.email_body(synthetic(2, 3))
        assert body.count("Trans #") == 6
        assert "see GET" not in body

    def test_busy_day_falls_back_to_batch_totals(self) -> None:
        r = synthetic(3, 2_000)

        body = jobs.email_body(r)

        assert len(body) <= jobs.EMAIL_BODY_LIMIT
        assert "Trans #" not in body
        assert body.count("Total: $1,960,000.00 (2000 items)") == 3
        assert "Net total: $5,880,000.00" in body
        assert body.endswith(
            "6000 transactions: see GET /v1/reports/batch-deposits?date=2026-07-07"
        )

    def test_many_batches_are_cut_to_fit(self) -> None:
        body = jobs.email_body(synthetic(200, 1))
        assert len(body) <= jobs.EMAIL_BODY_LIMIT
        assert "\n...\n" in body
        assert body.startswith("Batch Deposit Report - deposits on 7/7/2026")


@pytest.mark.parametrize(
    ("number", "masked"),
    [("9876543210", "****3210"), ("1234", "****1234"), ("12345678901234567", "****4567")],
)
def test_mask_account(number: str, masked: str) -> None:
    assert service.mask_account(number) == masked
