"""Business rules of ``portal.properties`` (``service``, ``accounts``, ``bank_numbers``), called
directly with a session and ``now`` (formats.md §4 for the bank numbers; domain.md §5.1 for one
account per type)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session
from stdnum.us import rtn

from portal.core.clock import ClockMode
from portal.core.errors import Unprocessable
from portal.core.ids import IdMinter
from portal.properties import accounts, bank_numbers, service
from portal.properties.models import DepositAccountType, Property
from portal.workspaces import service as workspaces_service

START = datetime(2026, 7, 2, 14, 0, tzinfo=UTC)
RENT = DepositAccountType.RENT


def make_minter(session: Session, workspace_id: str, *, seed: int = 7) -> IdMinter:
    ws = workspaces_service.create_workspace(
        session,
        workspace_id=workspace_id,
        name="Service test",
        seed=seed,
        clock_mode=ClockMode.SIMULATED,
        start=START,
        settings={},
        now=START,
    )
    return workspaces_service.minter(ws, session)


def make_property(
    session: Session, ids: IdMinter, external_id: str | None = None, name: str = "Oak"
) -> Property:
    return service.create_property(
        session,
        ids,
        name=name,
        external_id=external_id,
        street="2118 Oak Street",
        city=None,
        state=None,
        postal_code=None,
        now=START,
    )


def make_account(
    session: Session,
    ids: IdMinter,
    property_ids: list[str],
    *,
    type: DepositAccountType = RENT,
    account_number: str = "123456789",
    routing_number: str = "110000000",
) -> str:
    return accounts.create_deposit_account(
        session,
        ids,
        type=type,
        name=None,
        account_number=account_number,
        routing_number=routing_number,
        property_ids=property_ids,
        now=START,
    ).id


class TestValidateRoutingNumber:
    @pytest.mark.parametrize(
        "value", ["110000000", "021000021", "011000015", "111000025", "091000019", "011401533"]
    )
    def test_valid_numbers_come_back_unchanged(self, value: str) -> None:
        assert bank_numbers.validate_routing_number(value) == value

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            ("112000025", "check digit"),
            ("123456789", "check digit"),
            ("11000000", "9 digits long, not 8"),
            ("1100000000", "9 digits long, not 10"),
            ("11000000x", "only the digits"),
            ("١١٠٠٠٠٠٠٠", "only the digits"),  # Arabic-Indic digits are not ASCII digits
            (" 110000000", "only the digits"),
        ],
    )
    def test_invalid_numbers_say_which_rule_failed(self, value: str, message: str) -> None:
        with pytest.raises(ValueError, match=message):
            bank_numbers.validate_routing_number(value)

    @pytest.mark.parametrize("prefix", ["13", "20", "33", "50", "60", "73", "79", "81", "99"])
    def test_a_checksum_valid_number_with_an_unassigned_prefix_is_refused(
        self, prefix: str
    ) -> None:
        value = prefix + "000000"
        value += rtn.calc_check_digit(value)

        assert rtn.is_valid(value)
        with pytest.raises(
            ValueError, match=f"starts with 00-12, 21-32, 61-72 or 80, not {prefix}"
        ):
            bank_numbers.validate_routing_number(value)

    @pytest.mark.parametrize("prefix", ["00", "01", "12", "21", "32", "61", "72", "80"])
    def test_every_assigned_prefix_is_accepted(self, prefix: str) -> None:
        value = prefix + "000000"
        value += rtn.calc_check_digit(value)

        assert bank_numbers.validate_routing_number(value) == value


class TestValidateAccountNumber:
    @pytest.mark.parametrize("value", ["1234", "0001", "12345678901234567"])
    def test_4_to_17_digits(self, value: str) -> None:
        assert bank_numbers.validate_account_number(value) == value

    @pytest.mark.parametrize("value", ["123", "1" * 18, "12ab5678", "", "1234-5678"])
    def test_anything_else_is_refused_without_repeating_the_number(self, value: str) -> None:
        with pytest.raises(ValueError, match=r"account number") as raised:
            bank_numbers.validate_account_number(value)

        assert not value or value not in str(raised.value)


class TestCreateDepositAccount:
    def test_bad_numbers_are_refused_even_past_the_wire_schema(self, session: Session) -> None:
        ids = make_minter(session, "ws_a")

        with pytest.raises(Unprocessable) as raised:
            make_account(session, ids, [], routing_number="112000025")

        assert raised.value.code == "invalid_routing_number"
        assert [e.field for e in raised.value.errors] == ["$.routing_number"]

    def test_the_whole_number_is_kept_for_the_bank_side(self, session: Session) -> None:
        ids = make_minter(session, "ws_a")
        account_id = make_account(session, ids, [], account_number="98765432104242424")

        account = accounts.get_deposit_account(session, "ws_a", account_id)

        assert account.account_number == "98765432104242424"


class TestDepositAccountFor:
    def test_finds_the_rent_account_of_a_served_property(self, session: Session) -> None:
        ids = make_minter(session, "ws_a")
        prop = make_property(session, ids)
        rent = make_account(session, ids, [prop.id])
        make_account(session, ids, [prop.id], type=DepositAccountType.SECURITY_DEPOSIT)

        found = accounts.deposit_account_for(session, "ws_a", prop.id, RENT)

        assert found is not None
        assert found.id == rent
        assert found.type is RENT

    def test_none_for_a_property_no_account_serves(self, session: Session) -> None:
        ids = make_minter(session, "ws_a")
        served = make_property(session, ids, "A")
        unserved = make_property(session, ids, "B")
        make_account(session, ids, [served.id])

        assert accounts.deposit_account_for(session, "ws_a", unserved.id, RENT) is None

    def test_none_for_a_type_the_property_has_no_account_of(self, session: Session) -> None:
        ids = make_minter(session, "ws_a")
        prop = make_property(session, ids)
        make_account(session, ids, [prop.id])

        fee = DepositAccountType.APPLICATION_FEE
        assert accounts.deposit_account_for(session, "ws_a", prop.id, fee) is None

    def test_none_once_the_property_is_taken_off_the_account(self, session: Session) -> None:
        ids = make_minter(session, "ws_a")
        prop = make_property(session, ids)
        account = accounts.get_deposit_account(
            session, "ws_a", make_account(session, ids, [prop.id])
        )

        assert accounts.replace_served_properties(session, account, []) == []

        assert accounts.deposit_account_for(session, "ws_a", prop.id, RENT) is None

    def test_another_workspace_with_the_same_ids_is_not_looked_at(self, session: Session) -> None:
        a = make_minter(session, "ws_a", seed=7)
        b = make_minter(session, "ws_b", seed=7)
        mine = make_property(session, a)
        theirs = make_property(session, b)
        assert mine.id == theirs.id
        make_account(session, b, [theirs.id])

        assert accounts.deposit_account_for(session, "ws_a", mine.id, RENT) is None
        assert accounts.deposit_account_for(session, "ws_b", theirs.id, RENT) is not None


class TestLookups:
    def test_find_by_external_id_is_scoped_to_the_workspace(self, session: Session) -> None:
        a = make_minter(session, "ws_a")
        make_minter(session, "ws_b")
        prop = make_property(session, a, "OAK")
        unit = service.create_unit(session, a, prop, name="101", external_id="U1", now=START)

        assert service.find_property_by_external_id(session, "ws_a", "OAK") == prop
        assert service.find_unit_by_external_id(session, "ws_a", "U1") == unit
        assert service.find_property_by_external_id(session, "ws_b", "OAK") is None
        assert service.find_unit_by_external_id(session, "ws_b", "U1") is None

    def test_get_raises_the_feature_errors(self, session: Session) -> None:
        make_minter(session, "ws_a")

        with pytest.raises(service.PropertyNotFound) as prop_error:
            service.get_property(session, "ws_a", "prop_nope")
        with pytest.raises(service.UnitNotFound) as unit_error:
            service.get_unit(session, "ws_a", "unit_nope")

        assert prop_error.value.code == "property_not_found"
        assert unit_error.value.code == "unit_not_found"

    def test_missing_address_parts_are_stored_empty(self, session: Session) -> None:
        ids = make_minter(session, "ws_a")

        prop = make_property(session, ids)

        assert (prop.city, prop.state, prop.postal_code) == ("", "", "")
        assert prop.created_at == START
