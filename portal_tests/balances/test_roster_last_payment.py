"""Issue 15 item 7: the Send Balances roster (seed 000 §D grid: Status, Resident, Email, Phone,
Property, Amount, Last Payment, Balance) shows each lease's last completed payment, its
amount and date, and the address once."""

from __future__ import annotations

from fastapi.testclient import TestClient

from portal_tests.balances.helpers import accept, move, roster, sent
from portal_tests.balances.test_router import connect, line
from portal_tests.payments.helpers import add_bank, pay
from portal_tests.reversals.helpers import operator_return

#: START is Thursday 2026-07-02, 10:00 in New York; Friday 07-03 is a banking day (the
#: Saturday holiday is not moved), so Thursday's batch deposits on Friday.
FRIDAY_EVENING = "2026-07-03T22:00:00Z"
MONDAY_MORNING = "2026-07-06T14:00:00Z"
TUESDAY_EVENING = "2026-07-07T22:00:00Z"


class TestLastPayment:
    def test_the_last_completed_payment_shows_with_its_date(self, client: TestClient) -> None:
        c = connect(client)
        sent(client, c, [line("t0001"), line("t0002")])
        payer = accept(client, c, "t0001@example.com")
        source = add_bank(client, payer)["id"]
        first = pay(client, payer, source, "750.00")

        # Processing is not paid yet (domain.md §11: only ``complete`` is PAID).
        assert roster(client, c)["t0001"]["last_payment"] is None
        move(client, c, FRIDAY_EVENING, {"t0001@example.com": payer})
        grid = roster(client, c)
        assert (grid["t0001"]["last_payment"], grid["t0001"]["last_payment_date"]) == (
            "750.00",
            "2026-07-02",
        )
        # A resident who never paid shows "-" (null), as in the seed's grid.
        assert (grid["t0002"]["last_payment"], grid["t0002"]["last_payment_date"]) == (None, None)

        move(client, c, MONDAY_MORNING, {"t0001@example.com": payer})
        second = pay(client, payer, source, "100.00")
        move(client, c, TUESDAY_EVENING, {"t0001@example.com": payer})
        line1 = roster(client, c)["t0001"]
        assert (line1["last_payment"], line1["last_payment_date"]) == ("100.00", "2026-07-06")

        # Returned after it completed, it no longer counts: the one before shows again.
        returned = operator_return(client, c.world, second["id"], "R01")
        assert returned.status_code in (200, 201), returned.text
        line1 = roster(client, c)["t0001"]
        assert (line1["last_payment"], line1["last_payment_date"]) == ("750.00", "2026-07-02")
        assert first["status"] == "processing"


class TestAddressOnce:
    def test_a_unit_named_with_its_street_shows_the_street_once(self, client: TestClient) -> None:
        c = connect(client)
        sent(
            client,
            c,
            [
                line("t0001", unit="2234 Chapala St #8"),
                line("t0002", unit="#2"),
                line("t0003", unit=""),
                line("t0004", property_address="", unit="#4"),
            ],
        )

        places = {rid: ln["property"] for rid, ln in roster(client, c).items()}

        assert places == {
            "t0001": "2234 Chapala St #8",
            "t0002": "2234 Chapala St #2",
            "t0003": "2234 Chapala St",
            "t0004": "#4",
        }
