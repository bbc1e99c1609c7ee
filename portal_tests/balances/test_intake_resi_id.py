"""Issue 15 item 4: an AMSI client's Send Balances refuses a whole
``Property-Building-Unit-ResiID`` identifier as the single-resident paths do (seed 001: "Do not
provide the entire Property-Building-Unit-ResiID identifier ... only the last part"). Like
every other bad row of an intake, the call is refused whole (422, each bad row named by its
index) and nothing is written."""

from __future__ import annotations

from fastapi.testclient import TestClient

from portal_tests.balances.helpers import roster, send, sent
from portal_tests.balances.test_router import connect, line, problem

ADVICE = (
    "'001-A-102-1002' looks like AMSI's full Property-Building-Unit-ResiID string; send only "
    "the trailing ResiID segment ('1002')."
)


class TestAmsiIntake:
    def test_a_full_identifier_refuses_the_call_naming_the_row(self, client: TestClient) -> None:
        c = connect(client, kind="amsi", name="AMSI eSite")
        rows = [line("1001"), line("001-A-102-1002", unit_id="CHAP2234-2")]

        body = problem(send(client, c, rows), 422, "invalid_external_resident_id")

        assert body["detail"] == ADVICE
        assert body["suggested"] == "1002"
        assert body["errors"] == [
            {
                "field": "$.residents[1].resident_id",
                "message": ADVICE,
                "code": "invalid_external_resident_id",
                "row": 1,
            }
        ]
        # Nothing was written: no roster line, no resident, no property.
        assert roster(client, c) == {}
        residents = client.get("/v1/residents", headers=c.world.landlord).json()["data"]
        assert residents == []
        properties = client.get("/v1/properties", headers=c.world.landlord).json()["data"]
        assert properties == []

    def test_every_bad_row_is_named(self, client: TestClient) -> None:
        c = connect(client, kind="amsi", name="AMSI eSite")
        rows = [line("001-A-101-1001"), line("1002"), line("001-A-103-1003")]

        body = problem(send(client, c, rows), 422, "invalid_external_resident_id")

        assert [(e["row"], e["field"]) for e in body["errors"]] == [
            (0, "$.residents[0].resident_id"),
            (2, "$.residents[2].resident_id"),
        ]
        assert "2 rows send such IDs" in body["detail"]
        assert body["suggested"] == "1001"

    def test_the_resi_id_alone_is_taken(self, client: TestClient) -> None:
        c = connect(client, kind="amsi", name="AMSI eSite")

        out = sent(client, c, [line("1002")])

        assert out["created"] == 1
        assert list(roster(client, c)) == ["1002"]

    def test_the_rule_is_amsis_only(self, client: TestClient) -> None:
        """Landlord 12's resident IDs are its own: four dash-separated parts are fine there."""
        c = connect(client)

        out = sent(client, c, [line("001-A-102-1002")])

        assert out["created"] == 1
