"""Money is exact: integer cents inside, two-decimal strings on the wire."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from portal.core.money import (
    AMOUNT_PATTERN,
    MAX_CENTS,
    Amount,
    MoneyError,
    format_cents,
    format_usd,
    parse_cents,
)


class Model(BaseModel):
    amount: Amount


class TestParseCents:
    @pytest.mark.smoke
    @pytest.mark.parametrize(
        ("text", "cents"),
        [("1200.00", 120000), ("0.05", 5), ("7", 700), ("7.5", 750), ("-12.34", -1234), ("0", 0)],
    )
    def test_valid(self, text: str, cents: int) -> None:
        assert parse_cents(text) == cents

    @pytest.mark.parametrize(
        "text",
        [
            "1.234",
            "1e3",
            "NaN",
            "inf",
            "1,200.00",
            " 1.00",
            "1.",
            ".5",
            "+1.00",
            "01.00",
            "",
            "abc",
        ],
    )
    def test_refuses_inexact_or_odd_text(self, text: str) -> None:
        with pytest.raises(MoneyError):
            parse_cents(text)

    def test_refuses_floats_that_are_not_exact_cents(self) -> None:
        assert parse_cents(12.5) == 1250
        with pytest.raises(MoneyError):
            parse_cents(0.001)
        with pytest.raises(MoneyError):
            parse_cents(float("nan"))
        with pytest.raises(MoneyError):
            parse_cents(True)

    def test_refuses_huge_amounts(self) -> None:
        with pytest.raises(MoneyError):
            parse_cents(str(MAX_CENTS))


class TestFormat:
    def test_two_places(self) -> None:
        assert format_cents(120000) == "1200.00"
        assert format_cents(-5) == "-0.05"
        assert format_cents(0) == "0.00"

    def test_client_rendering(self) -> None:
        assert format_usd(270000) == "$2,700.00"
        assert format_usd(-500) == "-$5.00"
        assert format_usd(123456789) == "$1,234,567.89"

    @given(st.integers(min_value=-(MAX_CENTS - 1), max_value=MAX_CENTS - 1))
    def test_round_trip(self, cents: int) -> None:
        assert parse_cents(format_cents(cents)) == cents


class TestAmountField:
    @pytest.mark.smoke
    def test_validates_to_cents_and_serializes_as_string(self) -> None:
        model = Model.model_validate({"amount": "980.00"})
        assert model.amount == 98000
        assert model.model_dump_json() == '{"amount":"980.00"}'

    def test_error_has_its_own_type(self) -> None:
        with pytest.raises(ValidationError) as info:
            Model.model_validate({"amount": "9.999"})
        assert info.value.errors()[0]["type"] == "invalid_amount"

    @given(st.from_regex(AMOUNT_PATTERN, fullmatch=True))
    def test_what_the_spec_documents_is_accepted(self, text: str) -> None:
        # The documented pattern once allowed leading zeros and any length ("007.50"), which
        # the parser refuses: a client following the spec got 422 invalid_amount
        # (test_schemathesis.py).
        assert Model.model_validate({"amount": text}).amount == int(Decimal(text) * 100)

    def test_the_spec_documents_the_pattern(self) -> None:
        schema = Model.model_json_schema()["properties"]["amount"]
        assert schema["pattern"] == AMOUNT_PATTERN
