"""A batch's items have one read model (issue 15; ``portal.payments.batch_items``): the
receipt-batch API, its lockbox files, the Batch Deposit Report (JSON, CSV and the lockbox files
of its e-mail), the External Deposits report and the landlord's deposit-batch read all list the
same items with the same amounts, in one world holding every kind of item (``batch_world``)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from portal.core.db import RawReader, raw_of
from portal.payments import batch_items
from portal_tests.factories import OPERATOR
from portal_tests.payments.helpers import batch as deposit_batch
from portal_tests.receipts.batch_world import TUESDAY, BatchWorld, build
from portal_tests.reports.helpers import external, parse_csv, report
from portal_tests.residents.helpers import mailbox

#: (item, payment ID, transaction ID, amount, note): what every view of a batch must agree on.
Row = tuple[str, str, str, str, str | None]


@pytest.fixture
def world(client: TestClient) -> BatchWorld:
    return build(client)


def receipts(client: TestClient, w: BatchWorld, batch_id: str) -> list[Row]:
    response = client.get(f"/v1/integration/receipt-batches/{batch_id}", headers=w.api["inosio"])
    assert response.status_code == 200, response.text
    return [
        (r["item"], r["payment_id"], r["transaction_id"], r["amount"], r["note"])
        for r in response.json()["receipts"]
    ]


def reported(client: TestClient, w: BatchWorld, batch_id: str) -> list[Row]:
    """The batch's transactions in the Batch Deposit Report of its deposit date."""
    day = deposit_batch(client, w.world, batch_id)["deposit_date"]
    body = report(client, w.world, day)
    [listed] = [b for b in body["batches"] + body["reversals"] if b["batch_id"] == batch_id]
    return [
        (t["item"], t["payment_id"], t["transaction_id"], t["amount"], t["note"])
        for t in listed["transactions"]
    ]


def reported_csv(client: TestClient, w: BatchWorld, batch_id: str) -> list[Row]:
    day = deposit_batch(client, w.world, batch_id)["deposit_date"]
    header, *rows = parse_csv(report(client, w.world, day, accept="text/csv").text)
    at = {name: n for n, name in enumerate(header)}
    return [
        (
            row[at["Item"]],
            "",
            row[at["Transaction ID"]],
            row[at["Amount"]],
            row[at["Note"]] or None,
        )
        for row in rows
        if row[at["Batch ID"]] == batch_id
    ]


def deposit_batch_items(client: TestClient, w: BatchWorld, batch_id: str) -> list[Row]:
    return [
        (i["item"], i["payment_id"], i["transaction_id"], i["amount"], i["note"])
        for i in deposit_batch(client, w.world, batch_id)["items"]
    ]


def lockbox(client: TestClient, w: BatchWorld, batch_id: str, fmt: str) -> str:
    response = client.get(
        f"/v1/integration/receipt-batches/{batch_id}/lockbox",
        params={"format": fmt},
        headers=w.api["renttrack"],
    )
    assert response.status_code == 200, response.text
    return response.text


def expected(w: BatchWorld) -> dict[str, list[Row]]:
    """What the world put in each batch (``batch_world``'s story): the payments in the order
    they were made (all at one instant here, so by transaction ID), then the reversals."""
    p, r = w.payments, w.reversals
    note = (
        f"NSF on 2026-07-08 (-$500.00, Trans #{r['return']['transaction_id']}): not posted as "
        "a separate debit: the property's post_reversals setting is off"
    )

    def paid(name: str, amount: str, note: str | None = None) -> Row:
        return ("payment", p[name]["id"], p[name]["transaction_id"], amount, note)

    def reversed_(name: str, payment: str, amount: str) -> Row:
        return ("reversal", p[payment]["id"], r[name]["transaction_id"], amount, None)

    payments = sorted(
        [
            paid("anthony_rent", "980.00"),
            paid("jerry_rent", "500.00", note),
            paid("jerry_card", "250.00"),
        ],
        key=lambda row: row[2],
    )
    return {
        w.deposit_batch: [*payments, reversed_("chargeback", "jerry_card", "-250.00")],
        w.reversal_batch: [reversed_("refund", "anthony_rent", "-980.00")],
    }


