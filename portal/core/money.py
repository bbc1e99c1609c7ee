"""Money: integer cents inside, a decimal string with exactly two places on the wire.

Parsing is exact (architecture.md §5, style.md B5): more than two decimal places, exponents,
NaN/infinity, floats that are not exact, booleans and thousands separators are refused rather
than rounded. ``Amount`` is the pydantic type for wire fields: it accepts ``"1200.00"`` (and an
integer or a float with at most two exact decimals, for lenient clients), holds ``int`` cents,
and serializes back to ``"1200.00"``.

The two-decimal string exists only on the wire: ``Amount`` and ``Cents`` serialize to it in
JSON mode (responses, ``model_dump(mode="json")``, ``model_dump_json()``), while a Python-mode
``model_dump()`` keeps the ``int`` cents the model holds. A PATCH body's ``changes`` built with
``model_dump(exclude_unset=True)`` therefore carries cents, as every column does (issue 15: the
string "4100.00" went into ``monthly_income_cents`` and was read back as 4,100 cents, $41.00).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema
from pydantic_core import PydanticCustomError

CURRENCY = "USD"
#: Largest amount the wire accepts: 10^13 cents keeps every sum of 50,000 items in 64 bits.
MAX_CENTS = 10**13

_AMOUNT = re.compile(r"^(-)?(0|[1-9][0-9]{0,12})(?:\.([0-9]{1,2}))?$")


class MoneyError(ValueError):
    pass


def parse_cents(value: Any) -> int:
    """Exact conversion of a wire amount to cents; raises ``MoneyError`` on anything inexact."""
    if isinstance(value, bool):
        raise MoneyError('an amount must be a decimal string such as "1200.00", not a boolean')
    if isinstance(value, int):
        cents = value * 100
    elif isinstance(value, float):
        # A float is accepted only when it denotes exactly the same two-decimal amount.
        if value != value or value in (float("inf"), float("-inf")):
            raise MoneyError("an amount must be a finite number")
        text = repr(value)
        if "e" in text or "E" in text:
            raise MoneyError("an amount must not use an exponent")
        return parse_cents(text[:-2] if text.endswith(".0") else text)
    elif isinstance(value, str):
        match = _AMOUNT.match(value)
        if match is None:
            raise MoneyError(
                f"{value!r} is not an amount: use a decimal string with at most two places, "
                'such as "1200.00"'
            )
        sign, whole, frac = match.groups()
        cents = int(whole) * 100 + int((frac or "0").ljust(2, "0"))
        if sign:
            cents = -cents
    else:
        raise MoneyError('an amount must be a decimal string such as "1200.00"')
    if abs(cents) >= MAX_CENTS:
        raise MoneyError("the amount is too large")
    return cents


def format_cents(cents: int) -> str:
    """Cents to the wire form: ``123456`` -> ``"1234.56"``, ``-5`` -> ``"-0.05"``."""
    return str((Decimal(cents) / 100).quantize(Decimal("0.01")))


def format_usd(cents: int) -> str:
    """Cents as clients render dollars: ``270000`` -> ``"$2,700.00"``; ``-500`` -> ``"-$5.00"``."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}${whole:,}.{frac:02d}"


def _validate(value: Any) -> int:
    try:
        return parse_cents(value)
    except MoneyError as exc:
        raise PydanticCustomError("invalid_amount", str(exc)) from None


#: What ``Amount`` documents: the canonical form it accepts (no leading zeros, below
#: ``MAX_CENTS``), so a value valid by the spec is one the parser takes.
AMOUNT_PATTERN = r"^-?(0|[1-9][0-9]{0,10})\.[0-9]{2}$"

Amount = Annotated[
    int,
    BeforeValidator(_validate),
    # JSON only: inside Python the value stays int cents (see the module docstring).
    PlainSerializer(format_cents, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": AMOUNT_PATTERN, "examples": ["1200.00"]}),
]
"""A wire money field: validated to int cents, serialized as a two-decimal string."""


Cents = Annotated[
    int,
    PlainSerializer(format_cents, return_type=str, when_used="json"),
    # Sums of many amounts may have more digits than one amount may.
    WithJsonSchema(
        {"type": "string", "pattern": r"^-?(0|[1-9][0-9]*)\.[0-9]{2}$", "examples": ["1200.00"]}
    ),
]
"""A money field of a response built from stored cents: no parsing, serialized as a string."""
