"""The ACH return code and chargeback reason tables (formats.md §3.3, §5), hand-checked."""

from __future__ import annotations

import re

import pytest

from portal.reversals.codes import (
    CHARGEBACK_REASONS,
    RETURN_CODES,
    CardNetwork,
    ChargebackCategory,
    ReturnGroup,
    WindowKind,
    chargeback_reason,
    return_code,
)

EXTENDED_60_DAY = {"R05", "R07", "R10", "R11", "R33", "R37", "R38", "R51", "R52", "R53"}
UNAUTHORIZED = {"R05", "R07", "R10", "R11", "R29", "R51"}
# Unassigned or retired in R01..R99 (moov-io/ach addenda99.go and docs/returns.md): seed 001
# names R01-R99, so they are accepted as "Unassigned" (issue 15, item 10).
UNASSIGNED = {"R48", "R49", *(f"R{n}" for n in range(54, 61)), "R63", "R64", "R65", "R66"}
UNASSIGNED |= {"R78", "R79", *(f"R{n}" for n in range(86, 100))}


class TestReturnCodeLookup:
    @pytest.mark.smoke
    def test_r01_is_insufficient_funds_on_the_standard_window(self) -> None:
        r01 = return_code("R01")
        assert r01 is not None
        assert r01.code == "R01"
        assert r01.name == "Insufficient Funds"
        assert r01.group is ReturnGroup.FUNDS
        assert r01.window_kind is WindowKind.BANKING_DAYS
        assert r01.window_length == 2
        assert r01.window == ("banking_days", 2)

    @pytest.mark.parametrize(
        "code", ["R00", "R100", "R999", "r01", "r99", "R1", "X01", "", " R01", "R01 ", "R9"]
    )
    def test_unknown_or_malformed_code_gives_none(self, code: str) -> None:
        assert return_code(code) is None

    @pytest.mark.parametrize("code", sorted(UNASSIGNED))
    def test_unassigned_code_is_accepted_as_unassigned(self, code: str) -> None:
        entry = return_code(code)
        assert entry is not None
        assert (entry.name, entry.group, entry.assigned) == (
            "Unassigned",
            ReturnGroup.UNASSIGNED,
            False,
        )
        # Nothing beyond the NSF booking: the standard window, no source disabled, no flag.
        assert entry.window == ("banking_days", 2)
        assert not entry.disables_source
        assert not entry.unauthorized

    def test_known_names(self) -> None:
        names = {code: RETURN_CODES[code].name for code in ("R02", "R03", "R04", "R09")}
        assert names == {
            "R02": "Account Closed",
            "R03": "No Account/Unable to Locate Account",
            "R04": "Invalid Account Number Structure",
            "R09": "Uncollected Funds",
        }


class TestReturnCodeTable:
    def test_every_code_is_well_formed_and_in_range(self) -> None:
        for key, entry in RETURN_CODES.items():
            assert key == entry.code
            assert re.fullmatch(r"R[0-9][0-9]", key)
            assert 1 <= int(key[1:]) <= 99
            assert entry.name

    def test_every_number_of_seed_001s_range_is_present(self) -> None:
        # Seed 001: "one of the NACHA reason codes (R01 - R99)".
        assert set(RETURN_CODES) == {f"R{n:02d}" for n in range(1, 100)}
        assigned = {code for code, entry in RETURN_CODES.items() if entry.assigned}
        assert assigned == set(RETURN_CODES) - UNASSIGNED
        assert len(assigned) == 70

    def test_only_r02_r03_r04_disable_the_source(self) -> None:
        disabling = {code for code, entry in RETURN_CODES.items() if entry.disables_source}
        assert disabling == {"R02", "R03", "R04"}

    def test_unauthorized_set(self) -> None:
        unauthorized = {code for code, entry in RETURN_CODES.items() if entry.unauthorized}
        assert unauthorized == UNAUTHORIZED

    def test_60_calendar_day_set(self) -> None:
        extended = {
            code for code, entry in RETURN_CODES.items() if entry.window == ("calendar_days", 60)
        }
        assert extended == EXTENDED_60_DAY

    def test_r29_is_2_banking_days(self) -> None:
        r29 = return_code("R29")
        assert r29 is not None
        assert r29.unauthorized
        assert r29.window == (WindowKind.BANKING_DAYS, 2)

    def test_windows_are_one_of_the_rule_shapes(self) -> None:
        shapes = {entry.window for entry in RETURN_CODES.values()}
        assert shapes == {("banking_days", 2), ("banking_days", 5), ("calendar_days", 60)}

    def test_dishonored_take_5_and_contested_2_banking_days(self) -> None:
        for entry in RETURN_CODES.values():
            if entry.group is ReturnGroup.DISHONORED:
                assert 61 <= int(entry.code[1:]) <= 70
                assert entry.window == ("banking_days", 5)
            if entry.group is ReturnGroup.CONTESTED:
                assert 71 <= int(entry.code[1:]) <= 77
                assert entry.window == ("banking_days", 2)

    def test_groups_follow_formats_md(self) -> None:
        def group(g: ReturnGroup) -> set[str]:
            return {code for code, entry in RETURN_CODES.items() if entry.group is g}

        assert group(ReturnGroup.FUNDS) == {"R01", "R09"}
        assert group(ReturnGroup.STOP_PAYMENT) == {"R08", "R23", "R24"}
        assert group(ReturnGroup.GOVERNMENT) == {f"R{n}" for n in range(40, 48)}
        assert group(ReturnGroup.IAT) == {f"R{n}" for n in range(80, 86)}
        assert {"R02", "R03", "R04", "R12", "R13", "R14", "R15", "R16", "R20"} == group(
            ReturnGroup.ADMINISTRATIVE
        )