class TestEveryViewListsTheSameItems:
    def test_the_story_placed_each_reversal(self, world: BatchWorld) -> None:
        r = world.reversals
        assert [r[k]["placement"] for k in ("void", "chargeback", "refund", "return")] == [
            "none",
            "original_batch",
            "reversal_batch",
            "receipt_note",
        ]
        assert r["chargeback"]["deposit_batch_id"] == world.deposit_batch

    def test_receipts_report_and_deposit_batch_read_agree(
        self, client: TestClient, world: BatchWorld
    ) -> None:
        for batch_id, items in expected(world).items():
            assert receipts(client, world, batch_id) == items
            assert reported(client, world, batch_id) == items
            # The deposit-batch read lists the same items and, like the others, the note a
            # reversal after the deposit left on its payment (it had none before issue 15).
            assert deposit_batch_items(client, world, batch_id) == items
            assert reported_csv(client, world, batch_id) == [
                (item, "", tx, amount, note) for item, _, tx, amount, note in items
            ]

    def test_lockbox_files_list_the_same_transactions(
        self, client: TestClient, world: BatchWorld
    ) -> None:
        for batch_id, items in expected(world).items():
            promas = list(csv.reader(io.StringIO(lockbox(client, world, batch_id, "promas"))))
            assert [(row[3], row[2]) for row in promas] == [
                (f"Trans #{tx} Batch #{batch_id}", amount) for _, _, tx, amount, _ in items
            ]
            _, *boston = csv.reader(io.StringIO(lockbox(client, world, batch_id, "bostonpost")))
            assert [(row[6], row[2]) for row in boston] == [
                (tx, amount) for _, _, tx, amount, _ in items
            ]

    def test_the_report_e_mails_carry_the_same_lockbox_files(
        self, client: TestClient, world: BatchWorld
    ) -> None:
        ws = world.world.workspace_id
        mails = mailbox(client, world.world, kind="batch_deposit_report")
        files: dict[str, str] = {}
        for mail in mails:
            for n, attachment in enumerate(mail["attachments"], start=1):
                file = client.get(
                    f"/v1/sandbox/workspaces/{ws}/mailbox/{mail['id']}/attachments/{n}",
                    headers=OPERATOR,
                )
                assert file.status_code == 200
                files[attachment["filename"]] = file.text
        for batch_id in expected(world):
            for fmt in ("promas", "bostonpost"):
                assert files[f"{fmt}-{batch_id}.csv"] == lockbox(client, world, batch_id, fmt)

    def test_batch_totals_are_the_sums_of_the_items(
        self, client: TestClient, world: BatchWorld
    ) -> None:
        month = {r["external_batch"]: r for r in external(client, world.world, "2026-07")["rows"]}
        for batch_id, items in expected(world).items():
            total = sum(Decimal(amount) for _, _, _, amount, _ in items)
            read = deposit_batch(client, world.world, batch_id)
            assert (Decimal(read["total"]), read["item_count"]) == (total, len(items))
            assert Decimal(month[batch_id]["total"]) == total
        assert report(client, world.world, TUESDAY)["item_count"] == 4


# --- one query, however many batches ------------------------------------------------------------


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    rows = RawReader.rows

    def counted(self: RawReader, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        seen.append(sql)
        return rows(self, sql, params)

    monkeypatch.setattr(RawReader, "rows", counted)
    return seen


class TestSetWise:
    def test_one_statement_for_one_batch_or_many(
        self, world: BatchWorld, engine: Engine, statements: list[str]
    ) -> None:
        ws = world.world.workspace_id
        with Session(engine) as session:
            raw = raw_of(session)
            one = batch_items.items_of_batches(raw, ws, [world.deposit_batch])
            assert len(statements) == 1
            both = batch_items.items_of_batches(
                raw, ws, [world.reversal_batch, world.deposit_batch, "0000000000000000"]
            )
            assert len(statements) == 2
            assert batch_items.items_of_batches(raw, ws, []) == {}
            assert len(statements) == 2

        assert both[world.deposit_batch] == one[world.deposit_batch]
        assert [i.amount_cents for i in both[world.reversal_batch]] == [-98000]
        assert both["0000000000000000"] == []
