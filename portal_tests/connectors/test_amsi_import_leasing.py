"""Reading eSite's Leasing answers and turning a lease into what the portal holds (connectors.md
§1.3, §1.4, §1.9): pure functions, no server."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

import pytest

from portal.connectors.amsi import import_rows, leasing
from portal.residents.models import PaymentsSetting
from portal_tests.reference.conftest import fixture_bytes

TODAY = date(2026, 7, 2)


def lease_doc(
    lease_attrs: str = "", occupants: str | None = None, children: str = "", status: str = "C"
) -> str:
    occupants = (
        occupants
        if occupants is not None
        else '<Occupant OccuFirstName="Pat" OccuLastName="Sample" ResponsibleFlag="Responsible"'
        ' Email="pat@example.com"/>'
    )
    return (
        '<PropertyResidents><Lease PropertyId="001" BldgID="01" UnitID="101" ResiID="21" '
        f'EndBalance="1605" occustatuscode="{status}" {lease_attrs}>{occupants}{children}</Lease>'
        "</PropertyResidents>"
    )


def one_lease(**kwargs: str) -> leasing.Lease:
    [lease] = leasing.parse_residents(ET.fromstring(lease_doc(**kwargs)))
    return lease


UNIT = leasing.Unit(
    "001", "01", "101", "101 Newport Center Drive", "Newport Beach", "CA", "92620", "USA"
)


class TestParseUnits:
    def test_the_vendor_fixture(self) -> None:
        units = leasing.parse_units(ET.fromstring(fixture_bytes("AMSI-GetPropertyUnits.xml")))

        assert len(units) == 6
        assert units[0] == UNIT
        # Units spell BldgId/UnitId (§1.3); the key is the payment poster's contract (§1.8).
        assert [u.key for u in units][:3] == ["001|01|101", "001|01|102", "001|01|103"]

    def test_a_unit_without_its_key_is_left_out(self) -> None:
        root = ET.fromstring(
            '<PropertyUnits><Unit PropertyId="001" BldgID="01" UnitId="101"/>'
            '<Unit PropertyId="001" BldgId="01" UnitId="102"/></PropertyUnits>'
        )

        # ``BldgID`` is the lease's spelling: on a unit it is not the key.
        assert [u.key for u in leasing.parse_units(root)] == ["001|01|102"]

    def test_an_error_answer_is_no_units(self) -> None:
        root = ET.fromstring(
            "<InternetTrafficResponse><Error><ErrorCode>40</ErrorCode>"
            "<ErrorDescription>No data</ErrorDescription></Error></InternetTrafficResponse>"
        )

        assert leasing.parse_units(root) == []

    def test_another_document_is_refused(self) -> None:
        with pytest.raises(ValueError, match="expected <PropertyUnits>"):
            leasing.parse_units(ET.fromstring("<PropertyResidents/>"))


class TestParseResidents:
    def test_the_vendor_fixture(self) -> None:
        root = ET.fromstring(fixture_bytes("AMSI-GetPropertyResidents.xml"))
        leases = {(x.bldg_id, x.unit_id, x.resi_id): x for x in leasing.parse_residents(root)}

        pat = leases[("01", "101", "21")]
        assert pat.unit_key == "001|01|101"
        assert pat.end_balance_cents == 160500
        assert pat.lease_begin == date(2015, 10, 1)
        assert pat.lease_end == date(2016, 9, 30)
        assert pat.move_in == date(2015, 8, 29)
        assert [o.name for o in pat.occupants] == ["Pat Sample", "Kim Sample"]
        assert pat.occupants[1].phone == "(650)555-0101"
        assert pat.occupants[0].phone is None  # eSite's blank phone "(   )    -"
        assert pat.recurring_charges[0] == leasing.RecurringCharge("RENT", "M", 160500)
        assert leases[("02", "201", "4")].end_balance_cents == -110800
        assert leases[("02", "202", "13")].block_payment_access is True
        assert leases[("02", "202", "13")].lease_begin is None
        assert all(x.problem is None for x in leases.values())

    @pytest.mark.parametrize(
        ("raw", "cents"),
        [("1605", 160500), ("-6930", -693000), ("1104.75", 110475), ("12.5", 1250)],
    )
    def test_amounts_are_bare_numbers_in_cents(self, raw: str, cents: int) -> None:
        assert one_lease(lease_attrs=f'rentamount="{raw}"').rent_amount_cents == cents

    @pytest.mark.parametrize("raw", ["12.345", "1,605", "abc"])
    def test_an_amount_that_does_not_read_is_the_rows_problem(self, raw: str) -> None:
        lease = one_lease(lease_attrs=f'rentamount="{raw}"')

        assert lease.problem == f"Lease[1]@rentamount {raw!r} is not an amount"

    def test_a_lease_without_end_balance_is_the_rows_problem(self) -> None:
        doc = lease_doc().replace('EndBalance="1605" ', "")
        [lease] = leasing.parse_residents(ET.fromstring(doc))

        assert lease.problem == "Lease[1]@EndBalance is missing"

    def test_dates_come_in_two_forms_by_attribute(self) -> None:
        lease = one_lease(
            lease_attrs='leasebegindate="2/1/2016" MoveInDate="2016-01-30T00:00:00" '
            'ActualMoveOutDate="2016-05-31T00:00:00"'
        )

        assert (lease.lease_begin, lease.move_in) == (date(2016, 2, 1), date(2016, 1, 30))
        assert lease.actual_move_out == date(2016, 5, 31)
        assert lease.problem is None

    @pytest.mark.parametrize(
        ("attrs", "problem"),
        [
            ('leasebegindate="2015-10-01"', "@leasebegindate '2015-10-01' is not a m/d/Y date"),
            ('MoveInDate="08/29/2015"', "@MoveInDate '08/29/2015' is not a Y-m-dTH:M:S date"),
            ('leaseenddate="02/30/2016"', "@leaseenddate '02/30/2016' is not a m/d/Y date"),
        ],
    )
    def test_a_date_in_the_other_form_is_the_rows_problem(self, attrs: str, problem: str) -> None:
        assert problem in (one_lease(lease_attrs=attrs).problem or "")

    @pytest.mark.parametrize(
        ("flag", "blocked"), [("Y", True), ("y", True), ("N", False), ("", False)]
    )
    def test_block_payment_access_in_any_case(self, flag: str, blocked: bool) -> None:
        assert one_lease(lease_attrs=f'BlockPaymentAccess="{flag}"').block_payment_access is blocked

    def test_an_error_answer_is_an_empty_list(self) -> None:
        root = ET.fromstring(
            "<InternetTrafficResponse><Error><ErrorCode>40</ErrorCode>"
            "<ErrorDescription>No data</ErrorDescription></Error></InternetTrafficResponse>"
        )

        assert leasing.parse_residents(root) == []

    @pytest.mark.parametrize(
        ("code", "text", "empty"),
        [(40, "No data", True), (99, "No data: no leases", True), (10, "Unit not found", False)],
    )
    def test_only_no_data_is_empty(self, code: int, text: str, empty: bool) -> None:
        assert leasing.no_data(code, text) is empty


class TestRequests:
    def test_the_units_request_is_rts(self) -> None:
        assert leasing.units_request("001") == (
            "<EDEX><propertyid>001</propertyid><includeallstatuses>1</includeallstatuses></EDEX>"
        )

    def test_the_residents_request_asks_for_recurring_charges(self) -> None:
        xml = leasing.residents_request("001", "N")

        assert "<leasestatus>N</leasestatus>" in xml
        assert "<includerecurringcharges>1</includerecurringcharges>" in xml

    def test_a_property_id_is_escaped(self) -> None:
        assert "<propertyid>A&amp;B&lt;</propertyid>" in leasing.units_request("A&B<")


class TestRows:
    def plan(
        self, *leases: leasing.Lease, units: tuple[leasing.Unit, ...] = (UNIT,)
    ) -> import_rows.Plan:
        return import_rows.plan("001", list(units), list(leases), TODAY)

    def test_rent_is_rentamount_first(self) -> None:
        lease = one_lease(
            lease_attrs='rentamount="1580"',
            children='<RecurringCharge IncCode="RENT" FreqCode="M" Amount="1605"/>',
        )

        assert import_rows.rent_cents(lease) == 158000

    def test_rent_is_the_first_monthly_rent_charge_when_rentamount_is_0(self) -> None:
        lease = one_lease(
            lease_attrs='rentamount="0"',
            status="N",
            children='<RecurringCharge IncCode="GARPK" FreqCode="M" Amount="125"/>'
            '<RecurringCharge IncCode="RENT" FreqCode="Q" Amount="4000"/>'
            '<RecurringCharge IncCode="RENT" FreqCode="M" Amount="1605"/>'
            '<RecurringCharge IncCode="RENT" FreqCode="M" Amount="99"/>',
        )

        assert import_rows.rent_cents(lease) == 160500

    def test_no_rent_charge_is_no_rent(self) -> None:
        assert import_rows.rent_cents(one_lease()) == 0

    def test_a_passed_end_date_without_a_move_out_is_month_to_month(self) -> None:
        assert (
            import_rows.end_date(one_lease(lease_attrs='leaseenddate="07/01/2026"'), TODAY) is None
        )
        kept = one_lease(lease_attrs='leaseenddate="07/02/2026"')
        assert import_rows.end_date(kept, TODAY) == date(2026, 7, 2)

    def test_the_primary_is_the_first_responsible_occupant(self) -> None:
        lease = one_lease(
            occupants='<Occupant OccuFirstName="Gail" OccuLastName="G" ResponsibleFlag="G"/>'
            '<Occupant OccuFirstName="Jo" ResponsibleFlag="Non-Responsible"/>'
            '<Occupant OccuFirstName=" Robin " OccuLastName="Notice" ResponsibleFlag="Responsible"'
            ' Email=" Robin@Example.com "/>'
        )

        people = import_rows.people(lease)

        assert [p.name for p in people] == ["Robin Notice", "Gail G", "Jo"]
        assert people[0].email == "robin@example.com"

    def test_without_a_responsible_occupant_the_first_is_primary(self) -> None:
        lease = one_lease(
            occupants='<Occupant OccuFirstName="A" ResponsibleFlag="G"/>'
            '<Occupant OccuFirstName="B" ResponsibleFlag="G"/>'
        )

        assert [p.name for p in import_rows.people(lease)] == ["A", "B"]

    def test_a_lease_read_twice_is_taken_once(self) -> None:
        lease = one_lease()

        plan = self.plan(lease, lease)

        assert (plan.leases_read, len(plan.wanted), plan.errors) == (1, 1, [])

    @pytest.mark.parametrize(
        ("kwargs", "reason"),
        [
            ({"occupants": ""}, "the lease has no Occupant"),
            ({"occupants": '<Occupant ResponsibleFlag="Responsible"/>'}, "Occupant[1] has neither"),
            (
                {"occupants": '<Occupant OccuFirstName="A" Email="not-an-address"/>'},
                "Occupant[1]@Email 'not-an-address' is not an e-mail address",
            ),
            ({"lease_attrs": 'ActualMoveOutDate="2026-07-02T00:00:00"'}, "moved out on 2026-07-02"),
            ({"lease_attrs": 'leaseenddate="13/01/2016"'}, "is not a m/d/Y date"),
        ],
    )
    def test_a_bad_row_errs_with_its_reason(self, kwargs: dict[str, str], reason: str) -> None:
        plan = self.plan(one_lease(**kwargs))

        [error] = plan.errors
        assert plan.wanted == []
        assert error["reason"].startswith("PropertyId 001, BldgID 01, UnitID 101, ResiID 21: ")
        assert reason in error["reason"]
        assert {k: error[k] for k in ("property_id", "bldg_id", "unit_id", "resi_id")} == {
            "property_id": "001",
            "bldg_id": "01",
            "unit_id": "101",
            "resi_id": "21",
        }

    def test_amsis_whole_id_errs_with_the_advice(self) -> None:
        doc = lease_doc().replace('ResiID="21"', 'ResiID="001-01-101-21"')
        [lease] = leasing.parse_residents(ET.fromstring(doc))

        [error] = self.plan(lease).errors

        assert "send only the trailing ResiID segment ('21')" in error["reason"]

    def test_a_lease_without_its_unit_errs(self) -> None:
        [error] = self.plan(one_lease(), units=()).errors

        assert "the unit is not in the GetPropertyUnits answer" in error["reason"]

    def test_a_lease_of_another_property_errs(self) -> None:
        doc = lease_doc().replace('PropertyId="001"', 'PropertyId="002"')
        [lease] = leasing.parse_residents(ET.fromstring(doc))

        [error] = self.plan(lease).errors

        assert "another property than the 001 asked for" in error["reason"]

    def test_a_lease_without_property_id_is_the_one_asked_for(self) -> None:
        doc = lease_doc().replace('PropertyId="001" ', "")
        [lease] = leasing.parse_residents(ET.fromstring(doc))

        [wanted] = self.plan(lease).wanted

        assert wanted.key == "001|01|101"
        assert wanted.accounting_payments is PaymentsSetting.ALLOWED