class TestChargebackReasons:
    def test_visa_10_4_is_fraud_with_30_days(self) -> None:
        reason = chargeback_reason("10.4")
        assert reason is not None
        assert reason.network is CardNetwork.VISA
        assert reason.category is ChargebackCategory.FRAUD
        assert reason.response_days == 30

    def test_mastercard_4837_is_fraud_with_45_days(self) -> None:
        reason = chargeback_reason("4837")
        assert reason is not None
        assert reason.network is CardNetwork.MASTERCARD
        assert reason.category is ChargebackCategory.FRAUD
        assert reason.response_days == 45

    def test_every_code_maps_to_its_network(self) -> None:
        for key, reason in CHARGEBACK_REASONS.items():
            assert key == reason.code
            if re.fullmatch(r"1[0-3]\.[0-9](\.[12])?", key):
                assert reason.network is CardNetwork.VISA
                assert reason.response_days == 30
            else:
                assert re.fullmatch(r"48[0-9]{2}", key)
                assert reason.network is CardNetwork.MASTERCARD
                assert reason.response_days == 45

    def test_the_listed_codes_are_all_there(self) -> None:
        visa = {
            *(f"10.{n}" for n in range(1, 6)),
            *(f"11.{n}" for n in range(1, 4)),
            *("12.1", "12.2", "12.3", "12.4", "12.5", "12.6.1", "12.6.2", "12.7"),
            *(f"13.{n}" for n in range(1, 10)),
        }
        mastercard = {"4808", "4834", "4837", "4840", "4841", "4849", "4853", "4855", "4859"}
        mastercard |= {"4860", "4863", "4870", "4871"}
        assert set(CHARGEBACK_REASONS) == visa | mastercard

    def test_visa_categories_follow_the_group_number(self) -> None:
        by_group = {
            "10": ChargebackCategory.FRAUD,
            "11": ChargebackCategory.AUTHORIZATION,
            "12": ChargebackCategory.PROCESSING_ERROR,
            "13": ChargebackCategory.CONSUMER_DISPUTE,
        }
        for reason in CHARGEBACK_REASONS.values():
            if reason.network is CardNetwork.VISA:
                assert reason.category is by_group[reason.code[:2]]

    @pytest.mark.parametrize("code", ["", "10", "10.6", "12.6", "4837 ", "R01", "9999"])
    def test_unknown_code_gives_none(self, code: str) -> None:
        assert chargeback_reason(code) is None


def test_every_name_fits_the_columns_that_keep_it() -> None:
    # reversal.return_name / reason_name hold 200 characters; a disabled source's reason and a
    # flagged resident's reason ("R10 <name>") hold 250 (PostgreSQL refuses longer strings).
    from portal.reversals.codes import CHARGEBACK_REASONS, RETURN_CODES

    assert max(len(c.name) for c in RETURN_CODES.values()) <= 200
    assert max(len(r.name) for r in CHARGEBACK_REASONS.values()) <= 200
    assert max(len(f"{c.code} {c.name}") for c in RETURN_CODES.values()) <= 250
